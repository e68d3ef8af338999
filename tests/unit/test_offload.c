/*
 * util/offload.h: work runs on another thread, its completion on the loop
 * thread and never inside offload_start(); a cancel before completion
 * means no callback, and the work is still freed once (by the thread).
 * log_capture (log.h) keeps a worker's lines for the loop to write.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "util/log.h"
#include "util/loop.h"
#include "util/offload.h"

struct work {
	pthread_t ran_on;
	int ran;		/* atomic */
	int release;		/* atomic: the test lets run() return */
	int *freed;		/* atomic counter outside the work */
	struct log_capture logs;
};

struct done_state {
	int calls;
	pthread_t called_on;
	int rc;
	int ran_seen;
};

static void run_work(void *arg)
{
	struct work *w = arg;

	while (!__atomic_load_n(&w->release, __ATOMIC_ACQUIRE))
		usleep(1000);
	w->ran_on = pthread_self();
	log_capture_begin(&w->logs);
	log_warn("signed %d URLs", 3);
	log_capture_end();
	__atomic_store_n(&w->ran, 1, __ATOMIC_RELEASE);
}

static void free_work(void *arg)
{
	struct work *w = arg;

	log_capture_release(&w->logs);
	__atomic_add_fetch(w->freed, 1, __ATOMIC_ACQ_REL);
	free(w);
}

static void on_done(void *ctx, void *arg, int rc)
{
	struct done_state *st = ctx;
	struct work *w = arg;

	st->calls++;
	st->called_on = pthread_self();
	st->rc = rc;
	st->ran_seen = w->ran;
	assert_false(pthread_equal(w->ran_on, pthread_self()));
	assert_int_equal(1, (int)w->logs.nr);
	assert_int_equal(LOG_LEVEL_WARN, w->logs.v[0].level);
	assert_string_equal("signed 3 URLs", w->logs.v[0].msg);
}

static struct work *new_work(int *freed, int release)
{
	struct work *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	w->freed = freed;
	w->release = release;
	return w;
}

static void run_until(struct loop *loop, int *flag, int want)
{
	int i;

	for (i = 0; i < 500 && __atomic_load_n(flag, __ATOMIC_ACQUIRE) != want;
	     i++)
		assert_int_equal(0, loop_run_once(loop, 10));
}

static void test_done_on_loop_thread(void **state)
{
	struct loop *loop = loop_new();
	struct done_state st = { 0 };
	int freed = 0;
	struct offload *op;

	(void)state;
	op = offload_start(loop, run_work, new_work(&freed, 1), free_work,
			   on_done, &st);
	assert_non_null(op);
	assert_int_equal(0, st.calls);	/* never from inside start */
	run_until(loop, &st.calls, 1);
	assert_int_equal(1, st.calls);
	assert_int_equal(0, st.rc);
	assert_int_equal(1, st.ran_seen);
	assert_true(pthread_equal(st.called_on, pthread_self()));
	run_until(loop, &freed, 1);
	assert_int_equal(1, freed);
	loop_free(loop);
}

static void test_cancel_before_done(void **state)
{
	struct loop *loop = loop_new();
	struct done_state st = { 0 };
	struct work *w;
	int freed = 0, i;
	struct offload *op;

	(void)state;
	w = new_work(&freed, 0);
	op = offload_start(loop, run_work, w, free_work, on_done, &st);
	assert_int_equal(0, loop_run_once(loop, 20));
	offload_cancel(op);
	/* The thread still owns w: it finishes run() and frees it. */
	assert_int_equal(0, freed);
	__atomic_store_n(&w->release, 1, __ATOMIC_RELEASE);
	for (i = 0; i < 500 && !__atomic_load_n(&freed, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	assert_int_equal(1, freed);
	for (i = 0; i < 5; i++)
		assert_int_equal(0, loop_run_once(loop, 10));
	assert_int_equal(0, st.calls);
	loop_free(loop);
}

static void test_many_at_once(void **state)
{
	struct loop *loop = loop_new();
	struct done_state st[16];
	int freed = 0, total = 0, i;

	(void)state;
	memset(st, 0, sizeof(st));
	for (i = 0; i < 16; i++)
		(void)offload_start(loop, run_work, new_work(&freed, 1),
				    free_work, on_done, &st[i]);
	run_until(loop, &freed, 16);
	for (i = 0; i < 16; i++)
		total += st[i].calls;
	assert_int_equal(16, total);
	assert_int_equal(16, freed);
	loop_free(loop);
}

static void test_capture_is_per_thread(void **state)
{
	struct log_capture cap = LOG_CAPTURE_INIT;

	(void)state;
	log_capture_begin(&cap);
	log_warn("first");
	log_error_r(-1, "second");
	log_debug("below the level: not kept");
	log_capture_end();
	log_info("after the end: written, not kept");
	assert_int_equal(2, (int)cap.nr);
	assert_string_equal("first", cap.v[0].msg);
	assert_int_equal(LOG_LEVEL_ERROR, cap.v[1].level);
	assert_non_null(strstr(cap.v[1].msg, "second: "));
	log_capture_replay(&cap);
	log_capture_release(&cap);
	assert_int_equal(0, (int)cap.nr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_done_on_loop_thread),
		cmocka_unit_test(test_cancel_before_done),
		cmocka_unit_test(test_many_at_once),
		cmocka_unit_test(test_capture_is_per_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
