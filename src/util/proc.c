#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/proc.h"
#include "util/run_as.h"
#include "util/xalloc.h"
#include "util/banned.h"

extern char **environ;

/*
 * The registry.  Each slot holds the kill() target of a live child: -pgid
 * for a process group, the pid for a lone process, 0 when free.  Slots are
 * sig_atomic_t and written by single stores, so a signal handler can walk
 * the table at any time without locks.  crunner is single-threaded; the
 * table is the one piece of process-wide state here.
 */
static volatile sig_atomic_t registry[PROC_REGISTRY_MAX];

static int registry_find_free(void)
{
	int i;

	for (i = 0; i < PROC_REGISTRY_MAX; i++)
		if (!registry[i])
			return i;
	return -1;
}

void proc_kill_all_registered(int sig)
{
	int saved = errno;
	int i;

	for (i = 0; i < PROC_REGISTRY_MAX; i++) {
		pid_t target = registry[i];

		if (target)
			kill(target, sig);
	}
	errno = saved;
}

int proc_registered_count(void)
{
	int i, n = 0;

	for (i = 0; i < PROC_REGISTRY_MAX; i++)
		if (registry[i])
			n++;
	return n;
}

static void kill_all_at_exit(void)
{
	proc_kill_all_registered(SIGKILL);
}

int proc_cleanup_at_exit(void)
{
	static int installed;

	if (installed)
		return 0;
	if (atexit(kill_all_at_exit) != 0)
		return CR_ERR_INTERNAL;
	installed = 1;
	return 0;
}

void proc_init(struct proc *p)
{
	struct proc blank = PROC_INIT;

	*p = blank;
}

int proc_exit_status(int wait_status)
{
	if (WIFEXITED(wait_status))
		return WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status))
		return 128 + WTERMSIG(wait_status);
	return 255;
}

/* Length of the NAME part of "NAME=value" (or of "NAME"). */
static size_t env_name_len(const char *s)
{
	const char *eq = strchr(s, '=');

	return eq ? (size_t)(eq - s) : strlen(s);
}

static int env_same_name(const char *a, const char *b)
{
	size_t n = env_name_len(a);

	return n == env_name_len(b) && !memcmp(a, b, n);
}

static int env_changed_later(const struct strvec *mods, size_t from,
			     const char *entry)
{
	size_t i;

	for (i = from; i < mods->nr; i++)
		if (env_same_name(mods->v[i], entry))
			return 1;
	return 0;
}

/* The child's whole environment, built before fork(). */
static void build_env(const struct proc *p, struct strvec *out)
{
	size_t i;

	if (!(p->flags & PROC_CLEAN_ENV) && environ) {
		char **e;

		for (e = environ; *e; e++)
			if (!env_changed_later(&p->env, 0, *e))
				strvec_push(out, *e);
	}
	for (i = 0; i < p->env.nr; i++) {
		const char *m = p->env.v[i];

		if (strchr(m, '=') && !env_changed_later(&p->env, i + 1, m))
			strvec_push(out, m);
	}
}

static const char *env_lookup(const struct strvec *env, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i < env->nr; i++)
		if (!strncmp(env->v[i], name, n) && env->v[i][n] == '=')
			return env->v[i] + n + 1;
	return NULL;
}

int proc_find_program(const char *name, const char *path, struct buf *out)
{
	const char *p;
	int saw_eacces = 0;

	buf_reset(out);
	if (!*name)
		return ENOENT;
	if (strchr(name, '/'))
		return buf_addstr(out, name) ? ENAMETOOLONG : 0;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p++) {
		const char *end = strchrnul(p, ':');
		struct stat st;

		buf_reset(out);
		if (end == p)
			buf_addstr(out, ".");
		else
			buf_add(out, p, (size_t)(end - p));
		buf_addch(out, '/');
		buf_addstr(out, name);
		if (stat(out->data, &st) == 0 && S_ISREG(st.st_mode)) {
			if (access(out->data, X_OK) == 0)
				return 0;
			saw_eacces = 1;
		}
		if (!*end)
			break;
		p = end;
	}
	buf_reset(out);
	return saw_eacces ? EACCES : ENOENT;
}

