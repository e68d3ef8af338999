/*
 * The autoscaler's wire pieces: go-plugin's handshake line, gRPC message
 * framing, the protobuf codec, and the fleeting schema -- whose field
 * numbers are checked against src/autoscale/fleeting.proto, the file the
 * test plugin reads, so the two cannot drift apart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "autoscale/fleeting_schema.h"
#include "autoscale/gp_handshake.h"
#include "autoscale/grpc_frame.h"
#include "autoscale/instance_group.h"
#include "autoscale/pb.h"
#include "util/buf.h"
#include "util/error.h"

/* ---- handshake ---- */

static void test_handshake_unix(void **state)
{
	struct gp_handshake h;
	struct buf err = BUF_INIT;

	(void)state;
	assert_int_equal(gp_handshake_parse("1|1|unix|/tmp/plugin2517389412|grpc\n",
					    &h, &err), 0);
	assert_int_equal(h.app_version, 1);
	assert_true(h.network_unix);
	assert_string_equal(h.address, "/tmp/plugin2517389412");
	gp_handshake_release(&h);
	assert_int_equal(gp_handshake_parse("1|3|tcp|127.0.0.1:10000|grpc\r\n",
					    &h, &err), 0);
	assert_int_equal(h.app_version, 3);
	assert_false(h.network_unix);
	assert_string_equal(h.address, "127.0.0.1:10000");
	gp_handshake_release(&h);
	/* A short sixth field is not a certificate. */
	assert_int_equal(gp_handshake_parse("1|1|unix|/s|grpc|", &h, &err), 0);
	gp_handshake_release(&h);
	assert_int_equal(err.len, 0);
}

static void expect_refused(const char *line, const char *why)
{
	struct gp_handshake h;
	struct buf err = BUF_INIT;

	assert_int_equal(gp_handshake_parse(line, &h, &err), CR_ERR_PROTOCOL);
	if (!strstr(err.data, why))
		fail_msg("'%s': error '%s' lacks '%s'", line, err.data, why);
	assert_null(h.address);
	buf_release(&err);
}

static void test_handshake_refused(void **state)
{
	char cert[200];

	(void)state;
	expect_refused("hello", "has 1 fields, want at least 4");
	expect_refused("", "has 1 fields");
	expect_refused("2|1|unix|/s|grpc", "core protocol '2', crunner speaks 1");
	expect_refused("x|1|unix|/s|grpc", "core protocol 'x'");
	expect_refused("1|one|unix|/s|grpc", "bad application protocol version 'one'");
	expect_refused("1|1|pipe|/s|grpc", "network 'pipe'");
	expect_refused("1|1|unix||grpc", "empty address");
	expect_refused("1|1|unix|/s", "protocol 'netrpc'; only grpc");
	expect_refused("1|1|unix|/s|netrpc", "protocol 'netrpc'; only grpc");
	memset(cert, 'A', sizeof(cert) - 1);
	cert[sizeof(cert) - 1] = '\0';
	{
		char line[300];

		snprintf(line, sizeof(line), "1|1|unix|/s|grpc|%s", cert);
		expect_refused(line, "AutoMTLS");
	}
	expect_refused("1|1|unix|/s|grpc||mux", "multiplexes");
}

/* ---- gRPC framing ---- */

static void test_frame_roundtrip(void **state)
{
	struct buf b = BUF_INIT;
	const uint8_t *msg;
	size_t len, used;

	(void)state;
	assert_int_equal(grpc_frame_put(&b, "abc", 3), 0);
	assert_int_equal(grpc_frame_put(&b, "", 0), 0);
	assert_int_equal(b.len, 13);
	assert_memory_equal(b.data, "\0\0\0\0\3abc\0\0\0\0\0", 13);
	/* Every prefix shorter than the first message asks for more. */
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(grpc_frame_take((uint8_t *)b.data, i, &msg, &len,
						 &used), 0);
	assert_int_equal(grpc_frame_take((uint8_t *)b.data, b.len, &msg, &len,
					 &used), 1);
	assert_int_equal(len, 3);
	assert_int_equal(used, 8);
	assert_memory_equal(msg, "abc", 3);
	assert_int_equal(grpc_frame_take((uint8_t *)b.data + used, b.len - used,
					 &msg, &len, &used), 1);
	assert_int_equal(len, 0);
	assert_int_equal(used, 5);
	buf_release(&b);
}

