/*
 * The parts of the job's Pod object that come from config.toml tables
 * (volumes, security contexts, DNS config), each a pure function of its
 * input, used by k8s_pod_build().
 */
#ifndef CR_K8S_POD_INT_H
#define CR_K8S_POD_INT_H

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_pod.h"

/* A JSON array of sv's strings (empty for NULL); the caller owns it. */
json_t *k8s_json_strings(const struct strvec *sv);

/*
 * [runners.kubernetes.volumes] as pod volumes (gitlab-runner's
 * getVolumesForConfig: host paths, secrets, PVCs, config maps, empty dirs,
 * CSI), appended to vols.  A size_limit that is not a quantity is left out
 * with a warning in in->warnings, as gitlab-runner does.
 */
void k8s_config_volumes(const struct k8s_pod_input *in, json_t *vols);

/* Their mounts (getVolumeMountsForConfig), appended to mounts. */
void k8s_config_volume_mounts(const struct k8s_pod_input *in, json_t *mounts);

/*
 * Whether a configured volume is mounted at the builds directory, which
 * then replaces the "repo" emptyDir (isDefaultBuildsDirVolumeRequired).
 */
int k8s_builds_dir_from_config(const struct k8s_pod_input *in);

/*
 * A container's securityContext (GetContainerSecurityContext, then the
 * pod's runAsUser/runAsGroup where the container sets none, as
 * getSecurityContextWithUIDGID does for all but the init container).
 */
json_t *k8s_container_security(const struct config_kubernetes *kc,
			       enum config_k8s_sc_owner owner);

/* Where k8s_container_job_ids() reports (either may be NULL). */
struct k8s_id_log {
	struct strvec *warnings;	/* logged as "WARNING: ..." */
	struct strvec *notes;		/* logged as they are */
};

/*
 * k8s_pod_ids.c: the job's "uid[:gid]" (job_user; NULL or "": none) into
 * the container's securityContext sc (k8s_container_security()'s) where
 * neither the container's nor the pod's security context sets an ID and
 * allowed_users / allowed_groups allow it (getSecurityContextWithUIDGID).
 */
void k8s_container_job_ids(json_t *sc, const struct config_kubernetes *kc,
			   enum config_k8s_sc_owner owner,
			   const char *job_user, const char *container,
			   struct k8s_id_log *log);

/*
 * k8s_secret.c: the pod's imagePullSecrets (prepareImagePullSecrets):
 * image_pull_secrets, then in->credentials_secret; NULL for none, or with
 * use_service_account_image_pull_secrets.
 */
json_t *k8s_image_pull_secrets(const struct k8s_pod_input *in);

/* The pod's securityContext, or NULL when none is configured. */
json_t *k8s_pod_security(const struct config_kubernetes *kc);

/* The pod's affinity (GetAffinity), or NULL when none is configured. */
json_t *k8s_affinity(const struct config_kubernetes *kc);

/* The pod's dnsConfig, or NULL when none is configured. */
json_t *k8s_dns_config(const struct config_kubernetes *kc);

#endif
