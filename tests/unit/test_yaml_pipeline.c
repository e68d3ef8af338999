/* The pipeline model: extends, merge keys, !reference, anchors, default:,
 * stages, variables, include, and the errors with file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "local/pipeline.h"
#include "local/yaml.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "file_text.h"

static struct pipeline pl;

static int setup(void **state)
{
	struct pipeline init = PIPELINE_INIT;

	(void)state;
	pl = init;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pipeline_release(&pl);
	return 0;
}

static void load(const char *text)
{
	struct buf err = BUF_INIT;

	if (pipeline_load_string(&pl, text, &err))
		fail_msg("load failed: %s", err.data);
	buf_release(&err);
}

static void load_fails(const char *text, const char *msg)
{
	struct buf err = BUF_INIT;

	if (!pipeline_load_string(&pl, text, &err))
		fail_msg("load should fail with '%s'", msg);
	if (!strstr(err.data, msg))
		fail_msg("expected '%s' in '%s'", msg, err.data);
	buf_release(&err);
}

static const char *var(const char *job, const char *key)
{
	struct pl_job *j = pipeline_find(&pl, job);

	assert_non_null(j);
	return pl_vars_get(&j->variables, key);
}

static void test_stages(void **state)
{
	(void)state;
	load("a:\n  script: x\n");
	assert_int_equal(5, pl.stages.nr);
	assert_string_equal(".pre", pl.stages.v[0]);
	assert_string_equal("build", pl.stages.v[1]);
	assert_string_equal(".post", pl.stages.v[4]);
	assert_string_equal("test", pipeline_find(&pl, "a")->stage);
}

static void test_hidden_jobs(void **state)
{
	(void)state;
	load(".h:\n  script: x\nv:\n  script: y\n");
	assert_int_equal(1, pl.nr_jobs);
	assert_null(pipeline_find(&pl, ".h"));
}

static void test_extends_deep_merge(void **state)
{
	(void)state;
	load(".a:\n  variables: {A: a, B: a}\n  script: [one]\n  stage: build\n"
	     ".b:\n  extends: .a\n  variables: {B: b}\n"
	     ".c:\n  variables: {C: c}\n  script: [three]\n"
	     "j:\n  extends: [.b, .c]\n  variables: {D: d}\n");
	assert_string_equal("a", var("j", "A"));
	assert_string_equal("b", var("j", "B"));
	assert_string_equal("c", var("j", "C"));
	assert_string_equal("d", var("j", "D"));
	/* arrays are replaced, not merged: the last parent wins */
	assert_int_equal(1, pipeline_find(&pl, "j")->script.nr);
	assert_string_equal("three", pipeline_find(&pl, "j")->script.v[0]);
	assert_string_equal("build", pipeline_find(&pl, "j")->stage);
}

static void test_extends_cycle(void **state)
{
	(void)state;
	load_fails(".a:\n  extends: .b\n.b:\n  extends: .a\nj:\n  extends: .a\n  script: x\n",
		   "circular dependency detected in 'extends'");
}

static void test_anchors_merge_keys(void **state)
{
	(void)state;
	load(".v: &v\n  X: 1\n  Y: 2\nj:\n  variables:\n    <<: *v\n    Y: 3\n  script: x\n");
	assert_string_equal("1", var("j", "X"));
	assert_string_equal("3", var("j", "Y"));
}

static void test_reference(void **state)
{
	struct pl_job *j;

	(void)state;
	load(".s:\n  script: [a, b]\n  vars:\n    K: v\n"
	     "j:\n  script:\n    - !reference [.s, script]\n    - c\n"
	     "  variables:\n    K: !reference [.s, vars, K]\n");
	j = pipeline_find(&pl, "j");
	assert_int_equal(3, j->script.nr);
	assert_string_equal("a", j->script.v[0]);
	assert_string_equal("c", j->script.v[2]);
	assert_string_equal("v", var("j", "K"));
}

static void test_default_and_inherit(void **state)
{
	(void)state;
	load("default:\n  before_script: [setup]\n  timeout: 10m\n"
	     "variables:\n  G: g\n"
	     "a:\n  script: x\n"
	     "b:\n  before_script: [own]\n  script: x\n"
	     "c:\n  inherit:\n    default: false\n    variables: false\n  script: x\n");
	assert_string_equal("setup", pipeline_find(&pl, "a")->before_script.v[0]);
	assert_int_equal(600, pipeline_find(&pl, "a")->timeout_s);
	assert_string_equal("own", pipeline_find(&pl, "b")->before_script.v[0]);
	assert_int_equal(0, pipeline_find(&pl, "c")->before_script.nr);
	assert_string_equal("g", var("a", "G"));
	assert_null(var("c", "G"));
}

static void test_variable_forms(void **state)
{
	struct pl_job *j;

	(void)state;
	load("variables:\n  A:\n    value: va\n    description: d\n  N: 5\n"
	     "  R:\n    value: $A\n    expand: false\nj:\n  script: x\n");
	j = pipeline_find(&pl, "j");
	assert_string_equal("va", var("j", "A"));
	assert_string_equal("5", var("j", "N"));
	assert_true(j->variables.v[2].raw);
}

