/*
 * The Prometheus exposition (metrics/metrics.c) for known counters, and
 * the manager's pure scheduling helpers (manager/sched.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "manager/manager_int.h"
#include "metrics/metrics.h"
#include "util/buf.h"

/* ---- exposition ---- */

struct fixture {
	struct metrics_runner a, b;
	const struct metrics_runner *runners[2];
	struct metrics_job jobs[3];
	struct metrics_global global;
	struct metrics_source src;
	struct buf out;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	metrics_runner_init(&f->a, "glrt-t1_AbCdEfGhIjKlMnOp", "alpha");
	metrics_runner_init(&f->b, "glrt-ZyXwVuTsRq", "be\"ta\\x\ny");
	f->a.listed = f->b.listed = true;
	f->a.limit = 2;
	f->b.limit = 0;
	f->a.hard_limit = 3;
	f->a.adaptive_limit = 1.5;
	f->a.used_limit = 2;
	f->a.requests = 1;
	f->b.hard_limit = f->b.used_limit = 1;
	f->b.adaptive_limit = 1;
	f->runners[0] = &f->a;
	f->runners[1] = &f->b;
	f->global.errors[METRICS_LEVEL_WARNING] = 2;
	f->src.concurrent = 4;
	f->src.system_id = "r_0123456789ab";
	f->src.global = &f->global;
	f->src.runners = f->runners;
	f->src.nr_runners = 2;
	f->src.jobs = f->jobs;
	buf_init(&f->out, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	metrics_runner_release(&f->a);
	metrics_runner_release(&f->b);
	buf_release(&f->out);
	free(f);
	return 0;
}

static void expect_line(const struct buf *out, const char *line)
{
	struct buf want = BUF_INIT;

	buf_addf(&want, "%s\n", line);
	if (!strstr(out->data, want.data))
		fail_msg("expected line\n  %s\nin\n%s", line, out->data);
	buf_release(&want);
}

static void expect_no(const struct buf *out, const char *text)
{
	if (strstr(out->data, text))
		fail_msg("did not expect '%s' in\n%s", text, out->data);
}

static void test_idle_state_exact(void **state)
{
	struct fixture *f = *state;
	static const char want[] =
		"# HELP gitlab_runner_concurrent The current value of concurrent setting\n"
		"# TYPE gitlab_runner_concurrent gauge\n"
		"gitlab_runner_concurrent 4\n"
		"# HELP gitlab_runner_errors_total The number of caught errors.\n"
		"# TYPE gitlab_runner_errors_total counter\n"
		"gitlab_runner_errors_total{level=\"error\"} 0\n"
		"gitlab_runner_errors_total{level=\"fatal\"} 0\n"
		"gitlab_runner_errors_total{level=\"panic\"} 0\n"
		"gitlab_runner_errors_total{level=\"warning\"} 2\n"
		"# HELP gitlab_runner_jobs The current number of running builds.\n"
		"# TYPE gitlab_runner_jobs gauge\n"
		"gitlab_runner_jobs{executor_stage=\"idle\",runner=\"AbCdEfGhI\",runner_name=\"alpha\",stage=\"idle\",state=\"idle\",system_id=\"r_0123456789ab\"} 0\n"
		"gitlab_runner_jobs{executor_stage=\"idle\",runner=\"ZyXwVuTsR\",runner_name=\"be\\\"ta\\\\x\\ny\",stage=\"idle\",state=\"idle\",system_id=\"r_0123456789ab\"} 0\n"
		"# HELP gitlab_runner_limit The current value of limit setting\n"
		"# TYPE gitlab_runner_limit gauge\n"
		"gitlab_runner_limit{runner=\"AbCdEfGhI\",runner_name=\"alpha\",system_id=\"r_0123456789ab\"} 2\n"
		"gitlab_runner_limit{runner=\"ZyXwVuTsR\",runner_name=\"be\\\"ta\\\\x\\ny\",system_id=\"r_0123456789ab\"} 0\n"
		"# HELP gitlab_runner_request_concurrency The current number of concurrent requests for a new job\n"
		"# TYPE gitlab_runner_request_concurrency gauge\n"
		"gitlab_runner_request_concurrency{runner=\"AbCdEfGhI\",system_id=\"r_0123456789ab\"} 1\n"
		"gitlab_runner_request_concurrency{runner=\"ZyXwVuTsR\",system_id=\"r_0123456789ab\"} 0\n"
		"# HELP gitlab_runner_request_concurrency_adaptive_limit Computed adaptive request concurrency limit\n"
		"# TYPE gitlab_runner_request_concurrency_adaptive_limit gauge\n"
		"gitlab_runner_request_concurrency_adaptive_limit{runner=\"AbCdEfGhI\",system_id=\"r_0123456789ab\"} 1.5\n"
		"gitlab_runner_request_concurrency_adaptive_limit{runner=\"ZyXwVuTsR\",system_id=\"r_0123456789ab\"} 1\n"
		"# HELP gitlab_runner_request_concurrency_exceeded_total Count of excess requests above the configured request_concurrency limit\n"
		"# TYPE gitlab_runner_request_concurrency_exceeded_total counter\n"
		"gitlab_runner_request_concurrency_exceeded_total{runner=\"AbCdEfGhI\",system_id=\"r_0123456789ab\"} 0\n"
		"gitlab_runner_request_concurrency_exceeded_total{runner=\"ZyXwVuTsR\",system_id=\"r_0123456789ab\"} 0\n"
		"# HELP gitlab_runner_request_concurrency_hard_limit Configured request_concurrency limit\n"
		"# TYPE gitlab_runner_request_concurrency_hard_limit gauge\n"
		"gitlab_runner_request_concurrency_hard_limit{runner=\"AbCdEfGhI\",system_id=\"r_0123456789ab\"} 3\n"
		"gitlab_runner_request_concurrency_hard_limit{runner=\"ZyXwVuTsR\",system_id=\"r_0123456789ab\"} 1\n"
		"# HELP gitlab_runner_request_concurrency_used_limit Used request concurrency limit\n"
		"# TYPE gitlab_runner_request_concurrency_used_limit gauge\n"
		"gitlab_runner_request_concurrency_used_limit{runner=\"AbCdEfGhI\",system_id=\"r_0123456789ab\"} 2\n"
		"gitlab_runner_request_concurrency_used_limit{runner=\"ZyXwVuTsR\",system_id=\"r_0123456789ab\"} 1\n"
		"# HELP gitlab_runner_version_info A metric with a constant '1' value labeled by different build stats fields.\n"
		"# TYPE gitlab_runner_version_info gauge\n"
		"gitlab_runner_version_info{architecture=\"";

	assert_int_equal(metrics_render(&f->out, &f->src), 0);
	if (strncmp(f->out.data, want, strlen(want)))
		fail_msg("expected\n%s\ngot\n%s", want, f->out.data);
	/* No job and no request answer yet: those families are left out. */
	expect_no(&f->out, "gitlab_runner_jobs_total");
	expect_no(&f->out, "gitlab_runner_job_duration_seconds");
	expect_no(&f->out, "gitlab_runner_api_request_statuses_total");
	assert_int_equal(f->out.data[f->out.len - 1], '\n');
	expect_no(&f->out, "version=\"\"");
}

static void test_histogram_is_cumulative(void **state)
{
	struct fixture *f = *state;
	const char *p = "gitlab_runner_job_duration_seconds_bucket{runner=\"AbCdEfGhI\",runner_name=\"alpha\",system_id=\"r_0123456789ab\",le=";

	metrics_runner_job_started(&f->a);
	metrics_runner_job_started(&f->a);
	metrics_runner_job_started(&f->a);
	metrics_runner_job_finished(&f->a, 12.5);	/* <= 30 */
	metrics_runner_job_finished(&f->a, 30);		/* <= 30: le is inclusive */
	metrics_runner_job_finished(&f->a, 700);	/* <= 1800 */
	metrics_runner_job_finished(&f->a, 50000);	/* only +Inf */
	assert_int_equal(metrics_render(&f->out, &f->src), 0);
	expect_line(&f->out, "# TYPE gitlab_runner_job_duration_seconds histogram");
	{
		static const char *const rows[][2] = {
			{ "30", "2" }, { "60", "2" }, { "300", "2" },
			{ "600", "2" }, { "1800", "3" }, { "3600", "3" },
			{ "7200", "3" }, { "10800", "3" }, { "18000", "3" },
			{ "36000", "3" }, { "+Inf", "4" },
		};
		size_t i;

		for (i = 0; i < sizeof(rows) / sizeof(*rows); i++) {
			struct buf line = BUF_INIT;

			buf_addf(&line, "%s\"%s\"} %s", p, rows[i][0],
				 rows[i][1]);
			expect_line(&f->out, line.data);
			buf_release(&line);
		}
	}
	expect_line(&f->out, "gitlab_runner_job_duration_seconds_sum{runner=\"AbCdEfGhI\",runner_name=\"alpha\",system_id=\"r_0123456789ab\"} 50742.5");
	expect_line(&f->out, "gitlab_runner_job_duration_seconds_count{runner=\"AbCdEfGhI\",runner_name=\"alpha\",system_id=\"r_0123456789ab\"} 4");
	expect_line(&f->out, "gitlab_runner_jobs_total{runner=\"AbCdEfGhI\",runner_name=\"alpha\",system_id=\"r_0123456789ab\"} 3");
	/* The other runner took no job: no series for it. */
	expect_no(&f->out, "gitlab_runner_jobs_total{runner=\"ZyXwVuTsR\"");
}

static void test_jobs_grouped_and_statuses(void **state)
{
	struct fixture *f = *state;

	f->jobs[0] = (struct metrics_job){ &f->a, "running", "step_script", "docker_run" };
	f->jobs[1] = (struct metrics_job){ &f->a, "running", "step_script", "docker_run" };
	f->jobs[2] = (struct metrics_job){ &f->b, "running", "get_sources", "docker_run" };
	f->src.nr_jobs = 3;
	metrics_runner_count_status(&f->a, METRICS_EP_REQUEST_JOB, 204);
	metrics_runner_count_status(&f->a, METRICS_EP_REQUEST_JOB, 204);
	metrics_runner_count_status(&f->a, METRICS_EP_REQUEST_JOB, 201);
	metrics_runner_count_status(&f->a, METRICS_EP_REQUEST_JOB, 0);
	metrics_runner_count_status(&f->b, METRICS_EP_RESET_TOKEN, 201);
	f->b.listed = false;	/* gone from the config: no limit */
	assert_int_equal(metrics_render(&f->out, &f->src), 0);
	expect_line(&f->out, "gitlab_runner_jobs{executor_stage=\"docker_run\",runner=\"AbCdEfGhI\",runner_name=\"alpha\",stage=\"step_script\",state=\"running\",system_id=\"r_0123456789ab\"} 2");
	expect_line(&f->out, "gitlab_runner_jobs{executor_stage=\"docker_run\",runner=\"ZyXwVuTsR\",runner_name=\"be\\\"ta\\\\x\\ny\",stage=\"get_sources\",state=\"running\",system_id=\"r_0123456789ab\"} 1");
	expect_line(&f->out, "gitlab_runner_api_request_statuses_total{endpoint=\"request_job\",runner=\"AbCdEfGhI\",status=\"201\",system_id=\"r_0123456789ab\"} 1");
	expect_line(&f->out, "gitlab_runner_api_request_statuses_total{endpoint=\"request_job\",runner=\"AbCdEfGhI\",status=\"204\",system_id=\"r_0123456789ab\"} 2");
	expect_line(&f->out, "gitlab_runner_api_request_statuses_total{endpoint=\"reset_token\",runner=\"ZyXwVuTsR\",status=\"201\",system_id=\"r_0123456789ab\"} 1");
	expect_no(&f->out, "status=\"0\"");
	expect_no(&f->out, "gitlab_runner_limit{runner=\"ZyXwVuTsR\"");
}

static void check_value(double v, const char *want)
{
	struct buf b = BUF_INIT;

	metrics_format_value(&b, v);
	assert_string_equal(b.data, want);
	buf_release(&b);
}

static void test_value_format_is_gos(void **state)
{
	(void)state;
	check_value(0, "0");
	check_value(30, "30");
	check_value(36000, "36000");
	check_value(1e6, "1e+06");
	check_value(1234567, "1.234567e+06");
	check_value(1.5, "1.5");
	check_value(0.1, "0.1");
	check_value(0.0001, "0.0001");
	check_value(0.00001, "1e-05");
	check_value(-2, "-2");
	check_value(1.0 / 0.0, "+Inf");
	check_value(-1.0 / 0.0, "-Inf");
}

static void test_label_escaping(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	metrics_escape_label(&b, "a\\b\"c\nd\te");
	assert_string_equal(b.data, "a\\\\b\\\"c\\nd\te");
	buf_release(&b);
}

static void test_split_address(void **state)
{
	static const struct {
		const char *in, *host, *port;
	} ok[] = {
		{ "127.0.0.1:9000", "127.0.0.1", "9000" },
		{ ":9252", NULL, "9252" },
		{ "localhost", "localhost", "9252" },
		{ "[::1]:80", "::1", "80" },
		{ "[::]", "::", "9252" },
	};
	static const char *const bad[] = { "", "::1", "host:", "h:x1",
					   "[::1", "[::1]x" };
	struct buf err = BUF_INIT;
	char *host, *port;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		assert_int_equal(metrics_split_address(ok[i].in, &host, &port,
						       &err), 0);
		if (ok[i].host)
			assert_string_equal(host, ok[i].host);
		else
			assert_null(host);
		assert_string_equal(port, ok[i].port);
		free(host);
		free(port);
	}
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		buf_reset(&err);
		assert_int_not_equal(metrics_split_address(bad[i], &host, &port,
							   &err), 0);
		assert_true(err.len > 0);
	}
	buf_release(&err);
}

