/*
 * Field numbers and paths: INTERIM fleeting schema (fleeting.proto in this
 * directory, kept in step by tests/unit/test_fleeting_schema.c) and pinned
 * go-plugin internals.  Swapping in fleeting's real schema touches this
 * file and fleeting.proto only.
 */
#include <stdlib.h>
#include <string.h>

#include "autoscale/fleeting_schema.h"
#include "autoscale/instance_group_int.h"
#include "autoscale/pb.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define SERVICE "/crunner.fleeting.interim.InstanceGroup/"

/* ConnectorConfig */
enum { CC_OS = 1, CC_ARCH, CC_PROTOCOL, CC_PROTOCOL_PORT, CC_USERNAME,
       CC_PASSWORD, CC_KEY, CC_USE_STATIC, CC_KEEPALIVE, CC_TIMEOUT };
/* InitRequest / InitResponse */
enum { INIT_CONFIG = 1, INIT_SETTINGS = 2 };
enum { INFO_ID = 1, INFO_MAX_SIZE, INFO_VERSION, INFO_BUILD_INFO };
/* UpdateResponse and its Instance */
enum { UPDATE_INSTANCES = 1 };
enum { INSTANCE_ID = 1, INSTANCE_STATE = 2 };
/* Increase, Decrease, ConnectInfo, Heartbeat */
enum { INCREASE_DELTA = 1, INCREASE_SUCCEEDED = 1 };
enum { DECREASE_IDS = 1, DECREASE_SUCCEEDED = 1 };
enum { REQ_INSTANCE_ID = 1 };
enum { CI_CONNECTOR = 1, CI_ID, CI_EXTERNAL_ADDR, CI_INTERNAL_ADDR,
       CI_EXPIRES };
/* go-plugin: grpc.health.v1 and plugin.StdioData [pinned]. */
enum { HEALTH_REQ_SERVICE = 1, HEALTH_RESP_STATUS = 1, HEALTH_SERVING = 1 };
enum { STDIO_CHANNEL = 1, STDIO_DATA = 2 };

/* INTERIM: fleeting's real HandshakeConfig strings are not known. */
#define COOKIE_INTERIM "FLEETING_PLUGIN_MAGIC_COOKIE=crunner-interim-fleeting-cookie"

const char *fleeting_cookie_env(void)
{
	const char *env = getenv("CRUNNER_FLEETING_MAGIC_COOKIE");

	return env && strchr(env, '=') ? env : COOKIE_INTERIM;
}

const char *fleeting_schema_name(void)
{
	return "interim crunner schema (crunner.fleeting.interim, static field "
	       "numbers)";
}

const char *fleeting_rpc_path(enum fleeting_rpc rpc)
{
	static const char *const paths[] = {
		[FLEETING_INIT] = SERVICE "Init",
		[FLEETING_UPDATE] = SERVICE "Update",
		[FLEETING_INCREASE] = SERVICE "Increase",
		[FLEETING_DECREASE] = SERVICE "Decrease",
		[FLEETING_CONNECT_INFO] = SERVICE "ConnectInfo",
		[FLEETING_HEARTBEAT] = SERVICE "Heartbeat",
		[FLEETING_SHUTDOWN] = SERVICE "Shutdown",
	};

	return paths[rpc];
}

static int encode_connector(struct buf *out, const struct ig_connector *c)
{
	int r = 0;

	r |= pb_put_str(out, CC_OS, c->os);
	r |= pb_put_str(out, CC_ARCH, c->arch);
	r |= pb_put_str(out, CC_PROTOCOL, c->protocol);
	r |= pb_put_int(out, CC_PROTOCOL_PORT, c->protocol_port);
	r |= pb_put_str(out, CC_USERNAME, c->username);
	r |= pb_put_str(out, CC_PASSWORD, c->password);
	r |= pb_put_bytes(out, CC_KEY, c->key, c->key_len);
	r |= pb_put_bool(out, CC_USE_STATIC, c->use_static_credentials);
	r |= pb_put_int(out, CC_KEEPALIVE, c->keepalive_ns);
	r |= pb_put_int(out, CC_TIMEOUT, c->timeout_ns);
	return r ? CR_ERR_TOO_LARGE : 0;
}

static int bad(struct buf *err, const char *what)
{
	buf_seterr(err, "plugin sent a malformed %s message", what);
	return CR_ERR_PROTOCOL;
}

/* Replaces *dst with the field's string. */
static void take_str(char **dst, const struct pb_field *f)
{
	free(*dst);
	*dst = pb_field_strdup(f);
}

static int decode_connector(const uint8_t *msg, size_t len,
			    struct ig_connector *c, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		switch (f.number) {
		case CC_OS: take_str(&c->os, &f); break;
		case CC_ARCH: take_str(&c->arch, &f); break;
		case CC_PROTOCOL: take_str(&c->protocol, &f); break;
		case CC_PROTOCOL_PORT: c->protocol_port = (int)f.varint; break;
		case CC_USERNAME: take_str(&c->username, &f); break;
		case CC_PASSWORD: take_str(&c->password, &f); break;
		case CC_KEY:
			if (f.wire != PB_LEN)
				break;
			free(c->key);
			c->key = xmemdup(f.data, f.len);
			c->key_len = f.len;
			break;
		case CC_USE_STATIC: c->use_static_credentials = !!f.varint; break;
		case CC_KEEPALIVE: c->keepalive_ns = (int64_t)f.varint; break;
		case CC_TIMEOUT: c->timeout_ns = (int64_t)f.varint; break;
		default: break;	/* unknown fields are skipped (proto3) */
		}
	}
	return r < 0 ? bad(err, "ConnectorConfig") : 0;
}

