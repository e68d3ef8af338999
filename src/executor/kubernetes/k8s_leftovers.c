/*
 * Pods a killed crunner left: found by the labels every job pod carries
 * (manager.runner.gitlab.com/id-short), deleted at start.
 */
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_api.h"
#include "executor/kubernetes/k8s_pod.h"
#include "executor/kubernetes/kubernetes.h"
#include "util/log.h"
#include "util/banned.h"

#define DEFAULT_NAMESPACE "default"

static void clean_runner(const struct runner_config *rc, const char *system_id)
{
	const struct config_kubernetes *kc = &rc->kubernetes;
	const char *ns = kc->namespace && *kc->namespace ? kc->namespace :
		DEFAULT_NAMESPACE;
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf err = BUF_INIT, path = BUF_INIT, sel = BUF_INIT;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	struct k8s_conn conn;
	struct k8s_api api;
	json_t *list = NULL, *pod;
	size_t i, removed = 0;

	k8s_conn_init(&conn);
	if (k8s_conn_resolve(kc, &conn, &err) != 0) {
		log_warn("kubernetes: cannot look for pods left by an earlier crunner: %s",
			 err.data);
		k8s_conn_release(&conn);
		buf_release(&err);
		return;
	}
	k8s_api_init(&api, &conn, NULL);
	runner_short_token(rc->token, short_token);
	(void)buf_addf(&sel, "manager." K8S_LABEL_NS "/id-short=");
	k8s_sanitize_label(&sel, short_token);
	(void)buf_addstr(&sel, "," K8S_SYSTEM_ID_LABEL "=");
	k8s_sanitize_label(&sel, system_id);
	k8s_core_path(&path, ns, "pods?labelSelector=", NULL);
	k8s_url_escape(&path, sel.data);
	(void)k8s_api_call(&api, "GET", path.data, NULL, 0, &resp);
	if (resp.status != 200) {
		k8s_api_describe(&resp, &err);
		log_warn("kubernetes: cannot list pods left by an earlier crunner: %s",
			 err.data);
		goto out;
	}
	list = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	json_array_foreach(json_object_get(list, "items"), i, pod) {
		const char *name = json_string_value(json_object_get(
			json_object_get(pod, "metadata"), "name"));
		struct k8s_response del = K8S_RESPONSE_INIT;

		if (!name)
			continue;
		buf_reset(&path);
		k8s_core_path(&path, ns, "pods", name);
		(void)k8s_api_call(&api, "DELETE", path.data,
				   "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\",\"propagationPolicy\":\"Background\"}",
				   0, &del);
		if (del.status == 200 || del.status == 202)
			removed++;
		k8s_response_release(&del);
	}
	if (removed)
		log_info("runner %s: removed %zu pod(s) left by jobs of an earlier crunner",
			 short_token, removed);
out:
	json_decref(list);
	k8s_api_release(&api);
	k8s_response_release(&resp);
	buf_release(&err);
	buf_release(&path);
	buf_release(&sel);
}

void kubernetes_remove_leftovers(struct runner_config *const *runners,
				 size_t nr, const char *system_id)
{
	size_t i;

	if (!system_id || !*system_id)
		return;
	for (i = 0; i < nr; i++)
		if (runners[i]->executor &&
		    !strcmp(runners[i]->executor, "kubernetes"))
			clean_runner(runners[i], system_id);
}
