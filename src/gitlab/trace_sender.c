#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitlab/trace_sender.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct trace_sender {
	struct loop *loop;
	struct trace_sender_options opts;
	struct trace_sender_events events;
	char *token;
	/* The sink feeding the consumer, for the keep-alive checksum. */
	const struct trace_sink *sink;

	/*
	 * The log's bytes [0, file_len) are in fd, an unlinked temporary
	 * file, and its tail [mem_off, size) in mem, with mem_off <= file_len:
	 * every byte is in one or both.  mem takes every write until it
	 * would pass mem_limit, or grow past TRACE_SENDER_MEM_KEEP while
	 * holding bytes GitLab already has; then what the file lacks goes to
	 * it (the overflow), and mem keeps only the bytes not sent yet, if
	 * they fit.  A log the sender keeps up with is PATCHed from mem, and
	 * one under TRACE_SENDER_MEM_KEEP never touches the file.  The whole
	 * log stays available, as a 416 or a trace reset asks for any part
	 * of it again.
	 */
	int fd;
	uint64_t file_len;
	char *mem;
	uint64_t mem_off;
	size_t mem_len, mem_cap;
	size_t mem_max;		/* the most it ever held (wiped on free) */
	size_t mem_limit;
	uint64_t size, sent;
	struct trace_sender_stats stats;
	/*
	 * A chunk that is not all in mem is read into this buffer and sent
	 * from it without a copy (gl_trace_patch.data_stable): it stays as
	 * it is while that PATCH is in flight.  Kept while a backlog is
	 * sent from the file (a malloc and free of 1 MiB per PATCH made
	 * glibc give the heap back and fault it in again each time), resized
	 * for a smaller chunk, dropped when a PATCH goes from mem again.
	 */
	char *chunk_buf;
	size_t chunk_cap;
	int write_error;

	long interval_ms;
	long force_send_ms;	/* opts.force_send_ms, or dynamic */
	uint64_t last_ok_ms;
	uint64_t tick_timer;
	struct gl_call *call;	/* the one request in flight, or NULL */

	bool finishing, done;
	bool stop_trace;	/* final phase: no more log (unwanted, or given up) */
	struct trace_sender_final final;
	int attempt;
	int range_mismatches;	/* 416 answers in the final phase */
	uint64_t retry_timer;
};

static void final_step(struct trace_sender *ts);

/* What mem starts with; it doubles up to mem_limit as the log needs. */
#define TRACE_SENDER_MEM_START ((size_t)16 << 10)
/* Past this, mem grows only for bytes not sent yet. */
#define TRACE_SENDER_MEM_KEEP ((size_t)64 << 10)

/* Appends data to the file, at file_len. */
static int file_append(struct trace_sender *ts, const char *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pwrite(ts->fd, data + done, len - done,
				   (off_t)(ts->file_len + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!ts->write_error)
				log_error("cannot write the log of job %lld: %s",
					  (long long)ts->opts.job_id,
					  n < 0 ? strerror(errno) :
					  "nothing written");
			ts->write_error = 1;
			return CR_ERR_IO;
		}
		done += (size_t)n;
	}
	ts->file_len += len;
	ts->stats.file_written += len;
	return 0;
}

/*
 * The overflow: what mem holds beyond the file goes to it; mem then keeps
 * the bytes not sent yet when they and the incoming bytes fit, else none.
 */
static int spill(struct trace_sender *ts, size_t incoming)
{
	size_t written = (size_t)(ts->file_len - ts->mem_off);
	uint64_t keep_from;
	size_t keep;
	int r;

	if (ts->mem_len > written &&
	    (r = file_append(ts, ts->mem + written, ts->mem_len - written)) != 0)
		return r;
	keep_from = ts->sent > ts->mem_off ? ts->sent : ts->mem_off;
	if (keep_from > ts->size)	/* a server claiming more than sent */
		keep_from = ts->size;
	keep = (size_t)(ts->size - keep_from);
	if (keep + incoming > ts->mem_limit) {
		keep_from = ts->size;
		keep = 0;
	}
	if (keep)
		memmove(ts->mem, ts->mem + (keep_from - ts->mem_off), keep);
	ts->mem_off = keep_from;
	ts->mem_len = keep;
	return 0;
}

