/*
 * Field numbers and paths: the INTERIM fleeting schema (fleeting.proto in
 * this directory, kept in step by tests/unit/test_autoscale_wire.c), the
 * names by which a plugin's reflected descriptors are mapped onto it, and
 * go-plugin's pinned internals.  Swapping in fleeting's real schema
 * touches this file and fleeting.proto only.
 */
#include <stdlib.h>
#include <string.h>

#include "autoscale/fleeting_schema.h"
#include "autoscale/instance_group_int.h"
#include "autoscale/pb.h"
#include "autoscale/proto_desc.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define INTERIM_SERVICE "crunner.fleeting.interim.InstanceGroup"
/* INTERIM: fleeting's real HandshakeConfig strings are not known. */
#define COOKIE_INTERIM "FLEETING_PLUGIN_MAGIC_COOKIE=crunner-interim-fleeting-cookie"

static const char *const rpc_names[FLEETING_NRPCS] = {
	[FLEETING_INIT] = "Init",
	[FLEETING_UPDATE] = "Update",
	[FLEETING_INCREASE] = "Increase",
	[FLEETING_DECREASE] = "Decrease",
	[FLEETING_CONNECT_INFO] = "ConnectInfo",
	[FLEETING_HEARTBEAT] = "Heartbeat",
	[FLEETING_SHUTDOWN] = "Shutdown",
};

/* Which message a field belongs to, found from the service's methods. */
enum role {
	R_CONNECTOR,	/* type of InitRequest's settings field */
	R_INIT_REQ, R_INIT_RESP, R_UPDATE_RESP,
	R_INSTANCE,	/* type of UpdateResponse's instances field */
	R_INC_REQ, R_INC_RESP, R_DEC_REQ, R_DEC_RESP,
	R_CI_REQ, R_CI_RESP, R_HB_REQ,
	R_NROLES
};

enum kind { K_STR, K_INT, K_BOOL, K_MSG };

static const struct field_def {
	enum fleeting_field field;
	enum role role;
	enum kind kind;
	uint32_t interim;	/* fleeting.proto's number */
	const char *names;	/* candidates, comma-separated, first = ours */
} fields[FS_NFIELDS] = {
	{ FS_CC_OS, R_CONNECTOR, K_STR, 1, "os" },
	{ FS_CC_ARCH, R_CONNECTOR, K_STR, 2, "arch" },
	{ FS_CC_PROTOCOL, R_CONNECTOR, K_STR, 3, "protocol" },
	{ FS_CC_PROTOCOL_PORT, R_CONNECTOR, K_INT, 4, "protocol_port,port" },
	{ FS_CC_USERNAME, R_CONNECTOR, K_STR, 5, "username,user" },
	{ FS_CC_PASSWORD, R_CONNECTOR, K_STR, 6, "password" },
	{ FS_CC_KEY, R_CONNECTOR, K_STR, 7, "key,private_key" },
	{ FS_CC_USE_STATIC, R_CONNECTOR, K_BOOL, 8, "use_static_credentials" },
	{ FS_CC_KEEPALIVE, R_CONNECTOR, K_INT, 9, "keepalive_ns,keepalive" },
	{ FS_CC_TIMEOUT, R_CONNECTOR, K_INT, 10, "timeout_ns,timeout" },
	{ FS_INIT_CONFIG, R_INIT_REQ, K_STR, 1, "config,plugin_config,config_json" },
	{ FS_INIT_SETTINGS, R_INIT_REQ, K_MSG, 2, "settings,connector_config" },
	{ FS_INFO_ID, R_INIT_RESP, K_STR, 1, "id" },
	{ FS_INFO_MAX_SIZE, R_INIT_RESP, K_INT, 2, "max_size" },
	{ FS_INFO_VERSION, R_INIT_RESP, K_STR, 3, "version" },
	{ FS_INFO_BUILD_INFO, R_INIT_RESP, K_STR, 4, "build_info" },
	{ FS_UPDATE_INSTANCES, R_UPDATE_RESP, K_MSG, 1, "instances,instance" },
	{ FS_INSTANCE_ID, R_INSTANCE, K_STR, 1, "id,instance_id" },
	{ FS_INSTANCE_STATE, R_INSTANCE, K_STR, 2, "state" },
	{ FS_INCREASE_DELTA, R_INC_REQ, K_INT, 1, "delta,n,count" },
	{ FS_INCREASE_SUCCEEDED, R_INC_RESP, K_INT, 1, "succeeded,success" },
	{ FS_DECREASE_IDS, R_DEC_REQ, K_STR, 1, "instance_ids,instances,ids" },
	{ FS_DECREASE_SUCCEEDED, R_DEC_RESP, K_STR, 1, "succeeded,success" },
	{ FS_CI_REQ_ID, R_CI_REQ, K_STR, 1, "instance_id,id" },
	{ FS_HB_REQ_ID, R_HB_REQ, K_STR, 1, "instance_id,id" },
	{ FS_CI_CONNECTOR, R_CI_RESP, K_MSG, 1,
	  "connector_config,connector,settings" },
	{ FS_CI_ID, R_CI_RESP, K_STR, 2, "id" },
	{ FS_CI_EXTERNAL, R_CI_RESP, K_STR, 3, "external_addr" },
	{ FS_CI_INTERNAL, R_CI_RESP, K_STR, 4, "internal_addr" },
	{ FS_CI_EXPIRES, R_CI_RESP, K_INT, 5, "expires_unix,expires" },
};

