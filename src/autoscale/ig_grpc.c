/*
 * The instance group of a go-plugin fleeting plugin: handshake, health
 * check, the plugin's stdio stream, fleeting RPCs, restart after a crash,
 * and go-plugin's teardown (fleeting Shutdown, GRPCController/Shutdown,
 * grace period, SIGKILL to the process group).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autoscale/fleeting_schema.h"
#include "autoscale/gp_handshake.h"
#include "autoscale/grpc_client.h"
#include "autoscale/grpc_frame.h"
#include "autoscale/grpc_reflect.h"
#include "autoscale/instance_group_int.h"
#include "autoscale/plugin_host.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct ig_grpc {
	struct plugin_host_cfg hc;
	struct plugin_proc pp;
	int running;		/* pp holds a started process */
	int stopped;		/* shut down: never restart */
	struct grpc_conn *conn;
	int init_sent;		/* Init succeeded once: re-send on restart */
	struct fleeting_schema schema;	/* learned at every (re)start */
};

static int log_fds(void *ctx, struct pollfd fds[2])
{
	return plugin_proc_log_fds(ctx, fds);
}

static void log_ready(void *ctx)
{
	plugin_proc_drain(ctx);
}

static void stdio_message(void *ctx, const uint8_t *msg, size_t len)
{
	struct ig_grpc *g = ctx;
	const uint8_t *data;
	size_t n, start = 0, i;
	int channel;

	if (gp_decode_stdio(msg, len, &channel, &data, &n))
		return;
	for (i = 0; i <= n; i++) {
		if (i < n && data[i] != '\n')
			continue;
		if (i > start)
			plugin_log_line(g->pp.name, (const char *)data + start,
					i - start);
		start = i + 1;
	}
}

static void stdio_end(void *ctx, int status, const char *message)
{
	(void)ctx;
	if (status == GRPC_UNIMPLEMENTED)
		log_debug("plugin has no stdio service (go-plugin before 1.5)");
	else if (status > 0)
		log_debug("plugin stdio stream ended: %s %s",
			  grpc_status_name(status), message);
}

/* Maps a completed call's grpc-status to a CR_ERR_* code. */
static int status_error(int status)
{
	switch (status) {
	case GRPC_OK:
		return 0;
	case GRPC_UNIMPLEMENTED:
		return CR_ERR_UNSUPPORTED;
	case GRPC_DEADLINE_EXCEEDED:
		return CR_ERR_TIMEOUT;
	default:
		return CR_ERR_PROTOCOL;
	}
}

static int raw_call(struct ig_grpc *g, const char *path, const struct buf *req,
		    struct buf *resp, struct buf *err)
{
	int status, r;

	r = grpc_call(g->conn, path, req->data, req->len, resp, &status,
		      g->hc.call_timeout_ms, err);
	return r ? r : status_error(status);
}

/*
 * The fleeting schema: from the plugin's reflection descriptors (go-plugin
 * servers register reflection) mapped by field name, else the interim one.
 */
static void learn_schema(struct ig_grpc *g)
{
	struct pd_pool pool = { 0 };
	struct buf err = BUF_INIT, missing = BUF_INIT;
	int r;

	fleeting_schema_release(&g->schema);
	r = grpc_reflect_fetch(g->conn, g->hc.call_timeout_ms, &pool, &err);
	if (!r) {
		r = fleeting_schema_from_pool(&g->schema, &pool, &missing);
		if (r)
			buf_seterr(&err, "reflection lists no service with Init, "
				   "Update, Increase, Decrease and ConnectInfo");
	} else if (r == CR_ERR_UNSUPPORTED) {
		buf_reset(&err);
		buf_seterr(&err, "the plugin offers no gRPC reflection");
	}
	if (r) {
		fleeting_schema_interim(&g->schema);
		log_info("plugin %s: fleeting schema: %s (%s)", g->pp.name,
			 g->schema.description, err.data);
	} else {
		log_info("plugin %s: fleeting schema: %s", g->pp.name,
			 g->schema.description);
		if (missing.len)
			log_warn("plugin %s: its schema has no field for: %s; "
				 "those are neither sent nor read", g->pp.name,
				 missing.data);
	}
	pd_pool_release(&pool);
	buf_release(&err);
	buf_release(&missing);
}

/* Handshake line to a healthy connection with the stdio stream open. */
static int connect_plugin(struct ig_grpc *g, const char *line, struct buf *err)
{
	struct grpc_hook hook = { &g->pp, log_fds, log_ready };
	struct gp_handshake hs;
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int r;

	r = gp_handshake_parse(line, &hs, err);
	if (r) {
		plugin_proc_add_stderr(&g->pp, err);
		return r;
	}
	log_info("plugin %s (pid %d): go-plugin protocol, app version %d, %s "
		 "%s", g->pp.name, (int)g->pp.proc.pid, hs.app_version,
		 hs.network_unix ? "unix" : "tcp", hs.address);
	g->pp.stdout_is_log = 1;
	r = grpc_conn_open(&g->conn, hs.network_unix, hs.address, &hook, err);
	gp_handshake_release(&hs);
	if (r)
		return r;
	gp_encode_health_check(&req);
	r = raw_call(g, GP_PATH_HEALTH_CHECK, &req, &resp, err);
	if (!r && !gp_health_serving(resp.data, resp.len)) {
		buf_seterr(err, "plugin %s health check: not SERVING",
			   g->pp.name);
		r = CR_ERR_PROTOCOL;
	}
	buf_release(&req);
	buf_release(&resp);
	if (r) {
		buf_seterr(err, "plugin %s health check failed", g->pp.name);
		return r;
	}
	learn_schema(g);
	/* Once, and read for good: go-plugin's copier blocks otherwise. */
	return grpc_stream_open(g->conn, GP_PATH_STDIO, "", 0, stdio_message,
				stdio_end, g, err);
}

