#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

/* The invariants of buf.h, checked after every operation. */
static void assert_sane_buf(const struct buf *b)
{
	assert_non_null(b->data);
	assert_int_equal(b->data[b->len], '\0');
	if (b->alloc)
		assert_true(b->len < b->alloc);
	else
		assert_int_equal(b->len, 0);
}

static void test_init_is_empty_string(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_sane_buf(&b);
	assert_string_equal(b.data, "");
	buf_release(&b);
	assert_sane_buf(&b);
}

static void test_add_and_format(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_addstr(&b, "abc"), 0);
	assert_sane_buf(&b);
	assert_int_equal(buf_addch(&b, '-'), 0);
	assert_int_equal(buf_addf(&b, "%d:%s", 42, "x"), 0);
	assert_sane_buf(&b);
	assert_string_equal(b.data, "abc-42:x");
	assert_int_equal(b.len, 8);
	buf_setlen(&b, 3);
	assert_sane_buf(&b);
	assert_string_equal(b.data, "abc");
	buf_release(&b);
}

static void test_binary_content_keeps_nuls(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(buf_add(&b, "a\0b", 3), 0);
	assert_sane_buf(&b);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 3);
	buf_release(&b);
}

static void test_limit_is_enforced_without_change(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 5);
	assert_int_equal(buf_addstr(&b, "12345"), 0);
	assert_int_equal(buf_addch(&b, '6'), CR_ERR_TOO_LARGE);
	assert_sane_buf(&b);
	assert_string_equal(b.data, "12345");
	assert_int_equal(buf_addf(&b, "%s", "x"), CR_ERR_TOO_LARGE);
	assert_string_equal(b.data, "12345");
	buf_release(&b);
}

static void test_detach_hands_over_memory(void **state)
{
	struct buf b = BUF_INIT;
	size_t len;
	char *s;

	(void)state;
	s = buf_detach(&b, &len);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	(void)buf_addstr(&b, "hello");
	s = buf_detach(&b, &len);
	assert_string_equal(s, "hello");
	assert_int_equal(len, 5);
	assert_sane_buf(&b);
	assert_int_equal(b.len, 0);
	free(s);
}

static void test_seterr_keeps_first(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	buf_seterr(&err, "first %d", 1);
	buf_seterr(&err, "second");
	buf_seterr(NULL, "ignored");
	assert_string_equal(err.data, "first 1");
	buf_release(&err);
}

static void test_strvec(void **state)
{
	struct strvec sv = STRVEC_INIT;
	const char *more[] = { "c", "d", NULL };
	int i;

	(void)state;
	assert_null(sv.v[0]);
	strvec_push(&sv, "a");
	strvec_pushf(&sv, "%s%d", "b", 2);
	strvec_pushv(&sv, more);
	assert_int_equal(sv.nr, 4);
	assert_string_equal(sv.v[1], "b2");
	assert_null(sv.v[4]);
	for (i = 0; i < 100; i++)
		strvec_push(&sv, "x");
	assert_int_equal(sv.nr, 104);
	assert_null(sv.v[104]);
	strvec_clear(&sv);
	assert_int_equal(sv.nr, 0);
	assert_null(sv.v[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty_string),
		cmocka_unit_test(test_add_and_format),
		cmocka_unit_test(test_binary_content_keeps_nuls),
		cmocka_unit_test(test_limit_is_enforced_without_change),
		cmocka_unit_test(test_detach_hands_over_memory),
		cmocka_unit_test(test_seterr_keeps_first),
		cmocka_unit_test(test_strvec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