/* ---- scheduling ---- */

static struct sched_state idle_state(void)
{
	struct sched_state s = { 0 };

	s.concurrent = 4;
	s.request_limit = 1;
	return s;
}

static void test_sched_may_request(void **state)
{
	struct sched_state s = idle_state();

	(void)state;
	assert_int_equal(sched_may_request(&s), SCHED_REQUEST);
	/* concurrent counts requests and jobs over all runners */
	s.busy = 4;
	assert_int_equal(sched_may_request(&s), SCHED_CONCURRENT_FULL);
	s = idle_state();
	/* limit counts the entry's requests and jobs; 0 is no limit */
	s.limit = 2;
	s.jobs = 1;
	s.busy = 1;
	assert_int_equal(sched_may_request(&s), SCHED_REQUEST);
	s.requests = 1;
	s.busy = 2;
	assert_int_equal(sched_may_request(&s), SCHED_LIMIT_REACHED);
	s.limit = 0;
	assert_int_equal(sched_may_request(&s), SCHED_REQUESTS_FULL);
	s.request_limit = 2;
	assert_int_equal(sched_may_request(&s), SCHED_REQUEST);
	s.request_limit = 0;	/* read as 1 */
	assert_int_equal(sched_may_request(&s), SCHED_REQUESTS_FULL);
	/* health and back-off come first */
	s = idle_state();
	s.backing_off = true;
	assert_int_equal(sched_may_request(&s), SCHED_BACKOFF);
	s.unhealthy = true;
	assert_int_equal(sched_may_request(&s), SCHED_UNHEALTHY);
	assert_string_equal(sched_verdict_name(SCHED_LIMIT_REACHED),
			    "'limit' reached");
}

