#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/fleeting_schema.h"
#include "autoscale/instance_group_int.h"
#include "autoscale/plugin_host.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

int plugin_host_cfg_init(struct plugin_host_cfg *hc,
			 const struct ig_config *cfg, const char *path,
			 struct buf *err)
{
	const char *tmp = getenv("TMPDIR");
	struct buf dir = BUF_INIT;

	memset(hc, 0, sizeof(*hc));
	buf_addf(&dir, "%s/crunner-plugin-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir.data)) {
		buf_seterr(err, "creating the plugin socket directory %s: %m",
			   dir.data);
		buf_release(&dir);
		return CR_ERR_IO;
	}
	hc->socket_dir = buf_detach(&dir, NULL);
	hc->path = xstrdup(path);
	hc->plugin_config_json = xstrdup(cfg->plugin_config_json ?
					 cfg->plugin_config_json : "null");
	ig_connector_copy(&hc->settings, &cfg->settings);
	hc->start_timeout_ms = cfg->start_timeout_ms > 0 ?
			       cfg->start_timeout_ms : 60000;
	hc->call_timeout_ms = cfg->call_timeout_ms > 0 ?
			      cfg->call_timeout_ms : 60000;
	hc->grace_ms = cfg->shutdown_grace_ms > 0 ? cfg->shutdown_grace_ms : 2000;
	hc->max_restarts = cfg->max_restarts > 0 ? cfg->max_restarts : 5;
	return 0;
}

void plugin_host_cfg_release(struct plugin_host_cfg *hc)
{
	if (hc->socket_dir) {
		/* A killed go-plugin leaves its socket behind. */
		DIR *d = opendir(hc->socket_dir);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char p[4096];

			if (e->d_name[0] == '.')
				continue;
			snprintf(p, sizeof(p), "%s/%s", hc->socket_dir, e->d_name);
			unlink(p);
		}
		if (d)
			closedir(d);
		rmdir(hc->socket_dir);
	}
	free(hc->socket_dir);
	free(hc->path);
	free(hc->plugin_config_json);
	ig_connector_release(&hc->settings);
	memset(hc, 0, sizeof(*hc));
}

#define RESTART_DELAY_FIRST_MS 1000
#define RESTART_DELAY_MAX_MS 30000
#define RESTART_QUIET_MS (5 * 60 * 1000)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int plugin_host_may_restart(struct plugin_host_cfg *hc, struct buf *err)
{
	long long now = now_ms();
	long long wait;

	if (hc->restarts_in_row && now - hc->last_restart_ms > RESTART_QUIET_MS) {
		hc->restarts_in_row = 0;
		hc->restart_delay_ms = 0;
	}
	if (hc->restarts_in_row >= hc->max_restarts) {
		buf_seterr(err, "plugin %s crashed and was restarted %d times "
			   "in a row; giving up", hc->path, hc->restarts_in_row);
		return CR_ERR_IO;
	}
	wait = hc->last_restart_ms + hc->restart_delay_ms - now;
	if (hc->restarts_in_row && wait > 0) {
		buf_seterr(err, "plugin %s crashed; it is started again in "
			   "%lld ms", hc->path, wait);
		return CR_ERR_RETRY;
	}
	hc->restart_delay_ms = !hc->restart_delay_ms ? RESTART_DELAY_FIRST_MS :
		hc->restart_delay_ms * 2 > RESTART_DELAY_MAX_MS ?
		RESTART_DELAY_MAX_MS : hc->restart_delay_ms * 2;
	hc->restarts_in_row++;
	hc->restarts++;
	return 0;
}

void plugin_host_restart_done(struct plugin_host_cfg *hc)
{
	hc->last_restart_ms = now_ms();
}

int plugin_host_launch(const struct plugin_host_cfg *hc,
		       struct plugin_proc *pp, char **line, struct buf *err)
{
	struct strvec env = STRVEC_INIT;
	struct buf v = BUF_INIT;
	int r;

	/* go-plugin client's environment [go-plugin client.go]. */
	strvec_push(&env, fleeting_cookie_env());
	strvec_push(&env, "PLUGIN_MIN_PORT=10000");
	strvec_push(&env, "PLUGIN_MAX_PORT=25000");
	buf_addf(&v, "PLUGIN_PROTOCOL_VERSIONS=%s", FLEETING_PROTOCOL_VERSIONS);
	strvec_push(&env, v.data);
	buf_reset(&v);
	buf_addf(&v, "PLUGIN_UNIX_SOCKET_DIR=%s", hc->socket_dir);
	strvec_push(&env, v.data);
	buf_release(&v);
	/* Never AutoMTLS or multiplexing: unset what the parent may carry. */
	strvec_push(&env, "PLUGIN_CLIENT_CERT");
	strvec_push(&env, "PLUGIN_MULTIPLEX_GRPC");
	r = plugin_proc_start(pp, hc->path, &env, err);
	strvec_clear(&env);
	if (r)
		return r;
	r = plugin_proc_first_line(pp, line, hc->start_timeout_ms, err);
	if (r)
		plugin_proc_stop(pp, 0);
	return r;
}

int ig_plugin_open(const struct ig_config *cfg, const char *path,
		   struct instance_group *g, struct buf *err)
{
	struct plugin_host_cfg hc;
	struct plugin_proc pp;
	char *line = NULL;
	int r;

	r = plugin_host_cfg_init(&hc, cfg, path, err);
	if (r)
		return r;
	r = plugin_host_launch(&hc, &pp, &line, err);
	if (r) {
		plugin_host_cfg_release(&hc);
		return r;
	}
	if (line[0] == '{') {
		g->ops = &ig_jsonl_ops;
		r = ig_jsonl_attach(&hc, &pp, line, &g->impl, err);
	} else {
		g->ops = &ig_grpc_ops;
		r = ig_grpc_attach(&hc, &pp, line, &g->impl, err);
	}
	free(line);
	return r;
}
