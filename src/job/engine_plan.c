/*
 * The job's stage list, in gitlab-runner's order and with its names (spec
 * 8.1), and the scripts the engine composes itself: prepare, the steps,
 * after_script and cleanup.  What the other stages hold lives in stage_*.c.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

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

bool job_stage_native(const struct job *job, const struct job_stage *s)
{
	return s->start && !(s->as_script && s->as_script(job));
}

/* ---- stage scripts the engine composes itself ---- */

unsigned job_script_flags(const struct job *job)
{
	unsigned flags = 0;

	/*
	 * gitlab-runner's IsFeatureFlagOn: the job's variable, else the
	 * runner's [runners.feature_flags] (both are in job->vars, the job's
	 * value last).
	 */
	if (variables_get_bool(&job->vars, "FF_ENABLE_BASH_EXIT_CODE_CHECK", 0))
		flags |= SCRIPT_EXIT_CODE_CHECK;
	if (variables_get_bool(&job->vars, "FF_USE_LEGACY_BASH_EVAL", 0))
		flags |= SCRIPT_LEGACY_EVAL;
	/* gitlab-runner's writeCommands: only where GitLab shows sections. */
	if (variables_get_bool(&job->vars, "FF_POSIXLY_CORRECT_ESCAPES", 0))
		flags |= SCRIPT_POSIX_ESCAPES;
	if (variables_get_bool(&job->vars, "FF_SCRIPT_SECTIONS", 0) &&
	    job->payload->features.trace_sections)
		flags |= SCRIPT_SECTIONS;
	if (variables_get_bool(&job->vars, "CI_DEBUG_TRACE", 0) &&
	    !job->settings.runner->debug_trace_disabled)
		flags |= SCRIPT_TRACE;
	return flags;
}

static int build_script(struct job *job, struct buf *out,
			const struct strvec *pre, const struct strvec *commands,
			const struct strvec *post, const char *job_status,
			const char *notice, const char *section_prefix,
			struct buf *err)
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
	spec.section_prefix = section_prefix;
	spec.flags = job_script_flags(job);
	r = script_generate(&spec, job->shell, out, err);
	free((void *)spec.env);
	return r;
}

/* gitlab-runner's prepare line: "Running on <host>..." */
static int prepare_line(const struct job *job, struct buf *out)
{
	char host[256] = "unknown";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	return buf_addf(out, "Running on %s...",
			job->hostname ? job->hostname : host);
}

static int stage_prepare_script(struct job *job, const struct job_stage *stage,
				struct buf *out, struct buf *err)
{
	struct buf body = BUF_INIT;
	int r;

	(void)stage;
	if ((r = prepare_line(job, &body)) != 0 ||
	    (r = script_echo(out, job->shell, SCRIPT_ECHO_PLAIN, body.data)) != 0)
		goto done;
	/* script_echo() wrote a body; wrap it into a whole script. */
	buf_reset(&body);
	if ((r = buf_add(&body, out->data, out->len)) != 0)
		goto done;
	buf_reset(out);
	r = script_wrap(out, job->shell,
				job_script_flags(job) & SCRIPT_LEGACY_EVAL,
				body.data, body.len);
done:
	if (r)
		buf_seterr(err, "cannot build the prepare script: %s",
			   cr_strerror(r));
	buf_release(&body);
	return r;
}

/*
 * Where the executor says so (executor_ops.native_prepare: the shell
 * executor), the prepare line is what the script's echo would print, on
 * its stdout, without a shell started just for it.
 */
static bool prepare_has_work(struct job *job, const struct job_stage *stage)
{
	(void)job;
	(void)stage;
	return true;
}

static void prepare_start(struct job *job, const struct job_stage *stage)
{
	struct buf line = BUF_INIT;

	(void)stage;
	if (prepare_line(job, &line) == 0 && buf_addch(&line, '\n') == 0)
		job_stage_output(job, 0, line.data, line.len);
	buf_release(&line);
	job_native_done(job, 0, 0);
}

static bool prepare_as_script(const struct job *job)
{
	return !job->ops || !job->ops->native_prepare;
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
	r = build_script(job, out, &pre, &step->script, &post, NULL, NULL,
			 "script_step", err);
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
			    "after_script_step", err);
}

static int stage_cleanup(struct job *job, const struct job_stage *stage,
			 struct buf *out, struct buf *err)
{
	/* An executor whose environment may be elsewhere gets a script. */
	if (job_stage_scripts(job))
		return job_cleanup_script(job, stage, out, err);
	/*
	 * File variables live on this machine (the shell executor): remove
	 * them here rather than through a script, so a broken shell cannot
	 * leave secrets behind.
	 */
	job_env_remove_files(job);
	{
		/*
		 * FF_ENABLE_JOB_CLEANUP's git commands and clean_git_config's
		 * removals need a script.
		 */
		struct buf body = BUF_INIT;
		int r = job_cleanup_build_dir(job, &body);

		if (!r)
			r = job_git_config_cleanup(job, &body);
		if (!r && body.len)
			r = script_wrap(out, job->shell,
					job_script_flags(job) &
					SCRIPT_LEGACY_EVAL,
					body.data, body.len);
		if (r)
			buf_seterr(err, "cannot build the cleanup script: %s",
				   cr_strerror(r));
		buf_release(&body);
		return r;
	}
}

void job_plan_stages(struct job *job)
{
	const struct job_payload *p = job->payload;
	size_t i;

	add_native_stage(job, "prepare_script", "Preparing environment",
			 PHASE_MAIN, prepare_has_work, prepare_start, false,
			 stage_prepare_script, prepare_as_script);
	add_stage(job, "clear_worktree",
		  "Deleting all tracked and untracked files due to source fetch failure",
		  PHASE_MAIN, job_stage_clear_worktree, 0, false);
	job->stages[job->nr_stages - 1].before_retry = true;
	add_native_stage(job, "get_sources", "Getting source from Git repository",
			 PHASE_MAIN, job_get_sources_has_work,
			 job_get_sources_start, false, job_stage_get_sources,
			 job_get_sources_as_script);
	job->stages[job->nr_stages - 1].attempts_var = "GET_SOURCES_ATTEMPTS";
	add_native_stage(job, "restore_cache", "Restoring cache", PHASE_MAIN,
			 job_restore_cache_has_work, job_restore_cache_start,
			 false, job_restore_cache_script, job_stage_scripts);
	job->stages[job->nr_stages - 1].attempts_var = "RESTORE_CACHE_ATTEMPTS";
	job->stages[job->nr_stages - 1].prepare = job_cache_prepare;
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
	job->stages[job->nr_stages - 1].prepare = job_cache_prepare;
	add_native_stage(job, "archive_cache_on_failure",
			 "Saving cache for failed job", PHASE_POST,
			 job_archive_cache_has_work, job_archive_cache_start,
			 true, job_archive_cache_script, job_stage_scripts);
	job->stages[job->nr_stages - 1].prepare = job_cache_prepare;
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
