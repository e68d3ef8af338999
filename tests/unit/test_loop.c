#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/loop.h"

struct counter {
	int calls;
	int stop_after;
};

static long count_timer(struct loop *loop, void *ctx)
{
	struct counter *c = ctx;

	if (++c->calls >= c->stop_after) {
		loop_stop(loop);
		return LOOP_TIMER_STOP;
	}
	return 5;
}

static void test_timer_repeats_until_stopped(void **state)
{
	struct loop *loop = loop_new();
	struct counter c = { 0, 3 };
	uint64_t start = loop_now_ms(loop);

	(void)state;
	loop_add_timer(loop, 5, count_timer, &c);
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(c.calls, 3);
	assert_true(loop_now_ms(loop) - start >= 10);
	loop_free(loop);
}

static long never_timer(struct loop *loop, void *ctx)
{
	(void)loop;
	(*(int *)ctx)++;
	return LOOP_TIMER_STOP;
}

static void test_cancelled_timer_never_runs(void **state)
{
	struct loop *loop = loop_new();
	int calls = 0;
	uint64_t id = loop_add_timer(loop, 1, never_timer, &calls);

	(void)state;
	loop_cancel_timer(loop, id);
	usleep(5000);
	loop_run_once(loop, 10);
	assert_int_equal(calls, 0);
	loop_free(loop);
}

struct reader {
	char got[64];
	size_t len;
};

static void on_readable(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct reader *r = ctx;
	ssize_t n;

	(void)events;
	n = read(fd, r->got + r->len, sizeof(r->got) - 1 - r->len);
	if (n <= 0) {
		loop_unwatch_fd(loop, fd);
		loop_stop(loop);
		return;
	}
	r->len += (size_t)n;
}

static void test_fd_watch_reads_until_eof(void **state)
{
	struct loop *loop = loop_new();
	struct reader r = { { 0 }, 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "hello", 5), 5);
	close(p[1]);
	loop_watch_fd(loop, p[0], LOOP_READ, on_readable, &r);
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(r.len, 5);
	assert_memory_equal(r.got, "hello", 5);
	close(p[0]);
	loop_free(loop);
}

struct child_result {
	pid_t pid;
	int status;
	int calls;
};

static void on_child(struct loop *loop, pid_t pid, int status, void *ctx)
{
	struct child_result *c = ctx;

	c->pid = pid;
	c->status = status;
	c->calls++;
	loop_stop(loop);
}

static void test_child_exit_is_reported(void **state)
{
	struct loop *loop = loop_new();
	struct child_result c = { 0, 0, 0 };
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(7);
	assert_int_equal(loop_watch_child(loop, pid, on_child, &c), 0);
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(c.pid, pid);
	assert_true(WIFEXITED(c.status));
	assert_int_equal(WEXITSTATUS(c.status), 7);
	loop_free(loop);
}

/*
 * A second loop without child or signal watches (gl_http_perform_sync()'s
 * private one, maybe on another thread) must leave the SIGCHLD byte to the
 * loop that watches the child.
 */
static void test_private_loop_leaves_child_exits_alone(void **state)
{
	struct loop *loop = loop_new(), *private_loop = loop_new();
	struct child_result c = { 0, 0, 0 };
	int gate[2], i;
	char byte;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(gate), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(gate[1]);
		/* Until the parent closes its end. */
		(void)!read(gate[0], &byte, 1);
		_exit(3);
	}
	close(gate[0]);
	assert_int_equal(loop_watch_child(loop, pid, on_child, &c), 0);
	assert_int_equal(loop_run_once(loop, 0), 0);
	assert_int_equal(c.calls, 0);
	close(gate[1]);
	for (i = 0; i < 5; i++)
		assert_int_equal(loop_run_once(private_loop, 50), 0);
	for (i = 0; i < 20 && !c.calls; i++)
		assert_int_equal(loop_run_once(loop, 100), 0);
	assert_int_equal(c.calls, 1);
	assert_int_equal(WEXITSTATUS(c.status), 3);
	loop_free(private_loop);
	loop_free(loop);
}

static void on_signal(struct loop *loop, int signo, void *ctx)
{
	*(int *)ctx = signo;
	loop_stop(loop);
}

static void test_signal_is_delivered_on_the_loop(void **state)
{
	struct loop *loop = loop_new();
	int got = 0;

	(void)state;
	assert_int_equal(loop_watch_signal(loop, SIGUSR1, on_signal, &got), 0);
	kill(getpid(), SIGUSR1);
	assert_int_equal(loop_run(loop), 0);
	assert_int_equal(got, SIGUSR1);
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_repeats_until_stopped),
		cmocka_unit_test(test_cancelled_timer_never_runs),
		cmocka_unit_test(test_fd_watch_reads_until_eof),
		cmocka_unit_test(test_child_exit_is_reported),
		cmocka_unit_test(test_private_loop_leaves_child_exits_alone),
		cmocka_unit_test(test_signal_is_delivered_on_the_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
