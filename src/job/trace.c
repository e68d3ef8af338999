/*
 * The trace sink: lanes of stages (see trace_internal.h), the runner's own
 * lines and section markers, and the last stage that counts the bytes and
 * hands them to the consumer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/crc32.h"
#include "job/trace_internal.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* A runner message longer than this is cut (it is not job output). */
#define TRACE_RUNNER_LINE_MAX ((size_t)64 << 10)

/* Size of the block out collects before it goes to the consumer. */
#define TRACE_OUT_BLOCK ((size_t)16 << 10)

/* Checksum and size of exactly what the consumer gets. */
static int out_deliver(struct trace_sink *sink, const char *data, size_t len)
{
	int r;

	if (sink->consumer.write &&
	    (r = sink->consumer.write(sink->consumer.ctx, data, len)) != 0)
		return r;
	sink->crc = crc32_update(sink->crc, data, len);
	sink->bytes += len;
	return 0;
}

/* Hands the collected block to the consumer; called before returning. */
static int out_flush(struct trace_sink *sink)
{
	size_t n = sink->pending_len;

	if (!n)
		return 0;
	sink->pending_len = 0;
	return out_deliver(sink, sink->pending, n);
}

/* The last stage: collects pieces into one block (see trace_internal.h). */
static int out_write(struct trace_writer *w, const char *data, size_t len)
{
	struct trace_sink *sink = w->sink;
	int r;

	if (sink->pending_len + len > TRACE_OUT_BLOCK &&
	    (r = out_flush(sink)) != 0)
		return r;
	if (len >= TRACE_OUT_BLOCK)
		return out_deliver(sink, data, len);
	if (!sink->pending)
		sink->pending = xmalloc(TRACE_OUT_BLOCK);
	memcpy(sink->pending + sink->pending_len, data, len);
	sink->pending_len += len;
	if (sink->pending_len > sink->pending_max)
		sink->pending_max = sink->pending_len;
	return 0;
}

static int out_close(struct trace_writer *w)
{
	(void)w;
	return 0;
}

static size_t out_held(const struct trace_writer *w, size_t *alloc)
{
	(void)w;
	*alloc = 0;
	return 0;
}

static void out_free(struct trace_writer *w)
{
	free(w);
}

static const struct trace_writer_ops out_ops = {
	.name = "out",
	.write = out_write,
	.close = out_close,
	.held = out_held,
	.free = out_free,
};

static void default_clock(struct timespec *now)
{
	clock_gettime(CLOCK_REALTIME, now);
}

void trace_sink_now(const struct trace_sink *sink, struct timespec *now)
{
	if (sink->write_time_set)
		*now = sink->write_time;
	else if (sink->opts.clock)
		sink->opts.clock(now);
	else
		default_clock(now);
}

struct trace_sink *trace_sink_new(const struct trace_options *opts,
				  struct trace_consumer consumer)
{
	static const struct trace_options defaults;
	struct trace_sink *sink = xcalloc(1, sizeof(*sink));

	if (!opts)
		opts = &defaults;
	sink->opts = *opts;
	sink->opts.token_prefixes = NULL;
	sink->opts.nr_token_prefixes = 0;
	sink->consumer = consumer;
	sink->crc = CRC32_INIT;
	trace_token_setup(sink, opts);

	sink->out = xcalloc(1, sizeof(*sink->out));
	*sink->out = (struct trace_writer){ &out_ops, NULL, sink };
	sink->limit = trace_limit_new(sink, sink->out, opts->output_limit);
	return sink;
}

static void lane_free(struct trace_sink *sink, struct trace_lane *lane)
{
	struct trace_writer *w = lane->head, *next;

	while (w && w != sink->limit) {
		next = w->next;
		w->ops->free(w);
		w = next;
	}
	lane->head = NULL;
}