int fleeting_encode_init(struct buf *out, const char *config_json,
			 const struct ig_connector *settings)
{
	struct buf sub = BUF_INIT;
	int r;

	r = pb_put_str(out, INIT_CONFIG, config_json ? config_json : "null");
	if (!r)
		r = encode_connector(&sub, settings);
	if (!r)
		r = pb_put_msg(out, INIT_SETTINGS, &sub);
	buf_release(&sub);
	return r;
}

int fleeting_decode_init(const void *msg, size_t len,
			 struct ig_provider_info *info, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		switch (f.number) {
		case INFO_ID: take_str(&info->id, &f); break;
		case INFO_MAX_SIZE: info->max_size = (int)f.varint; break;
		case INFO_VERSION: take_str(&info->version, &f); break;
		case INFO_BUILD_INFO: take_str(&info->build_info, &f); break;
		default: break;
		}
	}
	return r < 0 ? bad(err, "InitResponse") : 0;
}

static int decode_instance(const struct pb_field *outer,
			   struct ig_instance_list *list, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	char *id = NULL, *state = NULL;
	int r;

	pb_reader_init(&rd, outer->data, outer->len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (f.number == INSTANCE_ID)
			take_str(&id, &f);
		else if (f.number == INSTANCE_STATE)
			take_str(&state, &f);
	}
	if (r == 0 && id && *id)
		ig_instance_list_add(list, id, ig_state_parse(state ? state : ""));
	free(id);
	free(state);
	return r < 0 ? bad(err, "Instance") : 0;
}

int fleeting_decode_update(const void *msg, size_t len,
			   struct ig_instance_list *list, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (f.number == UPDATE_INSTANCES && f.wire == PB_LEN &&
		    decode_instance(&f, list, err))
			return CR_ERR_PROTOCOL;
	}
	return r < 0 ? bad(err, "UpdateResponse") : 0;
}

int fleeting_encode_increase(struct buf *out, int n)
{
	return pb_put_int(out, INCREASE_DELTA, n);
}

int fleeting_decode_increase(const void *msg, size_t len, int *succeeded,
			     struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	*succeeded = 0;
	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (f.number == INCREASE_SUCCEEDED && f.wire == PB_VARINT)
			*succeeded = (int)(int64_t)f.varint;
	}
	return r < 0 ? bad(err, "IncreaseResponse") : 0;
}

int fleeting_encode_decrease(struct buf *out, const char *const *ids,
			     size_t n)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && !r; i++)
		r = pb_put_str(out, DECREASE_IDS, ids[i]);
	return r;
}

int fleeting_decode_decrease(const void *msg, size_t len,
			     struct ig_instance_list *succeeded,
			     struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (f.number == DECREASE_SUCCEEDED && f.wire == PB_LEN) {
			char *id = pb_field_strdup(&f);

			ig_instance_list_add(succeeded, id, IG_STATE_DELETING);
			free(id);
		}
	}
	return r < 0 ? bad(err, "DecreaseResponse") : 0;
}

int fleeting_encode_instance_id(struct buf *out, const char *id)
{
	return pb_put_str(out, REQ_INSTANCE_ID, id);
}

int fleeting_decode_connect_info(const void *msg, size_t len,
				 struct ig_connect_info *ci, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		switch (f.number) {
		case CI_CONNECTOR:
			if (f.wire == PB_LEN &&
			    decode_connector(f.data, f.len, &ci->conn, err))
				return CR_ERR_PROTOCOL;
			break;
		case CI_ID: take_str(&ci->id, &f); break;
		case CI_EXTERNAL_ADDR: take_str(&ci->external_addr, &f); break;
		case CI_INTERNAL_ADDR: take_str(&ci->internal_addr, &f); break;
		case CI_EXPIRES: ci->expires_unix = (int64_t)f.varint; break;
		default: break;
		}
	}
	return r < 0 ? bad(err, "ConnectInfoResponse") : 0;
}

int gp_encode_health_check(struct buf *out)
{
	return pb_put_str(out, HEALTH_REQ_SERVICE, GP_HEALTH_SERVICE);
}

int gp_health_serving(const void *msg, size_t len)
{
	struct pb_reader rd;
	struct pb_field f;
	int serving = 0;

	pb_reader_init(&rd, msg, len);
	while (pb_next(&rd, &f) == 1) {
		if (f.number == HEALTH_RESP_STATUS && f.wire == PB_VARINT)
			serving = f.varint == HEALTH_SERVING;
	}
	return serving;
}

int gp_decode_stdio(const void *msg, size_t len, int *channel,
		    const uint8_t **data, size_t *data_len)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	*channel = 0;
	*data = NULL;
	*data_len = 0;
	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (f.number == STDIO_CHANNEL && f.wire == PB_VARINT)
			*channel = (int)f.varint;
		else if (f.number == STDIO_DATA && f.wire == PB_LEN) {
			*data = f.data;
			*data_len = f.len;
		}
	}
	return r < 0 ? CR_ERR_PROTOCOL : 0;
}
