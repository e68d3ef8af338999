/*
 * The job's pod as gitlab-runner's kubernetes executor builds it
 * (executors/kubernetes/kubernetes.go: preparePodConfig, buildLabels,
 * buildPodAnnotations, buildContainer, getVolumes): a "build" container
 * (the job's image), a "helper" container (the helper image), one per
 * service (named by its alias, else svc-N), emptyDirs for the builds dir
 * ("repo") and the scripts, restartPolicy Never.  A pure function of its
 * input, for the unit tests.
 */
#ifndef CR_K8S_POD_H
#define CR_K8S_POD_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "util/buf.h"
#include "util/strvec.h"

struct config_kubernetes;
struct job_payload;
struct job_port;
struct variables;

#define K8S_BUILD_CONTAINER "build"
#define K8S_HELPER_CONTAINER "helper"
#define K8S_INIT_PERMISSIONS_CONTAINER "init-permissions"
#define K8S_LABEL_NS "runner.gitlab.com"
/* crunner's own label: which installation's job (leftover removal). */
#define K8S_SYSTEM_ID_LABEL "crunner/system-id"
/* Where crunner sits in the helper image (scripts/build-helper-image.sh). */
#define K8S_HELPER_BIN "/usr/bin/crunner"

struct k8s_service_spec {
	char *container;	/* its container's name */
	char *image;
	const struct strvec *command, *entrypoint;	/* may be NULL */
	struct strvec env;	/* "K=V" */
	const struct job_port *ports;
	size_t nr_ports;
	char *user;		/* its kubernetes user "uid[:gid]", or NULL */
};

struct k8s_pod_input {
	const struct config_kubernetes *kc;
	const char *name;		/* k8s_resource_name() */
	const char *namespace;
	const char *unique;		/* runner-<t>-project-<p>-concurrent-<n> */
	int64_t project_id, job_id, root_namespace_id;
	const char *job_name, *project_name, *job_url;
	const char *sha, *before_sha, *ref, *timeout;	/* "1h0m0s" */
	const char *runner_name;	/* [[runners]] name */
	const char *short_desc;		/* the runner's short token */
	const char *system_id;		/* NULL: no crunner/system-id label */
	const struct variables *vars;	/* CI_PROJECT_NAMESPACE, expansion */
	const char *image, *helper_image;
	const struct strvec *build_cmd, *helper_cmd;
	const struct strvec *build_env;	/* "K=V" */
	const struct strvec *helper_env;	/* "K=V" */
	const struct job_port *build_ports;
	size_t nr_build_ports;
	const struct k8s_service_spec *services;
	size_t nr_services;
	const char *builds_dir, *scripts_dir;
	const char *logs_dir;		/* NULL: no logs volume */
	const char *pull_policy;	/* "Always", ..., or NULL */
	const char *service_account;	/* NULL: the namespace's default */
	struct strvec *warnings;	/* NULL, or where warnings go */
	struct strvec *notes;		/* NULL, or lines for the log as is */
	const char *build_user;		/* the image's kubernetes user */
	const char *credentials_secret;	/* k8s_credentials_secret()'s name */
	/* "key=value" from the job (k8s_overwrites), after config.toml's. */
	const struct strvec *label_overwrites, *annotation_overwrites;
	/*
	 * KUBERNETES_NODE_SELECTOR_* ("key=value") and
	 * KUBERNETES_NODE_TOLERATIONS_* (pairs "key[=value]", effect): each
	 * replaces config.toml's entry of the same key, or is added.
	 */
	const struct strvec *node_selector_overwrites;
	const struct strvec *toleration_overwrites;
	int64_t active_deadline_seconds;	/* 0: none */
	/*
	 * FF_KUBERNETES_HONOR_ENTRYPOINT (getCommandAndArgs): no container
	 * has a command, the image's entrypoint runs; the build and helper
	 * containers get their shell command as args, services none.
	 */
	int honor_entrypoint;
	/*
	 * FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR: the "init-permissions"
	 * container (also with the exec strategy) copies the helper image's
	 * /usr/bin/dumb-init to the scripts dir; the caller put
	 * "<scripts_dir>/dumb-init --" before build_cmd and helper_cmd.
	 */
	int dumb_init;
};

/*
 * gitlab-runner's sanitizeLabel: [A-Za-z0-9-_.] kept, anything else '_',
 * "-_." trimmed at both ends, at most 63 characters.  Appended to out.
 */
void k8s_sanitize_label(struct buf *out, const char *s);

/*
 * gitlab-runner's generateNameForK8sResources: pattern cut to 54
 * characters, "-", then the 8 characters of suffix ([a-z0-9]).
 */
void k8s_resource_name(struct buf *out, const char *pattern,
		       const char suffix[8]);

/* Eight random characters of [a-z0-9] (and a NUL). */
void k8s_random_suffix(char out[9]);

/*
 * "Always", "Never" or "IfNotPresent" for a GitLab pull policy name
 * ("always", ...); NULL for anything else.
 */
const char *k8s_pull_policy(const char *gitlab_name);

/*
 * The Pod object (apiVersion v1, kind Pod).  Returns 0 and a new object in
 * *out, or CR_ERR_CONFIG with one sentence in err (a resource quantity
 * over its *_overwrite_max_allowed, a malformed quantity).
 */
int k8s_pod_build(const struct k8s_pod_input *in, json_t **out,
		  struct buf *err);

/*
 * k8s_secret.c: the Secret (kubernetes.io/dockercfg) with the registry
 * credentials of docker_auth_config ($DOCKER_AUTH_CONFIG; may be NULL)
 * and p's credentials of type "registry", named name in namespace ns; NULL
 * when there are none.  A source that cannot be read is left out with a
 * warning in warnings.  The caller owns the object.
 */
json_t *k8s_credentials_secret(const char *name, const char *ns,
			       const char *docker_auth_config,
			       const struct job_payload *p,
			       struct strvec *warnings);

/*
 * Resource overwrites: the quantity a job's variable asks for (e.g.
 * KUBERNETES_CPU_LIMIT) when the config has a maximum for it and the
 * value is not over it.  Returns 0 and *value (the config's, or the
 * variable's, borrowed), or CR_ERR_CONFIG with a sentence.
 */
int k8s_quantity_parse(const char *s, double *out);

#endif