static void test_keywords(void **state)
{
	struct pl_job *j;

	(void)state;
	load("j:\n  script: x\n  when: manual\n  allow_failure:\n    exit_codes: [3]\n"
	     "  retry:\n    max: 2\n    when: [script_failure]\n  timeout: 1h 30m\n"
	     "  needs:\n    - a\n    - job: b\n      artifacts: false\n      optional: true\n"
	     "  parallel: 4\n  interruptible: true\n");
	j = pipeline_find(&pl, "j");
	assert_string_equal("manual", j->when);
	assert_string_equal("3", j->allow_exit_codes.v[0]);
	assert_int_equal(2, j->retry_max);
	assert_int_equal(5400, j->timeout_s);
	assert_int_equal(2, j->nr_needs);
	assert_false(j->needs[1].artifacts);
	assert_true(j->needs[1].optional);
	assert_int_equal(4, j->parallel);
	assert_true(j->interruptible);
}

static void test_errors_with_position(void **state)
{
	(void)state;
	load_fails("j:\n  script: x\n  scirpt: y\n",
		   ".gitlab-ci.yml:3:3: job 'j': unknown keyword 'scirpt'");
	pipeline_release(&pl);
	load_fails("j:\n  stage: nope\n  script: x\n", "chosen stage 'nope' does not exist");
	pipeline_release(&pl);
	load_fails("j:\n  script: x\n   a: b: c\n", ".gitlab-ci.yml:3:");
	pipeline_release(&pl);
	load_fails("j:\n  extends: .none\n  script: x\n", "unknown key in 'extends'");
	pipeline_release(&pl);
	load_fails("j:\n  retry: 5\n  script: x\n", "'retry' should be");
	pipeline_release(&pl);
	/* A syntax error names the job whose block it is in. */
	load_fails("a:\n  script: x\nb:\n  script: x\n   c: d: e\n",
		   ".gitlab-ci.yml:5:");
	load_fails("a:\n  script: x\nb:\n  script: x\n   c: d: e\n",
		   "job 'b': ");
	pipeline_release(&pl);
	load_fails("j:\n  script: [!reference [.x, y]]\n",
		   ".gitlab-ci.yml:2:12: job 'j': '!reference' to '.x'");
	pipeline_release(&pl);
	load_fails("j:\n  when: sometimes\n  script: x\n",
		   ".gitlab-ci.yml:2:3: job 'j': 'when' should be");
}

static void test_unknown_nested_keywords(void **state)
{
	(void)state;
	load_fails("j:\n  retry:\n    maxx: 2\n  script: x\n",
		   ".gitlab-ci.yml:3:5: job 'j': retry: unknown keyword 'maxx'");
	pipeline_release(&pl);
	load_fails("variables:\n  A:\n    valeu: 1\nj:\n  script: x\n",
		   ".gitlab-ci.yml:3:5: variable 'A': unknown keyword 'valeu'");
	pipeline_release(&pl);
	load_fails("j:\n  inherit:\n    defaults: false\n  script: x\n",
		   "job 'j': inherit: unknown keyword 'defaults'");
	pipeline_release(&pl);
	load_fails("workflow:\n  rulez: []\nj:\n  script: x\n",
		   ".gitlab-ci.yml:2:3: workflow: unknown keyword 'rulez'");
}

static void test_start_in(void **state)
{
	(void)state;
	load("j:\n  when: delayed\n  start_in: 5 minutes\n  script: x\n");
	pipeline_release(&pl);
	load_fails("j:\n  when: delayed\n  script: x\n", "when: delayed needs 'start_in'");
	pipeline_release(&pl);
	load_fails("j:\n  start_in: 5 minutes\n  script: x\n", "'start_in' needs when: delayed");
	pipeline_release(&pl);
	load_fails("j:\n  when: delayed\n  start_in: 8 days\n  script: x\n",
		   "from 1 second to 1 week");
}

static void test_needs_entries(void **state)
{
	struct pl_job *j;

	(void)state;
	load("j:\n  script: x\n  needs:\n    - job: b\n      parallel:\n        matrix:\n"
	     "          - A: [x, y]\n            B: z\n");
	j = pipeline_find(&pl, "j");
	assert_int_equal(1, j->nr_needs);
	assert_non_null(j->needs[0].matrix);
	assert_int_equal(1, j->needs[0].matrix->nr);
	pipeline_release(&pl);
	load_fails("j:\n  script: x\n  needs:\n    - job: b\n      parallel: 2\n",
		   "'needs:parallel' should be a mapping with a 'matrix' list");
	pipeline_release(&pl);
	load_fails("j:\n  script: x\n  needs:\n    - job: b\n      artefacts: false\n",
		   ".gitlab-ci.yml:5:7: job 'j': unknown 'needs' keyword");
}

static void test_duration(void **state)
{
	(void)state;
	assert_int_equal(90, pl_parse_duration("90"));
	assert_int_equal(5400, pl_parse_duration("1h 30m"));
	assert_int_equal(5400, pl_parse_duration("1 hour and 30 minutes"));
	assert_int_equal(-1, pl_parse_duration("soon"));
}

