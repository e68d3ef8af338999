/*
 * Azure's service SAS for the distributed cache (the signature for fixed
 * inputs, worked out independently from the documented string to sign),
 * the blob URL gitlab-runner builds, its refusals, the backend switch,
 * and base64 against RFC 4648's vectors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "archive/cache_azure.h"
#include "archive/cache_backend.h"
#include "config/config.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/error.h"

/* 2013-05-24T00:00:00Z */
#define NOW 1369353600
/* base64 of "crunner-unit-test-key" */
#define KEY "Y3J1bm5lci11bml0LXRlc3Qta2V5"

static void test_base64(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob",
					     "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v",
					     "Zm9vYg==", "Zm9vYmE=",
					     "Zm9vYmFy" };
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < 7; i++) {
		buf_reset(&b);
		base64_encode(&b, plain[i], strlen(plain[i]));
		assert_string_equal(b.data, coded[i]);
		buf_reset(&b);
		assert_int_equal(base64_decode(coded[i], &b), 0);
		assert_int_equal(b.len, strlen(plain[i]));
		assert_memory_equal(b.data, plain[i], b.len);
	}
	buf_reset(&b);
	assert_int_equal(base64_decode("Zm9", &b), -1);		/* length */
	buf_reset(&b);
	assert_int_equal(base64_decode("Zm=v", &b), -1);	/* inner pad */
	buf_reset(&b);
	assert_int_equal(base64_decode("Zg==Zg==", &b), -1);	/* pad mid-way */
	buf_reset(&b);
	assert_int_equal(base64_decode("Zm9*", &b), -1);	/* alphabet */
	buf_release(&b);
}

static void test_sas_token(void **state)
{
	struct azure_sas s = {
		.account = "acct", .key = KEY, .container = "cache",
		.blob = "runner/abc/project/7/key one", .permissions = "w",
		.start = NOW - 3600, .expiry = NOW + 3600,
	};
	struct buf out = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(azure_sas_token(&s, &out, &err), 0);
	assert_string_equal(out.data,
		"se=2013-05-24T01%3A00%3A00Z"
		"&sig=nadTg%2Btm4D8FcSA6AOIf934PiZlRWcQFwHxtx%2FK6Soo%3D"
		"&sp=w&spr=https&sr=b&st=2013-05-23T23%3A00%3A00Z"
		"&sv=2025-11-05");
	assert_int_equal(err.len, 0);

	/* Another permission is another signature. */
	buf_reset(&out);
	s.permissions = "r";
	assert_int_equal(azure_sas_token(&s, &out, &err), 0);
	assert_null(strstr(out.data, "nadTg"));
	assert_non_null(strstr(out.data, "&sp=r&"));

	buf_reset(&out);
	s.key = "not base64!";
	assert_int_equal(azure_sas_token(&s, &out, &err), CR_ERR_INVALID);
	assert_string_equal(err.data,
		"creating Azure signature: the account key is not base64");
	assert_int_equal(out.len, 0);
	buf_release(&out);
	buf_release(&err);
}

static void test_blob_url(void **state)
{
	struct config_cache_azure cfg = {
		.account_name = (char *)"acct", .account_key = (char *)KEY,
		.container_name = (char *)"cache",
	};
	struct buf url = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(azure_blob_url(&cfg, "PUT",
					"/runner/abc/project/7/key one", NOW,
					3600, &url, &err), 0);
	assert_string_equal(url.data,
		"https://acct.blob.core.windows.net/cache/runner/abc/project/7/key%20one"
		"?se=2013-05-24T01%3A00%3A00Z"
		"&sig=nadTg%2Btm4D8FcSA6AOIf934PiZlRWcQFwHxtx%2FK6Soo%3D"
		"&sp=w&spr=https&sr=b&st=2013-05-23T23%3A00%3A00Z"
		"&sv=2025-11-05");

	/* StorageDomain with a port, as for Azurite. */
	buf_reset(&url);
	cfg.storage_domain = (char *)"localhost:10000";
	assert_int_equal(azure_blob_url(&cfg, "GET", "o", NOW, 60, &url,
					&err), 0);
	assert_non_null(strstr(url.data, "https://acct.localhost:10000/cache/o?se=2013-05-24T00%3A01%3A00Z&"));
	assert_non_null(strstr(url.data, "&sp=r&"));

	buf_reset(&url);
	cfg.container_name = NULL;
	assert_int_equal(azure_blob_url(&cfg, "GET", "o", NOW, 60, &url,
					&err), CR_ERR_INVALID);
	assert_string_equal(err.data, "ContainerName can't be empty");
	cfg.container_name = (char *)"cache";

	buf_reset(&err);
	cfg.account_name = (char *)"";
	assert_int_equal(azure_blob_url(&cfg, "GET", "o", NOW, 60, &url,
					&err), CR_ERR_INVALID);
	assert_string_equal(err.data, "config for Azure present, but account name is not configured");
	cfg.account_name = (char *)"acct";

	buf_reset(&err);
	cfg.account_key = NULL;
	assert_int_equal(azure_blob_url(&cfg, "GET", "o", NOW, 60, &url,
					&err), CR_ERR_UNSUPPORTED);
	assert_non_null(strstr(err.data, "without AccountKey"));
	assert_int_equal(url.len, 0);
	buf_release(&url);
	buf_release(&err);
}

