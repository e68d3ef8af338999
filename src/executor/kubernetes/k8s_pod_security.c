/*
 * Security contexts and the DNS config of the job's pod, as gitlab-runner
 * builds them (common/config.go: GetContainerSecurityContext,
 * GetPodSecurityContext, GetDNSConfig; executors/kubernetes/kubernetes.go:
 * defaultCapDrop, getSecurityContextWithUIDGID).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "executor/kubernetes/k8s_pod_int.h"
#include "util/banned.h"

/* Linux containers drop NET_RAW unless cap_add asks for it. */
static const char *const default_cap_drop[] = { "NET_RAW" };

/*
 * [runners.kubernetes] cap_add and cap_drop over the default drop
 * (getCapabilities): a capability's last mention decides, cap_drop after
 * cap_add.  Fills add and drop (each capability once).
 */
static void runner_capabilities(const struct config_kubernetes *kc,
				struct strvec *add, struct strvec *drop)
{
	struct strvec order = STRVEC_INIT;
	size_t i, j, n = sizeof(default_cap_drop) / sizeof(*default_cap_drop);

	for (i = 0; i < n; i++)
		strvec_push(&order, default_cap_drop[i]);
	for (i = 0; i < kc->cap_add.nr; i++)
		strvec_push(&order, kc->cap_add.v[i]);
	for (i = 0; i < kc->cap_drop.nr; i++)
		strvec_push(&order, kc->cap_drop.v[i]);
	for (i = 0; i < order.nr; i++) {
		int first = 1, on = 0;

		for (j = 0; j < i; j++)
			if (!strcmp(order.v[j], order.v[i]))
				first = 0;
		if (!first)
			continue;
		/* Its last mention wins. */
		for (j = 0; j < order.nr; j++)
			if (!strcmp(order.v[j], order.v[i]))
				on = j >= n && j < n + kc->cap_add.nr;
		strvec_push(on ? add : drop, order.v[i]);
	}
	strvec_clear(&order);
}

/*
 * mergeCapabilitiesAddDrop: the container table's add or drop, where
 * given, replaces the runner's.
 */
static json_t *capabilities(const struct config_kubernetes *kc,
			    const struct config_kubernetes_container_security *c)
{
	struct strvec add = STRVEC_INIT, drop = STRVEC_INIT;
	const struct strvec *a = &add, *d = &drop;
	json_t *caps = NULL;

	runner_capabilities(kc, &add, &drop);
	if (c->capabilities.add.nr)
		a = &c->capabilities.add;
	if (c->capabilities.drop.nr)
		d = &c->capabilities.drop;
	if (a->nr || d->nr) {
		caps = json_object();
		if (a->nr)
			json_object_set_new(caps, "add", k8s_json_strings(a));
		if (d->nr)
			json_object_set_new(caps, "drop", k8s_json_strings(d));
	}
	strvec_clear(&add);
	strvec_clear(&drop);
	return caps;
}

/* seccompProfile/appArmorProfile; NULL for an unset or invalid one. */
static json_t *profile(const struct config_kubernetes_profile *p)
{
	static const char *const types[] = {
		"RuntimeDefault", "Unconfined", "Localhost"
	};
	size_t i;

	if (!p->type || !*p->type)
		return NULL;
	for (i = 0; i < sizeof(types) / sizeof(*types); i++)
		if (!strcmp(p->type, types[i]))
			break;
	if (i == sizeof(types) / sizeof(*types))
		return NULL;
	if (strcmp(p->type, "Localhost"))
		return json_pack("{s:s}", "type", p->type);
	if (!p->localhost_profile || !*p->localhost_profile)
		return NULL;
	return json_pack("{s:s,s:s}", "type", p->type, "localhostProfile",
			 p->localhost_profile);
}

static void set_tribool(json_t *o, const char *key, enum config_tribool v)
{
	if (v != CONFIG_UNSET)
		json_object_set_new(o, key, json_boolean(v == CONFIG_TRUE));
}

static void set_id(json_t *o, const char *key, int64_t v)
{
	if (v >= 0)
		json_object_set_new(o, key, json_integer((json_int_t)v));
}

static void set_new(json_t *o, const char *key, json_t *v)
{
	if (v)
		json_object_set_new(o, key, v);
}

static void set_selinux(json_t *o, const char *type)
{
	if (type && *type)
		json_object_set_new(o, "seLinuxOptions",
				    json_pack("{s:s}", "type", type));
}

