/*
 * Mapping a plugin's reflected descriptors onto the fleeting fields by
 * name (proto_desc.c, fleeting_schema_from_pool()): a hand-built
 * FileDescriptorProto whose package, service and field numbers all
 * differ from the interim schema, with a nested message, a field of the
 * wrong type, and no Heartbeat.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "autoscale/fleeting_schema.h"
#include "autoscale/pb.h"
#include "autoscale/proto_desc.h"
#include "util/buf.h"
#include "util/error.h"

/* descriptor.proto: FieldDescriptorProto.Type and Label. */
enum { T_INT32 = 5, T_BOOL = 8, T_STRING = 9, T_MESSAGE = 11, T_BYTES = 12 };

/* Appends a FieldDescriptorProto (DescriptorProto field 2) to msg. */
static void add_field(struct buf *msg, const char *name, uint32_t number,
		      int type, const char *type_name, int repeated)
{
	struct buf f = BUF_INIT;

	pb_put_str(&f, 1, name);
	pb_put_uint(&f, 3, number);
	pb_put_uint(&f, 4, repeated ? 3 : 1);
	pb_put_uint(&f, 5, (uint64_t)type);
	pb_put_str(&f, 6, type_name);
	pb_put_msg(msg, 2, &f);
	buf_release(&f);
}

/* Starts a DescriptorProto named name. */
static void message_name(struct buf *msg, const char *name)
{
	buf_reset(msg);
	pb_put_str(msg, 1, name);
}

static void add_method(struct buf *svc, const char *name, const char *in,
		       const char *out)
{
	struct buf m = BUF_INIT;

	pb_put_str(&m, 1, name);
	pb_put_str(&m, 2, in);
	pb_put_str(&m, 3, out);
	pb_put_msg(svc, 2, &m);
	buf_release(&m);
}

static void build_file(struct buf *file, const char *service_name)
{
	struct buf m = BUF_INIT, nested = BUF_INIT, svc = BUF_INIT;

	pb_put_str(file, 1, "vendor/group.proto");
	pb_put_str(file, 2, "x.v2");

	message_name(&m, "InitRequest");
	add_field(&m, "config", 11, T_BYTES, NULL, 0);
	add_field(&m, "settings", 12, T_MESSAGE, ".x.v2.Conn", 0);
	pb_put_msg(file, 4, &m);

	message_name(&m, "Conn");
	add_field(&m, "username", 21, T_STRING, NULL, 0);
	add_field(&m, "key", 22, T_BYTES, NULL, 0);
	add_field(&m, "use_static_credentials", 24, T_BOOL, NULL, 0);
	add_field(&m, "timeout", 23, T_MESSAGE, ".google.protobuf.Duration", 0);
	pb_put_msg(file, 4, &m);

	message_name(&m, "InitResponse");
	add_field(&m, "id", 1, T_STRING, NULL, 0);
	add_field(&m, "max_size", 2, T_INT32, NULL, 0);
	pb_put_msg(file, 4, &m);

	/* UpdateResponse with a nested Inst message. */
	message_name(&m, "UpdateResponse");
	add_field(&m, "instances", 3, T_MESSAGE, ".x.v2.UpdateResponse.Inst", 1);
	message_name(&nested, "Inst");
	add_field(&nested, "instance_id", 7, T_STRING, NULL, 0);
	add_field(&nested, "state", 8, T_STRING, NULL, 0);
	pb_put_msg(&m, 3, &nested);
	pb_put_msg(file, 4, &m);

	message_name(&m, "Empty");
	pb_put_msg(file, 4, &m);
	message_name(&m, "IncReq");
	add_field(&m, "delta", 4, T_INT32, NULL, 0);
	pb_put_msg(file, 4, &m);
	message_name(&m, "IncResp");
	add_field(&m, "succeeded", 5, T_INT32, NULL, 0);
	pb_put_msg(file, 4, &m);
	message_name(&m, "DecReq");
	add_field(&m, "ids", 6, T_STRING, NULL, 1);
	pb_put_msg(file, 4, &m);
	message_name(&m, "DecResp");
	add_field(&m, "succeeded", 9, T_STRING, NULL, 1);
	pb_put_msg(file, 4, &m);
	message_name(&m, "CiReq");
	add_field(&m, "id", 2, T_STRING, NULL, 0);
	pb_put_msg(file, 4, &m);
	message_name(&m, "CiResp");
	add_field(&m, "connector", 1, T_MESSAGE, ".x.v2.Conn", 0);
	add_field(&m, "internal_addr", 40, T_STRING, NULL, 0);
	pb_put_msg(file, 4, &m);

	pb_put_str(&svc, 1, service_name);
	add_method(&svc, "Init", ".x.v2.InitRequest", ".x.v2.InitResponse");
	add_method(&svc, "Update", ".x.v2.Empty", ".x.v2.UpdateResponse");
	add_method(&svc, "Increase", ".x.v2.IncReq", ".x.v2.IncResp");
	add_method(&svc, "Decrease", ".x.v2.DecReq", ".x.v2.DecResp");
	add_method(&svc, "ConnectInfo", ".x.v2.CiReq", ".x.v2.CiResp");
	add_method(&svc, "Shutdown", ".x.v2.Empty", ".x.v2.Empty");
	pb_put_msg(file, 6, &svc);
	buf_release(&m);
	buf_release(&nested);
	buf_release(&svc);
}

