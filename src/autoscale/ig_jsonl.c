/*
 * The instance group of an executable speaking crunner's JSON-lines
 * protocol on stdin/stdout (docs/autoscale-plugins.md): one request object
 * per line in, one response object per line out, stderr into the log.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/instance_group_int.h"
#include "autoscale/plugin_host.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define JSONL_VERSION 1
#define JSONL_LINE_MAX (16u << 20)

struct ig_jsonl {
	struct plugin_host_cfg hc;
	struct plugin_proc pp;
	int running, stopped;
	int init_sent;
	long long next_id;
	struct buf in;		/* stdout bytes not yet a full line */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int check_hello(struct ig_jsonl *j, const char *line, struct buf *err)
{
	json_t *hello = json_loads(line, 0, NULL);
	json_t *v = json_object_get(hello, "crunner_instance_group");
	int r = 0;

	if (!json_is_integer(v) || json_integer_value(v) != JSONL_VERSION) {
		buf_seterr(err, "plugin %s: first line is not a JSON-lines "
			   "hello {\"crunner_instance_group\":%d}: %s",
			   j->pp.name, JSONL_VERSION, line);
		r = CR_ERR_PROTOCOL;
	} else {
		log_info("plugin %s (pid %d): JSON-lines protocol %d",
			 j->pp.name, (int)j->pp.proc.pid, JSONL_VERSION);
	}
	json_decref(hello);
	return r;
}

static void stop_process(struct ig_jsonl *j, int grace_ms)
{
	if (j->running)
		plugin_proc_stop(&j->pp, grace_ms);
	j->running = 0;
	buf_reset(&j->in);
}

static int write_all(struct ig_jsonl *j, const char *data, size_t len,
		     long long deadline, struct buf *err)
{
	while (len) {
		struct pollfd fds[3];
		ssize_t n = write(j->pp.proc.in, data, len);
		int nfds;

		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			buf_seterr(err, "writing to plugin %s: %s", j->pp.name,
				   strerror(errno));
			return CR_ERR_NETWORK;
		}
		if (now_ms() >= deadline) {
			buf_seterr(err, "plugin %s does not read its input",
				   j->pp.name);
			return CR_ERR_TIMEOUT;
		}
		fds[0] = (struct pollfd){ .fd = j->pp.proc.in, .events = POLLOUT };
		nfds = 1 + plugin_proc_log_fds(&j->pp, fds + 1);
		poll(fds, (nfds_t)nfds, 200);
		plugin_proc_drain(&j->pp);
	}
	return 0;
}

/* Reads stdout until a whole line; *line points into j->in. */
static int read_line(struct ig_jsonl *j, char **line, long long deadline,
		     struct buf *err)
{
	char chunk[4096];

	for (;;) {
		char *nl = memchr(j->in.data, '\n', j->in.len);
		struct pollfd fds[3];
		ssize_t n;
		int nfds;

		if (nl) {
			*nl = '\0';
			*line = j->in.data;
			return 0;
		}
		n = read(j->pp.proc.out, chunk, sizeof(chunk));
		if (n > 0) {
			if (buf_add(&j->in, chunk, (size_t)n)) {
				buf_seterr(err, "plugin %s wrote a line over "
					   "%u bytes", j->pp.name, JSONL_LINE_MAX);
				return CR_ERR_TOO_LARGE;
			}
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			buf_seterr(err, "plugin %s closed its output", j->pp.name);
			return CR_ERR_NETWORK;
		}
		if (now_ms() >= deadline) {
			buf_seterr(err, "plugin %s did not answer in time",
				   j->pp.name);
			return CR_ERR_TIMEOUT;
		}
		fds[0] = (struct pollfd){ .fd = j->pp.proc.out, .events = POLLIN };
		nfds = 1 + plugin_proc_log_fds(&j->pp, fds + 1);
		poll(fds, (nfds_t)nfds, 200);
		plugin_proc_drain(&j->pp);
	}
}

/* One request; *result is the response's "result" (caller decrefs). */
static int raw_call(struct ig_jsonl *j, const char *method, json_t *params,
		    json_t **result, struct buf *err)
{
	long long deadline = now_ms() + j->hc.call_timeout_ms;
	long long id = ++j->next_id;
	json_t *req = json_pack("{sIsssO}", "id", (json_int_t)id, "method",
				method, "params", params);
	char *text = json_dumps(req, JSON_COMPACT);
	struct buf line = BUF_INIT;
	int r;

	*result = NULL;
	buf_addstr(&line, text);
	buf_addch(&line, '\n');
	if (text)
		freezero(text, strlen(text));
	json_decref(req);
	r = write_all(j, line.data, line.len, deadline, err);
	buf_release_secret(&line);
	while (!r) {
		char *got, *text_line;
		json_t *resp, *rid, *e;
		size_t used;

		r = read_line(j, &got, deadline, err);
		if (r)
			break;
		text_line = xstrdup(got);
		used = strlen(got) + 1;
		memmove(j->in.data, j->in.data + used, j->in.len - used);
		buf_setlen(&j->in, j->in.len - used);
		resp = json_loads(text_line, 0, NULL);
		rid = json_object_get(resp, "id");
		if (!json_is_integer(rid) || json_integer_value(rid) != id) {
			log_warn("plugin %s: ignoring output line: %s",
				 j->pp.name, text_line);
			json_decref(resp);
			free(text_line);
			continue;
		}
		free(text_line);
		e = json_object_get(resp, "error");
		if (e && !json_is_null(e)) {
			const char *code = json_string_value(
				json_object_get(resp, "code"));

			buf_seterr(err, "plugin %s: %s: %s", j->pp.name, method,
				   json_is_string(e) ? json_string_value(e) :
				   "error");
			r = code && !strcmp(code, "unimplemented") ?
			    CR_ERR_UNSUPPORTED : CR_ERR_PROTOCOL;
		} else {
			*result = json_incref(json_object_get(resp, "result"));
			if (!*result)
				*result = json_object();
		}
		json_decref(resp);
		break;
	}
	return r;
}

