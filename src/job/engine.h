/*
 * The job engine: one job payload in, stages run through an executor,
 * output through the trace sink, one result out.  It never knows whether
 * the payload came from GitLab or from a local pipeline.
 *
 * The caller (a job source) does:
 *  1. builds a struct job_settings (the [[runners]] entry and what the
 *     manager decided: system id, concurrency slot);
 *  2. creates the trace sink whose consumer sends or prints the log;
 *  3. job_start(): the job runs on the loop from here on; the payload,
 *     settings and sink are borrowed until on_finished returns;
 *  4. may call job_cancel() at any time (GitLab said canceling/canceled, or
 *     the runner is shutting down);
 *  5. receives on_finished exactly once, from the loop, with the result;
 *     the sink has been finished (trace_sink_finish()) by then;
 *  6. job_free() (inside on_finished is fine).
 */
#ifndef CR_ENGINE_H
#define CR_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

struct buf;
struct job;
struct job_payload;
struct loop;
struct runner_config;
struct trace_sink;

struct job_settings {
	const struct runner_config *runner;
	const char *system_id;		/* may be NULL */
	int concurrent_id;		/* CI_CONCURRENT_ID: slot in this runner */
	int concurrent_project_id;	/* CI_CONCURRENT_PROJECT_ID */
	/* Where builds_dir is relative to and defaults under; NULL: cwd. */
	const char *work_dir;
};

enum job_state {
	JOB_STATE_SUCCESS,
	JOB_STATE_FAILED,
};

struct job_result {
	enum job_state state;
	/* JOB_STATE_FAILED: the runner-side reason, before mapping through
	 * the job's features.failure_reasons (gitlab/failure_reason.h). */
	const char *failure_reason;
	int exit_code;		/* the failing script's, 0 when none */
	/* The job was aborted (GitLab said canceled/failed, or the runner
	 * stops): the caller should not expect the server to want a result. */
	bool aborted;
	bool canceled;		/* stopped on request (graceful or not) */
};

struct job_callbacks {
	void (*on_finished)(void *ctx, const struct job_result *result);
	void *ctx;
};

enum job_cancel_kind {
	/* Job-Status canceling: stop the script, run after_script, report. */
	JOB_CANCEL_GRACEFUL,
	/* Job-Status canceled/failed or 403: stop everything at once. */
	JOB_CANCEL_ABORT,
	/* The runner itself was interrupted (SIGTERM/SIGINT). */
	JOB_CANCEL_INTERRUPTED,
};

/*
 * Starts the job.  Returns 0 (on_finished will be called once), or a
 * negative CR_ERR_* with one sentence in err when the job could not even
 * start (no callback then): the caller reports it as a system failure.
 */
int job_start(struct loop *loop, const struct job_payload *payload,
	      const struct job_settings *settings, struct trace_sink *sink,
	      const struct job_callbacks *cb, struct job **out,
	      struct buf *err);

void job_cancel(struct job *job, enum job_cancel_kind kind);

/* Frees the job; one still running is killed first without callback. */
void job_free(struct job *job);

#endif
