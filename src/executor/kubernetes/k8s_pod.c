/*
 * The job's Pod object, field by field as gitlab-runner builds it.
 */
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_pod.h"
#include "executor/kubernetes/k8s_pod_int.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/random.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define NAME_MAX_LEN 63
#define SUFFIX_LEN 8

void k8s_sanitize_label(struct buf *out, const char *s)
{
	struct buf b = BUF_INIT;
	size_t start = 0, end;

	for (; *s; s++) {
		char c = *s;

		(void)buf_addch(&b, (c >= 'a' && c <= 'z') ||
				(c >= 'A' && c <= 'Z') ||
				(c >= '0' && c <= '9') || c == '-' ||
				c == '_' || c == '.' ? c : '_');
	}
	end = b.len;
	while (start < end && strchr("-_.", b.data[start]))
		start++;
	while (end > start && strchr("-_.", b.data[end - 1]))
		end--;
	if (end - start > NAME_MAX_LEN)
		end = start + NAME_MAX_LEN;
	while (end > start && strchr("-_.", b.data[end - 1]))
		end--;
	(void)buf_add(out, b.data + start, end - start);
	buf_release(&b);
}

void k8s_resource_name(struct buf *out, const char *pattern,
		       const char suffix[8])
{
	size_t n = strlen(pattern);

	if (n > NAME_MAX_LEN - SUFFIX_LEN - 1)
		n = NAME_MAX_LEN - SUFFIX_LEN - 1;
	(void)buf_add(out, pattern, n);
	(void)buf_addch(out, '-');
	(void)buf_add(out, suffix, SUFFIX_LEN);
}

void k8s_random_suffix(char out[9])
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	int i;

	for (i = 0; i < SUFFIX_LEN; i++)
		out[i] = chars[random_u32() % (sizeof(chars) - 1)];
	out[SUFFIX_LEN] = '\0';
}

const char *k8s_pull_policy(const char *name)
{
	if (!name)
		return NULL;
	if (!strcmp(name, "always"))
		return "Always";
	if (!strcmp(name, "never"))
		return "Never";
	if (!strcmp(name, "if-not-present"))
		return "IfNotPresent";
	return NULL;
}

/* A Kubernetes quantity ("500m", "1.5", "2Gi", "1e3") as a number. */
int k8s_quantity_parse(const char *s, double *out)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "Ki", 1024.0 }, { "Mi", 1048576.0 },
		{ "Gi", 1073741824.0 }, { "Ti", 1099511627776.0 },
		{ "Pi", 1125899906842624.0 }, { "Ei", 1152921504606846976.0 },
		{ "n", 1e-9 }, { "u", 1e-6 }, { "m", 1e-3 }, { "k", 1e3 },
		{ "M", 1e6 }, { "G", 1e9 }, { "T", 1e12 }, { "P", 1e15 },
		{ "E", 1e18 }, { "", 1.0 },
	};
	char *end;
	double v;
	size_t i;

	if (!s || !*s || strpbrk(s, "xXnN") == s)
		return CR_ERR_INVALID;
	v = strtod(s, &end);
	if (end == s || v < 0)
		return CR_ERR_INVALID;
	for (i = 0; i < sizeof(units) / sizeof(*units); i++)
		if (!strcmp(end, units[i].sfx)) {
			*out = v * units[i].mul;
			return 0;
		}
	return CR_ERR_INVALID;
}

json_t *k8s_json_strings(const struct strvec *sv)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; sv && i < sv->nr; i++)
		json_array_append_new(a, json_string(sv->v[i]));
	return a;
}

static json_t *env_array(const struct strvec *env)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; env && i < env->nr; i++) {
		const char *eq = strchr(env->v[i], '=');
		json_t *e = json_object();

		if (!eq)
			continue;
		json_object_set_new(e, "name", json_stringn(env->v[i],
			(size_t)(eq - env->v[i])));
		json_object_set_new(e, "value", json_string(eq + 1));
		json_array_append_new(a, e);
	}
	return a;
}

static void set_label(json_t *obj, const char *key, const char *value)
{
	struct buf v = BUF_INIT;

	k8s_sanitize_label(&v, value ? value : "");
	json_object_set_new(obj, key, json_string(v.data));
	buf_release(&v);
}

