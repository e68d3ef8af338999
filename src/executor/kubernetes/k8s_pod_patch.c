/*
 * The pod_spec patches: JSON Patch, JSON Merge Patch and the strategic
 * merge patch of a PodSpec (see k8s_pod_patch.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_pod_patch.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define PATCH_FILE_MAX (1024 * 1024)

/* ---- RFC 6901 pointers and RFC 6902 operations ---- */

/* The pointer's tokens, ~1 and ~0 decoded; -1 when it is malformed. */
static int pointer_tokens(const char *ptr, struct strvec *out)
{
	const char *p = ptr;

	if (*p == '\0')
		return 0;
	if (*p != '/')
		return -1;
	while (*p == '/') {
		struct buf tok = BUF_INIT;

		for (p++; *p && *p != '/'; p++) {
			if (*p == '~') {
				if (p[1] != '0' && p[1] != '1') {
					buf_release(&tok);
					return -1;
				}
				(void)buf_addch(&tok, p[1] == '0' ? '~' : '/');
				p++;
			} else {
				(void)buf_addch(&tok, *p);
			}
		}
		strvec_push(out, tok.data ? tok.data : "");
		buf_release(&tok);
	}
	return 0;
}

/* An array index token: digits, no leading zero; -1 otherwise. */
static long array_index(const char *tok)
{
	char *end;
	long i;

	if (!*tok || (tok[0] == '0' && tok[1]) || tok[0] < '0' || tok[0] > '9')
		return -1;
	errno = 0;
	i = strtol(tok, &end, 10);
	return *end || errno ? -1 : i;
}

/* The node tokens [0, n) lead to; NULL when there is none. */
static json_t *walk(json_t *root, const struct strvec *t, size_t n)
{
	json_t *node = root;
	size_t i;

	for (i = 0; node && i < n; i++) {
		if (json_is_object(node)) {
			node = json_object_get(node, t->v[i]);
		} else if (json_is_array(node)) {
			long k = array_index(t->v[i]);

			node = k < 0 ? NULL : json_array_get(node, (size_t)k);
		} else {
			node = NULL;
		}
	}
	return node;
}

static int op_remove(json_t **doc, const struct strvec *t, const char *path,
		     json_t **removed, struct buf *err)
{
	json_t *parent;
	const char *last;

	if (!t->nr) {
		buf_seterr(err, "remove operation does not apply: cannot remove the whole document");
		return -1;
	}
	parent = walk(*doc, t, t->nr - 1);
	last = t->v[t->nr - 1];
	if (json_is_object(parent) && json_object_get(parent, last)) {
		if (removed)
			*removed = json_incref(json_object_get(parent, last));
		json_object_del(parent, last);
		return 0;
	}
	if (json_is_array(parent)) {
		long k = array_index(last);

		if (k >= 0 && (size_t)k < json_array_size(parent)) {
			if (removed)
				*removed = json_incref(json_array_get(parent,
								      (size_t)k));
			json_array_remove(parent, (size_t)k);
			return 0;
		}
	}
	buf_seterr(err, "remove operation does not apply: doc is missing path: \"%s\"",
		   path);
	return -1;
}

/* add: value (a reference taken) at the pointer. */
static int op_add(json_t **doc, const struct strvec *t, const char *path,
		  json_t *value, struct buf *err)
{
	json_t *parent;
	const char *last;

	if (!t->nr) {
		json_decref(*doc);
		*doc = json_incref(value);
		return 0;
	}
	parent = walk(*doc, t, t->nr - 1);
	last = t->v[t->nr - 1];
	if (json_is_object(parent)) {
		json_object_set(parent, last, value);
		return 0;
	}
	if (json_is_array(parent)) {
		long k = strcmp(last, "-") ? array_index(last) :
			(long)json_array_size(parent);

		if (k >= 0 && (size_t)k <= json_array_size(parent)) {
			json_array_insert(parent, (size_t)k, value);
			return 0;
		}
	}
	buf_seterr(err, "add operation does not apply: doc is missing path: \"%s\"",
		   path);
	return -1;
}

