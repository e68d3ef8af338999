/*
 * resource_availability_check_max_attempts (gitlab-runner's
 * checkDependantResources and waitForResource): before the pod is
 * created, config.toml's service_account and each of its
 * image_pull_secrets must exist in the job's namespace.  Each is looked
 * at, then again every 5 seconds, max_attempts more times; then the job
 * fails with "Timed out while waiting for ServiceAccount/NAME to be
 * present in the cluster".  0 (the value when config.toml does not set
 * it) skips the check.
 */
#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "util/error.h"
#include "util/banned.h"

#define CHECK_INTERVAL_MS 5000L

static int exists(struct k8s_job *kj, const char *kind, const char *name)
{
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf path = BUF_INIT;
	int ok;

	k8s_core_path(&path, kj->namespace, kind, name);
	ok = k8s_api_call_retry(kj, "GET", path.data, NULL, &resp) == 0 &&
		resp.status == 200;
	buf_release(&path);
	k8s_response_release(&resp);
	return ok;
}

/* 0 once it exists; -1 (recorded with k8s_fail) or canceled otherwise. */
static int wait_for(struct k8s_job *kj, const char *type, const char *kind,
		    const char *name)
{
	int attempt = -1;

	while (attempt < kj->kc->resource_availability_check_max_attempts) {
		if (exists(kj, kind, name))
			return 0;
		attempt++;
		if (k8s_nap(kj, CHECK_INTERVAL_MS))
			return -1;
	}
	k8s_fail(kj, CR_ERR_CONFIG,
		 "Timed out while waiting for %s/%s to be present in the cluster",
		 type, name);
	return -1;
}

int k8s_check_dependant_resources(struct k8s_job *kj)
{
	const struct config_kubernetes *kc = kj->kc;
	size_t i;

	if (kc->resource_availability_check_max_attempts <= 0)
		return 0;
	if (kc->service_account && *kc->service_account &&
	    wait_for(kj, "ServiceAccount", "serviceaccounts",
		     kc->service_account) != 0)
		return -1;
	for (i = 0; i < kc->image_pull_secrets.nr; i++)
		if (wait_for(kj, "ImagePullSecret", "secrets",
			     kc->image_pull_secrets.v[i]) != 0)
			return -1;
	return 0;
}