static const char *var(const struct k8s_pod_input *in, const char *key)
{
	const char *v = in->vars ? variables_get(in->vars, key) : NULL;

	return v ? v : "";
}

static char *expand(const struct k8s_pod_input *in, const char *s)
{
	return in->vars ? variables_expand(in->vars, s) : strdup(s);
}

/* Whether key is in the runner.gitlab.com namespace (not overwritable). */
static int runner_namespace_key(const char *key)
{
	const char *p = key;
	size_t n = strlen(K8S_LABEL_NS);

	for (;;) {
		if (!strncasecmp(p, K8S_LABEL_NS, n) &&
		    (p[n] == '\0' || p[n] == '/'))
			return 1;
		p = strchr(p, '.');
		if (!p)
			return 0;
		p++;
	}
}

static json_t *labels(const struct k8s_pod_input *in)
{
	json_t *l = json_object();
	char num[32];
	size_t i;

	set_label(l, "pod", in->unique);
	snprintf(num, sizeof(num), "%lld", (long long)in->project_id);
	set_label(l, "project." K8S_LABEL_NS "/id", num);
	set_label(l, "project." K8S_LABEL_NS "/namespace-id",
		  var(in, "CI_PROJECT_NAMESPACE_ID"));
	set_label(l, "project." K8S_LABEL_NS "/name", in->project_name);
	set_label(l, "project." K8S_LABEL_NS "/namespace",
		  var(in, "CI_PROJECT_NAMESPACE"));
	set_label(l, "project." K8S_LABEL_NS "/root-namespace",
		  var(in, "CI_PROJECT_ROOT_NAMESPACE"));
	snprintf(num, sizeof(num), "%lld", (long long)in->root_namespace_id);
	set_label(l, "project." K8S_LABEL_NS "/root-namespace-id", num);
	set_label(l, "job." K8S_LABEL_NS "/pod", in->unique);
	set_label(l, "manager." K8S_LABEL_NS "/name", in->runner_name);
	set_label(l, "manager." K8S_LABEL_NS "/id-short", in->short_desc);
	if (in->system_id && *in->system_id)
		set_label(l, K8S_SYSTEM_ID_LABEL, in->system_id);
	for (i = 0; i < in->kc->pod_labels.nr; i++) {
		const struct config_kv *kv = &in->kc->pod_labels.items[i];
		char *v;

		if (runner_namespace_key(kv->key))
			continue;
		v = expand(in, kv->value ? kv->value : "");
		set_label(l, kv->key, v);
		free(v);
	}
	for (i = 0; in->label_overwrites && i < in->label_overwrites->nr; i++) {
		const char *kv = in->label_overwrites->v[i];
		const char *eq = strchr(kv, '=');
		char *key, *v;

		if (!eq)
			continue;
		key = strndup(kv, (size_t)(eq - kv));
		if (key && !runner_namespace_key(key)) {
			v = expand(in, eq + 1);
			set_label(l, key, v);
			free(v);
		}
		free(key);
	}
	return l;
}

static json_t *annotations(const struct k8s_pod_input *in)
{
	json_t *a = json_object();
	char num[32];
	size_t i;

	snprintf(num, sizeof(num), "%lld", (long long)in->job_id);
	json_object_set_new(a, "job." K8S_LABEL_NS "/id", json_string(num));
	json_object_set_new(a, "job." K8S_LABEL_NS "/url",
			    json_string(in->job_url ? in->job_url : ""));
	json_object_set_new(a, "job." K8S_LABEL_NS "/sha",
			    json_string(in->sha ? in->sha : ""));
	json_object_set_new(a, "job." K8S_LABEL_NS "/before_sha",
			    json_string(in->before_sha ? in->before_sha : ""));
	json_object_set_new(a, "job." K8S_LABEL_NS "/ref",
			    json_string(in->ref ? in->ref : ""));
	json_object_set_new(a, "job." K8S_LABEL_NS "/name",
			    json_string(in->job_name ? in->job_name : ""));
	json_object_set_new(a, "job." K8S_LABEL_NS "/timeout",
			    json_string(in->timeout ? in->timeout : ""));
	snprintf(num, sizeof(num), "%lld", (long long)in->project_id);
	json_object_set_new(a, "project." K8S_LABEL_NS "/id",
			    json_string(num));
	for (i = 0; i < in->kc->pod_annotations.nr; i++) {
		const struct config_kv *kv = &in->kc->pod_annotations.items[i];
		char *v = expand(in, kv->value ? kv->value : "");

		json_object_set_new(a, kv->key, json_string(v));
		free(v);
	}
	for (i = 0; in->annotation_overwrites &&
	     i < in->annotation_overwrites->nr; i++) {
		const char *kv = in->annotation_overwrites->v[i];
		const char *eq = strchr(kv, '=');
		char *key, *v;

		if (!eq)
			continue;
		key = strndup(kv, (size_t)(eq - kv));
		v = expand(in, eq + 1);
		if (key)
			json_object_set_new(a, key, json_string(v));
		free(key);
		free(v);
	}
	return a;
}

