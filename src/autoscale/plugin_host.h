/*
 * Starting a plugin process for the plugin-backed instance groups
 * (ig_grpc.c, ig_jsonl.c): go-plugin's environment, a private socket
 * directory, the first line of output.  The settings are copied so a
 * crashed plugin can be started again the same way.
 */
#ifndef CR_AUTOSCALE_PLUGIN_HOST_H
#define CR_AUTOSCALE_PLUGIN_HOST_H

#include "autoscale/instance_group.h"
#include "autoscale/plugin_proc.h"

struct plugin_host_cfg {
	char *path;
	char *plugin_config_json;
	struct ig_connector settings;
	int start_timeout_ms, call_timeout_ms, grace_ms, max_restarts;
	char *socket_dir;	/* private, removed by release */
	/* Restarts after crashes: how many, and the back-off between them. */
	int restarts, restarts_in_row, restart_delay_ms;
	long long last_restart_ms;
};

int plugin_host_cfg_init(struct plugin_host_cfg *hc,
			 const struct ig_config *cfg, const char *path,
			 struct buf *err);
void plugin_host_cfg_release(struct plugin_host_cfg *hc);

/*
 * May a crashed plugin be started again now?  The first restart is at
 * once, later ones in a row wait 1 s, 2 s, 4 s ... up to 30 s after the
 * previous restart ended (CR_ERR_RETRY until then: callers never sleep);
 * after max_restarts in a row, CR_ERR_IO.  Five quiet minutes start a new
 * row.  0 counts the restart; plugin_host_restart_done() marks its end,
 * whatever the outcome.
 */
int plugin_host_may_restart(struct plugin_host_cfg *hc, struct buf *err);
void plugin_host_restart_done(struct plugin_host_cfg *hc);

/* Starts the plugin and reads its first line (allocated in *line). */
int plugin_host_launch(const struct plugin_host_cfg *hc,
		       struct plugin_proc *pp, char **line, struct buf *err);

/* Take over a launched plugin; on failure the plugin is stopped. */
int ig_grpc_attach(struct plugin_host_cfg *hc, struct plugin_proc *pp,
		   const char *line, void **impl, struct buf *err);
int ig_jsonl_attach(struct plugin_host_cfg *hc, struct plugin_proc *pp,
		    const char *line, void **impl, struct buf *err);

#endif