/* go-plugin: grpc.health.v1 and plugin.StdioData [pinned]. */
enum { HEALTH_REQ_SERVICE = 1, HEALTH_RESP_STATUS = 1, HEALTH_SERVING = 1 };
enum { STDIO_CHANNEL = 1, STDIO_DATA = 2 };

const char *fleeting_cookie_env(void)
{
	const char *env = getenv("CRUNNER_FLEETING_MAGIC_COOKIE");

	return env && strchr(env, '=') ? env : COOKIE_INTERIM;
}

static void set_paths(struct fleeting_schema *s, const char *service)
{
	struct buf b = BUF_INIT;
	int i;

	for (i = 0; i < FLEETING_NRPCS; i++) {
		buf_reset(&b);
		buf_addf(&b, "/%s/%s", service, rpc_names[i]);
		free(s->paths[i]);
		s->paths[i] = xstrdup(b.data);
	}
	buf_release(&b);
}

void fleeting_schema_interim(struct fleeting_schema *s)
{
	int i;

	memset(s, 0, sizeof(*s));
	set_paths(s, INTERIM_SERVICE);
	for (i = 0; i < FS_NFIELDS; i++)
		s->num[fields[i].field] = fields[i].interim;
	s->description = xstrdup("interim crunner schema (" INTERIM_SERVICE
				 ", static field numbers)");
}

void fleeting_schema_release(struct fleeting_schema *s)
{
	int i;

	for (i = 0; i < FLEETING_NRPCS; i++)
		free(s->paths[i]);
	free(s->description);
	memset(s, 0, sizeof(*s));
}

const char *fleeting_rpc_path(const struct fleeting_schema *s,
			      enum fleeting_rpc rpc)
{
	return s->paths[rpc];
}

/* descriptor.proto's FieldDescriptorProto.Type values. */
static int kind_matches(enum kind k, int type)
{
	switch (k) {
	case K_STR: return type == 9 || type == 12;	/* string, bytes */
	case K_BOOL: return type == 8;
	case K_MSG: return type == 11;
	case K_INT:	/* int64, uint64, int32, uint32 */
		return type == 3 || type == 4 || type == 5 || type == 13;
	}
	return 0;
}

static const struct pd_service *find_service(const struct pd_pool *pool)
{
	static const enum fleeting_rpc required[] = {
		FLEETING_INIT, FLEETING_UPDATE, FLEETING_INCREASE,
		FLEETING_DECREASE, FLEETING_CONNECT_INFO,
	};
	size_t i, j;

	for (i = 0; i < pool->nservices; i++) {
		for (j = 0; j < sizeof(required) / sizeof(required[0]); j++)
			if (!pd_find_method(&pool->services[i],
					    rpc_names[required[j]]))
				break;
		if (j == sizeof(required) / sizeof(required[0]))
			return &pool->services[i];
	}
	return NULL;
}

