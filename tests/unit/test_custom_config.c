/*
 * The custom executor's config_exec answer (custom_config.c), the
 * drivers' environment (custom_env.c), and the executor itself on a loop:
 * hooks, run_exec arguments, exit code mapping, config_exec_timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config/config.h"
#include "executor/custom_int.h"
#include "executor/executor.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/proc.h"
#include "util/strvec.h"
#include "file_text.h"

/* Invariants of a parsed (or reset) answer. */
static void assert_sane(const struct custom_config *c)
{
	size_t i;

	assert_true(c->builds_dir_is_shared >= -1 &&
		    c->builds_dir_is_shared <= 1);
	assert_true(!c->builds_dir || *c->builds_dir);
	assert_true(!c->cache_dir || *c->cache_dir);
	for (i = 0; i < c->job_env.nr; i++)
		assert_non_null(strchr(c->job_env.v[i], '='));
}

static int parse(const char *json, struct custom_config *c, struct buf *err)
{
	int r = custom_config_parse(json, strlen(json), c, err);

	assert_sane(c);
	return r;
}

static void assert_empty(const struct custom_config *c)
{
	assert_null(c->builds_dir);
	assert_null(c->cache_dir);
	assert_null(c->hostname);
	assert_null(c->shell);
	assert_null(c->driver_name);
	assert_null(c->driver_version);
	assert_int_equal(c->builds_dir_is_shared, -1);
	assert_int_equal(c->job_env.nr, 0);
}

static void test_full_answer(void **state)
{
	struct custom_config c;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(parse("{\"builds_dir\": \"/builds/1\", "
			       "\"cache_dir\": \"/cache\", "
			       "\"builds_dir_is_shared\": true, "
			       "\"hostname\": \"host-1\", \"shell\": \"sh\", "
			       "\"driver\": {\"name\": \"test driver\", "
			       "\"version\": \"v0.0.1\"}, "
			       "\"job_env\": {\"A\": \"1\", \"B\": \"x=y\"}, "
			       "\"unknown\": [1, 2]}", &c, &err), 0);
	assert_string_equal(err.data, "");
	assert_string_equal(c.builds_dir, "/builds/1");
	assert_string_equal(c.cache_dir, "/cache");
	assert_int_equal(c.builds_dir_is_shared, 1);
	assert_string_equal(c.hostname, "host-1");
	assert_string_equal(c.shell, "sh");
	assert_string_equal(c.driver_name, "test driver");
	assert_string_equal(c.driver_version, "v0.0.1");
	assert_int_equal(c.job_env.nr, 2);
	assert_string_equal(c.job_env.v[0], "A=1");
	assert_string_equal(c.job_env.v[1], "B=x=y");
	custom_config_release(&c);
	assert_empty(&c);
	buf_release(&err);
}

static void test_empty_answers(void **state)
{
	static const char *const ok[] = {
		"", "{}", "null", " {} \n", "{\"builds_dir\": null}",
		"{\"driver\": null, \"job_env\": null}",
		"{\"builds_dir_is_shared\": null}",
	};
	struct custom_config c;
	struct buf err = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(parse(ok[i], &c, &err), 0);
		assert_empty(&c);
		assert_string_equal(err.data, "");
		custom_config_release(&c);
	}
	buf_release(&err);
}

static void test_false_and_empty_hostname(void **state)
{
	struct custom_config c;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(parse("{\"builds_dir_is_shared\": false, "
			       "\"hostname\": \"\", \"driver\": {\"name\": \"n\"}}",
			       &c, &err), 0);
	assert_int_equal(c.builds_dir_is_shared, 0);
	assert_string_equal(c.hostname, "");
	assert_string_equal(c.driver_name, "n");
	assert_null(c.driver_version);
	custom_config_release(&c);
	buf_release(&err);
}

