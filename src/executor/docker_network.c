/*
 * FF_NETWORK_PER_BUILD, as gitlab-runner's networks manager does it: with
 * the flag on and no [runners.docker] network_mode, PREPARE first creates
 * a bridge network named CI_BUILD_NETWORK_NAME (the engine's variable,
 * gitlab-runner's "runner-<short token>-<project>-<project runner>-<job>"),
 * labelled as the job's containers (no type), with EnableIPv6 from
 * enable_ipv6 and, for a network_mtu other than 0, the bridge driver's
 * com.docker.network.driver.mtu option.  Every container of the job then
 * joins it (docker_network_mode()), under its aliases (docker_spec.c).
 * CLEANUP removes it last: what is still attached first, then the network;
 * cleanup() does the same blocking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define FF_NETWORK_PER_BUILD "FF_NETWORK_PER_BUILD"
#define MTU_OPTION "com.docker.network.driver.mtu"

const char *docker_network_mode(const struct docker_job *dj)
{
	if (dj->network)
		return dj->network;
	return dj->dc->network_mode && *dj->dc->network_mode ?
		dj->dc->network_mode : NULL;
}

int docker_network_user_defined(const char *mode)
{
	static const char *const builtin[] = {
		"default", "bridge", "host", "none",
	};
	size_t i;

	if (!mode || !*mode || !strncmp(mode, "container:", 10))
		return 0;
	for (i = 0; i < sizeof(builtin) / sizeof(*builtin); i++)
		if (!strcmp(mode, builtin[i]))
			return 0;
	return 1;
}

static void step_done(struct docker_job *dj)
{
	void (*after)(struct docker_job *) = dj->after_step;

	dj->after_step = NULL;
	after(dj);
}

json_t *docker_network_create_body(const struct config_docker *dc,
				   const char *name, json_t *labels)
{
	json_t *opts = json_object();

	if (dc->network_mtu != 0) {
		char mtu[32];

		snprintf(mtu, sizeof(mtu), "%d", dc->network_mtu);
		json_object_set_new(opts, MTU_OPTION, json_string(mtu));
	}
	return json_pack("{s:s, s:o, s:b, s:o}", "Name", name, "Labels",
			 labels, "EnableIPv6", dc->enable_ipv6 ? 1 : 0,
			 "Options", opts);
}

static void on_network_created(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	const char *name = variables_get(dj->vars, "CI_BUILD_NETWORK_NAME");
	json_t *j;
	const char *id;

	dj->req = NULL;
	j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	id = json_string_value(json_object_get(j, "Id"));
	if (resp->status != 201 || !id) {
		struct buf why = BUF_INIT;

		docker_api_describe(resp, &why);
		docker_fail(dj, CR_ERR_IO, "cannot create the build network '%s': %s",
			    name, why.data);
		buf_release(&why);
	} else {
		dj->network = xstrdup(name);
		dj->network_id = xstrdup(id);
	}
	json_decref(j);
	step_done(dj);
}

void docker_network_create(struct docker_job *dj,
			   void (*after)(struct docker_job *dj))
{
	const char *name;
	json_t *body;
	char *text;

	dj->after_step = after;
	/* network_mode wins; a network from an earlier try is still ours. */
	if ((dj->dc->network_mode && *dj->dc->network_mode) ||
	    !docker_feature_flag(dj, FF_NETWORK_PER_BUILD) || dj->network_id) {
		step_done(dj);
		return;
	}
	name = dj->vars ? variables_get(dj->vars, "CI_BUILD_NETWORK_NAME") :
		NULL;
	if (!name || !*name) {
		docker_fail(dj, CR_ERR_INTERNAL,
			    "FF_NETWORK_PER_BUILD is on but the job has no CI_BUILD_NETWORK_NAME");
		step_done(dj);
		return;
	}
	body = docker_network_create_body(dj->dc, name,
					  docker_labels(&dj->ji, NULL));
	text = json_dumps(body, JSON_COMPACT);
	dj->req = docker_api_call(dj->api, "POST", "/networks/create", text, 0,
				  on_network_created, dj);
	free(text);
	json_decref(body);
}

