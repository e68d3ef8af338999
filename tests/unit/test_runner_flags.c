/*
 * gitlab-runner's register/run-single flags: Go's flag syntax, variables
 * before flags, go-flags' value rules, and one case per row of the table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/runner_flags.h"
#include "config/config.h"
#include "config/toml.h"
#include "util/buf.h"

/* A writable copy of a string literal, for argv. */
#define S(lit) ((char[]){ lit })

/* Records the command's own options: "flag=value;" each. */
static int record(void *ctx, const struct runner_flag *f, const char *value,
		  const char *from, struct buf *err)
{
	(void)from;
	(void)err;
	buf_addf(ctx, "%s=%s;", f->flag, value);
	return 0;
}

/* Parses argv (argv[0] is the verb) for register into *tree; 0 or -1. */
static int parse(struct toml_value **tree, struct buf *opts, struct buf *err,
		 int argc, char **argv)
{
	struct runner_flags_cmd c = { RF_REGISTER, NULL, 0, record, opts };

	*tree = toml_new_table();
	return runner_flags_parse(&c, argc, argv, *tree, err);
}

static const struct toml_value *at(const struct toml_value *t,
				   const char *path)
{
	char buf[256], *part, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (part = strtok_r(buf, ".", &save); part && t;
	     part = strtok_r(NULL, ".", &save))
		t = toml_table_get(t, part);
	return t;
}

static void test_go_flag_syntax(void **state)
{
	char *argv[] = { S("register"), S("-u"), S("http://x"), S("--token=glrt-a"),
			 S("-description"), S("one"), S("--docker-privileged"),
			 S("--docker-oom-kill-disable=false"), S("-n"),
			 S("--limit"), S("-3"), NULL };
	struct toml_value *t;
	struct buf opts = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(parse(&t, &opts, &err, 11, argv), 0);
	assert_string_equal(at(t, "url")->u.str.ptr, "http://x");
	assert_string_equal(at(t, "token")->u.str.ptr, "glrt-a");
	assert_string_equal(at(t, "name")->u.str.ptr, "one");
	assert_true(at(t, "docker.privileged")->u.boolean);
	assert_int_equal(at(t, "docker.oom_kill_disable")->type, TOML_BOOL);
	assert_false(at(t, "docker.oom_kill_disable")->u.boolean);
	/* A non-bool flag takes the next argument, even one with a dash. */
	assert_int_equal(at(t, "limit")->u.integer, -3);
	assert_string_equal(opts.data, "non-interactive=true;");
	toml_value_free(t);
	buf_release(&opts);
	buf_release(&err);
}

