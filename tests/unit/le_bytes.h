/*
 * Little-endian fields appended to a buf, for the unit tests that build
 * zip archives by hand (test_zip.c, test_cache_zstd.c).
 */
#ifndef CR_TEST_LE_BYTES_H
#define CR_TEST_LE_BYTES_H

#include <stdint.h>

#include "util/buf.h"

static inline void put16(struct buf *b, unsigned v)
{
	unsigned char c[2] = { (unsigned char)v, (unsigned char)(v >> 8) };

	buf_add(b, c, 2);
}

static inline void put32(struct buf *b, uint32_t v)
{
	put16(b, v & 0xffff);
	put16(b, v >> 16);
}

#endif
