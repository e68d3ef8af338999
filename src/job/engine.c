/*
 * The job engine's lifecycle: header, stages one after another through the
 * executor, footer, result.  Stage order and names are gitlab-runner's
 * (spec 8.1); what each stage's script holds lives in stage_*.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "gitlab/payload.h"
#include "autoscale/instance_group.h"
#include "job/engine.h"
#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/run_as.h"
#include "util/xalloc.h"
#include "version.h"
#include "util/banned.h"

#define DEFAULT_JOB_TIMEOUT_S 7200
/* gitlab-runner's AfterScriptTimeout. */
#define DEFAULT_AFTER_SCRIPT_TIMEOUT_MS (5 * 60 * 1000)

static const char *shell_label(enum script_shell shell)
{
	return shell == SCRIPT_SHELL_SH ? "sh" : "bash";
}

/* ---- outcome ---- */

/*
 * "exit status", or for the docker executor "exit code", or for the ssh
 * executor Go's ssh.ExitError "Process exited with status" (executor.h).
 */
static const char *exit_words(const struct job *job)
{
	if (job->ops && job->ops->exit_code_wording == EXECUTOR_WORDING_SSH)
		return "Process exited with status";
	return job->ops && job->ops->exit_code_wording ? "exit code" :
		"exit status";
}

void job_set_failure(struct job *job, const char *reason, int exit_code,
		     const char *fmt, ...)
{
	va_list ap;

	if (job->failed)
		return;	/* the first failure is the job's */
	job->failed = true;
	job->failure_reason = reason;
	job->exit_code = exit_code;
	/* The stage taken last is the one running or ending now. */
	job->failure_stage = job->next_stage ?
		&job->stages[job->next_stage - 1] : NULL;
	va_start(ap, fmt);
	(void)buf_vaddf(&job->failure_text, fmt, ap);
	va_end(ap);
}

void job_finish(struct job *job)
{
	struct job_result result = { 0 };

	if (job->finished)
		return;
	/* The executor's cleanup hook runs always, before the result. */
	if (job->ex && job->ops->hook && !job->cleanup_hook_done) {
		job->cleanup_hook_done = true;
		job_start_hook(job, EXECUTOR_HOOK_CLEANUP);
		return;
	}
	job->finished = true;
	job_deadline_stop(job);
	if (job->timeout_timer) {
		loop_cancel_timer(job->loop, job->timeout_timer);
		job->timeout_timer = 0;
	}
	if (!job->failed) {
		trace_sink_info(job->sink, "Job succeeded");
		result.state = JOB_STATE_SUCCESS;
	} else {
		if (job->failure_reason &&
		    !strcmp(job->failure_reason, "runner_system_failure"))
			trace_sink_error(job->sink,
					 "Job failed (system failure): %s",
					 job->failure_text.data);
		else
			trace_sink_error(job->sink, "Job failed: %s",
					 job->failure_text.data);
		result.state = JOB_STATE_FAILED;
		result.failure_reason = job->failure_reason;
		result.failure_message = job->failure_text.data;
		result.failure_stage = job->failure_stage ?
			job->failure_stage->name : "prepare_executor";
		result.failure_in_script = job->failure_stage &&
			job->failure_stage->is_user_script;
		result.exit_code = job->exit_code;
	}
	result.aborted = job->aborted;
	result.canceled = job->canceled || job->aborted;
	trace_sink_finish(job->sink);
	job->cb.on_finished(job->cb.ctx, &result);
}

/* ---- running stages ---- */

void job_stage_output(void *ctx, int is_stderr, const char *data,
			    size_t len)
{
	struct job *job = ctx;

	trace_sink_write(job->sink, TRACE_STREAM_JOB,
			 is_stderr ? TRACE_STDERR : TRACE_STDOUT, data, len);
}

static void format_timeout(int64_t ms, struct buf *out)
{
	(void)buf_addstr(out, "execution took longer than ");
	config_format_duration(ms, out);
	(void)buf_addstr(out, " seconds");
}

