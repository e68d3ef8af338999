/*
 * job/crc32.c: the folding code (PCLMULQDQ) gives zlib's CRC for every
 * length, alignment and way of cutting a stream into pieces; checked
 * against a bit-at-a-time CRC written here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "job/crc32.h"
#include "util/cpu_features.h"

/* The reference: reflected 0xEDB88320, one bit at a time. */
static uint32_t crc_bits(uint32_t crc, const unsigned char *p, size_t n)
{
	size_t i;
	int b;

	crc = ~crc;
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320U & (0U - (crc & 1)));
	}
	return ~crc;
}

/* Deterministic bytes (xorshift), every value 0..255 among them. */
static void fill(unsigned char *p, size_t n, uint32_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		p[i] = (unsigned char)seed;
	}
}

static void test_fold_constants(void **state)
{
	(void)state;
	/* The keys the folding code uses (x^(4*128+32) ... mod P). */
	assert_true(crc32_fold_constant(512 + 64 - 32) == 0x154442bd4ULL);
	assert_true(crc32_fold_constant(512 - 32) == 0x1c6e41596ULL);
	assert_true(crc32_fold_constant(128 + 64 - 32) == 0x1751997d0ULL);
	assert_true(crc32_fold_constant(128 - 32) == 0x0ccaa009eULL);
	/* The wide loop's (VPCLMULQDQ): 256 bytes on. */
	assert_true(crc32_fold_constant(2048 + 64 - 32) == 0x11542778aULL);
	assert_true(crc32_fold_constant(2048 - 32) == 0x1322d1430ULL);
	/* x^0 = 1: the coefficient of x^0 is bit 32. */
	assert_true(crc32_fold_constant(0) == (uint64_t)1 << 32);
	printf("# folding: %s\n", crc32_folding() ? "yes" : "no (zlib)");
}

/*
 * CRUNNER_CPU_FEATURES limits the paths (util/cpu_features.h): the runs
 * ctest makes with it (tests/CMakeLists.txt) really take the slower ones.
 */
static void test_features_follow_the_environment(void **state)
{
	const char *v = getenv("CRUNNER_CPU_FEATURES");

	(void)state;
	if (!v)
		skip();
	if (!strstr(v, "pclmul"))
		assert_false(crc32_folding());
	assert_false(strstr(v, "vpclmul-avx512") == NULL &&
		     cpu_has(CPU_VPCLMUL_AVX512));
	assert_false(strstr(v, "avx2") == NULL && cpu_has(CPU_AVX2));
}

static void test_every_length_and_alignment(void **state)
{
	enum { MAX = 1100 };
	unsigned char *buf = malloc(MAX + 16);
	size_t len, off;

	(void)state;
	assert_non_null(buf);
	fill(buf, MAX + 16, 0x9e3779b9U);
	for (off = 0; off < 16; off++)
		for (len = 0; len <= MAX; len++)
			assert_int_equal(crc32_update(0, buf + off, len),
					 crc_bits(0, buf + off, len));
	free(buf);
}

/* Lengths where the wide (256 bytes a step) loop starts, ends, runs. */
static void test_wide_lengths(void **state)
{
	enum { MAX = 5200 };
	unsigned char *buf = malloc(MAX + 64);
	size_t len, off;

	(void)state;
	assert_non_null(buf);
	fill(buf, MAX + 64, 0x2545f491U);
	for (off = 0; off < 64; off += 21)
		for (len = 1000; len <= MAX; len += 7)
			assert_int_equal(crc32_update(0x12345678U, buf + off,
						      len),
					 crc_bits(0x12345678U, buf + off,
						  len));
	free(buf);
}

static void test_chained_pieces(void **state)
{
	enum { SIZE = 200000 };
	unsigned char *buf = malloc(SIZE);
	uint32_t want, got;
	size_t done, piece, step;
	const size_t steps[] = { 1, 7, 63, 64, 65, 255, 256, 257, 1000, 4096,
				 65536, 65537 };

	(void)state;
	assert_non_null(buf);
	fill(buf, SIZE, 12345);
	want = crc_bits(0, buf, SIZE);
	assert_int_equal(crc32_update(0, buf, SIZE), want);
	for (step = 0; step < sizeof(steps) / sizeof(*steps); step++) {
		got = 0;
		for (done = 0; done < SIZE; done += piece) {
			piece = steps[step] + done % 3;
			if (piece > SIZE - done)
				piece = SIZE - done;
			got = crc32_update(got, buf + done, piece);
		}
		assert_int_equal(got, want);
	}
	free(buf);
}

static void test_patterns(void **state)
{
	unsigned char buf[4096];

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(crc32_update(0, buf, sizeof(buf)),
			 crc_bits(0, buf, sizeof(buf)));
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(crc32_update(0, buf, sizeof(buf)),
			 crc_bits(0, buf, sizeof(buf)));
	assert_int_equal(crc32_update(0xdeadbeefU, buf, sizeof(buf)),
			 crc_bits(0xdeadbeefU, buf, sizeof(buf)));
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(crc32_update(0xffffffffU, buf, 300),
			 crc_bits(0xffffffffU, buf, 300));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold_constants),
		cmocka_unit_test(test_features_follow_the_environment),
		cmocka_unit_test(test_every_length_and_alignment),
		cmocka_unit_test(test_wide_lengths),
		cmocka_unit_test(test_chained_pieces),
		cmocka_unit_test(test_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
