/*
 * The trace sink: up to four masked values and a job output, written
 * whole, byte by byte, and cut where the input says.  The three outputs
 * are identical, and no masked value shows in them.
 *
 * Input: byte 0 holds the number of values (low 2 bits); each value is a
 * length byte (1-16) and that many bytes, mapped to [a-z0-9] so that
 * neither "[MASKED]" nor the U+FFFD of UTF-8 repair can complete one;
 * then one byte seeds the cuts; the rest is the output, any bytes.
 */
#include "fuzz.h"

#include "job/trace.h"
#include "util/buf.h"

#define MAX_VALUES 4
#define MAX_VALUE_LEN 16

static int collect(void *ctx, const char *data, size_t len)
{
	return buf_add(ctx, data, len);
}

static void fixed_clock(struct timespec *now)
{
	now->tv_sec = 1787393703;
	now->tv_nsec = 0;
}

/* Writes text in pieces: step 0 cuts by seed, else every step bytes. */
static struct buf run(char values[][MAX_VALUE_LEN + 1], size_t nr_values,
		      const char *text, size_t len, size_t step,
		      unsigned seed)
{
	struct trace_options opts = { 0 };
	struct buf out = BUF_INIT;
	struct trace_sink *sink;
	size_t i, at = 0, n;

	opts.clock = fixed_clock;
	sink = trace_sink_new(&opts, (struct trace_consumer){ collect, &out });
	for (i = 0; i < nr_values; i++)
		trace_sink_add_mask(sink, values[i]);
	while (at < len) {
		if (step) {
			n = step;
		} else {
			seed = seed * 1103515245u + 12345u;
			n = 1 + (seed >> 16) % 23;
		}
		if (n > len - at)
			n = len - at;
		FUZZ_CHECK(trace_sink_write(sink, TRACE_STREAM_JOB,
					    TRACE_STDOUT, text + at, n) == 0,
			   "write failed");
		at += n;
	}
	FUZZ_CHECK(trace_sink_finish(sink) == 0, "finish failed");
	trace_sink_free(sink);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	char values[MAX_VALUES][MAX_VALUE_LEN + 1];
	struct buf whole, bytes, cut;
	size_t nr, i, k, len, at = 1;
	unsigned seed;

	if (size < 2 || size > 16384)
		return 0;
	nr = data[0] % (MAX_VALUES + 1);
	for (i = 0; i < nr; i++) {
		if (at >= size)
			return 0;
		len = 1 + data[at++] % MAX_VALUE_LEN;
		if (len > size - at)
			return 0;
		for (k = 0; k < len; k++)
			values[i][k] = alphabet[data[at + k] % 36];
		values[i][len] = '\0';
		at += len;
	}
	if (at >= size)
		return 0;
	seed = data[at++];

	whole = run(values, nr, (const char *)data + at, size - at, size, 0);
	bytes = run(values, nr, (const char *)data + at, size - at, 1, 0);
	cut = run(values, nr, (const char *)data + at, size - at, 0, seed);
	FUZZ_CHECK(whole.len == bytes.len &&
		   !memcmp(whole.data, bytes.data, whole.len),
		   "byte-by-byte output differs from the whole write");
	FUZZ_CHECK(whole.len == cut.len &&
		   !memcmp(whole.data, cut.data, whole.len),
		   "output cut by seed %u differs from the whole write", seed);
	for (i = 0; i < nr; i++)
		FUZZ_CHECK(!memmem(whole.data, whole.len, values[i],
				   strlen(values[i])),
			   "masked value '%s' shows in the output", values[i]);
	buf_release(&whole);
	buf_release(&bytes);
	buf_release(&cut);
	return 0;
}
