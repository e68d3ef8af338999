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

/*
 * The inputs and results of gitlab-runner's TestSanitize
 * (cache/cachekey/cachekey_test.go), in its order; "" is left out (we
 * refuse an empty key, the caller never passes one).
 */
struct key_case {
	const char *key, *expect;	/* expect NULL: refused */
};

static const struct key_case sanitize_table[] = {
	{ "fallback_key", "fallback_key" },
	{ "some-job/some-ref", "some-job/some-ref" },
	{ ".../....", ".../...." },
	{ "...", "..." },
	{ "fallback_key/", "fallback_key" },
	{ "fallback_key ", "fallback_key" },
	{ "fallback_key\\", "fallback_key" },
	{ "fallback_key/ \\", "fallback_key" },
	{ "fallback_key/ / \\  \\", "fallback_key" },
	{ "fallback_key/o", "fallback_key/o" },
	{ "fallback_key / \\o", "fallback_key / /o" },
	{ "\t foo bar \t\r", "\t foo bar" },
	{ " foo / bar ", " foo / bar" },
	{ "foo\r", "foo" },
	{ "foo\t", "foo" },
	{ "foo \t \r ", "foo" },
	{ "\\", NULL },
	{ "\\.", NULL },
	{ "/", NULL },
	{ " ", NULL },
	{ ".", NULL },
	{ "..", NULL },
	{ " / ", NULL },
	{ "//", NULL },
	{ "//\\", NULL },
	{ "../.", NULL },
	{ "foo\\bar\\..\\..", NULL },
	{ "foo/bar/../..", NULL },
	{ " \t\r\n", NULL },
	{ "something %2F something", "something / something" },
	{ "something %2f something", "something / something" },
	{ "some%2f../job/some/ref/.", "job/some/ref" },
	{ "%2E", NULL },
	{ "%2E%2E", NULL },
	{ "%2E%2E%2E", "..." },
	{ "%2e", NULL },
	{ "%2e%2E", NULL },
	{ ".%2E", NULL },
	{ "%2e.", NULL },
	{ "%2E%2e%2E", "..." },
	{ "%5C", "%5C" },
	{ "%5c", "%5c" },
	{ "foo/./bar", "foo/bar" },
	{ "foo/blipp/../bar", "foo/bar" },
	{ "/foo/bar", "foo/bar" },
	{ "//foo/bar", "foo/bar" },
	{ "./foo/bar", "foo/bar" },
	{ "../foo/bar", "foo/bar" },
	{ ".../foo/bar", ".../foo/bar" },
	{ "foo/bar/..", "foo" },
	{ "foo/bar/../../../.././blerp", "blerp" },
	{ "a/b/c/../../d", "a/d" },
	{ "job\\name/git\\ref", "job/name/git/ref" },
	{ "foo\\.\\bar", "foo/bar" },
	{ "foo\\blipp\\..\\bar", "foo/bar" },
	{ "\\foo\\bar", "foo/bar" },
	{ "\\\\foo\\bar", "foo/bar" },
	{ ".\\foo\\bar", "foo/bar" },
	{ "..\\foo\\bar", "foo/bar" },
	{ "...\\foo\\bar", ".../foo/bar" },
	{ "foo\\bar\\..", "foo" },
	{ "foo\\bar\\..\\..\\..\\..\\.\\blerp", "blerp" },
	{ "foo/ /bar", "foo/ /bar" },
	{ "foo/ /", "foo" },
	{ "foo/ / /", "foo" },
	/* Go's unicode.IsSpace beyond ASCII: NBSP, U+2003, U+3000. */
	{ "key\xc2\xa0", "key" },
	{ "key \xe2\x80\x83/\xe3\x80\x80", "key" },
};

/*
 * Keys that gitlab-runner turns into ".." or a "." component because it
 * trims after resolving (issue 16): none may climb out or stay "."/"..".
 */
static const struct key_case climb_table[] = {
	{ ".. ", NULL },
	{ "%2e%2e\t", NULL },
	{ "../.. ", NULL },
	{ "..\xc2\xa0", NULL },
	{ ". ", NULL },
	{ "a/.. ", NULL },
	{ ".. /x/..", NULL },
	{ "a/b/.. /c/..", "a" },
	{ "a/. ", "a" },
	{ "victim/../.. \t", NULL },
	{ "%2e%2e%2f%2e%2e ", NULL },
	{ "x/.. /../.. ", NULL },
};

static void check_table(const char *what, size_t n,
			const struct key_case *rows)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *key = rows[i].key, *expect = rows[i].expect;
		int r;

		buf_reset(&err);
		r = cache_key_sanitize(key, &out, &err);
		if (!expect) {
			if (r != CR_ERR_INVALID)
				fail_msg("%s '%s': expected refusal, got '%s'",
					 what, key, out.data);
			assert_true(err.len > 0);
		} else if (r != 0 || strcmp(out.data, expect)) {
			fail_msg("%s '%s': expected '%s', got '%s' (%d %s)",
				 what, key, expect, out.data, r, err.data);
		}
	}
	buf_release(&out);
	buf_release(&err);
}

static void test_sanitize_table(void **state)
{
	struct buf out = BUF_INIT, err = BUF_INIT;

	(void)state;
	check_table("gitlab-runner",
		    sizeof(sanitize_table) / sizeof(sanitize_table[0]),
		    sanitize_table);
	assert_int_equal(cache_key_sanitize("..", &out, &err), CR_ERR_INVALID);
	assert_string_equal(err.data, "cache key \"..\" could not be sanitized");
	buf_release(&out);
	buf_release(&err);
}

/* No result is "." or "..", or has such a component, or ends in space. */
static void assert_key_sane(const char *key, const char *got)
{
	const char *p = got;

	while (*p) {
		size_t n = strcspn(p, "/");

		if ((n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.') || !n)
			fail_msg("'%s' gave '%s': bad component", key, got);
		p += n;
		if (*p)
			p++;
	}
	if (got[0] == '/' || got[strlen(got) - 1] == ' ' ||
	    strchr(got, '\\'))
		fail_msg("'%s' gave '%s'", key, got);
}

static void test_sanitize_never_climbs(void **state)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	size_t i;

	(void)state;
	check_table("climb", sizeof(climb_table) / sizeof(climb_table[0]),
		    climb_table);
	for (i = 0; i < sizeof(sanitize_table) / sizeof(sanitize_table[0]);
	     i++)
		if (!cache_key_sanitize(sanitize_table[i].key, &out, &err))
			assert_key_sane(sanitize_table[i].key, out.data);
	for (i = 0; i < sizeof(climb_table) / sizeof(climb_table[0]); i++)
		if (!cache_key_sanitize(climb_table[i].key, &out, &err))
			assert_key_sane(climb_table[i].key, out.data);
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
		cmocka_unit_test(test_sanitize_never_climbs),
		cmocka_unit_test(test_fallback_trim),
		cmocka_unit_test(test_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