static void on_stage_exit(void *ctx, int exit_status, int err)
{
	struct job *job = ctx;
	const struct job_stage *stage = &job->stages[job->running];
	bool stage_timed_out = job->stage_timed_out;
	struct buf why = BUF_INIT;

	job->running = -1;
	job->stage_timed_out = false;
	job_cache_plan_drop(job);
	if (job->stage_timer) {
		loop_cancel_timer(job->loop, job->stage_timer);
		job->stage_timer = 0;
	}
	job_section_end(job, stage->name);
	if (stage_timed_out)
		format_timeout(job->stage_timeout_ms, &why);

	if (stage->before_retry) {
		/* clear_worktree: its result does not matter, the retry does */
	} else if (stage->phase == PHASE_MAIN && !stage_timed_out &&
		   (exit_status != 0 || (err && err != CR_ERR_CANCELED &&
					 err != CR_ERR_TIMEOUT)) &&
		   job_retry_stage(job, stage)) {
		buf_release(&why);
		return;	/* tried again after the back-off */
	} else if (stage->phase == PHASE_AFTER) {
		if (stage_timed_out)
			trace_sink_warning(job->sink,
				"after_script failed, but job will continue unaffected: %s",
				why.data);
		else if (exit_status != 0 || err)
			trace_sink_warning(job->sink,
				"after_script failed, but job will continue unaffected: %s %d",
				exit_words(job), exit_status);
	} else if (stage_timed_out) {
		job->script_timed_out = true;
		job_set_failure(job, "job_execution_timeout", 0, "%s", why.data);
	} else if (err == CR_ERR_TIMEOUT) {
		/* set by the job's timeout timer */
	} else if (err == CR_ERR_CANCELED) {
		/* set by job_cancel() */
	} else if (err) {
		job_set_failure(job, "runner_system_failure", 0, "%s",
			    job->stage_error.len ? job->stage_error.data :
			    cr_strerror(err));
		if (!stage->is_user_script)
			job->prepare_failed = true;
	} else if (exit_status != 0) {
		job_set_failure(job, "script_failure", exit_status,
			    "%s %d", exit_words(job), exit_status);
		if (!stage->is_user_script)
			job->prepare_failed = true;
	}
	if (!exit_status && !err && !stage->before_retry)
		job->stage_failures = 0;
	buf_release(&why);
	job_run_next_stage(job);
}

static long on_native_done(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->native.done_timer = 0;
	job_native_stop(job);
	on_stage_exit(job, job->native.done_status, job->native.done_err);
	return LOOP_TIMER_STOP;
}

void job_native_done(struct job *job, int exit_status, int err)
{
	if (job->native.done_timer || job->running < 0)
		return;	/* already ending */
	job->native.done_status = exit_status;
	job->native.done_err = err;
	job->native.done_timer = loop_add_timer(job->loop, 0, on_native_done,
						job);
}

/* Stops the running stage, script or native, for reason. */
static void stop_running_stage(struct job *job, int reason)
{
	if (job->running < 0)
		return;
	if (job_stage_native(job, &job->stages[job->running])) {
		job_native_stop(job);
		job_native_done(job, -1, reason);
	} else {
		executor_cancel(job->ex, reason);
	}
}

static long on_stage_timeout(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->stage_timer = 0;
	if (job->running >= 0) {
		job->stage_timed_out = true;
		executor_cancel(job->ex, CR_ERR_TIMEOUT);
	}
	return LOOP_TIMER_STOP;
}

/*
 * The stage's own deadline: RUNNER_SCRIPT_TIMEOUT for the steps,
 * RUNNER_AFTER_SCRIPT_TIMEOUT (5 minutes unless set) for after_script.
 * The job's deadline still applies on top; 0 means none.
 */
static int64_t stage_timeout_ms(const struct job *job,
				const struct job_stage *stage)
{
	const char *name = NULL, *v;
	int64_t ms = 0;

	if (stage->is_user_script)
		name = "RUNNER_SCRIPT_TIMEOUT";
	else if (stage->phase == PHASE_AFTER)
		name = "RUNNER_AFTER_SCRIPT_TIMEOUT";
	if (!name)
		return 0;
	v = variables_get(&job->vars, name);
	if (v && *v) {
		if (config_parse_duration(v, &ms) != 0 || ms < 0) {
			trace_sink_warning(job->sink,
					   "ignoring %s=%s: not a duration such as 45m",
					   name, v);
			ms = 0;
		}
	}
	if (!ms && stage->phase == PHASE_AFTER)
		ms = DEFAULT_AFTER_SCRIPT_TIMEOUT_MS;
	return ms;
}

