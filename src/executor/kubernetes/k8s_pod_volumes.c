/*
 * [runners.kubernetes.volumes] in the job's pod, as gitlab-runner's
 * getVolumesForConfig and getVolumeMountsForConfig build them
 * (executors/kubernetes/kubernetes.go).  The mounts are the same in the
 * build, helper and service containers.
 */
#include <stdlib.h>
#include <string.h>

#include "executor/kubernetes/k8s_pod_int.h"
#include "job/variables.h"
#include "util/xalloc.h"
#include "util/banned.h"

static char *expand(const struct k8s_pod_input *in, const char *s)
{
	if (!s)
		return xstrdup("");
	return in->vars ? variables_expand(in->vars, s) : xstrdup(s);
}

static void set_str(json_t *o, const char *key, const char *s)
{
	if (s && *s)
		json_object_set_new(o, key, json_string(s));
}

/* Key-to-path items of a secret or config map, in config order. */
static void set_items(json_t *src, const struct config_strmap *items)
{
	json_t *a;
	size_t i;

	if (!items->nr)
		return;
	a = json_array();
	for (i = 0; i < items->nr; i++)
		json_array_append_new(a, json_pack("{s:s,s:s}",
			"key", items->items[i].key,
			"path", items->items[i].value ? items->items[i].value : ""));
	json_object_set_new(src, "items", a);
}

static void add_warning(const struct k8s_pod_input *in, const char *fmt,
			const char *a, const char *b)
{
	if (in->warnings)
		strvec_pushf(in->warnings, fmt, a, b);
}

static json_t *volume_source(const struct k8s_pod_input *in, int kind,
			     const struct config_kubernetes_volume *v,
			     const char **type)
{
	json_t *src = json_object();
	double q;

	switch (kind) {
	case K8S_VOL_HOST_PATH:
		*type = "hostPath";
		/* Before host_path existed, mount_path was the host's path. */
		json_object_set_new(src, "path", json_string(
			v->host_path && *v->host_path ? v->host_path :
			v->mount_path ? v->mount_path : ""));
		break;
	case K8S_VOL_SECRET:
		*type = "secret";
		json_object_set_new(src, "secretName", json_string(v->name));
		set_items(src, &v->items);
		break;
	case K8S_VOL_CONFIG_MAP:
		*type = "configMap";
		json_object_set_new(src, "name", json_string(v->name));
		set_items(src, &v->items);
		break;
	case K8S_VOL_EMPTY_DIR:
		*type = "emptyDir";
		set_str(src, "medium", v->medium);
		if (v->size_limit && strspn(v->size_limit, " ") !=
		    strlen(v->size_limit)) {
			if (k8s_quantity_parse(v->size_limit, &q) == 0)
				json_object_set_new(src, "sizeLimit",
						    json_string(v->size_limit));
			else
				add_warning(in, "invalid limit quantity \"%s\" for empty volume \"%s\"",
					    v->size_limit, v->name);
		}
		break;
	case K8S_VOL_CSI:
		*type = "csi";
		json_object_set_new(src, "driver",
				    json_string(v->driver ? v->driver : ""));
		json_object_set_new(src, "fsType",
				    json_string(v->fs_type ? v->fs_type : ""));
		json_object_set_new(src, "readOnly", json_boolean(v->read_only));
		if (v->volume_attributes.nr) {
			json_t *attrs = json_object();
			size_t i;

			for (i = 0; i < v->volume_attributes.nr; i++)
				json_object_set_new(attrs,
					v->volume_attributes.items[i].key,
					json_string(v->volume_attributes.items[i].value ?
						    v->volume_attributes.items[i].value :
						    ""));
			json_object_set_new(src, "volumeAttributes", attrs);
		}
		break;
	default:
		json_decref(src);
		return NULL;
	}
	return src;
}

