/*
 * The trace sink: up to four masked values and a job output, written
 * whole, byte by byte, and cut where the input says.  The three outputs
 * are identical, and no masked value shows in them.
 *
 * Input: byte 0 holds the number of values (its low 7 bits mod 5) and
 * whether lines get timestamps (FF_TIMESTAMPS, its high bit); each value is
 * a length byte (1-16) and that many bytes, mapped to [a-z0-9] so that
 * neither "[MASKED]" nor the U+FFFD of UTF-8 repair can complete one (to
 * [a-z] with timestamps, whose prefixes hold no lower-case letter); then
 * one byte seeds the cuts; the rest is the output, any bytes.
 *
 * With timestamps, where entries are cut depends on the writes (a '\r'
 * piece is written at once, its line continued by a '+' entry), so the
 * three outputs are each decoded (prefixes dropped, continuations joined)
 * and must give the output without timestamps, with a '\n' after a last
 * partial line.
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

/* "2026-08-22T10:15:03.482113Z 01O" and ' ' or '+' (trace_timestamp.c). */
#define STAMP_LEN 32

/* in's entries without their prefixes, continuations joined. */
static struct buf decode_stamped(const struct buf *in)
{
	struct buf out = BUF_INIT;
	size_t at = 0;

	while (at < in->len) {
		const char *line, *nl;

		FUZZ_CHECK(in->len - at > STAMP_LEN &&
			   in->data[at + 26] == 'Z' &&
			   in->data[at + 27] == ' ' &&
			   (in->data[at + 31] == ' ' ||
			    in->data[at + 31] == '+'),
			   "entry at %zu has no timestamp prefix", at);
		if (in->data[at + 31] == '+') {
			FUZZ_CHECK(out.len && out.data[out.len - 1] == '\n',
				   "a '+' entry at %zu continues nothing", at);
			buf_setlen(&out, out.len - 1);
		}
		at += STAMP_LEN;
		line = in->data + at;
		nl = memchr(line, '\n', in->len - at);
		FUZZ_CHECK(nl != NULL, "entry at %zu has no newline", at);
		FUZZ_CHECK(buf_add(&out, line, (size_t)(nl - line) + 1) == 0,
			   "out of memory");
		at += (size_t)(nl - line) + 1;
	}
	return out;
}

/* Writes text in pieces: step 0 cuts by seed, else every step bytes. */
static struct buf run(char values[][MAX_VALUE_LEN + 1], size_t nr_values,
		      const char *text, size_t len, size_t step,
		      unsigned seed, int timestamps)
{
	struct trace_options opts = { 0 };
	struct buf out = BUF_INIT;
	struct trace_sink *sink;
	size_t i, at = 0, n;

	opts.clock = fixed_clock;
	opts.timestamps = timestamps;
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
	size_t nr, i, k, len, at = 1, letters;
	unsigned seed;
	int stamps;

	if (size < 2 || size > 16384)
		return 0;
	stamps = (data[0] & 0x80) != 0;
	letters = stamps ? 26 : 36;
	nr = (size_t)(data[0] & 0x7f) % (MAX_VALUES + 1);
	for (i = 0; i < nr; i++) {
		if (at >= size)
			return 0;
		len = 1 + data[at++] % MAX_VALUE_LEN;
		if (len > size - at)
			return 0;
		for (k = 0; k < len; k++)
			values[i][k] = alphabet[data[at + k] % letters];
		values[i][len] = '\0';
		at += len;
	}
	if (at >= size)
		return 0;
	seed = data[at++];

	whole = run(values, nr, (const char *)data + at, size - at, size, 0,
		    stamps);
	bytes = run(values, nr, (const char *)data + at, size - at, 1, 0,
		    stamps);
	cut = run(values, nr, (const char *)data + at, size - at, 0, seed,
		  stamps);
	if (stamps) {
		struct buf plain = run(values, nr, (const char *)data + at,
				       size - at, size, 0, 0);
		struct buf *outs[] = { &whole, &bytes, &cut };

		if (plain.len && plain.data[plain.len - 1] != '\n')
			FUZZ_CHECK(buf_addch(&plain, '\n') == 0,
				   "out of memory");
		for (k = 0; k < 3; k++) {
			struct buf text = decode_stamped(outs[k]);

			FUZZ_CHECK(text.len == plain.len &&
				   !memcmp(text.data, plain.data, text.len),
				   "timestamped output %zu (whole, bytes, cut by seed %u) differs from the output without timestamps",
				   k, seed);
			buf_release(outs[k]);
			*outs[k] = text;
		}
		buf_release(&plain);
	}
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