/* Whether a stage of this phase runs, given what happened so far. */
static bool stage_wanted(struct job *job, const struct job_stage *stage)
{
	if (stage->before_retry) {
		bool due = job->before_retry_due;

		job->before_retry_due = false;
		return due && !job->failed && !job->aborted;
	}
	switch (stage->phase) {
	case PHASE_MAIN:
		return !job->failed && !job->aborted;
	case PHASE_AFTER:
		return !job->prepare_failed && !job->aborted &&
		       !job->interrupted && !job->timed_out;
	case PHASE_POST:
		if (!job->post_decided) {
			/* The job's result so far picks the variants. */
			job->post_decided = true;
			job->post_on_failure = job->failed;
		}
		return job->ex && !job->aborted && !job->interrupted &&
		       !job->timed_out && !job->canceled &&
		       stage->on_failure == job->post_on_failure;
	case PHASE_CLEANUP:
		return true;
	}
	return false;
}

/*
 * Starts stage (wanted, prepared): true when it runs now (its end
 * continues the job), false when it had nothing to do or could not start
 * (said, and the job's failure set).
 */
static bool start_stage(struct job *job, const struct job_stage *stage)
{
	struct buf script = BUF_INIT, err = BUF_INIT;
	struct executor_stage es = { 0 };
	bool started = false;
	int r;

	if (job_stage_native(job, stage)) {
		if (!stage->has_work(job, stage))
			return false;	/* nothing to do: no section */
		job_section_start(job, stage->name, stage->description);
		job->running = (int)(stage - job->stages);
		memset(&job->native.item, 0,
		       sizeof(job->native) - offsetof(struct job_native, item));
		strvec_init(&job->native.keys);
		stage->start(job, stage);
		return true;	/* job_native_done() continues */
	}
	if ((r = stage->build(job, stage, &script, &err)) != 0) {
		trace_sink_error(job->sink, "%s", err.data);
		job_set_failure(job, "runner_system_failure", 0, "%s",
				err.data);
		job->prepare_failed = true;
		goto out;
	}
	if (!script.len)
		goto out;	/* nothing to do: no section */
	job_section_start(job, stage->name, stage->description);
	es.name = stage->name;
	es.script = script.data;
	es.script_len = script.len;
	es.on_output = job_stage_output;
	es.on_exit = on_stage_exit;
	es.ctx = job;
	es.error = &job->stage_error;
	buf_reset(&job->stage_error);
	job->running = (int)(stage - job->stages);
	if ((r = executor_run(job->ex, &es, &err)) != 0) {
		job->running = -1;
		job_section_end(job, stage->name);
		trace_sink_error(job->sink, "%s", err.data);
		job_set_failure(job, "runner_system_failure", 0, "%s",
				err.data);
		job->prepare_failed = true;
		goto out;
	}
	job->stage_timeout_ms = stage_timeout_ms(job, stage);
	if (job->stage_timeout_ms > 0)
		job->stage_timer = loop_add_timer(job->loop,
			(long)job->stage_timeout_ms, on_stage_timeout, job);
	started = true;	/* on_stage_exit continues */
out:
	buf_release(&script);
	buf_release(&err);
	return started;
}

void job_run_next_stage(struct job *job)
{
	while (job->next_stage < job->nr_stages) {
		const struct job_stage *stage = &job->stages[job->next_stage++];

		if (!stage_wanted(job, stage))
			continue;
		job_deadline_enter(job, stage);
		if (stage->prepare && stage->prepare(job, stage))
			return;	/* job_stage_prepared() continues */
		if (start_stage(job, stage))
			return;
	}
	job_finish(job);
}

void job_stage_prepared(struct job *job)
{
	/* The stage taken last; a cancel or timeout since would have
	 * stopped its prepare (stop_preparing_stage()). */
	if (!start_stage(job, &job->stages[job->next_stage - 1]))
		job_run_next_stage(job);
}

static long on_prepare_skipped(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->prepare_skip_timer = 0;
	job_run_next_stage(job);
	return LOOP_TIMER_STOP;
}