static void test_frame_refused(void **state)
{
	static const uint8_t compressed[] = { 1, 0, 0, 0, 1, 'x' };
	static const uint8_t huge[] = { 0, 0x7f, 0xff, 0xff, 0xff };
	const uint8_t *msg;
	size_t len, used;
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(grpc_frame_take(compressed, sizeof(compressed), &msg,
					 &len, &used), CR_ERR_PROTOCOL);
	assert_int_equal(grpc_frame_take(huge, sizeof(huge), &msg, &len, &used),
			 CR_ERR_TOO_LARGE);
	grpc_message_decode(&b, "no%20instance%3A%20i-1%zz%4", 27);
	assert_string_equal(b.data, "no instance: i-1%zz%4");
	buf_release(&b);
	assert_string_equal(grpc_status_name(12), "UNIMPLEMENTED");
}

/* ---- protobuf codec ---- */

static void test_pb_varints(void **state)
{
	struct buf b = BUF_INIT;
	struct pb_reader r;
	struct pb_field f;

	(void)state;
	assert_int_equal(pb_put_uint(&b, 1, 300), 0);
	assert_memory_equal(b.data, "\x08\xac\x02", 3);
	buf_reset(&b);
	/* proto3 leaves zero values and empty strings out. */
	pb_put_uint(&b, 1, 0);
	pb_put_str(&b, 2, "");
	pb_put_str(&b, 2, NULL);
	assert_int_equal(b.len, 0);
	pb_put_int(&b, 3, -1);
	assert_int_equal(b.len, 11);	/* tag + ten bytes */
	pb_reader_init(&r, b.data, b.len);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 3);
	assert_int_equal((int64_t)f.varint, -1);
	assert_int_equal(pb_next(&r, &f), 0);
	buf_release(&b);
}

static void test_pb_malformed(void **state)
{
	static const struct { const char *data; size_t len; } bad[] = {
		{ "\x08", 1 },			/* varint missing */
		{ "\x08\x80", 2 },		/* truncated varint */
		{ "\x12\x05" "ab", 4 },		/* length past the end */
		{ "\x00\x01", 2 },		/* field 0 */
		{ "\x0b", 1 },			/* start group */
		{ "\x09" "1234", 5 },		/* short fixed64 */
	};
	struct pb_reader r;
	struct pb_field f;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pb_reader_init(&r, bad[i].data, bad[i].len);
		assert_int_equal(pb_next(&r, &f), CR_ERR_PROTOCOL);
	}
	/* Fixed-width fields are skipped correctly. */
	pb_reader_init(&r, "\x0d" "abcd" "\x10\x07", 7);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.wire, PB_I32);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 2);
	assert_int_equal(f.varint, 7);
}

/* ---- the fleeting schema against fleeting.proto ---- */

static char *proto_text;
static struct fleeting_schema S;	/* the interim schema */

static int load_proto(void **state)
{
	const char *src = getenv("CR_SOURCE_DIR");
	char path[4096];
	FILE *fp;
	long n;

	(void)state;
	snprintf(path, sizeof(path), "%s/src/autoscale/fleeting.proto",
		 src ? src : ".");
	fp = fopen(path, "r");
	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	proto_text = calloc(1, (size_t)n + 1);
	if (fread(proto_text, 1, (size_t)n, fp) != (size_t)n) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	fleeting_schema_interim(&S);
	return 0;
}