static void test_bad_arguments(void **state)
{
	static const struct {
		const char *args[3];
		const char *message;
	} cases[] = {
		{ { "--no-such", NULL }, "unknown option '--no-such'" },
		{ { "--limit", NULL }, "--limit needs a value" },
		{ { "--limit=many", NULL }, "--limit needs a whole number, not 'many'" },
		/* Go: "--bool false" is --bool and a stray "false". */
		{ { "--docker-privileged", "false" }, "unexpected argument 'false'" },
		{ { "---x", NULL }, "bad flag syntax: ---x" },
		{ { "--prepare-timeout", "soon" }, "--prepare-timeout needs a duration" },
		{ { "--docker-privileged=maybe", NULL }, "--docker-privileged needs true or false" },
		{ { "--kubernetes-host_aliases", "{}" }, "needs a JSON array" },
		{ { "--", "--url" }, "unexpected argument '--url'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *argv[4] = { S("register"), (char *)cases[i].args[0],
				  (char *)cases[i].args[1], NULL };
		int argc = cases[i].args[1] ? 3 : 2;
		struct toml_value *t;
		struct buf opts = BUF_INIT, err = BUF_INIT;

		assert_int_equal(parse(&t, &opts, &err, argc, argv), -1);
		if (!strstr(err.data, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err.data,
				 cases[i].message);
		toml_value_free(t);
		buf_release(&opts);
		buf_release(&err);
	}
}

static void test_value_rules(void **state)
{
	char *argv[] = { S("register"),
		S("--docker-volumes"), S("/a"), S("--docker-volumes=/b"),
		S("--docker-pull-policy"), S("always, never"), S("--docker-pull-policy"), S("if-not-present ,always"),
		S("--docker-sysctls"), S("net.a:1"), S("--docker-sysctls"), S("net.b:x:y"),
		S("--docker-services_devices"), S("img:/dev/a"),
		S("--feature-flags"), S("FF_A"), S("--feature-flags"), S("FF_B:false"),
		S("--kubernetes-retry-limits"), S("tls:3"),
		S("--kubernetes-pod-security-context-supplemental-groups"), S("7"),
		S("--unhealthy-interval"), S("1h30m"),
		S("--machine-idle-scale-factor"), S("0.5"),
		S("--kubernetes-host_aliases"), S("[{\"ip\": \"10.0.0.1\", \"hostnames\": [\"h\"]}]"),
		NULL };
	struct toml_value *t;
	const struct toml_value *v;
	struct buf opts = BUF_INIT, err = BUF_INIT;

	(void)state;
	setenv("DOCKER_VOLUMES", "/env", 1);
	setenv("DOCKER_IMAGE", "env-image", 1);
	assert_int_equal(parse(&t, &opts, &err,
			       (int)(sizeof(argv) / sizeof(argv[0])) - 1,
			       argv), 0);
	unsetenv("DOCKER_VOLUMES");
	unsetenv("DOCKER_IMAGE");
	v = at(t, "docker.volumes");
	assert_int_equal(v->u.array.nr, 3);
	assert_string_equal(v->u.array.items[0]->u.str.ptr, "/env");
	assert_string_equal(v->u.array.items[2]->u.str.ptr, "/b");
	assert_string_equal(at(t, "docker.image")->u.str.ptr, "env-image");
	/* StringOrArray: each value replaces the list, split at commas. */
	v = at(t, "docker.pull_policy");
	assert_int_equal(v->u.array.nr, 2);
	assert_string_equal(v->u.array.items[0]->u.str.ptr, "if-not-present");
	assert_string_equal(v->u.array.items[1]->u.str.ptr, "always");
	v = at(t, "docker.sysctls");
	assert_int_equal(v->u.table.nr, 2);
	assert_string_equal(v->u.table.items[1].key, "net.b");
	assert_string_equal(v->u.table.items[1].value->u.str.ptr, "x:y");
	v = toml_table_get(at(t, "docker.services_devices"), "img");
	assert_int_equal(v->type, TOML_ARRAY);
	assert_string_equal(v->u.array.items[0]->u.str.ptr, "/dev/a");
	assert_true(toml_table_get(at(t, "feature_flags"), "FF_A")->u.boolean);
	assert_false(toml_table_get(at(t, "feature_flags"), "FF_B")->u.boolean);
	assert_int_equal(toml_table_get(at(t, "kubernetes.retry_limits"), "tls")->u.integer, 3);
	assert_int_equal(at(t, "kubernetes.pod_security_context.supplemental_groups")->u.array.items[0]->u.integer, 7);
	assert_string_equal(at(t, "unhealthy_interval")->u.str.ptr, "1h30m0s");
	assert_true(at(t, "machine.IdleScaleFactor")->u.fp == 0.5);
	v = at(t, "kubernetes.host_aliases");
	assert_int_equal(v->u.array.nr, 1);
	assert_string_equal(toml_table_get(v->u.array.items[0], "ip")->u.str.ptr, "10.0.0.1");
	toml_value_free(t);
	buf_release(&opts);
	buf_release(&err);
}

/* One case per row: its flag sets its key; its variable does too. */
static void test_every_row(void **state)
{
	size_t i, rows = 0;

	(void)state;
	for (i = 0; i < runner_flags_nr; i++) {
		const struct runner_flag *f = &runner_flags[i];
		const char *value;
		char flag[256];
		char *argv[] = { S("register"), flag, NULL };
		struct toml_value *t;
		struct buf opts = BUF_INIT, err = BUF_INIT;
		int how;

		if (!f->toml)
			continue;
		switch (f->kind) {
		case RF_INT: case RF_INT_LIST: value = "7"; break;
		case RF_FLOAT: value = "1.5"; break;
		case RF_BOOL: value = "true"; break;
		case RF_DURATION: value = "90s"; break;
		case RF_MAP: case RF_MAP_LIST: value = "k:v"; break;
		case RF_MAP_BOOL: value = "k:true"; break;
		case RF_MAP_INT: value = "k:7"; break;
		case RF_JSON: value = "[{\"ip\": \"1.2.3.4\"}]"; break;
		default: value = "v"; break;
		}
		for (how = 0; how < 2; how++) {
			if (how && !f->env)
				break;
			snprintf(flag, sizeof(flag), "--%s=%s", f->flag, value);
			if (how)
				setenv(f->env, value, 1);
			if (parse(&t, &opts, &err, how ? 1 : 2, argv))
				fail_msg("%s: %s", f->flag, err.data);
			if (how)
				unsetenv(f->env);
			if (!at(t, f->toml))
				fail_msg("%s%s did not set %s", how ? "$" : "--",
					 how ? f->env : f->flag, f->toml);
			toml_value_free(t);
			buf_release(&opts);
			buf_release(&err);
		}
		rows++;
	}
	/* gitlab-runner 19.x: 345 [[runners]] keys have a register flag. */
	assert_true(rows >= 340);
}

static void test_names_follow_gitlab_runner(void **state)
{
	static const struct {
		const char *name, *flag, *env, *toml;
	} known[] = {
		{ "u", "url", "CI_SERVER_URL", "url" },
		{ "t", "token", "CI_SERVER_TOKEN", "token" },
		{ "name", "description", "RUNNER_NAME", "name" },
		{ "docker-image", "docker-image", "DOCKER_IMAGE", "docker.image" },
		{ "docker-pull-policy", "docker-pull-policy", "DOCKER_PULL_POLICY", "docker.pull_policy" },
		{ "custom-run-exec", "custom-run-exec", "CUSTOM_RUN_EXEC", "custom.run_exec" },
		{ "cache-s3-bucket-name", "cache-s3-bucket-name", "CACHE_S3_BUCKET_NAME", "cache.s3.BucketName" },
		{ "kubernetes-namespace", "kubernetes-namespace", "KUBERNETES_NAMESPACE", "kubernetes.namespace" },
		{ "kubernetes-service_container_security_context-capabilities-add",
		  "kubernetes-service_container_security_context-capabilities-add",
		  "KUBERNETES_SERVICE_CONTAINER_SECURITY_CONTEXT_CAPABILITIES_ADD",
		  "kubernetes.service_container_security_context.capabilities.add" },
	};
	const struct runner_flag *f;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		f = runner_flags_find(RF_REGISTER | RF_RUN_SINGLE, known[i].name);
		if (!f)
			fail_msg("no flag %s", known[i].name);
		assert_string_equal(f->flag, known[i].flag);
		assert_string_equal(f->env, known[i].env);
		assert_string_equal(f->toml, known[i].toml);
	}
	assert_non_null(runner_flags_find(RF_REGISTER, "r"));
	assert_string_equal(runner_flags_find(RF_REGISTER, "r")->flag, "registration-token");
	assert_string_equal(runner_flags_find(RF_RUN_SINGLE, "r")->flag, "runner");
	assert_null(runner_flags_find(RF_RUN_SINGLE, "tag-list"));
}

static void test_key_state(void **state)
{
	(void)state;
	assert_int_equal(config_runner_key_state("docker.image"), CONFIG_KEY_ACTED_ON);
	assert_int_equal(config_runner_key_state("cache.s3.BucketName"), CONFIG_KEY_ACTED_ON);
	assert_int_equal(config_runner_key_state("docker.helper_image_flavor"), CONFIG_KEY_NO_EFFECT);
	assert_int_equal(config_runner_key_state("kubernetes.namespace"), CONFIG_KEY_ACTED_ON);
	assert_int_equal(config_runner_key_state("kubernetes.helper_image_flavor"), CONFIG_KEY_NO_EFFECT);
	assert_int_equal(config_runner_key_state("kubernetes.namespace_per_job"), CONFIG_KEY_ACTED_ON);
	assert_int_equal(config_runner_key_state("docker.no_such_key"), CONFIG_KEY_UNKNOWN);
	assert_int_equal(config_runner_key_state("url.x"), CONFIG_KEY_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_flag_syntax),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_value_rules),
		cmocka_unit_test(test_every_row),
		cmocka_unit_test(test_names_follow_gitlab_runner),
		cmocka_unit_test(test_key_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
