#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zlib.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "job/crc32.h"
#include "util/cpu_features.h"
#include "util/banned.h"

/*
 * Two ways to the same CRC.
 *
 * zlib's crc32_z() (same polynomial, same inverted register, so pieces
 * chain the same way) runs at ~2 GB/s here: a quarter of the trace sink's
 * CPU on a masked, timestamped log.  zlib is loaded anyway (libcurl needs
 * it), so it costs no memory; it does the short pieces and the machines
 * without carry-less multiplication.
 *
 * On x86-64 with PCLMULQDQ, long pieces are folded 64 bytes at a time with
 * carry-less multiplications, several times faster: a block A followed by
 * d more bits of message leaves the same remainder as A's two 64-bit halves
 * multiplied by x^k mod P for the right k, added into the block d bits on.
 * The constants are x^k mod P, worked out by crc32_fold_constant() (and
 * checked against it by test_crc32).  What is left after folding (16 bytes standing for
 * everything before, and the last < 16 bytes) goes to zlib.
 */

/* The polynomial, normal (not reflected) bit order, x^32 implied. */
#define CRC32_POLY_NORMAL 0x04c11db7U

/* Below this a piece goes to zlib: the vector setup would not pay. */
#define CRC32_FOLD_MIN 256

uint64_t crc32_fold_constant(unsigned int e)
{
	uint32_t r = 1;		/* x^0 */
	uint64_t out = 0;
	unsigned int i;

	/* x^e mod P, one multiplication by x at a time. */
	for (i = 0; i < e; i++)
		r = (r & 0x80000000U) ? (r << 1) ^ CRC32_POLY_NORMAL : r << 1;
	/*
	 * Reflected over 33 bits (bit j is the coefficient of x^(32 - j)),
	 * the form a reflected block multiplies with so that the product
	 * lines up with the block it is added to.
	 */
	for (i = 0; i < 32; i++)
		if (r & (1U << i))
			out |= (uint64_t)1 << (32 - i);
	return out;
}

#if defined(__x86_64__) && defined(__GNUC__)

/* x^(2048+64-32) and x^(2048-32): 256 bytes on, for the wide loop. */
#define CRC32_X2080 0x11542778aULL
#define CRC32_X2016 0x1322d1430ULL

struct crc32_fold_keys {
	__m128i by512;	/* blocks folded 4 blocks (512 bits) on */
	__m128i by128;	/* one block folded onto the next */
};

/* A's halves times the keys, added into b. */
__attribute__((target("pclmul,sse2")))
static inline __m128i fold(__m128i a, __m128i keys, __m128i b)
{
	__m128i lo = _mm_clmulepi64_si128(a, keys, 0x00);
	__m128i hi = _mm_clmulepi64_si128(a, keys, 0x11);

	return _mm_xor_si128(_mm_xor_si128(lo, hi), b);
}

/*
 * The CRC of len bytes (len >= 64) after crc, folding.  The low half of a
 * loaded block holds its higher-degree coefficients (the first bytes), so
 * it takes x^(d + 64 - 32) and the high half x^(d - 32), d the distance.
 */
/*
 * Goes on from x0..x3, four blocks standing for everything before p, to
 * the CRC of it all.
 */
__attribute__((target("pclmul,sse2")))
static uint32_t crc32_fold_on(__m128i x0, __m128i x1, __m128i x2, __m128i x3,
			      const unsigned char *p, size_t len,
			      const struct crc32_fold_keys *k)
{
	unsigned char rest[16];
	uint32_t crc;

	while (len >= 64) {
		x0 = fold(x0, k->by512, _mm_loadu_si128((const __m128i *)(const void *)p));
		x1 = fold(x1, k->by512, _mm_loadu_si128((const __m128i *)(const void *)(p + 16)));
		x2 = fold(x2, k->by512, _mm_loadu_si128((const __m128i *)(const void *)(p + 32)));
		x3 = fold(x3, k->by512, _mm_loadu_si128((const __m128i *)(const void *)(p + 48)));
		p += 64;
		len -= 64;
	}
	x0 = fold(x0, k->by128, x1);
	x0 = fold(x0, k->by128, x2);
	x0 = fold(x0, k->by128, x3);
	while (len >= 16) {
		x0 = fold(x0, k->by128,
			  _mm_loadu_si128((const __m128i *)(const void *)p));
		p += 16;
		len -= 16;
	}
	/*
	 * x0 is 16 bytes of message with the remainder of everything so
	 * far, as if the register had started at zero (zlib's ~0).
	 */
	_mm_storeu_si128((__m128i *)(void *)rest, x0);
	crc = (uint32_t)crc32_z(0xffffffffUL, rest, sizeof(rest));
	explicit_bzero(rest, sizeof(rest));
	if (len)
		crc = (uint32_t)crc32_z(crc, p, len);
	return crc;
}