/* The variable names of one owner's resource overwrites. */
static const char *overwrite_var(int owner, int kind, int bound)
{
	static const char *const names[K8S_RES_OWNERS][K8S_RES_KINDS]
		[K8S_RES_BOUNDS] = {
		{ { "KUBERNETES_CPU_LIMIT", "KUBERNETES_CPU_REQUEST" },
		  { "KUBERNETES_MEMORY_LIMIT", "KUBERNETES_MEMORY_REQUEST" },
		  { "KUBERNETES_EPHEMERAL_STORAGE_LIMIT",
		    "KUBERNETES_EPHEMERAL_STORAGE_REQUEST" } },
		{ { "KUBERNETES_SERVICE_CPU_LIMIT",
		    "KUBERNETES_SERVICE_CPU_REQUEST" },
		  { "KUBERNETES_SERVICE_MEMORY_LIMIT",
		    "KUBERNETES_SERVICE_MEMORY_REQUEST" },
		  { "KUBERNETES_SERVICE_EPHEMERAL_STORAGE_LIMIT",
		    "KUBERNETES_SERVICE_EPHEMERAL_STORAGE_REQUEST" } },
		{ { "KUBERNETES_HELPER_CPU_LIMIT",
		    "KUBERNETES_HELPER_CPU_REQUEST" },
		  { "KUBERNETES_HELPER_MEMORY_LIMIT",
		    "KUBERNETES_HELPER_MEMORY_REQUEST" },
		  { "KUBERNETES_HELPER_EPHEMERAL_STORAGE_LIMIT",
		    "KUBERNETES_HELPER_EPHEMERAL_STORAGE_REQUEST" } },
	};

	return names[owner][kind][bound];
}

static const char *const kind_names[K8S_RES_KINDS] = {
	"cpu", "memory", "ephemeral-storage"
};

/*
 * One quantity: config.toml's r->value, replaced by the job's variable
 * var where r->max is set and the value is not over it (gitlab-runner's
 * overwrites.go).  Returns 0 with *out (NULL: none), or CR_ERR_CONFIG.
 */
static int resource_quantity(const struct k8s_pod_input *in,
			     const struct config_kubernetes_resource *r,
			     const char *var, int kind, int bound,
			     const char **out, struct buf *err)
{
	const char *v = r->value;
	const char *ow = in->vars ? variables_get(in->vars, var) : NULL;
	double q, max;

	*out = NULL;
	if (ow && *ow && r->max && *r->max) {
		if (k8s_quantity_parse(ow, &q) != 0) {
			buf_seterr(err, "invalid %s: '%s' is not a Kubernetes quantity",
				   var, ow);
			return CR_ERR_CONFIG;
		}
		if (k8s_quantity_parse(r->max, &max) != 0) {
			buf_seterr(err, "invalid %s_overwrite_max_allowed in config.toml: %s",
				   kind_names[kind], r->max);
			return CR_ERR_CONFIG;
		}
		if (q > max) {
			buf_seterr(err, "the resource \"%s\" requested \"%s\" is higher than limit allowed \"%s\"",
				   kind_names[kind], ow, r->max);
			return CR_ERR_CONFIG;
		}
		v = ow;
	}
	if (!v || !*v)
		return 0;
	if (k8s_quantity_parse(v, &q) != 0) {
		buf_seterr(err, "invalid %s %s: '%s' is not a Kubernetes quantity",
			   kind_names[kind], bound == K8S_RES_LIMIT ?
			   "limit" : "request", v);
		return CR_ERR_CONFIG;
	}
	*out = v;
	return 0;
}