/* ---- removing it ---- */

static void forget_network(struct docker_job *dj)
{
	free(dj->network);
	free(dj->network_id);
	dj->network = dj->network_id = NULL;
}

static void on_network_removed(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;

	dj->req = NULL;
	if (resp->status != 204 && resp->status != 200 &&
	    resp->status != 404) {
		struct buf why = BUF_INIT;

		docker_api_describe(resp, &why);
		docker_fail(dj, CR_ERR_IO, "cannot remove the build network '%s': %s",
			    dj->network, why.data);
		buf_release(&why);
	}
	/* Forgotten either way: cleanup() must not try forever. */
	forget_network(dj);
	step_done(dj);
}

static void detach_next(struct docker_job *dj);

static void on_attached_removed(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;

	(void)resp;	/* the network's removal says whether it worked */
	dj->req = NULL;
	free((char *)dj->attached.v[0]);
	memmove(&dj->attached.v[0], &dj->attached.v[1],
		dj->attached.nr * sizeof(char *));
	dj->attached.nr--;
	detach_next(dj);
}

/* What is still on the network goes first, as gitlab-runner's cleanup. */
static void detach_next(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	if (dj->attached.nr) {
		docker_container_delete_path(dj->dc, dj->attached.v[0], &path);
		dj->req = docker_api_call(dj->api, "DELETE", path.data, NULL, 0,
					  on_attached_removed, dj);
	} else {
		(void)buf_addf(&path, "/networks/%s", dj->network_id);
		dj->req = docker_api_call(dj->api, "DELETE", path.data, NULL, 0,
					  on_network_removed, dj);
	}
	buf_release(&path);
}

static void collect_attached(const json_t *inspect, struct strvec *out)
{
	const char *id;
	json_t *v;

	json_object_foreach(json_object_get(inspect, "Containers"), id, v)
		strvec_push(out, id);
}

static void on_network_inspect(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	json_t *j = NULL;

	dj->req = NULL;
	if (resp->status == 200)
		j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	strvec_clear(&dj->attached);
	collect_attached(j, &dj->attached);
	json_decref(j);
	detach_next(dj);
}

void docker_network_remove(struct docker_job *dj,
			   void (*after)(struct docker_job *dj))
{
	struct buf path = BUF_INIT;

	dj->after_step = after;
	if (!dj->network_id) {
		step_done(dj);
		return;
	}
	(void)buf_addf(&path, "/networks/%s", dj->network_id);
	dj->req = docker_api_call(dj->api, "GET", path.data, NULL, 0,
				  on_network_inspect, dj);
	buf_release(&path);
}

void docker_network_remove_sync(struct docker_job *dj)
{
	struct docker_api_response resp = DOCKER_API_RESPONSE_INIT;
	struct strvec attached = STRVEC_INIT;
	struct buf path = BUF_INIT;
	json_t *j = NULL;
	size_t i;

	if (!dj->network_id)
		return;
	(void)buf_addf(&path, "/networks/%s", dj->network_id);
	docker_api_call_sync(dj->api, "GET", path.data, 30000L, &resp);
	if (resp.status == 200)
		j = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	collect_attached(j, &attached);
	json_decref(j);
	for (i = 0; i < attached.nr; i++) {
		struct buf cpath = BUF_INIT;

		docker_api_response_release(&resp);
		resp = (struct docker_api_response)DOCKER_API_RESPONSE_INIT;
		docker_container_delete_path(dj->dc, attached.v[i], &cpath);
		docker_api_call_sync(dj->api, "DELETE", cpath.data, 30000L,
				     &resp);
		buf_release(&cpath);
	}
	docker_api_response_release(&resp);
	resp = (struct docker_api_response)DOCKER_API_RESPONSE_INIT;
	docker_api_call_sync(dj->api, "DELETE", path.data, 30000L, &resp);
	docker_api_response_release(&resp);
	strvec_clear(&attached);
	buf_release(&path);
	forget_network(dj);
}