static void test_descriptors_parsed(void **state)
{
	struct buf file = BUF_INIT, err = BUF_INIT;
	struct pd_pool pool = { 0 };
	const struct pd_message *m;

	(void)state;
	build_file(&file, "Group");
	assert_int_equal(pd_pool_add_file(&pool, file.data, file.len, &err), 0);
	assert_int_equal(pool.nservices, 1);
	assert_string_equal(pool.services[0].full_name, "x.v2.Group");
	assert_int_equal(pool.services[0].nmethods, 6);
	assert_string_equal(pool.services[0].methods[1].output,
			    ".x.v2.UpdateResponse");
	m = pd_find_message(&pool, ".x.v2.UpdateResponse.Inst");
	assert_non_null(m);
	assert_int_equal(pd_find_field(m, "state")->number, 8);
	m = pd_find_message(&pool, "x.v2.DecReq");
	assert_true(pd_find_field(m, "ids")->repeated);
	/* A truncated descriptor is refused, not half-read. */
	assert_int_equal(pd_pool_add_file(&pool, file.data, file.len - 3, &err),
			 CR_ERR_PROTOCOL);
	pd_pool_release(&pool);
	buf_release(&file);
	buf_release(&err);
}

static void test_fields_mapped_by_name(void **state)
{
	struct buf file = BUF_INIT, err = BUF_INIT, missing = BUF_INIT;
	struct buf enc = BUF_INIT;
	struct pd_pool pool = { 0 };
	struct fleeting_schema s;
	struct ig_connector c = { 0 };
	struct pb_reader r;
	struct pb_field f;
	char user[] = "u";

	(void)state;
	build_file(&file, "Group");
	assert_int_equal(pd_pool_add_file(&pool, file.data, file.len, &err), 0);
	assert_int_equal(fleeting_schema_from_pool(&s, &pool, &missing), 0);
	assert_string_equal(fleeting_rpc_path(&s, FLEETING_INIT),
			    "/x.v2.Group/Init");
	assert_string_equal(fleeting_rpc_path(&s, FLEETING_CONNECT_INFO),
			    "/x.v2.Group/ConnectInfo");
	assert_int_equal(s.num[FS_INIT_CONFIG], 11);
	assert_int_equal(s.num[FS_INIT_SETTINGS], 12);
	assert_int_equal(s.num[FS_CC_USERNAME], 21);
	assert_int_equal(s.num[FS_CC_KEY], 22);
	assert_int_equal(s.num[FS_CC_USE_STATIC], 24);
	assert_int_equal(s.num[FS_UPDATE_INSTANCES], 3);
	assert_int_equal(s.num[FS_INSTANCE_ID], 7);	/* second candidate */
	assert_int_equal(s.num[FS_INSTANCE_STATE], 8);
	assert_int_equal(s.num[FS_INCREASE_DELTA], 4);
	assert_int_equal(s.num[FS_DECREASE_IDS], 6);
	assert_int_equal(s.num[FS_DECREASE_SUCCEEDED], 9);
	assert_int_equal(s.num[FS_CI_REQ_ID], 2);
	assert_int_equal(s.num[FS_CI_CONNECTOR], 1);
	assert_int_equal(s.num[FS_CI_INTERNAL], 40);
	/* A Duration where an int64 is expected: not used, and said so. */
	assert_int_equal(s.num[FS_CC_TIMEOUT], 0);
	assert_non_null(strstr(missing.data, "timeout_ns (type 11)"));
	assert_non_null(strstr(missing.data, "os, arch, protocol"));
	/* No Heartbeat method: its field is not "missing". */
	assert_int_equal(s.num[FS_HB_REQ_ID], 0);
	assert_null(strstr(missing.data, "instance_id"));

	/* Encoding follows the mapped numbers; absent fields are left out. */
	c.username = user;
	c.timeout_ns = 5;
	fleeting_encode_init(&s, &enc, "{}", &c);
	pb_reader_init(&r, enc.data, enc.len);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 11);
	assert_int_equal(pb_next(&r, &f), 1);
	assert_int_equal(f.number, 12);
	/* username only: two-byte tag 21 << 3 | 2, length 1, "u" */
	assert_int_equal(f.len, 4);
	assert_memory_equal(f.data, "\xaa\x01\x01u", 4);
	assert_int_equal(pb_next(&r, &f), 0);

	fleeting_schema_release(&s);
	pd_pool_release(&pool);
	buf_release(&file);
	buf_release(&enc);
	buf_release(&missing);
}

static void test_no_instance_group_service(void **state)
{
	struct buf file = BUF_INIT, err = BUF_INIT, missing = BUF_INIT;
	struct pd_pool pool = { 0 };
	struct fleeting_schema s;

	(void)state;
	pb_put_str(&file, 2, "other");
	assert_int_equal(pd_pool_add_file(&pool, file.data, file.len, &err), 0);
	assert_int_equal(fleeting_schema_from_pool(&s, &pool, &missing),
			 CR_ERR_NOT_FOUND);
	pd_pool_release(&pool);
	buf_release(&file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_descriptors_parsed),
		cmocka_unit_test(test_fields_mapped_by_name),
		cmocka_unit_test(test_no_instance_group_service),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
