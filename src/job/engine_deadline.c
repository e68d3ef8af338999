/*
 * prepare_timeout and get_sources_timeout ([[runners]]), as
 * gitlab-runner's GetPrepareTimeout and GetGetSourcesTimeout
 * (common/build.go): one deadline from the job's start over the
 * executor's preparation (its hooks and their retries) and
 * prepare_script, one from the first get_sources try over all of them
 * (clear_worktree included).  Unset, or longer than the job's timeout:
 * only the job's timeout applies (the latter said in crunner's log, as
 * gitlab-runner does).  When one passes the job fails as
 * job_execution_timeout with "prepare timeout: exceeded timeout of 30s"
 * and, as in gitlab-runner, neither after_script nor the cache and
 * artifact uploads run; cleanup does.
 */
#include <string.h>

#include "config/config.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/banned.h"

static const char *const phase_names[] = {
	[JOB_DEADLINE_NONE] = "",
	[JOB_DEADLINE_PREPARE] = "prepare",
	[JOB_DEADLINE_GET_SOURCES] = "get sources",
};

static long on_deadline(struct loop *loop, void *ctx)
{
	struct job *job = ctx;
	struct buf why = BUF_INIT;

	(void)loop;
	job->deadline_timer = 0;
	(void)buf_addf(&why, "%s timeout: exceeded timeout of ",
		       phase_names[job->deadline]);
	(void)config_format_duration(job->deadline_ms, &why);
	job_set_failure(job, "job_execution_timeout", 0, "%s", why.data);
	buf_release(&why);
	job->prepare_failed = true;
	job_stop_for_timeout(job);
	return LOOP_TIMER_STOP;
}

/* The configured deadline, or 0 when the job's own timeout decides. */
static int64_t effective_ms(const struct job *job, const char *key,
			    int64_t ms)
{
	int64_t job_ms = job->timeout_s * 1000;
	struct buf a = BUF_INIT, b = BUF_INIT;

	if (ms <= 0)
		return 0;
	if (ms <= job_ms)
		return ms;
	(void)config_format_duration(ms, &a);
	(void)config_format_duration(job_ms, &b);
	log_warn("job %lld: %s (%s) exceeds job timeout (%s); using job timeout",
		 (long long)job->payload->id, key, a.data, b.data);
	buf_release(&a);
	buf_release(&b);
	return 0;
}

static void start(struct job *job, enum job_deadline which, int64_t ms)
{
	job_deadline_stop(job);
	if (!ms)
		return;
	job->deadline = which;
	job->deadline_ms = ms;
	job->deadline_timer = loop_add_timer(job->loop, (long)ms, on_deadline,
					     job);
}

void job_deadline_start(struct job *job)
{
	const struct runner_config *rc = job->settings.runner;

	start(job, JOB_DEADLINE_PREPARE,
	      effective_ms(job, "prepare_timeout", rc->prepare_timeout_ms));
}

void job_deadline_enter(struct job *job, const struct job_stage *stage)
{
	const struct runner_config *rc = job->settings.runner;
	bool sources = !strcmp(stage->name, "get_sources") ||
		!strcmp(stage->name, "clear_worktree");

	if (!strcmp(stage->name, "prepare_script"))
		return;	/* still preparing */
	if (sources && !job->deadline_sources_started) {
		job->deadline_sources_started = true;
		start(job, JOB_DEADLINE_GET_SOURCES,
		      effective_ms(job, "get_sources_timeout",
				   rc->get_sources_timeout_ms));
	} else if (!sources) {
		job_deadline_stop(job);
	}
}

void job_deadline_stop(struct job *job)
{
	if (job->deadline_timer)
		loop_cancel_timer(job->loop, job->deadline_timer);
	job->deadline_timer = 0;
	job->deadline = JOB_DEADLINE_NONE;
}