static json_t *settings_json(const struct ig_connector *c)
{
	json_t *o = json_object();

#define SETSTR(k, v) if (v) json_object_set_new(o, k, json_string(v))
	SETSTR("os", c->os);
	SETSTR("arch", c->arch);
	SETSTR("protocol", c->protocol);
	SETSTR("username", c->username);
	SETSTR("password", c->password);
#undef SETSTR
	if (c->key)
		json_object_set_new(o, "key", json_stringn(c->key, c->key_len));
	json_object_set_new(o, "protocol_port", json_integer(c->protocol_port));
	json_object_set_new(o, "use_static_credentials",
			    json_boolean(c->use_static_credentials));
	json_object_set_new(o, "keepalive_ns", json_integer(c->keepalive_ns));
	json_object_set_new(o, "timeout_ns", json_integer(c->timeout_ns));
	return o;
}

static char *str_or_null(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? xstrdup(s) : NULL;
}

static int send_init(struct ig_jsonl *j, struct ig_provider_info *info,
		     struct buf *err)
{
	json_t *config = json_loads(j->hc.plugin_config_json,
				    JSON_DECODE_ANY, NULL);
	json_t *params = json_pack("{soso}", "config",
				   config ? config : json_null(), "settings",
				   settings_json(&j->hc.settings));
	json_t *res;
	int r = raw_call(j, "init", params, &res, err);

	json_decref(params);
	if (r)
		return r;
	info->id = str_or_null(res, "id");
	info->max_size = (int)json_integer_value(json_object_get(res, "max_size"));
	info->version = str_or_null(res, "version");
	info->build_info = str_or_null(res, "build_info");
	json_decref(res);
	return 0;
}

static int ensure_running(struct ig_jsonl *j, struct buf *err)
{
	struct ig_provider_info info = { 0 };
	char *line = NULL;
	int r;

	if (j->stopped) {
		buf_seterr(err, "plugin was shut down");
		return CR_ERR_CANCELED;
	}
	if (j->running && plugin_proc_alive(&j->pp))
		return 0;
	stop_process(j, 0);
	r = plugin_host_may_restart(&j->hc, err);
	if (r)
		return r;
	log_warn("plugin %s is gone; starting it again", j->hc.path);
	r = plugin_host_launch(&j->hc, &j->pp, &line, err);
	if (r) {
		plugin_host_restart_done(&j->hc);
		return r;
	}
	j->running = 1;
	r = check_hello(j, line, err);
	free(line);
	if (!r && j->init_sent)
		r = send_init(j, &info, err);
	ig_provider_info_release(&info);
	plugin_host_restart_done(&j->hc);
	if (r) {
		stop_process(j, 0);
		return r;
	}
	log_warn("plugin %s restarted (restart %d); instances are re-learned "
		 "with the next Update", j->hc.path, j->hc.restarts);
	return 0;
}

static int call(struct ig_jsonl *j, const char *method, json_t *params,
		json_t **result, int retry, struct buf *err)
{
	struct buf first = BUF_INIT;
	int r = ensure_running(j, err);

	if (r) {
		json_decref(params);
		return r;
	}
	r = raw_call(j, method, params, result, &first);
	if (r == CR_ERR_NETWORK) {
		log_warn("plugin %s died during %s: %s", j->hc.path, method,
			 first.data);
		plugin_proc_alive(&j->pp);
		stop_process(j, 0);
		r = ensure_running(j, err);
		if (!r && retry)
			r = raw_call(j, method, params, result, err);
		else if (!r) {
			buf_seterr(err, "plugin crashed during %s and was "
				   "restarted; the call may have taken effect",
				   method);
			r = CR_ERR_RETRY;
		}
	} else if (r) {
		buf_seterr(err, "%s", first.data);
	}
	buf_release(&first);
	json_decref(params);
	return r;
}

int ig_jsonl_attach(struct plugin_host_cfg *hc, struct plugin_proc *pp,
		    const char *line, void **impl, struct buf *err)
{
	struct ig_jsonl *j = xcalloc(1, sizeof(*j));
	int r;

	j->hc = *hc;
	j->pp = *pp;
	j->running = 1;
	buf_init(&j->in, JSONL_LINE_MAX);
	r = check_hello(j, line, err);
	if (r) {
		stop_process(j, 0);
		plugin_host_cfg_release(&j->hc);
		buf_release(&j->in);
		free(j);
		return r;
	}
	*impl = j;
	return 0;
}