/* Each bad answer fails with an error naming the problem. */
static void test_bad_answers(void **state)
{
	static const struct {
		const char *json, *msg;
	} bad[] = {
		{ "not json", "error while parsing config_exec's JSON output: " },
		{ "{\"builds_dir\": \"/x\", oops", "at line 1 column" },
		{ "\n", "error while parsing config_exec's JSON output" },
		{ "{} {}", "error while parsing config_exec's JSON output" },
		{ "[1]", "expected an object, got an array" },
		{ "\"x\"", "expected an object, got a string" },
		{ "{\"builds_dir\": 5}", "'builds_dir' must be a string, not a number" },
		{ "{\"builds_dir\": \"\"}", "'builds_dir' must not be empty" },
		{ "{\"cache_dir\": \"\"}", "'cache_dir' must not be empty" },
		{ "{\"builds_dir_is_shared\": \"yes\"}", "'builds_dir_is_shared' must be a boolean, not a string" },
		{ "{\"driver\": \"x\"}", "'driver' must be an object" },
		{ "{\"driver\": {\"name\": 1}}", "'driver.name' must be a string" },
		{ "{\"driver\": {\"version\": true}}", "'driver.version' must be a string, not a boolean" },
		{ "{\"job_env\": []}", "'job_env' must be an object, not an array" },
		{ "{\"job_env\": {\"A\": 1}}", "'job_env.A' must be a string" },
		{ "{\"job_env\": {\"A=B\": \"1\"}}", "'job_env.A=B' cannot be an environment variable" },
		{ "{\"hostname\": \"a\\u0000b\"}", "'hostname' holds a NUL character" },
		{ "{\"builds_dir\": \"/ok\", \"shell\": 3}", "'shell' must be a string" },
	};
	struct custom_config c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf err = BUF_INIT;

		if (parse(bad[i].json, &c, &err) != CR_ERR_INVALID) {
			print_error("'%s' was accepted\n", bad[i].json);
			fail();
		}
		assert_empty(&c);
		if (!strstr(err.data, bad[i].msg)) {
			print_error("'%s': expected '%s' in '%s'\n",
				    bad[i].json, bad[i].msg, err.data);
			fail();
		}
		custom_config_release(&c);
		buf_release(&err);
	}
}

static void test_too_large(void **state)
{
	struct custom_config c;
	struct buf err = BUF_INIT;
	size_t len = CUSTOM_MAX_CONFIG_OUTPUT + 1;
	char *big = malloc(len);

	(void)state;
	assert_non_null(big);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	assert_int_equal(custom_config_parse(big, len, &c, &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "larger than"));
	custom_config_release(&c);
	buf_release(&err);
	free(big);
}

static void test_banner(void **state)
{
	struct custom_config c;
	struct buf b = BUF_INIT, err = BUF_INIT;

	(void)state;
	custom_config_init(&c);
	custom_config_banner(&c, &b);
	assert_string_equal(b.data, "Using Custom executor...");
	custom_config_release(&c);
	buf_reset(&b);

	assert_int_equal(parse("{\"driver\": {\"name\": \"lxd\"}}", &c, &err), 0);
	custom_config_banner(&c, &b);
	assert_string_equal(b.data, "Using Custom executor with driver lxd...");
	custom_config_release(&c);
	buf_reset(&b);

	assert_int_equal(parse("{\"driver\": {\"name\": \"lxd\", \"version\": \"v1\"}}",
			       &c, &err), 0);
	custom_config_banner(&c, &b);
	assert_string_equal(b.data, "Using Custom executor with driver lxd v1...");
	custom_config_release(&c);
	buf_release(&b);
	buf_release(&err);
}

static ssize_t env_index(const struct strvec *env, const char *kv)
{
	size_t i;

	for (i = 0; i < env->nr; i++)
		if (!strcmp(env->v[i], kv))
			return (ssize_t)i;
	return -1;
}