/* The field of m named by one of the comma-separated candidates. */
static const struct pd_field *find_candidate(const struct pd_message *m,
					     const char *names)
{
	char *copy = xstrdup(names), *p, *save = NULL;
	const struct pd_field *f = NULL;

	for (p = strtok_r(copy, ",", &save); p && !f;
	     p = strtok_r(NULL, ",", &save))
		f = pd_find_field(m, p);
	free(copy);
	return f;
}

static const struct pd_message *method_type(const struct pd_pool *pool,
					    const struct pd_service *svc,
					    enum fleeting_rpc rpc, int output)
{
	const struct pd_method *m = pd_find_method(svc, rpc_names[rpc]);

	return m ? pd_find_message(pool, output ? m->output : m->input) : NULL;
}

/* The message type of a field of m named by candidates (or NULL). */
static const struct pd_message *field_type(const struct pd_pool *pool,
					   const struct pd_message *m,
					   const char *names)
{
	const struct pd_field *f = m ? find_candidate(m, names) : NULL;

	return f && f->type == 11 ? pd_find_message(pool, f->type_name) : NULL;
}

int fleeting_schema_from_pool(struct fleeting_schema *s,
			      const struct pd_pool *pool, struct buf *missing)
{
	const struct pd_service *svc = find_service(pool);
	const struct pd_message *msg[R_NROLES] = { 0 };
	struct buf desc = BUF_INIT;
	int i;

	if (!svc)
		return CR_ERR_NOT_FOUND;
	memset(s, 0, sizeof(*s));
	set_paths(s, svc->full_name);
	msg[R_INIT_REQ] = method_type(pool, svc, FLEETING_INIT, 0);
	msg[R_INIT_RESP] = method_type(pool, svc, FLEETING_INIT, 1);
	msg[R_UPDATE_RESP] = method_type(pool, svc, FLEETING_UPDATE, 1);
	msg[R_INC_REQ] = method_type(pool, svc, FLEETING_INCREASE, 0);
	msg[R_INC_RESP] = method_type(pool, svc, FLEETING_INCREASE, 1);
	msg[R_DEC_REQ] = method_type(pool, svc, FLEETING_DECREASE, 0);
	msg[R_DEC_RESP] = method_type(pool, svc, FLEETING_DECREASE, 1);
	msg[R_CI_REQ] = method_type(pool, svc, FLEETING_CONNECT_INFO, 0);
	msg[R_CI_RESP] = method_type(pool, svc, FLEETING_CONNECT_INFO, 1);
	msg[R_HB_REQ] = method_type(pool, svc, FLEETING_HEARTBEAT, 0);
	msg[R_INSTANCE] = field_type(pool, msg[R_UPDATE_RESP],
				     fields[FS_UPDATE_INSTANCES].names);
	msg[R_CONNECTOR] = field_type(pool, msg[R_INIT_REQ],
				      fields[FS_INIT_SETTINGS].names);
	if (!msg[R_CONNECTOR])
		msg[R_CONNECTOR] = field_type(pool, msg[R_CI_RESP],
					      fields[FS_CI_CONNECTOR].names);
	for (i = 0; i < FS_NFIELDS; i++) {
		const struct field_def *d = &fields[i];
		const struct pd_field *f = msg[d->role] ?
			find_candidate(msg[d->role], d->names) : NULL;

		if (f && kind_matches(d->kind, f->type)) {
			s->num[d->field] = f->number;
			continue;
		}
		/* Heartbeat is optional: a plugin without it is fine. */
		if (d->role == R_HB_REQ && !pd_find_method(svc, "Heartbeat"))
			continue;
		buf_addf(missing, "%s%.*s", missing->len ? ", " : "",
			 (int)strcspn(d->names, ","), d->names);
		if (f)
			buf_addf(missing, " (type %d)", f->type);
	}
	buf_addf(&desc, "from the plugin's reflection (%s)", svc->full_name);
	s->description = buf_detach(&desc, NULL);
	return 0;
}