/* One container's resources (resource_quantity() for each). */
static int resources(const struct k8s_pod_input *in, int owner, json_t **out,
		     struct buf *err)
{
	json_t *res = json_object();
	int kind, bound;

	for (bound = 0; bound < K8S_RES_BOUNDS; bound++) {
		json_t *list = json_object();

		for (kind = 0; kind < K8S_RES_KINDS; kind++) {
			const char *v;

			if (resource_quantity(in, &in->kc->res[owner][kind][bound],
					      overwrite_var(owner, kind, bound),
					      kind, bound, &v, err) != 0) {
				json_decref(list);
				json_decref(res);
				return CR_ERR_CONFIG;
			}
			if (v)
				json_object_set_new(list, kind_names[kind],
						    json_string(v));
		}
		if (json_object_size(list))
			json_object_set(res, bound == K8S_RES_LIMIT ?
					"limits" : "requests", list);
		json_decref(list);
	}
	*out = res;
	return 0;
}

/*
 * The pod-level resources (pod_cpu_limit, ...; KUBERNETES_POD_* within
 * their *_overwrite_max_allowed), or NULL in *out when none are set.
 */
static int pod_resources(const struct k8s_pod_input *in, json_t **out,
			 struct buf *err)
{
	static const char *const vars[K8S_RES_POD_KINDS][K8S_RES_BOUNDS] = {
		{ "KUBERNETES_POD_CPU_LIMIT", "KUBERNETES_POD_CPU_REQUEST" },
		{ "KUBERNETES_POD_MEMORY_LIMIT",
		  "KUBERNETES_POD_MEMORY_REQUEST" },
	};
	json_t *res = json_object();
	int kind, bound;

	*out = NULL;
	for (bound = 0; bound < K8S_RES_BOUNDS; bound++) {
		json_t *list = json_object();

		for (kind = 0; kind < K8S_RES_POD_KINDS; kind++) {
			struct buf why = BUF_INIT;
			const char *v;

			if (resource_quantity(in, &in->kc->pod_res[kind][bound],
					      vars[kind][bound], kind, bound,
					      &v, &why) != 0) {
				buf_seterr(err, "invalid Pod %s specified: %s",
					   bound == K8S_RES_LIMIT ? "limits" :
					   "requests", why.data);
				buf_release(&why);
				json_decref(list);
				json_decref(res);
				return CR_ERR_CONFIG;
			}
			if (v)
				json_object_set_new(list, kind_names[kind],
						    json_string(v));
		}
		if (json_object_size(list))
			json_object_set(res, bound == K8S_RES_LIMIT ?
					"limits" : "requests", list);
		json_decref(list);
	}
	if (json_object_size(res))
		*out = res;
	else
		json_decref(res);
	return 0;
}

static json_t *mounts(const struct k8s_pod_input *in)
{
	json_t *m = json_array();

	json_array_append_new(m, json_pack("{s:s,s:s}", "name", "scripts",
					   "mountPath", in->scripts_dir));
	if (in->logs_dir)
		json_array_append_new(m, json_pack("{s:s,s:s}", "name", "logs",
						   "mountPath", in->logs_dir));
	k8s_config_volume_mounts(in, m);
	if (!k8s_builds_dir_from_config(in))
		json_array_append_new(m, json_pack("{s:s,s:s}", "name", "repo",
						   "mountPath", in->builds_dir));
	return m;
}

static json_t *ports(const struct job_port *p, size_t nr)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < nr; i++)
		json_array_append_new(a, json_pack("{s:I}", "containerPort",
						   (json_int_t)p[i].number));
	return a;
}

struct container_opts {
	const char *name, *image;
	const struct strvec *command, *args, *env;
	const struct job_port *ports;
	size_t nr_ports;
	int owner;
	enum config_k8s_sc_owner sc_owner;
	const char *user;	/* the job's "uid[:gid]", or NULL */
};

static int container(const struct k8s_pod_input *in,
		     const struct container_opts *o, json_t **out,
		     struct buf *err)
{
	json_t *c = json_object(), *res = NULL, *sc;
	struct k8s_id_log ids = { in->warnings, in->notes };
	int r;

