/*
 * What native stages share: the archive helper process (crunner's own
 * artifacts-helper verb, forked without exec, so zip work never blocks
 * the loop other jobs share, and its memory goes away with it), watched
 * on the loop with its output going to the job's trace.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/verbs.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

bool job_when_matches(const char *when, bool on_failure)
{
	if (!when || !*when || !strcmp(when, "on_success"))
		return !on_failure;
	if (!strcmp(when, "on_failure"))
		return on_failure;
	return !strcmp(when, "always");
}

static void helper_finish(struct job *job)
{
	struct job_native *n = &job->native;
	void (*done)(struct job *, int) = n->helper_done;
	int status = n->helper.exit_status;

	if (!n->helper_eof || !n->helper_exited)
		return;	/* both, in either order */
	n->helper_running = false;
	n->helper_done = NULL;
	proc_release(&n->helper);
	n->helper = (struct proc)PROC_INIT;
	done(job, status);
}

static void on_helper_output(struct loop *loop, int fd, unsigned events,
			     void *ctx)
{
	struct job *job = ctx;
	char chunk[8192];
	ssize_t r;

	(void)events;
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r > 0) {
			trace_sink_write(job->sink, TRACE_STREAM_JOB,
					 TRACE_STDOUT, chunk, (size_t)r);
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		break;	/* end of file or error: the helper is done writing */
	}
	loop_unwatch_fd(loop, fd);
	close(fd);
	job->native.helper.out = -1;
	job->native.helper_eof = true;
	helper_finish(job);
}

static void on_helper_exit(struct loop *loop, pid_t pid, int status,
			   void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	(void)pid;
	proc_reaped(&job->native.helper, status);
	job->native.helper_exited = true;
	helper_finish(job);
}

int job_helper_start(struct job *job, const struct strvec *args,
		     const char *dir,
		     void (*done)(struct job *job, int exit_status))
{
	struct job_native *n = &job->native;
	struct buf err = BUF_INIT;
	size_t i;

	n->helper = (struct proc)PROC_INIT;
	strvec_push(&n->helper.args, job->settings.helper_program ?
		    job->settings.helper_program : "/proc/self/exe");
	/*
	 * This very binary's helper is forked, not exec'ed: the same code
	 * without loading every library again (~10 ms a stage otherwise).
	 */
	if (!job->settings.helper_program)
		n->helper.run_in_child = artifacts_helper_main;
	strvec_push(&n->helper.args, "artifacts-helper");
	for (i = 0; i < args->nr; i++)
		strvec_push(&n->helper.args, args->v[i]);
	for (i = 0; i < n->helper_env.nr; i++)
		strvec_push(&n->helper.env, n->helper_env.v[i]);
	strvec_clear(&n->helper_env);
	n->helper.dir = dir;
	/* The job's user archives and extracts: its files, its rights. */
	n->helper.user = job->run_as;
	n->helper.out = PROC_FD_PIPE;
	n->helper.flags = PROC_NEW_PGRP | PROC_STDERR_TO_STDOUT;
	if (proc_start(&n->helper, &err) != 0) {
		trace_sink_error(job->sink, "cannot start the archive helper: %s",
				 err.data);
		proc_release(&n->helper);
		buf_release(&err);
		return -1;
	}
	buf_release(&err);
	n->helper_running = true;
	n->helper_eof = n->helper_exited = false;
	n->helper_done = done;
	if (loop_watch_fd(job->loop, n->helper.out, LOOP_READ,
			  on_helper_output, job) != 0 ||
	    loop_watch_child(job->loop, n->helper.pid, on_helper_exit,
			     job) != 0) {
		/* Cannot happen short of a full loop; do not leave it behind. */
		trace_sink_error(job->sink, "cannot watch the archive helper");
		job_native_stop(job);
		return -1;
	}
	return 0;
}

void job_native_stop(struct job *job)
{
	struct job_native *n = &job->native;

	if (n->helper_running) {
		if (n->helper.out >= 0)
			loop_unwatch_fd(job->loop, n->helper.out);
		if (!n->helper_exited) {
			loop_unwatch_child(job->loop, n->helper.pid);
			proc_kill_group(&n->helper, SIGKILL);
			proc_wait(&n->helper);
		}
		proc_release(&n->helper);
		n->helper = (struct proc)PROC_INIT;
		n->helper_running = false;
		n->helper_done = NULL;
	}
	if (n->wait_timer) {
		loop_cancel_timer(job->loop, n->wait_timer);
		n->wait_timer = 0;
	}
	if (n->op) {
		job->settings.artifact_store->cancel(
			job->settings.artifact_store_ctx, n->op);
		n->op = NULL;
	}
	if (n->tmp_path) {
		unlink(n->tmp_path);
		free(n->tmp_path);
		n->tmp_path = NULL;
	}
	strvec_clear(&n->keys);
	strvec_clear(&n->helper_env);
}

/* ---- the same work as stage scripts (stage_scripts_everywhere) ---- */

/*
 * What a stage script runs: $CRUNNER_HELPER_BIN when the environment sets
 * it (a driver whose jobs run elsewhere, with crunner installed at another
 * path), else this very binary's path.
 */
#define HELPER_BIN_ENV "CRUNNER_HELPER_BIN"

bool job_stage_scripts(const struct job *job)
{
	return job->ops && job->ops->stage_scripts_everywhere && job->ex &&
	       !job->hook_failed;
}