static void stop_process(struct ig_grpc *g, int grace_ms)
{
	grpc_conn_close(g->conn);
	g->conn = NULL;
	if (g->running)
		plugin_proc_stop(&g->pp, grace_ms);
	g->running = 0;
}

static int send_init(struct ig_grpc *g, struct ig_provider_info *info,
		     struct buf *err)
{
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int r;

	r = fleeting_encode_init(&g->schema, &req, g->hc.plugin_config_json,
				 &g->hc.settings);
	if (!r)
		r = raw_call(g, fleeting_rpc_path(&g->schema, FLEETING_INIT),
			     &req, &resp, err);
	if (!r)
		r = fleeting_decode_init(&g->schema, resp.data, resp.len, info,
					 err);
	buf_release_secret(&req);
	buf_release(&resp);
	return r;
}

/* Starts a crashed plugin again and re-sends Init; 0 when it runs. */
static int ensure_running(struct ig_grpc *g, struct buf *err)
{
	struct ig_provider_info info = { 0 };
	char *line = NULL;
	int r;

	if (g->stopped) {
		buf_seterr(err, "plugin was shut down");
		return CR_ERR_CANCELED;
	}
	if (g->running && plugin_proc_alive(&g->pp) && grpc_conn_alive(g->conn))
		return 0;
	stop_process(g, 0);
	r = plugin_host_may_restart(&g->hc, err);
	if (r)
		return r;
	log_warn("plugin %s is gone; starting it again", g->hc.path);
	r = plugin_host_launch(&g->hc, &g->pp, &line, err);
	if (r) {
		plugin_host_restart_done(&g->hc);
		return r;
	}
	g->running = 1;
	r = connect_plugin(g, line, err);
	free(line);
	if (!r && g->init_sent)
		r = send_init(g, &info, err);
	ig_provider_info_release(&info);
	plugin_host_restart_done(&g->hc);
	if (r) {
		stop_process(g, 0);
		return r;
	}
	log_warn("plugin %s restarted (restart %d)%s; instances are re-learned "
		 "with the next Update", g->hc.path, g->hc.restarts,
		 g->init_sent ? ", Init sent again" : "");
	return 0;
}

static void wait_exit(struct ig_grpc *g, int ms)
{
	for (; ms > 0 && plugin_proc_alive(&g->pp); ms -= 20)
		usleep(20000);
}

/*
 * A fleeting RPC.  retry: the call is safe to repeat, so one lost to a
 * crash is sent again to the restarted plugin; otherwise the crash comes
 * back as CR_ERR_RETRY (Increase and Decrease may have taken effect).
 */
static int call(struct ig_grpc *g, enum fleeting_rpc rpc, const struct buf *req,
		struct buf *resp, int retry, struct buf *err)
{
	struct buf first = BUF_INIT, path = BUF_INIT;
	int r;

	r = ensure_running(g, err);
	if (r)
		return r;
	/* A restart re-learns the schema: keep our own copy of the path. */
	buf_addstr(&path, fleeting_rpc_path(&g->schema, rpc));
	r = raw_call(g, path.data, req, resp, &first);
	if (r == CR_ERR_NETWORK) {
		/* The socket closes a moment before the process is gone. */
		wait_exit(g, 1000);
		log_warn("plugin %s died during %s: %s", g->hc.path, path.data,
			 first.data);
		r = ensure_running(g, err);
		/*
		 * req was encoded with the old process's schema; the same
		 * binary serves the same one again.
		 */
		if (!r && retry) {
			r = raw_call(g, fleeting_rpc_path(&g->schema, rpc), req,
				     resp, err);
		} else if (!r) {
			buf_seterr(err, "plugin crashed during %s and was "
				   "restarted; the call may have taken effect",
				   path.data);
			r = CR_ERR_RETRY;
		}
	} else if (r) {
		buf_seterr(err, "%s", first.data);
	}
	buf_release(&first);
	buf_release(&path);
	return r;
}

int ig_grpc_attach(struct plugin_host_cfg *hc, struct plugin_proc *pp,
		   const char *line, void **impl, struct buf *err)
{
	struct ig_grpc *g = xcalloc(1, sizeof(*g));
	int r;

	g->hc = *hc;
	g->pp = *pp;
	g->running = 1;
	r = connect_plugin(g, line, err);
	if (r) {
		stop_process(g, 0);
		plugin_host_cfg_release(&g->hc);
		fleeting_schema_release(&g->schema);
		free(g);
		return r;
	}
	*impl = g;
	return 0;
}