static void test_sched_backoff_bounds(void **state)
{
	static const uint32_t rnds[] = { 0, 1, 7, 1000, 123456789, UINT32_MAX };
	unsigned n;
	size_t i;

	(void)state;
	assert_int_equal(sched_backoff_ms(0, 3000, 60000, 5), 0);
	for (n = 1; n <= 12; n++) {
		long d = 3000;
		unsigned k;

		for (k = 1; k < n && d < 60000; k++)
			d *= 2;
		if (d > 60000)
			d = 60000;
		for (i = 0; i < sizeof(rnds) / sizeof(*rnds); i++) {
			long got = sched_backoff_ms(n, 3000, 60000, rnds[i]);

			if (got < d - d / 2 || got > d)
				fail_msg("failures %u rnd %u: %ld not in [%ld, %ld]",
					 n, rnds[i], got, d - d / 2, d);
		}
	}
	/* jitter spreads: not every value the same */
	assert_int_not_equal(sched_backoff_ms(3, 1000, 60000, 0),
			     sched_backoff_ms(3, 1000, 60000, 1001));
}

static void test_sched_adaptive(void **state)
{
	double a = 1;
	int i;

	(void)state;
	a = sched_adaptive_update(a, SCHED_GOT_JOB, 3);
	assert_true(a > 1.09 && a < 1.11);
	assert_int_equal(sched_request_limit(a, 3, true), 2);
	for (i = 0; i < 15; i++)
		a = sched_adaptive_update(a, SCHED_GOT_JOB, 3);
	assert_true(a == 3);
	assert_int_equal(sched_request_limit(a, 3, true), 3);
	a = sched_adaptive_update(a, SCHED_SLOW_DOWN, 3);
	assert_true(a > 1.49 && a < 1.51);
	assert_int_equal(sched_request_limit(a, 3, true), 2);
	for (i = 0; i < 50; i++)
		a = sched_adaptive_update(a, SCHED_NO_JOB, 3);
	assert_true(a >= 1 && a < 1.0001);
	assert_int_equal(sched_request_limit(a, 3, true), 1);
	assert_int_equal(sched_request_limit(a, 3, false), 3);
	assert_int_equal(sched_request_limit(0, 0, true), 1);
	a = sched_adaptive_update(1, SCHED_GOT_JOB, 1);
	assert_true(a == 1);
}

static void test_sched_free_slot(void **state)
{
	int used[] = { 0, 2, 1, 4 };

	(void)state;
	assert_int_equal(sched_free_slot(NULL, 0), 0);
	assert_int_equal(sched_free_slot(used, 4), 3);
	assert_int_equal(sched_free_slot(used + 1, 3), 0);
}

static void test_token_times(void **state)
{
	(void)state;
	assert_int_equal(sched_token_reset_at(1000, 2000), 1750);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_idle_state_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_histogram_is_cumulative, setup, teardown),
		cmocka_unit_test_setup_teardown(test_jobs_grouped_and_statuses, setup, teardown),
		cmocka_unit_test(test_value_format_is_gos),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_split_address),
		cmocka_unit_test(test_sched_may_request),
		cmocka_unit_test(test_sched_backoff_bounds),
		cmocka_unit_test(test_sched_adaptive),
		cmocka_unit_test(test_sched_free_slot),
		cmocka_unit_test(test_token_times),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