static void test_environment(void **state)
{
	struct custom_env_options o = { 0 };
	struct strvec env = STRVEC_INIT, job_env = STRVEC_INIT;
	struct variables vars = VARIABLES_INIT;

	(void)state;
	variables_add(&vars, "CI_JOB_ID", "7", VAR_PUBLIC);
	variables_add(&vars, "SECRET", "s3", VAR_MASKED);
	strvec_push(&job_env, "FROM_CONFIG=1");
	o.tmp_dir = "/tmp/x";
	o.response_file = "/tmp/x/response.json";
	o.exit_code_file = "/tmp/x/build_exit_code";
	o.job_env = &job_env;
	o.variables = &vars;
	custom_env_build(&o, &env);
	assert_true(env_index(&env, "TMPDIR=/tmp/x") >= 0);
	assert_true(env_index(&env, "BUILD_FAILURE_EXIT_CODE=1") >= 0);
	assert_true(env_index(&env, "SYSTEM_FAILURE_EXIT_CODE=2") >= 0);
	assert_true(env_index(&env, "JOB_RESPONSE_FILE=/tmp/x/response.json") >= 0);
	assert_true(env_index(&env, "BUILD_EXIT_CODE_FILE=/tmp/x/build_exit_code") >= 0);
	assert_true(env_index(&env, "CUSTOM_ENV_CI_JOB_ID=7") >= 0);
	assert_true(env_index(&env, "CUSTOM_ENV_SECRET=s3") >= 0);
	assert_true(env_index(&env, "CUSTOM_ENV_CI_JOB_SERVICES=") >= 0);
	/* job_env comes before the job's variables, which win over it. */
	assert_true(env_index(&env, "FROM_CONFIG=1") <
		    env_index(&env, "CUSTOM_ENV_CI_JOB_ID=7"));
	strvec_clear(&env);
	strvec_clear(&job_env);
	variables_release(&vars);
}

/* ---- the executor on a loop, with small shell drivers ---- */

struct fixture {
	char base[64];
	struct loop *loop;
	struct runner_config rc;
	struct variables vars;
	struct executor *ex;
	struct buf out, why;
	int exits, status, err;
};

static int ex_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->base, sizeof(f->base), "/tmp/crunner-test-custom-XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	f->loop = loop_new();
	f->rc.custom.present = true;
	strvec_init(&f->rc.custom.config_args);
	strvec_init(&f->rc.custom.prepare_args);
	strvec_init(&f->rc.custom.run_args);
	strvec_init(&f->rc.custom.cleanup_args);
	f->rc.custom.graceful_kill_timeout = 1;
	f->rc.custom.force_kill_timeout = 1;
	variables_init(&f->vars);
	variables_add(&f->vars, "MY_VAR", "v1", VAR_PUBLIC);
	buf_init(&f->out, 0);
	buf_init(&f->why, 0);
	*state = f;
	return 0;
}

static int ex_teardown(void **state)
{
	struct fixture *f = *state;

	executor_cleanup(f->ex);
	loop_free(f->loop);
	remove_tree(f->base);
	free(f->rc.custom.config_exec);
	free(f->rc.custom.run_exec);
	free(f->rc.custom.cleanup_exec);
	strvec_clear(&f->rc.custom.config_args);
	strvec_clear(&f->rc.custom.prepare_args);
	strvec_clear(&f->rc.custom.run_args);
	strvec_clear(&f->rc.custom.cleanup_args);
	variables_release(&f->vars);
	buf_release(&f->out);
	buf_release(&f->why);
	free(f);
	return 0;
}

/* Writes an executable driver script into the fixture's dir. */
static char *driver(struct fixture *f, const char *name, const char *body)
{
	struct buf path = BUF_INIT;
	FILE *fp;

	buf_addf(&path, "%s/%s", f->base, name);
	fp = fopen(path.data, "w");
	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	fclose(fp);
	chmod(path.data, 0755);
	return buf_detach(&path, NULL);
}

