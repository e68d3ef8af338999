/*
 * Artifact and cache path matching with gitlab-runner's semantics
 * (doublestar): `**` as a whole path component matches zero or more
 * directories, `*` any run of characters but '/', `?` one character but
 * '/', `[abc]`, `[a-z]`, `[!a]`/`[^a]` one character of a class, and `\`
 * quotes the next character.  A matched directory brings everything below
 * it.  `exclude` patterns remove matches (a matched directory excludes what
 * is below it too).  `untracked` adds the files git does not track
 * (`git ls-files --others --exclude-standard`).
 *
 * The caller does:
 *  1. struct glob_spec spec = { .paths = ..., .exclude = ..., ... };
 *  2. glob_collect(project_dir, &spec, &files, err): files receives the
 *     matched paths, relative to project_dir, sorted, each once; a path
 *     that leaves project_dir or matches nothing is a warning through
 *     spec.warn, not an error;
 *  3. strvec_clear(&files).
 */
#ifndef CR_ARCHIVE_GLOB_H
#define CR_ARCHIVE_GLOB_H

#include <stdbool.h>

#include "util/strvec.h"

struct buf;

/* Most paths one collection may return (CR_ERR_TOO_LARGE past it). */
#define GLOB_MAX_FILES 1000000

struct glob_spec {
	const struct strvec *paths;	/* patterns; may be NULL */
	const struct strvec *exclude;	/* may be NULL */
	bool untracked;
	/* Called once per warning (one line, no newline); may be NULL. */
	void (*warn)(void *ctx, const char *line);
	void *warn_ctx;
};

/*
 * Whether pattern matches path, both relative and '/'-separated, without
 * "." or ".." components.  A pattern ending in a "**" component also matches the directory itself.
 */
bool glob_match(const char *pattern, const char *path);

/*
 * Cleans a pattern or path given relative to project_dir (absolute ones
 * are accepted when they lie inside it): "./a//b/../c" becomes "a/c".
 * Returns 0 and the cleaned text in out ("" for the project dir itself),
 * or CR_ERR_INVALID when it leaves project_dir.
 */
int glob_clean_path(const char *project_dir, const char *path,
		    struct buf *out);

/* See the top of the file.  Returns 0 or a negative CR_ERR_*. */
int glob_collect(const char *project_dir, const struct glob_spec *spec,
		 struct strvec *out, struct buf *err);

#endif
