/*
 * Leftovers of dead jobs (docker.h): found by gitlab-runner's labels,
 * removed with the same calls a job's cleanup makes, blocking, before the
 * runner takes its first job.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config/config.h"
#include "executor/docker.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define LEFTOVER_TIMEOUT_MS 30000L

/* GET path?filters=<the runner's labels>; the answer parsed, or NULL. */
static json_t *list(struct docker_api *api, const char *what,
		    const char *short_token, struct buf *why)
{
	struct docker_api_response resp = DOCKER_API_RESPONSE_INIT;
	struct buf filters = BUF_INIT, path = BUF_INIT;
	json_t *j = NULL;
	char *esc;

	(void)buf_addf(&filters, "{\"label\":[\"%s.managed=true\",\"%s.runner.id=%s\"]}",
		       DOCKER_LABEL_PREFIX, DOCKER_LABEL_PREFIX, short_token);
	esc = curl_easy_escape(NULL, filters.data, (int)filters.len);
	(void)buf_addf(&path, "/%s%sfilters=%s", what,
		       strcmp(what, "containers/json") ? "?" : "?all=1&", esc);
	curl_free(esc);
	docker_api_call_sync(api, "GET", path.data, LEFTOVER_TIMEOUT_MS, &resp);
	if (resp.status == 200)
		j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	else
		docker_api_describe(&resp, why);
	docker_api_response_release(&resp);
	buf_release(&filters);
	buf_release(&path);
	return j;
}

static int remove_one(struct docker_api *api, const char *fmt,
		      const char *id)
{
	struct docker_api_response resp = DOCKER_API_RESPONSE_INIT;
	struct buf path = BUF_INIT;
	int ok;

	(void)buf_addf(&path, fmt, id);
	docker_api_call_sync(api, "DELETE", path.data, LEFTOVER_TIMEOUT_MS,
			     &resp);
	ok = resp.status == 204 || resp.status == 200 || resp.status == 404;
	if (!ok) {
		struct buf why = BUF_INIT;

		docker_api_describe(&resp, &why);
		log_warn("cannot remove leftover '%s': %s", id, why.data);
		buf_release(&why);
	}
	docker_api_response_release(&resp);
	buf_release(&path);
	return ok;
}

static void clean_runner(struct loop *loop, const struct runner_config *rc)
{
	struct docker_api *api = NULL;
	struct docker_api_response ping = DOCKER_API_RESPONSE_INIT;
	struct docker_api_tls tls = { 0 };
	struct buf err = BUF_INIT;
	char short_token[16] = "";
	json_t *j, *v, *vols;
	size_t i, containers = 0, volumes = 0, networks = 0;

	runner_short_token(rc->token ? rc->token : "", short_token);
	tls.cert_path = rc->docker.cert_path;
	tls.verify = rc->docker.tls_verify;
	if (docker_api_new(loop, rc->docker.host, &tls, &api, &err) != 0) {
		log_warn("runner %s: no leftover check: %s", short_token,
			 err.data);
		goto out;
	}
	if (docker_api_negotiate_sync(api, &ping) != 0) {
		docker_api_describe(&ping, &err);
		log_warn("runner %s: no leftover check: the Docker engine at '%s' does not answer: %s",
			 short_token, docker_api_host(api), err.data);
		goto out;
	}
	j = list(api, "containers/json", short_token, &err);
	if (!j) {
		log_warn("runner %s: cannot list leftover containers: %s",
			 short_token, err.data);
		goto out;
	}
	json_array_foreach(j, i, v) {
		const char *id = json_string_value(json_object_get(v, "Id"));

		if (id && remove_one(api, rc->docker.volume_keep ?
				     "/containers/%s?force=1&v=0" :
				     "/containers/%s?force=1&v=1", id))
			containers++;
	}
	json_decref(j);
	j = list(api, "volumes", short_token, &err);
	vols = json_object_get(j, "Volumes");
	json_array_foreach(vols, i, v) {
		const char *name = json_string_value(json_object_get(v, "Name"));

		if (name && docker_volume_is_temporary(name, short_token) &&
		    remove_one(api, "/volumes/%s?force=1", name))
			volumes++;
	}
	json_decref(j);
	/* FF_NETWORK_PER_BUILD's networks, once their containers are gone. */
	j = list(api, "networks", short_token, &err);
	json_array_foreach(j, i, v) {
		const char *id = json_string_value(json_object_get(v, "Id"));

		if (id && remove_one(api, "/networks/%s", id))
			networks++;
	}
	json_decref(j);
	if (containers || volumes || networks)
		log_info("runner %s: removed %zu container(s), %zu volume(s) and %zu network(s) left by jobs of an earlier crunner",
			 short_token, containers, volumes, networks);
out:
	docker_api_free(api);
	docker_api_response_release(&ping);
	buf_release(&err);
}

void docker_remove_leftovers(struct runner_config *const *runners, size_t nr)
{
	struct loop *loop = NULL;
	size_t i;

	for (i = 0; i < nr; i++) {
		if (!runners[i]->executor ||
		    strcmp(runners[i]->executor, "docker"))
			continue;
		if (!loop)
			loop = loop_new();
		clean_runner(loop, runners[i]);
	}
	if (loop)
		loop_free(loop);
}
