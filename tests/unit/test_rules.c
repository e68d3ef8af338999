/* rules:if expressions: the grammar and the evaluation table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "local/rules.h"
#include "util/buf.h"

static const char *vars[][2] = {
	{ "MODE", "fast" }, { "EMPTY", "" }, { "BRANCH", "feature/x" },
	{ "RE", "/^feat/" }, { "NUM", "42" },
};

static const char *lookup(void *ctx, const char *name)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (!strcmp(vars[i][0], name))
			return vars[i][1];
	return NULL;
}

static const struct rules_ctx ctx = { lookup, NULL, ".", NULL, "main",
				      false, "push" };

static void expect(const char *expr, bool want)
{
	struct buf err = BUF_INIT;
	bool got = !want;
	int r = rules_expr_eval(expr, &ctx, &got, &err);

	if (r != 0 || got != want)
		fail_msg("'%s': expected %s, got %s (r=%d %s)", expr,
			 want ? "true" : "false", got ? "true" : "false", r,
			 err.data);
	assert_int_equal(0, rules_expr_check(expr, &err));
	buf_release(&err);
}

static void invalid(const char *expr, const char *msg)
{
	struct buf err = BUF_INIT;
	bool got;

	if (rules_expr_eval(expr, &ctx, &got, &err) == 0)
		fail_msg("'%s' should be invalid", expr);
	if (!strstr(err.data, msg))
		fail_msg("'%s': expected '%s' in '%s'", expr, msg, err.data);
	buf_reset(&err);
	assert_int_not_equal(0, rules_expr_check(expr, &err));
	buf_release(&err);
}

static void test_equality(void **state)
{
	(void)state;
	expect("$MODE == \"fast\"", true);
	expect("$MODE == 'fast'", true);
	expect("$MODE != \"fast\"", false);
	expect("\"fast\" == $MODE", true);
	expect("$MODE == \"slow\"", false);
	expect("$EMPTY == \"\"", true);
	expect("${MODE} == \"fast\"", true);
}

static void test_null(void **state)
{
	(void)state;
	expect("$UNSET == null", true);
	expect("$EMPTY == null", false);
	expect("$MODE != null", true);
	expect("null == null", true);
	expect("$UNSET != null", false);
}

static void test_presence(void **state)
{
	(void)state;
	expect("$MODE", true);
	expect("$EMPTY", false);
	expect("$UNSET", false);
	expect("\"text\"", true);
	expect("null", false);
}

static void test_regex(void **state)
{
	(void)state;
	expect("$BRANCH =~ /^feature\\//", true);
	expect("$BRANCH =~ /^FEATURE/", false);
	expect("$BRANCH =~ /^FEATURE/i", true);
	expect("$BRANCH !~ /^main$/", true);
	/* GitLab matches an unset left side as the empty string. */
	expect("$UNSET =~ /.*/", true);
	expect("$UNSET =~ /^$/", true);
	expect("$UNSET =~ /x/", false);
	expect("$UNSET !~ /x/", true);
	expect("$MODE =~ $UNSET", false);
	expect("$MODE !~ $UNSET", true);
	/* A string that is no /pattern/ is searched for the left side. */
	expect("$MODE =~ \"fast\"", true);
	expect("$MODE =~ \"a fast one\"", true);
	expect("$MODE =~ \"slow\"", false);
	expect("$MODE !~ \"slow\"", true);
	expect("$MODE =~ \"/^f/\"", true);
	expect("$UNSET =~ \"any\"", true);
	expect("$MODE =~ $EMPTY", false);
	expect("$BRANCH =~ $RE", true);
	expect("$MODE =~ $RE", false);
	expect("$NUM =~ /^\\d+$/", true);
}

static void test_logic(void **state)
{
	(void)state;
	expect("$MODE == \"fast\" && $EMPTY == \"\"", true);
	expect("$MODE == \"slow\" || $NUM == \"42\"", true);
	expect("$MODE == \"slow\" || $UNSET", false);
	/* && binds tighter than || */
	expect("$MODE || $UNSET && $UNSET", true);
	expect("($MODE || $UNSET) && $UNSET", false);
	expect("(($MODE == \"fast\"))", true);
	expect("$MODE && ($BRANCH =~ /x$/ || $UNSET)", true);
}

static void test_invalid(void **state)
{
	(void)state;
	invalid("$MODE ==", "operand missing");
	invalid("$MODE == \"x", "unterminated string");
	invalid("($MODE", "missing ')'");
	invalid("$MODE =~ /x", "unterminated regular expression");
	invalid("$MODE =~ /x/q", "unknown regular expression flag");
	invalid("$MODE =~ /(/", "bad regular expression");
	invalid("$MODE == \"a\" extra", "unexpected input");
	invalid("", "operand missing");
	invalid("$ == 1", "bad variable name");
}

static void test_expand_existing(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "$MODE/*.c", "fast/*.c" },
		{ "${MODE}x", "fastx" },
		{ "$NOPE/a", "$NOPE/a" },	/* unknown: kept as written */
		{ "${NOPE}", "${NOPE}" },
		{ "$EMPTY-x", "-x" },
		{ "a$", "a$" },
		{ "${MODE", "${MODE" },
		{ "$$MODE", "$fast" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = rules_expand_existing(cases[i].in, &ctx);

		if (strcmp(got, cases[i].out))
			fail_msg("'%s': expected '%s', got '%s'", cases[i].in,
				 cases[i].out, got);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_equality),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_presence),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_expand_existing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
