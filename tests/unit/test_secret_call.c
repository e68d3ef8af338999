/*
 * The secrets providers' shared scaffolding (secrets/secret_call.c): how
 * a resolution ends (the op freed before the report), the answer helpers
 * and the small checks.  The requests themselves are covered end to end
 * by tests/integration/t_secrets_*.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gitlab/http.h"
#include "secrets/secret_call.h"
#include "util/buf.h"
#include "util/strvec.h"

/* A provider's op as far as the call sees it. */
struct fake_op {
	struct secret_call call;
	int *freed;		/* set when free_op ran */
};

/* What the report saw. */
struct report {
	int calls;
	int freed_before;	/* whether the op was freed when it came */
	enum secret_outcome outcome;
	char value[64], error[128];
	const int *freed;
};

static void free_fake_op(void *p)
{
	struct fake_op *op = p;

	*op->freed = 1;
	free(op);
}

static void on_done(void *ctx, enum secret_outcome outcome,
		    const char *value, const char *error)
{
	struct report *r = ctx;

	r->calls++;
	r->freed_before = *r->freed;
	r->outcome = outcome;
	snprintf(r->value, sizeof(r->value), "%s", value ? value : "(null)");
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "(null)");
}

static struct fake_op *new_fake_op(struct report *r, int *freed)
{
	struct fake_op *op = calloc(1, sizeof(*op));

	assert_non_null(op);
	*freed = 0;
	op->freed = freed;
	r->freed = freed;
	secret_call_init(&op->call, NULL, 1000, on_done, r, free_fake_op, op);
	return op;
}

static void test_finish_frees_then_reports(void **state)
{
	struct report r = { 0 };
	int freed;
	struct fake_op *op = new_fake_op(&r, &freed);

	(void)state;
	secret_call_finish(&op->call, SECRET_OK, "v4lue", NULL);
	assert_int_equal(r.calls, 1);
	assert_true(r.freed_before);
	assert_int_equal(r.outcome, SECRET_OK);
	assert_string_equal(r.value, "v4lue");
	assert_string_equal(r.error, "(null)");
}

static void test_fail_texts(void **state)
{
	struct report r = { 0 };
	int freed;
	struct fake_op *op = new_fake_op(&r, &freed);

	(void)state;
	secret_call_fail(&op->call, "reading secret: no");
	assert_int_equal(r.outcome, SECRET_SYSTEM_ERROR);
	assert_string_equal(r.value, "(null)");
	assert_string_equal(r.error, "reading secret: no");
	assert_true(r.freed_before);

	memset(&r, 0, sizeof(r));
	op = new_fake_op(&r, &freed);
	secret_call_failf(&op->call, "GET %s: %s", "https://k/x", "refused");
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.outcome, SECRET_SYSTEM_ERROR);
	assert_string_equal(r.error, "GET https://k/x: refused");
}

static void test_stop_without_request(void **state)
{
	struct report r = { 0 };
	int freed;
	struct fake_op *op = new_fake_op(&r, &freed);

	(void)state;
	secret_call_stop(&op->call);	/* nothing in flight: nothing to do */
	assert_null(op->call.req);
	assert_int_equal(r.calls, 0);
	free(op);
}

static void test_answer_helpers(void **state)
{
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	json_t *root;
	char *token;

	(void)state;
	assert_string_equal(secret_transport_error(&resp, "no answer"),
			    "no answer");
	(void)buf_addstr(&resp.error, "Connection refused");
	assert_string_equal(secret_transport_error(&resp, "no answer"),
			    "Connection refused");

	assert_null(secret_response_json(&resp));	/* no body */
	(void)buf_addstr(&resp.body, "{\"access_token\": \"t0k\", \"empty\": \"\", \"n\": 1}");
	root = secret_response_json(&resp);
	assert_true(json_is_object(root));
	token = secret_json_token(root, "access_token");
	assert_string_equal(token, "t0k");
	free(token);
	assert_null(secret_json_token(root, "empty"));
	assert_null(secret_json_token(root, "n"));
	assert_null(secret_json_token(root, "missing"));
	assert_null(secret_json_token(NULL, "access_token"));
	json_decref(root);
	gl_http_response_release(&resp);
}

static void test_checks(void **state)
{
	struct buf b = BUF_INIT;
	struct strvec h = STRVEC_INIT;

	(void)state;
	assert_true(secret_url_is_http("http://127.0.0.1:8200"));
	assert_true(secret_url_is_http("https://vault"));
	assert_false(secret_url_is_http("ftp://vault"));
	assert_false(secret_url_is_http("vault.example.com"));
	assert_false(secret_url_is_http(NULL));

	(void)buf_addstr(&b, "https://k.vault.azure.net//");
	secret_trim_slashes(&b);
	assert_string_equal(b.data, "https://k.vault.azure.net");
	buf_reset(&b);
	(void)buf_addstr(&b, "///");
	secret_trim_slashes(&b);
	assert_int_equal(b.len, 0);
	buf_release(&b);

	strvec_push(&h, "X-Vault-Token: hvs.secret");
	secret_wipe_headers(&h);
	assert_int_equal(h.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finish_frees_then_reports),
		cmocka_unit_test(test_fail_texts),
		cmocka_unit_test(test_stop_without_request),
		cmocka_unit_test(test_answer_helpers),
		cmocka_unit_test(test_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