/* Room for need bytes in mem (need <= mem_limit). */
static void mem_reserve(struct trace_sender *ts, size_t need)
{
	size_t cap = ts->mem_cap ? ts->mem_cap : TRACE_SENDER_MEM_START;
	char *grown;

	if (need <= ts->mem_cap)
		return;
	while (cap < need)
		cap *= 2;
	if (cap > ts->mem_limit)
		cap = ts->mem_limit;
	/* Not realloc: the old block holds log bytes and is wiped. */
	grown = xmalloc(cap);
	if (ts->mem_len)
		memcpy(grown, ts->mem, ts->mem_len);
	if (ts->mem)
		freezero(ts->mem, ts->mem_max);
	ts->mem = grown;
	ts->mem_cap = cap;
	ts->mem_max = ts->mem_len;
}

static int consumer_write(void *ctx, const char *data, size_t len)
{
	struct trace_sender *ts = ctx;
	int r;

	if (ts->mem_len + len > ts->mem_limit ||
	    (ts->mem_len + len > ts->mem_cap &&
	     ts->mem_cap >= TRACE_SENDER_MEM_KEEP && ts->sent > ts->mem_off)) {
		if ((r = spill(ts, len)) != 0)
			return r;
	}
	if (len >= ts->mem_limit) {
		/* mem is empty and the file has the whole log: append. */
		if ((r = file_append(ts, data, len)) != 0)
			return r;
		ts->mem_off = ts->file_len;
	} else {
		mem_reserve(ts, ts->mem_len + len);
		memcpy(ts->mem + ts->mem_len, data, len);
		ts->mem_len += len;
		if (ts->mem_len > ts->mem_max)
			ts->mem_max = ts->mem_len;
	}
	ts->size += len;
	return 0;
}

/*
 * The log's bytes [off, off + len) (all of them exist), read into
 * chunk_buf: what the file alone has from it, the rest from mem.
 */
static int read_log(struct trace_sender *ts, uint64_t off, size_t len)
{
	size_t done = 0;

	if (ts->chunk_cap < len ||
	    (ts->chunk_cap > len && len < GL_TRACE_PATCH_LIMIT)) {
		free(ts->chunk_buf);
		ts->chunk_buf = xmalloc(len);
		ts->chunk_cap = len;
	}
	while (done < len && off + done < ts->mem_off) {
		uint64_t in_file = ts->mem_off - (off + done);
		size_t want = len - done < in_file ? len - done :
			(size_t)in_file;
		ssize_t n = pread(ts->fd, ts->chunk_buf + done, want,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("cannot read the log of job %lld back: %s",
				  (long long)ts->opts.job_id,
				  n < 0 ? strerror(errno) : "the file is short");
			return CR_ERR_IO;
		}
		done += (size_t)n;
		ts->stats.file_read += (uint64_t)n;
	}
	if (done < len)
		memcpy(ts->chunk_buf + done,
		       ts->mem + (off + done - ts->mem_off), len - done);
	return 0;
}

struct trace_consumer trace_sender_consumer(struct trace_sender *ts)
{
	struct trace_consumer c = { consumer_write, ts };

	return c;
}

int trace_sender_new(struct loop *loop, const struct trace_sender_options *o,
		     const struct trace_sender_events *events,
		     struct trace_sender **out, struct buf *err)
{
	struct trace_sender *ts;
	const char *tmp = getenv("TMPDIR");
	struct buf path = BUF_INIT;

	(void)buf_addf(&path, "%s/crunner-trace-XXXXXX",
		       tmp && *tmp ? tmp : "/tmp");
	ts = xcalloc(1, sizeof(*ts));
	ts->fd = mkostemp(path.data, O_CLOEXEC);
	if (ts->fd < 0) {
		buf_seterr(err, "cannot create the log file '%s': %s", path.data,
			   strerror(errno));
		buf_release(&path);
		free(ts);
		return CR_ERR_IO;
	}
	/* Nobody else needs a name for it; it vanishes with the fd. */
	unlink(path.data);
	buf_release(&path);
	ts->loop = loop;
	ts->opts = *o;
	ts->events = *events;
	ts->token = xstrdup(o->token ? o->token : "");
	ts->opts.token = ts->token;
	if (!ts->opts.interval_ms)
		ts->opts.interval_ms = TRACE_SENDER_INTERVAL_MS;
	if (!ts->opts.force_send_ms)
		ts->opts.force_send_ms = TRACE_SENDER_FORCE_SEND_MS;
	if (!ts->opts.final_backoff_ms)
		ts->opts.final_backoff_ms = 1000;
	if (ts->opts.final_attempts < 1)
		ts->opts.final_attempts = TRACE_SENDER_FINAL_ATTEMPTS;
	ts->interval_ms = ts->opts.interval_ms;
	ts->force_send_ms = ts->opts.force_send_ms;
	ts->mem_limit = o->memory_limit ? o->memory_limit :
		TRACE_SENDER_MEMORY_LIMIT;
	*out = ts;
	return 0;
}