static int free_proto(void **state)
{
	(void)state;
	free(proto_text);
	fleeting_schema_release(&S);
	return 0;
}

/* The number of field name in message msg, as fleeting.proto says. */
static uint32_t field(const char *msg, const char *name)
{
	char head[128], pat[128];
	const char *m, *end, *p;

	snprintf(head, sizeof(head), "message %s {", msg);
	m = strstr(proto_text, head);
	if (!m)
		fail_msg("fleeting.proto has no message %s", msg);
	end = strchr(m, '}');
	snprintf(pat, sizeof(pat), " %s = ", name);
	p = strstr(m, pat);
	if (!p || p > end)
		fail_msg("fleeting.proto: %s has no field %s", msg, name);
	return (uint32_t)strtoul(p + strlen(pat), NULL, 10);
}

/* The first field numbered n in msg, or fails. */
static struct pb_field get(const struct buf *b, uint32_t n)
{
	struct pb_reader r;
	struct pb_field f;

	pb_reader_init(&r, b->data, b->len);
	while (pb_next(&r, &f) == 1)
		if (f.number == n)
			return f;
	fail_msg("no field %u", n);
	return f;
}

static void test_schema_paths_and_cookie(void **state)
{
	char line[256];

	(void)state;
	assert_non_null(strstr(proto_text, "package crunner.fleeting.interim;"));
	assert_non_null(strstr(proto_text, "service InstanceGroup {"));
	assert_string_equal(fleeting_rpc_path(&S, FLEETING_INIT),
			    "/crunner.fleeting.interim.InstanceGroup/Init");
	assert_string_equal(fleeting_rpc_path(&S, FLEETING_CONNECT_INFO),
			    "/crunner.fleeting.interim.InstanceGroup/ConnectInfo");
	assert_non_null(strstr(proto_text, "rpc ConnectInfo(ConnectInfoRequest)"));
	unsetenv("CRUNNER_FLEETING_MAGIC_COOKIE");
	snprintf(line, sizeof(line), "// magic-cookie: %s\n", fleeting_cookie_env());
	assert_non_null(strstr(proto_text, line));
	setenv("CRUNNER_FLEETING_MAGIC_COOKIE", "K=V", 1);
	assert_string_equal(fleeting_cookie_env(), "K=V");
	unsetenv("CRUNNER_FLEETING_MAGIC_COOKIE");
}

static void test_schema_init(void **state)
{
	struct ig_connector s = { 0 };
	struct ig_provider_info info = { 0 };
	struct buf b = BUF_INIT, resp = BUF_INIT, sub = BUF_INIT, err = BUF_INIT;
	struct pb_field f;
	char user[] = "ec2-user", key[] = "PEM";

	(void)state;
	s.username = user;
	s.key = key;
	s.key_len = 3;
	s.protocol_port = 22;
	s.use_static_credentials = 1;
	s.timeout_ns = 5000000000LL;
	assert_int_equal(fleeting_encode_init(&S, &b, "{\"a\":1}", &s), 0);
	f = get(&b, field("InitRequest", "config"));
	assert_int_equal(f.len, 7);
	assert_memory_equal(f.data, "{\"a\":1}", 7);
	f = get(&b, field("InitRequest", "settings"));
	buf_add(&sub, f.data, f.len);
	f = get(&sub, field("ConnectorConfig", "username"));
	assert_memory_equal(f.data, "ec2-user", 8);
	f = get(&sub, field("ConnectorConfig", "key"));
	assert_memory_equal(f.data, "PEM", 3);
	assert_int_equal(get(&sub, field("ConnectorConfig", "protocol_port")).varint, 22);
	assert_int_equal(get(&sub, field("ConnectorConfig", "use_static_credentials")).varint, 1);
	assert_int_equal(get(&sub, field("ConnectorConfig", "timeout_ns")).varint, 5000000000LL);
	/* A missing plugin_config is JSON null, as Go encodes a nil map. */
	buf_reset(&b);
	fleeting_encode_init(&S, &b, NULL, &s);
	f = get(&b, field("InitRequest", "config"));
	assert_memory_equal(f.data, "null", 4);

	pb_put_str(&resp, field("InitResponse", "id"), "aws/us-east-1/asg");
	pb_put_int(&resp, field("InitResponse", "max_size"), 10);
	pb_put_str(&resp, field("InitResponse", "version"), "1.5.1");
	pb_put_str(&resp, 99, "a field from a newer plugin");
	assert_int_equal(fleeting_decode_init(&S, resp.data, resp.len, &info, &err), 0);
	assert_string_equal(info.id, "aws/us-east-1/asg");
	assert_int_equal(info.max_size, 10);
	assert_string_equal(info.version, "1.5.1");
	ig_provider_info_release(&info);
	buf_release(&b);
	buf_release(&sub);
	buf_release(&resp);
}

