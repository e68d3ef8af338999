/*
 * Which of the x86-64 extensions crunner's vector paths use this CPU has
 * (the trace sink's AVX2 scans, the CRC's PCLMULQDQ and VPCLMULQDQ
 * folding), as libgcc read them before main().
 *
 * CRUNNER_CPU_FEATURES in the environment, when set, allows only the ones
 * it lists ("avx2", "pclmul", "vpclmul-avx512", comma-separated; empty:
 * none), so tests can run the x86-64 baseline (SSE2) and zlib paths, and
 * each step between, on a machine that has them all.  Read once.
 */
#ifndef CR_UTIL_CPU_FEATURES_H
#define CR_UTIL_CPU_FEATURES_H

#include <stdbool.h>

enum cpu_feature {
	CPU_AVX2,
	CPU_PCLMUL,		/* PCLMULQDQ with SSE2 */
	CPU_VPCLMUL_AVX512,	/* VPCLMULQDQ with AVX-512F */
	CPU_NR_FEATURES
};

bool cpu_has(enum cpu_feature f);

#endif