/*
 * A cancel or a timeout while a stage's prepare is under way: the stage
 * does not run; the job goes on (from the loop) with what comes after.
 */
static void stop_preparing_stage(struct job *job)
{
	if (job_cache_prepare_cancel(job) && !job->prepare_skip_timer)
		job->prepare_skip_timer = loop_add_timer(job->loop, 0,
							 on_prepare_skipped,
							 job);
}

static long on_timeout(struct loop *loop, void *ctx)
{
	struct job *job = ctx;
	struct buf why = BUF_INIT;

	(void)loop;
	job->timeout_timer = 0;
	format_timeout(job->timeout_s * 1000, &why);
	job_set_failure(job, "job_execution_timeout", 0, "%s", why.data);
	buf_release(&why);
	job_stop_for_timeout(job);
	return LOOP_TIMER_STOP;
}

void job_stop_for_timeout(struct job *job)
{
	job->timed_out = true;
	stop_preparing_stage(job);
	stop_running_stage(job, CR_ERR_TIMEOUT);
	job_retry_hurry(job);
	/* Setup hooks end with the job; its cleanup hook has a deadline. */
	if (job->hook >= 0 && job->hook != EXECUTOR_HOOK_CLEANUP)
		executor_cancel(job->ex, CR_ERR_TIMEOUT);
}

void job_current_stage(const struct job *job, const char **stage,
		       const char **executor_stage)
{
	const struct job_stage *last = NULL;

	*stage = "prepare_executor";
	*executor_stage = "created";
	if (!job)
		return;
	if (job->running >= 0)
		last = &job->stages[job->running];
	else if (job->next_stage > 0 && job->next_stage <= job->nr_stages)
		last = &job->stages[job->next_stage - 1];
	if (last)
		*stage = last->name;
	else if (job->secrets_run)
		*stage = "resolve_secrets";
	if (job->finished || job->hook == EXECUTOR_HOOK_CLEANUP)
		*executor_stage = "cleanup";
	else if (job->next_stage >= job->nr_stages && job->running < 0)
		*executor_stage = "finish";
	else
		*executor_stage = "prepare";
}

void job_cancel(struct job *job, enum job_cancel_kind kind)
{
	if (!job || job->finished)
		return;
	switch (kind) {
	case JOB_CANCEL_GRACEFUL:
		if (job->canceled)
			return;
		job->canceled = true;
		trace_sink_warning(job->sink,
				   "script canceled externally (UI, API)");
		job_set_failure(job, "unknown_failure", 0, "canceled");
		break;
	case JOB_CANCEL_ABORT:
		job->aborted = true;
		job_set_failure(job, "unknown_failure", 0, "canceled");
		break;
	case JOB_CANCEL_INTERRUPTED:
		job->interrupted = true;
		job->aborted = true;
		job_set_failure(job, "runner_interrupted", 0, "aborted: interrupted");
		break;
	}
	/* Only a user script is stopped gracefully; after_script may finish. */
	if (job->cache_offload &&
	    (kind != JOB_CANCEL_GRACEFUL ||
	     job->stages[job->next_stage - 1].phase == PHASE_MAIN))
		stop_preparing_stage(job);
	if (job->running >= 0 &&
	    (kind != JOB_CANCEL_GRACEFUL ||
	     job->stages[job->running].phase == PHASE_MAIN))
		stop_running_stage(job, CR_ERR_CANCELED);
	job_retry_hurry(job);
	job_secrets_stop(job);
	if (job->hook >= 0 && job->hook != EXECUTOR_HOOK_CLEANUP)
		executor_cancel(job->ex, CR_ERR_CANCELED);
}

static long on_start(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->start_timer = 0;
	if (job->ex && job->ops->hook && !job->hooks_started) {
		job->hooks_started = true;
		job_start_hook(job, EXECUTOR_HOOK_CONFIG);
		return LOOP_TIMER_STOP;
	}
	job_run_next_stage(job);
	return LOOP_TIMER_STOP;
}

static void print_header(struct job *job)
{
	const struct runner_config *rc = job->settings.runner;

	trace_sink_line(job->sink, "Running with crunner %s (%s)", CR_VERSION,
			CR_GIT_REVISION);
	trace_sink_line(job->sink, "  on %s %s, system ID: %s",
			rc->name ? rc->name : "", job->short_token,
			job->settings.system_id ? job->settings.system_id : "");
}

