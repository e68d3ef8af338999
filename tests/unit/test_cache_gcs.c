/*
 * GCS V2 signed URLs: the string to sign for fixed inputs (worked out
 * by hand from Google's "V2 signing process" page), RSA-SHA256 with a key
 * made here and checked with its public half, the URL gitlab-runner's Go
 * client builds (host choice, escaping, parameter order), and where the
 * signer comes from (credentials file, key pair, refusals).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "archive/cache_backend.h"
#include "archive/cache_gcs.h"
#include "config/config.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/rsa_sign.h"
#include "util/strvec.h"

#define NOW 1700000000L
#define EMAIL "cache-signer@crunner-test.iam.gserviceaccount.com"

static EVP_PKEY *test_key;
static char *test_pem;

static int make_key(void **state)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long n;

	(void)state;
	test_key = EVP_RSA_gen(2048);
	if (!test_key || !bio ||
	    !PEM_write_bio_PrivateKey(bio, test_key, NULL, NULL, 0, NULL, NULL))
		return -1;
	n = BIO_get_mem_data(bio, &p);
	test_pem = strndup(p, (size_t)n);
	BIO_free(bio);
	unsetenv("STORAGE_EMULATOR_HOST");
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");
	return 0;
}

static int free_key(void **state)
{
	(void)state;
	EVP_PKEY_free(test_key);
	free(test_pem);
	return 0;
}

static bool verifies(const void *data, size_t len, const void *sig,
		     size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL,
					     test_key) == 1 &&
		  EVP_DigestVerify(md, sig, sig_len, data, len) == 1;

	EVP_MD_CTX_free(md);
	return ok;
}

static void test_string_to_sign(void **state)
{
	struct strvec headers = STRVEC_INIT;
	struct gcs_v2_request r = {
		.method = "PUT", .content_type = "application/octet-stream",
		.headers = &headers, .bucket = "ci-cache",
		.object = "runner/abc/project/7/key 1!", .expires = NOW,
	};
	struct buf b = BUF_INIT;

	(void)state;
	strvec_push(&headers, "X-Goog-Meta-Z:  last ");
	strvec_push(&headers, "Content-Type: ignored");
	strvec_push(&headers, "X-Goog-Content-Length-Range: 0,100");
	strvec_push(&headers, "x-goog-encryption-key: never-signed");
	gcs_v2_string_to_sign(&r, &b);
	assert_string_equal(b.data,
		"PUT\n\napplication/octet-stream\n1700000000\n"
		"x-goog-content-length-range:0,100\n"
		"x-goog-meta-z:last\n"
		"/ci-cache/runner/abc/project/7/key%201%21");
	buf_reset(&b);
	r.method = "GET";
	r.content_type = NULL;
	r.headers = NULL;
	r.object = "p/a:b@c";
	gcs_v2_string_to_sign(&r, &b);
	assert_string_equal(b.data, "GET\n\n\n1700000000\n/ci-cache/p/a:b@c");
	buf_release(&b);
	strvec_clear(&headers);
}

static void test_rsa_sign(void **state)
{
	static const char msg[] = "GET\n\n\n1700000000\n/b/o";
	struct buf sig = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(rsa_sha256_sign(test_pem, msg, strlen(msg), &sig,
					 &err), 0);
	assert_int_equal(sig.len, 256);
	assert_true(verifies(msg, strlen(msg), sig.data, sig.len));
	assert_false(verifies("GET\n", 4, sig.data, sig.len));
	buf_reset(&sig);
	assert_int_equal(rsa_sha256_sign("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n",
					 msg, strlen(msg), &sig, &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "the private key is not an unencrypted PEM key"));
	buf_release(&sig);
	buf_release(&err);
}

/* The query value of name in url, decoded. */
static void query_value(const char *url, const char *name, struct buf *out)
{
	const char *p = strstr(url, name), *e;

	assert_non_null(p);
	p += strlen(name);
	assert_int_equal(*p, '=');
	for (e = ++p; *e && *e != '&'; e++) {
		if (*e == '%') {
			unsigned v;

			assert_int_equal(sscanf(e + 1, "%2x", &v), 1);
			(void)buf_addch(out, (char)v);
			e += 2;
		} else {
			(void)buf_addch(out, *e == '+' ? ' ' : *e);
		}
	}
}

