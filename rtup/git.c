/*
 * Child processes for git and verify commands.  Built on util/proc: the
 * child gets its own process group, so a timeout kills everything it
 * started, not just the shell.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "git.h"
#include "util/error.h"
#include "util/proc.h"
#include "util/banned.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain(int fd, struct buf *b)
{
	char chunk[4096];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (b)
			buf_add(b, chunk, (size_t)n);
}

int run_cmd(const char *dir, const char *const *argv,
	    const struct strvec *env, int timeout, int log_fd,
	    struct buf *out, struct buf *err)
{
	struct proc p = PROC_INIT;
	struct buf ebuf = BUF_INIT;
	long long deadline = timeout > 0 ? now_ms() + timeout * 1000LL : 0;
	int r = CR_ERR_INTERNAL, killed = 0, st;

	for (size_t i = 0; argv[i]; i++)
		strvec_push(&p.args, argv[i]);
	if (env)
		strvec_pushv(&p.env, env->v);
	p.dir = dir;
	p.flags = PROC_NEW_PGRP;
	if (log_fd >= 0) {
		p.out = log_fd;
		p.flags |= PROC_STDERR_TO_STDOUT;
	} else {
		p.out = PROC_FD_PIPE;
		p.err = PROC_FD_PIPE;
	}
	if ((r = proc_start(&p, err)) != 0)
		goto out;
	for (;;) {
		struct pollfd fds[2];
		int nfds = 0, wait_ms = 100;
		pid_t w;

		if (p.out >= 0 && log_fd < 0)
			fds[nfds++] = (struct pollfd){ .fd = p.out, .events = POLLIN };
		if (p.err >= 0 && log_fd < 0)
			fds[nfds++] = (struct pollfd){ .fd = p.err, .events = POLLIN };
		poll(fds, (nfds_t)nfds, wait_ms);
		if (log_fd < 0) {
			drain(p.out, out);
			drain(p.err, &ebuf);
		}
		w = waitpid(p.pid, &st, WNOHANG);
		if (w == p.pid) {
			proc_reaped(&p, st);
			break;
		}
		if (deadline && now_ms() > deadline && !killed) {
			proc_kill_group(&p, SIGTERM);
			killed = 1;
			deadline = now_ms() + 2000;
		} else if (killed && now_ms() > deadline) {
			proc_kill_group(&p, SIGKILL);
			deadline = now_ms() + 3600 * 1000LL;
		}
	}
	if (log_fd < 0) {
		drain(p.out, out);
		drain(p.err, &ebuf);
	}
	/* Kill what the command left behind in its group. */
	proc_kill_group(&p, SIGKILL);
	if (killed)
		r = CR_ERR_TIMEOUT;
	else
		r = p.exit_status;
	if (r > 0 && ebuf.len)
		buf_seterr(err, "%s: %.*s", argv[0], (int)strcspn(ebuf.data, "\n"),
			   ebuf.data);
out:
	proc_release(&p);
	buf_release(&ebuf);
	return r;
}

int git(const char *dir, struct buf *out, struct buf *err, ...)
{
	const char *argv[32];
	size_t n = 0;
	va_list ap;
	int r;

	argv[n++] = "git";
	argv[n++] = "-C";
	argv[n++] = dir;
	va_start(ap, err);
	while (n < 31 && (argv[n] = va_arg(ap, const char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	r = run_cmd(NULL, argv, NULL, 0, -1, out, err);
	if (r > 0) {
		buf_seterr(err, "git %s failed (exit %d)", argv[3], r);
		return CR_ERR_IO;
	}
	return r;
}
