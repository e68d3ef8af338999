/* Taskscaler's scaling decisions (src/autoscale/ts_model.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "autoscale/ts_model.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

static struct ts_params params(int cap, int use, int max)
{
	struct ts_params p;

	ts_params_init(&p, cap, use, max, 0);
	return p;
}

static const struct ts_policy no_policy;

static struct ts_inst ready(int acquired, int used, uint64_t idle_since)
{
	struct ts_inst i = { .ready = 1, .acquired = acquired, .used = used,
			     .idle_since_ms = idle_since };
	return i;
}

static void test_params(void **state)
{
	struct ts_params p;

	(void)state;
	ts_params_init(&p, 0, -1, 0, 0);
	assert_int_equal(p.capacity, 1);
	assert_int_equal(p.max_use, 0);
	assert_int_equal(p.max_instances, 0);
	/* The plugin's max size caps max_instances, and stands in for 0. */
	ts_params_init(&p, 4, 0, 10, 3);
	assert_int_equal(p.max_instances, 3);
	ts_params_init(&p, 4, 0, 0, 5);
	assert_int_equal(p.max_instances, 5);
	ts_params_init(&p, 4, 2, 0, 0);
	assert_int_equal(ts_slots_per_instance(&p), 2);
}

static void test_free_and_totals(void **state)
{
	struct ts_params p = params(4, 3, 0);
	struct ts_inst v[3] = { ready(0, 2, 0), ready(1, 1, 0),
				{ .creating = 1 } };
	struct ts_totals t;

	(void)state;
	/* Two of three uses gone: one slot left, three lost. */
	assert_int_equal(ts_inst_free(&p, &v[0]), 1);
	assert_int_equal(ts_inst_free(&p, &v[1]), 2);
	v[1].removing = 1;
	assert_int_equal(ts_inst_free(&p, &v[1]), 0);
	v[1].removing = 0;
	ts_totals_sum(&p, v, 3, 1, 2, &t);
	assert_int_equal(t.ready_free, 3);
	assert_int_equal(t.unavailable, 3 + 1);
	assert_int_equal(t.coming, 3 + 3);	/* creating + pending */
	assert_int_equal(t.acquired, 1);
	assert_int_equal(t.reserved, 2);
	assert_int_equal(t.instances, 4);
}

/* Reserved jobs with nothing ready: enough instances for all of them. */
static void test_scale_up_under_queue(void **state)
{
	struct ts_params p = params(2, 0, 0);
	struct ts_totals t;

	(void)state;
	ts_totals_sum(&p, NULL, 0, 0, 5, &t);
	assert_int_equal(ts_scale_up(&p, &no_policy, &t, 0, -1), 3);
	/* Capped by max_instances, and by the throttle's allowance. */
	p = params(2, 0, 2);
	assert_int_equal(ts_scale_up(&p, &no_policy, &t, 0, -1), 2);
	assert_int_equal(ts_scale_up(&p, &no_policy, &t, 0, 1), 1);
	/* Instances on their way count: nothing more to ask for. */
	p = params(2, 0, 0);
	ts_totals_sum(&p, NULL, 0, 3, 5, &t);
	assert_int_equal(ts_scale_up(&p, &no_policy, &t, 3, -1), 0);
	/* With max_instances reached by pending ones, none either. */
	p = params(1, 0, 3);
	ts_totals_sum(&p, NULL, 0, 3, 9, &t);
	assert_int_equal(ts_scale_up(&p, &no_policy, &t, 3, -1), 0);
}

static void test_scale_to_idle_count(void **state)
{
	struct ts_params p = params(2, 0, 0);
	struct ts_policy pol = { .idle_count = 3 };
	struct ts_inst v[1] = { ready(0, 0, 0) };
	struct ts_totals t;

	(void)state;
	ts_totals_sum(&p, NULL, 0, 0, 0, &t);
	assert_int_equal(ts_scale_up(&p, &pol, &t, 0, -1), 2);
	ts_totals_sum(&p, v, 1, 0, 0, &t);
	assert_int_equal(ts_scale_up(&p, &pol, &t, 0, -1), 1);
	ts_totals_sum(&p, v, 1, 1, 0, &t);
	assert_int_equal(ts_scale_up(&p, &pol, &t, 1, -1), 0);
}

static void test_scale_factor(void **state)
{
	struct ts_policy pol = { .idle_count = 1, .scale_factor = 0.5 };

	(void)state;
	assert_int_equal(ts_idle_target(&pol, 0), 1);
	assert_int_equal(ts_idle_target(&pol, 5), 3);	/* ceil(2.5) */
	pol.scale_factor_limit = 2;
	assert_int_equal(ts_idle_target(&pol, 5), 2);
	pol.idle_count = 4;
	assert_int_equal(ts_idle_target(&pol, 5), 4);
}

