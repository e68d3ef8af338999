/*
 * The job's overwrites of namespace, service account, bearer token, pod
 * labels and annotations, node selector and tolerations, each allowed by a regular expression in
 * config.toml (unanchored, as Go's MatchString).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_overwrites.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Whether value matches regex (anywhere in it); CR_ERR_CONFIG if not. */
static int regex_check(const char *regex, const char *value, struct buf *err)
{
	pcre2_code *re;
	pcre2_match_data *md;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code, rc;

	re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, PCRE2_UTF,
			   &code, &off, NULL);
	if (!re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		buf_seterr(err, "error parsing regexp \"%s\": %s", regex,
			   (const char *)msg);
		return CR_ERR_CONFIG;
	}
	md = pcre2_match_data_create_from_pattern(re, NULL);
	rc = pcre2_match(re, (PCRE2_SPTR)value, strlen(value), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	if (rc < 0) {
		buf_seterr(err, "provided value \"%s\" does not match \"%s\"",
			   value, regex);
		return CR_ERR_CONFIG;
	}
	return 0;
}

/* The job's value of key with its variables expanded; NULL when unset or "". */
static char *job_value(const struct variables *vars, const char *key)
{
	const char *v = vars ? variables_get(vars, key) : NULL;
	char *out;

	if (!v || !*v)
		return NULL;
	out = variables_expand(vars, v);
	if (out && !*out) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * evaluateOverwrite: config's value, or the job's when regex is set and
 * it matches.  *out is new (NULL for an unset config value).
 */
static int overwrite(const char *field, const char *config_value,
		     const char *regex, const struct variables *vars,
		     const char *var, int secret, struct k8s_overwrites *o,
		     char **out, struct buf *err)
{
	char *v = regex && *regex ? job_value(vars, var) : NULL;
	int r;

	*out = config_value && *config_value ? xstrdup(config_value) : NULL;
	if (!v)
		return 0;
	if ((r = regex_check(regex, v, err)) != 0) {
		if (secret)
			free_secret(v);
		else
			free(v);
		return r;
	}
	strvec_pushf(&o->log, "\"%s\" overwritten with \"%s\"", field,
		     secret ? "XXXXXXXX..." : v);
	if (secret)
		free_secret(*out);
	else
		free(*out);
	*out = v;
	return 0;
}

/*
 * evaluateMapOverwrite over the variables starting with prefix: each value
 * split as splitMapOverwrite does ("k=v", pushed as is), or with
 * tolerations as splitToleration does ("key[=value][:effect]", pushed as
 * the two strings "key[=value]" and "effect").
 */
static int map_overwrite(const char *field, const char *regex,
			 const struct variables *vars, const char *prefix,
			 int tolerations, struct strvec *into,
			 struct k8s_overwrites *o, struct buf *err)
{
	size_t i, n = strlen(prefix);

	if (!regex || !*regex || !vars)
		return 0;
	for (i = 0; i < vars->nr; i++) {
		const struct variable *var = &vars->items[i];
		char *v;
		const char *eq;
		int r;

		if (strncmp(var->key, prefix, n))
			continue;
		v = variables_expand(vars, var->value ? var->value : "");
		if ((r = regex_check(regex, v, err)) != 0) {
			free(v);
			return r;
		}
		if (tolerations) {
			const char *colon = strchr(v, ':');
			size_t kl = colon ? (size_t)(colon - v) : strlen(v);

			strvec_pushf(into, "%.*s", (int)kl, v);
			strvec_push(into, colon ? colon + 1 : "");
			strvec_pushf(&o->log, "\"%s\" \"%.*s\" overwritten with \"%s\"",
				     field, (int)kl, v, colon ? colon + 1 : "");
			free(v);
			continue;
		}
		if (!(eq = strchr(v, '='))) {
			buf_seterr(err, "provided value \"%s\" does not match \"k=v\"",
				   v);
			free(v);
			return CR_ERR_CONFIG;
		}
		strvec_push(into, v);
		strvec_pushf(&o->log, "\"%s\" \"%.*s\" overwritten with \"%s\"",
			     field, (int)(eq - v), v, eq + 1);
		free(v);
	}
	return 0;
}

int k8s_overwrites_eval(const struct config_kubernetes *kc,
			const struct variables *vars, struct k8s_overwrites *o,
			struct buf *err)
{
	int r;

	memset(o, 0, sizeof(*o));
	strvec_init(&o->labels);
	strvec_init(&o->annotations);
	strvec_init(&o->node_selector);
	strvec_init(&o->node_tolerations);
	strvec_init(&o->log);
	if ((r = overwrite("Namespace", kc->namespace,
			   kc->namespace_overwrite_allowed, vars,
			   "KUBERNETES_NAMESPACE_OVERWRITE", 0, o,
			   &o->namespace, err)) != 0 ||
	    (r = overwrite("ServiceAccount", kc->service_account,
			   kc->service_account_overwrite_allowed, vars,
			   "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE", 0, o,
			   &o->service_account, err)) != 0 ||
	    (r = overwrite("BearerToken", NULL,
			   kc->bearer_token_overwrite_allowed ? ".+" : NULL,
			   vars, "KUBERNETES_BEARER_TOKEN", 1, o,
			   &o->bearer_token, err)) != 0 ||
	    (r = map_overwrite("PodLabels", kc->pod_labels_overwrite_allowed,
			       vars, "KUBERNETES_POD_LABELS_", 0, &o->labels,
			       o, err)) != 0 ||
	    (r = map_overwrite("PodAnnotations",
			       kc->pod_annotations_overwrite_allowed, vars,
			       "KUBERNETES_POD_ANNOTATIONS_", 0,
			       &o->annotations, o, err)) != 0 ||
	    (r = map_overwrite("NodeSelector",
			       kc->node_selector_overwrite_allowed, vars,
			       "KUBERNETES_NODE_SELECTOR_", 0,
			       &o->node_selector, o, err)) != 0 ||
	    (r = map_overwrite("NodeTolerations",
			       kc->node_tolerations_overwrite_allowed, vars,
			       "KUBERNETES_NODE_TOLERATIONS_", 1,
			       &o->node_tolerations, o, err)) != 0) {
		k8s_overwrites_release(o);
		return r;
	}
	return 0;
}

void k8s_overwrites_release(struct k8s_overwrites *o)
{
	free(o->namespace);
	free(o->service_account);
	free_secret(o->bearer_token);
	strvec_clear(&o->labels);
	strvec_clear(&o->annotations);
	strvec_clear(&o->node_selector);
	strvec_clear(&o->node_tolerations);
	strvec_clear(&o->log);
	memset(o, 0, sizeof(*o));
}