void k8s_config_volumes(const struct k8s_pod_input *in, json_t *vols)
{
	const struct config_kubernetes_volumes *cv = &in->kc->volumes;
	int kind;
	size_t i, j;

	for (kind = 0; kind < K8S_VOL_KINDS; kind++) {
		for (i = 0; i < cv->nr[kind]; i++) {
			const struct config_kubernetes_volume *v = &cv->list[kind][i];
			const char *type = NULL;
			json_t *src, *vol;
			char *name;

			if (kind == K8S_VOL_PVC) {
				/* A claim named twice is one volume. */
				int seen = 0;

				for (j = 0; j < i; j++)
					if (!strcmp(cv->list[kind][j].name ?
						    cv->list[kind][j].name : "",
						    v->name ? v->name : ""))
						seen = 1;
				if (seen)
					continue;
				name = expand(in, v->name);
				vol = json_pack("{s:s,s:{s:s}}", "name", name,
						"persistentVolumeClaim",
						"claimName", name);
				free(name);
				json_array_append_new(vols, vol);
				continue;
			}
			src = volume_source(in, kind, v, &type);
			if (!src)
				continue;
			vol = json_object();
			json_object_set_new(vol, "name", json_string(v->name ?
								     v->name : ""));
			json_object_set_new(vol, type, src);
			json_array_append_new(vols, vol);
		}
	}
	/* getVolumesForNFSs: last, as gitlab-runner appends them. */
	for (i = 0; i < cv->nr_nfs; i++) {
		const struct config_kubernetes_nfs *n = &cv->nfs[i];
		json_t *src = json_pack("{s:s,s:s}", "server",
					n->server ? n->server : "", "path",
					n->path ? n->path : "");

		if (n->read_only)
			json_object_set_new(src, "readOnly", json_true());
		json_array_append_new(vols, json_pack("{s:s,s:o}", "name",
			n->name ? n->name : "", "nfs", src));
	}
}

void k8s_config_volume_mounts(const struct k8s_pod_input *in, json_t *mounts)
{
	const struct config_kubernetes_volumes *cv = &in->kc->volumes;
	int kind;
	size_t i;

	for (kind = 0; kind < K8S_VOL_KINDS; kind++) {
		for (i = 0; i < cv->nr[kind]; i++) {
			const struct config_kubernetes_volume *v = &cv->list[kind][i];
			json_t *m = json_object();
			char *s;

			/* Only a claim's name takes the job's variables. */
			s = kind == K8S_VOL_PVC ? expand(in, v->name) :
				xstrdup(v->name ? v->name : "");
			json_object_set_new(m, "name", json_string(s));
			free(s);
			s = expand(in, v->mount_path);
			json_object_set_new(m, "mountPath", json_string(s));
			free(s);
			s = expand(in, v->sub_path);
			set_str(m, "subPath", s);
			free(s);
			/* An emptyDir mount is never read-only. */
			if (v->read_only && kind != K8S_VOL_EMPTY_DIR)
				json_object_set_new(m, "readOnly", json_true());
			if (kind == K8S_VOL_HOST_PATH || kind == K8S_VOL_PVC ||
			    kind == K8S_VOL_EMPTY_DIR)
				set_str(m, "mountPropagation",
					v->mount_propagation);
			json_array_append_new(mounts, m);
		}
	}
	for (i = 0; i < cv->nr_nfs; i++) {
		const struct config_kubernetes_nfs *n = &cv->nfs[i];
		json_t *m = json_object();
		char *s;

		json_object_set_new(m, "name", json_string(n->name ? n->name :
							   ""));
		s = expand(in, n->mount_path);
		json_object_set_new(m, "mountPath", json_string(s));
		free(s);
		s = expand(in, n->sub_path);
		set_str(m, "subPath", s);
		free(s);
		if (n->read_only)
			json_object_set_new(m, "readOnly", json_true());
		json_array_append_new(mounts, m);
	}
}

int k8s_builds_dir_from_config(const struct k8s_pod_input *in)
{
	const struct config_kubernetes_volumes *cv = &in->kc->volumes;
	int kind, found = 0;
	size_t i;

	for (kind = 0; kind < K8S_VOL_KINDS && !found; kind++)
		for (i = 0; i < cv->nr[kind] && !found; i++) {
			char *p = expand(in, cv->list[kind][i].mount_path);

			found = in->builds_dir && !strcmp(p, in->builds_dir);
			free(p);
		}
	for (i = 0; i < cv->nr_nfs && !found; i++) {
		char *p = expand(in, cv->nfs[i].mount_path);

		found = in->builds_dir && !strcmp(p, in->builds_dir);
		free(p);
	}
	return found;
}
