/*
 * Archive files on disk, with libarchive: the zip artifacts and caches, the
 * gzip report format and raw reports (spec 6.2).  Every function streams:
 * files are read and written in ZIP_IO_CHUNK pieces, never whole.
 *
 * Creating: the caller passes the directory the names are relative to and
 * the list from glob_collect(); directories become "name/" entries,
 * symbolic links entries holding their target, regular files are deflated;
 * modes and modification times are kept.
 *
 * Extracting: every entry is checked before it is written.  An absolute
 * name, a name with a ".." that leaves the target, a link whose target
 * leaves the target directory, or a path through a symbolic link on disk is
 * refused: one warning each, the entry is skipped, the rest goes on.
 */
#ifndef CR_ARCHIVE_ZIP_H
#define CR_ARCHIVE_ZIP_H

#include <stddef.h>

#include "util/strvec.h"

struct buf;

#define ZIP_IO_CHUNK ((size_t)64 << 10)

typedef void (*zip_warn_fn)(void *ctx, const char *line);

/*
 * Writes a zip of files (relative to dir) to out_path (created or
 * truncated).  Returns 0, or a negative CR_ERR_* with one sentence in err;
 * a file that vanished meanwhile is a warning.
 */
int zip_create(const char *dir, const struct strvec *files,
	       const char *out_path, zip_warn_fn warn, void *ctx,
	       struct buf *err);

/*
 * Extracts archive_path (a zip) into dest_dir, which must exist.  Returns
 * 0 (*refused, when not NULL, counts the entries refused as above), or a
 * negative CR_ERR_* with one sentence in err when the archive cannot be
 * read (not a zip, truncated) or a file cannot be written.
 */
int zip_extract(const char *archive_path, const char *dest_dir,
		zip_warn_fn warn, void *ctx, size_t *refused,
		struct buf *err);

/* The entry names of a zip, in archive order (for the cache's reuse). */
int zip_list(const char *archive_path, struct strvec *names,
	     struct buf *err);

/*
 * gitlab-runner's gzip artifact format: one gzip member per regular file
 * of files, in the given (sorted) order, with the base name as the member
 * name and the relative path as its comment.  Directories and links are
 * left out.
 */
int gzip_create(const char *dir, const struct strvec *files,
		const char *out_path, zip_warn_fn warn, void *ctx,
		struct buf *err);

/* The raw format: exactly one regular file, copied as it is. */
int raw_create(const char *dir, const struct strvec *files,
	       const char *out_path, struct buf *err);

/*
 * The comment gitlab-runner writes for a path: the path itself, or "e:"
 * and the path URL-escaped when it holds non-ASCII bytes or '%'.
 */
void gzip_comment(const char *path, struct buf *out);

#endif