static int jsonl_init(void *impl, struct ig_provider_info *info,
		      struct buf *err)
{
	struct ig_jsonl *j = impl;
	int r = ensure_running(j, err);

	if (!r)
		r = send_init(j, info, err);
	if (!r)
		j->init_sent = 1;
	return r;
}

static int jsonl_update(void *impl, struct ig_instance_list *list,
			struct buf *err)
{
	json_t *res, *arr, *it;
	size_t i;
	int r = call(impl, "update", json_object(), &res, 1, err);

	if (r)
		return r;
	arr = json_object_get(res, "instances");
	json_array_foreach(arr, i, it) {
		const char *id = json_string_value(json_object_get(it, "id"));
		const char *st = json_string_value(json_object_get(it, "state"));

		if (id && *id)
			ig_instance_list_add(list, id, ig_state_parse(st ? st : ""));
	}
	json_decref(res);
	return 0;
}

static int jsonl_increase(void *impl, int n, int *succeeded, struct buf *err)
{
	json_t *res;
	int r = call(impl, "increase", json_pack("{si}", "delta", n), &res, 0,
		     err);

	if (r)
		return r;
	*succeeded = (int)json_integer_value(json_object_get(res, "succeeded"));
	json_decref(res);
	return 0;
}

static int jsonl_decrease(void *impl, const char *const *ids, size_t n,
			  struct ig_instance_list *succeeded, struct buf *err)
{
	json_t *arr = json_array(), *res, *it;
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(ids[i]));
	r = call(impl, "decrease", json_pack("{so}", "instance_ids", arr), &res,
		 0, err);
	if (r)
		return r;
	json_array_foreach(json_object_get(res, "succeeded"), i, it) {
		if (json_is_string(it))
			ig_instance_list_add(succeeded, json_string_value(it),
					     IG_STATE_DELETING);
	}
	json_decref(res);
	return 0;
}

static int jsonl_connect_info(void *impl, const char *id,
			      struct ig_connect_info *ci, struct buf *err)
{
	json_t *res, *key;
	int r = call(impl, "connect_info", json_pack("{ss}", "instance_id", id),
		     &res, 1, err);

	if (r)
		return r;
	ci->id = str_or_null(res, "id");
	ci->internal_addr = str_or_null(res, "internal_addr");
	ci->external_addr = str_or_null(res, "external_addr");
	ci->expires_unix = json_integer_value(json_object_get(res, "expires_unix"));
	ci->conn.os = str_or_null(res, "os");
	ci->conn.arch = str_or_null(res, "arch");
	ci->conn.protocol = str_or_null(res, "protocol");
	ci->conn.protocol_port =
		(int)json_integer_value(json_object_get(res, "protocol_port"));
	ci->conn.username = str_or_null(res, "username");
	ci->conn.password = str_or_null(res, "password");
	key = json_object_get(res, "key");
	if (json_is_string(key)) {
		ci->conn.key = xmemdup(json_string_value(key),
				       json_string_length(key));
		ci->conn.key_len = json_string_length(key);
	}
	json_decref(res);
	return 0;
}

static int jsonl_heartbeat(void *impl, const char *id, struct buf *err)
{
	json_t *res;
	int r = call(impl, "heartbeat", json_pack("{ss}", "instance_id", id),
		     &res, 1, err);

	json_decref(res);
	return r;
}

static int jsonl_shutdown(void *impl, struct buf *err)
{
	struct ig_jsonl *j = impl;
	json_t *res = NULL;
	int r = 0;

	if (j->stopped)
		return 0;
	if (j->running && plugin_proc_alive(&j->pp)) {
		json_t *params = json_object();

		r = raw_call(j, "shutdown", params, &res, err);
		json_decref(params);
		json_decref(res);
		if (r == CR_ERR_UNSUPPORTED)
			r = 0;
	}
	stop_process(j, j->hc.grace_ms);	/* closes stdin first */
	j->stopped = 1;
	return r;
}

static int jsonl_pid(const void *impl)
{
	const struct ig_jsonl *j = impl;

	return j->running ? (int)j->pp.proc.pid : -1;
}

static int jsonl_restarts(const void *impl)
{
	return ((const struct ig_jsonl *)impl)->hc.restarts;
}

static void jsonl_destroy(void *impl)
{
	struct ig_jsonl *j = impl;

	stop_process(j, 0);
	plugin_host_cfg_release(&j->hc);
	buf_release(&j->in);
	free(j);
}

const struct ig_ops ig_jsonl_ops = {
	.kind = "jsonl",
	.init = jsonl_init,
	.update = jsonl_update,
	.increase = jsonl_increase,
	.decrease = jsonl_decrease,
	.connect_info = jsonl_connect_info,
	.heartbeat = jsonl_heartbeat,
	.shutdown = jsonl_shutdown,
	.pid = jsonl_pid,
	.restarts = jsonl_restarts,
	.destroy = jsonl_destroy,
};
