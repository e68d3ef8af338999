/* Job instances and edges: parallel/matrix names, needs, stage order,
 * rules decisions, selection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "local/dag.h"
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

static int build(const char *text, const char *const *names, size_t nr,
		 bool needs, struct buf *err)
{
	struct dag_options o = { 0 };

	if (pipeline_load_string(&pl, text, err))
		fail_msg("load: %s", err->data);
	o.rules.root_dir = ".";
	o.rules.ref = "main";
	o.rules.source = "push";
	o.predefined = &predefined;
	o.names = names;
	o.nr_names = nr;
	o.with_needs = needs;
	return dag_build(&d, &pl, &o, err);
}

static void ok(const char *text)
{
	struct buf err = BUF_INIT;

	if (build(text, NULL, 0, false, &err))
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

static bool depends(const char *a, const char *b)
{
	const struct local_job *j = job(a);
	long k = dag_find(&d, b);
	size_t i;

	for (i = 0; i < j->nr_deps; i++)
		if ((long)j->deps[i] == k)
			return true;
	return false;
}

static void test_stage_order_edges(void **state)
{
	(void)state;
	ok("d:\n  stage: deploy\n  script: x\nb:\n  stage: build\n  script: x\nt:\n  script: x\n");
	assert_int_equal(3, d.nr);
	assert_string_equal("b", d.jobs[0].name);
	assert_string_equal("t", d.jobs[1].name);
	assert_string_equal("d", d.jobs[2].name);
	assert_true(depends("t", "b"));
	assert_true(depends("d", "b"));
	assert_true(depends("d", "t"));
	assert_false(job("d")->deps_from_needs);
}

static void test_needs_edges(void **state)
{
	(void)state;
	ok("b:\n  stage: build\n  script: x\nc:\n  stage: build\n  script: x\n"
	   "t:\n  needs: [b]\n  script: x\ne:\n  stage: deploy\n  needs: []\n  script: x\n");
	assert_true(depends("t", "b"));
	assert_false(depends("t", "c"));
	assert_int_equal(0, job("e")->nr_deps);
	assert_true(job("e")->deps_from_needs);
}

static void test_parallel_names(void **state)
{
	(void)state;
	ok("p:\n  parallel: 2\n  script: x\n"
	   "m:\n  parallel:\n    matrix:\n      - A: [x, y]\n        B: [1, 2]\n      - A: z\n  script: x\n"
	   "after:\n  stage: deploy\n  needs: [p]\n  script: x\n");
	assert_string_equal("2", pl_vars_get(&job("p 2/2")->predef, "CI_NODE_INDEX"));
	assert_string_equal("2", pl_vars_get(&job("p 1/2")->predef, "CI_NODE_TOTAL"));
	assert_string_equal("y", pl_vars_get(&job("m: [y, 1]")->variables, "A"));
	assert_string_equal("2", pl_vars_get(&job("m: [x, 2]")->variables, "B"));
	assert_string_equal("5", pl_vars_get(&job("m: [z]")->predef, "CI_NODE_TOTAL"));
	assert_true(depends("after", "p 1/2"));
	assert_true(depends("after", "p 2/2"));
}

static void test_rules_decisions(void **state)
{
	(void)state;
	ok("in:\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n      allow_failure: true\n      variables: {R: r}\n  script: x\n"
	   "out:\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"dev\"\n  script: x\n"
	   "man:\n  rules:\n    - when: manual\n  script: x\n"
	   "man2:\n  when: manual\n  script: x\n"
	   "del:\n  when: delayed\n  start_in: 1h\n  script: x\n");
	assert_true(job("in")->allow_failure);
	assert_string_equal("r", pl_vars_get(&job("in")->variables, "R"));
	assert_true(dag_find(&d, "out") < 0);
	/* manual by a rule may not fail; manual by when: may */
	assert_false(job("man")->allow_failure);
	assert_true(job("man2")->allow_failure);
	assert_string_equal("on_success", job("del")->when);
}

static void test_needs_errors(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_not_equal(0, build("a:\n  needs: [nope]\n  script: x\n", NULL, 0, false, &err));
	assert_non_null(strstr(err.data, "needs 'nope', which is not defined"));
	buf_release(&err);
}

