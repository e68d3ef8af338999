#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/error.h"
#include "util/timeparse.h"

static void expect_time(const char *text, long long want)
{
	time_t t = 42;

	if (time_parse_rfc3339(text, &t) != 0)
		fail_msg("'%s' was rejected, expected %lld", text, want);
	if ((long long)t != want)
		fail_msg("'%s' read as %lld, expected %lld", text, (long long)t,
			 want);
}

static void test_forms(void **state)
{
	(void)state;
	expect_time("2026-05-01T10:00:00Z", 1777629600);
	expect_time("2026-05-01T10:00:00.000Z", 1777629600);
	expect_time("2026-05-01t10:00:00z", 1777629600);
	expect_time("2026-05-01 10:00:00 UTC", 1777629600);
	expect_time("2026-05-01T10:00:00", 1777629600);	/* no offset: UTC */
	expect_time("2026-05-01T10:00:00+02:00", 1777622400);
	expect_time("2026-05-01T10:00:00.5-0330", 1777642200);
	expect_time("2024-01-02T05:04:05+02", 1704164645);
	/* Go's zero time means "never". */
	expect_time("0001-01-01T00:00:00Z", 0);
}

static void test_rejects_garbage(void **state)
{
	static const char *const bad[] = {
		"", "never", "2026-05-01", "2026-13-01T10:00:00Z",
		"2026-05-01T24:00:00Z", "2026-05-01T10:00:00Zjunk",
		"2026-05-01T10:00:00+2", "2026-05-01X10:00:00Z",
		" 2026-05-01T10:00:00Z", "2026-05-01T10:00:00+99:00",
	};
	time_t t = 42;
	size_t i;

	(void)state;
	assert_int_equal(time_parse_rfc3339(NULL, &t), CR_ERR_INVALID);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (time_parse_rfc3339(bad[i], &t) != CR_ERR_INVALID)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(t, 42);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_rejects_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