static void test_scale_down(void **state)
{
	struct ts_params p = params(1, 2, 0);
	struct ts_policy pol = { .idle_count = 1, .idle_time_ms = 1000 };
	/* 0: retired; 1: busy; 2, 3: idle since 500 and 100; 4: new. */
	struct ts_inst v[5] = { ready(0, 2, 0), ready(1, 1, 0),
				ready(0, 1, 500), ready(0, 1, 100),
				ready(0, 0, 1900) };
	struct ts_totals t;
	size_t out[5], n;

	(void)state;
	ts_totals_sum(&p, v, 5, 0, 0, &t);
	assert_int_equal(t.ready_free, 3);
	n = ts_scale_down(&p, &pol, v, 5, &t, 2000, out);
	/*
	 * The retired one goes; of the idle ones, the longest idle first,
	 * as long as one free slot stays; 4 is not idle long enough.
	 */
	assert_int_equal(n, 3);
	assert_int_equal(out[0], 0);
	assert_int_equal(out[1], 3);
	assert_int_equal(out[2], 2);
	/* A job waiting for a slot keeps them all (but the retired one). */
	ts_totals_sum(&p, v, 5, 0, 2, &t);
	n = ts_scale_down(&p, &pol, v, 5, &t, 2000, out);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0);
	/* Before idle_time nothing idle goes. */
	ts_totals_sum(&p, v, 5, 0, 0, &t);
	n = ts_scale_down(&p, &pol, v, 5, &t, 1000, out);
	assert_int_equal(n, 1);
}

static void test_reserve(void **state)
{
	struct ts_params p = params(2, 0, 2);
	struct ts_policy pre = { .idle_count = 1, .preemptive = 1 };
	struct ts_inst v[1] = { ready(1, 1, 0) };
	struct ts_totals t;

	(void)state;
	/* Preemptive: only against a ready free slot. */
	ts_totals_sum(&p, v, 1, 0, 0, &t);
	assert_true(ts_can_reserve(&p, &pre, &t, 1, 0));
	ts_totals_sum(&p, v, 1, 0, 1, &t);
	assert_false(ts_can_reserve(&p, &pre, &t, 1, 5));
	/* Not preemptive: within max_instances x capacity. */
	ts_totals_sum(&p, v, 1, 0, 2, &t);
	assert_true(ts_can_reserve(&p, &no_policy, &t, 0, 0));
	ts_totals_sum(&p, v, 1, 0, 3, &t);
	assert_false(ts_can_reserve(&p, &no_policy, &t, 0, 0));
	/* Throttled: within what is ready, coming, or can be added now. */
	p = params(2, 0, 0);
	ts_totals_sum(&p, v, 1, 0, 1, &t);
	assert_false(ts_can_reserve(&p, &no_policy, &t, 1, 0));
	assert_true(ts_can_reserve(&p, &no_policy, &t, 1, 1));
	assert_true(ts_can_reserve(&p, &no_policy, &t, 0, 0));
}

static void test_pick(void **state)
{
	struct ts_params p = params(3, 0, 0);
	struct ts_inst v[4] = { ready(0, 0, 0), ready(2, 2, 0),
				ready(3, 3, 0), { .creating = 1 } };

	(void)state;
	/* The busiest with room: packs jobs so others can idle out. */
	assert_int_equal(ts_pick(&p, v, 4), 1);
	v[1].removing = 1;
	assert_int_equal(ts_pick(&p, v, 4), 0);
	v[0].ready = 0;
	assert_int_equal(ts_pick(&p, v, 4), -1);
}

static struct tm at(int wday, int hour, int min, int mon, int mday)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_wday = wday;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_mon = mon - 1;
	tm.tm_mday = mday;
	return tm;
}

static void test_periods(void **state)
{
	struct buf err = BUF_INIT;
	struct tm mon9 = at(1, 9, 30, 3, 2), sat9 = at(6, 9, 30, 3, 7),
		  sun = at(0, 12, 0, 3, 8);

	(void)state;
	assert_int_equal(ts_period_matches("* * * * *", &sat9, &err), 1);
	assert_int_equal(ts_period_matches("* 8-17 * * mon-fri", &mon9, &err), 1);
	assert_int_equal(ts_period_matches("* 8-17 * * mon-fri", &sat9, &err), 0);
	assert_int_equal(ts_period_matches("* 18-23 * * 1-5", &mon9, &err), 0);
	assert_int_equal(ts_period_matches("*/15 * * * *", &mon9, &err), 1);
	assert_int_equal(ts_period_matches("*/20 * * * *", &mon9, &err), 0);
	assert_int_equal(ts_period_matches("0-29,30 9 2 mar *", &mon9, &err), 1);
	assert_int_equal(ts_period_matches("* * * * 7", &sun, &err), 1);
	assert_int_equal(ts_period_matches("* * * * 0", &sun, &err), 1);
	assert_int_equal(ts_period_matches("* * * * sat,sun", &sun, &err), 1);
	assert_int_equal(ts_period_matches("* 24 * * *", &sun, &err), -1);
	assert_non_null(strstr(err.data, "'* 24 * * *'"));
	assert_int_equal(ts_period_matches("* * * *", &sun, &err), -1);
	assert_int_equal(ts_period_matches("* * * * * *", &sun, &err), -1);
	assert_int_equal(ts_period_matches("5-1 * * * *", &sun, &err), -1);
	buf_release(&err);
}