/*
 * prepare_executor: the executor's preparation in its section, then the
 * job's deadlines and the first stage (from the loop, on_start).
 */
void job_prepare_executor(struct job *job)
{
	const struct job_settings *settings = &job->settings;
	const struct runner_config *rc = settings->runner;
	const struct job_payload *payload = job->payload;
	struct trace_sink *sink = job->sink;
	struct executor_options eo = { 0 };
	char section_desc[128];
	struct buf user_err = BUF_INIT, config_err = BUF_INIT, err = BUF_INIT;
	int r = 0, user_r = 0, config_r = job->env_r;

	(void)buf_addstr(&config_err, job->env_err.len ? job->env_err.data : "");
	/* Resolved secrets join the variables (block B), and their files. */
	if (job->secret_vars.nr) {
		buf_reset(&config_err);
		config_r = job_env_rebuild(job, &config_err);
	}
	/* Only the shell executor switches users, as gitlab-runner's. */
	if (settings->user && *settings->user &&
	    !strcmp(job->ops->name, "shell"))
		user_r = run_as_resolve(settings->user, geteuid(),
					&job->run_as, &user_err);

	job_log_images(job);
	snprintf(section_desc, sizeof(section_desc),
		 "Preparing the \"%s\" executor", job->ops->name);
	job_section_start(job, "prepare_executor", section_desc);
	/* A backend with hooks prints its own line once configured. */
	if (!job->ops->hook)
		trace_sink_line(sink, "Using Shell (%s) executor...",
				shell_label(job->shell));
	eo.loop = job->loop;
	eo.builds_dir = job->builds_dir;
	eo.shell = job->shell;
	eo.runner = rc;
	eo.payload = payload;
	eo.variables = &job->vars;
	eo.git_strategy = job_git_strategy(job);
	eo.system_id = settings->system_id;
	eo.user = job->run_as;
	eo.instance = settings->instance;
	eo.instance_slot = settings->instance_slot;
	eo.host_cache = settings->host_cache;
	if (settings->autoscaled) {
		/* As gitlab-runner's autoscaler executor Prepare. */
		trace_sink_line(sink, "Preparing instance...");
		if (!settings->instance) {
			buf_seterr(&user_err, "%s", settings->instance_error ?
				   settings->instance_error :
				   "unable to acquire instance");
			user_r = CR_ERR_RETRY;
		}
	}
	if (config_r) {
		buf_seterr(&err, "%s", config_err.data);
		r = config_r;
	} else if (user_r) {
		buf_seterr(&err, "%s", user_err.data);
		r = user_r;
	} else {
		r = job->ops->prepare(&eo, &job->ex, &err);
	}
	buf_release(&user_err);
	buf_release(&config_err);
	/* With hooks, the files wait for the CONFIG hook's directories. */
	if (!r && !job->ops->hook)
		r = job_env_write_files(job, &err);
	if (r == CR_ERR_CONFIG) {
		/* Said once, in "Job failed: ...", as gitlab-runner's BuildError. */
		job_set_failure(job, "runner_configuration_error", 0, "%s",
				err.data);
		job->prepare_failed = true;
	} else if (r) {
		/* The job has a trace now: report through it. */
		trace_sink_error(sink, "%s", err.data);
		job_set_failure(job, "runner_system_failure", 0, "%s", err.data);
		job->prepare_failed = true;
	}
	buf_release(&err);
	/* Hooks end the section themselves (on_hook_exit). */
	if (!job->ex || !job->ops->hook)
		job_section_end(job, "prepare_executor");

	job->timeout_s = payload->runner_info.timeout > 0 ?
		payload->runner_info.timeout : DEFAULT_JOB_TIMEOUT_S;
	job->timeout_timer = loop_add_timer(job->loop,
					    (long)job->timeout_s * 1000,
					    on_timeout, job);
	if (!job->prepare_failed)
		job_deadline_start(job);
	/* Callbacks come from the loop, never from inside job_start(). */
	job->start_timer = loop_add_timer(job->loop, 0, on_start, job);
}

