/*
 * libzstd, loaded when the first zipzstd cache is written
 * (archive/zipzstd.c).  libarchive does the tarzstd format and reads zstd
 * zip entries itself; only writing zstd into a zip needs libzstd's own
 * calls.  The functions are reached through a table with names of their
 * own, so nothing here interposes on the ZSTD_* symbols libarchive uses.
 */
#ifndef CR_ARCHIVE_ZSTD_DL_H
#define CR_ARCHIVE_ZSTD_DL_H

#include <zstd.h>

struct buf;

struct zstd_dl {
	ZSTD_CCtx *(*create_cctx)(void);
	size_t (*free_cctx)(ZSTD_CCtx *cctx);
	size_t (*set_parameter)(ZSTD_CCtx *cctx, ZSTD_cParameter param,
				int value);
	size_t (*compress_stream2)(ZSTD_CCtx *cctx, ZSTD_outBuffer *output,
				   ZSTD_inBuffer *input,
				   ZSTD_EndDirective end);
	unsigned (*is_error)(size_t code);
	const char *(*error_name)(size_t code);
};

/*
 * Loads libzstd.so.1 once per process.  Returns the table, or NULL with
 * one sentence in err (the library or a function is missing).
 */
const struct zstd_dl *zstd_dl_load(struct buf *err);

#endif
