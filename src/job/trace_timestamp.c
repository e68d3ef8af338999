/*
 * The timestamp prefix of FF_TIMESTAMPS (spec 7.2).  Each entry of the log
 * starts with
 *
 *   2026-08-22T10:15:03.482113Z 01O<F>
 *
 * (UTC with microseconds, 'Z', a space: 28 bytes; the stream number in two
 * hex digits; 'O' or 'E'; <F> is ' ' for a new line, '+' when the entry
 * continues the previous one).  Entries are cut as gitlab-runner cuts them:
 *  - each '\n' ends an entry;
 *  - a piece of a write after its last '\n' that contains '\r' (a progress
 *    bar, a section marker) is written at once with an added '\n', and the
 *    next entry continues it (a UTF-8 character cut off at the end of the
 *    write waits for the rest of it in the next entry);
 *  - other text without '\n' waits for the rest of its line, up to 8 KiB;
 *    a longer line is written in 8 KiB entries with an added '\n' each;
 *  - when the stream ends a waiting partial line gets a '\n'.
 * An entry's time is when its first byte arrived.
 *
 * Speed (a line costs what its prefix costs): the date and time up to the
 * seconds are formatted once per second and kept; the microseconds and the
 * stream fields are written by hand.  Entries are gathered in an output
 * block that is handed on once per write() (or when full), not in three or
 * four passes per line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/trace_internal.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* "2026-08-22T10:15:03." */
#define TS_SECOND_LEN 20
/* The prefix: the second, 6 digits, "Z ", 2 hex digits, 'O'/'E', ' '/'+'. */
#define TS_PREFIX_LEN (TS_SECOND_LEN + 6 + 2 + 2 + 1 + 1)

struct ts_writer {
	struct trace_writer base;
	uint8_t stream;
	char fd;		/* 'O' or 'E' */
	int cont;		/* the next entry continues the last one */
	char *line;		/* partial line, TRACE_TS_LINE_MAX bytes */
	size_t len;
	struct timespec line_time;	/* when line[0] arrived */
	char *out;		/* entries not handed on yet, TRACE_TS_OUT_MAX bytes */
	size_t out_len;
	time_t second;		/* what second[] holds, or -1 */
	char second_text[TS_SECOND_LEN + 1];
	/*
	 * The last prefix made, but for its last byte (' ' or '+'), and the
	 * microsecond of second it is for (-1: none): the entries of one
	 * write share their time, so most prefixes are this one again.
	 */
	char prefix[TS_PREFIX_LEN];
	long prefix_usec;
};

/* Hands on the gathered entries. */
static int ts_flush(struct ts_writer *t)
{
	size_t n = t->out_len;

	t->out_len = 0;
	return n ? trace_writer_pass(&t->base, t->out, n) : 0;
}

/* Appends bytes to the output block; a run larger than it goes on as is. */
static int ts_emit(struct ts_writer *t, const char *data, size_t len)
{
	int r;

	if (!len)
		return 0;
	if (len > TRACE_TS_OUT_MAX - t->out_len) {
		if ((r = ts_flush(t)) != 0)
			return r;
		if (len > TRACE_TS_OUT_MAX)
			return trace_writer_pass(&t->base, data, len);
	}
	memcpy(t->out + t->out_len, data, len);
	t->out_len += len;
	return 0;
}

static int ts_prefix(struct ts_writer *t, const struct timespec *when)
{
	static const char hex[] = "0123456789abcdef";
	char buf[TS_PREFIX_LEN + 1];
	long usec = when->tv_nsec / 1000;
	struct tm tm;
	int i, n;

	if (usec < 0 || usec > 999999)
		usec = 0;
	if (when->tv_sec == t->second && usec == t->prefix_usec) {
		/*
		 * Copied, then the flag set in the copy: setting it in
		 * t->prefix first made the copy's load wait for that store.
		 */
		if (TS_PREFIX_LEN > TRACE_TS_OUT_MAX - t->out_len &&
		    (n = ts_flush(t)) != 0)
			return n;
		memcpy(t->out + t->out_len, t->prefix, TS_PREFIX_LEN);
		t->out_len += TS_PREFIX_LEN;
		t->out[t->out_len - 1] = t->cont ? '+' : ' ';
		return 0;
	}
	if (when->tv_sec != t->second) {
		if (!gmtime_r(&when->tv_sec, &tm))
			return CR_ERR_INTERNAL;
		n = snprintf(t->second_text, sizeof(t->second_text),
			     "%04d-%02d-%02dT%02d:%02d:%02d.",
			     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			     tm.tm_hour, tm.tm_min, tm.tm_sec);
		if (n != TS_SECOND_LEN)
			return CR_ERR_INTERNAL;	/* a year past 9999 */
		t->second = when->tv_sec;
	}
	t->prefix_usec = usec;
	memcpy(buf, t->second_text, TS_SECOND_LEN);
	for (i = TS_SECOND_LEN + 5; i >= TS_SECOND_LEN; i--) {
		buf[i] = (char)('0' + usec % 10);
		usec /= 10;
	}
	buf[TS_SECOND_LEN + 6] = 'Z';
	buf[TS_SECOND_LEN + 7] = ' ';
	buf[TS_SECOND_LEN + 8] = hex[t->stream >> 4];
	buf[TS_SECOND_LEN + 9] = hex[t->stream & 15];
	buf[TS_SECOND_LEN + 10] = t->fd;
	buf[TS_SECOND_LEN + 11] = t->cont ? '+' : ' ';
	memcpy(t->prefix, buf, TS_PREFIX_LEN);
	return ts_emit(t, buf, TS_PREFIX_LEN);
}

