/*
 * The taskscaler's copy of [runners.autoscaler] and its state storage.
 *
 * State storage ([runners.autoscaler.state_storage] enabled): the ids of
 * the instances crunner owns and their use counts, in
 * <dir>/<short token>/crunner-instances.json (dir: the config file's
 * dir/.taskscaler, as gitlab-runner).  The format is crunner's own; other
 * files there (taskscaler's) are left alone.  A restart finds its
 * instances in the file and keeps them instead of removing them as
 * pre-existing.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autoscale/ts_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define STATE_FILE "crunner-instances.json"

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void ts_config_copy(struct ts_config *d, const struct config_autoscaler *s)
{
	const struct config_connector *c = &s->connector_config;

	memset(d, 0, sizeof(*d));
	d->plugin = dup_or_null(s->plugin);
	d->plugin_config_json = dup_or_null(s->plugin_config_json);
	d->instance_ready_command = dup_or_null(s->instance_ready_command);
	d->connector.os = dup_or_null(c->os);
	d->connector.arch = dup_or_null(c->arch);
	d->connector.protocol = dup_or_null(c->protocol);
	d->connector.protocol_port = c->protocol_port;
	d->connector.username = dup_or_null(c->username);
	d->connector.password = dup_or_null(c->password);
	d->connector.use_static_credentials = c->use_static_credentials;
	d->connector.keepalive_ns = c->keepalive_ms * 1000000;
	d->connector.timeout_ns = c->timeout_ms * 1000000;
	d->key_path = dup_or_null(c->key_path);
	d->use_external_addr = c->use_external_addr;
	d->capacity_per_instance = s->capacity_per_instance;
	d->max_use_count = s->max_use_count;
	d->max_instances = s->max_instances;
	d->instance_acquire_timeout_ms = s->instance_acquire_timeout_ms;
	d->update_interval_ms = s->update_interval_ms;
	d->update_interval_when_expecting_ms =
		s->update_interval_when_expecting_ms;
	d->deletion_retry_interval_ms = s->deletion_retry_interval_ms;
	d->shutdown_deletion_interval_ms = s->shutdown_deletion_interval_ms;
	d->shutdown_deletion_retries = s->shutdown_deletion_retries;
	d->failure_threshold = s->failure_threshold;
	d->scale_throttle = s->scale_throttle;
	d->reservation_throttling = s->reservation_throttling;
	d->delete_instances_on_shutdown = s->delete_instances_on_shutdown;
	d->state_storage = s->state_storage;
	d->state_storage.dir = dup_or_null(s->state_storage.dir);
	ts_policy_copy(d, s->policy, s->nr_policy);
}

void ts_policy_copy(struct ts_config *d,
		    const struct config_autoscaler_policy *v, size_t n)
{
	size_t i, j;

	d->nr_policy = n;
	d->policy = xcalloc(n ? n : 1, sizeof(*d->policy));
	for (i = 0; i < n; i++) {
		d->policy[i] = v[i];
		d->policy[i].timezone = dup_or_null(v[i].timezone);
		strvec_init(&d->policy[i].periods);
		for (j = 0; j < v[i].periods.nr; j++)
			strvec_push(&d->policy[i].periods, v[i].periods.v[j]);
	}
}

void ts_policy_release(struct ts_config *c)
{
	size_t i;

	for (i = 0; i < c->nr_policy; i++) {
		free(c->policy[i].timezone);
		strvec_clear(&c->policy[i].periods);
	}
	free(c->policy);
	c->policy = NULL;
	c->nr_policy = 0;
}

void ts_config_release(struct ts_config *c)
{
	free(c->plugin);
	free(c->plugin_config_json);
	free(c->instance_ready_command);
	free(c->key_path);
	free(c->state_storage.dir);
	ig_connector_release(&c->connector);
	ts_policy_release(c);
	memset(c, 0, sizeof(*c));
}

/* ---- state storage ---- */

static void load_state(struct taskscaler *ts)
{
	json_t *root = json_load_file(ts->state_path, 0, NULL), *arr, *item;
	size_t i;

	if (!root)
		return;		/* none yet, or unreadable: start afresh */
	arr = json_object_get(root, "instances");
	ts->saved = xcalloc(json_array_size(arr) + 1, sizeof(*ts->saved));
	json_array_foreach(arr, i, item) {
		const char *id = json_string_value(json_object_get(item, "id"));

		if (!id)
			continue;
		ts->saved[ts->nr_saved].id = xstrdup(id);
		ts->saved[ts->nr_saved].used = (int)json_integer_value(
			json_object_get(item, "used"));
		ts->nr_saved++;
	}
	json_decref(root);
	log_info("autoscaler %s: state storage knows %zu instance(s)",
		 ts->name, ts->nr_saved);
}

int ts_state_open(struct taskscaler *ts, const char *token,
		  const char *config_dir, struct buf *err)
{
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	struct buf dir = BUF_INIT;

	if (!ts->cfg.state_storage.enabled)
		return 0;
	runner_short_token(token, short_token);
	if (ts->cfg.state_storage.dir && *ts->cfg.state_storage.dir)
		buf_addstr(&dir, ts->cfg.state_storage.dir);
	else
		buf_addf(&dir, "%s/.taskscaler",
			 config_dir && *config_dir ? config_dir : ".");
	buf_addf(&dir, "/%s", short_token);
	if (fs_mkdir_p(dir.data, 0700) < 0) {
		buf_seterr(err, "autoscaler state storage: cannot create %s: %s",
			   dir.data, strerror(errno));
		buf_release(&dir);
		return CR_ERR_IO;
	}
	buf_addstr(&dir, "/" STATE_FILE);
	ts->state_path = buf_detach(&dir, NULL);
	load_state(ts);
	return 0;
}

int ts_state_restore(struct taskscaler *ts, struct ts_instance *in)
{
	size_t i;

	for (i = 0; i < ts->nr_saved; i++)
		if (!strcmp(ts->saved[i].id, in->id)) {
			in->m.used = ts->saved[i].used;
			return 1;
		}
	return 0;
}

/* Writes the file when what it would say changed (atomically). */
void ts_state_save(struct taskscaler *ts)
{
	json_t *root, *arr;
	struct buf tmp = BUF_INIT;
	char *text;
	size_t i;
	int fd;

	if (!ts->state_path || !ts->updated_once)
		return;
	arr = json_array();
	for (i = 0; i < ts->nr; i++) {
		const struct ts_instance *in = ts->inst[i];

		if (!in->requested || in->m.removing)
			continue;
		json_array_append_new(arr, json_pack("{s:s, s:i}", "id", in->id,
						     "used", in->m.used));
	}
	root = json_pack("{s:i, s:o}", "version", 1, "instances", arr);
	text = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!text)
		return;
	if (ts->last_state && !strcmp(ts->last_state, text)) {
		free(text);
		return;
	}
	buf_addf(&tmp, "%s.tmp", ts->state_path);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0 && (fs_write_all(fd, text, strlen(text)) < 0 ||
			fsync(fd) < 0)) {
		int e = errno;

		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0 || close(fd) < 0 || rename(tmp.data, ts->state_path) < 0) {
		log_warn("autoscaler %s: cannot write the state file %s: %s",
			 ts->name, ts->state_path, strerror(errno));
		free(text);
	} else {
		free(ts->last_state);
		ts->last_state = text;
	}
	buf_release(&tmp);
}

void ts_state_close(struct taskscaler *ts)
{
	size_t i;

	for (i = 0; i < ts->nr_saved; i++)
		free(ts->saved[i].id);
	free(ts->saved);
	free(ts->state_path);
	free(ts->last_state);
}