void trace_sender_free(struct trace_sender *ts)
{
	if (!ts)
		return;
	gl_call_cancel(ts->call);
	if (ts->tick_timer)
		loop_cancel_timer(ts->loop, ts->tick_timer);
	if (ts->retry_timer)
		loop_cancel_timer(ts->loop, ts->retry_timer);
	if (ts->fd >= 0)
		close(ts->fd);
	/* Only what was written: wiping all of it would page it all in. */
	if (ts->mem)
		freezero(ts->mem, ts->mem_max);
	free(ts->chunk_buf);
	free_secret(ts->token);
	free((char *)ts->final.failure_reason);
	free((char *)ts->final.checksum);
	free(ts);
}

uint64_t trace_sender_size(const struct trace_sender *ts)
{
	return ts->size;
}

uint64_t trace_sender_sent(const struct trace_sender *ts)
{
	return ts->sent;
}

struct trace_sender_stats trace_sender_stats(const struct trace_sender *ts)
{
	return ts->stats;
}

void trace_sender_set_sink(struct trace_sender *ts,
			   const struct trace_sink *sink)
{
	ts->sink = sink;
}

static void take_interval(struct trace_sender *ts, long interval_s)
{
	long ms;

	if (interval_s <= 0)
		return;
	ms = interval_s * 1000;
	if (ms > TRACE_SENDER_MAX_INTERVAL_MS)
		ms = TRACE_SENDER_MAX_INTERVAL_MS;
	ts->interval_ms = ms;
	/* gitlab-runner's setUpdateInterval. */
	if (ts->opts.dynamic_force_send) {
		ms *= TRACE_SENDER_FORCE_SEND_FACTOR;
		if (ms < ts->opts.force_send_ms)
			ms = ts->opts.force_send_ms;
		if (ms > TRACE_SENDER_MAX_FORCE_SEND_MS)
			ms = TRACE_SENDER_MAX_FORCE_SEND_MS;
		ts->force_send_ms = ms;
	}
}

/* ---- one PATCH of the next chunk ---- */

static int patch_next(struct trace_sender *ts, gl_trace_cb cb)
{
	struct gl_trace_patch p = { 0 };
	uint64_t left = ts->size - ts->sent;
	size_t len = left > GL_TRACE_PATCH_LIMIT ? GL_TRACE_PATCH_LIMIT :
		(size_t)left;
	const char *data;

	/* No PATCH is in flight: chunk_buf is free to change or go. */
	if (ts->sent >= ts->mem_off) {
		/* All of it in memory: no read (the call copies it, as mem
		 * moves while it is in flight). */
		data = ts->mem + (ts->sent - ts->mem_off);
		ts->stats.patches_from_memory++;
		free(ts->chunk_buf);
		ts->chunk_buf = NULL;
		ts->chunk_cap = 0;
	} else if (ts->sent + len <= ts->file_len) {
		/*
		 * All of it in the file, which only grows: libcurl reads it
		 * from there as it sends (no read into memory here).
		 */
		data = NULL;
		p.from_fd = true;
		p.fd = ts->fd;
		p.fd_offset = ts->sent;
		ts->stats.patches_from_file++;
		ts->stats.file_read += len;
		free(ts->chunk_buf);
		ts->chunk_buf = NULL;
		ts->chunk_cap = 0;
	} else {
		if (read_log(ts, ts->sent, len) != 0)
			return CR_ERR_IO;
		data = ts->chunk_buf;
		/* Unchanged until the call ends: sent without a copy. */
		p.data_stable = true;
		ts->stats.patches_from_file++;
	}
	p.job_id = ts->opts.job_id;
	p.token = ts->token;
	p.offset = ts->sent;
	p.data = data;
	p.len = len;
	p.debug_trace = ts->opts.debug_trace;
	return gl_patch_trace(ts->opts.client, &p, cb, ts, &ts->call);
}

