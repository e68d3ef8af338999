#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "archive/dotenv.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

static int parse(const char *text, struct strvec *k, struct strvec *v,
		 struct buf *err)
{
	strvec_clear(k);
	strvec_clear(v);
	buf_reset(err);
	return dotenv_parse(text, strlen(text), k, v, err);
}

static void test_valid(void **state)
{
	struct strvec k = STRVEC_INIT, v = STRVEC_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(parse("A=1\n\n  B_2 = two words \nC=\"quoted\"\nD='x'\nE=\nA=3\n",
			       &k, &v, &err), 0);
	assert_int_equal(k.nr, 5);
	assert_string_equal(k.v[0], "A");
	assert_string_equal(v.v[0], "3");	/* the later duplicate wins */
	assert_string_equal(k.v[1], "B_2");
	assert_string_equal(v.v[1], "two words");
	assert_string_equal(v.v[2], "quoted");
	assert_string_equal(v.v[3], "x");
	assert_string_equal(v.v[4], "");
	assert_int_equal(parse("URL=https://x/?a=b\n", &k, &v, &err), 0);
	assert_string_equal(v.v[0], "https://x/?a=b");
	strvec_clear(&k);
	strvec_clear(&v);
	buf_release(&err);
}

static void test_invalid(void **state)
{
	struct strvec k = STRVEC_INIT, v = STRVEC_INIT;
	struct buf err = BUF_INIT, big = BUF_INIT;
	int i;

	(void)state;
	assert_int_equal(parse("A=1\nnot a variable\n", &k, &v, &err),
			 CR_ERR_INVALID);
	assert_string_equal(err.data,
			    "dotenv report line 2: invalid format, KEY=VALUE expected");
	assert_int_equal(parse("BAD-KEY=1\n", &k, &v, &err), CR_ERR_INVALID);
	assert_int_equal(parse("=1\n", &k, &v, &err), CR_ERR_INVALID);
	for (i = 0; i < DOTENV_MAX_VARIABLES + 1; i++)
		buf_addf(&big, "V%d=%d\n", i, i);
	assert_int_equal(parse(big.data, &k, &v, &err), CR_ERR_TOO_LARGE);
	buf_reset(&big);
	buf_addstr(&big, "A=");
	for (i = 0; i < (int)DOTENV_MAX_SIZE; i++)
		buf_addch(&big, 'x');
	assert_int_equal(parse(big.data, &k, &v, &err), CR_ERR_TOO_LARGE);
	strvec_clear(&k);
	strvec_clear(&v);
	buf_release(&err);
	buf_release(&big);
}

/* Blobs: no limit on the text, variables counted over all of them. */
static void test_blob(void **state)
{
	struct strvec k = STRVEC_INIT, v = STRVEC_INIT;
	struct buf err = BUF_INIT, big = BUF_INIT;
	int i;

	(void)state;
	buf_addstr(&big, "LONG=");
	for (i = 0; i < 3 * (int)DOTENV_MAX_SIZE; i++)
		buf_addch(&big, '0');
	assert_int_equal(dotenv_parse_blob(big.data, big.len, &k, &v, &err), 0);
	assert_int_equal(k.nr, 1);
	buf_reset(&big);
	for (i = 0; i < DOTENV_MAX_VARIABLES - 1; i++)
		buf_addf(&big, "V%d=%d\n", i, i);
	assert_int_equal(dotenv_parse_blob(big.data, big.len, &k, &v, &err), 0);
	assert_int_equal(k.nr, DOTENV_MAX_VARIABLES);
	assert_int_equal(dotenv_parse_blob("X=1\n", 4, &k, &v, &err),
			 CR_ERR_TOO_LARGE);
	strvec_clear(&k);
	strvec_clear(&v);
	buf_release(&err);
	buf_release(&big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob),
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
