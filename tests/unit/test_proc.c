#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/proc.h"
#include "util/strvec.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Checks that the struct is as PROC_INIT/proc_release leave it. */
static void assert_released(const struct proc *p)
{
	assert_int_equal(p->args.nr, 0);
	assert_int_equal(p->env.nr, 0);
	assert_int_equal(p->slot_, 0);
	assert_int_equal(p->pipes_, 0);
}

static void sh_proc(struct proc *p, const char *script)
{
	proc_init(p);
	strvec_push(&p->args, "sh");
	strvec_push(&p->args, "-c");
	strvec_push(&p->args, script);
}

/* Reads out and err to EOF from a loop and learns the exit from it. */
struct drain {
	struct proc *p;
	struct buf out, err;
	int open;
	int exited;
};

static void drain_fd(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct drain *d = ctx;
	char tmp[65536];
	ssize_t n;
	int is_err = fd == d->p->err;

	(void)events;
	n = read(fd, tmp, sizeof(tmp));
	if (n > 0) {
		assert_int_equal(buf_add(is_err ? &d->err : &d->out, tmp,
					 (size_t)n), 0);
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	loop_unwatch_fd(loop, fd);
	close(fd);
	if (is_err)
		d->p->err = -1;
	else
		d->p->out = -1;
	if (--d->open == 0 && d->exited)
		loop_stop(loop);
}

static void drain_child(struct loop *loop, pid_t pid, int status, void *ctx)
{
	struct drain *d = ctx;

	(void)pid;
	proc_reaped(d->p, status);
	d->exited = 1;
	if (!d->open)
		loop_stop(loop);
}

/* Starts p (out and err piped) and runs it to the end on a loop. */
static int run_drained(struct proc *p, struct drain *d)
{
	struct loop *loop = loop_new();
	struct buf err = BUF_INIT;
	int r;

	memset(d, 0, sizeof(*d));
	buf_init(&d->out, 0);
	buf_init(&d->err, 0);
	d->p = p;
	p->out = PROC_FD_PIPE;
	p->err = PROC_FD_PIPE;
	r = proc_start(p, &err);
	if (r) {
		print_error("proc_start: %s\n", err.data);
		fail();
	}
	buf_release(&err);
	d->open = 2;
	loop_watch_fd(loop, p->out, LOOP_READ, drain_fd, d);
	loop_watch_fd(loop, p->err, LOOP_READ, drain_fd, d);
	loop_watch_child(loop, p->pid, drain_child, d);
	assert_int_equal(loop_run(loop), 0);
	loop_free(loop);
	r = p->exit_status;
	proc_release(p);
	assert_released(p);
	return r;
}

static void drain_release(struct drain *d)
{
	buf_release(&d->out);
	buf_release(&d->err);
}

static void test_exit_codes(void **state)
{
	static const struct {
		const char *script;
		int status;
	} cases[] = {
		{ "exit 0", 0 },
		{ "exit 3", 3 },
		{ "kill -9 $$", 128 + 9 },
		{ "kill -TERM $$", 128 + 15 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct proc p;
		struct buf err = BUF_INIT;

		sh_proc(&p, cases[i].script);
		assert_int_equal(proc_start(&p, &err), 0);
		assert_string_equal(err.data, "");
		assert_int_equal(proc_finish(&p), cases[i].status);
		assert_int_equal(p.exit_status, cases[i].status);
		assert_released(&p);
	}
}

static void expect_start_error(struct proc *p, int code, const char *msg)
{
	struct buf err = BUF_INIT;
	int before = proc_registered_count();

	assert_int_equal(proc_start(p, &err), code);
	assert_string_equal(err.data, msg);
	assert_int_equal(p->pid, -1);
	assert_int_equal(p->out, PROC_FD_PIPE);
	assert_int_equal(p->err, PROC_FD_PIPE);
	assert_int_equal(proc_registered_count(), before);
	proc_release(p);
	assert_released(p);
	buf_release(&err);
}

static void test_exec_failure_through_notify_pipe(void **state)
{
	struct proc p = PROC_INIT;

	(void)state;
	strvec_push(&p.args, "/nonexistent/crunner-prog");
	p.out = PROC_FD_PIPE;
	p.err = PROC_FD_PIPE;
	expect_start_error(&p, CR_ERR_NOT_FOUND,
			   "cannot run '/nonexistent/crunner-prog': "
			   "No such file or directory");
}

static void test_exec_failure_path_lookup(void **state)
{
	struct proc p = PROC_INIT;

	(void)state;
	strvec_push(&p.args, "crunner-no-such-program");
	p.out = PROC_FD_PIPE;
	p.err = PROC_FD_PIPE;
	expect_start_error(&p, CR_ERR_NOT_FOUND,
			   "cannot run 'crunner-no-such-program': "
			   "No such file or directory");
}

static void test_exec_failure_not_executable(void **state)
{
	char path[] = "/tmp/crunner-test-proc-XXXXXX";
	struct proc p = PROC_INIT;
	struct buf msg = BUF_INIT;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	chmod(path, 0600);
	strvec_push(&p.args, path);
	p.out = PROC_FD_PIPE;
	p.err = PROC_FD_PIPE;
	/* No x bit at all: refused even to root. */
	buf_addf(&msg, "cannot run '%s': Permission denied", path);
	expect_start_error(&p, CR_ERR_IO, msg.data);
	unlink(path);
	buf_release(&msg);
}

static void test_chdir_failure(void **state)
{
	struct proc p;

	(void)state;
	sh_proc(&p, "exit 0");
	p.dir = "/nonexistent-crunner-dir";
	p.out = PROC_FD_PIPE;
	p.err = PROC_FD_PIPE;
	expect_start_error(&p, CR_ERR_NOT_FOUND,
			   "cannot change to '/nonexistent-crunner-dir' to run "
			   "'sh': No such file or directory");
}

static void test_dir_and_stdin_default_to_dev_null(void **state)
{
	struct proc p;
	struct drain d;

	(void)state;
	sh_proc(&p, "pwd; cat; echo end");
	p.dir = "/";
	assert_int_equal(run_drained(&p, &d), 0);
	assert_string_equal(d.out.data, "/\nend\n");
	assert_string_equal(d.err.data, "");
	drain_release(&d);
}

static void test_clean_env_last_entry_wins(void **state)
{
	struct proc p = PROC_INIT;
	struct drain d;

	(void)state;
	strvec_push(&p.args, "env");
	p.flags = PROC_CLEAN_ENV;
	strvec_push(&p.env, "A=1");
	strvec_push(&p.env, "B=two words");
	strvec_push(&p.env, "GONE");
	strvec_push(&p.env, "A=3");
	assert_int_equal(run_drained(&p, &d), 0);
	assert_string_equal(d.out.data, "B=two words\nA=3\n");
	drain_release(&d);
}

static void test_inherited_env_set_and_unset(void **state)
{
	struct proc p;
	struct drain d;

	(void)state;
	setenv("CR_TEST_UNSET_ME", "1", 1);
	setenv("CR_TEST_KEEP", "kept", 1);
	sh_proc(&p, "echo \"${CR_TEST_UNSET_ME-unset} $CR_TEST_KEEP $CR_TEST_NEW\"");
	strvec_push(&p.env, "CR_TEST_UNSET_ME");
	strvec_push(&p.env, "CR_TEST_NEW=new");
	assert_int_equal(run_drained(&p, &d), 0);
	assert_string_equal(d.out.data, "unset kept new\n");
	drain_release(&d);
	unsetenv("CR_TEST_UNSET_ME");
	unsetenv("CR_TEST_KEEP");
}

static size_t count_byte(const struct buf *b, char c)
{
	size_t i, n = 0;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == c;
	return n;
}

static void test_big_output_on_both_pipes(void **state)
{
	struct proc p;
	struct drain d;

	(void)state;
	/* Both writers run at once: each pipe fills while the other does. */
	sh_proc(&p, "head -c 1500000 /dev/zero | tr '\\0' o & "
		    "head -c 1500000 /dev/zero | tr '\\0' e >&2; wait");
	assert_int_equal(run_drained(&p, &d), 0);
	assert_int_equal(d.out.len, 1500000);
	assert_int_equal(d.err.len, 1500000);
	assert_int_equal(count_byte(&d.out, 'o'), 1500000);
	assert_int_equal(count_byte(&d.err, 'e'), 1500000);
	drain_release(&d);
}

static void test_big_output_sequential(void **state)
{
	struct proc p;
	struct drain d;

	(void)state;
	/* A reader stuck on stdout until EOF would deadlock here. */
	sh_proc(&p, "head -c 1200000 /dev/zero >&2; head -c 1100000 /dev/zero");
	assert_int_equal(run_drained(&p, &d), 0);
	assert_int_equal(d.out.len, 1100000);
	assert_int_equal(d.err.len, 1200000);
	drain_release(&d);
}

/* 1: readable data or EOF within ms; 0: nothing. */
static int wait_readable(int fd, int ms)
{
	struct pollfd pfd = { fd, POLLIN, 0 };

	return poll(&pfd, 1, ms) > 0;
}

static void test_grandchild_holds_pipe_until_group_killed(void **state)
{
	struct proc p;
	struct buf err = BUF_INIT;
	char tmp[64];
	ssize_t n;
	uint64_t start;

	(void)state;
	sh_proc(&p, "sleep 30 & echo started");
	p.flags |= PROC_NEW_PGRP;
	p.out = PROC_FD_PIPE;
	assert_int_equal(proc_start(&p, &err), 0);
	assert_int_equal(proc_wait(&p), 0);

	assert_true(wait_readable(p.out, 5000));
	n = read(p.out, tmp, sizeof(tmp));
	assert_int_equal(n, 8);
	assert_memory_equal(tmp, "started\n", 8);
	/* The shell is gone, but sleep still holds the pipe: no EOF. */
	assert_false(wait_readable(p.out, 200));

	start = now_ms();
	assert_int_equal(proc_kill_group(&p, SIGKILL), 0);
	assert_true(wait_readable(p.out, 5000));
	assert_int_equal(read(p.out, tmp, sizeof(tmp)), 0);
	assert_true(now_ms() - start < 5000);
	proc_release(&p);
	assert_released(&p);
	buf_release(&err);
}

static void test_registry_kills_everything(void **state)
{
	struct proc group, lone = PROC_INIT;
	struct buf err = BUF_INIT;
	int before = proc_registered_count();

	(void)state;
	sh_proc(&group, "sleep 30; exit 0");
	group.flags |= PROC_NEW_PGRP;
	strvec_push(&lone.args, "sleep");
	strvec_push(&lone.args, "30");
	assert_int_equal(proc_start(&group, &err), 0);
	assert_int_equal(proc_start(&lone, &err), 0);
	assert_int_equal(proc_registered_count(), before + 2);

	proc_kill_all_registered(SIGKILL);
	assert_int_equal(proc_wait(&group), 128 + 9);
	assert_int_equal(proc_wait(&lone), 128 + 9);
	/* Still registered until released (the group may have leftovers). */
	assert_int_equal(proc_registered_count(), before + 2);
	proc_release(&group);
	proc_release(&lone);
	assert_int_equal(proc_registered_count(), before);
	/* A released process is never signalled again. */
	assert_int_equal(proc_kill_group(&lone, SIGKILL), 0);
	assert_string_equal(err.data, "");
	buf_release(&err);
}

static void test_stderr_to_stdout(void **state)
{
	struct proc p;
	struct buf err = BUF_INIT, out = BUF_INIT;
	char tmp[256];
	ssize_t n;

	(void)state;
	sh_proc(&p, "echo out; echo err >&2");
	p.flags |= PROC_STDERR_TO_STDOUT;
	p.out = PROC_FD_PIPE;
	assert_int_equal(proc_start(&p, &err), 0);
	for (;;) {
		assert_true(wait_readable(p.out, 5000));
		if ((n = read(p.out, tmp, sizeof(tmp))) <= 0)
			break;
		buf_add(&out, tmp, (size_t)n);
	}
	assert_int_equal(proc_finish(&p), 0);
	assert_string_equal(out.data, "out\nerr\n");
	buf_release(&out);
	buf_release(&err);
}

static void test_caller_descriptor_is_used_and_kept(void **state)
{
	struct proc p;
	struct buf err = BUF_INIT;
	int pfd[2];
	char tmp[16];

	(void)state;
	assert_int_equal(pipe(pfd), 0);
	sh_proc(&p, "echo via-fd");
	p.out = pfd[1];
	assert_int_equal(proc_start(&p, &err), 0);
	assert_int_equal(proc_finish(&p), 0);
	/* Still ours: proc_release() left it alone. */
	assert_int_equal(fcntl(pfd[1], F_GETFD), 0);
	close(pfd[1]);
	assert_int_equal(read(pfd[0], tmp, sizeof(tmp)), 7);
	assert_memory_equal(tmp, "via-fd\n", 7);
	close(pfd[0]);
	buf_release(&err);
}

/*
 * The child starts clean: default signal dispositions, nothing blocked, no
 * descriptor above 2, and (PROC_NEW_PGRP) its own session and group.
 */
static void test_child_signals_fds_and_group(void **state)
{
	struct proc p = PROC_INIT;
	struct drain d;
	int leak = dup(2);	/* not close-on-exec: the child must not get it */
	sigset_t block, old;
	struct sigaction ign, old_int;
	long pid, ppid, pgrp, session;
	const char *line;

	(void)state;
	assert_true(leak > 2);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);

	strvec_push(&p.args, "sh");
	strvec_push(&p.args, "-c");
	strvec_push(&p.args,
		    "exec 9</dev/null; ls /proc/self/fd | tr '\\n' ' '; echo; "
		    "exec grep -E '^Sig(Blk|Ign):' /proc/self/status");
	p.flags = PROC_NEW_PGRP;
	assert_int_equal(run_drained(&p, &d), 0);
	/* ls sees 0 1 2, its own directory fd (3) and sh's 9. */
	assert_string_equal(d.out.data,
			    "0 1 2 3 9 \n"
			    "SigBlk:\t0000000000000000\n"
			    "SigIgn:\t0000000000000000\n");
	drain_release(&d);

	sigprocmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGINT, &old_int, NULL);
	close(leak);

	/* The child leads its own session and group. */
	proc_init(&p);
	strvec_push(&p.args, "cat");
	strvec_push(&p.args, "/proc/self/stat");
	p.flags = PROC_NEW_PGRP;
	assert_int_equal(run_drained(&p, &d), 0);
	line = strrchr(d.out.data, ')');
	assert_non_null(line);
	assert_int_equal(sscanf(d.out.data, "%ld", &pid), 1);
	assert_int_equal(sscanf(line + 2, "%*c %ld %ld %ld", &ppid, &pgrp,
				&session), 3);
	assert_int_equal(ppid, (long)getpid());
	assert_int_equal(pgrp, pid);
	assert_int_equal(session, pid);
	drain_release(&d);
}

