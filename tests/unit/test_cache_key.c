#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "archive/cache.h"
#include "util/buf.h"
#include "util/error.h"

/* gitlab-runner's cachekey.Sanitize cases, and some of our own. */
static const struct {
	const char *key, *expect;	/* expect NULL: refused */
} sanitize_table[] = {
	{ "key", "key" },
	{ "main/job", "main/job" },
	{ "../../etc", "etc" },
	{ "a/../../b", "b" },
	{ "..", NULL },
	{ "/", NULL },
	{ "", NULL },
	{ "%2e%2e%2fescape", "escape" },
	{ "%2E%2E%2F%2e%2E/x", "x" },
	{ "a\\b\\..\\c", "a/c" },
	{ "trailing  ", "trailing" },
	{ "dir/   /  ", "dir" },
	{ " lead", " lead" },
	{ "./a/./b/", "a/b" },
	{ "r/x", "r/x" },
	{ "1/2/3/../../..", NULL },
};

static void test_sanitize_table(void **state)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(sanitize_table) / sizeof(sanitize_table[0]); i++) {
		int r;

		buf_reset(&err);
		r = cache_key_sanitize(sanitize_table[i].key, &out, &err);
		if (!sanitize_table[i].expect) {
			if (r != CR_ERR_INVALID)
				fail_msg("'%s': expected refusal, got '%s'",
					 sanitize_table[i].key, out.data);
			assert_true(err.len > 0);
		} else if (r != 0 || strcmp(out.data, sanitize_table[i].expect)) {
			fail_msg("'%s': expected '%s', got '%s' (%d %s)",
				 sanitize_table[i].key, sanitize_table[i].expect,
				 out.data, r, err.data);
		}
	}
	buf_reset(&err);
	assert_int_equal(cache_key_sanitize("..", &out, &err), CR_ERR_INVALID);
	assert_string_equal(err.data, "cache key \"..\" could not be sanitized");
	buf_release(&out);
	buf_release(&err);
}

static void test_fallback_trim(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	cache_fallback_key_trim("main-key / \\", &out);
	assert_string_equal(out.data, "main-key");
	cache_fallback_key_trim("plain", &out);
	assert_string_equal(out.data, "plain");
	buf_release(&out);
}

static void test_policy(void **state)
{
	(void)state;
	assert_int_equal(cache_policy_allows("", true), CACHE_POLICY_YES);
	assert_int_equal(cache_policy_allows("", false), CACHE_POLICY_YES);
	assert_int_equal(cache_policy_allows("pull-push", false), CACHE_POLICY_YES);
	assert_int_equal(cache_policy_allows("pull", true), CACHE_POLICY_YES);
	assert_int_equal(cache_policy_allows("pull", false), CACHE_POLICY_NO);
	assert_int_equal(cache_policy_allows("push", true), CACHE_POLICY_NO);
	assert_int_equal(cache_policy_allows("push", false), CACHE_POLICY_YES);
	assert_int_equal(cache_policy_allows("pul", true), CACHE_POLICY_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_table),
		cmocka_unit_test(test_fallback_trim),
		cmocka_unit_test(test_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
