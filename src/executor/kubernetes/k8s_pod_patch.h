/*
 * FF_USE_ADVANCED_POD_SPEC_CONFIGURATION: the [[runners.kubernetes.pod_spec]]
 * patches applied, in order, to the pod's spec as gitlab-runner's
 * applyPodSpecMerge does (executors/kubernetes/kubernetes.go): each patch
 * is YAML or JSON (patch, or the file at patch_path), and its patch_type
 * says how it applies:
 *
 * - "json": a JSON Patch (RFC 6902: add, remove, replace, move, copy,
 *   test; paths are JSON Pointers, RFC 6901, from the spec);
 * - "merge": a JSON Merge Patch (RFC 7386);
 * - "strategic" (the default): Kubernetes' strategic merge patch over a
 *   PodSpec: maps merge (null deletes a key); the lists Kubernetes merges
 *   by a key merge element by element (containers, initContainers,
 *   ephemeralContainers, volumes, imagePullSecrets, resourceClaims,
 *   schedulingGates by name; hostAliases by ip; topologySpreadConstraints
 *   by topologyKey; in a container env by name, volumeMounts by mountPath,
 *   ports by containerPort, volumeDevices by devicePath); every other list
 *   is replaced.  The directives $patch (merge, replace, delete),
 *   $retainKeys and $deleteFromPrimitiveList/<field> are honoured,
 *   $setElementOrder/<field> is accepted and ignored.
 *
 * All pure functions of their input (the file read aside), for the unit
 * tests.
 */
#ifndef CR_K8S_POD_PATCH_H
#define CR_K8S_POD_PATCH_H

#include <jansson.h>

#include "util/buf.h"

struct config_kubernetes;

/*
 * RFC 6902 over *doc (replaced by the result: the root may be replaced).
 * Returns 0, or CR_ERR_CONFIG with a sentence in err (*doc unchanged).
 */
int k8s_json_patch(json_t **doc, const json_t *ops, struct buf *err);

/* RFC 7386: the result (a new reference); target is not changed. */
json_t *k8s_merge_patch(const json_t *target, const json_t *patch);

/*
 * A strategic merge patch over a PodSpec: the result in *spec (a new
 * reference replaces it).  Returns 0, or CR_ERR_CONFIG with err set.
 */
int k8s_strategic_merge_pod_spec(json_t **spec, const json_t *patch,
				 struct buf *err);

/*
 * Every pod_spec patch of kc, in order, applied to pod's "spec".  Returns
 * 0, or CR_ERR_CONFIG with gitlab-runner's sentence in err (an ambiguous
 * patch, a patch file that cannot be read, one that is not YAML, one that
 * does not apply).
 */
int k8s_pod_spec_patches(const struct config_kubernetes *kc, json_t *pod,
			 struct buf *err);

#endif
