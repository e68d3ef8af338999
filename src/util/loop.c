#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct fd_watch {
	int fd;
	unsigned events;
	loop_fd_cb cb;
	void *ctx;
};

struct timer {
	uint64_t id;
	uint64_t due_ms;
	loop_timer_cb cb;
	void *ctx;
};

struct child_watch {
	pid_t pid;
	loop_child_cb cb;
	void *ctx;
};

struct signal_watch {
	int signo;
	loop_signal_cb cb;
	void *ctx;
	struct sigaction old;
};

struct loop {
	struct fd_watch *fds;
	size_t nr_fds, alloc_fds;
	struct timer *timers;
	size_t nr_timers, alloc_timers;
	uint64_t next_timer_id;
	struct child_watch *children;
	size_t nr_children, alloc_children;
	struct signal_watch *signals;
	size_t nr_signals, alloc_signals;
	uint64_t now_ms;
	int stop;
	int sigchld_installed;
	struct sigaction old_sigchld;
};

/*
 * The self-pipe is process-wide because signal handlers are: a handler can
 * only reach global state.  Each byte written is the signal number.
 */
static int self_pipe[2] = { -1, -1 };

static void self_pipe_handler(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	ssize_t ignored = write(self_pipe[1], &b, 1);

	(void)ignored;	/* a full pipe already holds a wake-up */
	errno = saved;
}

