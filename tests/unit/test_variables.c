#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "job/variables.h"

static int setup(void **state)
{
	struct variables *vars = calloc(1, sizeof(*vars));

	variables_init(vars);
	*state = vars;
	return 0;
}

static int teardown(void **state)
{
	variables_release(*state);
	free(*state);
	return 0;
}

static void expect_expansion(const struct variables *vars, const char *in,
			     const char *want)
{
	char *got = variables_expand(vars, in);

	assert_string_equal(got, want);
	free(got);
}

static void test_last_occurrence_wins(void **state)
{
	struct variables *vars = *state;

	variables_add(vars, "A", "first", VAR_PUBLIC);
	variables_add(vars, "B", "b", VAR_PUBLIC);
	variables_add(vars, "A", "second", VAR_PUBLIC);
	assert_string_equal(variables_get(vars, "A"), "second");
	assert_null(variables_get(vars, "C"));
}

static void test_expand_forms(void **state)
{
	struct variables *vars = *state;

	variables_add(vars, "HOME_DIR", "/home/x", 0);
	variables_add(vars, "N", "7", 0);
	expect_expansion(vars, "$HOME_DIR/bin", "/home/x/bin");
	expect_expansion(vars, "${HOME_DIR}bin", "/home/xbin");
	expect_expansion(vars, "a$UNKNOWN-b", "a-b");
	expect_expansion(vars, "cost $$5", "cost $5");
	expect_expansion(vars, "trailing $", "trailing $");
	expect_expansion(vars, "${N}${N}", "77");
	expect_expansion(vars, "open ${N", "open ${N");
	expect_expansion(vars, "", "");
}

static void test_expand_all_one_level_and_raw(void **state)
{
	struct variables *vars = *state;

	variables_add(vars, "BASE", "/b", 0);
	variables_add(vars, "DIR", "$BASE/d", 0);
	variables_add(vars, "DEEP", "$DIR/e", 0);
	variables_add(vars, "LIT", "price=$5 $BASE", VAR_RAW);
	variables_expand_all(vars);
	assert_string_equal(variables_get(vars, "DIR"), "/b/d");
	/* One level: DEEP sees DIR's text before expansion. */
	assert_string_equal(variables_get(vars, "DEEP"), "$BASE/d/e");
	assert_string_equal(variables_get(vars, "LIT"), "price=$5 $BASE");
}

static void test_unique_keeps_first_position_last_value(void **state)
{
	struct variables *vars = *state, uniq = VARIABLES_INIT;

	variables_add(vars, "A", "1", 0);
	variables_add(vars, "B", "2", 0);
	variables_add(vars, "A", "3", VAR_MASKED);
	variables_unique(vars, &uniq);
	assert_int_equal(uniq.nr, 2);
	assert_string_equal(uniq.items[0].key, "A");
	assert_string_equal(uniq.items[0].value, "3");
	assert_int_equal(uniq.items[0].flags, VAR_MASKED);
	assert_string_equal(uniq.items[1].key, "B");
	variables_release(&uniq);
}

static void test_bool(void **state)
{
	struct variables *vars = *state;

	variables_add(vars, "T", "TRUE", 0);
	variables_add(vars, "F", "0", 0);
	variables_add(vars, "X", "maybe", 0);
	assert_int_equal(variables_get_bool(vars, "T", 0), 1);
	assert_int_equal(variables_get_bool(vars, "F", 1), 0);
	assert_int_equal(variables_get_bool(vars, "X", 1), 1);
	assert_int_equal(variables_get_bool(vars, "NONE", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_last_occurrence_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expand_all_one_level_and_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unique_keeps_first_position_last_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bool, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