static void add_instance(struct buf *resp, const char *id, const char *state)
{
	struct buf inst = BUF_INIT;

	pb_put_str(&inst, field("Instance", "id"), id);
	pb_put_str(&inst, field("Instance", "state"), state);
	pb_put_msg(resp, field("UpdateResponse", "instances"), &inst);
	buf_release(&inst);
}

static void test_schema_update_increase_decrease(void **state)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct ig_instance_list l = { 0 };
	const char *ids[] = { "i-1", "i-2" };
	struct pb_reader r;
	struct pb_field f;
	int n = 0;

	(void)state;
	add_instance(&b, "i-1", "running");
	add_instance(&b, "i-2", "creating");
	add_instance(&b, "i-3", "timeout");
	add_instance(&b, "i-4", "something-new");
	assert_int_equal(fleeting_decode_update(&S, b.data, b.len, &l, &err), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0].id, "i-1");
	assert_int_equal(l.v[0].state, IG_STATE_RUNNING);
	assert_int_equal(l.v[1].state, IG_STATE_CREATING);
	assert_int_equal(l.v[2].state, IG_STATE_TIMEOUT);
	assert_int_equal(l.v[3].state, IG_STATE_UNKNOWN);
	ig_instance_list_release(&l);
	/* A truncated message is an error, not a short list. */
	assert_int_equal(fleeting_decode_update(&S, b.data, b.len - 1, &l, &err),
			 CR_ERR_PROTOCOL);
	assert_non_null(strstr(err.data, "malformed"));
	ig_instance_list_release(&l);

	buf_reset(&b);
	fleeting_encode_increase(&S, &b, 3);
	assert_int_equal(get(&b, field("IncreaseRequest", "delta")).varint, 3);
	buf_reset(&b);
	pb_put_int(&b, field("IncreaseResponse", "succeeded"), 2);
	assert_int_equal(fleeting_decode_increase(&S, b.data, b.len, &n, &err), 0);
	assert_int_equal(n, 2);

	buf_reset(&b);
	fleeting_encode_decrease(&S, &b, ids, 2);
	pb_reader_init(&r, b.data, b.len);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pb_next(&r, &f), 1);
		assert_int_equal(f.number, field("DecreaseRequest", "instance_ids"));
		assert_memory_equal(f.data, ids[i], 3);
	}
	buf_reset(&b);
	pb_put_str(&b, field("DecreaseResponse", "succeeded"), "i-2");
	assert_int_equal(fleeting_decode_decrease(&S, b.data, b.len, &l, &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, "i-2");
	ig_instance_list_release(&l);
	buf_release(&b);
	buf_release(&err);
}