static int self_pipe_open(void)
{
	if (self_pipe[0] >= 0)
		return 0;
	if (pipe2(self_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return CR_ERR_IO;
	return 0;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *loop_new(void)
{
	struct loop *loop = xcalloc(1, sizeof(*loop));

	loop->now_ms = monotonic_ms();
	loop->next_timer_id = 1;
	return loop;
}

void loop_free(struct loop *loop)
{
	size_t i;

	if (!loop)
		return;
	for (i = 0; i < loop->nr_signals; i++)
		sigaction(loop->signals[i].signo, &loop->signals[i].old, NULL);
	if (loop->sigchld_installed)
		sigaction(SIGCHLD, &loop->old_sigchld, NULL);
	free(loop->fds);
	free(loop->timers);
	free(loop->children);
	free(loop->signals);
	free(loop);
}

#define GROW(arr, nr, alloc) \
	do { \
		if ((nr) + 1 > (alloc)) { \
			(alloc) = (alloc) ? (alloc) * 2 : 8; \
			(arr) = xreallocarray((arr), (alloc), sizeof(*(arr))); \
		} \
	} while (0)

int loop_watch_fd(struct loop *loop, int fd, unsigned events, loop_fd_cb cb,
		  void *ctx)
{
	size_t i;

	for (i = 0; i < loop->nr_fds; i++) {
		if (loop->fds[i].fd == fd) {
			loop->fds[i].events = events;
			loop->fds[i].cb = cb;
			loop->fds[i].ctx = ctx;
			return 0;
		}
	}
	GROW(loop->fds, loop->nr_fds, loop->alloc_fds);
	loop->fds[loop->nr_fds++] = (struct fd_watch){ fd, events, cb, ctx };
	return 0;
}

void loop_unwatch_fd(struct loop *loop, int fd)
{
	size_t i;

	for (i = 0; i < loop->nr_fds; i++) {
		if (loop->fds[i].fd == fd) {
			loop->fds[i] = loop->fds[--loop->nr_fds];
			return;
		}
	}
}

uint64_t loop_add_timer(struct loop *loop, long delay_ms, loop_timer_cb cb,
			void *ctx)
{
	struct timer *t;

	if (delay_ms < 0)
		delay_ms = 0;
	GROW(loop->timers, loop->nr_timers, loop->alloc_timers);
	t = &loop->timers[loop->nr_timers++];
	t->id = loop->next_timer_id++;
	t->due_ms = monotonic_ms() + (uint64_t)delay_ms;
	t->cb = cb;
	t->ctx = ctx;
	return t->id;
}

void loop_cancel_timer(struct loop *loop, uint64_t id)
{
	size_t i;

	for (i = 0; i < loop->nr_timers; i++) {
		if (loop->timers[i].id == id) {
			loop->timers[i] = loop->timers[--loop->nr_timers];
			return;
		}
	}
}

static int install_handler(int signo, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = self_pipe_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | (signo == SIGCHLD ? SA_NOCLDSTOP : 0);
	return sigaction(signo, &sa, old) < 0 ? CR_ERR_IO : 0;
}

int loop_watch_child(struct loop *loop, pid_t pid, loop_child_cb cb,
		     void *ctx)
{
	int r;

	if ((r = self_pipe_open()) != 0)
		return r;
	if (!loop->sigchld_installed) {
		if ((r = install_handler(SIGCHLD, &loop->old_sigchld)) != 0)
			return r;
		loop->sigchld_installed = 1;
	}
	GROW(loop->children, loop->nr_children, loop->alloc_children);
	loop->children[loop->nr_children++] =
		(struct child_watch){ pid, cb, ctx };
	/* The child may have exited before the handler was in place. */
	self_pipe_handler(SIGCHLD);
	return 0;
}

void loop_unwatch_child(struct loop *loop, pid_t pid)
{
	size_t i;

	for (i = 0; i < loop->nr_children; i++) {
		if (loop->children[i].pid == pid) {
			loop->children[i] = loop->children[--loop->nr_children];
			return;
		}
	}
}

int loop_watch_signal(struct loop *loop, int signo, loop_signal_cb cb,
		      void *ctx)
{
	struct signal_watch *w;
	size_t i;
	int r;

	if ((r = self_pipe_open()) != 0)
		return r;
	for (i = 0; i < loop->nr_signals; i++) {
		if (loop->signals[i].signo == signo) {
			loop->signals[i].cb = cb;
			loop->signals[i].ctx = ctx;
			return 0;
		}
	}
	GROW(loop->signals, loop->nr_signals, loop->alloc_signals);
	w = &loop->signals[loop->nr_signals];
	w->signo = signo;
	w->cb = cb;
	w->ctx = ctx;
	if ((r = install_handler(signo, &w->old)) != 0)
		return r;
	loop->nr_signals++;
	return 0;
}

uint64_t loop_now_ms(struct loop *loop)
{
	return loop->now_ms;
}

static void reap_children(struct loop *loop)
{
	size_t i = 0;

	while (i < loop->nr_children) {
		struct child_watch w = loop->children[i];
		int status;
		pid_t got = waitpid(w.pid, &status, WNOHANG);

		if (got == w.pid || (got < 0 && errno == ECHILD)) {
			/* Remove first: the callback may add new children. */
			loop->children[i] = loop->children[--loop->nr_children];
			if (got < 0)
				status = 127 << 8;
			w.cb(loop, w.pid, status, w.ctx);
			i = 0;
			continue;
		}
		i++;
	}
}

static void drain_self_pipe(struct loop *loop)
{
	unsigned char bytes[64];
	int got_sigchld = 0;
	ssize_t n, k;
	size_t i;

	while ((n = read(self_pipe[0], bytes, sizeof(bytes))) > 0) {
		for (k = 0; k < n; k++) {
			if (bytes[k] == SIGCHLD) {
				got_sigchld = 1;
				continue;
			}
			for (i = 0; i < loop->nr_signals; i++)
				if (loop->signals[i].signo == bytes[k])
					loop->signals[i].cb(loop, bytes[k],
							    loop->signals[i].ctx);
		}
	}
	if (got_sigchld)
		reap_children(loop);
}

static long next_timeout(struct loop *loop, long max_ms)
{
	long wait = max_ms;
	size_t i;

	for (i = 0; i < loop->nr_timers; i++) {
		long d = loop->timers[i].due_ms > loop->now_ms ?
			(long)(loop->timers[i].due_ms - loop->now_ms) : 0;

		if (wait < 0 || d < wait)
			wait = d;
	}
	return wait;
}

static void run_timers(struct loop *loop)
{
	size_t i = 0;

	while (i < loop->nr_timers) {
		struct timer t = loop->timers[i];
		long next;
		size_t j;

		if (t.due_ms > loop->now_ms) {
			i++;
			continue;
		}
		next = t.cb(loop, t.ctx);
		/* The callback may have changed the array: find t again. */
		for (j = 0; j < loop->nr_timers; j++)
			if (loop->timers[j].id == t.id)
				break;
		if (j < loop->nr_timers) {
			if (next == LOOP_TIMER_STOP) {
				loop->timers[j] = loop->timers[--loop->nr_timers];
			} else {
				loop->timers[j].due_ms =
					monotonic_ms() + (uint64_t)(next < 0 ? 0 : next);
			}
		}
		i = 0;
		loop->now_ms = monotonic_ms();
		/* Guard against a timer that keeps returning 0. */
		if (next == 0)
			break;
	}
}

int loop_run_once(struct loop *loop, long max_ms)
{
	struct pollfd *pfds;
	struct fd_watch *snapshot;
	size_t i, n, npoll = 0;
	long wait;
	int rc, self_pipe_ready = 0;

	loop->now_ms = monotonic_ms();
	wait = next_timeout(loop, max_ms);
	n = loop->nr_fds;
	pfds = xcalloc(n + 1, sizeof(*pfds));
	snapshot = xcalloc(n + 1, sizeof(*snapshot));
	for (i = 0; i < n; i++) {
		snapshot[i] = loop->fds[i];
		pfds[npoll].fd = loop->fds[i].fd;
		pfds[npoll].events = (short)(
			((loop->fds[i].events & LOOP_READ) ? POLLIN : 0) |
			((loop->fds[i].events & LOOP_WRITE) ? POLLOUT : 0));
		npoll++;
	}
	/*
	 * Only a loop that watches children or signals reads the self-pipe:
	 * a private loop (gl_http_perform_sync(), on the loop thread or off
	 * it: util/offload.h) would otherwise eat the bytes that say another
	 * loop's child exited.
	 */
	if (self_pipe[0] >= 0 && (loop->nr_children || loop->nr_signals)) {
		pfds[npoll].fd = self_pipe[0];
		pfds[npoll].events = POLLIN;
		npoll++;
	}
	rc = poll(pfds, npoll, wait > (long)INT32_MAX ? INT32_MAX : (int)wait);
	if (rc < 0 && errno != EINTR) {
		free(pfds);
		free(snapshot);
		return CR_ERR_IO;
	}
	loop->now_ms = monotonic_ms();
	if (rc > 0) {
		for (i = 0; i < n; i++) {
			unsigned ev = 0;
			size_t j;

			if (!pfds[i].revents)
				continue;
			if (pfds[i].revents & POLLIN)
				ev |= LOOP_READ;
			if (pfds[i].revents & POLLOUT)
				ev |= LOOP_WRITE;
			if (pfds[i].revents & (POLLERR | POLLHUP | POLLNVAL))
				ev |= LOOP_ERROR | (snapshot[i].events & LOOP_READ);
			/* Skip watches a previous callback removed or replaced. */
			for (j = 0; j < loop->nr_fds; j++)
				if (loop->fds[j].fd == snapshot[i].fd)
					break;
			if (j == loop->nr_fds || !loop->fds[j].events)
				continue;
			loop->fds[j].cb(loop, snapshot[i].fd, ev, loop->fds[j].ctx);
		}
	}
	if (npoll > n && pfds[n].revents)
		self_pipe_ready = 1;
	free(pfds);
	free(snapshot);
	/* Signals and child exits arrive only as bytes in the self-pipe. */
	if (self_pipe_ready)
		drain_self_pipe(loop);
	run_timers(loop);
	return 0;
}

int loop_run(struct loop *loop)
{
	int r = 0;

	loop->stop = 0;
	while (!loop->stop && (r = loop_run_once(loop, -1)) == 0)
		;
	return r;
}

void loop_stop(struct loop *loop)
{
	loop->stop = 1;
}
