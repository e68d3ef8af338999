/*
 * The fleeting wire schema and go-plugin constants: the one place that
 * knows field numbers, RPC paths and the magic cookie.  Everything here is
 * INTERIM (src/autoscale/fleeting.proto says why) except go-plugin's own
 * services, which are pinned from hashicorp/go-plugin.
 */
#ifndef CR_AUTOSCALE_FLEETING_SCHEMA_H
#define CR_AUTOSCALE_FLEETING_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "autoscale/instance_group.h"

struct buf;

/* go-plugin's own services [pinned: go-plugin internal/plugin/ protos]. */
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
/* Which schema the messages use, for the log ("interim crunner ..."). */
const char *fleeting_schema_name(void);

enum fleeting_rpc {
	FLEETING_INIT,
	FLEETING_UPDATE,
	FLEETING_INCREASE,
	FLEETING_DECREASE,
	FLEETING_CONNECT_INFO,
	FLEETING_HEARTBEAT,
	FLEETING_SHUTDOWN,
};
const char *fleeting_rpc_path(enum fleeting_rpc rpc);

/* Encoders append a request message to out; decoders fill their result
 * (released by the caller even on failure) and return 0 or
 * CR_ERR_PROTOCOL with err set. */
int fleeting_encode_init(struct buf *out, const char *config_json,
			 const struct ig_connector *settings);
int fleeting_decode_init(const void *msg, size_t len,
			 struct ig_provider_info *info, struct buf *err);
int fleeting_decode_update(const void *msg, size_t len,
			   struct ig_instance_list *list, struct buf *err);
int fleeting_encode_increase(struct buf *out, int n);
int fleeting_decode_increase(const void *msg, size_t len, int *succeeded,
			     struct buf *err);
int fleeting_encode_decrease(struct buf *out, const char *const *ids,
			     size_t n);
int fleeting_decode_decrease(const void *msg, size_t len,
			     struct ig_instance_list *succeeded,
			     struct buf *err);
/* ConnectInfo and Heartbeat both take one instance id. */
int fleeting_encode_instance_id(struct buf *out, const char *id);
int fleeting_decode_connect_info(const void *msg, size_t len,
				 struct ig_connect_info *ci, struct buf *err);

/* go-plugin messages. */
int gp_encode_health_check(struct buf *out);
/* 1 when the response says SERVING. */
int gp_health_serving(const void *msg, size_t len);
/* StdioData: channel (1 stdout, 2 stderr) and data. */
int gp_decode_stdio(const void *msg, size_t len, int *channel,
		    const uint8_t **data, size_t *data_len);

#endif