static void test_schema_connect_info(void **state)
{
	struct buf b = BUF_INIT, cc = BUF_INIT, err = BUF_INIT;
	struct ig_connect_info ci = { 0 };

	(void)state;
	fleeting_encode_instance_id(&S, FLEETING_CONNECT_INFO, &b, "i-7");
	assert_memory_equal(get(&b, field("ConnectInfoRequest", "instance_id")).data,
			    "i-7", 3);
	assert_int_equal(field("HeartbeatRequest", "instance_id"),
			 field("ConnectInfoRequest", "instance_id"));
	buf_reset(&b);
	pb_put_str(&cc, field("ConnectorConfig", "os"), "linux");
	pb_put_str(&cc, field("ConnectorConfig", "protocol"), "ssh");
	pb_put_str(&cc, field("ConnectorConfig", "username"), "core");
	pb_put_bytes(&cc, field("ConnectorConfig", "key"), "K\0Y", 3);
	pb_put_int(&cc, field("ConnectorConfig", "protocol_port"), 2222);
	pb_put_msg(&b, field("ConnectInfoResponse", "connector_config"), &cc);
	pb_put_str(&b, field("ConnectInfoResponse", "id"), "i-7");
	pb_put_str(&b, field("ConnectInfoResponse", "internal_addr"), "10.0.0.7");
	pb_put_str(&b, field("ConnectInfoResponse", "external_addr"), "1.2.3.4:22");
	pb_put_int(&b, field("ConnectInfoResponse", "expires_unix"), 1700000000);
	assert_int_equal(fleeting_decode_connect_info(&S, b.data, b.len, &ci, &err), 0);
	assert_string_equal(ci.id, "i-7");
	assert_string_equal(ci.internal_addr, "10.0.0.7");
	assert_string_equal(ci.external_addr, "1.2.3.4:22");
	assert_int_equal(ci.expires_unix, 1700000000);
	assert_string_equal(ci.conn.os, "linux");
	assert_string_equal(ci.conn.protocol, "ssh");
	assert_string_equal(ci.conn.username, "core");
	assert_int_equal(ci.conn.key_len, 3);
	assert_memory_equal(ci.conn.key, "K\0Y", 3);
	assert_int_equal(ci.conn.protocol_port, 2222);
	assert_null(ci.conn.password);
	ig_connect_info_release(&ci);
	buf_release(&b);
	buf_release(&cc);
}

static void test_go_plugin_messages(void **state)
{
	struct buf b = BUF_INIT;
	const uint8_t *data;
	size_t len;
	int channel;

	(void)state;
	gp_encode_health_check(&b);
	assert_int_equal(b.len, 8);
	assert_memory_equal(b.data, "\x0a\x06plugin", 8);
	assert_true(gp_health_serving("\x08\x01", 2));
	assert_false(gp_health_serving("\x08\x02", 2));	/* NOT_SERVING */
	assert_false(gp_health_serving("", 0));		/* UNKNOWN */
	assert_int_equal(gp_decode_stdio("\x08\x02\x12\x03" "abc", 7, &channel,
					 &data, &len), 0);
	assert_int_equal(channel, 2);
	assert_int_equal(len, 3);
	assert_memory_equal(data, "abc", 3);
	buf_release(&b);
}

static void test_state_names(void **state)
{
	(void)state;
	for (int s = IG_STATE_CREATING; s <= IG_STATE_SUSPENDED; s++)
		assert_int_equal(ig_state_parse(ig_state_name(s)), s);
	assert_int_equal(ig_state_parse("Running"), IG_STATE_UNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_unix),
		cmocka_unit_test(test_handshake_refused),
		cmocka_unit_test(test_frame_roundtrip),
		cmocka_unit_test(test_frame_refused),
		cmocka_unit_test(test_pb_varints),
		cmocka_unit_test(test_pb_malformed),
		cmocka_unit_test(test_schema_paths_and_cookie),
		cmocka_unit_test(test_schema_init),
		cmocka_unit_test(test_schema_update_increase_decrease),
		cmocka_unit_test(test_schema_connect_info),
		cmocka_unit_test(test_go_plugin_messages),
		cmocka_unit_test(test_state_names),
	};

	return cmocka_run_group_tests(tests, load_proto, free_proto);
}
