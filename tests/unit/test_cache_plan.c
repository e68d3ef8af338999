/*
 * archive/cache_plan.h: a plan signs with its own copy of the settings
 * (the original may go first), answers what cache_backend_request() would,
 * skips a request whose GET failed, and keeps what signing logs instead
 * of writing it.  No network: Azure SAS and S3 with static keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "archive/cache_backend.h"
#include "archive/cache_config_copy.h"
#include "archive/cache_plan.h"
#include "archive/cache_s3_sts.h"
#include "config/config.h"
#include "util/error.h"

#define KEY "Y3J1bm5lci11bml0LXRlc3Qta2V5"

static void test_signs_with_its_own_copy(void **state)
{
	struct config_cache orig = { .type = (char *)"azure" }, *heap;
	struct cache_request direct = CACHE_REQUEST_INIT;
	const struct cache_plan_item *put, *get, *bad;
	struct s3_role_cache *roles = s3_role_cache_new();
	struct buf err = BUF_INIT;
	struct cache_plan *p;
	size_t i;

	(void)state;
	orig.azure.account_name = (char *)"acct";
	orig.azure.account_key = (char *)KEY;
	orig.azure.container_name = (char *)"cache";
	heap = calloc(1, sizeof(*heap));
	assert_non_null(heap);
	cache_config_copy(&orig, heap);
	p = cache_plan_new(heap, roles, 600);
	/* The loop's settings may change or go while the thread signs. */
	cache_config_release(heap);
	free(heap);
	s3_role_cache_free(roles);	/* the plan holds its own ref */
	(void)cache_plan_add(p, "k", false, "GET", "runner/x/project/1/k", 0,
			     NULL, -1);
	(void)cache_plan_add(p, "k", true, "PUT", "runner/x/project/1/ab/abc",
			     0, NULL, -1);
	(void)cache_plan_add(p, "../k", false, "GET", NULL, CR_ERR_INVALID,
			     "bad name", -1);
	cache_plan_sign(p);

	get = cache_plan_find(p, "k", false, "GET");
	put = cache_plan_find(p, "k", true, "PUT");
	bad = cache_plan_find(p, "../k", false, "GET");
	assert_non_null(get);
	assert_non_null(put);
	assert_non_null(bad);
	assert_null(cache_plan_find(p, "k", true, "GET"));
	assert_null(cache_plan_find(p, "k", false, "HEAD"));
	assert_int_equal(0, get->rc);
	assert_non_null(strstr(get->req.url.data,
			       "/cache/runner/x/project/1/k?"));
	assert_true(get->req.missing_is_local);
	assert_int_equal(CR_ERR_INVALID, bad->rc);
	assert_string_equal("bad name", bad->err.data);
	/* The same headers as asked for on the loop. */
	assert_int_equal(0, cache_backend_request(&orig, "PUT",
						  "runner/x/project/1/ab/abc",
						  "k", 0, 600, NULL, &direct,
						  &err));
	assert_int_equal(direct.headers.nr, put->req.headers.nr);
	for (i = 0; i < direct.headers.nr; i++)
		assert_string_equal(direct.headers.v[i], put->req.headers.v[i]);
	cache_request_release(&direct);
	buf_release(&err);
	cache_plan_free(p);
}

static void test_dependents_of_a_failed_get_are_skipped(void **state)
{
	struct config_cache cfg = { .type = (char *)"oss" };
	struct cache_plan *p = cache_plan_new(&cfg, NULL, 60);
	long get;

	(void)state;
	get = cache_plan_add(p, "k", false, "GET", "o", 0, NULL, -1);
	(void)cache_plan_add(p, "k", false, "HEAD", "o", 0, NULL, get);
	(void)cache_plan_add(p, "k", true, "GET", "o2", 0, NULL, get);
	cache_plan_sign(p);
	assert_int_equal(CR_ERR_UNSUPPORTED,
			 cache_plan_find(p, "k", false, "GET")->rc);
	assert_non_null(strstr(cache_plan_find(p, "k", false, "GET")->err.data,
			       "not supported"));
	assert_null(cache_plan_find(p, "k", false, "HEAD"));
	assert_null(cache_plan_find(p, "k", true, "GET"));
	cache_plan_free(p);
}

static void test_what_signing_logs_is_kept(void **state)
{
	struct config_cache cfg = { .type = (char *)"s3" };
	const struct cache_plan_item *put;
	struct cache_plan *p;

	(void)state;
	cfg.s3.server_address = (char *)"127.0.0.1:1";
	cfg.s3.bucket_name = (char *)"cache";
	cfg.s3.bucket_location = (char *)"eu-test-1";
	cfg.s3.access_key = (char *)"AK";
	cfg.s3.secret_key = (char *)"SK";
	cfg.s3.server_side_encryption = (char *)"not-a-type";
	p = cache_plan_new(&cfg, NULL, 60);
	(void)cache_plan_add(p, "k", false, "PUT", "o", 0, NULL, -1);
	cache_plan_sign(p);
	put = cache_plan_find(p, "k", false, "PUT");
	assert_non_null(put);
	assert_int_equal(0, put->rc);
	assert_non_null(strstr(put->req.url.data, "X-Amz-Signature="));
	assert_int_equal(1, (int)p->logs.nr);
	assert_int_equal(LOG_LEVEL_WARN, p->logs.v[0].level);
	assert_non_null(strstr(p->logs.v[0].msg, "unknown ServerSideEncryption"
			       " value: not-a-type"));
	cache_plan_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signs_with_its_own_copy),
		cmocka_unit_test(test_dependents_of_a_failed_get_are_skipped),
		cmocka_unit_test(test_what_signing_logs_is_kept),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
