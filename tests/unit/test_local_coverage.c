/*
 * coverage: regexes (local/coverage.h) and the durations exec prints
 * (local/output.h output_duration).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "local/coverage.h"
#include "local/output.h"
#include "util/buf.h"
#include "util/error.h"

/* Feeds the lines of log (separated by '\n') to a coverage for pattern. */
static void expect_coverage(const char *pattern, const char *log,
			    const char *want)
{
	struct coverage c = COVERAGE_INIT;
	struct buf err = BUF_INIT;
	const char *p = log, *nl;

	assert_int_equal(coverage_init(&c, pattern, "job", &err), 0);
	while (*p) {
		nl = strchr(p, '\n');
		coverage_feed(&c, p, nl ? (size_t)(nl - p) : strlen(p));
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (strcmp(c.value, want))
		print_error("pattern %s\n", pattern);
	assert_string_equal(c.value, want);
	coverage_release(&c);
	buf_release(&err);
}

static void test_last_matching_line_wins(void **state)
{
	(void)state;
	expect_coverage("/Coverage: \\d+\\.\\d+%/",
			"Coverage: 12.5%\nCoverage: 78.46%\ndone\n", "78.46");
}

static void test_last_match_of_the_line(void **state)
{
	(void)state;
	expect_coverage("/\\d+%/", "a 10% b 20% c\n", "20");
}

static void test_last_capture_group(void **state)
{
	(void)state;
	expect_coverage("/(\\d+)% of (\\d+\\.\\d+)%/", "x 3% of 91.30% y\n",
			"91.30");
}

static void test_a_line_without_number_keeps_the_earlier(void **state)
{
	(void)state;
	/* GitLab goes back to an earlier line when the last gives no number. */
	expect_coverage("/total:.*/", "total: 55.5\ntotal: none\n", "55.5");
}

static void test_no_match(void **state)
{
	(void)state;
	expect_coverage("/Total: \\d+%/", "nothing\n", "");
}

static void test_bad_patterns(void **state)
{
	struct coverage c = COVERAGE_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(coverage_init(&c, "no slashes", "unit", &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "job 'unit'"));
	coverage_release(&c);
	buf_reset(&err);
	assert_int_equal(coverage_init(&c, "/(unclosed/", "unit", &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "invalid regular expression"));
	coverage_release(&c);
	buf_release(&err);
}

static void expect_duration(uint64_t ms, const char *want)
{
	char out[32];

	output_duration(ms, out, sizeof(out));
	assert_string_equal(out, want);
}

static void test_durations(void **state)
{
	(void)state;
	expect_duration(0, "0 ms");
	expect_duration(41, "41 ms");
	expect_duration(5, "5 ms");
	expect_duration(1230, "1.23 s");
	expect_duration(1500, "1.5 s");
	expect_duration(2000, "2 s");
	expect_duration(12345, "12 s");
	expect_duration(125000, "2.08 min");
	expect_duration(7200000, "2 h");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_last_matching_line_wins),
		cmocka_unit_test(test_last_match_of_the_line),
		cmocka_unit_test(test_last_capture_group),
		cmocka_unit_test(test_a_line_without_number_keeps_the_earlier),
		cmocka_unit_test(test_no_match),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
