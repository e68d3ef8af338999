/*
 * One custom executor driver program on the event loop: started in its
 * own process group, its output read without blocking, its deadline and
 * gitlab-runner's two-step kill (SIGTERM, SIGKILL after
 * graceful_kill_timeout, give up after force_kill_timeout).
 *
 * The program is over when it was reaped and both pipes reached end of
 * file.  Like the shell executor, whatever it left in its process group is
 * killed once it exited; a process that escaped the group but holds the
 * pipes gets drain_ms.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "executor/custom_int.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/banned.h"

#define READS_PER_EVENT 4
/* A cleanup_exec log line is cut at this length. */
#define LOG_LINE_MAX 4096

void custom_run_init(struct custom_run *run)
{
	memset(run, 0, sizeof(*run));
	proc_init(&run->proc);
	buf_init(&run->captured, CUSTOM_MAX_CONFIG_OUTPUT);
	buf_init(&run->line[0], 0);
	buf_init(&run->line[1], 0);
}

static void cancel_timer(struct custom_run *run, uint64_t *id)
{
	if (*id)
		loop_cancel_timer(run->loop, *id);
	*id = 0;
}

static void close_pipe(struct custom_run *run, int *fd)
{
	if (*fd < 0)
		return;
	loop_unwatch_fd(run->loop, *fd);
	close(*fd);
	*fd = -1;
}

static void flush_log_line(struct custom_run *run, int is_stderr)
{
	struct buf *line = &run->line[is_stderr];

	if (!line->len)
		return;
	if (is_stderr)
		log_warn("%s stderr: %s", run->what, line->data);
	else
		log_debug("%s stdout: %s", run->what, line->data);
	buf_reset(line);
}

static void log_output(struct custom_run *run, int is_stderr, const char *data,
		       size_t len)
{
	struct buf *line = &run->line[is_stderr];
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			flush_log_line(run, is_stderr);
			continue;
		}
		if (data[i] != '\r' && data[i] != '\0')
			(void)buf_addch(line, data[i]);
		if (line->len >= LOG_LINE_MAX)
			flush_log_line(run, is_stderr);
	}
}

static void deliver(struct custom_run *run, int is_stderr, const char *data,
		    size_t len)
{
	enum custom_output mode = is_stderr ? run->err_mode : run->out_mode;

	switch (mode) {
	case CUSTOM_OUTPUT_TRACE:
		if (run->on_output)
			run->on_output(run->output_ctx, is_stderr, data, len);
		break;
	case CUSTOM_OUTPUT_CAPTURE:
		if (run->captured_overflow)
			break;
		if (buf_add(&run->captured, data, len) != 0)
			run->captured_overflow = 1;
		break;
	case CUSTOM_OUTPUT_LOG:
		log_output(run, is_stderr, data, len);
		break;
	}
}

/* Forgets the process; the struct is idle afterwards. */
static void run_forget(struct custom_run *run)
{
	cancel_timer(run, &run->deadline_timer);
	cancel_timer(run, &run->grace_timer);
	cancel_timer(run, &run->force_timer);
	cancel_timer(run, &run->drain_timer);
	close_pipe(run, &run->proc.out);
	close_pipe(run, &run->proc.err);
	flush_log_line(run, 0);
	flush_log_line(run, 1);
	run->running = 0;
}

static void run_complete(struct custom_run *run)
{
	run_forget(run);
	if (run->on_done)
		run->on_done(run, run->ctx);	/* may release run */
}

static void maybe_complete(struct custom_run *run)
{
	if (run->child_done && run->proc.out < 0 && run->proc.err < 0)
		run_complete(run);
}

static void on_pipe(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct custom_run *run = ctx;
	int is_stderr = fd == run->proc.err;
	int i;

	(void)loop;
	(void)events;
	for (i = 0; i < READS_PER_EVENT; i++) {
		ssize_t n = read(fd, run->rbuf, sizeof(run->rbuf));

		if (n > 0) {
			deliver(run, is_stderr, run->rbuf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		close_pipe(run, is_stderr ? &run->proc.err : &run->proc.out);
		maybe_complete(run);
		return;
	}
}

static long on_drain_timeout(struct loop *loop, void *ctx)
{
	struct custom_run *run = ctx;

	(void)loop;
	run->drain_timer = 0;
	run_complete(run);
	return LOOP_TIMER_STOP;
}

static void on_child(struct loop *loop, pid_t pid, int status, void *ctx)
{
	struct custom_run *run = ctx;

	(void)loop;
	(void)pid;
	proc_reaped(&run->proc, status);
	run->child_done = 1;
	cancel_timer(run, &run->grace_timer);
	cancel_timer(run, &run->force_timer);
	cancel_timer(run, &run->deadline_timer);
	/* What the driver left in its group would hold the pipes open. */
	proc_kill_group(&run->proc, SIGKILL);
	if (run->proc.out >= 0 || run->proc.err >= 0)
		run->drain_timer = loop_add_timer(run->loop, run->drain_ms,
						  on_drain_timeout, run);
	maybe_complete(run);
}

/* force_kill_timeout passed after SIGKILL: gitlab-runner gives up too. */
static long on_force_timeout(struct loop *loop, void *ctx)
{
	struct custom_run *run = ctx;

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
	struct custom_run *run = ctx;

	(void)loop;
	run->grace_timer = 0;
	proc_kill_group(&run->proc, SIGKILL);
	run->force_timer = loop_add_timer(run->loop, run->force_ms,
					  on_force_timeout, run);
	return LOOP_TIMER_STOP;
}

static void start_kill(struct custom_run *run)
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
	run->grace_timer = loop_add_timer(run->loop, run->graceful_ms,
					  on_grace_timeout, run);
}

static long on_deadline(struct loop *loop, void *ctx)
{
	struct custom_run *run = ctx;

	(void)loop;
	run->deadline_timer = 0;
	run->timed_out = 1;
	start_kill(run);
	return LOOP_TIMER_STOP;
}

int custom_run_start(struct custom_run *run, struct buf *err)
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
		buf_seterr(err, "cannot watch the %s process: %s", run->what,
			   cr_strerror(r));
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

void custom_run_stop(struct custom_run *run, int reason)
{
	if (!run->running)
		return;
	if (!run->reason)
		run->reason = reason;
	start_kill(run);
}

void custom_run_release(struct custom_run *run)
{
	if (run->running) {
		proc_kill_group(&run->proc, SIGKILL);
		if (!run->child_done && !run->abandoned) {
			loop_unwatch_child(run->loop, run->proc.pid);
			proc_wait(&run->proc);
		}
		run_forget(run);
	}
	proc_release(&run->proc);
	buf_release(&run->captured);
	buf_release(&run->line[0]);
	buf_release(&run->line[1]);
}
