/*
 * Where an archive entry may go, decided against what is on disk: the
 * walks zip_extract() does below its target directory.
 *
 * Every walk goes one component at a time with openat(O_NOFOLLOW) from a
 * descriptor of the target directory, so a symbolic link on the way is
 * seen and refused rather than followed, whatever the entries before
 * made of the tree (or a job, or the checkout).
 *
 * Each function returns 0 when the entry may go on, 1 with *why set to a
 * static reason when it is refused, or a negative CR_ERR_* with one
 * sentence in err when the file system failed.
 */
#ifndef CR_ARCHIVE_EXTRACT_PATH_H
#define CR_ARCHIVE_EXTRACT_PATH_H

#include <stdbool.h>

struct buf;

enum extract_walk_flags {
	/* Create the missing directories (mode 0777 less the umask). */
	EXTRACT_WALK_CREATE = 1 << 0,
	/* Walk every component of path, not only its directory part. */
	EXTRACT_WALK_WHOLE = 1 << 1,
};

/*
 * Opens the directory that holds the last component of path (a cleaned
 * relative path, "" not allowed), or with EXTRACT_WALK_WHOLE path itself,
 * below root.  On 0, *dirfd is a new descriptor the caller closes and
 * *base points into path at the last component.
 */
int extract_path_open_dir(int root, const char *path, unsigned flags,
			  int *dirfd, const char **base, const char **why,
			  struct buf *err);

/*
 * Whether a symbolic link at path (cleaned, relative to root, whose
 * directories exist: extract_path_open_dir() made them) may point to
 * target.  The target must be relative, may climb with leading ".."
 * only (never after a name: "s/../x" reads differently once s is a link,
 * whatever order the entries come in), must stay below root, and
 * following the links it meets on disk now must not leave root either.
 */
int extract_path_link_refusal(int root, const char *path, const char *target,
			      const char **why, struct buf *err);

#endif