static void on_out(void *ctx, int is_stderr, const char *data, size_t len)
{
	struct fixture *f = ctx;

	(void)is_stderr;
	buf_add(&f->out, data, len);
}

static void on_end(void *ctx, int exit_status, int err)
{
	struct fixture *f = ctx;

	f->exits++;
	f->status = exit_status;
	f->err = err;
	loop_stop(f->loop);
}

static void ex_prepare(struct fixture *f)
{
	struct executor_options o = { 0 };
	struct buf err = BUF_INIT;

	o.loop = f->loop;
	o.tmp_dir = f->base;
	o.shell = SCRIPT_SHELL_BASH;
	o.runner = &f->rc;
	o.variables = &f->vars;
	if (custom_executor.prepare(&o, &f->ex, &err) != 0) {
		print_error("prepare: %s\n", err.data);
		fail();
	}
	buf_release(&err);
}

static void wait_end(struct fixture *f, int start_r)
{
	assert_int_equal(start_r, 0);
	f->exits = 0;
	loop_run(f->loop);
	assert_int_equal(f->exits, 1);
}

static void fill_stage(struct fixture *f, struct executor_stage *st,
		       const char *script)
{
	memset(st, 0, sizeof(*st));
	st->name = "step_script";
	st->script = script;
	st->script_len = strlen(script);
	st->on_output = on_out;
	st->on_exit = on_end;
	st->ctx = f;
	st->error = &f->why;
	buf_reset(&f->why);
	buf_reset(&f->out);
}

static void test_hooks_and_run(void **state)
{
	struct fixture *f = *state;
	const struct executor_settings *s;
	struct executor_stage st;
	struct buf err = BUF_INIT;

	f->rc.custom.config_exec = driver(f, "config",
		"echo \"cfg-err $CUSTOM_ENV_MY_VAR\" >&2\n"
		"echo '{\"builds_dir\": \"/b\", \"driver\": {\"name\": \"t\"}, "
		"\"job_env\": {\"JE\": \"je-value\"}}'");
	f->rc.custom.run_exec = driver(f, "run",
		"echo \"args=$1 $(basename $2) $3 JE=$JE\"; "
		"test \"$(stat -c %a \"$JOB_RESPONSE_FILE\")\" = 600 || exit 2; "
		"sh \"$2\"");
	strvec_push(&f->rc.custom.run_args, "first");
	ex_prepare(f);

	fill_stage(f, &st, "");
	wait_end(f, executor_hook(f->ex, EXECUTOR_HOOK_CONFIG, &st, &err));
	assert_int_equal(f->err, 0);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->out.data, "cfg-err v1"));
	s = f->ex->ops->settings(f->ex);
	assert_string_equal(s->builds_dir, "/b");
	assert_int_equal(s->builds_dir_is_shared, -1);
	assert_string_equal(s->banner, "Using Custom executor with driver t...");

	/* No prepare_exec: the hook still ends, through the loop. */
	fill_stage(f, &st, "");
	wait_end(f, executor_hook(f->ex, EXECUTOR_HOOK_PREPARE, &st, &err));
	assert_int_equal(f->err, 0);

	fill_stage(f, &st, "echo from-script\n");
	wait_end(f, executor_run(f->ex, &st, &err));
	assert_int_equal(f->err, 0);
	assert_int_equal(f->status, 0);
	assert_non_null(strstr(f->out.data,
			       "args=first script.bash step_script JE=je-value"));
	assert_non_null(strstr(f->out.data, "from-script"));
	buf_release(&err);
}