/* A job with secrets: resolve_secrets first, from the loop. */
static long on_secrets_start(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->start_timer = 0;
	if (job->failed) {	/* canceled before it began */
		job_finish(job);
		return LOOP_TIMER_STOP;
	}
	job_secrets_start(job);
	return LOOP_TIMER_STOP;
}

int job_start(struct loop *loop, const struct job_payload *payload,
	      const struct job_settings *settings, struct trace_sink *sink,
	      const struct job_callbacks *cb, struct job **out,
	      struct buf *err)
{
	const struct runner_config *rc = settings->runner;
	const char *executor_name = rc->executor ? rc->executor : "shell";
	struct job *job;
	int r = CR_ERR_INTERNAL;

	job = xcalloc(1, sizeof(*job));
	job->loop = loop;
	job->payload = payload;
	job->settings = *settings;
	job->sink = sink;
	job->cb = *cb;
	job->running = -1;
	job->hook = -1;
	buf_init(&job->stage_error, 0);
	buf_init(&job->env_err, 0);
	job->native.helper = (struct proc)PROC_INIT;
	strvec_init(&job->native.keys);
	variables_init(&job->vars);
	variables_init(&job->secret_vars);
	buf_init(&job->failure_text, 0);
	runner_short_token(rc->token, job->short_token);

	if ((r = script_shell_parse(rc->shell ? rc->shell : "bash",
				    &job->shell)) != 0) {
		buf_seterr(err, "shell '%s' is not supported by crunner",
			   rc->shell);
		goto fail;
	}
	job->ops = executor_find(executor_name);
	if (!job->ops) {
		buf_seterr(err, "executor '%s' is not supported by crunner",
			   executor_name);
		r = CR_ERR_UNSUPPORTED;
		goto fail;
	}
	job->builds_dir_private = job->ops->private_builds_dir;
	/* A refused GIT_CLONE_PATH fails the job, through its trace. */
	if ((job->env_r = job_env_setup(job, &job->env_err)) != 0 &&
	    job->env_r != CR_ERR_CONFIG) {
		buf_seterr(err, "%s", job->env_err.data);
		r = job->env_r;
		goto fail;
	}
	job_plan_stages(job);

	print_header(job);
	*out = job;
	if (payload->has_secrets) {
		/* resolve_secrets, then job_prepare_executor(). */
		job->start_timer = loop_add_timer(loop, 0, on_secrets_start,
						  job);
		return 0;
	}
	job_prepare_executor(job);
	return 0;
fail:
	job_free(job);
	return r;
}

void job_free(struct job *job)
{
	size_t i;

	if (!job)
		return;
	if (job->timeout_timer)
		loop_cancel_timer(job->loop, job->timeout_timer);
	job_deadline_stop(job);
	if (job->start_timer)
		loop_cancel_timer(job->loop, job->start_timer);
	if (job->stage_timer)
		loop_cancel_timer(job->loop, job->stage_timer);
	if (job->retry_timer)
		loop_cancel_timer(job->loop, job->retry_timer);
	if (job->prepare_retry_timer)
		loop_cancel_timer(job->loop, job->prepare_retry_timer);
	job_secrets_free(job);
	(void)job_cache_prepare_cancel(job);
	if (job->prepare_skip_timer)
		loop_cancel_timer(job->loop, job->prepare_skip_timer);
	job_cache_plan_drop(job);
	job_native_stop(job);
	if (job->native.done_timer)
		loop_cancel_timer(job->loop, job->native.done_timer);
	strvec_clear(&job->native.keys);
	executor_cleanup(job->ex);
	for (i = 0; i < job->nr_stages; i++) {
		free(job->stages[i].name);
		free(job->stages[i].description);
	}
	free(job->stages);
	if (job->var_paths)
		for (i = 0; i < job->vars.nr; i++)
			free(job->var_paths[i]);
	free(job->var_paths);
	variables_release(&job->vars);
	variables_release(&job->secret_vars);
	buf_release(&job->env_err);
	free(job->builds_dir);
	free(job->project_dir);
	free(job->tmp_project_dir);
	buf_release(&job->failure_text);
	buf_release(&job->stage_error);
	free(job->exec_builds_dir);
	run_as_free(job->run_as);
	free(job->cache_dir);
	free(job->hostname);
	free(job);
}