/*
 * run_in_child: fork without exec.  The function gets the args, the
 * environment changes and the directory; its stdout/stderr are the pipes;
 * its return value is the exit status; what the parent had buffered for
 * its own stdout is not written to the child's; other descriptors are
 * closed.
 */
static int in_child_fd;

static int in_child_main(int argc, char **argv)
{
	char cwd[256];

	printf("argc=%d %s %s\n", argc, argv[1], argv[2]);
	printf("env=%s\n", getenv("CR_IN_CHILD") ? getenv("CR_IN_CHILD") : "-");
	printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	printf("fd=%s\n", fcntl(in_child_fd, F_GETFD) < 0 ? "closed" : "open");
	fprintf(stderr, "to stderr\n");
	return 7;
}

static void test_run_in_child(void **state)
{
	struct proc p = PROC_INIT;
	struct drain d;

	(void)state;
	in_child_fd = open("/dev/null", O_RDONLY);	/* not close-on-exec */
	assert_true(in_child_fd > 2);
	strvec_push(&p.args, "in-child");
	strvec_push(&p.args, "one");
	strvec_push(&p.args, "two");
	strvec_push(&p.env, "CR_IN_CHILD=yes");
	p.dir = "/";
	p.run_in_child = in_child_main;
	/* Unwritten text of the parent's stdout must not reach the child's. */
	setvbuf(stdout, NULL, _IOFBF, 4096);
	fputs("PARENT-STDOUT-UNFLUSHED", stdout);
	assert_int_equal(run_drained(&p, &d), 7);
	assert_string_equal(d.out.data,
			    "argc=3 one two\nenv=yes\ncwd=/\nfd=closed\n");
	assert_string_equal(d.err.data, "to stderr\n");
	fflush(stdout);
	setvbuf(stdout, NULL, _IOLBF, 0);
	close(in_child_fd);
	drain_release(&d);
}