static void test_exit_codes(void **state)
{
	struct fixture *f = *state;
	struct executor_stage st;
	struct buf err = BUF_INIT;

	f->rc.custom.run_exec = driver(f, "run",
		"code=$(cat \"$1\"); "
		"if [ \"$code\" = 1x ]; then echo 9 >\"$BUILD_EXIT_CODE_FILE\"; code=1; fi; "
		"if [ \"$code\" = 1bad ]; then echo nan >\"$BUILD_EXIT_CODE_FILE\"; code=1; fi; "
		"exit $code");
	ex_prepare(f);

	fill_stage(f, &st, "1");
	wait_end(f, executor_run(f->ex, &st, &err));
	assert_int_equal(f->err, 0);
	assert_int_equal(f->status, 1);

	fill_stage(f, &st, "1x");
	wait_end(f, executor_run(f->ex, &st, &err));
	assert_int_equal(f->err, 0);
	assert_int_equal(f->status, 9);

	/* The code file is per stage: gone before the next one. */
	fill_stage(f, &st, "1");
	wait_end(f, executor_run(f->ex, &st, &err));
	assert_int_equal(f->status, 1);

	fill_stage(f, &st, "1bad");
	wait_end(f, executor_run(f->ex, &st, &err));
	assert_int_equal(f->err, CR_ERR_IO);
	assert_non_null(strstr(f->why.data, "unknown Custom executor executable exit code 2"));

	fill_stage(f, &st, "2");
	wait_end(f, executor_run(f->ex, &st, &err));
	assert_int_equal(f->err, CR_ERR_IO);
	assert_string_equal(f->why.data, "exit status 2");

	fill_stage(f, &st, "5");
	wait_end(f, executor_run(f->ex, &st, &err));
	assert_int_equal(f->err, CR_ERR_IO);
	assert_string_equal(f->why.data,
		"unknown Custom executor executable exit code 5; executable execution terminated with: exit status 5");
	buf_release(&err);
}

static void test_config_timeout_and_cancel(void **state)
{
	struct fixture *f = *state;
	struct executor_stage st;
	struct buf err = BUF_INIT;

	f->rc.custom.config_exec = driver(f, "config",
		"trap '' TERM; sleep 30; sleep 30");
	f->rc.custom.config_exec_timeout = 1;
	f->rc.custom.run_exec = driver(f, "run", "sleep 30");
	ex_prepare(f);

	/* SIGTERM is ignored: SIGKILL after graceful_kill_timeout. */
	fill_stage(f, &st, "");
	wait_end(f, executor_hook(f->ex, EXECUTOR_HOOK_CONFIG, &st, &err));
	assert_int_equal(f->err, CR_ERR_IO);
	assert_string_equal(f->why.data,
			    "config_exec: execution took longer than 1 seconds");

	fill_stage(f, &st, "");
	assert_int_equal(executor_run(f->ex, &st, &err), 0);
	executor_cancel(f->ex, CR_ERR_CANCELED);
	f->exits = 0;
	loop_run(f->loop);
	assert_int_equal(f->exits, 1);
	assert_int_equal(f->err, CR_ERR_CANCELED);
	buf_release(&err);
}

static void test_missing_config(void **state)
{
	struct fixture *f = *state;
	struct executor_options o = { 0 };
	struct buf err = BUF_INIT;

	o.loop = f->loop;
	o.runner = &f->rc;
	assert_int_equal(custom_executor.prepare(&o, &f->ex, &err),
			 CR_ERR_INVALID);
	assert_string_equal(err.data, "custom executor is missing run_exec");
	assert_null(f->ex);
	buf_reset(&err);
	f->rc.custom.present = false;
	assert_int_equal(custom_executor.prepare(&o, &f->ex, &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "custom executor not configured"));
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_answer),
		cmocka_unit_test(test_empty_answers),
		cmocka_unit_test(test_false_and_empty_hostname),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_banner),
		cmocka_unit_test(test_environment),
		cmocka_unit_test_setup_teardown(test_hooks_and_run, ex_setup,
						ex_teardown),
		cmocka_unit_test_setup_teardown(test_exit_codes, ex_setup,
						ex_teardown),
		cmocka_unit_test_setup_teardown(test_config_timeout_and_cancel,
						ex_setup, ex_teardown),
		cmocka_unit_test_setup_teardown(test_missing_config, ex_setup,
						ex_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
