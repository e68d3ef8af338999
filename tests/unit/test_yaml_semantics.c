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
#include "local/ynode.h"
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

static void load_fails_dag(const char *text, const char *msg)
{
	struct buf err = BUF_INIT;
	struct pipeline init = PIPELINE_INIT;
	struct dag dinit = DAG_INIT;

	pl = init;
	d = dinit;
	if (!build(text, &err))
		fail_msg("dag should fail with '%s'", msg);
	if (!strstr(err.data, msg))
		fail_msg("expected '%s' in '%s'", msg, err.data);
	buf_release(&err);
}

static void names_fail(struct dag_options *o, const char *name,
		       const char *msg)
{
	struct buf err = BUF_INIT;
	struct dag dinit = DAG_INIT;
	const char *const names[] = { name };

	o->names = names;
	if (!dag_build(&d, &pl, o, &err))
		fail_msg("dag should fail for '%s'", name);
	if (!strstr(err.data, msg))
		fail_msg("expected '%s' in '%s'", msg, err.data);
	o->names = NULL;
	dag_release(&d);
	d = dinit;
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


static void test_flatten_rules_and_needs(void **state)
{
	const struct pl_job *j;

	(void)state;
	load(".r:\n  rules:\n    - if: $X\n    - when: never\n"
	     "a:\n  stage: build\n  script: x\n"
	     "j:\n  rules:\n    - !reference [.r, rules]\n    - when: always\n"
	     "  needs: [[a]]\n  script: [x, [y, [z]]]\n");
	j = pipeline_find(&pl, "j");
	assert_int_equal(3, j->rules->nr);
	assert_int_equal(1, j->nr_needs);
	assert_string_equal("a", j->needs[0].job);
	assert_int_equal(3, j->script.nr);
	assert_string_equal("z", j->script.v[2]);
}

static void test_null_is_unspecified(void **state)
{
	const struct pl_job *j;

	(void)state;
	load("default:\n  image: alpine\n"
	     ".b:\n  parallel: 2\n  needs: []\n  image: debian\n"
	     "j:\n  extends: .b\n  parallel: null\n  needs: ~\n  image: null\n"
	     "  script: x\n");
	j = pipeline_find(&pl, "j");
	assert_int_equal(0, j->parallel);
	assert_false(j->has_needs);
	/* default: applies to an unspecified keyword */
	assert_string_equal("alpine", ynode_text(ynode_get(j->node, "image")));
}

static void test_instance_names(void **state)
{
	(void)state;
	dag_ok("b:\n  stage: build\n  parallel:\n    matrix:\n      - A: [x, y]\n"
	       "  script: x\n"
	       "p:\n  stage: build\n  parallel: 2\n  script: x\n"
	       "t:\n  needs: ['b: [y]', p 1/2]\n  script: x\n"
	       "u:\n  dependencies: ['b: [x]']\n  script: x\n");
	assert_true(depends("t", "b: [y]"));
	assert_false(depends("t", "b: [x]"));
	assert_true(depends("t", "p 1/2"));
	assert_false(depends("t", "p 2/2"));
}

static void test_remote_needs_skipped(void **state)
{
	const struct pl_job *j;

	(void)state;
	load("a:\n  stage: build\n  script: x\n"
	     "j:\n  needs:\n    - a\n    - project: g/p\n      job: x\n      ref: main\n"
	     "    - pipeline: $P\n      job: y\n  script: x\n");
	j = pipeline_find(&pl, "j");
	assert_true(j->remote_needs);
	assert_int_equal(1, j->nr_needs);
	assert_false(pipeline_find(&pl, "a")->remote_needs);
}

static void test_dependencies_on_dropped_job(void **state)
{
	(void)state;
	dag_ok("a:\n  stage: build\n  script: x\n"
	       "d:\n  stage: build\n  rules:\n    - when: never\n  script: x\n"
	       "j:\n  needs: [a, {job: d, optional: true}]\n"
	       "  dependencies: [a, d]\n  script: x\n");
	assert_true(depends("j", "a"));
	assert_int_equal(-1, dag_find(&d, "d"));
	dag_release(&d);
	pipeline_release(&pl);
	load_fails_dag("a:\n  stage: deploy\n  script: x\n"
		       "j:\n  stage: test\n  dependencies: [a]\n  script: x\n",
		       "dependencies 'a' is not defined in the current or a prior stage");
}

static void test_names_make_other_errors_warnings(void **state)
{
	static const char *const names[] = { "b" };
	struct dag_options o = { 0 };
	struct buf err = BUF_INIT;
	const char *text = "a:\n  stage: build\n  script: x\n"
		"b:\n  needs: [a]\n  script: x\n"
		"bad:\n  scirpt: x\n"
		"worse:\n  needs: [nowhere]\n  script: x\n";

	(void)state;
	pl.keep_job_errors = true;
	if (pipeline_load_string(&pl, text, &err))
		fail_msg("load: %s", err.data);
	assert_int_equal(1, pl.broken.nr);
	assert_string_equal("bad", pl.broken.v[0]);
	o.rules.root_dir = ".";
	o.rules.ref = "main";
	o.rules.source = "push";
	o.predefined = &predefined;
	o.names = names;
	o.nr_names = 1;
	if (dag_build(&d, &pl, &o, &err))
		fail_msg("dag: %s", err.data);
	assert_int_equal(1, d.nr);
	assert_int_equal(2, d.warnings.nr);
	assert_non_null(strstr(d.warnings.v[0], "unknown keyword 'scirpt'"));
	assert_non_null(strstr(d.warnings.v[1], "'nowhere', which is not defined"));
	dag_release(&d);
	/* a named job that needs the broken one gets its error */
	names_fail(&o, "worse", "which is not defined");
	names_fail(&o, "bad", "unknown keyword 'scirpt'");
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_repeated_merge_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flatten_rules_and_needs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_is_unspecified, setup, teardown),
		cmocka_unit_test_setup_teardown(test_instance_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remote_needs_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dependencies_on_dropped_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names_make_other_errors_warnings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