/*
 * Finds the program as execvp() would, but before fork(), so the child
 * needs no allocation.  Returns 0 with the path in out, or an errno value.
 */
static int resolve_program(const char *name, const struct strvec *env,
			   struct buf *out)
{
	const char *path = env_lookup(env, "PATH");

	return proc_find_program(name, path ? path : getenv("PATH"), out);
}

/* What the child reports through the notify pipe when it cannot exec. */
enum child_step {
	CHILD_SETUP,
	CHILD_USER,
	CHILD_CHDIR,
	CHILD_EXEC,
};

struct child_report {
	int step;
	int err;
};

/* Everything the child needs, prepared before fork(). */
struct child_plan {
	const char *path;
	char *const *argv;
	char *const *envp;
	const char *dir;
	int (*run)(int argc, char **argv);	/* instead of exec */
	const struct run_as *user;	/* NULL: stay crunner's user */
	int argc;
	int src[3];		/* the descriptor for 0, 1, 2; -1: same as 1 */
	int notify;
	unsigned flags;
	int max_fd;
	sigset_t empty;
};

static void __attribute__((noreturn)) child_fail(const struct child_plan *c,
						 int step)
{
	struct child_report rep = { step, errno };
	ssize_t ignored = write(c->notify, &rep, sizeof(rep));

	(void)ignored;
	_exit(127);
}

static void close_other_fds(const struct child_plan *c)
{
	int fd;

	if ((c->notify == 3 || close_range(3, (unsigned)c->notify - 1, 0) == 0) &&
	    close_range((unsigned)c->notify + 1, ~0U, 0) == 0)
		return;
	/* close_range() is missing (kernel before 5.9): do it by hand. */
	for (fd = 3; fd < c->max_fd; fd++)
		if (fd != c->notify)
			close(fd);
}

/*
 * The fork-without-exec case (proc.run_in_child), once the descriptors,
 * directory and signal dispositions are set: from here on this is an
 * ordinary (single-threaded) process running crunner's own code.  The
 * notify pipe is closed as exec would close it, which tells the parent
 * the child is running.  What the parent had buffered for its stdout and
 * stderr is dropped, not written to the child's.
 */
static void __attribute__((noreturn)) child_run(struct child_plan *c)
{
	int status;

	close(c->notify);
	environ = (char **)c->envp;
	__fpurge(stdout);
	__fpurge(stderr);
	sigprocmask(SIG_SETMASK, &c->empty, NULL);
	status = c->run(c->argc, (char **)c->argv);
	fflush(stdout);
	fflush(stderr);
	_exit(status & 0xff);
}

/*
 * Runs in the child between fork() and exec.  Only async-signal-safe calls
 * here: no malloc, no stdio, no logging.  All signals are blocked on entry
 * (see proc_start()), so none of crunner's handlers can run in the child
 * before they are reset to their defaults.
 */
static void __attribute__((noreturn)) child_exec(struct child_plan *c)
{
	struct sigaction dfl;
	int i, sig;

	if ((c->flags & PROC_NEW_PGRP) && setsid() < 0)
		child_fail(c, CHILD_SETUP);

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);	/* EINVAL for glibc's own */

	/*
	 * A source below 3 that is not its own target would be overwritten by
	 * an earlier dup2(): move it out of the way first.
	 */
	for (i = 0; i < 3; i++) {
		if (c->src[i] >= 0 && c->src[i] < 3 && c->src[i] != i) {
			c->src[i] = fcntl(c->src[i], F_DUPFD, 3);
			if (c->src[i] < 0)
				child_fail(c, CHILD_SETUP);
		}
	}
	for (i = 0; i < 3; i++) {
		int src = c->src[i] < 0 ? 1 : c->src[i];

		if (src == i) {
			if (fcntl(i, F_SETFD, 0) < 0)
				child_fail(c, CHILD_SETUP);
		} else if (dup2(src, i) < 0) {
			child_fail(c, CHILD_SETUP);
		}
	}
	close_other_fds(c);

	if (c->user && (setgroups((size_t)c->user->nr_groups,
				  c->user->groups) < 0 ||
			setgid(c->user->gid) < 0 || setuid(c->user->uid) < 0))
		child_fail(c, CHILD_USER);
	if (c->dir && chdir(c->dir) < 0)
		child_fail(c, CHILD_CHDIR);
	if (c->run)
		child_run(c);
	/* Last, so a failing step above can still be reported. */
	sigprocmask(SIG_SETMASK, &c->empty, NULL);
	execve(c->path, c->argv, c->envp);
	child_fail(c, CHILD_EXEC);
}

