/*
 * zlib, loaded on first use (CR_LAZY_ZLIB, the default).
 *
 * An idle `crunner run` never inflates nor checksums anything: zlib is
 * needed when a job's log is checksummed (job/crc32.c), a response comes
 * gzip-encoded (gitlab/body_decode.c), or `crunner exec` reads git's
 * objects and a gzipped dotenv report (local/).  As src/util/curl_lazy.c
 * does for libcurl, this file defines the zlib functions those call, with
 * zlib's prototypes; --as-needed then leaves libz out of the binary's
 * DT_NEEDED, and the first call dlopen()s it (libcurl, once loaded for a
 * job, has brought it already).  When zlib cannot be loaded, the
 * functions fail as zlib's do on a broken stream, after one error line,
 * except crc32_z, which computes the same CRC bit by bit.
 *
 * Process-wide, like the mapping itself: filled once under pthread_once,
 * then only read.
 */
#ifdef CR_LAZY_ZLIB

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <zlib.h>

#include "util/lazy_lib.h"
#include "util/banned.h"

#define ZLIB_SONAME "libz.so.1"

#define ZLIB_LAZY_FUNCTIONS(X, V) \
	X(uLong, crc32_z, (uLong crc, const Bytef *buf, z_size_t len), \
	  (crc, buf, len), crc32_bitwise(crc, buf, len)) \
	X(int, inflateInit_, \
	  (z_streamp strm, const char *version, int stream_size), \
	  (strm, version, stream_size), Z_VERSION_ERROR) \
	X(int, inflateInit2_, \
	  (z_streamp strm, int window_bits, const char *version, \
	   int stream_size), \
	  (strm, window_bits, version, stream_size), Z_VERSION_ERROR) \
	X(int, inflate, (z_streamp strm, int flush), (strm, flush), \
	  Z_STREAM_ERROR) \
	X(int, inflateEnd, (z_streamp strm), (strm), Z_STREAM_ERROR) \
	X(gzFile, gzopen, (const char *path, const char *mode), (path, mode), \
	  gz_unavailable()) \
	X(int, gzread, (gzFile file, voidp buf, unsigned len), \
	  (file, buf, len), -1) \
	X(int, gzclose, (gzFile file), (file), Z_STREAM_ERROR)

enum { ZLIB_LAZY_FUNCTIONS(LAZY_LIB_INDEX, LAZY_LIB_INDEX_V) LAZY_COUNT };
static const char *const lazy_names[] = {
	ZLIB_LAZY_FUNCTIONS(LAZY_LIB_NAME, LAZY_LIB_NAME_V)
};
static void *lazy_fns[LAZY_COUNT];
static bool loaded;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void)
{
	loaded = lazy_lib_open(ZLIB_SONAME, lazy_names, lazy_fns, LAZY_COUNT);
}

static bool ready(void)
{
	pthread_once(&load_once, load);
	return loaded;
}

/* The CRC-32 of zlib (reflected 0xedb88320, inverted), one bit at a time. */
static uLong crc32_bitwise(uLong crc, const Bytef *buf, z_size_t len)
{
	unsigned long c = ~crc & 0xffffffffUL;
	int k;

	while (len--) {
		c ^= *buf++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320UL & (0UL - (c & 1)));
	}
	return ~c & 0xffffffffUL;
}

static gzFile gz_unavailable(void)
{
	errno = ELIBACC;
	return NULL;
}

ZLIB_LAZY_FUNCTIONS(LAZY_LIB_FORWARD, LAZY_LIB_FORWARD_V)

#else
/* ISO C wants a translation unit to declare something. */
typedef int zlib_lazy_unused;
#endif
