/*
 * CACHE_COMPRESSION_FORMAT, as gitlab-runner's cache-archiver reads it
 * (commands/helpers/cache_archiver.go): "zip" (the default), "tarzstd" (a
 * tar stream in one zstd frame sequence) or "zipzstd" (a zip whose files
 * are compressed with zstd, method 93).  The name is matched ignoring
 * case; anything else, the empty string included, is zip.
 *
 * Whatever the format, the cache file keeps its name (cache.zip) and its
 * object key: gitlab-runner's extractor tells the formats apart by the
 * first bytes of the file, a zstd frame's magic for tarzstd, and a zip
 * (deflated or zstd entries alike) otherwise.  cache_format_sniff() does
 * the same.
 */
#ifndef CR_ARCHIVE_CACHE_FORMAT_H
#define CR_ARCHIVE_CACHE_FORMAT_H

#include <stdbool.h>

struct buf;

enum cache_format {
	CACHE_FORMAT_ZIP,
	CACHE_FORMAT_TARZSTD,
	CACHE_FORMAT_ZIPZSTD,
};

/* The variable, and the helper option that carries its value. */
#define CACHE_FORMAT_VAR "CACHE_COMPRESSION_FORMAT"
#define CACHE_FORMAT_OPTION "compression-format"

/* The format a CACHE_COMPRESSION_FORMAT value asks for (NULL: zip). */
enum cache_format cache_format_from_name(const char *name);

/* "zip", "tarzstd" or "zipzstd". */
const char *cache_format_name(enum cache_format format);

/*
 * The zstd level for a CACHE_COMPRESSION_LEVEL name, as gitlab-runner's
 * zstd encoder levels (klauspost/compress SpeedFastest, SpeedDefault,
 * SpeedBetterCompression, SpeedBestCompression) compare with the
 * reference library's: fastest and fast 1, default (and "") 3, slow 7,
 * slowest 11.  Sets *known to false for any other name (then 3).
 */
int cache_zstd_level_from_name(const char *name, bool *known);

/* How a cache archive is written: the format and its level. */
struct cache_compression {
	enum cache_format format;
	/* zip: zip_create()'s level; tarzstd, zipzstd: a zstd level. */
	int level;
};

/* The four bytes that start a zstd frame (28 b5 2f fd). */
bool cache_format_is_zstd_magic(const unsigned char *head, unsigned long len);

/*
 * What the file at path holds by its first bytes: CACHE_FORMAT_TARZSTD
 * for a zstd frame, CACHE_FORMAT_ZIP for anything else (zip and zipzstd
 * are both zips).  Returns 0 with *format, or CR_ERR_NOT_FOUND /
 * CR_ERR_IO with one sentence in err.
 */
int cache_format_sniff(const char *path, enum cache_format *format,
		       struct buf *err);

#endif
