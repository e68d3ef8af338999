/*
 * namespace_per_job, as gitlab-runner does it (executors/kubernetes/
 * kubernetes.go checkDefaults, setupBuildNamespace, teardownBuildNamespace):
 * the job's namespace is "ci-job-<job id>" whatever namespace and
 * KUBERNETES_NAMESPACE_OVERWRITE say; it is created before the
 * credentials and the pod, and deleted at cleanup, after them (the API
 * server then removes whatever is left in it).
 */
#include <stdio.h>
#include <stdlib.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "util/error.h"
#include "util/banned.h"

int k8s_namespace_create(struct k8s_job *kj)
{
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf why = BUF_INIT;
	json_t *ns;
	char *body;
	int r;

	/* Created once: the engine may prepare the job again. */
	if (!kj->kc->namespace_per_job || kj->namespace_created)
		return 0;
	ns = json_pack("{s:s,s:s,s:{s:s}}", "apiVersion", "v1",
		       "kind", "Namespace", "metadata", "name", kj->namespace);
	body = json_dumps(ns, JSON_COMPACT);
	json_decref(ns);
	r = k8s_api_call_retry(kj, "POST", "/api/v1/namespaces", body, &resp);
	free(body);
	if (r == 0 && (resp.status == 201 || resp.status == 200)) {
		kj->namespace_created = 1;
	} else if (r == 0) {
		k8s_api_describe(&resp, &why);
		k8s_fail(kj, resp.status == 0 ? CR_ERR_NETWORK : CR_ERR_INVALID,
			 "failed to create namespace: %s", why.data);
		r = kj->err;
	}
	buf_release(&why);
	k8s_response_release(&resp);
	return r;
}

int k8s_namespace_delete(struct k8s_job *kj, struct buf *why)
{
	struct k8s_api api = kj->api;	/* shallow: ignores the cancel flag */
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf path = BUF_INIT;
	int r = 0;

	if (!kj->namespace_created)
		return 0;
	api.cancel = NULL;
	(void)buf_addstr(&path, "/api/v1/namespaces/");
	k8s_url_escape(&path, kj->namespace);
	(void)k8s_api_call(&api, "DELETE", path.data, NULL, 0, &resp);
	if (resp.status == 200 || resp.status == 202 || resp.status == 404) {
		kj->namespace_created = 0;
	} else {
		(void)buf_addstr(why, "failed to delete namespace: ");
		k8s_api_describe(&resp, why);
		r = CR_ERR_NETWORK;
	}
	buf_release(&path);
	k8s_response_release(&resp);
	return r;
}
