/*
 * Retries (spec 8.1, 8.2): get_sources, restore_cache and the like are
 * tried up to <STAGE>_ATTEMPTS times (1-10), with gitlab-runner's back-off
 * between tries, and get_sources' second try comes after clear_worktree;
 * the executor's preparation (its CONFIG and PREPARE hooks) is tried 3
 * times, 3 s apart, with its CLEANUP hook after each failed try.
 */
#include <stdlib.h>

#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/loop.h"
#include "util/backoff.h"
#include "util/error.h"
#include "util/banned.h"

#define MAX_STAGE_ATTEMPTS 10
/* gitlab-runner's PreparationRetries and PreparationRetryInterval. */
#define PREPARE_TRIES 3
#define PREPARE_RETRY_MS 3000L

unsigned job_attempts(const struct job *job, const char *var)
{
	const char *v;
	long n;

	if (!var)
		return 1;
	v = variables_get(&job->vars, var);
	n = v && *v ? strtol(v, NULL, 10) : 1;
	if (n < 1)
		n = 1;
	if (n > MAX_STAGE_ATTEMPTS)
		n = MAX_STAGE_ATTEMPTS;
	return (unsigned)n;
}

long job_retry_delay_ms(const struct job *job, unsigned failures)
{
	if (!variables_get_bool(&job->vars,
				"FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY", 1))
		return 0;
	return backoff_stage_retry_ms(failures);
}

static long on_retry(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->retry_timer = 0;
	job_run_next_stage(job);
	return LOOP_TIMER_STOP;
}

bool job_retry_stage(struct job *job, const struct job_stage *stage)
{
	size_t index = (size_t)(stage - job->stages);
	long delay;

	if (job->canceled || job->aborted || job->timed_out ||
	    ++job->stage_failures >= job_attempts(job, stage->attempts_var)) {
		job->stage_failures = 0;
		return false;
	}
	/* The stage again; its before_retry companion first, once. */
	job->next_stage = index;
	if (job->stage_failures == 1 && index > 0 &&
	    job->stages[index - 1].before_retry) {
		job->next_stage = index - 1;
		job->before_retry_due = true;
	}
	delay = job_retry_delay_ms(job, job->stage_failures);
	if (delay > 0) {
		char text[32];

		backoff_format(delay, text, sizeof(text));
		trace_sink_info(job->sink, "Retrying in %s", text);
	}
	job->retry_timer = loop_add_timer(job->loop, delay, on_retry, job);
	return true;
}

static long on_prepare_retry(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->prepare_retry_timer = 0;
	if (job->failed) {
		/* canceled, or the deadline passed, while waiting */
		job->prepare_failed = true;
		job->hook_failed = true;
		job_section_end(job, "prepare_executor");
		job_run_next_stage(job);
		return LOOP_TIMER_STOP;
	}
	job_start_hook(job, EXECUTOR_HOOK_CONFIG);
	return LOOP_TIMER_STOP;
}

bool job_retry_prepare(struct job *job, int err, const char *why)
{
	/* A refusal by config.toml would only be refused again. */
	if (!err || err == CR_ERR_CANCELED || err == CR_ERR_TIMEOUT ||
	    err == CR_ERR_CONFIG || job->failed ||
	    ++job->prepare_failures >= PREPARE_TRIES)
		return false;
	trace_sink_error(job->sink, "Preparation failed: %s", why);
	trace_sink_info(job->sink, "Will be retried in %lds ...",
			PREPARE_RETRY_MS / 1000);
	job->prepare_retry_due = true;
	job_start_hook(job, EXECUTOR_HOOK_CLEANUP);
	return true;
}

void job_retry_prepare_wait(struct job *job)
{
	job->prepare_retry_due = false;
	/* A cancel during the CLEANUP hook does not wait. */
	job->prepare_retry_timer = loop_add_timer(job->loop,
		job->failed ? 0 : PREPARE_RETRY_MS, on_prepare_retry, job);
}

void job_retry_hurry(struct job *job)
{
	if (job->retry_timer) {
		loop_cancel_timer(job->loop, job->retry_timer);
		job->retry_timer = loop_add_timer(job->loop, 0, on_retry, job);
	}
	if (job->prepare_retry_timer) {
		loop_cancel_timer(job->loop, job->prepare_retry_timer);
		job->prepare_retry_timer = loop_add_timer(job->loop, 0,
							  on_prepare_retry, job);
	}
}