static void put_state(struct trace_sender *ts, enum gl_job_state state,
		      gl_update_cb cb)
{
	struct gl_job_update u = { 0 };
	char checksum[24];

	u.info = ts->opts.info;
	u.job_id = ts->opts.job_id;
	u.token = ts->token;
	u.state = state;
	if (state == GL_STATE_FAILED) {
		u.failure_reason = ts->final.failure_reason;
		u.exit_code = ts->final.exit_code;
	}
	if (ts->finishing) {
		u.checksum = ts->final.checksum;
		u.bytesize = ts->final.bytesize;
	} else if (ts->size) {
		/*
		 * The sink's running CRC is over exactly the bytes it gave
		 * this sender: one pass over the log, not two.
		 */
		if (ts->sink && trace_sink_bytesize(ts->sink) == ts->size) {
			trace_sink_checksum(ts->sink, checksum);
			u.checksum = checksum;
		}
		u.bytesize = ts->size;
	}
	if (gl_update_job(ts->opts.client, &u, cb, ts, &ts->call) != 0)
		ts->call = NULL;
}

/* ---- while the job runs ---- */

static void tell_cancel(struct trace_sender *ts, enum trace_sender_cancel kind)
{
	if (ts->events.on_cancel)
		ts->events.on_cancel(ts->events.ctx, kind);
}

static void on_periodic_patch(struct gl_trace_reply *reply, void *ctx)
{
	struct trace_sender *ts = ctx;

	ts->call = NULL;
	take_interval(ts, reply->interval_s);
	switch (reply->outcome) {
	case GL_TRACE_OK:
		ts->sent = reply->offset;
		ts->last_ok_ms = loop_now_ms(ts->loop);
		break;
	case GL_TRACE_RANGE_MISMATCH:
		ts->sent = reply->offset <= ts->size ? reply->offset : 0;
		break;
	case GL_TRACE_CANCEL:
		ts->sent = reply->offset;
		tell_cancel(ts, TRACE_SENDER_CANCEL_GRACEFUL);
		break;
	case GL_TRACE_ABORT:
		tell_cancel(ts, TRACE_SENDER_ABORT);
		break;
	case GL_TRACE_NOT_FOUND:
	case GL_TRACE_FAILED:
		log_warn("sending the log of job %lld failed: %s",
			 (long long)ts->opts.job_id, reply->message.data);
		break;
	}
	if (ts->finishing)
		final_step(ts);
}

static void on_keepalive(struct gl_update_reply *reply, void *ctx)
{
	struct trace_sender *ts = ctx;

	ts->call = NULL;
	if (reply->outcome == GL_UPDATE_OK)
		ts->last_ok_ms = loop_now_ms(ts->loop);
	if (reply->outcome == GL_UPDATE_ABORT)
		tell_cancel(ts, TRACE_SENDER_ABORT);
	else if (reply->cancel_requested)
		tell_cancel(ts, TRACE_SENDER_CANCEL_GRACEFUL);
	if (ts->finishing)
		final_step(ts);
}

static long on_tick(struct loop *loop, void *ctx)
{
	struct trace_sender *ts = ctx;

	if (ts->finishing) {
		ts->tick_timer = 0;
		return LOOP_TIMER_STOP;
	}
	if (!ts->call) {
		if (ts->size > ts->sent) {
			if (patch_next(ts, on_periodic_patch) != 0)
				ts->call = NULL;
		} else if (loop_now_ms(loop) - ts->last_ok_ms >=
			   (uint64_t)ts->force_send_ms) {
			put_state(ts, GL_STATE_RUNNING, on_keepalive);
		}
	}
	return ts->interval_ms;
}

void trace_sender_start(struct trace_sender *ts)
{
	ts->last_ok_ms = loop_now_ms(ts->loop);
	if (!ts->tick_timer)
		ts->tick_timer = loop_add_timer(ts->loop, ts->interval_ms,
						on_tick, ts);
}

/* ---- the final update (spec 5.4) ---- */

static void final_done(struct trace_sender *ts, bool delivered)
{
	if (ts->done)
		return;
	ts->done = true;
	ts->events.on_done(ts->events.ctx, delivered);
}

static long on_retry(struct loop *loop, void *ctx)
{
	struct trace_sender *ts = ctx;

	(void)loop;
	ts->retry_timer = 0;
	final_step(ts);
	return LOOP_TIMER_STOP;
}

static void final_later(struct trace_sender *ts, long delay_ms)
{
	if (!ts->retry_timer)
		ts->retry_timer = loop_add_timer(ts->loop, delay_ms, on_retry,
						 ts);
}

