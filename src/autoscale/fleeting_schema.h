/*
 * The fleeting wire schema and go-plugin constants: the one place that
 * knows field numbers, RPC paths and the magic cookie.
 *
 * A struct fleeting_schema holds the numbers in use for one plugin: the
 * INTERIM ones of src/autoscale/fleeting.proto, or, when the plugin
 * offers gRPC server reflection, the ones its descriptors give for the
 * same field names.  go-plugin's own services are pinned from
 * hashicorp/go-plugin.
 */
#ifndef CR_AUTOSCALE_FLEETING_SCHEMA_H
#define CR_AUTOSCALE_FLEETING_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "autoscale/instance_group.h"

struct buf;
struct pd_pool;

/* go-plugin's own services [pinned: go-plugin internal/plugin protos]. */
#define GP_PATH_HEALTH_CHECK "/grpc.health.v1.Health/Check"
#define GP_PATH_CONTROLLER_SHUTDOWN "/plugin.GRPCController/Shutdown"
#define GP_PATH_STDIO "/plugin.GRPCStdio/StreamStdio"
#define GP_HEALTH_SERVICE "plugin"

/* The application protocol versions crunner accepts ("1" [interim]). */
#define FLEETING_PROTOCOL_VERSIONS "1"

/*
 * The magic cookie as "KEY=VALUE" for the plugin's environment: the
 * interim value, or $CRUNNER_FLEETING_MAGIC_COOKIE when set (an operator
 * who knows fleeting's real cookie can pass it without a rebuild).
 */
const char *fleeting_cookie_env(void);

enum fleeting_rpc {
	FLEETING_INIT,
	FLEETING_UPDATE,
	FLEETING_INCREASE,
	FLEETING_DECREASE,
	FLEETING_CONNECT_INFO,
	FLEETING_HEARTBEAT,
	FLEETING_SHUTDOWN,
	FLEETING_NRPCS
};

/* Every field crunner reads or writes, by meaning. */
enum fleeting_field {
	FS_CC_OS, FS_CC_ARCH, FS_CC_PROTOCOL, FS_CC_PROTOCOL_PORT,
	FS_CC_USERNAME, FS_CC_PASSWORD, FS_CC_KEY, FS_CC_USE_STATIC,
	FS_CC_KEEPALIVE, FS_CC_TIMEOUT,
	FS_INIT_CONFIG, FS_INIT_SETTINGS,
	FS_INFO_ID, FS_INFO_MAX_SIZE, FS_INFO_VERSION, FS_INFO_BUILD_INFO,
	FS_UPDATE_INSTANCES, FS_INSTANCE_ID, FS_INSTANCE_STATE,
	FS_INCREASE_DELTA, FS_INCREASE_SUCCEEDED,
	FS_DECREASE_IDS, FS_DECREASE_SUCCEEDED,
	FS_CI_REQ_ID, FS_HB_REQ_ID,
	FS_CI_CONNECTOR, FS_CI_ID, FS_CI_EXTERNAL, FS_CI_INTERNAL,
	FS_CI_EXPIRES,
	FS_NFIELDS
};

struct fleeting_schema {
	char *paths[FLEETING_NRPCS];	/* "/pkg.Service/Method" */
	uint32_t num[FS_NFIELDS];	/* 0: the plugin has no such field */
	char *description;		/* for the log */
};

/* The interim schema of fleeting.proto. */
void fleeting_schema_interim(struct fleeting_schema *s);
/*
 * The schema a plugin's reflection descriptors give: its InstanceGroup
 * service (the one with Init, Update, Increase, Decrease and
 * ConnectInfo), fields mapped by name.  CR_ERR_NOT_FOUND when pool has no
 * such service.  Fields it lacks are 0 and named in missing.
 */
int fleeting_schema_from_pool(struct fleeting_schema *s,
			      const struct pd_pool *pool, struct buf *missing);
void fleeting_schema_release(struct fleeting_schema *s);

const char *fleeting_rpc_path(const struct fleeting_schema *s,
			      enum fleeting_rpc rpc);

/* Encoders append a request message to out; decoders fill their result
 * (released by the caller even on failure) and return 0 or
 * CR_ERR_PROTOCOL with err set. */
int fleeting_encode_init(const struct fleeting_schema *s, struct buf *out,
			 const char *config_json,
			 const struct ig_connector *settings);
int fleeting_decode_init(const struct fleeting_schema *s, const void *msg,
			 size_t len, struct ig_provider_info *info,
			 struct buf *err);
int fleeting_decode_update(const struct fleeting_schema *s, const void *msg,
			   size_t len, struct ig_instance_list *list,
			   struct buf *err);
int fleeting_encode_increase(const struct fleeting_schema *s, struct buf *out,
			     int n);
int fleeting_decode_increase(const struct fleeting_schema *s, const void *msg,
			     size_t len, int *succeeded, struct buf *err);
int fleeting_encode_decrease(const struct fleeting_schema *s, struct buf *out,
			     const char *const *ids, size_t n);
int fleeting_decode_decrease(const struct fleeting_schema *s, const void *msg,
			     size_t len, struct ig_instance_list *succeeded,
			     struct buf *err);
/* rpc: FLEETING_CONNECT_INFO or FLEETING_HEARTBEAT (one instance id). */
int fleeting_encode_instance_id(const struct fleeting_schema *s,
				enum fleeting_rpc rpc, struct buf *out,
				const char *id);
int fleeting_decode_connect_info(const struct fleeting_schema *s,
				 const void *msg, size_t len,
				 struct ig_connect_info *ci, struct buf *err);

/* go-plugin messages. */
int gp_encode_health_check(struct buf *out);
/* 1 when the response says SERVING. */
int gp_health_serving(const void *msg, size_t len);
/* StdioData: channel (1 stdout, 2 stderr) and data. */
int gp_decode_stdio(const void *msg, size_t len, int *channel,
		    const uint8_t **data, size_t *data_len);

#endif
