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
#include "job/engine.h"
#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "version.h"
#include "util/banned.h"

#define DEFAULT_JOB_TIMEOUT_S 7200
/* gitlab-runner's AfterScriptTimeout. */
#define DEFAULT_AFTER_SCRIPT_TIMEOUT_MS (5 * 60 * 1000)

static void run_next_stage(struct job *job);

static const char *shell_label(enum script_shell shell)
{
	return shell == SCRIPT_SHELL_SH ? "sh" : "bash";
}

static void add_stage(struct job *job, const char *name,
		      const char *description, enum job_stage_phase phase,
		      job_stage_build_fn build, size_t step,
		      bool is_user_script)
{
	struct job_stage *s;

	job->stages = xreallocarray(job->stages, job->nr_stages + 1,
				    sizeof(*job->stages));
	s = &job->stages[job->nr_stages++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->description = xstrdup(description);
	s->phase = phase;
	s->build = build;
	s->step = step;
	s->is_user_script = is_user_script;
}

static void add_native_stage(struct job *job, const char *name,
			     const char *description,
			     enum job_stage_phase phase,
			     job_stage_has_work_fn has_work,
			     job_stage_start_fn start, bool on_failure,
			     job_stage_build_fn script,
			     bool (*as_script)(const struct job *job))
{
	struct job_stage *s;

	add_stage(job, name, description, phase, script, 0, false);
	s = &job->stages[job->nr_stages - 1];
	s->has_work = has_work;
	s->start = start;
	s->on_failure = on_failure;
	s->as_script = as_script;
}

/* Whether the stage runs inside crunner rather than as a script. */
static bool stage_native(const struct job *job, const struct job_stage *s)
{
	return s->start && !(s->as_script && s->as_script(job));
}

/* ---- stage scripts the engine composes itself ---- */

static int build_script(struct job *job, struct buf *out,
			const struct strvec *pre, const struct strvec *commands,
			const struct strvec *post, const char *job_status,
			const char *notice, struct buf *err)
{
	struct script_spec spec = { 0 };
	size_t nr_env;
	int r;

	spec.env = job_env_script_vars(job, &nr_env);
	spec.nr_env = nr_env;
	spec.job_status = job_status;
	spec.workdir = job->project_dir;
	spec.notice = notice;
	spec.pre = pre;
	spec.commands = commands;
	spec.post = post;
	if (variables_get_bool(&job->vars, "CI_DEBUG_TRACE", 0) &&
	    !job->settings.runner->debug_trace_disabled)
		spec.flags |= SCRIPT_TRACE;
	r = script_generate(&spec, job->shell, out, err);
	free((void *)spec.env);
	return r;
}

static int stage_prepare_script(struct job *job, const struct job_stage *stage,
				struct buf *out, struct buf *err)
{
	struct buf body = BUF_INIT;
	char host[256] = "unknown";
	int r;

	(void)stage;
	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	if ((r = buf_addf(&body, "Running on %s...",
			  job->hostname ? job->hostname : host)) != 0 ||
	    (r = script_echo(out, job->shell, SCRIPT_ECHO_PLAIN, body.data)) != 0)
		goto done;
	/* script_echo() wrote a body; wrap it into a whole script. */
	buf_reset(&body);
	if ((r = buf_add(&body, out->data, out->len)) != 0)
		goto done;
	buf_reset(out);
	r = script_wrap(out, job->shell, 0, body.data, body.len);
done:
	if (r)
		buf_seterr(err, "cannot build the prepare script: %s",
			   cr_strerror(r));
	buf_release(&body);
	return r;
}

/* The runner's pre/post_build_script config values, one command each. */
static void config_script_lines(const char *script, struct strvec *out)
{
	if (script && *script)
		strvec_push(out, script);
}

static int stage_step(struct job *job, const struct job_stage *stage,
		      struct buf *out, struct buf *err)
{
	const struct job_step *step = &job->payload->steps[stage->step];
	struct strvec pre = STRVEC_INIT, post = STRVEC_INIT;
	int r;

	if (!step->script.nr)
		return 0;
	config_script_lines(job->settings.runner->pre_build_script, &pre);
	config_script_lines(job->settings.runner->post_build_script, &post);
	r = build_script(job, out, &pre, &step->script, &post, NULL, NULL, err);
	strvec_clear(&pre);
	strvec_clear(&post);
	return r;
}

static const char *job_status_word(const struct job *job)
{
	if (job->canceled)
		return "canceled";
	if (job->timed_out || job->script_timed_out)
		return "timedout";
	return job->failed ? "failed" : "success";
}

static int stage_after_script(struct job *job, const struct job_stage *stage,
			      struct buf *out, struct buf *err)
{
	const struct job_step *step = &job->payload->steps[stage->step];

	if (!step->script.nr)
		return 0;
	return build_script(job, out, NULL, &step->script, NULL,
			    job_status_word(job), "Running after script...",
			    err);
}

static int stage_cleanup(struct job *job, const struct job_stage *stage,
			 struct buf *out, struct buf *err)
{
	/* An executor whose environment may be elsewhere gets a script. */
	if (job_stage_scripts(job))
		return job_cleanup_script(job, stage, out, err);
	(void)out;
	(void)err;
	/*
	 * File variables live on this machine (the shell executor): remove
	 * them here rather than through a script, so a broken shell cannot
	 * leave secrets behind.
	 */
	job_env_remove_files(job);
	return 0;
}

static void plan_stages(struct job *job)
{
	const struct job_payload *p = job->payload;
	size_t i;

	add_stage(job, "prepare_script", "Preparing environment", PHASE_MAIN,
		  stage_prepare_script, 0, false);
	add_stage(job, "get_sources", "Getting source from Git repository",
		  PHASE_MAIN, job_stage_get_sources, 0, false);
	add_native_stage(job, "restore_cache", "Restoring cache", PHASE_MAIN,
			 job_restore_cache_has_work, job_restore_cache_start,
			 false, job_restore_cache_script, job_stage_scripts);
	add_native_stage(job, "download_artifacts", "Downloading artifacts",
			 PHASE_MAIN, job_download_has_work, job_download_start,
			 false, job_download_script, job_artifact_scripts);
	for (i = 0; i < p->nr_steps; i++) {
		struct buf name = BUF_INIT, desc = BUF_INIT;
		const char *step = p->steps[i].name ? p->steps[i].name : "";
		size_t k;

		if (!strcmp(step, "after_script"))
			continue;
		(void)buf_addf(&name, "step_%s", step);
		for (k = 0; k < name.len; k++)
			if (name.data[k] >= 'A' && name.data[k] <= 'Z')
				name.data[k] = (char)(name.data[k] - 'A' + 'a');
		(void)buf_addf(&desc, "Executing \"%s\" stage of the job script",
			       name.data);
		add_stage(job, name.data, desc.data, PHASE_MAIN, stage_step, i,
			  true);
		buf_release(&name);
		buf_release(&desc);
	}
	for (i = 0; i < p->nr_steps; i++)
		if (p->steps[i].name && !strcmp(p->steps[i].name, "after_script"))
			add_stage(job, "after_script", "Running after_script",
				  PHASE_AFTER, stage_after_script, i, false);
	add_native_stage(job, "archive_cache", "Saving cache for successful job",
			 PHASE_POST, job_archive_cache_has_work,
			 job_archive_cache_start, false,
			 job_archive_cache_script, job_stage_scripts);
	add_native_stage(job, "archive_cache_on_failure",
			 "Saving cache for failed job", PHASE_POST,
			 job_archive_cache_has_work, job_archive_cache_start,
			 true, job_archive_cache_script, job_stage_scripts);
	add_native_stage(job, "upload_artifacts_on_success",
			 "Uploading artifacts for successful job", PHASE_POST,
			 job_upload_has_work, job_upload_start, false,
			 job_upload_script, job_artifact_scripts);
	add_native_stage(job, "upload_artifacts_on_failure",
			 "Uploading artifacts for failed job", PHASE_POST,
			 job_upload_has_work, job_upload_start, true,
			 job_upload_script, job_artifact_scripts);
	add_stage(job, "cleanup_file_variables",
		  "Cleaning up project directory and file based variables",
		  PHASE_CLEANUP, stage_cleanup, 0, false);
}

/* ---- outcome ---- */

static void set_failure(struct job *job, const char *reason, int exit_code,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void set_failure(struct job *job, const char *reason, int exit_code,
			const char *fmt, ...)
{
	va_list ap;

	if (job->failed)
		return;	/* the first failure is the job's */
	job->failed = true;
	job->failure_reason = reason;
	job->exit_code = exit_code;
	va_start(ap, fmt);
	(void)buf_vaddf(&job->failure_text, fmt, ap);
	va_end(ap);
}

static void start_hook(struct job *job, enum executor_hook which);

static void finish(struct job *job)
{
	struct job_result result = { 0 };

	if (job->finished)
		return;
	/* The executor's cleanup hook runs always, before the result. */
	if (job->ex && job->ops->hook && !job->cleanup_hook_done) {
		job->cleanup_hook_done = true;
		start_hook(job, EXECUTOR_HOOK_CLEANUP);
		return;
	}
	job->finished = true;
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
		result.exit_code = job->exit_code;
	}
	result.aborted = job->aborted;
	result.canceled = job->canceled || job->aborted;
	trace_sink_finish(job->sink);
	job->cb.on_finished(job->cb.ctx, &result);
}

/* ---- running stages ---- */

static void on_stage_output(void *ctx, int is_stderr, const char *data,
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
	if (job->stage_timer) {
		loop_cancel_timer(job->loop, job->stage_timer);
		job->stage_timer = 0;
	}
	trace_sink_section_end(job->sink, stage->name);
	if (stage_timed_out)
		format_timeout(job->stage_timeout_ms, &why);

	if (stage->phase == PHASE_AFTER) {
		if (stage_timed_out)
			trace_sink_warning(job->sink,
				"after_script failed, but job will continue unaffected: %s",
				why.data);
		else if (exit_status != 0 || err)
			trace_sink_warning(job->sink,
				"after_script failed, but job will continue unaffected: exit status %d",
				exit_status);
	} else if (stage_timed_out) {
		job->script_timed_out = true;
		set_failure(job, "job_execution_timeout", 0, "%s", why.data);
	} else if (err == CR_ERR_TIMEOUT) {
		/* set by the job's timeout timer */
	} else if (err == CR_ERR_CANCELED) {
		/* set by job_cancel() */
	} else if (err) {
		set_failure(job, "runner_system_failure", 0, "%s",
			    job->stage_error.len ? job->stage_error.data :
			    cr_strerror(err));
		if (!stage->is_user_script)
			job->prepare_failed = true;
	} else if (exit_status != 0) {
		set_failure(job, "script_failure", exit_status,
			    "exit status %d", exit_status);
		if (!stage->is_user_script)
			job->prepare_failed = true;
	}
	buf_release(&why);
	run_next_stage(job);
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
	if (stage_native(job, &job->stages[job->running])) {
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

static void run_next_stage(struct job *job)
{
	struct buf script = BUF_INIT, err = BUF_INIT;
	int r;

	while (job->next_stage < job->nr_stages) {
		const struct job_stage *stage = &job->stages[job->next_stage++];
		struct executor_stage es = { 0 };

		if (!stage_wanted(job, stage))
			continue;
		if (stage_native(job, stage)) {
			if (!stage->has_work(job, stage))
				continue;	/* nothing to do: no section */
			trace_sink_section_start(job->sink, stage->name,
						 stage->description);
			job->running = (int)(stage - job->stages);
			memset(&job->native.item, 0,
			       sizeof(job->native) -
			       offsetof(struct job_native, item));
			strvec_init(&job->native.keys);
			stage->start(job, stage);
			buf_release(&script);
			buf_release(&err);
			return;	/* job_native_done() continues */
		}
		buf_reset(&script);
		if ((r = stage->build(job, stage, &script, &err)) != 0) {
			trace_sink_error(job->sink, "%s", err.data);
			set_failure(job, "runner_system_failure", 0, "%s",
				    err.data);
			job->prepare_failed = true;
			buf_reset(&err);
			continue;
		}
		if (!script.len)
			continue;	/* nothing to do: no section */
		trace_sink_section_start(job->sink, stage->name,
					 stage->description);
		es.name = stage->name;
		es.script = script.data;
		es.script_len = script.len;
		es.on_output = on_stage_output;
		es.on_exit = on_stage_exit;
		es.ctx = job;
		es.error = &job->stage_error;
		buf_reset(&job->stage_error);
		job->running = (int)(stage - job->stages);
		if ((r = executor_run(job->ex, &es, &err)) != 0) {
			job->running = -1;
			trace_sink_section_end(job->sink, stage->name);
			trace_sink_error(job->sink, "%s", err.data);
			set_failure(job, "runner_system_failure", 0, "%s",
				    err.data);
			job->prepare_failed = true;
			buf_reset(&err);
			continue;
		}
		job->stage_timeout_ms = stage_timeout_ms(job, stage);
		if (job->stage_timeout_ms > 0)
			job->stage_timer = loop_add_timer(job->loop,
				(long)job->stage_timeout_ms, on_stage_timeout, job);
		buf_release(&script);
		buf_release(&err);
		return;	/* on_stage_exit continues */
	}
	buf_release(&script);
	buf_release(&err);
	finish(job);
}

static long on_timeout(struct loop *loop, void *ctx)
{
	struct job *job = ctx;
	struct buf why = BUF_INIT;

	(void)loop;
	job->timeout_timer = 0;
	format_timeout(job->timeout_s * 1000, &why);
	set_failure(job, "job_execution_timeout", 0, "%s", why.data);
	buf_release(&why);
	job->timed_out = true;
	stop_running_stage(job, CR_ERR_TIMEOUT);
	/* Setup hooks end with the job; its cleanup hook has a deadline. */
	if (job->hook >= 0 && job->hook != EXECUTOR_HOOK_CLEANUP)
		executor_cancel(job->ex, CR_ERR_TIMEOUT);
	return LOOP_TIMER_STOP;
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
		set_failure(job, "unknown_failure", 0, "canceled");
		break;
	case JOB_CANCEL_ABORT:
		job->aborted = true;
		set_failure(job, "unknown_failure", 0, "canceled");
		break;
	case JOB_CANCEL_INTERRUPTED:
		job->interrupted = true;
		job->aborted = true;
		set_failure(job, "runner_interrupted", 0, "aborted: interrupted");
		break;
	}
	/* Only a user script is stopped gracefully; after_script may finish. */
	if (job->running >= 0 &&
	    (kind != JOB_CANCEL_GRACEFUL ||
	     job->stages[job->running].phase == PHASE_MAIN))
		stop_running_stage(job, CR_ERR_CANCELED);
	if (job->hook >= 0 && job->hook != EXECUTOR_HOOK_CLEANUP)
		executor_cancel(job->ex, CR_ERR_CANCELED);
}

/* ---- executor hooks (executor.h): config, prepare, cleanup ---- */

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
		trace_sink_error(job->sink, "Preparation failed: %s", why);
		set_failure(job, "runner_system_failure", 0, "%s", why);
		return;
	}
	trace_sink_error(job->sink, "Preparation failed: exit status %d",
			 exit_status);
	set_failure(job, "script_failure", exit_status, "exit status %d",
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
		finish(job);
		return;
	}
	if (!err && !exit_status && !job->failed) {
		if (which == EXECUTOR_HOOK_PREPARE) {
			trace_sink_section_end(job->sink, "prepare_executor");
			run_next_stage(job);
			return;
		}
		if (apply_settings(job, &msg) == 0) {
			start_hook(job, EXECUTOR_HOOK_PREPARE);
			buf_release(&msg);
			return;
		}
		err = CR_ERR_IO;
		why = msg.data;
	}
	hook_failed(job, exit_status, err, why);
	buf_release(&msg);
	trace_sink_section_end(job->sink, "prepare_executor");
	run_next_stage(job);
}