static void attempt_failed(struct trace_sender *ts, const char *why)
{
	long delay = ts->opts.final_backoff_ms;
	int i;

	ts->attempt++;
	log_warn("final update of job %lld failed (attempt %d of %d): %s",
		 (long long)ts->opts.job_id, ts->attempt,
		 ts->opts.final_attempts, why);
	if (ts->attempt >= ts->opts.final_attempts) {
		final_done(ts, false);
		return;
	}
	for (i = 1; i < ts->attempt && delay < 60L * 60 * 1000; i++)
		delay *= 2;
	final_later(ts, delay);
}

/*
 * A 416 in the final phase.  Resend from where the server says its copy
 * ends, as gitlab-runner does, or from 0 when its Range is missing,
 * unreadable or beyond what was sent.  gitlab-runner does that for ever;
 * a server that never takes the log would keep the job (and a shutdown)
 * waiting, so after TRACE_SENDER_FINAL_RANGE_RETRIES the final update
 * goes without the rest of the log.
 */
static void final_range_mismatch(struct trace_sender *ts,
				 const struct gl_trace_reply *reply)
{
	bool usable = reply->range_known && reply->offset <= ts->size;

	if (++ts->range_mismatches > TRACE_SENDER_FINAL_RANGE_RETRIES) {
		log_warn("job %lld: GitLab refused the log's range %d times: sending the final update without the rest of the log (%llu of %llu bytes taken)",
			 (long long)ts->opts.job_id, ts->range_mismatches,
			 (unsigned long long)ts->sent,
			 (unsigned long long)ts->size);
		ts->stop_trace = true;
		final_step(ts);
		return;
	}
	if (!usable)
		log_warn("job %lld: GitLab answered 416 with %s Range: sending the log again from the start",
			 (long long)ts->opts.job_id,
			 reply->range_known ? "a too large" : "no usable");
	ts->sent = usable ? reply->offset : 0;
	final_later(ts, ts->interval_ms);
}

static void on_final_patch(struct gl_trace_reply *reply, void *ctx)
{
	struct trace_sender *ts = ctx;

	ts->call = NULL;
	take_interval(ts, reply->interval_s);
	switch (reply->outcome) {
	case GL_TRACE_OK:
	case GL_TRACE_CANCEL:
		ts->sent = reply->offset;
		final_step(ts);
		break;
	case GL_TRACE_RANGE_MISMATCH:
		final_range_mismatch(ts, reply);
		break;
	case GL_TRACE_ABORT:
	case GL_TRACE_NOT_FOUND:
		ts->stop_trace = true;
		final_step(ts);
		break;
	case GL_TRACE_FAILED:
		attempt_failed(ts, reply->message.data);
		break;
	}
}

static void on_final_put(struct gl_update_reply *reply, void *ctx)
{
	struct trace_sender *ts = ctx;

	ts->call = NULL;
	take_interval(ts, reply->interval_s);
	switch (reply->outcome) {
	case GL_UPDATE_OK:
		final_done(ts, true);
		break;
	case GL_UPDATE_ABORT:
		/* The server no longer wants this job: nothing to deliver. */
		final_done(ts, true);
		break;
	case GL_UPDATE_ACCEPTED:
		final_later(ts, ts->interval_ms);
		break;
	case GL_UPDATE_TRACE_RESET:
		ts->sent = 0;
		final_later(ts, ts->interval_ms);
		break;
	case GL_UPDATE_FAILED:
		attempt_failed(ts, reply->message.data);
		break;
	}
}

static void final_step(struct trace_sender *ts)
{
	if (ts->done || ts->call || ts->retry_timer)
		return;
	if (!ts->stop_trace && ts->sent < ts->size) {
		if (patch_next(ts, on_final_patch) != 0) {
			ts->call = NULL;
			attempt_failed(ts, "cannot read the log back");
		}
		return;
	}
	put_state(ts, ts->final.state, on_final_put);
	if (!ts->call)
		attempt_failed(ts, "cannot build the final update");
}

void trace_sender_finish(struct trace_sender *ts,
			 const struct trace_sender_final *final)
{
	if (ts->finishing)
		return;
	ts->finishing = true;
	ts->final = *final;
	ts->final.failure_reason = final->failure_reason ?
		xstrdup(final->failure_reason) : NULL;
	ts->final.checksum = final->checksum ? xstrdup(final->checksum) : NULL;
	ts->interval_ms = ts->opts.interval_ms;
	if (ts->tick_timer) {
		loop_cancel_timer(ts->loop, ts->tick_timer);
		ts->tick_timer = 0;
	}
	/* A request still in flight continues the sequence when it ends. */
	final_step(ts);
}
