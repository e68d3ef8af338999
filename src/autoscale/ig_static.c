/*
 * The built-in static provider: a fixed list of existing hosts, configured
 * as fleeting-plugin-static is:
 *
 *   [runners.autoscaler.plugin_config.instances.<name>]
 *     username, password, key_path, external_addr, internal_addr,
 *     os, arch, protocol, protocol_port
 *
 * Every host is "running".  Increase can add nothing (the pool is fixed);
 * Decrease hands a host back: the next Update reports it "deleted" once,
 * later ones "running" again, as a machine returned to the pool.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "autoscale/instance_group_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct static_host {
	char *name;
	struct ig_connector conn;
	char *internal_addr, *external_addr;
	int returned;		/* decreased; reported deleted once */
};

struct ig_static {
	struct static_host *hosts;
	size_t n;
};

static char *get_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s && *s ? xstrdup(s) : NULL;
}

static int parse_host(struct static_host *h, const char *name, json_t *o,
		      const struct ig_connector *settings, struct buf *err)
{
	char *s, *key_path;
	json_t *port;
	int r = 0;

	h->name = xstrdup(name);
	ig_connector_copy(&h->conn, settings);
#define OVERRIDE(field, key) \
	if ((s = get_str(o, key))) { free(h->conn.field); h->conn.field = s; }
	OVERRIDE(os, "os");
	OVERRIDE(arch, "arch");
	OVERRIDE(protocol, "protocol");
	OVERRIDE(username, "username");
	OVERRIDE(password, "password");
#undef OVERRIDE
	port = json_object_get(o, "protocol_port");
	if (json_is_integer(port))
		h->conn.protocol_port = (int)json_integer_value(port);
	h->internal_addr = get_str(o, "internal_addr");
	h->external_addr = get_str(o, "external_addr");
	if (!h->internal_addr && !h->external_addr) {
		buf_seterr(err, "static provider: instance %s has neither "
			   "internal_addr nor external_addr", name);
		return CR_ERR_CONFIG;
	}
	if (!h->internal_addr)
		h->internal_addr = xstrdup(h->external_addr);
	if (!h->external_addr)
		h->external_addr = xstrdup(h->internal_addr);
	if ((key_path = get_str(o, "key_path"))) {
		r = ig_connector_read_key(&h->conn, key_path, err);
		free(key_path);
		if (r)
			buf_seterr(err, "static provider: instance %s", name);
	}
	return r;
}

static void static_destroy(void *impl)
{
	struct ig_static *st = impl;
	size_t i;

	for (i = 0; i < st->n; i++) {
		free(st->hosts[i].name);
		ig_connector_release(&st->hosts[i].conn);
		free(st->hosts[i].internal_addr);
		free(st->hosts[i].external_addr);
	}
	free(st->hosts);
	free(st);
}

int ig_static_open(const struct ig_config *cfg, void **impl, struct buf *err)
{
	struct ig_static *st = xcalloc(1, sizeof(*st));
	json_t *root = json_loads(cfg->plugin_config_json ?
				  cfg->plugin_config_json : "null",
				  JSON_DECODE_ANY, NULL);
	json_t *instances = json_object_get(root, "instances"), *o;
	const char *name;
	int r = 0;

	if (!json_is_object(instances) || !json_object_size(instances)) {
		buf_seterr(err, "static provider: [runners.autoscaler."
			   "plugin_config.instances] lists no hosts");
		r = CR_ERR_CONFIG;
	}
	/* jansson iterates in insertion order; keys were sorted by the
	 * caller's JSON encoding (as Go's). */
	json_object_foreach(r ? NULL : instances, name, o) {
		st->hosts = xreallocarray(st->hosts, st->n + 1, sizeof(*st->hosts));
		memset(&st->hosts[st->n], 0, sizeof(*st->hosts));
		r = parse_host(&st->hosts[st->n++], name, o, &cfg->settings, err);
		if (r)
			break;
	}
	json_decref(root);
	if (r) {
		static_destroy(st);
		return r;
	}
	*impl = st;
	return 0;
}

static struct static_host *find(struct ig_static *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->n; i++)
		if (!strcmp(st->hosts[i].name, id))
			return &st->hosts[i];
	return NULL;
}

static int static_init(void *impl, struct ig_provider_info *info,
		       struct buf *err)
{
	struct ig_static *st = impl;

	(void)err;
	info->id = xstrdup("crunner/static");
	info->max_size = (int)st->n;
	info->version = xstrdup("built-in");
	return 0;
}

static int static_update(void *impl, struct ig_instance_list *list,
			 struct buf *err)
{
	struct ig_static *st = impl;
	size_t i;

	(void)err;
	for (i = 0; i < st->n; i++) {
		struct static_host *h = &st->hosts[i];

		ig_instance_list_add(list, h->name, h->returned ?
				     IG_STATE_DELETED : IG_STATE_RUNNING);
		h->returned = 0;
	}
	return 0;
}

static int static_increase(void *impl, int n, int *succeeded, struct buf *err)
{
	(void)impl;
	(void)err;
	log_debug("static provider: cannot add %d hosts to a fixed pool", n);
	*succeeded = 0;
	return 0;
}

static int static_decrease(void *impl, const char *const *ids, size_t n,
			   struct ig_instance_list *succeeded, struct buf *err)
{
	struct ig_static *st = impl;
	size_t i;

	(void)err;
	for (i = 0; i < n; i++) {
		struct static_host *h = find(st, ids[i]);

		if (!h)
			continue;
		h->returned = 1;
		ig_instance_list_add(succeeded, h->name, IG_STATE_DELETING);
	}
	return 0;
}

static int static_connect_info(void *impl, const char *id,
			       struct ig_connect_info *ci, struct buf *err)
{
	struct static_host *h = find(impl, id);

	if (!h) {
		buf_seterr(err, "static provider: no instance '%s'", id);
		return CR_ERR_NOT_FOUND;
	}
	ig_connector_copy(&ci->conn, &h->conn);
	ci->id = xstrdup(h->name);
	ci->internal_addr = xstrdup(h->internal_addr);
	ci->external_addr = xstrdup(h->external_addr);
	return 0;
}

static int static_heartbeat(void *impl, const char *id, struct buf *err)
{
	(void)impl;
	(void)id;
	(void)err;
	return CR_ERR_UNSUPPORTED;
}

static int static_shutdown(void *impl, struct buf *err)
{
	(void)impl;
	(void)err;
	return 0;
}

const struct ig_ops ig_static_ops = {
	.kind = "static",
	.init = static_init,
	.update = static_update,
	.increase = static_increase,
	.decrease = static_decrease,
	.connect_info = static_connect_info,
	.heartbeat = static_heartbeat,
	.shutdown = static_shutdown,
	.destroy = static_destroy,
};