static void test_needs_on_dropped_job(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_not_equal(0, build("a:\n  rules: [{when: never}]\n  script: x\n"
				      "b:\n  needs: [a]\n  script: x\n", NULL, 0, false, &err));
	assert_non_null(strstr(err.data, "rules left out"));
	buf_release(&err);
}

static void test_optional_need(void **state)
{
	(void)state;
	ok("a:\n  rules: [{when: never}]\n  script: x\n"
	   "b:\n  needs: [{job: a, optional: true}]\n  script: x\n");
	assert_int_equal(0, job("b")->nr_deps);
}

static void test_select_with_needs(void **state)
{
	const char *names[] = { "t" };
	struct buf err = BUF_INIT;

	(void)state;
	if (build("b:\n  stage: build\n  script: x\nt:\n  needs: [b]\n  script: x\no:\n  script: x\n",
		  names, 1, true, &err))
		fail_msg("%s", err.data);
	assert_int_equal(2, d.nr);
	assert_true(depends("t", "b"));
	assert_true(dag_find(&d, "o") < 0);
	buf_release(&err);
}

static void test_select_unknown(void **state)
{
	const char *names[] = { "ghost" };
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_not_equal(0, build("a:\n  script: x\n", names, 1, false, &err));
	assert_non_null(strstr(err.data, "no job named 'ghost'"));
	buf_release(&err);
}

static void test_workflow(void **state)
{
	(void)state;
	ok("workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"dev\"\na:\n  script: x\n");
	assert_true(d.workflow_skipped);
}

static void test_rules_needs(void **state)
{
	(void)state;
	ok("a:\n  stage: build\n  script: x\nb:\n  stage: build\n  script: x\n"
	   "t:\n  needs: [a]\n  rules:\n    - if: $CI_COMMIT_BRANCH == \"main\"\n"
	   "      needs: [b]\n      interruptible: true\n  script: x\n"
	   "u:\n  needs: [a]\n  rules:\n    - needs: []\n  script: x\n");
	assert_true(depends("t", "b"));
	assert_false(depends("t", "a"));
	assert_true(job("t")->interruptible);
	assert_true(job("u")->deps_from_needs);
	assert_int_equal(0, job("u")->nr_deps);
}

static void test_needs_matrix(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	ok("b:\n  stage: build\n  parallel:\n    matrix:\n      - P: [x, y]\n        S: s\n  script: x\n"
	   "t:\n  needs:\n    - job: b\n      parallel:\n        matrix:\n          - P: y\n            S: s\n  script: x\n"
	   "m:\n  parallel:\n    matrix:\n      - P: [x, y]\n"
	   "  needs:\n    - job: b\n      parallel:\n        matrix:\n          - P: $[[ matrix.P ]]\n            S: s\n  script: x\n");
	assert_true(depends("t", "b: [y, s]"));
	assert_false(depends("t", "b: [x, s]"));
	assert_true(depends("m: [x]", "b: [x, s]"));
	assert_false(depends("m: [x]", "b: [y, s]"));
	assert_true(depends("m: [y]", "b: [y, s]"));
	dag_release(&d);
	pipeline_release(&pl);
	assert_int_not_equal(0, build("b:\n  stage: build\n  parallel:\n    matrix:\n      - P: x\n        S: s\n  script: x\n"
				      "t:\n  needs:\n    - job: b\n      parallel:\n        matrix:\n          - S: s\n            P: x\n  script: x\n",
				      NULL, 0, false, &err));
	assert_non_null(strstr(err.data, "t job: undefined need: b: [s, x]"));
	dag_release(&d);
	pipeline_release(&pl);
	buf_reset(&err);
	/* A subset of the variables names no instance: GitLab refuses it. */
	assert_int_not_equal(0, build("b:\n  stage: build\n  parallel:\n    matrix:\n      - P: [x, y]\n        S: [s, r]\n  script: x\n"
				      "t:\n  needs:\n    - job: b\n      parallel:\n        matrix:\n          - P: y\n  script: x\n",
				      NULL, 0, false, &err));
	assert_non_null(strstr(err.data, "t job: undefined need: b: [y] ("));
	buf_release(&err);
}