	if ((r = resources(in, o->owner, &res, err)) != 0) {
		json_decref(c);
		return r;
	}
	json_object_set_new(c, "name", json_string(o->name));
	json_object_set_new(c, "image", json_string(o->image));
	if (in->pull_policy)
		json_object_set_new(c, "imagePullPolicy",
				    json_string(in->pull_policy));
	if (in->honor_entrypoint) {
		if (o->owner != K8S_RES_SERVICE && o->command && o->command->nr)
			json_object_set_new(c, "args",
					    k8s_json_strings(o->command));
	} else {
		if (o->command && o->command->nr)
			json_object_set_new(c, "command",
					    k8s_json_strings(o->command));
		if (o->args && o->args->nr)
			json_object_set_new(c, "args",
					    k8s_json_strings(o->args));
	}
	json_object_set_new(c, "env", env_array(o->env));
	json_object_set_new(c, "resources", res);
	if (o->nr_ports)
		json_object_set_new(c, "ports", ports(o->ports, o->nr_ports));
	json_object_set_new(c, "volumeMounts", mounts(in));
	sc = k8s_container_security(in->kc, o->sc_owner);
	k8s_container_job_ids(sc, in->kc, o->sc_owner, o->user, o->name, &ids);
	json_object_set_new(c, "securityContext", sc);
	json_object_set_new(c, "stdin", json_true());
	*out = c;
	return 0;
}

/* One toleration as getPodTolerations makes it from "key[=value]", effect. */
static json_t *toleration(const char *keyvalue, const char *effect)
{
	const char *eq = strchr(keyvalue, '=');
	json_t *t = json_object();

	if (eq) {
		json_object_set_new(t, "key", json_stringn(keyvalue,
			(size_t)(eq - keyvalue)));
		json_object_set_new(t, "operator", json_string("Equal"));
		json_object_set_new(t, "value", json_string(eq + 1));
	} else {
		json_object_set_new(t, "key", json_string(keyvalue));
		json_object_set_new(t, "operator", json_string("Exists"));
	}
	if (effect && *effect)
		json_object_set_new(t, "effect", json_string(effect));
	return t;
}

/*
 * config.toml's node_tolerations with the job's overwrites: one with the
 * key[=value] of a configured one takes its place (gitlab-runner keeps
 * them in one map), the others come after.
 */
static json_t *tolerations(const struct k8s_pod_input *in)
{
	const struct config_kubernetes *kc = in->kc;
	const struct strvec *ov = in->toleration_overwrites;
	size_t nr_ov = ov ? ov->nr / 2 : 0, i, j;
	json_t *a = json_array();

	for (i = 0; i < kc->node_tolerations.nr; i++) {
		const struct config_kv *kv = &kc->node_tolerations.items[i];
		const char *effect = kv->value;

		/* The last overwrite of this key wins, as in a Go map. */
		for (j = 0; j < nr_ov; j++)
			if (!strcmp(ov->v[2 * j], kv->key))
				effect = ov->v[2 * j + 1];
		json_array_append_new(a, toleration(kv->key, effect));
	}
	for (j = 0; j < nr_ov; j++) {
		size_t k;
		int seen = 0;

		for (i = 0; i < kc->node_tolerations.nr && !seen; i++)
			seen = !strcmp(kc->node_tolerations.items[i].key,
				       ov->v[2 * j]);
		for (k = j + 1; k < nr_ov && !seen; k++)
			seen = !strcmp(ov->v[2 * k], ov->v[2 * j]);
		if (!seen)
			json_array_append_new(a, toleration(ov->v[2 * j],
							    ov->v[2 * j + 1]));
	}
	return a;
}

static json_t *volumes(const struct k8s_pod_input *in)
{
	json_t *v = json_array();

	k8s_config_volumes(in, v);
	if (!k8s_builds_dir_from_config(in))
		json_array_append_new(v, json_pack("{s:s,s:{}}", "name", "repo",
						   "emptyDir"));
	json_array_append_new(v, json_pack("{s:s,s:{}}", "name", "scripts",
					   "emptyDir"));
	if (in->logs_dir)
		json_array_append_new(v, json_pack("{s:s,s:{}}", "name", "logs",
						   "emptyDir"));
	return v;
}

