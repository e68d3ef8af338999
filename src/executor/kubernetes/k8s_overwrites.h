/*
 * What a job's variables may change in its pod (gitlab-runner's
 * executors/kubernetes/overwrites.go, createOverwrites): the namespace
 * (KUBERNETES_NAMESPACE_OVERWRITE, when it matches
 * namespace_overwrite_allowed), the service account
 * (KUBERNETES_SERVICE_ACCOUNT_OVERWRITE, service_account_overwrite_allowed),
 * the bearer token (KUBERNETES_BEARER_TOKEN, bearer_token_overwrite_allowed)
 * and pod labels and annotations (KUBERNETES_POD_LABELS_* and
 * KUBERNETES_POD_ANNOTATIONS_*, each "key=value" matching
 * pod_labels_overwrite_allowed or pod_annotations_overwrite_allowed), the
 * node selector (KUBERNETES_NODE_SELECTOR_*, "key=value" matching
 * node_selector_overwrite_allowed) and tolerations
 * (KUBERNETES_NODE_TOLERATIONS_*, "key[=value][:effect]" matching
 * node_tolerations_overwrite_allowed).  A variable whose *_allowed key is
 * unset or empty is ignored.
 * The resource overwrites are in k8s_pod.c.
 */
#ifndef CR_K8S_OVERWRITES_H
#define CR_K8S_OVERWRITES_H

#include "util/buf.h"
#include "util/strvec.h"

struct config_kubernetes;
struct variables;

struct k8s_overwrites {
	char *namespace;		/* config.toml's or the job's; NULL: none */
	char *service_account;		/* likewise */
	char *bearer_token;		/* a secret; NULL: not overwritten */
	struct strvec labels;		/* "key=value", added after config.toml's */
	struct strvec annotations;	/* likewise */
	struct strvec node_selector;	/* likewise */
	/* Pairs: "key[=value]", then its effect ("" for none). */
	struct strvec node_tolerations;
	struct strvec log;		/* one line per overwrite, for the job log */
};

/*
 * Fills o (zeroed first).  Returns 0, or CR_ERR_CONFIG with gitlab-runner's
 * sentence in err: 'provided value "x" does not match "re"', or
 * 'provided value "x" does not match "k=v"', or an invalid expression.
 */
int k8s_overwrites_eval(const struct config_kubernetes *kc,
			const struct variables *vars, struct k8s_overwrites *o,
			struct buf *err);

void k8s_overwrites_release(struct k8s_overwrites *o);

#endif
