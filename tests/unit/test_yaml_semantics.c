/* GitLab's YAML semantics on real-world pipelines: repeated merge keys and
 * duplicate keys, nested lists flattened, null clearing inherited values,
 * matrix instances by name, needs on other projects. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "local/dag.h"
#include "local/pipeline.h"
#include "util/buf.h"

static struct pipeline pl;
static struct dag d;
static struct pl_vars predefined;

static int setup(void **state)
{
	struct pipeline pinit = PIPELINE_INIT;
	struct dag dinit = DAG_INIT;
	struct pl_vars vinit = PL_VARS_INIT;

	(void)state;
	pl = pinit;
	d = dinit;
	predefined = vinit;
	pl_vars_set(&predefined, "CI_COMMIT_BRANCH", "main", false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dag_release(&d);
	pipeline_release(&pl);
	pl_vars_release(&predefined);
	return 0;
}

static void load(const char *text)
{
	struct buf err = BUF_INIT;

	if (pipeline_load_string(&pl, text, &err))
		fail_msg("load failed: %s", err.data);
	buf_release(&err);
}

static void __attribute__((unused)) load_fails(const char *text, const char *msg)
{
	struct buf err = BUF_INIT;

	if (!pipeline_load_string(&pl, text, &err))
		fail_msg("load should fail with '%s'", msg);
	if (!strstr(err.data, msg))
		fail_msg("expected '%s' in '%s'", msg, err.data);
	buf_release(&err);
}

static int build(const char *text, struct buf *err)
{
	struct dag_options o = { 0 };

	if (pipeline_load_string(&pl, text, err))
		fail_msg("load: %s", err->data);
	o.rules.root_dir = ".";
	o.rules.ref = "main";
	o.rules.source = "push";
	o.predefined = &predefined;
	return dag_build(&d, &pl, &o, err);
}

static void __attribute__((unused)) dag_ok(const char *text)
{
	struct buf err = BUF_INIT;

	if (build(text, &err))
		fail_msg("dag: %s", err.data);
	buf_release(&err);
}

static const struct local_job *job(const char *name)
{
	long i = dag_find(&d, name);

	if (i < 0)
		fail_msg("no job '%s'", name);
	return &d.jobs[i];
}

static bool __attribute__((unused)) depends(const char *a, const char *b)
{
	const struct local_job *j = job(a);
	long k = dag_find(&d, b);
	size_t i;

	for (i = 0; k >= 0 && i < j->nr_deps; i++)
		if (j->deps[i] == (size_t)k)
			return true;
	return false;
}

static const char *var(const char *jobname, const char *key)
{
	struct pl_job *j = pipeline_find(&pl, jobname);

	assert_non_null(j);
	return pl_vars_get(&j->variables, key);
}

/* Psych: each `<<` merges over what is there; later keys win. */
static void test_repeated_merge_keys(void **state)
{
	(void)state;
	load(".a: &a\n  A: a\n  B: a\n.b: &b\n  B: b\n  C: b\n"
	     "j:\n  variables:\n    <<: *a\n    <<: *b\n    C: own\n  script: x\n"
	     "k:\n  variables:\n    <<: [*a, *b]\n  script: x\n");
	assert_string_equal("a", var("j", "A"));
	assert_string_equal("b", var("j", "B"));
	assert_string_equal("own", var("j", "C"));
	/* a list: the first mapping wins */
	assert_string_equal("a", var("k", "B"));
	assert_string_equal("b", var("k", "C"));
}

static void test_duplicate_keys(void **state)
{
	(void)state;
	load("j:\n  variables:\n    A: first\n    A: second\n  script: x\n"
	     "j:\n  variables: {B: b}\n  script: y\n");
	/* the later job wins wholesale */
	assert_null(var("j", "A"));
	assert_string_equal("b", var("j", "B"));
	assert_string_equal("y", pipeline_find(&pl, "j")->script.v[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repeated_merge_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
