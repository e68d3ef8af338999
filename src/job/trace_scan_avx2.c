/*
 * The trace stages' byte scans with AVX2, 32 bytes per compare (see
 * trace_scan_few() and trace_patterns_skip()): the same answers as their
 * SSE2/portable loops, which do what is left and every other machine.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "job/trace_internal.h"
#include "util/cpu_features.h"
#include "util/banned.h"

#if defined(__x86_64__) && defined(__GNUC__)

bool trace_avx2(void)
{
	return cpu_has(CPU_AVX2);
}

/* few's byte k, in all 32 places. */
__attribute__((target("avx2")))
static inline __m256i spread(const struct trace_few *few, int k)
{
	__m128i v;

	memcpy(&v, &few->vec[k], 16);
	return _mm256_broadcastsi128_si256(v);
}

__attribute__((target("avx2")))
bool trace_scan_few_avx2(const struct trace_few *few, const char *s,
			 size_t n, size_t *at)
{
	__m256i a = spread(few, 0), b = spread(few, 1), c = spread(few, 2),
		d = spread(few, 3), v, m;
	size_t i = *at;
	uint32_t bits;

	for (; i + 32 <= n; i += 32) {
		v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
		/* Repeated bytes in a, b, c, d (fewer than four) cost one
		 * compare each, no more branches. */
		m = _mm256_or_si256(
			_mm256_or_si256(_mm256_cmpeq_epi8(v, a),
					_mm256_cmpeq_epi8(v, b)),
			_mm256_or_si256(_mm256_cmpeq_epi8(v, c),
					_mm256_cmpeq_epi8(v, d)));
		bits = (uint32_t)_mm256_movemask_epi8(m);
		if (bits) {
			*at = i + (size_t)__builtin_ctz(bits);
			return true;
		}
	}
	*at = i;
	return false;
}

__attribute__((target("avx2")))
bool trace_pair_scan_avx2(const struct trace_few *fa,
			  const struct trace_few *fb, const char *s,
			  size_t n, size_t *at)
{
	__m256i a0 = spread(fa, 0), a1 = spread(fa, 1), a2 = spread(fa, 2),
		a3 = spread(fa, 3), b0 = spread(fb, 0), b1 = spread(fb, 1),
		b2 = spread(fb, 2), b3 = spread(fb, 3), v, w, m;
	size_t i = *at;
	uint32_t bits;

	for (; i + 33 <= n; i += 32) {
		v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
		w = _mm256_loadu_si256((const __m256i *)(const void *)(s + i + 1));
		m = _mm256_or_si256(
			_mm256_or_si256(
				_mm256_and_si256(_mm256_cmpeq_epi8(v, a0),
						 _mm256_cmpeq_epi8(w, b0)),
				_mm256_and_si256(_mm256_cmpeq_epi8(v, a1),
						 _mm256_cmpeq_epi8(w, b1))),
			_mm256_or_si256(
				_mm256_and_si256(_mm256_cmpeq_epi8(v, a2),
						 _mm256_cmpeq_epi8(w, b2)),
				_mm256_and_si256(_mm256_cmpeq_epi8(v, a3),
						 _mm256_cmpeq_epi8(w, b3))));
		bits = (uint32_t)_mm256_movemask_epi8(m);
		if (bits) {
			*at = i + (size_t)__builtin_ctz(bits);
			return true;
		}
	}
	*at = i;
	return false;
}

#else

bool trace_avx2(void)
{
	return false;
}

bool trace_scan_few_avx2(const struct trace_few *few, const char *s,
			 size_t n, size_t *at)
{
	(void)few;
	(void)s;
	(void)n;
	(void)at;
	return false;
}

bool trace_pair_scan_avx2(const struct trace_few *fa,
			  const struct trace_few *fb, const char *s,
			  size_t n, size_t *at)
{
	(void)fa;
	(void)fb;
	(void)s;
	(void)n;
	(void)at;
	return false;
}

#endif