__attribute__((target("pclmul,sse2")))
static uint32_t crc32_fold(uint32_t crc, const unsigned char *p, size_t len,
			   const struct crc32_fold_keys *k)
{
	__m128i x0, x1, x2, x3;

	x0 = _mm_loadu_si128((const __m128i *)(const void *)p);
	x1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
	x2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
	x3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
	/* The register goes into the first four bytes (zlib's ~crc). */
	x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)~crc));
	return crc32_fold_on(x0, x1, x2, x3, p + 64, len - 64, k);
}

/*
 * With VPCLMULQDQ and AVX-512: the same folding on four blocks per
 * instruction, 256 bytes a step (each block onto the one 2048 bits on),
 * then the four 512-bit registers onto each other (512 bits apart) and
 * the last one's four blocks on to crc32_fold_on().  len >= 256.
 */
__attribute__((target("vpclmulqdq,avx512f,pclmul,sse2")))
static inline __m512i fold512(__m512i a, __m512i keys, __m512i b)
{
	__m512i lo = _mm512_clmulepi64_epi128(a, keys, 0x00);
	__m512i hi = _mm512_clmulepi64_epi128(a, keys, 0x11);

	return _mm512_xor_si512(_mm512_xor_si512(lo, hi), b);
}

__attribute__((target("vpclmulqdq,avx512f,pclmul,sse2")))
static uint32_t crc32_fold_wide(uint32_t crc, const unsigned char *p,
				size_t len, const struct crc32_fold_keys *k)
{
	__m512i z0, z1, z2, z3, by512 = _mm512_broadcast_i32x4(k->by512);
	__m512i by2048 = _mm512_broadcast_i32x4(
		_mm_set_epi64x((long long)CRC32_X2016, (long long)CRC32_X2080));

	z0 = _mm512_loadu_si512((const void *)p);
	z1 = _mm512_loadu_si512((const void *)(p + 64));
	z2 = _mm512_loadu_si512((const void *)(p + 128));
	z3 = _mm512_loadu_si512((const void *)(p + 192));
	/* The register into the first four bytes, the rest of z0 as is. */
	z0 = _mm512_xor_si512(z0, _mm512_zextsi128_si512(
				      _mm_cvtsi32_si128((int)~crc)));
	p += 256;
	len -= 256;
	while (len >= 256) {
		z0 = fold512(z0, by2048, _mm512_loadu_si512((const void *)p));
		z1 = fold512(z1, by2048, _mm512_loadu_si512((const void *)(p + 64)));
		z2 = fold512(z2, by2048, _mm512_loadu_si512((const void *)(p + 128)));
		z3 = fold512(z3, by2048, _mm512_loadu_si512((const void *)(p + 192)));
		p += 256;
		len -= 256;
	}
	z1 = fold512(z0, by512, z1);
	z2 = fold512(z1, by512, z2);
	z3 = fold512(z2, by512, z3);
	return crc32_fold_on(_mm512_extracti32x4_epi32(z3, 0),
			     _mm512_extracti32x4_epi32(z3, 1),
			     _mm512_extracti32x4_epi32(z3, 2),
			     _mm512_extracti32x4_epi32(z3, 3), p, len, k);
}

/*
 * The keys, as crc32_fold_constant() gives them (test_crc32 checks it):
 * x^(512+64-32), x^(512-32), x^(128+64-32) and x^(128-32) mod P.
 */
#define CRC32_X544 0x154442bd4ULL
#define CRC32_X480 0x1c6e41596ULL
#define CRC32_X160 0x1751997d0ULL
#define CRC32_X96 0x0ccaa009eULL

/* Below this a piece takes the 128-bit loop. */
#define CRC32_WIDE_MIN 1024

static int wide_ready(void)
{
	return cpu_has(CPU_VPCLMUL_AVX512);
}

static int fold_ready(void)
{
	return cpu_has(CPU_PCLMUL);
}

int crc32_folding(void)
{
	return fold_ready();
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	if (!len)
		return crc;
	if (len >= CRC32_FOLD_MIN && fold_ready()) {
		struct crc32_fold_keys keys;

		keys.by512 = _mm_set_epi64x((long long)CRC32_X480,
					    (long long)CRC32_X544);
		keys.by128 = _mm_set_epi64x((long long)CRC32_X96,
					    (long long)CRC32_X160);
		if (len >= CRC32_WIDE_MIN && wide_ready())
			return crc32_fold_wide(crc, data, len, &keys);
		return crc32_fold(crc, data, len, &keys);
	}
	return (uint32_t)crc32_z(crc, data, len);
}

#else

int crc32_folding(void)
{
	return 0;
}

uint32_t crc32_update(uint32_t crc, const void *data, size_t len)
{
	if (!len)
		return crc;
	return (uint32_t)crc32_z(crc, data, len);
}

#endif
