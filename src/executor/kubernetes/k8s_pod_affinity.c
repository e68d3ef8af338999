/*
 * [runners.kubernetes.affinity] as the pod's affinity, field by field as
 * gitlab-runner's GetAffinity (common/config.go) converts it.
 */
#include "executor/kubernetes/k8s_pod_int.h"
#include "util/banned.h"

static void set_strings(json_t *o, const char *key, const struct strvec *sv)
{
	if (sv->nr)
		json_object_set_new(o, key, k8s_json_strings(sv));
}

/* NodeSelectorRequirement and LabelSelectorRequirement alike. */
static json_t *requirements(const struct config_k8s_selector_req *r, size_t nr)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < nr; i++) {
		json_t *o = json_pack("{s:s,s:s}", "key",
				      r[i].key ? r[i].key : "", "operator",
				      r[i].operator ? r[i].operator : "");

		set_strings(o, "values", &r[i].values);
		json_array_append_new(a, o);
	}
	return a;
}

static json_t *node_term(const struct config_k8s_node_selector_term *t)
{
	json_t *o = json_object();

	if (t->nr_match_expressions)
		json_object_set_new(o, "matchExpressions",
			requirements(t->match_expressions,
				     t->nr_match_expressions));
	if (t->nr_match_fields)
		json_object_set_new(o, "matchFields",
			requirements(t->match_fields, t->nr_match_fields));
	return o;
}

static json_t *node_affinity(const struct config_k8s_node_affinity *n)
{
	json_t *o = json_object();
	size_t i;

	if (n->required.present) {
		json_t *terms = json_array();

		for (i = 0; i < n->required.nr_terms; i++)
			json_array_append_new(terms,
					      node_term(&n->required.terms[i]));
		json_object_set_new(o, "requiredDuringSchedulingIgnoredDuringExecution",
				    json_pack("{s:o}", "nodeSelectorTerms", terms));
	}
	if (n->nr_preferred) {
		json_t *a = json_array();

		for (i = 0; i < n->nr_preferred; i++)
			json_array_append_new(a, json_pack("{s:i,s:o}",
				"weight", n->preferred[i].weight, "preference",
				node_term(&n->preferred[i].preference)));
		json_object_set_new(o, "preferredDuringSchedulingIgnoredDuringExecution",
				    a);
	}
	return o;
}

static json_t *label_selector(const struct config_k8s_label_selector *s)
{
	json_t *o = json_object();
	size_t i;

	if (s->match_labels.nr) {
		json_t *m = json_object();

		for (i = 0; i < s->match_labels.nr; i++)
			json_object_set_new(m, s->match_labels.items[i].key,
				json_string(s->match_labels.items[i].value ?
					    s->match_labels.items[i].value :
					    ""));
		json_object_set_new(o, "matchLabels", m);
	}
	if (s->nr_match_expressions)
		json_object_set_new(o, "matchExpressions",
			requirements(s->match_expressions,
				     s->nr_match_expressions));
	return o;
}

static json_t *pod_term(const struct config_k8s_pod_affinity_term *t)
{
	json_t *o = json_object();

	if (t->label_selector.present)
		json_object_set_new(o, "labelSelector",
				    label_selector(&t->label_selector));
	set_strings(o, "namespaces", &t->namespaces);
	json_object_set_new(o, "topologyKey",
			    json_string(t->topology_key ? t->topology_key : ""));
	if (t->namespace_selector.present)
		json_object_set_new(o, "namespaceSelector",
				    label_selector(&t->namespace_selector));
	set_strings(o, "matchLabelKeys", &t->match_label_keys);
	set_strings(o, "mismatchLabelKeys", &t->mismatch_label_keys);
	return o;
}

static json_t *pod_affinity(const struct config_k8s_pod_affinity *p)
{
	json_t *o = json_object();
	size_t i;

	if (p->nr_required) {
		json_t *a = json_array();

		for (i = 0; i < p->nr_required; i++)
			json_array_append_new(a, pod_term(&p->required[i]));
		json_object_set_new(o, "requiredDuringSchedulingIgnoredDuringExecution",
				    a);
	}
	if (p->nr_preferred) {
		json_t *a = json_array();

		for (i = 0; i < p->nr_preferred; i++)
			json_array_append_new(a, json_pack("{s:i,s:o}",
				"weight", p->preferred[i].weight,
				"podAffinityTerm",
				pod_term(&p->preferred[i].term)));
		json_object_set_new(o, "preferredDuringSchedulingIgnoredDuringExecution",
				    a);
	}
	return o;
}

json_t *k8s_affinity(const struct config_kubernetes *kc)
{
	const struct config_k8s_affinity *a = &kc->affinity;
	json_t *o;

	if (!a->node.present && !a->pod.present && !a->pod_anti.present)
		return NULL;
	o = json_object();
	if (a->node.present)
		json_object_set_new(o, "nodeAffinity", node_affinity(&a->node));
	if (a->pod.present)
		json_object_set_new(o, "podAffinity", pod_affinity(&a->pod));
	if (a->pod_anti.present)
		json_object_set_new(o, "podAntiAffinity",
				    pod_affinity(&a->pod_anti));
	return o;
}