static void test_workflow_variables(void **state)
{
	(void)state;
	ok("variables:\n  G: global\n  W: global\n"
	   "workflow:\n  rules:\n    - variables:\n        W: workflow\n        N: new\n"
	   "a:\n  script: x\n"
	   "b:\n  variables:\n    W: job\n  script: x\n"
	   "c:\n  variables:\n    W: job\n  rules:\n    - variables:\n        W: rule\n  script: x\n"
	   "d:\n  inherit:\n    variables: [G]\n  script: x\n");
	assert_string_equal("workflow", pl_vars_get(&job("a")->variables, "W"));
	assert_string_equal("new", pl_vars_get(&job("a")->variables, "N"));
	assert_string_equal("global", pl_vars_get(&job("a")->variables, "G"));
	assert_string_equal("job", pl_vars_get(&job("b")->variables, "W"));
	assert_string_equal("rule", pl_vars_get(&job("c")->variables, "W"));
	assert_null(pl_vars_get(&job("d")->variables, "W"));
	assert_null(pl_vars_get(&job("d")->variables, "N"));
	assert_string_equal("global", pl_vars_get(&job("d")->variables, "G"));
}

static void test_needs_checked_at_load(void **state)
{
	struct buf err = BUF_INIT;

	(void)state;
	/* A rule that never matches still has its needs checked. */
	assert_int_not_equal(0, build("a:\n  rules:\n    - if: $NOPE\n      needs: [ghost]\n  script: x\n",
				      NULL, 0, false, &err));
	assert_non_null(strstr(err.data, ".gitlab-ci.yml:4:15: job 'a' needs 'ghost', which is not defined"));
	dag_release(&d);
	pipeline_release(&pl);
	buf_reset(&err);
	assert_int_not_equal(0, build("a:\n  stage: build\n  needs: [b]\n  script: x\nb:\n  stage: deploy\n  script: x\n",
				      NULL, 0, false, &err));
	assert_non_null(strstr(err.data, "which is in a later stage"));
	dag_release(&d);
	pipeline_release(&pl);
	buf_reset(&err);
	assert_int_not_equal(0, build("a:\n  needs: [b]\n  script: x\nb:\n  needs: [a]\n  script: x\n",
				      NULL, 0, false, &err));
	assert_non_null(strstr(err.data, ".gitlab-ci.yml:"));
	assert_non_null(strstr(err.data, "circular dependency detected in 'needs'"));
	buf_release(&err);
}

static void fails(const char *text, const char *msg)
{
	struct buf err = BUF_INIT;

	if (!build(text, NULL, 0, false, &err))
		fail_msg("dag should fail with '%s'", msg);
	if (!strstr(err.data, msg))
		fail_msg("expected '%s' in '%s'", msg, err.data);
	buf_release(&err);
}

/*
 * A non-string in only:/except: fails without leaking the strings read
 * before it (ASan's leak check runs at exit), and a pipeline of trigger
 * jobs alone builds an empty graph (UBSan: no qsort(NULL, 0)).
 */
static void test_only_except_non_string(void **state)
{
	(void)state;
	fails("a:\n  script: x\n  only: [main, tags, {x: 1}]\n",
	      "should be a string or a list of strings");
}

static void test_except_refs_non_string(void **state)
{
	(void)state;
	fails("a:\n  script: x\n  except:\n    refs: [dev, [x, [y]], {k: v}]\n",
	      "should be a string or a list of strings");
}

static void test_only_triggers(void **state)
{
	(void)state;
	ok("t:\n  trigger: other/project\nu:\n  trigger:\n    include: x.yml\n");
	/* Trigger jobs are part of the pipeline (listed, never run here). */
	assert_int_equal(d.nr, 2);
	assert_true(d.jobs[0].trigger && d.jobs[1].trigger);
	assert_int_equal(d.triggers.nr, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stage_order_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_parallel_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_decisions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_on_dropped_job, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_need, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_with_needs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_needs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_matrix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workflow_variables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_checked_at_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_except_non_string, setup, teardown),
		cmocka_unit_test_setup_teardown(test_except_refs_non_string, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_triggers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
