#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "autoscale/instance_group_int.h"
#include "autoscale/plugin_lookup.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const char *const state_names[] = {
	[IG_STATE_UNKNOWN] = "unknown",
	[IG_STATE_CREATING] = "creating",
	[IG_STATE_RUNNING] = "running",
	[IG_STATE_DELETING] = "deleting",
	[IG_STATE_DELETED] = "deleted",
	[IG_STATE_TIMEOUT] = "timeout",
	[IG_STATE_SUSPENDING] = "suspending",
	[IG_STATE_SUSPENDED] = "suspended",
};

const char *ig_state_name(enum ig_state s)
{
	if ((size_t)s < sizeof(state_names) / sizeof(state_names[0]))
		return state_names[s];
	return "unknown";
}

enum ig_state ig_state_parse(const char *name)
{
	size_t i;

	for (i = 1; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (!strcmp(name, state_names[i]))
			return (enum ig_state)i;
	return IG_STATE_UNKNOWN;
}

void ig_connector_release(struct ig_connector *c)
{
	free(c->os);
	free(c->arch);
	free(c->protocol);
	free(c->username);
	free_secret(c->password);
	freezero(c->key, c->key_len);
	memset(c, 0, sizeof(*c));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void ig_connector_copy(struct ig_connector *dst, const struct ig_connector *src)
{
	*dst = *src;
	dst->os = dup_or_null(src->os);
	dst->arch = dup_or_null(src->arch);
	dst->protocol = dup_or_null(src->protocol);
	dst->username = dup_or_null(src->username);
	dst->password = dup_or_null(src->password);
	dst->key = src->key ? xmemdup(src->key, src->key_len) : NULL;
}

int ig_connector_read_key(struct ig_connector *c, const char *path,
			  struct buf *err)
{
	struct buf key = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		buf_seterr(err, "reading instance group connector key %s: %s",
			   path, strerror(errno));
		return CR_ERR_IO;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0 && (key.len + (size_t)n > (1 << 20) ||
			      buf_add(&key, chunk, (size_t)n)))
			break;
	}
	close(fd);
	explicit_bzero(chunk, sizeof(chunk));
	if (n != 0) {
		buf_seterr(err, "reading instance group connector key %s: %s",
			   path, n < 0 ? strerror(errno) : "over 1 MiB");
		buf_release_secret(&key);
		return CR_ERR_IO;
	}
	freezero(c->key, c->key_len);
	c->key_len = key.len;
	c->key = buf_detach(&key, NULL);
	return 0;
}

void ig_provider_info_release(struct ig_provider_info *p)
{
	free(p->id);
	free(p->version);
	free(p->build_info);
	memset(p, 0, sizeof(*p));
}

void ig_instance_list_release(struct ig_instance_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].id);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void ig_instance_list_add(struct ig_instance_list *l, const char *id,
			  enum ig_state state)
{
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].id = xstrdup(id);
	l->v[l->n].state = state;
	l->n++;
}

void ig_connect_info_release(struct ig_connect_info *ci)
{
	ig_connector_release(&ci->conn);
	free(ci->id);
	free(ci->internal_addr);
	free(ci->external_addr);
	memset(ci, 0, sizeof(*ci));
}

static int is_static_name(const char *plugin)
{
	return !strcmp(plugin, "static") ||
	       !strcmp(plugin, "fleeting-plugin-static");
}

int instance_group_open(const struct ig_config *cfg,
			struct instance_group **out, struct buf *err)
{
	struct instance_group *g = xcalloc(1, sizeof(*g));
	struct buf lookup_err = BUF_INIT;
	char *path = NULL;
	int r;

	*out = NULL;
	r = plugin_lookup(cfg->plugin, &path, &lookup_err);
	if (r == CR_ERR_NOT_FOUND && is_static_name(cfg->plugin)) {
		log_info("autoscaler: no %s plugin binary; using the built-in "
			 "static provider", cfg->plugin);
		g->ops = &ig_static_ops;
		r = ig_static_open(cfg, &g->impl, err);
	} else if (r) {
		buf_seterr(err, "loading fleeting plugin: %s", lookup_err.data);
	} else {
		r = ig_plugin_open(cfg, path, g, err);
	}
	free(path);
	buf_release(&lookup_err);
	if (r) {
		free(g);
		return r;
	}
	*out = g;
	return 0;
}

int ig_init(struct instance_group *g, struct ig_provider_info *info,
	    struct buf *err)
{
	struct ig_provider_info tmp = { 0 };
	int r = g->ops->init(g->impl, info ? info : &tmp, err);

	ig_provider_info_release(&tmp);
	return r;
}

int ig_update(struct instance_group *g, struct ig_instance_list *list,
	      struct buf *err)
{
	ig_instance_list_release(list);
	return g->ops->update(g->impl, list, err);
}

int ig_increase(struct instance_group *g, int n, int *succeeded,
		struct buf *err)
{
	*succeeded = 0;
	return g->ops->increase(g->impl, n, succeeded, err);
}

int ig_decrease(struct instance_group *g, const char *const *ids, size_t n,
		struct ig_instance_list *succeeded, struct buf *err)
{
	ig_instance_list_release(succeeded);
	return g->ops->decrease(g->impl, ids, n, succeeded, err);
}

int ig_connect_info(struct instance_group *g, const char *id,
		    struct ig_connect_info *ci, struct buf *err)
{
	memset(ci, 0, sizeof(*ci));
	return g->ops->connect_info(g->impl, id, ci, err);
}

int ig_heartbeat(struct instance_group *g, const char *id, struct buf *err)
{
	return g->ops->heartbeat(g->impl, id, err);
}

int ig_shutdown(struct instance_group *g, struct buf *err)
{
	return g->ops->shutdown(g->impl, err);
}

void ig_free(struct instance_group *g)
{
	if (!g)
		return;
	g->ops->destroy(g->impl);
	free(g);
}

const char *ig_kind(const struct instance_group *g)
{
	return g->ops->kind;
}

int ig_plugin_pid(const struct instance_group *g)
{
	return g->ops->pid ? g->ops->pid(g->impl) : -1;
}

int ig_restarts(const struct instance_group *g)
{
	return g->ops->restarts ? g->ops->restarts(g->impl) : 0;
}
