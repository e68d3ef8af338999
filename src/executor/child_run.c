/*
 * One program run on the event loop (child_run.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "executor/child_run.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Reads per readiness event, so one chatty program cannot hog the loop. */
#define READS_PER_EVENT 4
/*
 * The read buffer of a chatty program, taken when a read fills rbuf: a
 * whole pipe's worth (64 KiB) per read(2), where 16 KiB reads cost a
 * wake-up of the writer each (11% of crunner's time printing 1 GiB).
 * Quiet programs never take it, so 200 sleeping jobs do not hold 200.
 */
#define BIG_READ ((size_t)64 << 10)

void child_run_init(struct child_run *run)
{
	memset(run, 0, sizeof(*run));
	proc_init(&run->proc);
}

static void cancel_timer(struct child_run *run, uint64_t *id)
{
	if (*id)
		loop_cancel_timer(run->loop, *id);
	*id = 0;
}

static void close_pipe(struct child_run *run, int *fd)
{
	if (*fd < 0)
		return;
	loop_unwatch_fd(run->loop, *fd);
	close(*fd);
	*fd = -1;
}

/* Lets go of the pipes and timers; the program is over for the caller. */
static void run_forget(struct child_run *run)
{
	cancel_timer(run, &run->deadline_timer);
	cancel_timer(run, &run->grace_timer);
	cancel_timer(run, &run->force_timer);
	cancel_timer(run, &run->drain_timer);
	close_pipe(run, &run->proc.out);
	close_pipe(run, &run->proc.err);
	free(run->big_rbuf);
	run->big_rbuf = NULL;
	run->running = 0;
}

/* Touches nothing after on_done, which may release or free run. */
static void run_complete(struct child_run *run)
{
	run_forget(run);
	if (run->on_done)
		run->on_done(run, run->ctx);
}

static void maybe_complete(struct child_run *run)
{
	if (run->child_done && run->proc.out < 0 && run->proc.err < 0)
		run_complete(run);
}

static void on_pipe(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct child_run *run = ctx;
	int is_stderr = fd == run->proc.err;
	int i;

	(void)loop;
	(void)events;
	for (i = 0; i < READS_PER_EVENT; i++) {
		char *rbuf = run->big_rbuf ? run->big_rbuf : run->rbuf;
		size_t size = run->big_rbuf ? BIG_READ : sizeof(run->rbuf);
		ssize_t n = read(fd, rbuf, size);

		if (n > 0) {
			if (run->on_output)
				run->on_output(run->output_ctx, is_stderr,
					       rbuf, (size_t)n);
			if (run->big_reads && !run->big_rbuf &&
			    (size_t)n == size)
				run->big_rbuf = xmalloc(BIG_READ);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* End of file, or a pipe we cannot read any more. */
		close_pipe(run, is_stderr ? &run->proc.err : &run->proc.out);
		maybe_complete(run);
		return;
	}
}

static long on_drain_timeout(struct loop *loop, void *ctx)
{
	struct child_run *run = ctx;

	(void)loop;
	run->drain_timer = 0;
	run_complete(run);
	return LOOP_TIMER_STOP;
}

static void on_child(struct loop *loop, pid_t pid, int status, void *ctx)
{
	struct child_run *run = ctx;

	(void)loop;
	(void)pid;
	proc_reaped(&run->proc, status);
	run->child_done = 1;
	cancel_timer(run, &run->grace_timer);
	cancel_timer(run, &run->force_timer);
	cancel_timer(run, &run->deadline_timer);
	proc_kill_group(&run->proc, SIGKILL);
	if (run->proc.out >= 0 || run->proc.err >= 0)
		run->drain_timer = loop_add_timer(run->loop, run->drain_ms,
						  on_drain_timeout, run);
	maybe_complete(run);
}

/* force_ms passed after SIGKILL: gitlab-runner gives up too. */
static long on_force_timeout(struct loop *loop, void *ctx)
{
	struct child_run *run = ctx;

	(void)loop;
	run->force_timer = 0;
	run->abandoned = 1;
	log_warn("%s (pid %d) did not die after SIGKILL: giving up on it",
		 run->what, (int)run->proc.pid);
	loop_unwatch_child(run->loop, run->proc.pid);
	run_complete(run);
	return LOOP_TIMER_STOP;
}

static long on_grace_timeout(struct loop *loop, void *ctx)
{
	struct child_run *run = ctx;

	(void)loop;
	run->grace_timer = 0;
	proc_kill_group(&run->proc, SIGKILL);
	if (run->force_ms > 0)
		run->force_timer = loop_add_timer(run->loop, run->force_ms,
						  on_force_timeout, run);
	return LOOP_TIMER_STOP;
}

static void start_kill(struct child_run *run)
{
	if (run->child_done) {
		/* Only stragglers holding the pipes: stop waiting for them. */
		proc_kill_group(&run->proc, SIGKILL);
		cancel_timer(run, &run->drain_timer);
		run->drain_timer = loop_add_timer(run->loop, 0,
						  on_drain_timeout, run);
		return;
	}
	if (run->term_sent)
		return;
	run->term_sent = 1;
	proc_kill_group(&run->proc, SIGTERM);
	run->grace_timer = loop_add_timer(run->loop, run->grace_ms,
					  on_grace_timeout, run);
}

static long on_deadline(struct loop *loop, void *ctx)
{
	struct child_run *run = ctx;

	(void)loop;
	run->deadline_timer = 0;
	run->timed_out = 1;
	start_kill(run);
	return LOOP_TIMER_STOP;
}

int child_run_start(struct child_run *run, struct buf *err)
{
	int r;

	run->proc.flags |= PROC_NEW_PGRP;
	run->proc.in = PROC_FD_NULL;
	run->proc.out = PROC_FD_PIPE;
	run->proc.err = PROC_FD_PIPE;
	if ((r = proc_start(&run->proc, err)) != 0)
		return r;
	run->running = 1;
	if ((r = loop_watch_fd(run->loop, run->proc.out, LOOP_READ, on_pipe,
			       run)) != 0 ||
	    (r = loop_watch_fd(run->loop, run->proc.err, LOOP_READ, on_pipe,
			       run)) != 0 ||
	    (r = loop_watch_child(run->loop, run->proc.pid, on_child,
				  run)) != 0) {
		buf_seterr(err, "cannot watch the %s process: %s",
			   run->what ? run->what : "child", cr_strerror(r));
		proc_kill_group(&run->proc, SIGKILL);
		loop_unwatch_child(run->loop, run->proc.pid);
		proc_wait(&run->proc);
		run_forget(run);
		return r;
	}
	if (run->timeout_ms > 0)
		run->deadline_timer = loop_add_timer(run->loop, run->timeout_ms,
						     on_deadline, run);
	return 0;
}

void child_run_stop(struct child_run *run, int reason)
{
	if (!run->running)
		return;
	if (!run->reason)
		run->reason = reason;
	start_kill(run);
}

void child_run_release(struct child_run *run)
{
	if (run->running) {
		proc_kill_group(&run->proc, SIGKILL);
		if (!run->child_done && !run->abandoned) {
			loop_unwatch_child(run->loop, run->proc.pid);
			proc_wait(&run->proc);
		}
		run_forget(run);
	}
	free(run->big_rbuf);
	run->big_rbuf = NULL;
	proc_release(&run->proc);
}
