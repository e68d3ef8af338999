#include <stdio.h>
#include <string.h>

#include "util/backoff.h"
#include "util/random.h"
#include "util/banned.h"

#define RETRY_MIN_MS 5000L
#define RETRY_MAX_MS (5L * 60 * 1000)

long backoff_stage_retry_ms(unsigned failures)
{
	double ms = RETRY_MIN_MS;
	unsigned i;

	for (i = 1; i < failures && ms < RETRY_MAX_MS; i++)
		ms *= 1.5;
	if (ms > RETRY_MAX_MS)
		ms = RETRY_MAX_MS;
	return RETRY_MIN_MS +
	       (long)((ms - RETRY_MIN_MS) * (random_u32() / 4294967296.0));
}

void backoff_format(long ms, char *out, size_t size)
{
	size_t n;

	if (ms % 1000 == 0) {
		snprintf(out, size, "%lds", ms / 1000);
		return;
	}
	snprintf(out, size, "%ld.%03ld", ms / 1000, ms % 1000);
	for (n = strlen(out); n > 0 && out[n - 1] == '0'; n--)
		out[n - 1] = '\0';
	if (n + 1 < size) {
		out[n] = 's';
		out[n + 1] = '\0';
	}
}
