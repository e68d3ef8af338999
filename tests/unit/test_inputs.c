/* spec:inputs: header checks, typed values, functions, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "local/inputs.h"
#include "local/yaml.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/xalloc.h"

static struct yfiles files;

static int setup(void **state)
{
	struct yfiles init = YFILES_INIT;

	(void)state;
	files = init;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	yfiles_release(&files);
	return 0;
}

static char *upper_vars(void *ctx, const char *text)
{
	(void)ctx;
	return !strcmp(text, "$NAME") ? xstrdup("expanded") : xstrdup(text);
}

/* Loads text with args (YAML text, or NULL); returns the content. */
static struct ynode *apply(const char *text, const char *args_text,
			   struct buf *err, int *rc)
{
	struct inputs_vars vars = { upper_vars, NULL };
	struct ynode *args = NULL, *out = NULL;

	if (args_text && yaml_load_string(&files, args_text,
					  strlen(args_text), "args.yml", &args,
					  err))
		fail_msg("args: %s", err->data);
	*rc = yaml_load_with_inputs(&files, text, strlen(text), "t.yml", args,
				    &vars, &out, err);
	ynode_free(args);
	return out;
}

static struct ynode *ok(const char *text, const char *args)
{
	struct buf err = BUF_INIT;
	int rc;
	struct ynode *n = apply(text, args, &err, &rc);

	if (rc)
		fail_msg("apply: %s", err.data);
	buf_release(&err);
	return n;
}

static void fails(const char *text, const char *args, const char *msg)
{
	struct buf err = BUF_INIT;
	int rc;
	struct ynode *n = apply(text, args, &err, &rc);

	ynode_free(n);
	if (!rc)
		fail_msg("should fail with '%s'", msg);
	if (!strstr(err.data, msg))
		fail_msg("expected '%s' in '%s'", msg, err.data);
	buf_release(&err);
}

static const char *at(const struct ynode *n, const char *key)
{
	return ynode_text(ynode_get(n, key));
}

static void test_defaults_and_args(void **state)
{
	struct ynode *n;

	(void)state;
	n = ok("spec:\n  inputs:\n    a:\n      default: one\n    b:\n---\n"
	       "x: $[[ inputs.a ]]\ny: \"<$[[ inputs.b ]]|$[[inputs.a]]>\"\n"
	       "\"k-$[[ inputs.b ]]\": v\n", "b: two\n");
	assert_string_equal("one", at(n, "x"));
	assert_string_equal("<two|one>", at(n, "y"));
	assert_string_equal("v", at(n, "k-two"));
	ynode_free(n);
}

static void test_typed_values(void **state)
{
	struct ynode *n, *list;

	(void)state;
	n = ok("spec:\n  inputs:\n    n:\n      type: number\n      default: 3\n"
	       "    f:\n      type: boolean\n      default: true\n"
	       "    l:\n      type: array\n      default: [b, c]\n"
	       "    s:\n      default: 'true'\n---\n"
	       "num: $[[ inputs.n ]]\nflag: $[[ inputs.f ]]\nstr: $[[ inputs.s ]]\n"
	       "list:\n  - a\n  - $[[ inputs.l ]]\n  - d\ntext: \"l=$[[ inputs.l ]]\"\n", NULL);
	assert_false(ynode_get(n, "num")->quoted);
	assert_int_equal(1, ynode_bool(ynode_get(n, "flag")));
	/* a string input stays a string */
	assert_int_equal(-1, ynode_bool(ynode_get(n, "str")));
	list = ynode_get(n, "list");
	assert_int_equal(4, list->nr);
	assert_string_equal("b", ynode_text(list->items[1]));
	assert_string_equal("d", ynode_text(list->items[3]));
	assert_string_equal("l=[\"b\", \"c\"]", at(n, "text"));
	ynode_free(n);
}

static void test_functions(void **state)
{
	struct ynode *n, *parts;

	(void)state;
	n = ok("spec:\n  inputs:\n    s:\n      default: \"it's $NAME x\"\n"
	       "    csv:\n      default: ' a, b,,c '\n---\n"
	       "t: $[[ inputs.s | truncate(5, 5) ]]\n"
	       "e: $[[ inputs.s | expand_vars | truncate(5,8) ]]\n"
	       "q: $[[ inputs.s | posix_escape ]]\n"
	       "p: $[[ inputs.csv | split(',') ]]\n"
	       "m: $[[ matrix.KEEP ]]\n", NULL);
	assert_string_equal("$NAME", at(n, "t"));
	assert_string_equal("$NAME x", at(n, "e"));
	assert_string_equal("it\\'s\\ \\$NAME\\ x", at(n, "q"));
	parts = ynode_get(n, "p");
	assert_int_equal(3, parts->nr);
	assert_string_equal("c", ynode_text(parts->items[2]));
	assert_string_equal("$[[ matrix.KEEP ]]", at(n, "m"));
	ynode_free(n);
}

static void test_errors(void **state)
{
	(void)state;
	fails("spec:\n  inputs:\n    a:\n---\nx: $[[ inputs.a ]]\n", NULL,
	      "input 'a' of 't.yml' is required");
	fails("spec:\n  inputs:\n    a:\n      default: x\n---\nx: 1\n", "b: 1\n",
	      "unknown input arguments for 't.yml': b");
	fails("x: 1\n", "b: 1\n", "which has no spec:inputs header");
	fails("spec:\n  inputs:\n    a:\n      default: x\n---\nx: $[[ inputs.zz ]]\n",
	      NULL, "unknown interpolation key 'zz'");
	fails("spec:\n  inputs:\n    a:\n      default: x\n      regex: ^y\n---\nx: 1\n",
	      NULL, "default value does not match the required regex pattern");
	fails("spec:\n  inputs:\n    a:\n      type: number\n      default: x\n---\nx: 1\n",
	      NULL, "default value is not a number");
	fails("spec:\n  inputs:\n    a:\n      type: nope\n---\nx: 1\n", NULL,
	      "unknown type 'nope'");
	fails("spec:\n  inputs:\n    a:\n      default: x\n      size: 1\n---\nx: 1\n",
	      NULL, "unknown keyword 'size'");
	fails("spec:\n  inputs:\n    a:\n      type: number\n      default: 1\n---\n"
	      "x: $[[ inputs.a | truncate(0, 1) ]]\n", NULL,
	      "truncate can only be used with string inputs");
	fails("spec:\n  inputs:\n    a:\n      default: x\n---\n"
	      "x: $[[ inputs.a | a | b | c | d ]]\n", NULL,
	      "too many functions in interpolation block");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults_and_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typed_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_functions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
