/*
 * What native stages share: the archive helper process (crunner's own
 * artifacts-helper verb, so zip work never blocks the loop other jobs
 * share, and its memory goes away with it), watched on the loop with its
 * output going to the job's trace.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
	strvec_push(&n->helper.args, "artifacts-helper");
	for (i = 0; i < args->nr; i++)
		strvec_push(&n->helper.args, args->v[i]);
	for (i = 0; i < n->helper_env.nr; i++)
		strvec_push(&n->helper.env, n->helper_env.v[i]);
	strvec_clear(&n->helper_env);
	n->helper.dir = dir;
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