static void add_spec_extras(const struct k8s_pod_input *in, json_t *spec)
{
	const struct config_kubernetes *kc = in->kc;
	json_t *extra;
	size_t i;

	if (kc->scheduler_name && *kc->scheduler_name)
		json_object_set_new(spec, "schedulerName",
				    json_string(kc->scheduler_name));
	if (in->service_account && *in->service_account)
		json_object_set_new(spec, "serviceAccountName",
				    json_string(in->service_account));
	if (kc->node_selector.nr || (in->node_selector_overwrites &&
				     in->node_selector_overwrites->nr)) {
		const struct strvec *ov = in->node_selector_overwrites;
		json_t *ns = json_object();

		for (i = 0; i < kc->node_selector.nr; i++)
			json_object_set_new(ns, kc->node_selector.items[i].key,
				json_string(kc->node_selector.items[i].value ?
					    kc->node_selector.items[i].value :
					    ""));
		for (i = 0; ov && i < ov->nr; i++) {
			const char *eq = strchr(ov->v[i], '=');
			char *key;

			if (!eq)	/* k8s_overwrites_eval refused it */
				continue;
			key = xstrndup(ov->v[i], (size_t)(eq - ov->v[i]));
			json_object_set_new(ns, key, json_string(eq + 1));
			free(key);
		}
		json_object_set_new(spec, "nodeSelector", ns);
	}
	if (kc->node_tolerations.nr || (in->toleration_overwrites &&
					 in->toleration_overwrites->nr))
		json_object_set_new(spec, "tolerations", tolerations(in));
	if (kc->pod_termination_grace_period_seconds >= 0)
		json_object_set_new(spec, "terminationGracePeriodSeconds",
			json_integer(kc->pod_termination_grace_period_seconds));
	if (in->active_deadline_seconds > 0)
		json_object_set_new(spec, "activeDeadlineSeconds",
				    json_integer(in->active_deadline_seconds));
	if ((extra = k8s_image_pull_secrets(in)))
		json_object_set_new(spec, "imagePullSecrets", extra);
	if (kc->nr_host_aliases) {
		json_t *a = json_array();

		for (i = 0; i < kc->nr_host_aliases; i++)
			json_array_append_new(a, json_pack("{s:s,s:o}", "ip",
				kc->host_aliases[i].ip ? kc->host_aliases[i].ip :
				"", "hostnames",
				k8s_json_strings(&kc->host_aliases[i].hostnames)));
		json_object_set_new(spec, "hostAliases", a);
	}
	if (kc->dns_policy && *kc->dns_policy) {
		/* config.toml spells them in kebab case: "cluster-first". */
		static const struct { const char *cfg, *api; } p[] = {
			{ "none", "None" }, { "default", "Default" },
			{ "cluster-first", "ClusterFirst" },
			{ "cluster-first-with-host-net",
			  "ClusterFirstWithHostNet" },
		};

		for (i = 0; i < sizeof(p) / sizeof(*p); i++)
			if (!strcasecmp(kc->dns_policy, p[i].cfg))
				json_object_set_new(spec, "dnsPolicy",
						    json_string(p[i].api));
	}
	if (kc->runtime_class_name && *kc->runtime_class_name)
		json_object_set_new(spec, "runtimeClassName",
				    json_string(kc->runtime_class_name));
	if (kc->priority_class_name && *kc->priority_class_name)
		json_object_set_new(spec, "priorityClassName",
				    json_string(kc->priority_class_name));
	if ((extra = k8s_pod_security(kc)))
		json_object_set_new(spec, "securityContext", extra);
	if ((extra = k8s_dns_config(kc)))
		json_object_set_new(spec, "dnsConfig", extra);
	if ((extra = k8s_affinity(kc)))
		json_object_set_new(spec, "affinity", extra);
}

/*
 * The "init-permissions" container (buildPermissionsInitContainer): with
 * the attach strategy the helper image makes the log file and opens it to
 * every container's user; with dumb-init (either strategy) it copies
 * /usr/bin/dumb-init to the scripts dir.  The helper's resources, its own
 * security context, no environment.
 */
static int init_permissions(const struct k8s_pod_input *in, json_t **out,
			    struct buf *err)
{
	struct strvec cmd = STRVEC_INIT;
	struct buf script = BUF_INIT;
	struct container_opts o;
	json_t *c = NULL;
	int r;