static void start_hook(struct job *job, enum executor_hook which)
{
	struct executor_stage es = { 0 };
	struct buf err = BUF_INIT;

	es.on_output = on_stage_output;
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
			finish(job);
		} else {
			hook_failed(job, -1, CR_ERR_IO, err.data);
			trace_sink_section_end(job->sink, "prepare_executor");
			run_next_stage(job);
		}
	}
	buf_release(&err);
}

static long on_start(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->start_timer = 0;
	if (job->ex && job->ops->hook && !job->hooks_started) {
		job->hooks_started = true;
		start_hook(job, EXECUTOR_HOOK_CONFIG);
		return LOOP_TIMER_STOP;
	}
	run_next_stage(job);
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

int job_start(struct loop *loop, const struct job_payload *payload,
	      const struct job_settings *settings, struct trace_sink *sink,
	      const struct job_callbacks *cb, struct job **out,
	      struct buf *err)
{
	const struct runner_config *rc = settings->runner;
	const char *executor_name = rc->executor ? rc->executor : "shell";
	struct executor_options eo = { 0 };
	struct job *job;
	char section_desc[128];
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
	job->native.helper = (struct proc)PROC_INIT;
	strvec_init(&job->native.keys);
	variables_init(&job->vars);
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
	if ((r = job_env_setup(job, err)) != 0)
		goto fail;
	plan_stages(job);

	print_header(job);
	snprintf(section_desc, sizeof(section_desc),
		 "Preparing the \"%s\" executor", job->ops->name);
	trace_sink_section_start(sink, "prepare_executor", section_desc);
	/* A backend with hooks prints its own line once configured. */
	if (!job->ops->hook)
		trace_sink_line(sink, "Using Shell (%s) executor...",
				shell_label(job->shell));
	eo.loop = loop;
	eo.builds_dir = job->builds_dir;
	eo.shell = job->shell;
	eo.runner = rc;
	eo.payload = payload;
	eo.variables = &job->vars;
	r = job->ops->prepare(&eo, &job->ex, err);
	/* With hooks, the files wait for the CONFIG hook's directories. */
	if (!r && !job->ops->hook)
		r = job_env_write_files(job, err);
	if (r) {
		/* The job has a trace now: report through it, not err. */
		trace_sink_error(sink, "%s", err->data);
		set_failure(job, "runner_system_failure", 0, "%s", err->data);
		buf_reset(err);
		job->prepare_failed = true;
	}
	/* Hooks end the section themselves (on_hook_exit). */
	if (!job->ex || !job->ops->hook)
		trace_sink_section_end(sink, "prepare_executor");

	job->timeout_s = payload->runner_info.timeout > 0 ?
		payload->runner_info.timeout : DEFAULT_JOB_TIMEOUT_S;
	job->timeout_timer = loop_add_timer(loop, (long)job->timeout_s * 1000,
					    on_timeout, job);
	/* Callbacks come from the loop, never from inside job_start(). */
	job->start_timer = loop_add_timer(loop, 0, on_start, job);
	*out = job;
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
	if (job->start_timer)
		loop_cancel_timer(job->loop, job->start_timer);
	if (job->stage_timer)
		loop_cancel_timer(job->loop, job->stage_timer);
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
	free(job->builds_dir);
	free(job->project_dir);
	free(job->tmp_project_dir);
	buf_release(&job->failure_text);
	buf_release(&job->stage_error);
	free(job->exec_builds_dir);
	free(job->cache_dir);
	free(job->hostname);
	free(job);
}
