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
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/trace_internal.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define TS_PREFIX_MAX 64

struct ts_writer {
	struct trace_writer base;
	uint8_t stream;
	char fd;		/* 'O' or 'E' */
	int cont;		/* the next entry continues the last one */
	char *line;		/* partial line, TRACE_TS_LINE_MAX bytes */
	size_t len;
	struct timespec line_time;	/* when line[0] arrived */
};

static int ts_prefix(struct ts_writer *t, const struct timespec *when)
{
	char buf[TS_PREFIX_MAX];
	time_t sec = when->tv_sec;
	struct tm tm;
	int n;

	if (!gmtime_r(&sec, &tm))
		return CR_ERR_INTERNAL;
	n = snprintf(buf, sizeof(buf),
		     "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %02x%c%c",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, (long)(when->tv_nsec / 1000),
		     t->stream, t->fd, t->cont ? '+' : ' ');
	if (n < 0 || (size_t)n >= sizeof(buf))
		return CR_ERR_INTERNAL;
	return trace_writer_pass(&t->base, buf, (size_t)n);
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
	    (r = trace_writer_pass(&t->base, t->line, t->len)) != 0 ||
	    (r = trace_writer_pass(&t->base, data, len)) != 0 ||
	    (add_nl && (r = trace_writer_pass(&t->base, "\n", 1)) != 0))
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
			    (r = trace_writer_pass(&t->base, t->line,
						   cut)) != 0 ||
			    (r = trace_writer_pass(&t->base, "\n", 1)) != 0)
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

static int ts_write(struct trace_writer *w, const char *data, size_t len)
{
	struct ts_writer *t = (struct ts_writer *)w;
	struct timespec now;
	const char *nl;
	size_t n;
	int r;

	trace_sink_now(w->sink, &now);
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

static int ts_close(struct trace_writer *w)
{
	struct ts_writer *t = (struct ts_writer *)w;
	int r = 0;

	if (t->len)
		r = ts_entry(t, &t->line_time, NULL, 0, 1);
	t->cont = 0;
	return r;
}

static size_t ts_held(const struct trace_writer *w, size_t *alloc)
{
	const struct ts_writer *t = (const struct ts_writer *)w;

	*alloc = TRACE_TS_LINE_MAX;
	return t->len;
}

static void ts_free(struct trace_writer *w)
{
	struct ts_writer *t = (struct ts_writer *)w;

	freezero(t->line, TRACE_TS_LINE_MAX);
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
	return &t->base;
}