void trace_sink_free(struct trace_sink *sink)
{
	size_t i;

	if (!sink)
		return;
	for (i = 0; i < sink->nr_lanes; i++)
		lane_free(sink, &sink->lanes[i]);
	if (sink->limit)
		sink->limit->ops->free(sink->limit);
	if (sink->out)
		sink->out->ops->free(sink->out);
	trace_patterns_release(&sink->phrases);
	trace_patterns_release(&sink->prefixes);
	/* Only what was written: wiping all of it would page it all in. */
	if (sink->pending)
		freezero(sink->pending, sink->pending_max);
	free(sink);
}

void trace_sink_add_mask(struct trace_sink *sink, const char *value)
{
	const char *end;

	if (!value)
		return;
	while (*value == ' ' || (*value >= '\t' && *value <= '\r'))
		value++;
	end = value + strlen(value);
	while (end > value && (end[-1] == ' ' ||
			       (end[-1] >= '\t' && end[-1] <= '\r')))
		end--;
	trace_patterns_add(&sink->phrases, value, (size_t)(end - value),
			   TRACE_LONGEST_FIRST);
}

/* The stages of a new lane, built from the end. */
static struct trace_lane *lane_get(struct trace_sink *sink, uint8_t stream,
				   enum trace_fd fd)
{
	struct trace_lane *lane;
	struct trace_writer *w;
	size_t i;

	for (i = 0; i < sink->nr_lanes; i++)
		if (sink->lanes[i].stream == stream && sink->lanes[i].fd == fd)
			return &sink->lanes[i];
	if (sink->nr_lanes == TRACE_MAX_LANES)
		return NULL;
	w = trace_utf8_new(sink, sink->limit);
	if (sink->opts.timestamps)
		w = trace_timestamp_new(sink, w, stream, fd);
	w = trace_token_new(sink, w);
	w = trace_url_new(sink, w);
	w = trace_mask_new(sink, w);
	lane = &sink->lanes[sink->nr_lanes++];
	*lane = (struct trace_lane){ stream, fd, w };
	return lane;
}

/* The stream ended: every stage passes on what it held back, in order. */
static int lane_close(struct trace_sink *sink, struct trace_lane *lane)
{
	struct trace_writer *w;
	int r;

	for (w = lane->head; w && w != sink->limit; w = w->next)
		if ((r = w->ops->close(w)) != 0)
			return r;
	return 0;
}

static int sink_fail(struct trace_sink *sink, int r)
{
	if (r && !sink->err)
		sink->err = r;
	return r;
}

int trace_sink_write(struct trace_sink *sink, enum trace_stream stream,
		     enum trace_fd fd, const char *data, size_t len)
{
	struct trace_lane *lane;
	size_t i;
	int r;

	if (sink->err)
		return sink->err;
	if (sink->finished || !len)
		return 0;
	/*
	 * The runner speaks between the job's commands, when gitlab-runner
	 * has closed their output streams: the end of the job's output (a
	 * last line without '\n', bytes kept back by a masker) goes first.
	 */
	if (stream == TRACE_STREAM_RUNNER) {
		for (i = 0; i < sink->nr_lanes; i++) {
			if (sink->lanes[i].stream == TRACE_STREAM_RUNNER)
				continue;
			if ((r = lane_close(sink, &sink->lanes[i])) != 0)
				return sink_fail(sink, r);
		}
	}
	/* Too many streams: this one is lost, the others go on. */
	if (!(lane = lane_get(sink, (uint8_t)stream, fd)))
		return CR_ERR_TOO_LARGE;
	/* Every byte of this write arrived now. */
	trace_sink_now(sink, &sink->write_time);
	sink->write_time_set = 1;
	r = lane->head->ops->write(lane->head, data, len);
	sink->write_time_set = 0;
	if (!r)
		r = out_flush(sink);
	return sink_fail(sink, r);
}

/*
 * Writes prefix, the formatted text (cut at TRACE_RUNNER_LINE_MAX), then
 * suffix, as one runner write.
 */
