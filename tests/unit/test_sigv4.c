/*
 * SHA-256, HMAC-SHA256 and SigV4 pre-signed URLs against published
 * vectors (FIPS 180-4 examples, RFC 4231, AWS's S3 query-string
 * authentication example), and gitlab-runner's cache object names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "archive/cache_remote.h"
#include "archive/cache_s3_location.h"
#include "archive/cache_s3_sts.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/strvec.h"

static void hex_of_sha(const char *in, size_t len, char *hex)
{
	unsigned char d[SHA256_LEN];

	sha256(in, len, d);
	sha256_hex(d, sizeof(d), hex);
}

static void test_sha256(void **state)
{
	char hex[SHA256_HEX_LEN + 1], big[1000];
	unsigned char d[SHA256_LEN];
	struct sha256 c;
	int i;

	(void)state;
	hex_of_sha("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_of_sha("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hex_of_sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* One million 'a', fed in pieces. */
	memset(big, 'a', sizeof(big));
	sha256_init(&c);
	for (i = 0; i < 1000; i++)
		sha256_update(&c, big, sizeof(big));
	sha256_final(&c, d);
	sha256_hex(d, sizeof(d), hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_hmac(void **state)
{
	unsigned char d[SHA256_LEN], key[131];
	char hex[SHA256_HEX_LEN + 1];
	const char *data = "Test Using Larger Than Block-Size Key - Hash Key First";

	(void)state;
	/* RFC 4231 test case 2. */
	hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
	sha256_hex(d, sizeof(d), hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* RFC 4231 test case 6: a key longer than a block. */
	memset(key, 0xaa, sizeof(key));
	hmac_sha256(key, sizeof(key), data, strlen(data), d);
	sha256_hex(d, sizeof(d), hex);
	assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

/* AWS S3 API Reference, "Authenticating Requests: Using Query Parameters
 * (AWS Signature Version 4)", the example GET of examplebucket/test.txt. */
static void test_aws_presign_vector(void **state)
{
	struct s3_presign p = {
		.method = "GET",
		.server = "s3.amazonaws.com",
		.bucket = "examplebucket",
		.path_style = false,
		.object = "test.txt",
		.region = "us-east-1",
		.access_key = "AKIAIOSFODNN7EXAMPLE",
		.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.now = 1369353600,	/* 20130524T000000Z */
		.expires = 86400,
	};
	struct buf url = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(s3_presign_url(&p, &url, &err), 0);
	assert_string_equal(url.data,
		"https://examplebucket.s3.amazonaws.com/test.txt"
		"?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		"&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
		"&X-Amz-SignedHeaders=host"
		"&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
	buf_release(&url);
	buf_release(&err);
}

static void test_presign_path_style_and_errors(void **state)
{
	struct s3_presign p = {
		.method = "PUT",
		.insecure = true,
		.server = "127.0.0.1:9000",
		.bucket = "cache",
		.path_style = true,
		.object = "runner/abc/project/1/a key+x",
		.access_key = "AK",
		.secret_key = "SK",
		.session_token = "tok/en",
		.now = 1369353600,
		.expires = 3600,
	};
	struct buf url = BUF_INIT, err = BUF_INIT;

	(void)state;
	assert_int_equal(s3_presign_url(&p, &url, &err), 0);
	assert_true(!strncmp(url.data,
		"http://127.0.0.1:9000/cache/runner/abc/project/1/a%20key%2Bx?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		"&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
		"&X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600"
		"&X-Amz-Security-Token=tok%2Fen&X-Amz-SignedHeaders=host&X-Amz-Signature=",
		strlen("http://127.0.0.1:9000/cache/runner/abc/project/1/a%20key%2Bx?X-Amz-Algorithm=AWS4-HMAC-SHA256"
		       "&X-Amz-Credential=AK%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
		       "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=3600"
		       "&X-Amz-Security-Token=tok%2Fen&X-Amz-SignedHeaders=host&X-Amz-Signature=")));
	buf_reset(&url);
	p.expires = 0;
	assert_int_equal(s3_presign_url(&p, &url, &err), CR_ERR_INVALID);
	p.expires = 60;
	p.secret_key = "";
	assert_int_equal(s3_presign_url(&p, &url, &err), CR_ERR_INVALID);
	p.secret_key = "SK";
	p.bucket = NULL;
	assert_int_equal(s3_presign_url(&p, &url, &err), CR_ERR_INVALID);
	buf_release(&url);
	buf_release(&err);
}

static void expect_name(const char *path, bool shared, const char *key,
			const char *want)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	int r = cache_object_name(path, shared, "abcd1234", 42, key, &out, &err);

	if (want) {
		assert_int_equal(r, 0);
		assert_string_equal(out.data, want);
	} else {
		assert_int_equal(r, CR_ERR_INVALID);
		assert_non_null(strstr(err.data, "outside of project bucket"));
	}
	buf_release(&out);
	buf_release(&err);
}

static void test_object_name(void **state)
{
	(void)state;
	expect_name(NULL, false, "key", "runner/abcd1234/project/42/key");
	expect_name("", true, "key", "project/42/key");
	expect_name("some/path/", false, "a/b", "some/path/runner/abcd1234/project/42/a/b");
	expect_name("/p", true, "./x//y", "p/project/42/x/y");
	expect_name(NULL, false, "a/../b", "runner/abcd1234/project/42/b");
	expect_name(NULL, false, "../other/key", NULL);
	expect_name(NULL, false, "..", NULL);
	expect_name(NULL, false, "./", NULL);
}

static void test_remote_url(void **state)
{
	struct config_cache cfg = { 0 };
	struct buf url = BUF_INIT, err = BUF_INIT;

	(void)state;
	cfg.type = (char *)"s3";
	cfg.s3.bucket_name = (char *)"examplebucket";
	cfg.s3.access_key = (char *)"AKIAIOSFODNN7EXAMPLE";
	cfg.s3.secret_key = (char *)"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	cfg.s3.path_style = CONFIG_UNSET;
	cfg.s3.dual_stack = CONFIG_UNSET;
	/* Keys without ServerAddress are IAM unless told (gitlab-runner). */
	assert_int_equal(s3_auth_type(&cfg.s3), S3_AUTH_IAM);
	cfg.s3.authentication_type = (char *)"Access-Key";
	assert_int_equal(s3_auth_type(&cfg.s3), S3_AUTH_ACCESS_KEY);
	assert_true(cache_remote_enabled(&cfg));
	/* AWS itself: the SDK's regional dual-stack host, virtual-host style. */
	assert_int_equal(cache_remote_url(&cfg, "GET", "test.txt", 1369353600,
					  86400, &url, NULL, &err), 0);
	assert_non_null(strstr(url.data, "https://examplebucket.s3.dualstack.us-east-1.amazonaws.com/test.txt?"));
	buf_reset(&url);
	cfg.s3.server_address = (char *)"minio.local:9000";
	cfg.s3.insecure = true;
	assert_int_equal(cache_remote_url(&cfg, "PUT", "o", 1369353600, 60,
					  &url, NULL, &err), 0);
	assert_non_null(strstr(url.data, "http://minio.local:9000/examplebucket/o?"));
	buf_reset(&url);
	cache_remote_clean_url("http://h/b/o?X-Amz-Signature=1", &url);
	assert_string_equal(url.data, "http://h/b/o");
	buf_reset(&url);
	cfg.s3.authentication_type = (char *)"sts";
	assert_int_equal(s3_auth_type(&cfg.s3), S3_AUTH_UNKNOWN);
	assert_int_equal(cache_remote_url(&cfg, "GET", "o", 0, 60, &url, NULL, &err),
			 CR_ERR_UNSUPPORTED);
	cfg.s3.authentication_type = (char *)"access-key";
	cfg.s3.role_arn = (char *)"arn:aws:iam::1:role/cache";
	buf_reset(&err);
	/* RoleARN asks STS (here: nobody listening) before signing. */
	setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:1", 1);
	assert_int_equal(cache_remote_url(&cfg, "GET", "o", 0, 60, &url, NULL, &err),
			 CR_ERR_NETWORK);
	assert_non_null(strstr(err.data, "failed to assume role arn:aws:iam::1:role/cache: cannot reach STS at http://127.0.0.1:1/"));
	unsetenv("AWS_ENDPOINT_URL_STS");
	assert_int_equal(url.len, 0);
	cfg.s3.role_arn = NULL;
	cfg.type = (char *)"gcs";
	assert_int_equal(cache_remote_url(&cfg, "GET", "o", 0, 60, &url, NULL, &err),
			 CR_ERR_UNSUPPORTED);
	cfg.type = NULL;
	assert_false(cache_remote_enabled(&cfg));
	buf_release(&url);
	buf_release(&err);
}

/*
 * ServerSideEncryption: a PUT signs gitlab-runner's SSE headers (the
 * signature is the one tests/objstore/objstore.py computes for them), a
 * GET signs host only, and an unknown value means no encryption.
 */
static void test_sse_headers(void **state)
{
	struct config_cache cfg = { 0 };
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, err = BUF_INIT;

	(void)state;
	cfg.type = (char *)"s3";
	cfg.s3.bucket_name = (char *)"examplebucket";
	cfg.s3.access_key = (char *)"AKIAIOSFODNN7EXAMPLE";
	cfg.s3.secret_key = (char *)"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	cfg.s3.server_address = (char *)"minio.local:9000";
	cfg.s3.insecure = true;
	cfg.s3.path_style = CONFIG_UNSET;
	cfg.s3.server_side_encryption = (char *)"KMS";
	cfg.s3.server_side_encryption_key_id = (char *)"alias/cache";
	assert_int_equal(cache_remote_url(&cfg, "PUT", "o", 1369353600, 60,
					  &url, &headers, &err), 0);
	assert_int_equal(headers.nr, 2);
	assert_string_equal(headers.v[0], "x-amz-server-side-encryption: aws:kms");
	assert_string_equal(headers.v[1], "x-amz-server-side-encryption-aws-kms-key-id: alias/cache");
	assert_non_null(strstr(url.data, "&X-Amz-SignedHeaders=host%3Bx-amz-server-side-encryption%3Bx-amz-server-side-encryption-aws-kms-key-id&"));
	assert_non_null(strstr(url.data, "X-Amz-Signature=be14973e47f901a7f47ed69cb7e5179a0521c153afec015b4f328eab9dec899b"));

	buf_reset(&url);
	strvec_clear(&headers);
	assert_int_equal(cache_remote_url(&cfg, "GET", "o", 1369353600, 60,
					  &url, &headers, &err), 0);
	assert_int_equal(headers.nr, 0);
	assert_non_null(strstr(url.data, "&X-Amz-SignedHeaders=host&"));

	buf_reset(&url);
	cfg.s3.server_side_encryption = (char *)"aes256";
	assert_int_equal(cache_remote_url(&cfg, "PUT", "o", 1369353600, 60,
					  &url, &headers, &err), 0);
	assert_int_equal(headers.nr, 1);
	assert_string_equal(headers.v[0], "x-amz-server-side-encryption: AES256");
	strvec_clear(&headers);

	cfg.s3.server_side_encryption = (char *)"dsse-kms";
	cfg.s3.server_side_encryption_key_id = NULL;
	assert_int_equal(s3_sse_headers(&cfg.s3, &headers, &err), 0);
	assert_int_equal(headers.nr, 1);
	assert_string_equal(headers.v[0], "x-amz-server-side-encryption: aws:kms:dsse");
	strvec_clear(&headers);

	buf_reset(&url);
	cfg.s3.server_side_encryption = (char *)"rot13";
	assert_int_equal(s3_sse_headers(&cfg.s3, &headers, &err),
			 CR_ERR_INVALID);
	assert_string_equal(err.data, "unknown ServerSideEncryption value: rot13");
	/* The URL is still made, without encryption (gitlab-runner's way). */
	assert_int_equal(cache_remote_url(&cfg, "PUT", "o", 1369353600, 60,
					  &url, &headers, &err), 0);
	assert_int_equal(headers.nr, 0);
	assert_non_null(strstr(url.data, "&X-Amz-SignedHeaders=host&"));
	strvec_clear(&headers);
	buf_release(&url);
	buf_release(&err);
}

/* Where gitlab-runner's AWS SDK client sends a bucket's requests. */
static void expect_endpoint(const struct config_cache_s3 *s3, const char *host,
			    bool path_style)
{
	struct buf server = BUF_INIT, err = BUF_INIT;
	bool ps = !path_style;

	assert_int_equal(s3_endpoint(s3, &server, &ps, &err), 0);
	assert_string_equal(server.data, host);
	assert_int_equal(ps, path_style);
	buf_release(&server);
	buf_release(&err);
}

static void test_endpoint(void **state)
{
	struct config_cache_s3 s3 = { 0 };
	struct buf server = BUF_INIT, err = BUF_INIT;
	bool ps;

	(void)state;
	s3.bucket_name = (char *)"cache";
	s3.path_style = CONFIG_UNSET;
	s3.dual_stack = CONFIG_UNSET;
	/* DualStack is on unless turned off; the region is BucketLocation. */
	expect_endpoint(&s3, "s3.dualstack.us-east-1.amazonaws.com", false);
	s3.bucket_location = (char *)"eu-central-1";
	expect_endpoint(&s3, "s3.dualstack.eu-central-1.amazonaws.com", false);
	s3.dual_stack = CONFIG_FALSE;
	expect_endpoint(&s3, "s3.eu-central-1.amazonaws.com", false);
	s3.accelerate = true;
	expect_endpoint(&s3, "s3-accelerate.amazonaws.com", false);
	s3.dual_stack = CONFIG_TRUE;
	expect_endpoint(&s3, "s3-accelerate.dualstack.amazonaws.com", false);
	/* ServerAddress s3.amazonaws.com is the AWS default too. */
	s3.server_address = (char *)"s3.amazonaws.com";
	expect_endpoint(&s3, "s3-accelerate.dualstack.amazonaws.com", false);
	/* Accelerate needs a virtual host. */
	s3.path_style = CONFIG_TRUE;
	assert_int_equal(s3_endpoint(&s3, &server, &ps, &err), CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "S3 Accelerate needs virtual-host addressing"));
	s3.accelerate = false;
	expect_endpoint(&s3, "s3.dualstack.eu-central-1.amazonaws.com", true);
	s3.path_style = CONFIG_UNSET;
	s3.bucket_name = (char *)"my.cache";
	expect_endpoint(&s3, "s3.dualstack.eu-central-1.amazonaws.com", true);
	/* Another endpoint: as given, no dual-stack or acceleration. */
	s3.bucket_name = (char *)"cache";
	s3.accelerate = true;
	s3.server_address = (char *)"minio.local:9000";
	expect_endpoint(&s3, "minio.local:9000", true);
	s3.server_address = (char *)"s3.eu-west-1.amazonaws.com";
	expect_endpoint(&s3, "s3.eu-west-1.amazonaws.com", false);
	s3.insecure = true;
	s3.server_address = (char *)"s3.amazonaws.com";
	expect_endpoint(&s3, "s3.amazonaws.com", false);
	buf_release(&server);
	buf_release(&err);
}

/* gitlab-runner's session policy: the one object, one action. */
static void test_role_session_policy(void **state)
{
	struct s3_role_request r = {
		.role_arn = "arn:aws:iam::1:role/cache", .bucket = "ci",
		.object = "runner/abc/project/7/k\"1", .upload = false,
	};
	char *p;

	(void)state;
	p = s3_role_session_policy(&r);
	assert_string_equal(p, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:GetObject\"],\"Resource\":\"arn:aws:s3:::ci/runner/abc/project/7/k\\\"1\"}]}");
	free(p);
	r.upload = true;
	r.region = "cn-north-1";
	r.kms_key_id = "arn:aws-cn:kms:cn-north-1:1:key/k";
	p = s3_role_session_policy(&r);
	assert_string_equal(p, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\"s3:PutObject\"],\"Resource\":\"arn:aws-cn:s3:::ci/runner/abc/project/7/k\\\"1\"},{\"Effect\":\"Allow\",\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey\"],\"Resource\":\"arn:aws-cn:kms:cn-north-1:1:key/k\"}]}");
	free(p);
	r.region = "us-gov-west-1";
	r.kms_key_id = NULL;
	p = s3_role_session_policy(&r);
	assert_non_null(strstr(p, "\"arn:aws-us-gov:s3:::ci/"));
	free(p);
}

/* Where the SDK's endpoint rules put the China and GovCloud partitions. */
static void test_endpoint_partitions(void **state)
{
	struct config_cache_s3 s3 = { 0 };
	struct buf server = BUF_INIT, err = BUF_INIT;
	bool ps;

	(void)state;
	s3.bucket_name = (char *)"cache";
	s3.path_style = CONFIG_UNSET;
	s3.dual_stack = CONFIG_UNSET;
	s3.bucket_location = (char *)"cn-north-1";
	assert_string_equal(s3_aws_dns_suffix("cn-northwest-1"), "amazonaws.com.cn");
	assert_string_equal(s3_aws_dns_suffix("us-gov-west-1"), "amazonaws.com");
	expect_endpoint(&s3, "s3.dualstack.cn-north-1.amazonaws.com.cn", false);
	s3.dual_stack = CONFIG_FALSE;
	expect_endpoint(&s3, "s3.cn-north-1.amazonaws.com.cn", false);
	s3.accelerate = true;
	assert_int_equal(s3_endpoint(&s3, &server, &ps, &err), CR_ERR_INVALID);
	assert_string_equal(err.data, "S3 Accelerate cannot be used in this region (cn-north-1)");
	s3.accelerate = false;
	s3.bucket_location = (char *)"us-gov-west-1";
	expect_endpoint(&s3, "s3.us-gov-west-1.amazonaws.com", false);
	s3.dual_stack = CONFIG_TRUE;
	expect_endpoint(&s3, "s3.dualstack.us-gov-west-1.amazonaws.com", false);
	s3.accelerate = true;
	expect_endpoint(&s3, "s3-accelerate.dualstack.amazonaws.com", false);
	/* A China host as ServerAddress is AWS too: a virtual host. */
	s3.accelerate = false;
	s3.server_address = (char *)"s3.cn-northwest-1.amazonaws.com.cn";
	expect_endpoint(&s3, "s3.cn-northwest-1.amazonaws.com.cn", false);
	s3.server_address = (char *)"s3.cn-northwest-1.amazonaws.com.cn:443";
	expect_endpoint(&s3, "s3.cn-northwest-1.amazonaws.com.cn:443", false);
	buf_release(&server);
	buf_release(&err);
}

/* GetBucketLocation: its answer, and the request's URL. */
static void test_bucket_location(void **state)
{
	struct buf out = BUF_INIT, url = BUF_INIT, err = BUF_INIT;
	struct s3_presign p = { 0 };

	(void)state;
	assert_int_equal(s3_location_from_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">eu-west-2</LocationConstraint>", &out), 0);
	assert_string_equal(out.data, "eu-west-2");
	buf_reset(&out);
	assert_int_equal(s3_location_from_xml("<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"/>", &out), 0);
	assert_string_equal(out.data, "us-east-1");
	buf_reset(&out);
	assert_int_equal(s3_location_from_xml("<LocationConstraint></LocationConstraint>", &out), 0);
	assert_string_equal(out.data, "us-east-1");
	buf_reset(&out);
	assert_int_equal(s3_location_from_xml("<LocationConstraint>EU</LocationConstraint>", &out), 0);
	assert_string_equal(out.data, "eu-west-1");
	buf_reset(&out);
	assert_int_equal(s3_location_from_xml("<Error><Code>AccessDenied</Code></Error>", &out),
			 CR_ERR_PROTOCOL);

	/* GET /<bucket>?location: the bucket alone, the subresource last
	 * in the canonical query (after every X-Amz- parameter). */
	p.method = "GET";
	p.server = "s3.amazonaws.com";
	p.bucket = "examplebucket";
	p.path_style = true;
	p.subresource = "location";
	p.access_key = "AKIAIOSFODNN7EXAMPLE";
	p.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	p.now = 1369353600;
	p.expires = 60;
	assert_int_equal(s3_presign_url(&p, &url, &err), 0);
	assert_non_null(strstr(url.data, "https://s3.amazonaws.com/examplebucket?X-Amz-Algorithm=AWS4-HMAC-SHA256&"));
	assert_non_null(strstr(url.data, "&X-Amz-SignedHeaders=host&location=&X-Amz-Signature="));
	buf_reset(&url);
	p.path_style = false;
	assert_int_equal(s3_presign_url(&p, &url, &err), 0);
	assert_non_null(strstr(url.data, "https://examplebucket.s3.amazonaws.com/?X-Amz-Algorithm="));
	buf_release(&out);
	buf_release(&url);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_aws_presign_vector),
		cmocka_unit_test(test_presign_path_style_and_errors),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_endpoint_partitions),
		cmocka_unit_test(test_bucket_location),
		cmocka_unit_test(test_role_session_policy),
		cmocka_unit_test(test_object_name),
		cmocka_unit_test(test_remote_url),
		cmocka_unit_test(test_sse_headers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