/* The last matching entry wins; periods are read in their timezone. */
static void test_policy_active(void **state)
{
	struct config_autoscaler_policy v[3];
	struct ts_policy pol;
	struct buf err = BUF_INIT;
	/* 2026-03-02T09:30:00Z, a Monday: 18:30 in Tokyo. */
	time_t now = 1772443800;
	char utc[] = "UTC", tokyo[] = "Asia/Tokyo", nowhere[] = "Nowhere/Atlantis";

	(void)state;
	memset(v, 0, sizeof(v));
	strvec_init(&v[0].periods);
	strvec_init(&v[1].periods);
	strvec_init(&v[2].periods);
	v[0].idle_count = 1;
	v[0].preemptive_mode = CONFIG_UNSET;
	v[1].idle_count = 5;
	v[1].idle_time_ms = 60000;
	v[1].preemptive_mode = CONFIG_FALSE;
	strvec_push(&v[1].periods, "* 9 * * mon");
	v[1].timezone = utc;
	v[2].idle_count = 9;
	v[2].preemptive_mode = CONFIG_UNSET;
	strvec_push(&v[2].periods, "* 9 * * *");
	v[2].timezone = tokyo;
	assert_int_equal(ts_policy_active(v, 3, now, &pol, &err), 0);
	assert_int_equal(pol.idle_count, 5);
	assert_int_equal(pol.idle_time_ms, 60000);
	assert_false(pol.preemptive);
	/* In Tokyo it is 18:30: the third one matches then. */
	strvec_clear(&v[2].periods);
	strvec_push(&v[2].periods, "* 18 * * mon");
	assert_int_equal(ts_policy_active(v, 3, now, &pol, &err), 0);
	assert_int_equal(pol.idle_count, 9);
	assert_true(pol.preemptive);	/* idle_count > 0 */
	/* None matching: no idle, not preemptive. */
	assert_int_equal(ts_policy_active(v + 1, 1, now + 3600, &pol, &err), 0);
	assert_int_equal(pol.idle_count, 0);
	assert_false(pol.preemptive);
	/* The first has no periods: always. */
	assert_int_equal(ts_policy_active(v, 2, now + 3600, &pol, &err), 0);
	assert_int_equal(pol.idle_count, 1);
	assert_true(pol.preemptive);
	v[2].timezone = nowhere;
	assert_int_equal(ts_policy_active(v, 3, now, &pol, &err),
			 CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "Nowhere/Atlantis"));
	strvec_clear(&v[0].periods);
	strvec_clear(&v[1].periods);
	strvec_clear(&v[2].periods);
	buf_release(&err);
}

/* An instance's slot numbers: the lowest free, a released one again. */
static void test_free_slot(void **state)
{
	int held[3];

	(void)state;
	assert_int_equal(ts_free_slot(NULL, 0, 2), 0);
	held[0] = 0;
	assert_int_equal(ts_free_slot(held, 1, 2), 1);
	held[1] = 1;
	assert_int_equal(ts_free_slot(held, 2, 2), -1);	/* all held */
	/* Slot 0 released while 1 is held: 0 is given again. */
	held[0] = 1;
	assert_int_equal(ts_free_slot(held, 1, 2), 0);
	/* Out of order, with a gap. */
	held[0] = 2;
	held[1] = 0;
	assert_int_equal(ts_free_slot(held, 2, 4), 1);
	held[2] = 1;
	assert_int_equal(ts_free_slot(held, 3, 4), 3);
	assert_int_equal(ts_free_slot(held, 3, 3), -1);
	assert_int_equal(ts_free_slot(NULL, 0, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_free_and_totals),
		cmocka_unit_test(test_scale_up_under_queue),
		cmocka_unit_test(test_scale_to_idle_count),
		cmocka_unit_test(test_scale_factor),
		cmocka_unit_test(test_scale_down),
		cmocka_unit_test(test_reserve),
		cmocka_unit_test(test_pick),
		cmocka_unit_test(test_free_slot),
		cmocka_unit_test(test_periods),
		cmocka_unit_test(test_policy_active),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