/*
 * Whether the child can share crunner's memory until it execs (vfork(),
 * as posix_spawn() does): when it only makes system calls before execve.
 * fork() copies crunner's page tables (with libcurl loaded, ~40 libraries'
 * mappings), and every page crunner then writes first (the heap, as the
 * environment built for the child is freed) takes a copy-on-write fault:
 * crunner's own CPU per trivial job went from 9.7 to 3.4 ms without them
 * (bench/bench.py --only overhead, two shells per job).  Not for a
 * child that runs crunner's code (proc.run_in_child) nor one that switches
 * user: glibc's setuid() and setgroups() signal every thread of the
 * process to switch them all, which a child sharing the parent's memory
 * must not do.
 */
static bool use_vfork(const struct child_plan *c)
{
	return !c->run && !c->user;
}

/*
 * fork() or vfork() and, in the child, child_exec(): apart, so that no
 * variable of proc_start() lives across vfork()'s two returns.  In the
 * parent returns the child's pid, or -1 with errno set.
 */
static pid_t __attribute__((noinline)) start_child(struct child_plan *c)
{
	pid_t pid = use_vfork(c) ? vfork() : fork();

	if (pid == 0)
		child_exec(c);
	return pid;
}

/* A descriptor at 3 or above, so the child's dup2() calls cannot hit it. */
static int fd_above_std(int fd)
{
	int moved;

	if (fd < 0 || fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int *proc_fd(struct proc *p, int i)
{
	return i == 0 ? &p->in : i == 1 ? &p->out : &p->err;
}

static void report_child_failure(const struct proc *p,
				 const struct child_report *rep,
				 struct buf *err)
{
	const char *prog = p->args.v[0], *why = strerror(rep->err);

	switch (rep->step) {
	case CHILD_CHDIR:
		buf_seterr(err, "cannot change to '%s' to run '%s': %s",
			   p->dir, prog, why);
		break;
	case CHILD_USER:
		buf_seterr(err, "cannot switch to user '%s' to run '%s': %s",
			   p->user ? p->user->name : "?", prog, why);
		break;
	case CHILD_SETUP:
		buf_seterr(err, "cannot set up the child process for '%s': %s",
			   prog, why);
		break;
	default:
		buf_seterr(err, "cannot run '%s': %s", prog, why);
	}
}

static int errno_to_err(int e)
{
	return e == ENOENT || e == ENOTDIR ? CR_ERR_NOT_FOUND : CR_ERR_IO;
}

/*
 * Whether this process runs one thread only (/proc/self/task); unknown:
 * no.  A fork() copies only the calling thread: a lock another thread
 * held at that instant (the allocator's, a library's) stays locked in the
 * child forever, so a child that runs crunner's code without exec
 * (run_in_child) is safe only from a single-threaded process; with a
 * signing thread (util/offload.h) or a lookup thread (util/resolver.h)
 * alive the child execs instead.
 */
static bool single_threaded(void)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *de;
	int tasks = 0;

	if (!dir)
		return false;
	while ((de = readdir(dir)) && tasks < 2)
		if (de->d_name[0] != '.')
			tasks++;
	closedir(dir);
	return tasks == 1;
}

int proc_start(struct proc *p, struct buf *err)
{
	struct strvec envp = STRVEC_INIT;
	struct buf path = BUF_INIT;
	struct child_plan plan;
	int child_end[3] = { -1, -1, -1 };
	int notify[2] = { -1, -1 };
	int devnull = -1, slot, i, e, r = CR_ERR_INTERNAL;
	sigset_t all, old;
	struct child_report rep;
	ssize_t n;
	const char *prog;
	int (*run)(int argc, char **argv) = p->run_in_child;

	if (p->pid > 0 || !p->args.nr) {
		buf_seterr(err, "cannot run a process: %s",
			   p->pid > 0 ? "already started" : "no program");
		return CR_ERR_INTERNAL;
	}
	prog = p->args.v[0];
	if ((slot = registry_find_free()) < 0) {
		buf_seterr(err, "cannot run '%s': too many child processes",
			   prog);
		return CR_ERR_TOO_LARGE;
	}

	build_env(p, &envp);
	e = 0;
	if (run && !single_threaded()) {
		/* crunner itself is exec'ed instead: see single_threaded() */
		run = NULL;
		e = buf_addstr(&path, "/proc/self/exe") ? ENAMETOOLONG : 0;
	} else if (p->path && !run) {
		e = buf_addstr(&path, p->path) ? ENAMETOOLONG : 0;
	} else if (!run) {
		e = resolve_program(prog, &envp, &path);
	}
	if (e != 0) {
		buf_seterr(err, "cannot run '%s': %s", prog, strerror(e));
		r = errno_to_err(e);
		goto out;
	}

	memset(&plan, 0, sizeof(plan));
	for (i = 0; i < 3; i++) {
		int *fd = proc_fd(p, i);

		if (i == 2 && (p->flags & PROC_STDERR_TO_STDOUT)) {
			plan.src[i] = -1;
		} else if (*fd == PROC_FD_PIPE) {
			int pfd[2];

			if (pipe2(pfd, O_CLOEXEC) < 0)
				goto fail_errno;
			/* pfd[0] is the read end: the parent reads out/err. */
			child_end[i] = i == 0 ? pfd[0] : pfd[1];
			*fd = i == 0 ? pfd[1] : pfd[0];
			p->pipes_ |= 1u << i;
			if (fcntl(*fd, F_SETFL, O_NONBLOCK) < 0)
				goto fail_errno;
			plan.src[i] = child_end[i];
		} else if (*fd == PROC_FD_NULL) {
			if (devnull < 0 &&
			    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
				goto fail_errno;
			plan.src[i] = devnull;
		} else if (*fd == PROC_FD_INHERIT) {
			plan.src[i] = i;
		} else if (*fd >= 0) {
			plan.src[i] = *fd;
		} else {
			buf_seterr(err, "cannot run '%s': bad descriptor %d",
				   prog, *fd);
			r = CR_ERR_INVALID;
			goto undo;
		}
	}
	if (pipe2(notify, O_CLOEXEC) < 0)
		goto fail_errno;
	if ((notify[0] = fd_above_std(notify[0])) < 0 ||
	    (notify[1] = fd_above_std(notify[1])) < 0)
		goto fail_errno;

	plan.path = path.data;
	plan.run = run;
	plan.user = p->user;
	plan.argc = (int)p->args.nr;
	plan.argv = (char *const *)p->args.v;
	plan.envp = (char *const *)envp.v;
	plan.dir = p->dir;
	plan.notify = notify[1];
	plan.flags = p->flags;
	plan.max_fd = (int)sysconf(_SC_OPEN_MAX);
	if (plan.max_fd < 0 || plan.max_fd > 65536)
		plan.max_fd = 65536;
	sigemptyset(&plan.empty);

	/*
	 * Block every signal across fork() so no handler of ours runs in the
	 * child (it would write to the loop's self-pipe), and so the registry
	 * is updated before a termination signal can look at it.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	p->pid = start_child(&plan);
	e = errno;
	if (p->pid > 0) {
		registry[slot] = (p->flags & PROC_NEW_PGRP) ? -p->pid : p->pid;
		p->slot_ = slot + 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->pid < 0) {
		errno = e;
		goto fail_errno;
	}

	for (i = 0; i < 3; i++)
		close_fd(&child_end[i]);
	close_fd(&devnull);
	close_fd(&notify[1]);

	/* EOF means exec succeeded: the write end was close-on-exec. */
	do {
		n = read(notify[0], &rep, sizeof(rep));
	} while (n < 0 && errno == EINTR);
	if (n == (ssize_t)sizeof(rep)) {
		int status;

		while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
			;
		report_child_failure(p, &rep, err);
		r = errno_to_err(rep.err);
		goto undo;
	}
	r = 0;
	goto out;

fail_errno:
	e = errno;
	buf_seterr(err, "cannot run '%s': %s", prog, strerror(e));
	r = CR_ERR_IO;
undo:
	if (p->slot_) {
		registry[p->slot_ - 1] = 0;
		p->slot_ = 0;
	}
	p->pid = -1;
	for (i = 0; i < 3; i++) {
		if (p->pipes_ & (1u << i)) {
			close_fd(proc_fd(p, i));
			*proc_fd(p, i) = PROC_FD_PIPE;
		}
	}
	p->pipes_ = 0;
out:
	for (i = 0; i < 3; i++)
		close_fd(&child_end[i]);
	close_fd(&devnull);
	close_fd(&notify[0]);
	close_fd(&notify[1]);
	strvec_clear(&envp);
	buf_release(&path);
	return r;
}

void proc_reaped(struct proc *p, int wait_status)
{
	p->status = wait_status;
	p->exit_status = proc_exit_status(wait_status);
	p->exited = 1;
}

int proc_wait(struct proc *p)
{
	int status;
	pid_t got;

	if (p->exited)
		return p->exit_status;
	if (p->pid <= 0)
		return CR_ERR_IO;
	do {
		got = waitpid(p->pid, &status, 0);
	} while (got < 0 && errno == EINTR);
	if (got != p->pid)
		return CR_ERR_IO;
	proc_reaped(p, status);
	return p->exit_status;
}

void proc_release(struct proc *p)
{
	int i;

	for (i = 0; i < 3; i++) {
		int *fd = proc_fd(p, i);

		if ((p->pipes_ & (1u << i)) && *fd >= 0)
			close(*fd);
		if (p->pipes_ & (1u << i))
			*fd = -1;
	}
	p->pipes_ = 0;
	if (p->slot_) {
		registry[p->slot_ - 1] = 0;
		p->slot_ = 0;
	}
	strvec_clear(&p->args);
	strvec_clear(&p->env);
}

int proc_finish(struct proc *p)
{
	int r = proc_wait(p);

	proc_release(p);
	return r;
}

int proc_kill_group(struct proc *p, int sig)
{
	pid_t target;

	/*
	 * Without a registry slot the process is released: its pid (and
	 * group id) may belong to someone else by now.
	 */
	if (p->pid <= 0 || !p->slot_)
		return 0;
	if (p->flags & PROC_NEW_PGRP) {
		/*
		 * XXX after the leader was reaped, the group id stays valid
		 * while any member lives; once the group is empty the kernel
		 * could in theory hand the number to a new group.  The window is
		 * a full pid wrap-around, which we accept.
		 */
		target = -p->pid;
	} else if (!p->exited) {
		target = p->pid;
	} else {
		return 0;
	}
	if (kill(target, sig) < 0 && errno != ESRCH)
		return CR_ERR_IO;
	return 0;
}

int proc_capture(const char *const *argv, const char *dir, struct buf *out,
		 size_t max, struct buf *err)
{
	struct proc p = PROC_INIT;
	char chunk[8192];
	size_t kept = 0;
	int r;

	strvec_pushv(&p.args, (const char **)argv);
	p.dir = dir;
	p.out = PROC_FD_PIPE;
	p.err = PROC_FD_NULL;
	if ((r = proc_start(&p, err)) != 0) {
		proc_release(&p);
		return r;
	}
	/* The pipe is non-blocking: wait for data, read until end of file. */
	for (;;) {
		struct pollfd pfd = { .fd = p.out, .events = POLLIN };
		ssize_t n = read(p.out, chunk, sizeof(chunk));

		if (n > 0) {
			size_t take = (size_t)n;

			if (kept + take > max)
				take = max - kept;
			(void)buf_add(out, chunk, take);
			kept += take;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		(void)poll(&pfd, 1, -1);
	}
	return proc_finish(&p);
}
