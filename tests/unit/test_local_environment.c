/*
 * environment: as CI_ENVIRONMENT_* (local/environment.h).  The expected
 * slugs were worked out by hand from Gitlab::Slug::Environment's steps
 * (SHA-256 of the name as a number, its last six base-36 digits).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "local/environment.h"
#include "local/pipeline.h"
#include "local/yaml.h"
#include "local/ynode.h"
#include "util/buf.h"

static void expect_slug(const char *name, const char *want)
{
	char *got = env_slug(name);

	if (strcmp(got, want))
		print_error("slug of '%s'\n", name);
	assert_string_equal(got, want);
	assert_true(strlen(got) <= 24);
	free(got);
}

static void test_slug(void **state)
{
	(void)state;
	/* Already a slug: unchanged. */
	expect_slug("production", "production");
	/* Changed: cut to 17 bytes, a dash, the name's hash suffix. */
	expect_slug("review/feature-x", "review-feature-x-bjrazc");
	expect_slug("Staging", "staging-p75vhx");
	/* Must start with a letter. */
	expect_slug("123", "env-123-7j7izn");
	/* Too long. */
	expect_slug("a-very-long-environment-name-indeed",
		    "a-very-long-envir-8xini4");
	/* Unchanged but for a trailing dash: the dash goes, no suffix. */
	expect_slug("prod-", "prod");
}

static void test_tier_guess(void **state)
{
	(void)state;
	assert_string_equal(env_tier_guess("review/feature"), "development");
	assert_string_equal(env_tier_guess("DEV"), "development");
	assert_string_equal(env_tier_guess("qa-eu"), "testing");
	assert_string_equal(env_tier_guess("acceptance"), "testing");
	assert_string_equal(env_tier_guess("staging"), "staging");
	assert_string_equal(env_tier_guess("pre-prod"), "staging");
	assert_string_equal(env_tier_guess("production"), "production");
	assert_string_equal(env_tier_guess("live"), "production");
	assert_string_equal(env_tier_guess("canary"), "other");
}

static const char *lookup(void *ctx, const char *key)
{
	(void)ctx;
	if (!strcmp(key, "CI_COMMIT_REF_SLUG"))
		return "feat-1";
	if (!strcmp(key, "HOST"))
		return "example.com";
	return NULL;
}

static void test_expand(void **state)
{
	char *s;

	(void)state;
	s = env_expand("review/$CI_COMMIT_REF_SLUG-${HOST}-%HOST%-$NOPE.$", lookup,
		       NULL);
	assert_string_equal(s, "review/feat-1-example.com-example.com-.$");
	free(s);
}

static struct yfiles files = YFILES_INIT;

/* The job node of a one-job pipeline text. */
static struct ynode *job_node(const char *yaml, struct ynode **root)
{
	struct buf err = BUF_INIT;

	*root = NULL;
	assert_int_equal(yaml_load_string(&files, yaml, strlen(yaml), "t.yml",
					  root, &err), 0);
	buf_release(&err);
	return ynode_get(*root, "job");
}

static void test_variables(void **state)
{
	struct pl_vars v = PL_VARS_INIT;
	struct ynode *root;
	const struct ynode *job;

	(void)state;
	job = job_node("job:\n  environment:\n    name: review/$CI_COMMIT_REF_SLUG\n"
		       "    url: https://$CI_COMMIT_REF_SLUG.$HOST\n"
		       "    action: prepare\n", &root);
	env_variables(ynode_get(job, "environment"), lookup, NULL, &v);
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_NAME"), "review/feat-1");
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_SLUG"),
			    "review-feat-1-40rbhc");
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_URL"),
			    "https://feat-1.example.com");
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_ACTION"), "prepare");
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_TIER"), "development");
	pl_vars_release(&v);
	ynode_free(root);

	/* A plain name; an explicit tier wins over the guess. */
	job = job_node("job:\n  environment: production\n", &root);
	env_variables(ynode_get(job, "environment"), lookup, NULL, &v);
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_SLUG"), "production");
	assert_null(pl_vars_get(&v, "CI_ENVIRONMENT_URL"));
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_ACTION"), "start");
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_TIER"), "production");
	pl_vars_release(&v);
	ynode_free(root);

	job = job_node("job:\n  environment:\n    name: canary\n    deployment_tier: staging\n",
		       &root);
	env_variables(ynode_get(job, "environment"), lookup, NULL, &v);
	assert_string_equal(pl_vars_get(&v, "CI_ENVIRONMENT_TIER"), "staging");
	pl_vars_release(&v);
	ynode_free(root);

	/* No environment: nothing. */
	env_variables(NULL, lookup, NULL, &v);
	assert_int_equal(v.nr, 0);
	yfiles_release(&files);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slug),
		cmocka_unit_test(test_tier_guess),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_variables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