static int one_op(json_t **doc, const json_t *op, struct buf *err)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	json_t *value = json_object_get(op, "value"), *moved = NULL;
	struct strvec t = STRVEC_INIT, f = STRVEC_INIT;
	int r = -1;

	if (!name || !path) {
		buf_seterr(err, "invalid JSON patch operation: \"op\" and \"path\" are required");
		goto out;
	}
	if (pointer_tokens(path, &t) != 0) {
		buf_seterr(err, "invalid JSON pointer \"%s\"", path);
		goto out;
	}
	if (!strcmp(name, "add") || !strcmp(name, "replace") ||
	    !strcmp(name, "test")) {
		if (!value) {
			buf_seterr(err, "%s operation has no value", name);
			goto out;
		}
	}
	if (!strcmp(name, "add")) {
		r = op_add(doc, &t, path, value, err);
	} else if (!strcmp(name, "remove")) {
		r = op_remove(doc, &t, path, NULL, err);
	} else if (!strcmp(name, "replace")) {
		if (t.nr && !walk(*doc, &t, t.nr)) {
			buf_seterr(err, "replace operation does not apply: doc is missing key: %s",
				   path);
			goto out;
		}
		if (t.nr)
			r = op_remove(doc, &t, path, NULL, err);
		else
			r = 0;
		if (r == 0)
			r = op_add(doc, &t, path, value, err);
	} else if (!strcmp(name, "test")) {
		json_t *have = walk(*doc, &t, t.nr);

		r = have && json_equal(have, value) ? 0 : -1;
		if (r)
			buf_seterr(err, "testing value %s failed: test failed",
				   path);
	} else if (!strcmp(name, "move") || !strcmp(name, "copy")) {
		if (!from || pointer_tokens(from, &f) != 0) {
			buf_seterr(err, "%s operation has no valid \"from\"",
				   name);
			goto out;
		}
		if (!strcmp(name, "move")) {
			r = op_remove(doc, &f, from, &moved, err);
		} else {
			json_t *src = walk(*doc, &f, f.nr);

			if (src) {
				moved = json_deep_copy(src);
				r = 0;
			} else {
				buf_seterr(err, "copy operation does not apply: doc is missing from path: %s",
					   from);
			}
		}
		if (r == 0)
			r = op_add(doc, &t, path, moved, err);
	} else {
		buf_seterr(err, "unexpected JSON patch operation \"%s\"", name);
	}
out:
	json_decref(moved);
	strvec_clear(&t);
	strvec_clear(&f);
	return r;
}

int k8s_json_patch(json_t **doc, const json_t *ops, struct buf *err)
{
	json_t *work, *op;
	size_t i;

	if (!json_is_array(ops)) {
		buf_seterr(err, "a JSON patch is an array of operations");
		return CR_ERR_CONFIG;
	}
	work = json_deep_copy(*doc);
	json_array_foreach(ops, i, op) {
		if (!json_is_object(op) || one_op(&work, op, err) != 0) {
			if (!json_is_object(op))
				buf_seterr(err, "JSON patch operation %zu is not an object",
					   i);
			json_decref(work);
			return CR_ERR_CONFIG;
		}
	}
	json_decref(*doc);
	*doc = work;
	return 0;
}

/* ---- RFC 7386 ---- */

json_t *k8s_merge_patch(const json_t *target, const json_t *patch)
{
	json_t *out, *v;
	const char *key;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	json_object_foreach((json_t *)patch, key, v) {
		if (json_is_null(v))
			json_object_del(out, key);
		else
			json_object_set_new(out, key, k8s_merge_patch(
				json_object_get(out, key), v));
	}
	return out;
}

/* ---- strategic merge over a PodSpec ---- */

/* The Go types whose lists have a merge key (the rest: replaced). */
enum smp_type { SMP_OTHER, SMP_POD_SPEC, SMP_CONTAINER };

struct smp_field {
	enum smp_type in;
	const char *field, *key;
	enum smp_type element;
};