	if (in->logs_dir)
		(void)buf_addf(&script, "touch %s/output.log && (chmod 777 %s/output.log || exit 0)",
			       in->logs_dir, in->logs_dir);
	/* gitlab-runner joins the commands with ";\n". */
	if (in->dumb_init)
		(void)buf_addf(&script, "%scp /usr/bin/dumb-init %s",
			       script.len ? ";\n" : "", in->scripts_dir);
	strvec_push(&cmd, "sh");
	strvec_push(&cmd, "-c");
	strvec_push(&cmd, script.data);
	buf_release(&script);
	memset(&o, 0, sizeof(o));
	o.name = K8S_INIT_PERMISSIONS_CONTAINER;
	o.image = in->helper_image;
	o.command = &cmd;
	o.owner = K8S_RES_HELPER;
	o.sc_owner = K8S_SC_INIT;
	if ((r = container(in, &o, &c, err)) == 0) {
		json_object_del(c, "env");
		json_object_del(c, "stdin");
		*out = json_pack("[o]", c);
	}
	strvec_clear(&cmd);
	return r;
}

int k8s_pod_build(const struct k8s_pod_input *in, json_t **out,
		  struct buf *err)
{
	json_t *pod = json_object(), *meta = json_object();
	json_t *spec = json_object(), *containers = json_array(), *c;
	struct container_opts o;
	size_t i;
	int r;

	json_object_set_new(pod, "apiVersion", json_string("v1"));
	json_object_set_new(pod, "kind", json_string("Pod"));
	json_object_set_new(meta, "name", json_string(in->name));
	json_object_set_new(meta, "namespace", json_string(in->namespace));
	json_object_set_new(meta, "labels", labels(in));
	json_object_set_new(meta, "annotations", annotations(in));
	json_object_set_new(pod, "metadata", meta);

	memset(&o, 0, sizeof(o));
	o.name = K8S_BUILD_CONTAINER;
	o.image = in->image;
	o.command = in->build_cmd;
	o.env = in->build_env;
	o.ports = in->build_ports;
	o.nr_ports = in->nr_build_ports;
	o.owner = K8S_RES_BUILD;
	o.sc_owner = K8S_SC_BUILD;
	o.user = in->build_user;
	if ((r = container(in, &o, &c, err)) != 0)
		goto fail;
	json_array_append_new(containers, c);

	memset(&o, 0, sizeof(o));
	o.name = K8S_HELPER_CONTAINER;
	o.image = in->helper_image;
	o.command = in->helper_cmd;
	o.env = in->helper_env;
	o.owner = K8S_RES_HELPER;
	o.sc_owner = K8S_SC_HELPER;
	if ((r = container(in, &o, &c, err)) != 0)
		goto fail;
	json_array_append_new(containers, c);

	for (i = 0; i < in->nr_services; i++) {
		const struct k8s_service_spec *s = &in->services[i];

		memset(&o, 0, sizeof(o));
		o.name = s->container;
		o.image = s->image;
		/* getCommandAndArgs: the entrypoint as command, command as args. */
		o.command = s->entrypoint;
		o.args = s->command;
		o.env = &s->env;
		o.ports = s->ports;
		o.nr_ports = s->nr_ports;
		o.owner = K8S_RES_SERVICE;
		o.sc_owner = K8S_SC_SERVICE;
		o.user = s->user;
		if ((r = container(in, &o, &c, err)) != 0)
			goto fail;
		json_array_append_new(containers, c);
	}
	if (in->logs_dir || in->dumb_init) {
		if ((r = init_permissions(in, &c, err)) != 0)
			goto fail;
		json_object_set_new(spec, "initContainers", c);
	}
	json_object_set_new(spec, "volumes", volumes(in));
	json_object_set_new(spec, "restartPolicy", json_string("Never"));
	json_object_set_new(spec, "containers", containers);
	add_spec_extras(in, spec);
	if ((r = pod_resources(in, &c, err)) != 0)
		goto fail;
	if (c)
		json_object_set_new(spec, "resources", c);
	if (in->kc->automount_service_account_token != CONFIG_UNSET)
		json_object_set_new(spec, "automountServiceAccountToken",
			json_boolean(in->kc->automount_service_account_token ==
				     CONFIG_TRUE));
	json_object_set_new(pod, "spec", spec);
	*out = pod;
	return 0;
fail:
	json_decref(containers);
	json_decref(spec);
	json_decref(pod);
	return r;
}