static void test_backend_request(void **state)
{
	struct config_cache cfg = { .type = (char *)"azure" };
	struct cache_request req = CACHE_REQUEST_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	cfg.azure.account_name = (char *)"acct";
	cfg.azure.account_key = (char *)KEY;
	cfg.azure.container_name = (char *)"cache";
	assert_int_equal(cache_backend_request(&cfg, "PUT", "o", NULL, NOW, 60, NULL,
					       &req, &err), 0);
	assert_int_equal(req.headers.nr, 2);
	assert_string_equal(req.headers.v[0], "x-ms-version: 2025-11-05");
	assert_string_equal(req.headers.v[1], "x-ms-blob-type: BlockBlob");
	assert_true(req.missing_is_local);
	cache_request_release(&req);

	assert_int_equal(cache_backend_request(&cfg, "GET", "o", NULL, NOW, 60, NULL,
					       &req, &err), 0);
	assert_int_equal(req.headers.nr, 1);
	cache_request_release(&req);

	/* S3: a pre-signed URL, no headers, a 404 is not local. */
	cfg.type = (char *)"S3";
	cfg.s3.bucket_name = (char *)"b";
	cfg.s3.access_key = (char *)"AK";
	cfg.s3.secret_key = (char *)"SK";
	cfg.s3.authentication_type = (char *)"access-key";
	assert_int_equal(cache_backend_request(&cfg, "GET", "o", NULL, NOW, 60, NULL,
					       &req, &err), 0);
	assert_non_null(strstr(req.url.data, "X-Amz-Signature="));
	assert_int_equal(req.headers.nr, 0);
	assert_false(req.missing_is_local);
	cache_request_release(&req);

	cfg.type = (char *)"oss";
	assert_int_equal(cache_backend_request(&cfg, "GET", "o", NULL, NOW, 60, NULL,
					       &req, &err), CR_ERR_UNSUPPORTED);
	assert_string_equal(err.data, "cache type oss is not supported (only s3, gcs and azure)");
	cache_request_release(&req);
	buf_release(&err);
}

/* gitlab-runner's {"cachekey": key} metadata: on uploads only, in each
 * backend's header (Azure's value URL-escaped as GoCloud's driver does;
 * S3's signed). */
static void test_metadata_headers(void **state)
{
	struct config_cache cfg = { .type = (char *)"azure" };
	struct cache_request req = CACHE_REQUEST_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	cfg.azure.account_name = (char *)"acct";
	cfg.azure.account_key = (char *)KEY;
	cfg.azure.container_name = (char *)"cache";
	assert_int_equal(cache_backend_request(&cfg, "PUT", "o", "deps a/b;c@d=e",
					       NOW, 60, NULL, &req, &err), 0);
	assert_int_equal(req.headers.nr, 3);
	assert_string_equal(req.headers.v[0], "x-ms-meta-cachekey: deps%20a%2Fb%3Bc@d=e");
	cache_request_release(&req);
	assert_int_equal(cache_backend_request(&cfg, "GET", "o", "deps", NOW, 60,
					       NULL, &req, &err), 0);
	assert_int_equal(req.headers.nr, 1);
	assert_string_equal(req.headers.v[0], "x-ms-version: 2025-11-05");
	cache_request_release(&req);

	cfg.type = (char *)"s3";
	cfg.s3.bucket_name = (char *)"b";
	cfg.s3.access_key = (char *)"AK";
	cfg.s3.secret_key = (char *)"SK";
	cfg.s3.authentication_type = (char *)"access-key";
	assert_int_equal(cache_backend_request(&cfg, "PUT", "o", "main-protected",
					       NOW, 60, NULL, &req, &err), 0);
	assert_int_equal(req.headers.nr, 1);
	assert_string_equal(req.headers.v[0], "x-amz-meta-cachekey: main-protected");
	assert_non_null(strstr(req.url.data, "&X-Amz-SignedHeaders=host%3Bx-amz-meta-cachekey&"));
	cache_request_release(&req);
	assert_int_equal(cache_backend_request(&cfg, "GET", "o", "main-protected",
					       NOW, 60, NULL, &req, &err), 0);
	assert_int_equal(req.headers.nr, 0);
	assert_non_null(strstr(req.url.data, "&X-Amz-SignedHeaders=host&"));
	cache_request_release(&req);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_sas_token),
		cmocka_unit_test(test_blob_url),
		cmocka_unit_test(test_backend_request),
		cmocka_unit_test(test_metadata_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