static int in_child_exit_zero(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/*
 * With another thread alive, run_in_child is not used: a lock that thread
 * held would stay locked in the forked copy.  The child execs this very
 * binary (/proc/self/exe) with the args instead (main() below answers the
 * sub-command), whatever args[0] says.
 */
#define EXEC_SELF_SUBCOMMAND "proc-test-exec-self"

static int in_child_exit_seven(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 7;
}

static void *wait_for_eof(void *arg)
{
	char byte;

	(void)!read(*(int *)arg, &byte, 1);
	return NULL;
}

static int run_self_helper(void)
{
	struct proc p = PROC_INIT;
	struct drain d;
	int status;

	strvec_push(&p.args, "not-a-program-on-path");
	strvec_push(&p.args, EXEC_SELF_SUBCOMMAND);
	p.run_in_child = in_child_exit_seven;
	status = run_drained(&p, &d);
	drain_release(&d);
	return status;
}

static void test_run_in_child_execs_when_threaded(void **state)
{
	pthread_t thread;
	int gate[2];

	(void)state;
	assert_int_equal(run_self_helper(), 7);	/* forked: one thread */
	assert_int_equal(pipe(gate), 0);
	assert_int_equal(pthread_create(&thread, NULL, wait_for_eof, &gate[0]),
			 0);
	assert_int_equal(run_self_helper(), 5);	/* exec'ed */
	close(gate[1]);
	assert_int_equal(pthread_join(thread, NULL), 0);
	close(gate[0]);
	assert_int_equal(run_self_helper(), 7);
}

/* Minor page faults of this process when it writes to each of npages. */
static long faults_writing(volatile char *mem, size_t npages, size_t page)
{
	struct rusage before, after;
	size_t i;

	getrusage(RUSAGE_SELF, &before);
	for (i = 0; i < npages; i++)
		mem[i * page]++;
	getrusage(RUSAGE_SELF, &after);
	return after.ru_minflt - before.ru_minflt;
}

/*
 * A program is started without copying crunner's page tables (vfork, as
 * posix_spawn does): after it, crunner writes to its own memory without a
 * copy-on-write fault per page.  A child running crunner's own code needs
 * its copy (fork), and there every page written afterwards faults: the
 * contrast shows the measurement sees the difference on this kernel.
 */
static void test_exec_shares_memory_until_exec(void **state)
{
	const size_t npages = 512, page = (size_t)sysconf(_SC_PAGESIZE);
	char *mem;
	struct proc p;
	struct buf err = BUF_INIT;
	long forked, spawned;

	(void)state;
	mem = mmap(NULL, npages * page, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	madvise(mem, npages * page, MADV_NOHUGEPAGE);
	faults_writing(mem, npages, page);	/* every page present */

	proc_init(&p);
	strvec_push(&p.args, "in-child");
	p.run_in_child = in_child_exit_zero;
	assert_int_equal(proc_start(&p, &err), 0);
	assert_int_equal(proc_finish(&p), 0);
	forked = faults_writing(mem, npages, page);

	sh_proc(&p, "exit 0");
	assert_int_equal(proc_start(&p, &err), 0);
	assert_int_equal(proc_finish(&p), 0);
	spawned = faults_writing(mem, npages, page);

	assert_true(forked >= (long)npages / 2);
	assert_true(spawned < (long)npages / 8);
	munmap(mem, npages * page);
	buf_release(&err);
}

static void test_release_is_idempotent(void **state)
{
	struct proc p = PROC_INIT;

	(void)state;
	proc_release(&p);
	proc_release(&p);
	assert_released(&p);
	assert_int_equal(proc_kill_group(&p, SIGKILL), 0);
	assert_int_equal(proc_wait(&p), CR_ERR_IO);
}

static void test_capture_output_status_and_cap(void **state)
{
	const char *const echo[] = { "sh", "-c", "printf 'hello\\nworld'; echo oops >&2; exit 3", NULL };
	const char *const big[] = { "sh", "-c", "head -c 100000 /dev/zero", NULL };
	const char *const missing[] = { "no-such-program-crunner", NULL };
	struct buf out = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(proc_capture(echo, NULL, &out, 1024, &err), 3);
	assert_string_equal(out.data, "hello\nworld");	/* stderr not kept */
	buf_reset(&out);
	/* Past max the output is read (the child is not blocked) and dropped. */
	assert_int_equal(proc_capture(big, "/", &out, 10, &err), 0);
	assert_int_equal(out.len, 10);
	buf_reset(&out);
	assert_true(proc_capture(missing, NULL, &out, 10, &err) < 0);
	assert_non_null(strstr(err.data, "no-such-program-crunner"));
	buf_release(&out);
	buf_release(&err);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_exec_shares_memory_until_exec),
		cmocka_unit_test(test_run_in_child),
		cmocka_unit_test(test_run_in_child_execs_when_threaded),
		cmocka_unit_test(test_exec_failure_through_notify_pipe),
		cmocka_unit_test(test_exec_failure_path_lookup),
		cmocka_unit_test(test_exec_failure_not_executable),
		cmocka_unit_test(test_chdir_failure),
		cmocka_unit_test(test_dir_and_stdin_default_to_dev_null),
		cmocka_unit_test(test_clean_env_last_entry_wins),
		cmocka_unit_test(test_inherited_env_set_and_unset),
		cmocka_unit_test(test_big_output_on_both_pipes),
		cmocka_unit_test(test_big_output_sequential),
		cmocka_unit_test(test_grandchild_holds_pipe_until_group_killed),
		cmocka_unit_test(test_registry_kills_everything),
		cmocka_unit_test(test_stderr_to_stdout),
		cmocka_unit_test(test_caller_descriptor_is_used_and_kept),
		cmocka_unit_test(test_child_signals_fds_and_group),
		cmocka_unit_test(test_release_is_idempotent),
		cmocka_unit_test(test_capture_output_status_and_cap),
	};

	if (argc > 1 && !strcmp(argv[1], EXEC_SELF_SUBCOMMAND))
		return 5;	/* test_run_in_child_execs_when_threaded */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
