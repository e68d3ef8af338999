/* The provider vtable behind struct instance_group (instance_group.h). */
#ifndef CR_AUTOSCALE_INSTANCE_GROUP_INT_H
#define CR_AUTOSCALE_INSTANCE_GROUP_INT_H

#include "autoscale/instance_group.h"

struct ig_ops {
	const char *kind;
	int (*init)(void *impl, struct ig_provider_info *info, struct buf *err);
	int (*update)(void *impl, struct ig_instance_list *list, struct buf *err);
	int (*increase)(void *impl, int n, int *succeeded, struct buf *err);
	int (*decrease)(void *impl, const char *const *ids, size_t n,
			struct ig_instance_list *succeeded, struct buf *err);
	int (*connect_info)(void *impl, const char *id,
			    struct ig_connect_info *ci, struct buf *err);
	int (*heartbeat)(void *impl, const char *id, struct buf *err);
	int (*shutdown)(void *impl, struct buf *err);
	int (*pid)(const void *impl);
	int (*restarts)(const void *impl);
	void (*destroy)(void *impl);
};

struct instance_group {
	const struct ig_ops *ops;
	void *impl;
};

/* Constructors, one per provider file. */
int ig_static_open(const struct ig_config *cfg, void **impl, struct buf *err);
/*
 * Starts the plugin at path; the first line it writes decides whether it
 * is a go-plugin (grpc) or a JSON-lines plugin.
 */
int ig_plugin_open(const struct ig_config *cfg, const char *path,
		   struct instance_group *g, struct buf *err);

extern const struct ig_ops ig_static_ops;
extern const struct ig_ops ig_grpc_ops;
extern const struct ig_ops ig_jsonl_ops;

/* Appends one instance (id copied). */
void ig_instance_list_add(struct ig_instance_list *l, const char *id,
			  enum ig_state state);

#endif