static int grpc_init(void *impl, struct ig_provider_info *info, struct buf *err)
{
	struct ig_grpc *g = impl;
	int r = ensure_running(g, err);

	if (!r)
		r = send_init(g, info, err);
	if (!r) {
		g->init_sent = 1;
		log_info("plugin %s: Init done: id '%s', max size %d, version "
			 "'%s'", g->pp.name, info->id ? info->id : "",
			 info->max_size, info->version ? info->version : "");
	}
	return r;
}

static int grpc_update(void *impl, struct ig_instance_list *list,
		       struct buf *err)
{
	struct ig_grpc *g = impl;
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int r = call(g, FLEETING_UPDATE, &req, &resp, 1, err);

	if (!r)
		r = fleeting_decode_update(&g->schema, resp.data, resp.len,
					   list, err);
	buf_release(&resp);
	return r;
}

static int grpc_increase(void *impl, int n, int *succeeded, struct buf *err)
{
	struct ig_grpc *g = impl;
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int r = fleeting_encode_increase(&g->schema, &req, n);

	if (!r)
		r = call(impl, FLEETING_INCREASE, &req, &resp, 0, err);
	if (!r)
		r = fleeting_decode_increase(&g->schema, resp.data, resp.len,
					     succeeded, err);
	buf_release(&req);
	buf_release(&resp);
	return r;
}

static int grpc_decrease(void *impl, const char *const *ids, size_t n,
			 struct ig_instance_list *succeeded, struct buf *err)
{
	struct ig_grpc *g = impl;
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int r = fleeting_encode_decrease(&g->schema, &req, ids, n);

	if (!r)
		r = call(impl, FLEETING_DECREASE, &req, &resp, 0, err);
	if (!r)
		r = fleeting_decode_decrease(&g->schema, resp.data, resp.len,
					     succeeded, err);
	buf_release(&req);
	buf_release(&resp);
	return r;
}

static int grpc_connect_info(void *impl, const char *id,
			     struct ig_connect_info *ci, struct buf *err)
{
	struct ig_grpc *g = impl;
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int r = fleeting_encode_instance_id(&g->schema, FLEETING_CONNECT_INFO,
					    &req, id);

	if (!r)
		r = call(impl, FLEETING_CONNECT_INFO, &req, &resp, 1, err);
	if (!r)
		r = fleeting_decode_connect_info(&g->schema, resp.data,
						 resp.len, ci, err);
	buf_release(&req);
	buf_release_secret(&resp);
	return r;
}

static int grpc_heartbeat(void *impl, const char *id, struct buf *err)
{
	struct ig_grpc *g = impl;
	struct buf req = BUF_INIT, resp = BUF_INIT;
	int r = fleeting_encode_instance_id(&g->schema, FLEETING_HEARTBEAT,
					    &req, id);

	if (!r)
		r = call(impl, FLEETING_HEARTBEAT, &req, &resp, 1, err);
	buf_release(&req);
	buf_release(&resp);
	return r;
}

static int grpc_shutdown(void *impl, struct buf *err)
{
	struct ig_grpc *g = impl;
	struct buf req = BUF_INIT, resp = BUF_INIT, ignored = BUF_INIT;
	int r = 0;

	if (g->stopped)
		return 0;
	if (g->running && plugin_proc_alive(&g->pp) && grpc_conn_alive(g->conn)) {
		r = raw_call(g, fleeting_rpc_path(&g->schema, FLEETING_SHUTDOWN), &req,
			     &resp, err);
		if (r == CR_ERR_UNSUPPORTED)
			r = 0;
		/* The process ends after this; errors tell nothing new. */
		raw_call(g, GP_PATH_CONTROLLER_SHUTDOWN, &req, &resp, &ignored);
	}
	stop_process(g, g->hc.grace_ms);
	g->stopped = 1;
	buf_release(&resp);
	buf_release(&ignored);
	return r;
}

static int grpc_pid(const void *impl)
{
	const struct ig_grpc *g = impl;

	return g->running ? (int)g->pp.proc.pid : -1;
}

static int grpc_restarts(const void *impl)
{
	return ((const struct ig_grpc *)impl)->hc.restarts;
}

static void grpc_destroy(void *impl)
{
	struct ig_grpc *g = impl;

	stop_process(g, 0);
	plugin_host_cfg_release(&g->hc);
	fleeting_schema_release(&g->schema);
	free(g);
}

const struct ig_ops ig_grpc_ops = {
	.kind = "grpc",
	.init = grpc_init,
	.update = grpc_update,
	.increase = grpc_increase,
	.decrease = grpc_decrease,
	.connect_info = grpc_connect_info,
	.heartbeat = grpc_heartbeat,
	.shutdown = grpc_shutdown,
	.pid = grpc_pid,
	.restarts = grpc_restarts,
	.destroy = grpc_destroy,
};