/* k8s.io/api/core/v1's patchStrategy:"merge" fields and their keys. */
static const struct smp_field merge_fields[] = {
	{ SMP_POD_SPEC, "containers", "name", SMP_CONTAINER },
	{ SMP_POD_SPEC, "initContainers", "name", SMP_CONTAINER },
	{ SMP_POD_SPEC, "ephemeralContainers", "name", SMP_CONTAINER },
	{ SMP_POD_SPEC, "volumes", "name", SMP_OTHER },
	{ SMP_POD_SPEC, "imagePullSecrets", "name", SMP_OTHER },
	{ SMP_POD_SPEC, "hostAliases", "ip", SMP_OTHER },
	{ SMP_POD_SPEC, "topologySpreadConstraints", "topologyKey", SMP_OTHER },
	{ SMP_POD_SPEC, "resourceClaims", "name", SMP_OTHER },
	{ SMP_POD_SPEC, "schedulingGates", "name", SMP_OTHER },
	{ SMP_CONTAINER, "env", "name", SMP_OTHER },
	{ SMP_CONTAINER, "volumeMounts", "mountPath", SMP_OTHER },
	{ SMP_CONTAINER, "ports", "containerPort", SMP_OTHER },
	{ SMP_CONTAINER, "volumeDevices", "devicePath", SMP_OTHER },
};

static const struct smp_field *merge_field(enum smp_type in, const char *f)
{
	size_t i;

	for (i = 0; i < sizeof(merge_fields) / sizeof(*merge_fields); i++)
		if (merge_fields[i].in == in && !strcmp(merge_fields[i].field, f))
			return &merge_fields[i];
	return NULL;
}

#define DIRECTIVE "$patch"
#define RETAIN_KEYS "$retainKeys"
#define DELETE_PRIMITIVE "$deleteFromPrimitiveList/"
#define ELEMENT_ORDER "$setElementOrder/"

static json_t *smp_map(const json_t *orig, const json_t *patch,
		       enum smp_type type, struct buf *err);

/* patch without its directive keys (a new object). */
static json_t *without_directives(const json_t *patch)
{
	json_t *out = json_object(), *v;
	const char *key;

	json_object_foreach((json_t *)patch, key, v)
		if (key[0] != '$')
			json_object_set(out, key, v);
	return out;
}

/* The merge of a list with a merge key: elements matched by key. */
static json_t *smp_keyed_list(const json_t *orig, const json_t *patch,
			      const struct smp_field *fd, struct buf *err)
{
	json_t *out = json_is_array(orig) ? json_deep_copy(orig) : json_array();
	json_t *p, *o;
	size_t i, j;

	/* A {"$patch": "replace"} element: the rest of the patch list only. */
	json_array_foreach(patch, i, p) {
		const char *d = json_string_value(json_object_get(p, DIRECTIVE));

		if (d && !strcmp(d, "replace")) {
			json_t *rest = json_array();

			json_array_foreach(patch, j, o)
				if (j != i)
					json_array_append_new(rest,
						without_directives(o));
			json_decref(out);
			return rest;
		}
	}
	json_array_foreach(patch, i, p) {
		json_t *key = json_object_get(p, fd->key);
		const char *d = json_string_value(json_object_get(p, DIRECTIVE));
		size_t found = (size_t)-1;

		if (!json_is_object(p) || !key) {
			buf_seterr(err, "map: %s does not contain declared merge key: %s",
				   fd->field, fd->key);
			json_decref(out);
			return NULL;
		}
		json_array_foreach(out, j, o)
			if (json_equal(json_object_get(o, fd->key), key)) {
				found = j;
				break;
			}
		if (d && !strcmp(d, "delete")) {
			while (found != (size_t)-1) {
				json_array_remove(out, found);
				found = (size_t)-1;
				json_array_foreach(out, j, o)
					if (json_equal(json_object_get(o, fd->key),
						       key)) {
						found = j;
						break;
					}
			}
			continue;
		}
		if (found == (size_t)-1) {
			json_t *added = smp_map(NULL, p, fd->element, err);

			if (!added) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, added);
		} else {
			json_t *merged = smp_map(json_array_get(out, found), p,
						 fd->element, err);

			if (!merged) {
				json_decref(out);
				return NULL;
			}
			json_array_set_new(out, found, merged);
		}
	}
	return out;
}