static int encode_connector(const struct fleeting_schema *s, struct buf *out,
			    const struct ig_connector *c)
{
	const uint32_t *n = s->num;
	int r = 0;

	r |= pb_put_str(out, n[FS_CC_OS], c->os);
	r |= pb_put_str(out, n[FS_CC_ARCH], c->arch);
	r |= pb_put_str(out, n[FS_CC_PROTOCOL], c->protocol);
	r |= pb_put_int(out, n[FS_CC_PROTOCOL_PORT], c->protocol_port);
	r |= pb_put_str(out, n[FS_CC_USERNAME], c->username);
	r |= pb_put_str(out, n[FS_CC_PASSWORD], c->password);
	r |= pb_put_bytes(out, n[FS_CC_KEY], c->key, c->key_len);
	r |= pb_put_bool(out, n[FS_CC_USE_STATIC], c->use_static_credentials);
	r |= pb_put_int(out, n[FS_CC_KEEPALIVE], c->keepalive_ns);
	r |= pb_put_int(out, n[FS_CC_TIMEOUT], c->timeout_ns);
	return r ? CR_ERR_TOO_LARGE : 0;
}

static int bad(struct buf *err, const char *what)
{
	buf_seterr(err, "plugin sent a malformed %s message", what);
	return CR_ERR_PROTOCOL;
}

/* Is f the field that means which (and does the plugin have it)? */
static int is(const struct fleeting_schema *s, enum fleeting_field which,
	      const struct pb_field *f)
{
	return s->num[which] && f->number == s->num[which];
}

/* Replaces *dst with the field's string. */
static void take_str(char **dst, const struct pb_field *f)
{
	free(*dst);
	*dst = pb_field_strdup(f);
}

static int decode_connector(const struct fleeting_schema *s,
			    const uint8_t *msg, size_t len,
			    struct ig_connector *c, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (is(s, FS_CC_OS, &f))
			take_str(&c->os, &f);
		else if (is(s, FS_CC_ARCH, &f))
			take_str(&c->arch, &f);
		else if (is(s, FS_CC_PROTOCOL, &f))
			take_str(&c->protocol, &f);
		else if (is(s, FS_CC_PROTOCOL_PORT, &f))
			c->protocol_port = (int)f.varint;
		else if (is(s, FS_CC_USERNAME, &f))
			take_str(&c->username, &f);
		else if (is(s, FS_CC_PASSWORD, &f))
			take_str(&c->password, &f);
		else if (is(s, FS_CC_KEY, &f) && f.wire == PB_LEN) {
			freezero(c->key, c->key_len);
			c->key = xmemdup(f.data, f.len);
			c->key_len = f.len;
		} else if (is(s, FS_CC_USE_STATIC, &f))
			c->use_static_credentials = !!f.varint;
		else if (is(s, FS_CC_KEEPALIVE, &f))
			c->keepalive_ns = (int64_t)f.varint;
		else if (is(s, FS_CC_TIMEOUT, &f))
			c->timeout_ns = (int64_t)f.varint;
		/* anything else: unknown fields are skipped (proto3) */
	}
	return r < 0 ? bad(err, "ConnectorConfig") : 0;
}

int fleeting_encode_init(const struct fleeting_schema *s, struct buf *out,
			 const char *config_json,
			 const struct ig_connector *settings)
{
	struct buf sub = BUF_INIT;
	int r;

	r = pb_put_str(out, s->num[FS_INIT_CONFIG],
		       config_json ? config_json : "null");
	if (!r)
		r = encode_connector(s, &sub, settings);
	if (!r)
		r = pb_put_msg(out, s->num[FS_INIT_SETTINGS], &sub);
	buf_release_secret(&sub);
	return r;
}

int fleeting_decode_init(const struct fleeting_schema *s, const void *msg,
			 size_t len, struct ig_provider_info *info,
			 struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (is(s, FS_INFO_ID, &f))
			take_str(&info->id, &f);
		else if (is(s, FS_INFO_MAX_SIZE, &f))
			info->max_size = (int)f.varint;
		else if (is(s, FS_INFO_VERSION, &f))
			take_str(&info->version, &f);
		else if (is(s, FS_INFO_BUILD_INFO, &f))
			take_str(&info->build_info, &f);
	}
	return r < 0 ? bad(err, "InitResponse") : 0;
}

