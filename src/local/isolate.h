/*
 * --shell-isolation: each shell job runs in its own copy of the tree, as
 * gitlab-ci-local's option does, so what one job writes reaches another
 * only through artifacts (and caches).
 *
 * The copy holds the project's files as they are in the working tree:
 * the files git lists (tracked ones, with uncommitted edits, and
 * untracked ones git does not ignore), or, outside a git repository,
 * everything but .git.  Symbolic links are copied as links, modes kept.
 */
#ifndef CR_LOCAL_ISOLATE_H
#define CR_LOCAL_ISOLATE_H

struct buf;
struct strvec;

/*
 * Makes dst (removed first if it exists) a copy of src: the files listed
 * (paths relative to src), or every file when files is NULL.  Returns 0,
 * or CR_ERR_IO with err naming the file.
 */
int local_isolate_copy(const char *src, const struct strvec *files,
		       const char *dst, struct buf *err);

/* Removes dir and everything in it (links are removed, never followed). */
void local_isolate_remove(const char *dir);

#endif