/* $deleteFromPrimitiveList/<field>: those values out of out's field. */
static void delete_primitives(json_t *out, const char *field,
			      const json_t *values)
{
	json_t *list = json_object_get(out, field), *v, *w;
	size_t i, j;

	if (!json_is_array(list))
		return;
	for (i = json_array_size(list); i-- > 0;) {
		v = json_array_get(list, i);
		json_array_foreach(values, j, w)
			if (json_equal(v, w)) {
				json_array_remove(list, i);
				break;
			}
	}
}

/* The merge of two maps of the given type; NULL with err on failure. */
static json_t *smp_map(const json_t *orig, const json_t *patch,
		       enum smp_type type, struct buf *err)
{
	const char *d = json_string_value(json_object_get(patch, DIRECTIVE));
	json_t *out, *v, *retain;
	const char *key;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	if (d && strcmp(d, "replace") && strcmp(d, "merge") &&
	    strcmp(d, "delete")) {
		buf_seterr(err, "Unknown patch type: %s", d);
		return NULL;
	}
	if (d && !strcmp(d, "replace"))
		return without_directives(patch);
	out = json_is_object(orig) ? json_deep_copy(orig) : json_object();
	json_object_foreach((json_t *)patch, key, v) {
		const struct smp_field *fd;
		json_t *merged;

		if (key[0] == '$')
			continue;
		if (json_is_null(v)) {
			json_object_del(out, key);
			continue;
		}
		fd = merge_field(type, key);
		if (json_is_object(v)) {
			const char *vd = json_string_value(
				json_object_get(v, DIRECTIVE));

			if (vd && !strcmp(vd, "delete")) {
				json_object_del(out, key);
				continue;
			}
			merged = smp_map(json_object_get(out, key), v,
					 SMP_OTHER, err);
		} else if (json_is_array(v) && fd) {
			merged = smp_keyed_list(json_object_get(out, key), v, fd,
						err);
		} else {
			merged = json_deep_copy(v);
		}
		if (!merged) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, key, merged);
	}
	json_object_foreach((json_t *)patch, key, v)
		if (!strncmp(key, DELETE_PRIMITIVE, strlen(DELETE_PRIMITIVE)))
			delete_primitives(out, key + strlen(DELETE_PRIMITIVE), v);
	retain = json_object_get(patch, RETAIN_KEYS);
	if (json_is_array(retain)) {
		const char *k;
		void *tmp;

		json_object_foreach_safe(out, tmp, k, v) {
			json_t *r;
			size_t i;
			int keep = 0;

			json_array_foreach(retain, i, r)
				if (json_is_string(r) &&
				    !strcmp(json_string_value(r), k))
					keep = 1;
			if (!keep)
				json_object_del(out, k);
		}
	}
	return out;
}

int k8s_strategic_merge_pod_spec(json_t **spec, const json_t *patch,
				 struct buf *err)
{
	json_t *out;

	if (!json_is_object(patch)) {
		buf_seterr(err, "a strategic merge patch is a map");
		return CR_ERR_CONFIG;
	}
	out = smp_map(*spec, patch, SMP_POD_SPEC, err);
	if (!out)
		return CR_ERR_CONFIG;
	json_decref(*spec);
	*spec = out;
	return 0;
}

/* ---- the [[runners.kubernetes.pod_spec]] entries ---- */

static int read_file(const char *path, struct buf *out, struct buf *err)
{
	FILE *fp = fopen(path, "rb");
	char chunk[4096];
	size_t n;

	if (!fp) {
		buf_seterr(err, "open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (out->len + n > PATCH_FILE_MAX) {
			fclose(fp);
			buf_seterr(err, "%s: larger than %d bytes", path,
				   PATCH_FILE_MAX);
			return -1;
		}
		(void)buf_add(out, chunk, n);
	}
	if (ferror(fp)) {
		fclose(fp);
		buf_seterr(err, "read %s: %s", path, strerror(errno));
		return -1;
	}
	fclose(fp);
	return 0;
}

