#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitlab/trace_sender.h"
#include "job/crc32.h"
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

	int fd;			/* unlinked temp file holding the log */
	/*
	 * The log's tail not yet written to fd.  The sink hands on a masked
	 * line in several pieces (text, "[MASKED]", text...), and a write(2)
	 * per piece was most of crunner's time on a log with URLs in it.
	 */
	char *wbuf;
	size_t wlen, wmax;	/* wmax: the most it ever held (wiped on free) */
	uint64_t size, sent;
	/*
	 * The checksum of bytes [0, crc_off) of the log, for the keep-alive
	 * updates.  It is taken from the chunks as they are read back to be
	 * sent (a keep-alive goes out only once everything was sent), not
	 * as the sink writes: the sink has its own over the same bytes, and
	 * two passes were 10% of crunner's time on a 1 GiB log.
	 */
	uint32_t crc;
	uint64_t crc_off;
	/*
	 * Full-size chunks are read into this one buffer while a backlog is
	 * sent: a malloc and free of 1 MiB per PATCH made glibc give the
	 * heap back and fault it in again each time (0.6 CPU-s per GiB).
	 * Dropped as soon as a smaller chunk (the end of the backlog) goes.
	 */
	char *chunk_buf;
	int write_error;

	long interval_ms;
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

/* The write-behind buffer of the log file. */
#define TRACE_SENDER_WBUF ((size_t)64 << 10)

static int write_all(struct trace_sender *ts, const char *data, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(ts->fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!ts->write_error)
				log_error("cannot write the log of job %lld: %s",
					  (long long)ts->opts.job_id,
					  strerror(errno));
			ts->write_error = 1;
			return CR_ERR_IO;
		}
		done += (size_t)n;
	}
	return 0;
}

/* Writes the buffered tail to fd, so fd holds all size bytes. */
static int flush_log(struct trace_sender *ts)
{
	size_t n = ts->wlen;

	if (!n)
		return 0;
	ts->wlen = 0;
	return write_all(ts, ts->wbuf, n);
}

static int consumer_write(void *ctx, const char *data, size_t len)
{
	struct trace_sender *ts = ctx;
	int r;

	if (ts->wlen + len > TRACE_SENDER_WBUF) {
		if ((r = flush_log(ts)) != 0)
			return r;
	}
	if (len >= TRACE_SENDER_WBUF) {
		if ((r = write_all(ts, data, len)) != 0)
			return r;
	} else {
		if (!ts->wbuf)
			ts->wbuf = xmalloc(TRACE_SENDER_WBUF);
		memcpy(ts->wbuf + ts->wlen, data, len);
		ts->wlen += len;
		if (ts->wlen > ts->wmax)
			ts->wmax = ts->wlen;
	}
	ts->size += len;
	return 0;
}

/* Extends the checksum over data (the log's bytes at off) past crc_off. */
static void crc_cover(struct trace_sender *ts, const char *data, uint64_t off,
		      size_t len)
{
	size_t skip;

	if (off > ts->crc_off || off + len <= ts->crc_off)
		return;
	skip = (size_t)(ts->crc_off - off);
	ts->crc = crc32_update(ts->crc, data + skip, len - skip);
	ts->crc_off = off + len;
}

/* Brings the checksum up to the whole log (what was not read back yet). */
static int crc_catch_up(struct trace_sender *ts)
{
	char chunk[16384];

	if (flush_log(ts) != 0)
		return CR_ERR_IO;
	while (ts->crc_off < ts->size) {
		uint64_t left = ts->size - ts->crc_off;
		size_t want = left < sizeof(chunk) ? (size_t)left :
			sizeof(chunk);
		ssize_t n = pread(ts->fd, chunk, want, (off_t)ts->crc_off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return CR_ERR_IO;
		ts->crc = crc32_update(ts->crc, chunk, (size_t)n);
		ts->crc_off += (uint64_t)n;
	}
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
	ts->interval_ms = ts->opts.interval_ms;
	ts->crc = CRC32_INIT;
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
	if (ts->wbuf)
		freezero(ts->wbuf, ts->wmax);
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

static void take_interval(struct trace_sender *ts, long interval_s)
{
	long ms;

	if (interval_s <= 0)
		return;
	ms = interval_s * 1000;
	if (ms > TRACE_SENDER_MAX_INTERVAL_MS)
		ms = TRACE_SENDER_MAX_INTERVAL_MS;
	ts->interval_ms = ms;
}

/* ---- one PATCH of the next chunk ---- */

static int patch_next(struct trace_sender *ts, gl_trace_cb cb)
{
	struct gl_trace_patch p = { 0 };
	uint64_t left = ts->size - ts->sent;
	size_t len = left > GL_TRACE_PATCH_LIMIT ? GL_TRACE_PATCH_LIMIT :
		(size_t)left;
	char *chunk;
	ssize_t n;
	int r;

	if (flush_log(ts) != 0)
		return CR_ERR_IO;
	if (len == GL_TRACE_PATCH_LIMIT) {
		if (!ts->chunk_buf)
			ts->chunk_buf = xmalloc(GL_TRACE_PATCH_LIMIT);
		chunk = ts->chunk_buf;
	} else {
		free(ts->chunk_buf);
		ts->chunk_buf = NULL;
		chunk = xmalloc(len);
	}
	n = pread(ts->fd, chunk, len, (off_t)ts->sent);
	if (n <= 0) {
		if (chunk != ts->chunk_buf)
			free(chunk);
		return CR_ERR_IO;
	}
	crc_cover(ts, chunk, ts->sent, (size_t)n);
	p.job_id = ts->opts.job_id;
	p.token = ts->token;
	p.offset = ts->sent;
	p.data = chunk;
	p.len = (size_t)n;
	p.debug_trace = ts->opts.debug_trace;
	r = gl_patch_trace(ts->opts.client, &p, cb, ts, &ts->call);
	if (chunk != ts->chunk_buf)
		free(chunk);	/* the call copied it */
	return r;
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
		if (crc_catch_up(ts) == 0) {
			snprintf(checksum, sizeof(checksum), "crc32:%08x",
				 ts->crc);
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
			   (uint64_t)ts->opts.force_send_ms) {
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
		 TRACE_SENDER_FINAL_ATTEMPTS, why);
	if (ts->attempt >= TRACE_SENDER_FINAL_ATTEMPTS) {
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