static int decode_instance(const struct fleeting_schema *s,
			   const struct pb_field *outer,
			   struct ig_instance_list *list, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	char *id = NULL, *state = NULL;
	int r;

	pb_reader_init(&rd, outer->data, outer->len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (is(s, FS_INSTANCE_ID, &f))
			take_str(&id, &f);
		else if (is(s, FS_INSTANCE_STATE, &f))
			take_str(&state, &f);
	}
	if (r == 0 && id && *id)
		ig_instance_list_add(list, id, ig_state_parse(state ? state : ""));
	free(id);
	free(state);
	return r < 0 ? bad(err, "Instance") : 0;
}

int fleeting_decode_update(const struct fleeting_schema *s, const void *msg,
			   size_t len, struct ig_instance_list *list,
			   struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (is(s, FS_UPDATE_INSTANCES, &f) && f.wire == PB_LEN &&
		    decode_instance(s, &f, list, err))
			return CR_ERR_PROTOCOL;
	}
	return r < 0 ? bad(err, "UpdateResponse") : 0;
}

int fleeting_encode_increase(const struct fleeting_schema *s, struct buf *out,
			     int n)
{
	return pb_put_int(out, s->num[FS_INCREASE_DELTA], n);
}

int fleeting_decode_increase(const struct fleeting_schema *s, const void *msg,
			     size_t len, int *succeeded, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	*succeeded = 0;
	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (is(s, FS_INCREASE_SUCCEEDED, &f) && f.wire == PB_VARINT)
			*succeeded = (int)(int64_t)f.varint;
	}
	return r < 0 ? bad(err, "IncreaseResponse") : 0;
}

int fleeting_encode_decrease(const struct fleeting_schema *s, struct buf *out,
			     const char *const *ids, size_t n)
{
	size_t i;
	int r = 0;

	for (i = 0; i < n && !r; i++)
		r = pb_put_str(out, s->num[FS_DECREASE_IDS], ids[i]);
	return r;
}

int fleeting_decode_decrease(const struct fleeting_schema *s, const void *msg,
			     size_t len, struct ig_instance_list *succeeded,
			     struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (is(s, FS_DECREASE_SUCCEEDED, &f) && f.wire == PB_LEN) {
			char *id = pb_field_strdup(&f);

			ig_instance_list_add(succeeded, id, IG_STATE_DELETING);
			free(id);
		}
	}
	return r < 0 ? bad(err, "DecreaseResponse") : 0;
}

int fleeting_encode_instance_id(const struct fleeting_schema *s,
				enum fleeting_rpc rpc, struct buf *out,
				const char *id)
{
	return pb_put_str(out, s->num[rpc == FLEETING_HEARTBEAT ?
				      FS_HB_REQ_ID : FS_CI_REQ_ID], id);
}

int fleeting_decode_connect_info(const struct fleeting_schema *s,
				 const void *msg, size_t len,
				 struct ig_connect_info *ci, struct buf *err)
{
	struct pb_reader rd;
	struct pb_field f;
	int r;

	pb_reader_init(&rd, msg, len);
	while ((r = pb_next(&rd, &f)) == 1) {
		if (is(s, FS_CI_CONNECTOR, &f)) {
			if (f.wire == PB_LEN &&
			    decode_connector(s, f.data, f.len, &ci->conn, err))
				return CR_ERR_PROTOCOL;
		} else if (is(s, FS_CI_ID, &f)) {
			take_str(&ci->id, &f);
		} else if (is(s, FS_CI_EXTERNAL, &f)) {
			take_str(&ci->external_addr, &f);
		} else if (is(s, FS_CI_INTERNAL, &f)) {
			take_str(&ci->internal_addr, &f);
		} else if (is(s, FS_CI_EXPIRES, &f)) {
			ci->expires_unix = (int64_t)f.varint;
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
