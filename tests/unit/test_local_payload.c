/* The local payload's artifacts, cache and dependencies, as GitLab's
 * presenter would send them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "local/dag.h"
#include "local/payload.h"
#include "util/buf.h"

static const char *const yml =
	"stages: [build, test]\n"
	"a:\n"
	"  stage: build\n"
	"  script: [x]\n"
	"  artifacts:\n"
	"    name: out\n"
	"    paths: [out/]\n"
	"    exclude: ['*.tmp']\n"
	"    expire_in: 1 day\n"
	"    reports:\n"
	"      junit: [r.xml]\n"
	"      coverage_report: {coverage_format: cobertura, path: c.xml}\n"
	"  cache:\n"
	"    - paths: [v/]\n"
	"    - key: {prefix: p}\n"
	"      policy: pull\n"
	"      fallback_keys: [f]\n"
	"      paths: [w/]\n"
	"    - key: {files: [does-not-exist]}\n"
	"      paths: [z/]\n"
	"b:\n"
	"  stage: test\n"
	"  needs: [{job: a, artifacts: false}]\n"
	"  script: [y]\n"
	"c:\n"
	"  stage: test\n"
	"  script: [y]\n"
	"d:\n"
	"  stage: test\n"
	"  dependencies: []\n"
	"  script: [y]\n";

static json_t *compose(struct dag *d, const char *job)
{
	struct local_repo repo = { 0 };
	struct local_payload_options o = { 0 };
	struct local_payload_dep dep = { 1, "a", "out.zip", 10 };
	struct buf err = BUF_INIT;
	long i = dag_find(d, job);
	char *text = NULL;
	json_t *p;

	assert_true(i >= 0);
	repo.root = (char *)".";
	repo.sha = repo.before_sha = repo.ref = (char *)"x";
	repo.project_name = repo.project_path = (char *)"p";
	o.job_id = i + 1;
	o.repo = &repo;
	o.token = "t";
	o.deps = &dep;
	o.nr_deps = 1;
	if (local_payload_compose(&d->jobs[i], &o, &text, &err))
		fail_msg("%s", err.data);
	p = json_loads(text, 0, NULL);
	free(text);
	buf_release(&err);
	assert_non_null(p);
	return p;
}

static void test_presenter(void **state)
{
	struct pipeline pl = PIPELINE_INIT;
	struct dag d = DAG_INIT;
	struct dag_options o = { 0 };
	struct buf err = BUF_INIT;
	json_t *p, *a, *c;
	long b, cc, dd;

	(void)state;
	if (pipeline_load_string(&pl, yml, &err))
		fail_msg("%s", err.data);
	o.rules.root_dir = ".";
	o.rules.ref = "main";
	o.rules.source = "push";
	if (dag_build(&d, &pl, &o, &err))
		fail_msg("%s", err.data);
	p = compose(&d, "a");
	a = json_object_get(p, "artifacts");
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "artifact_type")), "archive");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "artifact_format")), "zip");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "name")), "out");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "artifact_type")), "junit");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "artifact_format")), "gzip");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "name")), "junit.xml");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "when")), "always");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "expire_in")), "1 day");
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 2), "artifact_type")), "cobertura");
	c = json_object_get(p, "cache");
	assert_int_equal(json_array_size(c), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "key")), "default");
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "policy")), "pull-push");
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "when")), "on_success");
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 1), "key")), "p-default");
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 1), "policy")), "pull");
	assert_int_equal(json_array_size(json_object_get(json_array_get(c, 1), "fallback_keys")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 2), "key")), "2-default");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(json_object_get(p, "dependencies"), 0), "artifacts_file"), "filename")), "out.zip");
	json_decref(p);

	b = dag_find(&d, "b");
	cc = dag_find(&d, "c");
	dd = dag_find(&d, "d");
	assert_int_equal(d.jobs[b].nr_deps, 1);
	assert_false(local_payload_passes_artifacts(&d, &d.jobs[b], 0));
	assert_true(d.jobs[cc].nr_deps == 1 &&
		    local_payload_passes_artifacts(&d, &d.jobs[cc], 0));
	assert_true(d.jobs[dd].nr_deps == 1 &&
		    !local_payload_passes_artifacts(&d, &d.jobs[dd], 0));
	dag_release(&d);
	pipeline_release(&pl);
	buf_release(&err);
}

static void check_err(const char *text, const char *want)
{
	struct pipeline pl = PIPELINE_INIT;
	struct dag d = DAG_INIT;
	struct dag_options o = { 0 };
	struct buf err = BUF_INIT;

	if (pipeline_load_string(&pl, text, &err))
		fail_msg("%s", err.data);
	o.rules.root_dir = ".";
	o.rules.ref = "main";
	o.rules.source = "push";
	if (dag_build(&d, &pl, &o, &err))
		fail_msg("%s", err.data);
	assert_int_not_equal(local_payload_check(&d.jobs[0], &err), 0);
	if (!strstr(err.data, want))
		fail_msg("'%s' lacks '%s'", err.data, want);
	dag_release(&d);
	pipeline_release(&pl);
	buf_release(&err);
}

static void test_errors(void **state)
{
	(void)state;
	check_err("j:\n  script: [x]\n  artifacts: {pathz: [a]}\n",
		  "job 'j': artifacts: unknown key 'pathz'");
	check_err("j:\n  script: [x]\n  artifacts: {reports: {nope: a}}\n",
		  "unknown report type 'nope'");
	check_err("j:\n  script: [x]\n  artifacts: {paths: [a], when: later}\n",
		  "should be on_success, on_failure or always");
	check_err("j:\n  script: [x]\n  cache: {key: {files: [a, b, c]}}\n",
		  "at most two files");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_presenter),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
