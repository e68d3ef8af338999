/*
 * The registry credentials Secret's life (gitlab-runner's
 * setupCredentials, setOwnerReferencesForResources, cleanupResources):
 * created before the pod, owned by the pod once it exists, deleted by
 * CLEANUP when the pod never came to own it.  Blocking, on the worker
 * thread.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/k8s_pod.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void secret_path(struct k8s_job *kj, struct buf *p, const char *name)
{
	k8s_core_path(p, kj->namespace, "secrets", name);
}

/* The object the API server answered with, kept for the update. */
static int keep_answer(struct k8s_job *kj, struct k8s_response *resp)
{
	json_t *j = json_loadb(resp->body.data, resp->body.len, 0, NULL);

	if (!json_is_object(j)) {
		json_decref(j);
		return -1;
	}
	json_decref(kj->secret);
	kj->secret = j;
	return 0;
}

int k8s_credentials_create(struct k8s_job *kj)
{
	struct strvec warnings = STRVEC_INIT;
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf name = BUF_INIT, path = BUF_INIT, why = BUF_INIT;
	const char *auth = kj->vars ? variables_get(kj->vars,
						    "DOCKER_AUTH_CONFIG") : NULL;
	char suffix[9], *body = NULL;
	json_t *secret;
	size_t i;
	int r = 0;

	k8s_random_suffix(suffix);
	k8s_resource_name(&name, kj->unique.data, suffix);
	secret = k8s_credentials_secret(name.data, kj->namespace, auth,
					kj->payload, &warnings);
	for (i = 0; i < warnings.nr; i++)
		k8s_say(kj, "WARNING: %s", warnings.v[i]);
	if (!secret)
		goto out;
	body = json_dumps(secret, JSON_COMPACT);
	secret_path(kj, &path, NULL);
	free(kj->secret_name);
	kj->secret_name = xstrdup(name.data);
	if ((r = k8s_api_call(&kj->api, "POST", path.data, body, 0,
			      &resp)) != 0)
		goto out;
	if (resp.status == 409) {
		/* Ours from a try before: the existing one. */
		buf_reset(&path);
		secret_path(kj, &path, name.data);
		k8s_response_release(&resp);
		if ((r = k8s_api_call(&kj->api, "GET", path.data, NULL, 0,
				      &resp)) != 0)
			goto out;
	}
	if ((resp.status != 200 && resp.status != 201) ||
	    keep_answer(kj, &resp) != 0) {
		k8s_api_describe(&resp, &why);
		k8s_fail(kj, resp.status == 0 ? CR_ERR_NETWORK : CR_ERR_INVALID,
			 "setting up credentials: %s", why.data);
		r = kj->err;
		if (resp.status != 0 && resp.status != 409) {
			free(kj->secret_name);
			kj->secret_name = NULL;
		}
	}
out:
	free(body);
	json_decref(secret);
	strvec_clear(&warnings);
	buf_release(&name);
	buf_release(&path);
	buf_release(&why);
	k8s_response_release(&resp);
	return r;
}

int k8s_credentials_own(struct k8s_job *kj, const struct k8s_response *pod)
{
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf path = BUF_INIT, why = BUF_INIT;
	json_t *p = json_loadb(pod->body.data, pod->body.len, 0, NULL);
	json_t *meta = json_object_get(p, "metadata"), *obj;
	const char *uid = json_string_value(json_object_get(meta, "uid"));
	const char *name = json_string_value(json_object_get(meta, "name"));
	char *body;
	int r = 0;

	if (!kj->secret || !kj->secret_name)
		goto out;
	obj = json_deep_copy(kj->secret);
	json_object_set_new(json_object_get(obj, "metadata"), "ownerReferences",
		json_pack("[{s:s,s:s,s:s,s:s}]", "apiVersion", "v1",
			  "kind", "Pod", "name", name ? name : kj->pod_name,
			  "uid", uid ? uid : ""));
	body = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	secret_path(kj, &path, kj->secret_name);
	r = k8s_api_call(&kj->api, "PUT", path.data, body, 0, &resp);
	free(body);
	if (r != 0)
		goto out;
	if (resp.status != 200 || keep_answer(kj, &resp) != 0) {
		k8s_api_describe(&resp, &why);
		k8s_fail(kj, resp.status == 0 ? CR_ERR_NETWORK : CR_ERR_INVALID,
			 "error setting ownerReferences: %s", why.data);
		r = kj->err;
		goto out;
	}
	kj->secret_owned = 1;
out:
	json_decref(p);
	buf_release(&path);
	buf_release(&why);
	k8s_response_release(&resp);
	return r;
}

int k8s_credentials_delete(struct k8s_job *kj, struct buf *why)
{
	struct k8s_api api = kj->api;	/* shallow: ignores the cancel flag */
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf path = BUF_INIT, body = BUF_INIT;
	int r = 0;

	/* An owned one goes with its pod (the garbage collector). */
	if (!kj->secret_name || kj->secret_owned)
		return 0;
	api.cancel = NULL;
	secret_path(kj, &path, kj->secret_name);
	(void)buf_addstr(&body, "{\"apiVersion\":\"v1\",\"kind\":\"DeleteOptions\"");
	if (kj->kc->cleanup_grace_period_seconds >= 0)
		(void)buf_addf(&body, ",\"gracePeriodSeconds\":%lld",
			       (long long)kj->kc->cleanup_grace_period_seconds);
	(void)buf_addch(&body, '}');
	(void)k8s_api_call(&api, "DELETE", path.data, body.data, 0, &resp);
	if (resp.status == 200 || resp.status == 202 || resp.status == 404) {
		free(kj->secret_name);
		kj->secret_name = NULL;
	} else {
		k8s_api_describe(&resp, why);
		r = CR_ERR_NETWORK;
	}
	buf_release(&path);
	buf_release(&body);
	k8s_response_release(&resp);
	return r;
}
