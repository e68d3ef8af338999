#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "executor/kubernetes/k8s_ws.h"
#include "util/buf.h"
#include "util/error.h"

static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* RFC 6455 5.7: a masked "Hello" from the client. */
static void test_encode_masked_hello(void **state)
{
	static const unsigned char want[] = {
		0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
	};
	struct buf b = BUF_INIT;

	(void)state;
	ws_frame_encode(&b, WS_TEXT, "Hello", 5, mask);
	assert_int_equal(b.len, sizeof(want));
	assert_memory_equal(b.data, want, sizeof(want));
	buf_release(&b);
}

/* Lengths of 126..65535 take two more bytes, larger ones eight. */
static void test_encode_lengths(void **state)
{
	struct buf b = BUF_INIT;
	char *big = calloc(70000, 1);
	struct ws_frame f;
	size_t used = 0;

	(void)state;
	memset(big, 'x', 70000);
	ws_frame_encode(&b, WS_BINARY, big, 300, mask);
	assert_int_equal((unsigned char)b.data[1], 0x80 | 126);
	assert_int_equal(((unsigned char)b.data[2] << 8) | (unsigned char)b.data[3], 300);
	assert_int_equal(b.len, 2 + 2 + 4 + 300);
	/* The decoder takes masked frames too and unmasks them in place. */
	assert_int_equal(ws_frame_decode(b.data, b.len, &used, &f), 1);
	assert_int_equal(used, b.len);
	assert_int_equal(f.len, 300);
	assert_memory_equal(f.payload, big, 300);
	buf_reset(&b);
	ws_frame_encode(&b, WS_BINARY, big, 70000, mask);
	assert_int_equal((unsigned char)b.data[1], 0x80 | 127);
	assert_int_equal(b.len, 2 + 8 + 4 + 70000);
	assert_int_equal(ws_frame_decode(b.data, b.len, &used, &f), 1);
	assert_int_equal(f.len, 70000);
	assert_int_equal(f.op, WS_BINARY);
	assert_true(f.fin);
	assert_memory_equal(f.payload, big, 70000);
	free(big);
	buf_release(&b);
}

/* A server frame split anywhere: nothing until it is whole. */
static void test_decode_partial(void **state)
{
	char frame[] = { (char)0x82, 4, 1, 'a', 'b', 'c', (char)0x88, 2, 3, (char)0xe8 };
	struct ws_frame f;
	size_t used = 0, n;

	(void)state;
	for (n = 0; n < 6; n++)
		assert_int_equal(ws_frame_decode(frame, n, &used, &f), 0);
	assert_int_equal(ws_frame_decode(frame, sizeof(frame), &used, &f), 1);
	assert_int_equal(used, 6);
	assert_int_equal(f.op, WS_BINARY);
	assert_int_equal(f.len, 4);
	assert_memory_equal(f.payload, "\1abc", 4);
	assert_int_equal(ws_frame_decode(frame + 6, 4, &used, &f), 1);
	assert_int_equal(f.op, WS_CLOSE);
	assert_int_equal(f.len, 2);
}

static void test_decode_refused(void **state)
{
	char rsv[] = { (char)0xc2, 0 };			/* RSV1 set */
	char frag_ping[] = { (char)0x09, 0 };		/* ping without FIN */
	char long_ping[] = { (char)0x89, 126, 0, (char)200 };
	char huge[] = { (char)0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0 };
	struct ws_frame f;
	size_t used;

	(void)state;
	assert_int_equal(ws_frame_decode(rsv, 2, &used, &f), CR_ERR_PROTOCOL);
	assert_int_equal(ws_frame_decode(frag_ping, 2, &used, &f), CR_ERR_PROTOCOL);
	assert_int_equal(ws_frame_decode(long_ping, 4, &used, &f), CR_ERR_PROTOCOL);
	assert_int_equal(ws_frame_decode(huge, 10, &used, &f), CR_ERR_PROTOCOL);
}

/* RFC 6455 1.3's example, and SHA-1 of "abc" (FIPS 180 example). */
static void test_accept_key_and_sha1(void **state)
{
	static const uint8_t abc[20] = {
		0xa9, 0x99, 0x3e, 0x36, 0x47, 0x06, 0x81, 0x6a, 0xba, 0x3e,
		0x25, 0x71, 0x78, 0x50, 0xc2, 0x6c, 0x9c, 0xd0, 0xd8, 0x9d
	};
	uint8_t d[20];
	char out[29];

	(void)state;
	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	ws_sha1("abc", 3, d);
	assert_memory_equal(d, abc, 20);
	/* 56 bytes: the length needs a second padding block. */
	ws_sha1("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, d);
	assert_int_equal(d[0], 0x84);
	assert_int_equal(d[19], 0xf1);
}

static void test_exec_status(void **state)
{
	struct buf err = BUF_INIT;
	const char *ok = "{\"metadata\":{},\"status\":\"Success\"}";
	const char *code = "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\",\"message\":\"3\"}]}}";
	const char *other = "{\"status\":\"Failure\",\"message\":\"container not found (\\\"build\\\")\",\"reason\":\"InternalError\"}";

	(void)state;
	assert_int_equal(k8s_exec_status(ok, strlen(ok), &err), 0);
	assert_int_equal(k8s_exec_status(code, strlen(code), &err), 3);
	assert_int_equal(k8s_exec_status(other, strlen(other), &err), -1);
	assert_non_null(strstr(err.data, "container not found"));
	buf_reset(&err);
	assert_int_equal(k8s_exec_status("nope", 4, &err), -1);
	assert_non_null(strstr(err.data, "not JSON"));
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_masked_hello),
		cmocka_unit_test(test_encode_lengths),
		cmocka_unit_test(test_decode_partial),
		cmocka_unit_test(test_decode_refused),
		cmocka_unit_test(test_accept_key_and_sha1),
		cmocka_unit_test(test_exec_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
