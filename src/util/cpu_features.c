/*
 * CPU extensions, with the environment's limit (cpu_features.h).
 */
#include <stdlib.h>
#include <string.h>

#include "util/cpu_features.h"
#include "util/banned.h"

static const char *const feature_names[CPU_NR_FEATURES] = {
	[CPU_AVX2] = "avx2",
	[CPU_PCLMUL] = "pclmul",
	[CPU_VPCLMUL_AVX512] = "vpclmul-avx512",
};

/* Bit f set: CRUNNER_CPU_FEATURES allows f; -1 until read. */
static int allowed_mask = -1;

static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;

	while ((p = strstr(p, name)) != NULL) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static bool allowed(enum cpu_feature f)
{
	if (allowed_mask < 0) {
		const char *v = getenv("CRUNNER_CPU_FEATURES");
		int mask = 0, i;

		for (i = 0; i < CPU_NR_FEATURES; i++)
			if (!v || listed(v, feature_names[i]))
				mask |= 1 << i;
		allowed_mask = mask;
	}
	return allowed_mask & (1 << f);
}

bool cpu_has(enum cpu_feature f)
{
	if ((unsigned)f >= CPU_NR_FEATURES || !allowed(f))
		return false;
#if defined(__x86_64__) && defined(__GNUC__)
	switch (f) {
	case CPU_AVX2:
		return __builtin_cpu_supports("avx2");
	case CPU_PCLMUL:
		return __builtin_cpu_supports("pclmul") &&
		       __builtin_cpu_supports("sse2");
	case CPU_VPCLMUL_AVX512:
		return __builtin_cpu_supports("vpclmulqdq") &&
		       __builtin_cpu_supports("avx512f");
	default:
		return false;
	}
#else
	return false;
#endif
}
