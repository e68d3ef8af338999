/*
 * An instance group: the cloud's autoscaling group as taskscaler sees it,
 * fleeting's provider.InstanceGroup contract in C.
 *
 * Three providers sit behind the same operations:
 *   - a go-plugin fleeting plugin binary spoken to over gRPC (ig_grpc.c);
 *   - an executable speaking crunner's JSON-lines protocol on stdin/stdout
 *     (ig_jsonl.c, docs/autoscale-plugins.md);
 *   - the built-in static provider, a fixed list of hosts (ig_static.c).
 * instance_group_open() picks one from the `plugin` setting.
 *
 * Every call blocks for at most the configured call timeout.  Errors come
 * back as a CR_ERR_* code with one sentence in err.  A plugin process that
 * died is started again (and Init re-sent) on the next call -- repeated
 * crashes with a growing back-off, during which calls fail with
 * CR_ERR_RETRY -- and the caller re-learns the instances with
 * ig_update(), as it would after any poll.
 */
#ifndef CR_AUTOSCALE_INSTANCE_GROUP_H
#define CR_AUTOSCALE_INSTANCE_GROUP_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum ig_state {
	IG_STATE_UNKNOWN = 0,
	IG_STATE_CREATING,
	IG_STATE_RUNNING,
	IG_STATE_DELETING,
	IG_STATE_DELETED,
	IG_STATE_TIMEOUT,
	IG_STATE_SUSPENDING,
	IG_STATE_SUSPENDED,
};

/* "creating", "running", ... and back; unknown names map to UNKNOWN. */
const char *ig_state_name(enum ig_state s);
enum ig_state ig_state_parse(const char *name);

/*
 * fleeting's ConnectorConfig: what [runners.autoscaler.connector_config]
 * says, sent in Init as Settings and returned, filled in, by ConnectInfo.
 * Every string is owned (NULL when unset); key holds PEM bytes.
 */
struct ig_connector {
	char *os, *arch, *protocol;
	int protocol_port;
	char *username, *password;
	char *key;
	size_t key_len;
	int use_static_credentials;
	int64_t keepalive_ns, timeout_ns;
};
void ig_connector_release(struct ig_connector *c);
void ig_connector_copy(struct ig_connector *dst, const struct ig_connector *src);
/*
 * Replaces c->key with the bytes of the file at path (connector_config
 * key_path); CR_ERR_IO with "reading instance group connector key ..."
 * in err.
 */
int ig_connector_read_key(struct ig_connector *c, const char *path,
			  struct buf *err);

struct ig_provider_info {
	char *id;		/* e.g. "aws/us-east-1/my-asg" */
	int max_size;		/* 0: no limit */
	char *version, *build_info;
};
void ig_provider_info_release(struct ig_provider_info *p);

struct ig_instance {
	char *id;
	enum ig_state state;
};

struct ig_instance_list {
	struct ig_instance *v;
	size_t n;
};
void ig_instance_list_release(struct ig_instance_list *l);

struct ig_connect_info {
	struct ig_connector conn;
	char *id, *internal_addr, *external_addr;
	int64_t expires_unix;	/* 0: the credentials do not expire */
};
void ig_connect_info_release(struct ig_connect_info *ci);

/* How to open a group (the caller keeps ownership of every field). */
struct ig_config {
	/* [runners.autoscaler] plugin: path, PATH name, installed ref, static. */
	const char *plugin;
	/* plugin_config as JSON ("null" when absent), sent as-is in Init. */
	const char *plugin_config_json;
	struct ig_connector settings;
	/* Host knobs; 0 picks go-plugin's defaults (60 s, 2 s). */
	int start_timeout_ms;	/* handshake line wait */
	int call_timeout_ms;	/* per RPC; default 60 s */
	int shutdown_grace_ms;	/* exit wait before SIGKILL to the group */
	int max_restarts;	/* crash restarts in a row; default 5 */
};

struct instance_group;

/*
 * Resolves and (for plugins) starts the provider: the plugin is running
 * and healthy on success, Init not yet sent.  *out is freed with ig_free().
 */
int instance_group_open(const struct ig_config *cfg,
			struct instance_group **out, struct buf *err);

/* Sends Init with plugin_config and settings; info may be NULL. */
int ig_init(struct instance_group *g, struct ig_provider_info *info,
	    struct buf *err);
/* Every instance the group owns, with its state (list is replaced). */
int ig_update(struct instance_group *g, struct ig_instance_list *list,
	      struct buf *err);
/* Asks for n more instances; *succeeded = how many were accepted. */
int ig_increase(struct instance_group *g, int n, int *succeeded,
		struct buf *err);
/* Deletes ids; *succeeded gets the accepted ones (caller releases). */
int ig_decrease(struct instance_group *g, const char *const *ids, size_t n,
		struct ig_instance_list *succeeded, struct buf *err);
int ig_connect_info(struct instance_group *g, const char *id,
		    struct ig_connect_info *ci, struct buf *err);
/*
 * 0: healthy; CR_ERR_UNSUPPORTED: the provider has no heartbeat (treat as
 * healthy); other errors: unhealthy or unreachable.
 */
int ig_heartbeat(struct instance_group *g, const char *id, struct buf *err);
/* Fleeting Shutdown; for plugins also the controller and process end. */
int ig_shutdown(struct instance_group *g, struct buf *err);
void ig_free(struct instance_group *g);

/* "grpc", "jsonl" or "static": which provider kind answered. */
const char *ig_kind(const struct instance_group *g);
/* Plugin process id (the process group leader); -1 for built-ins. */
int ig_plugin_pid(const struct instance_group *g);
/* How many times a crashed plugin was started again. */
int ig_restarts(const struct instance_group *g);

#endif