static void test_signed_url(void **state)
{
	struct config_cache cfg = { 0 };
	struct cache_request req = CACHE_REQUEST_INIT;
	struct buf err = BUF_INIT, sig64 = BUF_INIT, sig = BUF_INIT,
		   sts = BUF_INIT, expect = BUF_INIT;
	struct gcs_v2_request r = { 0 };

	(void)state;
	cfg.type = (char *)"gcs";
	cfg.gcs.bucket_name = (char *)"ci-cache";
	cfg.gcs.access_id = (char *)EMAIL;
	cfg.gcs.private_key = test_pem;
	cfg.max_uploaded_archive_size = 5000;
	assert_int_equal(cache_backend_request(&cfg, "PUT", "runner/abc/project/7/k", "k",
					       NOW, 3600, NULL, &req, &err), 0);
	(void)buf_addf(&expect, "https://storage.googleapis.com/ci-cache/runner/abc/project/7/k?Expires=%ld&GoogleAccessId=cache-signer%%40crunner-test.iam.gserviceaccount.com&Signature=",
		       NOW + 3600);
	assert_memory_equal(req.url.data, expect.data, expect.len);
	assert_false(req.missing_is_local);
	/* gitlab-runner's metadata header, then the size limit: both signed
	 * (the string to sign below has them as extension headers). */
	assert_int_equal(req.headers.nr, 2);
	assert_string_equal(req.headers.v[0], "x-goog-meta-cachekey: k");
	assert_string_equal(req.headers.v[1], "X-Goog-Content-Length-Range: 0,5000");
	query_value(req.url.data, "Signature", &sig64);
	assert_int_equal(base64_decode(sig64.data, &sig), 0);
	r.method = "PUT";
	r.content_type = GCS_UPLOAD_CONTENT_TYPE;
	r.headers = &req.headers;
	r.bucket = "ci-cache";
	r.object = "runner/abc/project/7/k";
	r.expires = NOW + 3600;
	gcs_v2_string_to_sign(&r, &sts);
	assert_true(verifies(sts.data, sts.len, sig.data, sig.len));
	cache_request_release(&req);

	/* The emulator's http scheme is kept; UniverseDomain otherwise. */
	setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:4443/", 1);
	assert_int_equal(cache_backend_request(&cfg, "GET", "o", NULL, NOW, 60, NULL,
					       &req, &err), 0);
	assert_memory_equal(req.url.data, "http://127.0.0.1:4443/ci-cache/o?Expires=",
			    strlen("http://127.0.0.1:4443/ci-cache/o?Expires="));
	assert_int_equal(req.headers.nr, 0);
	cache_request_release(&req);
	setenv("STORAGE_EMULATOR_HOST", "localhost:9023", 1);
	assert_int_equal(cache_backend_request(&cfg, "GET", "o", NULL, NOW, 60, NULL,
					       &req, &err), 0);
	assert_memory_equal(req.url.data, "https://localhost:9023/ci-cache/o?",
			    strlen("https://localhost:9023/ci-cache/o?"));
	cache_request_release(&req);
	unsetenv("STORAGE_EMULATOR_HOST");
	cfg.type = (char *)"gcsv2";
	cfg.gcs.universe_domain = (char *)"example.test";
	assert_int_equal(cache_backend_request(&cfg, "GET", "o", NULL, NOW, 60, NULL,
					       &req, &err), 0);
	assert_memory_equal(req.url.data, "https://storage.example.test/ci-cache/o?",
			    strlen("https://storage.example.test/ci-cache/o?"));
	cache_request_release(&req);

	cfg.gcs.bucket_name = NULL;
	assert_int_equal(cache_backend_request(&cfg, "GET", "o", NULL, NOW, 60, NULL,
					       &req, &err), CR_ERR_INVALID);
	assert_string_equal(err.data, "config BucketName cannot be empty");
	cache_request_release(&req);
	buf_release(&err);
	buf_release(&sig64);
	buf_release(&sig);
	buf_release(&sts);
	buf_release(&expect);
}

static char *write_file(const char *text)
{
	char *path = strdup("/tmp/crunner-gcs-test-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_signer_sources(void **state)
{
	struct config_cache_gcs cfg = { 0 };
	struct gcs_signer s = GCS_SIGNER_INIT;
	struct buf err = BUF_INIT, json = BUF_INIT;
	char *sa, *user;
	const char *c;

	(void)state;
	(void)buf_addstr(&json, "{\"type\": \"service_account\", \"client_email\": \"" EMAIL "\", \"private_key\": \"");
	for (c = test_pem; *c; c++)
		(void)buf_addstr(&json, *c == '\n' ? "\\n" : (char[]){ *c, 0 });
	(void)buf_addstr(&json, "\"}");
	sa = write_file(json.data);
	user = write_file("{\"type\": \"authorized_user\", \"client_id\": \"x\"}");

	cfg.credentials_file = sa;
	assert_int_equal(gcs_signer_resolve(&cfg, &s, &err), 0);
	assert_string_equal(s.access_id, EMAIL);
	assert_string_equal(s.private_key, test_pem);
	gcs_signer_release(&s);
	/* AccessID in config.toml wins over the file's client_email. */
	cfg.access_id = (char *)"other@x.iam.gserviceaccount.com";
	assert_int_equal(gcs_signer_resolve(&cfg, &s, &err), 0);
	assert_string_equal(s.access_id, "other@x.iam.gserviceaccount.com");
	gcs_signer_release(&s);

	cfg.credentials_file = user;
	buf_reset(&err);
	assert_int_equal(gcs_signer_resolve(&cfg, &s, &err), CR_ERR_INVALID);
	assert_string_equal(err.data, "unsupported credentials file type: authorized_user (crunner signs with service_account files only)");
	gcs_signer_release(&s);
	cfg.credentials_file = (char *)"/nonexistent/sa.json";
	buf_reset(&err);
	assert_int_equal(gcs_signer_resolve(&cfg, &s, &err), CR_ERR_IO);
	assert_non_null(strstr(err.data, "error while reading credentials file /nonexistent/sa.json"));
	gcs_signer_release(&s);

	cfg.credentials_file = NULL;
	cfg.private_key = NULL;
	buf_reset(&err);
	assert_int_equal(gcs_signer_resolve(&cfg, &s, &err), CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "GCS config present, but credentials are not configured"));
	gcs_signer_release(&s);

	/* Neither: application default credentials first. */
	cfg.access_id = NULL;
	setenv("GOOGLE_APPLICATION_CREDENTIALS", sa, 1);
	assert_int_equal(gcs_signer_resolve(&cfg, &s, &err), 0);
	assert_string_equal(s.access_id, EMAIL);
	gcs_signer_release(&s);
	unsetenv("GOOGLE_APPLICATION_CREDENTIALS");

	unlink(sa);
	unlink(user);
	free(sa);
	free(user);
	buf_release(&err);
	buf_release(&json);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_to_sign),
		cmocka_unit_test(test_rsa_sign),
		cmocka_unit_test(test_signed_url),
		cmocka_unit_test(test_signer_sources),
	};

	return cmocka_run_group_tests(tests, make_key, free_key);
}