static void test_include_local_glob(void **state)
{
	char dir[] = "/tmp/crunner-yaml-XXXXXX", path[512];
	struct buf err = BUF_INIT;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ci", dir);
	assert_int_equal(0, mkdir(path, 0700));
	snprintf(path, sizeof(path), "%s/ci/a.yml", dir);
	write_file(path, "variables:\n  V: from-a\n  W: from-a\na:\n  script: x\n");
	snprintf(path, sizeof(path), "%s/ci/b.yml", dir);
	write_file(path, "b:\n  script: y\n");
	snprintf(path, sizeof(path), "%s/.gitlab-ci.yml", dir);
	write_file(path, "include:\n  - local: /ci/*.yml\nvariables:\n  V: main\nm:\n  script: z\n");
	if (pipeline_load(&pl, dir, ".gitlab-ci.yml", NULL, &err))
		fail_msg("%s", err.data);
	assert_int_equal(3, pl.nr_jobs);
	assert_string_equal("main", var("m", "V"));
	assert_string_equal("from-a", var("m", "W"));
	buf_release(&err);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	assert_int_equal(0, system(path));
}

static void test_glob_match(void **state)
{
	(void)state;
	assert_true(yaml_glob_match("ci/*.yml", "ci/a.yml"));
	assert_false(yaml_glob_match("ci/*.yml", "ci/x/a.yml"));
	assert_true(yaml_glob_match("ci/**.yml", "ci/x/a.yml"));
	assert_true(yaml_glob_match("**/*.c", "src/a/b.c"));
	assert_true(yaml_glob_match("f?.[ch]", "f1.h"));
	/* Ruby's FNM_EXTGLOB braces, nested and several. */
	assert_true(yaml_glob_match("*.{txt,md}", "a.md"));
	assert_false(yaml_glob_match("*.{txt,md}", "a.mdx"));
	assert_true(yaml_glob_match("{src,lib}/**/*.{c,h}", "lib/x/y.h"));
	assert_true(yaml_glob_match("a{b,c{d,e}}f", "acef"));
	assert_false(yaml_glob_match("a{b,c{d,e}}f", "acf"));
	assert_true(yaml_glob_match("{x}", "{x}"));
}

/* Loads len bytes of text with yaml_load_string; 0 or the error. */
static int load_bytes(const char *text, size_t len, struct buf *err)
{
	struct yfiles files = YFILES_INIT;
	struct ynode *doc = NULL;
	int r;

	/* libfyaml used to spin for ever on these: fail, do not hang. */
	alarm(20);
	r = yaml_load_string(&files, text, len, "ci.yml", &doc, err);
	alarm(0);
	ynode_free(doc);
	yfiles_release(&files);
	return r;
}

/*
 * Invalid UTF-8 is refused before libfyaml sees it, with the place of the
 * first bad byte: "%\xb6" (two bytes) made libfyaml 0.7.12 loop at 100%
 * CPU, as did any directive line with a stray byte.
 */
static void test_invalid_utf8_refused(void **state)
{
	static const struct {
		const char *text;
		size_t len;
		const char *msg;
	} cases[] = {
		{ "%\xb6", 2, "ci.yml:1:2: invalid UTF-8 (byte 0xb6)" },
		{ "%YAML\xb6", 6, "ci.yml:1:6: invalid UTF-8 (byte 0xb6)" },
		{ "a:\n  script: \xc0\xaf\n", 16,
		  "ci.yml:2:11: invalid UTF-8 (byte 0xc0)" },
		{ "a: \xed\xa0\x80\n", 7, "ci.yml:1:4: invalid UTF-8" },
		{ "a: \xe2\x82", 5, "ci.yml:1:4: invalid UTF-8 (byte 0xe2)" },
	};
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		buf_reset(&err);
		if (!load_bytes(cases[i].text, cases[i].len, &err))
			fail_msg("case %zu: expected an error", i);
		if (!strstr(err.data, cases[i].msg))
			fail_msg("case %zu: expected '%s' in '%s'", i,
				 cases[i].msg, err.data);
	}
	/* Valid multi-byte text still loads. */
	buf_reset(&err);
	if (load_bytes("a: \xe2\x82\xac \xf0\x9f\x98\x80\n", 12, &err))
		fail_msg("valid UTF-8 refused: %s", err.data);
	buf_release(&err);
}

/* A non-string in stages: fails without leaking the names before it. */
static void test_stages_non_string(void **state)
{
	(void)state;
	load_fails("stages: [build, test, {x: 1}]\na:\n  script: x\n",
		   "'stages' should be a string or a list of strings");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hidden_jobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extends_deep_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_extends_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchors_merge_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_and_inherit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_variable_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_with_position, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_include_local_glob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_glob_match, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_nested_keywords, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_entries, setup, teardown),
		cmocka_unit_test(test_invalid_utf8_refused),
		cmocka_unit_test_setup_teardown(test_stages_non_string, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