/* YAML (JSON is YAML) as JSON, as sigs.k8s.io/yaml's YAMLToJSON. */
static json_t *yaml_to_json(const char *text, size_t len, struct buf *err)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET };
	struct fy_document *doc;
	json_error_t jerr;
	json_t *out = NULL;
	char *s;

	if (len == 0)
		return json_null();
	doc = fy_document_build_from_string(&cfg, text, len);
	if (!doc) {
		buf_seterr(err, "not valid YAML");
		return NULL;
	}
	if (!fy_document_root(doc)) {
		fy_document_destroy(doc);
		return json_null();
	}
	s = fy_emit_document_to_string(doc, FYECF_MODE_JSON_ONELINE);
	fy_document_destroy(doc);
	if (s)
		out = json_loads(s, JSON_DECODE_ANY, &jerr);
	if (!out)
		buf_seterr(err, "%s", s ? jerr.text : "cannot emit it as JSON");
	free(s);
	return out;
}

static int patch_of(const struct config_kubernetes_pod_spec *ps,
		    json_t **out, struct buf *err)
{
	struct buf text = BUF_INIT, why = BUF_INIT;
	const char *name = ps->name ? ps->name : "";
	int r = 0;

	if (ps->patch_path && *ps->patch_path) {
		if (ps->patch && *ps->patch) {
			buf_seterr(err, "ambiguous patch: both patch path and patch provided (%s)",
				   name);
			return CR_ERR_CONFIG;
		}
		if (read_file(ps->patch_path, &text, &why) != 0) {
			buf_seterr(err, "loading patch file (%s): %s", name,
				   why.data);
			r = CR_ERR_CONFIG;
			goto out;
		}
	} else if (ps->patch) {
		(void)buf_addstr(&text, ps->patch);
	}
	*out = yaml_to_json(text.data ? text.data : "", text.len, &why);
	if (!*out) {
		buf_seterr(err, "converting patch to json (%s): %s", name,
			   why.data);
		r = CR_ERR_CONFIG;
	}
out:
	buf_release(&text);
	buf_release(&why);
	return r;
}

int k8s_pod_spec_patches(const struct config_kubernetes *kc, json_t *pod,
			 struct buf *err)
{
	json_t *spec = json_incref(json_object_get(pod, "spec"));
	size_t i;
	int r = 0;

	for (i = 0; i < kc->nr_pod_specs && r == 0; i++) {
		const struct config_kubernetes_pod_spec *ps = &kc->pod_specs[i];
		const char *type = ps->patch_type && *ps->patch_type ?
			ps->patch_type : "strategic";
		struct buf why = BUF_INIT;
		json_t *patch = NULL;

		if ((r = patch_of(ps, &patch, err)) != 0)
			break;
		if (!strcmp(type, "json")) {
			r = k8s_json_patch(&spec, patch, &why);
		} else if (!strcmp(type, "merge")) {
			json_t *merged = k8s_merge_patch(spec, patch);

			json_decref(spec);
			spec = merged;
		} else if (!strcmp(type, "strategic")) {
			r = k8s_strategic_merge_pod_spec(&spec, patch, &why);
		} else {
			buf_seterr(&why, "unsupported patch type %s", type);
			r = CR_ERR_CONFIG;
		}
		if (r != 0)
			buf_seterr(err, "applying pod_spec \"%s\" (patch_type %s): %s",
				   ps->name ? ps->name : "", type, why.data);
		json_decref(patch);
		buf_release(&why);
	}
	if (r == 0 && !json_is_object(spec)) {
		buf_seterr(err, "the pod_spec patches do not leave a PodSpec (a JSON object)");
		r = CR_ERR_CONFIG;
	}
	if (r == 0)
		json_object_set(pod, "spec", spec);
	json_decref(spec);
	return r;
}