/*
 * Writes one entry: prefix, the waiting partial line, then data, then a
 * '\n' when add_nl is set.  The partial line is consumed.
 */
static int ts_entry(struct ts_writer *t, const struct timespec *now,
		    const char *data, size_t len, int add_nl)
{
	int r;

	if ((r = ts_prefix(t, t->len ? &t->line_time : now)) != 0 ||
	    (r = ts_emit(t, t->line, t->len)) != 0 ||
	    (r = ts_emit(t, data, len)) != 0 ||
	    (add_nl && (r = ts_emit(t, "\n", 1)) != 0))
		return r;
	explicit_bzero(t->line, t->len);
	t->len = 0;
	t->cont = add_nl;
	return 0;
}

/*
 * Where to cut text so that a UTF-8 character at its end whose bytes are
 * not all there yet is not broken in two: before that character.
 */
static size_t ts_cut(const char *line, size_t len)
{
	size_t i, need;
	unsigned char c;

	for (i = len; i > 0 && len - i < 3; i--) {
		c = (unsigned char)line[i - 1];
		if ((c & 0xc0) == 0x80)
			continue;	/* a continuation byte: look further */
		need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return len - (i - 1) < need ? i - 1 : len;
	}
	return len;
}

/* Adds text without '\n' or '\r' to the partial line. */
static int ts_buffer(struct ts_writer *t, const struct timespec *now,
		     const char *data, size_t len)
{
	size_t n, cut;
	int r;

	while (len) {
		if (t->len == TRACE_TS_LINE_MAX) {
			/* More text for a full line: write what fits. */
			cut = ts_cut(t->line, t->len);
			if ((r = ts_prefix(t, &t->line_time)) != 0 ||
			    (r = ts_emit(t, t->line, cut)) != 0 ||
			    (r = ts_emit(t, "\n", 1)) != 0)
				return r;
			t->cont = 1;
			memmove(t->line, t->line + cut, t->len - cut);
			t->len -= cut;
			t->line_time = *now;
		}
		if (!t->len)
			t->line_time = *now;
		n = TRACE_TS_LINE_MAX - t->len;
		if (n > len)
			n = len;
		memcpy(t->line + t->len, data, n);
		t->len += n;
		data += n;
		len -= n;
	}
	return 0;
}

static int ts_write_entries(struct ts_writer *t, const char *data,
			    size_t len)
{
	struct timespec now;
	const char *nl;
	size_t n;
	int r;

	trace_sink_now(t->base.sink, &now);
	while ((nl = memchr(data, '\n', len)) != NULL) {
		n = (size_t)(nl - data) + 1;
		if ((r = ts_entry(t, &now, data, n, 0)) != 0)
			return r;
		data += n;
		len -= n;
	}
	if (!len)
		return 0;
	if (!memchr(data, '\r', len))
		return ts_buffer(t, &now, data, len);
	/* The start of a character cut off by the read waits for its end. */
	n = ts_cut(data, len);
	if ((r = ts_entry(t, &now, data, n, 1)) != 0)
		return r;
	return ts_buffer(t, &now, data + n, len - n);
}

static int ts_write(struct trace_writer *w, const char *data, size_t len)
{
	struct ts_writer *t = (struct ts_writer *)w;
	int r = ts_write_entries(t, data, len);

	if (r) {
		t->out_len = 0;
		return r;
	}
	return ts_flush(t);
}

static int ts_close(struct trace_writer *w)
{
	struct ts_writer *t = (struct ts_writer *)w;
	int r = 0;

	if (t->len)
		r = ts_entry(t, &t->line_time, NULL, 0, 1);
	if (!r)
		r = ts_flush(t);
	t->out_len = 0;
	t->cont = 0;
	return r;
}

static size_t ts_held(const struct trace_writer *w, size_t *alloc)
{
	const struct ts_writer *t = (const struct ts_writer *)w;

	*alloc = TRACE_TS_LINE_MAX + TRACE_TS_OUT_MAX;
	return t->len + t->out_len;
}

static void ts_free(struct trace_writer *w)
{
	struct ts_writer *t = (struct ts_writer *)w;

	freezero(t->line, TRACE_TS_LINE_MAX);
	freezero(t->out, TRACE_TS_OUT_MAX);
	free(t);
}

static const struct trace_writer_ops ts_ops = {
	.name = "timestamp",
	.write = ts_write,
	.close = ts_close,
	.held = ts_held,
	.free = ts_free,
};

struct trace_writer *trace_timestamp_new(struct trace_sink *sink,
					 struct trace_writer *next,
					 uint8_t stream, enum trace_fd fd)
{
	struct ts_writer *t = xcalloc(1, sizeof(*t));

	t->base = (struct trace_writer){ &ts_ops, next, sink };
	t->stream = stream;
	t->fd = fd == TRACE_STDERR ? 'E' : 'O';
	t->line = xmalloc(TRACE_TS_LINE_MAX);
	t->out = xmalloc(TRACE_TS_OUT_MAX);
	t->second = (time_t)-1;
	t->prefix_usec = -1;
	return &t->base;
}
