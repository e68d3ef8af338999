/*
 * The executor's hooks around the stages (executor.h): CONFIG, whose
 * decisions (directories, shell, hostname) the job takes over, PREPARE,
 * and CLEANUP, which runs always before the job's result is final.
 */
#include <stdlib.h>

#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* The CONFIG hook's decisions: directories, variables, shell, banner. */
static int apply_settings(struct job *job, struct buf *err)
{
	const struct executor_settings *s = job->ops->settings ?
		job->ops->settings(job->ex) : NULL;
	int r;

	if (!s)
		return job_env_write_files(job, err);
	if (s->shell && (r = script_shell_parse(s->shell, &job->shell))) {
		buf_seterr(err, "shell '%s' is not supported by crunner",
			   s->shell);
		return r;
	}
	if (s->builds_dir) {
		free(job->exec_builds_dir);
		job->exec_builds_dir = xstrdup(s->builds_dir);
	}
	if (s->cache_dir) {
		free(job->cache_dir);
		job->cache_dir = xstrdup(s->cache_dir);
	}
	if (s->hostname && *s->hostname) {
		free(job->hostname);
		job->hostname = xstrdup(s->hostname);
	}
	if (s->builds_dir_is_shared >= 0)
		job->builds_dir_private = !s->builds_dir_is_shared;
	job->files_elsewhere = s->files_elsewhere;
	if (s->banner)
		trace_sink_line(job->sink, "%s", s->banner);
	if ((r = job_env_rebuild(job, err)) != 0)
		return r;
	return job_env_write_files(job, err);
}

/* A setup hook failed: the job does, and no stage but cleanup runs. */
static void hook_failed(struct job *job, int exit_status, int err,
			const char *why)
{
	job->prepare_failed = true;
	job->hook_failed = true;
	if (err == CR_ERR_TIMEOUT || err == CR_ERR_CANCELED ||
	    (!err && !exit_status))
		return;	/* set by the timeout timer, job_cancel(), ... */
	if (err) {
		/*
		 * A refusal by config.toml is said once, in "Job failed: ...",
		 * as gitlab-runner reports a BuildError from Prepare.
		 */
		if (err != CR_ERR_CONFIG)
			trace_sink_error(job->sink, "Preparation failed: %s",
					 why);
		job_set_failure(job, err == CR_ERR_CONFIG ?
				"runner_configuration_error" :
				"runner_system_failure", 0, "%s", why);
		return;
	}
	trace_sink_error(job->sink, "Preparation failed: exit status %d",
			 exit_status);
	job_set_failure(job, "script_failure", exit_status, "exit status %d",
		    exit_status);
}

static void on_hook_exit(void *ctx, int exit_status, int err)
{
	struct job *job = ctx;
	enum executor_hook which = (enum executor_hook)job->hook;
	struct buf msg = BUF_INIT;
	const char *why = job->stage_error.len ? job->stage_error.data :
		cr_strerror(err);

	job->hook = -1;
	if (which == EXECUTOR_HOOK_CLEANUP) {
		if (err || exit_status)
			trace_sink_warning(job->sink, "Cleanup script failed: %s",
					   err ? why : "non-zero exit status");
		if (job->prepare_retry_due)
			job_retry_prepare_wait(job);	/* then CONFIG again */
		else
			job_finish(job);
		return;
	}
	if (!err && !exit_status && !job->failed) {
		if (which == EXECUTOR_HOOK_PREPARE) {
			job_section_end(job, "prepare_executor");
			job_run_next_stage(job);
			return;
		}
		if (apply_settings(job, &msg) == 0) {
			job_start_hook(job, EXECUTOR_HOOK_PREPARE);
			buf_release(&msg);
			return;
		}
		err = CR_ERR_IO;
		why = msg.data;
	}
	if (job_retry_prepare(job, err, why)) {
		buf_release(&msg);
		return;
	}
	hook_failed(job, exit_status, err, why);
	buf_release(&msg);
	job_section_end(job, "prepare_executor");
	job_run_next_stage(job);
}

void job_start_hook(struct job *job, enum executor_hook which)
{
	struct executor_stage es = { 0 };
	struct buf err = BUF_INIT;

	es.on_output = job_stage_output;
	es.on_exit = on_hook_exit;
	es.ctx = job;
	es.error = &job->stage_error;
	buf_reset(&job->stage_error);
	job->hook = (int)which;
	if (executor_hook(job->ex, which, &es, &err) != 0) {
		job->hook = -1;
		if (which == EXECUTOR_HOOK_CLEANUP) {
			trace_sink_warning(job->sink, "Cleanup script failed: %s",
					   err.data);
			job_finish(job);
		} else {
			hook_failed(job, -1, CR_ERR_IO, err.data);
			job_section_end(job, "prepare_executor");
			job_run_next_stage(job);
		}
	}
	buf_release(&err);
}
