/*
 * What the libFuzzer targets share: a NUL-terminated copy of the input,
 * and a check that names the property that failed before aborting (so
 * libFuzzer keeps the input as a crash).
 */
#ifndef CR_FUZZ_H
#define CR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                          \
	do {                                                           \
		if (!(cond)) {                                         \
			fprintf(stderr, "fuzz property failed: %s: ", \
				#cond);                                \
			fprintf(stderr, __VA_ARGS__);                  \
			fputc('\n', stderr);                           \
			abort();                                       \
		}                                                      \
	} while (0)

/* data[0..size) with a NUL after it; the caller frees it. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