/* "default" or "unmasked" in any case, trimmed; NULL for anything else. */
static const char *proc_mount(const char *s)
{
	size_t n;

	if (!s)
		return NULL;
	s += strspn(s, " \t");
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n == 7 && !strncasecmp(s, "default", n))
		return "Default";
	if (n == 8 && !strncasecmp(s, "unmasked", n))
		return "Unmasked";
	return NULL;
}

json_t *k8s_container_security(const struct config_kubernetes *kc,
			       enum config_k8s_sc_owner owner)
{
	const struct config_kubernetes_container_security *c = &kc->sc[owner];
	const struct config_kubernetes_pod_security *p = &kc->pod_security;
	json_t *sc = json_object();
	const char *pm;

	set_new(sc, "capabilities", capabilities(kc, c));
	if (c->privileged != CONFIG_UNSET)
		set_tribool(sc, "privileged", c->privileged);
	else if (kc->privileged)
		json_object_set_new(sc, "privileged", json_true());
	set_tribool(sc, "allowPrivilegeEscalation",
		    c->allow_privilege_escalation != CONFIG_UNSET ?
		    c->allow_privilege_escalation :
		    kc->allow_privilege_escalation);
	/* Not the init container: the pod's IDs where the container has none. */
	set_id(sc, "runAsGroup", c->run_as_group >= 0 || owner == K8S_SC_INIT ?
	       c->run_as_group : p->run_as_group);
	set_tribool(sc, "runAsNonRoot", c->run_as_non_root);
	set_id(sc, "runAsUser", c->run_as_user >= 0 || owner == K8S_SC_INIT ?
	       c->run_as_user : p->run_as_user);
	set_tribool(sc, "readOnlyRootFilesystem", c->read_only_root_filesystem);
	if ((pm = proc_mount(c->proc_mount)))
		json_object_set_new(sc, "procMount", json_string(pm));
	set_selinux(sc, c->selinux_type);
	set_new(sc, "seccompProfile", profile(&c->seccomp_profile));
	set_new(sc, "appArmorProfile", profile(&c->app_armor_profile));
	return sc;
}

json_t *k8s_pod_security(const struct config_kubernetes *kc)
{
	const struct config_kubernetes_pod_security *p = &kc->pod_security;
	json_t *sc, *groups = p->supplemental_groups ?
		json_loads(p->supplemental_groups, JSON_DECODE_ANY, NULL) :
		NULL;

	if (!json_array_size(groups)) {
		json_decref(groups);
		groups = NULL;
	}
	if (p->fs_group < 0 && p->run_as_group < 0 && p->run_as_user < 0 &&
	    p->run_as_non_root == CONFIG_UNSET && !groups &&
	    !(p->selinux_type && *p->selinux_type) &&
	    !(p->seccomp_profile.type && *p->seccomp_profile.type) &&
	    !(p->app_armor_profile.type && *p->app_armor_profile.type))
		return NULL;
	sc = json_object();
	set_id(sc, "fsGroup", p->fs_group);
	set_id(sc, "runAsGroup", p->run_as_group);
	set_tribool(sc, "runAsNonRoot", p->run_as_non_root);
	set_id(sc, "runAsUser", p->run_as_user);
	if (groups)
		json_object_set_new(sc, "supplementalGroups", groups);
	set_selinux(sc, p->selinux_type);
	set_new(sc, "seccompProfile", profile(&p->seccomp_profile));
	set_new(sc, "appArmorProfile", profile(&p->app_armor_profile));
	return sc;
}

json_t *k8s_dns_config(const struct config_kubernetes *kc)
{
	const struct config_kubernetes_dns_config *d = &kc->dns_config;
	json_t *dc;
	size_t i;

	if (!d->nameservers.nr && !d->searches.nr && !d->nr_options)
		return NULL;
	dc = json_object();
	if (d->nameservers.nr)
		json_object_set_new(dc, "nameservers", k8s_json_strings(&d->nameservers));
	if (d->searches.nr)
		json_object_set_new(dc, "searches", k8s_json_strings(&d->searches));
	if (d->nr_options) {
		json_t *a = json_array();

		for (i = 0; i < d->nr_options; i++) {
			json_t *o = json_pack("{s:s}", "name",
					      d->options[i].name ?
					      d->options[i].name : "");

			if (d->options[i].value)
				json_object_set_new(o, "value",
					json_string(d->options[i].value));
			json_array_append_new(a, o);
		}
		json_object_set_new(dc, "options", a);
	}
	return dc;
}