__attribute__((format(printf, 4, 0)))
static void runner_line(struct trace_sink *sink, const char *prefix,
			const char *suffix, const char *fmt, va_list ap)
{
	size_t plen = strlen(prefix), slen = strlen(suffix), n, total;
	va_list aq;
	char *line;
	int len;

	if (sink->err || sink->finished)
		return;
	va_copy(aq, ap);
	len = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (len < 0)
		return;
	n = (size_t)len < TRACE_RUNNER_LINE_MAX ? (size_t)len :
	    TRACE_RUNNER_LINE_MAX;
	total = plen + n + slen;
	line = xmalloc(total + 1);
	memcpy(line, prefix, plen);
	vsnprintf(line + plen, n + 1, fmt, ap);
	memcpy(line + plen + n, suffix, slen);
	trace_sink_write(sink, TRACE_STREAM_RUNNER, TRACE_STDOUT, line, total);
	/* The text may hold a secret the masker has just hidden. */
	freezero(line, total + 1);
}

void trace_sink_line(struct trace_sink *sink, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	runner_line(sink, TRACE_ANSI_CLEAR, TRACE_ANSI_RESET "\n", fmt, ap);
	va_end(ap);
}

void trace_sink_info(struct trace_sink *sink, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	runner_line(sink, TRACE_ANSI_BOLD_GREEN, TRACE_ANSI_RESET "\n", fmt,
		    ap);
	va_end(ap);
}

void trace_sink_warning(struct trace_sink *sink, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	runner_line(sink, TRACE_ANSI_YELLOW "WARNING: ",
		    TRACE_ANSI_RESET "\n", fmt, ap);
	va_end(ap);
}

void trace_sink_error(struct trace_sink *sink, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	runner_line(sink, TRACE_ANSI_BOLD_RED "ERROR: ",
		    TRACE_ANSI_RESET "\n", fmt, ap);
	va_end(ap);
}

static void section_marker(struct trace_sink *sink, const char *kind,
			   const char *name)
{
	struct timespec now;
	char marker[512];
	int n;

	trace_sink_now(sink, &now);
	n = snprintf(marker, sizeof(marker), "%s:%lld:%s\r" TRACE_ANSI_CLEAR,
		     kind, (long long)now.tv_sec, name);
	if (n < 0 || (size_t)n >= sizeof(marker))
		return;		/* not a valid section name anyway */
	trace_sink_write(sink, TRACE_STREAM_RUNNER, TRACE_STDOUT, marker,
			 (size_t)n);
}

/*
 * As gitlab-runner does, the header line is part of the stage, not of the
 * markers: it is written with or without trace_sections.
 */
void trace_sink_section_start(struct trace_sink *sink, const char *name,
			      const char *header)
{
	if (sink->opts.trace_sections)
		section_marker(sink, "section_start", name);
	if (header)
		trace_sink_line(sink, "%s%s%s", TRACE_ANSI_BOLD_CYAN, header,
				TRACE_ANSI_RESET);
}

void trace_sink_section_end(struct trace_sink *sink, const char *name)
{
	if (sink->opts.trace_sections)
		section_marker(sink, "section_end", name);
}

int trace_sink_finish(struct trace_sink *sink)
{
	size_t i;
	int r;

	if (sink->finished || sink->err)
		return sink->err;
	for (i = 0; i < sink->nr_lanes; i++)
		if ((r = lane_close(sink, &sink->lanes[i])) != 0)
			return sink_fail(sink, r);
	if ((r = out_flush(sink)) != 0)
		return sink_fail(sink, r);
	sink->finished = 1;
	return 0;
}

void trace_sink_checksum(const struct trace_sink *sink, char out[16])
{
	snprintf(out, 16, "crc32:%08x", (unsigned int)sink->crc);
}

size_t trace_sink_bytesize(const struct trace_sink *sink)
{
	return (size_t)sink->bytes;
}

size_t trace_sink_held(const struct trace_sink *sink, size_t *alloc)
{
	const struct trace_writer *w;
	size_t i, held = 0, a, total_alloc = 0;

	for (i = 0; i < sink->nr_lanes; i++) {
		for (w = sink->lanes[i].head; w && w != sink->limit;
		     w = w->next) {
			held += w->ops->held(w, &a);
			total_alloc += a;
		}
	}
	if (alloc)
		*alloc = total_alloc;
	return held;
}