void job_say(struct job *job, struct buf *body, enum script_echo_kind kind,
	     const char *fmt, ...)
{
	struct buf text = BUF_INIT;
	va_list ap;

	if (kind == SCRIPT_ECHO_WARNING)
		(void)buf_addstr(&text, body ? "WARNING: " : "");
	else if (kind == SCRIPT_ECHO_ERROR)
		(void)buf_addstr(&text, body ? "ERROR: " : "");
	va_start(ap, fmt);
	(void)buf_vaddf(&text, fmt, ap);
	va_end(ap);
	if (body) {
		(void)script_echo(body, job->shell, kind, text.data);
	} else {
		switch (kind) {
		case SCRIPT_ECHO_NOTICE:
			trace_sink_info(job->sink, "%s", text.data);
			break;
		case SCRIPT_ECHO_WARNING:
			trace_sink_warning(job->sink, "%s", text.data);
			break;
		case SCRIPT_ECHO_ERROR:
			trace_sink_error(job->sink, "%s", text.data);
			break;
		default:
			trace_sink_line(job->sink, "%s", text.data);
			break;
		}
	}
	buf_release(&text);
}

static void helper_path(const struct job *job, char *out, size_t size)
{
	const char *p = job->settings.helper_program;
	ssize_t n;

	if (p && strcmp(p, "/proc/self/exe")) {
		snprintf(out, size, "%s", p);
		return;
	}
	n = readlink("/proc/self/exe", out, size - 1);
	if (n <= 0)
		snprintf(out, size, "crunner");
	else
		out[n] = '\0';
}

int job_helper_script_begin(struct job *job, struct buf *body,
			    const struct strvec *env)
{
	char self[PATH_MAX];
	size_t i;
	int r = 0;

	for (i = 0; env && i < env->nr && !r; i++) {
		const char *eq = strchr(env->v[i], '=');
		char *key;

		if (!eq)
			continue;
		key = xstrndup(env->v[i], (size_t)(eq - env->v[i]));
		r = script_export(body, job->shell, key, eq + 1);
		free(key);
	}
	if (r)
		return r;
	if ((r = script_run(body, job->shell, (const char *[]){ "cd",
			    job->project_dir, NULL })) != 0)
		return r;
	helper_path(job, self, sizeof(self));
	if ((r = buf_addstr(body, "_cr_helper=${" HELPER_BIN_ENV ":-}\n"
			    "if [ -z \"$_cr_helper\" ]; then _cr_helper=")) ||
	    (r = script_quote(body, job->shell, self, strlen(self))) ||
	    (r = buf_addstr(body, "; fi\n")))
		return r;
	return 0;
}

int job_helper_script_command(struct job *job, struct buf *body,
			      const struct strvec *args)
{
	size_t i;
	int r;

	if ((r = buf_addstr(body, "\"$_cr_helper\" artifacts-helper")))
		return r;
	for (i = 0; i < args->nr; i++)
		if ((r = buf_addch(body, ' ')) ||
		    (r = script_quote(body, job->shell, args->v[i],
				      strlen(args->v[i]))))
			return r;
	return 0;
}

int job_helper_script_end(struct job *job, const char *what,
			  struct buf *body, struct buf *out, struct buf *err)
{
	/* Never SCRIPT_TRACE: the exports hold the job token. */
	int r = script_wrap(out, job->shell,
			    job_script_flags(job) & SCRIPT_LEGACY_EVAL,
			    body->data, body->len);

	if (r)
		buf_seterr(err, "cannot build the %s script: %s", what,
			   cr_strerror(r));
	buf_release_secret(body);
	return r;
}

int job_cleanup_script(struct job *job, const struct job_stage *stage,
		       struct buf *out, struct buf *err)
{
	struct buf body = BUF_INIT;
	size_t i;
	int r = 0;

	(void)stage;
	/*
	 * The files the environment has: the same paths there.  gitlab-runner
	 * runs this stage for every job; so does this.
	 */
	(void)buf_addstr(&body, ":\n");
	for (i = 0; job->var_paths && i < job->vars.nr && !r; i++) {
		if (!job->var_paths[i])
			continue;
		if (!(r = buf_addstr(&body, "rm -f -- ")))
			r = script_quote(&body, job->shell, job->var_paths[i],
					 strlen(job->var_paths[i]));
		if (!r)
			r = buf_addch(&body, '\n');
	}
	/* get_sources' git config files (gitlab-runner's writeCleanupScript). */
	for (i = 0; i < 2 && !r && job->tmp_project_dir; i++) {
		static const char *const names[] = { JOB_GIT_CREDENTIALS,
						     JOB_GIT_CONFIG_GLOBAL };
		struct buf path = BUF_INIT;

		(void)buf_addf(&path, "%s/%s", job->tmp_project_dir, names[i]);
		if (!(r = buf_addstr(&body, "rm -f -- ")))
			r = script_quote(&body, job->shell, path.data, path.len);
		if (!r)
			r = buf_addch(&body, '\n');
		buf_release(&path);
	}
	if (!r)
		r = job_cleanup_build_dir(job, &body);
	/* And the copies on this host, whatever the script does. */
	job_env_remove_files(job);
	if (!r)
		r = job_git_config_cleanup(job, &body);
	if (r) {
		buf_seterr(err, "cannot build the cleanup script: %s",
			   cr_strerror(r));
		buf_release(&body);
		return r;
	}
	return job_helper_script_end(job, "cleanup", &body, out, err);
}
