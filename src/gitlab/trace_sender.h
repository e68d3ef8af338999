/*
 * The trace sender: keeps a job's log in an unlinked temporary file and
 * sends it to GitLab as gitlab-runner does (spec 4.3 and 5.4): one PATCH of
 * at most 1 MiB per tick, the interval the server asks for, a keep-alive
 * PUT when nothing was sent for 30 s, and at the end the final update,
 * repeated until the server has the whole log and the result.
 *
 * The caller does:
 *  1. trace_sender_new(); the job's trace sink gets
 *     trace_sender_consumer() as its consumer;
 *  2. trace_sender_start() once the job runs: periodic sends begin;
 *     Job-Status answers reach events.on_cancel;
 *  3. trace_sender_finish() with the final state once the job is done;
 *     events.on_done is called once when the server took it (or gave up);
 *  4. trace_sender_free() (inside on_done is fine).
 *
 * Memory stays bounded whatever the log size: the log's tail is kept in
 * memory up to memory_limit and PATCHes are sent from there; what does not
 * fit goes to the file (the overflow) and is read back one chunk at a time.
 * The keep-alive checksum is the sink's (trace_sender_set_sink()): the log
 * is checksummed once.
 */
#ifndef CR_TRACE_SENDER_H
#define CR_TRACE_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "gitlab/api.h"
#include "job/trace.h"

struct loop;
struct trace_sender;

/* Ticks and limits of spec 4.3; tests may shorten the first two. */
#define TRACE_SENDER_INTERVAL_MS 3000L
#define TRACE_SENDER_FORCE_SEND_MS 30000L
#define TRACE_SENDER_MAX_INTERVAL_MS (15L * 60 * 1000)
/* gitlab-runner's DefaultFinalUpdateRetryLimit. */
#define TRACE_SENDER_FINAL_ATTEMPTS 10
/* FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL: GitLab's interval times 4,
 * at most 30 minutes (gitlab-runner's TraceForceSendUpdateIntervalMultiplier
 * and MaxTraceForceSendInterval). */
#define TRACE_SENDER_FORCE_SEND_FACTOR 4
#define TRACE_SENDER_MAX_FORCE_SEND_MS (30L * 60 * 1000)
/*
 * The most of the log held in memory: a backlog of up to 256 KiB (85 KB/s
 * of output at the 3 s interval) is PATCHed from memory.  A larger one
 * reads back from the file, through a 1 MiB chunk buffer: a full PATCH
 * limit here would hold 2 MiB per chatty job for little gain.
 */
#define TRACE_SENDER_MEMORY_LIMIT ((size_t)256 << 10)
/*
 * 416 answers taken in the final phase before the final update goes
 * without the rest of the log (gitlab-runner resends for ever).
 */
#define TRACE_SENDER_FINAL_RANGE_RETRIES 5

enum trace_sender_cancel {
	TRACE_SENDER_CANCEL_GRACEFUL,	/* Job-Status: canceling */
	TRACE_SENDER_ABORT,		/* 403, canceled, failed */
};

struct trace_sender_events {
	void (*on_cancel)(void *ctx, enum trace_sender_cancel kind);
	/* delivered: the server answered the final update with 200 (or said
	 * it no longer wants the job); false: we gave up after retries. */
	void (*on_done)(void *ctx, bool delivered);
	void *ctx;
};

struct trace_sender_options {
	struct gl_client *client;	/* borrowed */
	const struct gl_info *info;	/* borrowed */
	int64_t job_id;
	const char *token;		/* job token; copied, wiped on free */
	bool debug_trace;
	/* 0: the TRACE_SENDER_* defaults. */
	long interval_ms;
	long force_send_ms;
	/*
	 * FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL: a keep-alive after
	 * TRACE_SENDER_FORCE_SEND_FACTOR times GitLab's update interval of
	 * silence, no less than force_send_ms, no more than
	 * TRACE_SENDER_MAX_FORCE_SEND_MS; force_send_ms alone otherwise.
	 */
	bool dynamic_force_send;
	long final_backoff_ms;		/* first wait after a failed attempt */
	/* Tries of the final update (job_status_final_update_retry_limit);
	 * 0: TRACE_SENDER_FINAL_ATTEMPTS. */
	int final_attempts;
	size_t memory_limit;		/* 0: TRACE_SENDER_MEMORY_LIMIT */
};

int trace_sender_new(struct loop *loop, const struct trace_sender_options *o,
		     const struct trace_sender_events *events,
		     struct trace_sender **out, struct buf *err);
void trace_sender_free(struct trace_sender *ts);

/* Bytes written here are what the server must end up holding. */
struct trace_consumer trace_sender_consumer(struct trace_sender *ts);

/*
 * The sink whose consumer this sender is (borrowed; it must live until
 * trace_sender_finish()): keep-alive updates carry its checksum when it
 * has given this sender every byte it counted.  Without one they carry
 * only the size.
 */
void trace_sender_set_sink(struct trace_sender *ts,
			   const struct trace_sink *sink);

void trace_sender_start(struct trace_sender *ts);

struct trace_sender_final {
	enum gl_job_state state;	/* GL_STATE_SUCCESS or GL_STATE_FAILED */
	const char *failure_reason;	/* mapped; copied */
	int exit_code;
	const char *checksum;		/* copied */
	uint64_t bytesize;
};

void trace_sender_finish(struct trace_sender *ts,
			 const struct trace_sender_final *final);

/* Bytes in the log and bytes the server acknowledged. */
uint64_t trace_sender_size(const struct trace_sender *ts);
uint64_t trace_sender_sent(const struct trace_sender *ts);

/* Where the log's bytes went and came from (bench and tests). */
struct trace_sender_stats {
	uint64_t file_written;		/* bytes moved to the file */
	uint64_t file_read;		/* bytes read back from it */
	uint64_t patches_from_memory;	/* PATCHes sent without a read */
	uint64_t patches_from_file;	/* PATCHes with part from the file */
};

struct trace_sender_stats trace_sender_stats(const struct trace_sender *ts);

#endif
