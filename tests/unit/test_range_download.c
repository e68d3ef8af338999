#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "gitlab/range_download.h"

/* gitlab-runner's TestParseContentRangeTotal (helpers/transfer), and more. */
static void test_content_total(void **state)
{
	(void)state;
	assert_int_equal(range_content_total("bytes 0-0/69712157"), 69712157);
	assert_int_equal(range_content_total("bytes */69712157"), 69712157);
	assert_int_equal(range_content_total("  bytes 0-0/42  "), 42);
	assert_int_equal(range_content_total("bytes 0-0/*"), -1);
	assert_int_equal(range_content_total(""), -1);
	assert_int_equal(range_content_total(NULL), -1);
	assert_int_equal(range_content_total("invalid"), -1);
	assert_int_equal(range_content_total("bytes 0-0/0"), -1);
	assert_int_equal(range_content_total("bytes 0-0/-5"), -1);
	assert_int_equal(range_content_total("bytes 0-0/12x"), -1);
	assert_int_equal(range_content_total("bytes 0-0/99999999999999999999"),
			 -1);
	assert_int_equal(range_content_total("bytes 0-0/9007199254740993"),
			 9007199254740993LL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_total),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
