/*
 * gitlab-runner's zipzstd cache format (its fastzip archiver with
 * klauspost/compress's zstd, method 93 = ZIP's "Zstandard" in APPNOTE
 * 4.4.5): a zip whose regular files are each one zstd frame; directories
 * ("name/") and symbolic links (the target as data) are stored.  Entries
 * carry the Unix mode in the external attributes, the modification time
 * both as a DOS time and in an extended-timestamp ("UT") field, UTF-8
 * names, and ZIP64 fields where sizes or offsets need them.
 *
 * libarchive (3.6) reads such entries (zip_extract() then extracts them
 * with all its checks) but cannot write them, so this writer is crunner's
 * own, with libzstd (zstd_dl.h) compressing.
 */
#ifndef CR_ARCHIVE_ZIPZSTD_H
#define CR_ARCHIVE_ZIPZSTD_H

#include "archive/zip.h"

/*
 * Writes files (relative to dir, in the given order) to out_path at
 * zstd_level.  Returns as zip_create(): 0, or a negative CR_ERR_* with
 * one sentence in err; a file that vanished meanwhile is a warning.
 */
int zipzstd_create(const char *dir, const struct strvec *files,
		   const char *out_path, int zstd_level, zip_warn_fn warn,
		   void *ctx, struct buf *err);

#endif
