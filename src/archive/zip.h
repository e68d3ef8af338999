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
 * The cache's tarzstd format (archive/cache_format.h) is a tar stream in
 * zstd frames: tarzstd_create() writes one, and zip_extract() and
 * zip_list() read one when the file starts with a zstd frame, with the
 * same checks as a zip's entries (a tar's hard links, devices, fifos and
 * sparse files are refused as in a zip).  zipzstd (zipzstd.h) is a zip.
 *
 * Extracting: every entry is checked before it is written.  An absolute
 * name, a name with a ".." that leaves the target, a path through a
 * symbolic link on disk, a link whose target leaves the target directory
 * (as written, or following the links on disk), climbs with ".." after a
 * name ("a/s/../x": once a/s is a link that reads differently), a hard
 * link, a device or fifo, and a file whose data does not match its CRC-32
 * or declared size (or has holes) are refused: one warning each, the
 * entry is not written, the rest goes on.  Files and links are written to
 * a new name and renamed over what was there, so an existing link is
 * replaced, never written through.
 *
 * What one extraction writes is capped: by a limit (CR_EXTRACT_MAX_DEFAULT
 * unless the caller gives one; the helper reads ZIP_EXTRACT_MAX_ENV), and
 * by the free space of the target's file system less a margin
 * (util/limits.h).  Going over either stops the extraction with
 * CR_ERR_TOO_LARGE; what was written so far stays.
 */
#ifndef CR_ARCHIVE_ZIP_H
#define CR_ARCHIVE_ZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strvec.h"

struct archive;
struct buf;

#define ZIP_IO_CHUNK ((size_t)64 << 10)

typedef void (*zip_warn_fn)(void *ctx, const char *line);

/* One warning line to warn (NULL: none), formatted as printf. */
void zip_warnf(zip_warn_fn warn, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Writes a zip of files (relative to dir) to out_path (created or
 * truncated).  Returns 0, or a negative CR_ERR_* with one sentence in err;
 * a file that vanished meanwhile is a warning.
 */
int zip_create(const char *dir, const struct strvec *files,
	       const char *out_path, int level, zip_warn_fn warn, void *ctx,
	       struct buf *err);

/*
 * Writes a tar of files (relative to dir) compressed with zstd at
 * zstd_level (1 to 19) to out_path: gitlab-runner's tarzstd cache.
 * Returns as zip_create().
 */
int tarzstd_create(const char *dir, const struct strvec *files,
		   const char *out_path, int zstd_level, zip_warn_fn warn,
		   void *ctx, struct buf *err);

/*
 * Sets up the libarchive reader in for the archive at path, by its first
 * bytes: tar with the zstd filter for a zstd frame, the seekable zip
 * reader otherwise.  Returns 0, or a negative CR_ERR_* with err.
 */
int archive_read_support_sniffed(struct archive *in, const char *path,
				 struct buf *err);

/*
 * zip_create()'s level: ZIP_LEVEL_LIBARCHIVE keeps libarchive's own
 * deflate (gitlab-runner's legacy archiver, FF_USE_FASTZIP off);
 * ZIP_LEVEL_STORE stores the files; 1 to 9 deflate at that level.
 */
#define ZIP_LEVEL_LIBARCHIVE (-1)
#define ZIP_LEVEL_STORE 0

/*
 * The level of a gitlab-runner compression level name (fastest, fast,
 * default, slow, slowest; "" is default), as its fastzip archiver maps
 * them: 0 (stored), 1, 5, 7, 9.  Sets *known to false for any other name
 * (then the default's level, as gitlab-runner falls back).
 */
int zip_level_from_name(const char *name, bool *known);

/* The environment variable that sets the helper's extraction limit. */
#define ZIP_EXTRACT_MAX_ENV "CRUNNER_EXTRACT_MAX_SIZE"

/*
 * Extracts archive_path (a zip) into dest_dir, which must exist, writing
 * at most limit bytes (0: CR_EXTRACT_MAX_DEFAULT).  Returns 0 (*refused,
 * when not NULL, counts the entries refused as above), or a negative
 * CR_ERR_* with one sentence in err when the archive cannot be read (not
 * a zip, truncated), a file cannot be written, or the cap is reached
 * (CR_ERR_TOO_LARGE).
 */
int zip_extract_limited(const char *archive_path, const char *dest_dir,
			uint64_t limit, zip_warn_fn warn, void *ctx,
			size_t *refused, struct buf *err);

/* zip_extract_limited() with the default limit. */
int zip_extract(const char *archive_path, const char *dest_dir,
		zip_warn_fn warn, void *ctx, size_t *refused,
		struct buf *err);

/*
 * What an extraction into dest_dir may write: limit, or less when the
 * file system has less free space than limit plus its margin
 * (*disk_bound is then set).  Returns 0 or CR_ERR_IO with err.
 */
int zip_extract_budget(const char *dest_dir, uint64_t limit,
		       uint64_t *budget, bool *disk_bound, struct buf *err);

/*
 * A limit as ZIP_EXTRACT_MAX_ENV gives it: bytes, or a number with a
 * binary unit k, m, g or t (optionally followed by "iB" or "B"): "512m",
 * "10GiB".  Returns 0 with *out, or CR_ERR_INVALID (0 is not a limit).
 */
int zip_extract_parse_limit(const char *text, uint64_t *out);

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
