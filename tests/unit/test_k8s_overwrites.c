/*
 * The job's overwrites of namespace, service account, bearer token, pod
 * labels and annotations (gitlab-runner's overwrites.go), and the labels
 * and annotations they put in the pod.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_overwrites.h"
#include "executor/kubernetes/k8s_pod.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

#include "k8s_pod_fixture.h"

#define S(x) ((char *)(uintptr_t)(x))

/*
 * Each test's fixture: config.toml's namespace and service account, the
 * job's variables asking for every overwrite, the overwrites and an error
 * buffer; case_teardown() frees them all.
 */
struct ow_case {
	struct config_kubernetes kc;
	struct variables vars;
	struct k8s_overwrites o;
	struct buf err;
};

static int case_setup(void **state)
{
	struct ow_case *c = calloc(1, sizeof(*c));
	struct variables *vars;

	if (!c)
		return -1;
	vars = &c->vars;
	c->kc.namespace = S("ci");
	c->kc.service_account = S("builder");
	buf_init(&c->err, 0);
	variables_init(vars);
	variables_add(vars, "TEAM", "blue", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_NAMESPACE_OVERWRITE", "ci-$TEAM", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE", "deployer", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_BEARER_TOKEN", "s3cret", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_POD_LABELS_1", "team=$TEAM", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_POD_LABELS_2", "runner.gitlab.com/x=no", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_POD_ANNOTATIONS_A", "example.com/owner=me", VAR_PUBLIC);
	*state = c;
	return 0;
}

static int case_teardown(void **state)
{
	struct ow_case *c = *state;

	k8s_overwrites_release(&c->o);
	variables_release(&c->vars);
	buf_release(&c->err);
	free(c);
	return 0;
}

/* k8s_overwrites_eval() of the case's config and variables into c->o. */
static int eval(struct ow_case *c)
{
	return k8s_overwrites_eval(&c->kc, &c->vars, &c->o, &c->err);
}

static void test_not_allowed(void **state)
{
	struct ow_case *c = *state;

	/* No expression, no bool: config.toml's values stand. */
	assert_int_equal(eval(c), 0);
	assert_string_equal(c->o.namespace, "ci");
	assert_string_equal(c->o.service_account, "builder");
	assert_null(c->o.bearer_token);
	assert_int_equal(c->o.labels.nr, 0);
	assert_int_equal(c->o.annotations.nr, 0);
	assert_int_equal(c->o.log.nr, 0);
}

static void test_allowed(void **state)
{
	struct ow_case *c = *state;

	c->kc.namespace_overwrite_allowed = S("ci-.*");
	c->kc.service_account_overwrite_allowed = S("^deploy");
	c->kc.bearer_token_overwrite_allowed = true;
	c->kc.pod_labels_overwrite_allowed = S(".*");
	c->kc.pod_annotations_overwrite_allowed = S("owner");
	assert_int_equal(eval(c), 0);
	assert_string_equal(c->o.namespace, "ci-blue");
	assert_string_equal(c->o.service_account, "deployer");
	assert_string_equal(c->o.bearer_token, "s3cret");
	assert_int_equal(c->o.labels.nr, 2);
	assert_string_equal(c->o.labels.v[0], "team=blue");
	assert_int_equal(c->o.annotations.nr, 1);
	assert_string_equal(c->o.annotations.v[0], "example.com/owner=me");
	assert_int_equal(c->o.log.nr, 6);
	assert_string_equal(c->o.log.v[0], "\"Namespace\" overwritten with \"ci-blue\"");
	assert_string_equal(c->o.log.v[1], "\"ServiceAccount\" overwritten with \"deployer\"");
	/* The token is never logged. */
	assert_string_equal(c->o.log.v[2], "\"BearerToken\" overwritten with \"XXXXXXXX...\"");
	assert_string_equal(c->o.log.v[3], "\"PodLabels\" \"team\" overwritten with \"blue\"");
	assert_string_equal(c->o.log.v[5], "\"PodAnnotations\" \"example.com/owner\" overwritten with \"me\"");
}

static void test_refused(void **state)
{
	struct ow_case *c = *state;

	c->kc.namespace_overwrite_allowed = S("^review-");
	assert_int_equal(eval(c), CR_ERR_CONFIG);
	assert_string_equal(c->err.data, "provided value \"ci-blue\" does not match \"^review-\"");
	buf_reset(&c->err);
	c->kc.namespace_overwrite_allowed = NULL;
	c->kc.pod_annotations_overwrite_allowed = S(".*");
	variables_add(&c->vars, "KUBERNETES_POD_ANNOTATIONS_B", "no-equals", VAR_PUBLIC);
	assert_int_equal(eval(c), CR_ERR_CONFIG);
	assert_string_equal(c->err.data, "provided value \"no-equals\" does not match \"k=v\"");
	buf_reset(&c->err);
	c->kc.pod_annotations_overwrite_allowed = NULL;
	c->kc.service_account_overwrite_allowed = S("(");
	assert_int_equal(eval(c), CR_ERR_CONFIG);
	assert_non_null(strstr(c->err.data, "error parsing regexp \"(\""));
}

/* What the pod tests add to case_setup(): config.toml's unset pod defaults. */
static void pod_config_defaults(struct config_kubernetes *kc)
{
	kc->pod_termination_grace_period_seconds = -1;
	kc->allow_privilege_escalation = CONFIG_UNSET;
	k8s_test_security_defaults(kc);
}

/* The pod input both pod tests share: a one-word command for both containers. */
static void pod_input(struct k8s_pod_input *in,
		      const struct config_kubernetes *kc,
		      const struct variables *vars, const char *namespace,
		      struct strvec *cmd)
{
	strvec_push(cmd, "sh");
	in->kc = kc;
	in->name = "p-12345678";
	in->namespace = namespace;
	in->unique = "p";
	in->vars = vars;
	in->image = "alpine";
	in->helper_image = "helper";
	in->build_cmd = in->helper_cmd = cmd;
	in->builds_dir = "/builds";
	in->scripts_dir = "/scripts";
}

static void test_in_the_pod(void **state)
{
	struct ow_case *c = *state;
	struct k8s_pod_input in = { 0 };
	struct strvec cmd = STRVEC_INIT;
	json_t *pod = NULL, *meta;

	pod_config_defaults(&c->kc);
	c->kc.pod_labels_overwrite_allowed = S(".*");
	c->kc.pod_annotations_overwrite_allowed = S(".*");
	assert_int_equal(eval(c), 0);
	pod_input(&in, &c->kc, &c->vars, c->o.namespace, &cmd);
	in.label_overwrites = &c->o.labels;
	in.annotation_overwrites = &c->o.annotations;
	assert_int_equal(k8s_pod_build(&in, &pod, &c->err), 0);
	meta = json_object_get(pod, "metadata");
	assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "labels"), "team")), "blue");
	/* A label in runner.gitlab.com is gitlab-runner's own. */
	assert_null(json_object_get(json_object_get(meta, "labels"), "runner.gitlab.com/x"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "annotations"), "example.com/owner")), "me");
	json_decref(pod);
	strvec_clear(&cmd);
}

/*
 * KUBERNETES_NODE_SELECTOR_* and KUBERNETES_NODE_TOLERATIONS_*: ignored
 * without node_*_overwrite_allowed, refused when they do not match it,
 * else merged with config.toml's by key.
 */
static void test_node_selector_and_tolerations(void **state)
{
	struct ow_case *c = *state;
	struct k8s_pod_input in = { 0 };
	struct strvec cmd = STRVEC_INIT;
	struct config_kv sel[2], tol[2];
	json_t *pod = NULL, *spec;
	char *got;

	pod_config_defaults(&c->kc);
	sel[0] = (struct config_kv){ S("disktype"), S("hdd") };
	sel[1] = (struct config_kv){ S("zone"), S("a") };
	c->kc.node_selector.items = sel;
	c->kc.node_selector.nr = 2;
	tol[0] = (struct config_kv){ S("gpu=true"), S("NoSchedule") };
	tol[1] = (struct config_kv){ S("spot"), S("") };
	c->kc.node_tolerations.items = tol;
	c->kc.node_tolerations.nr = 2;
	variables_add(&c->vars, "KUBERNETES_NODE_SELECTOR_DISK", "disktype=$DISK", VAR_PUBLIC);
	variables_add(&c->vars, "DISK", "ssd", VAR_PUBLIC);
	variables_add(&c->vars, "KUBERNETES_NODE_SELECTOR_ARCH", "kubernetes.io/arch=arm64", VAR_PUBLIC);
	variables_add(&c->vars, "KUBERNETES_NODE_TOLERATIONS_1", "gpu=true:NoExecute", VAR_PUBLIC);
	variables_add(&c->vars, "KUBERNETES_NODE_TOLERATIONS_2", "dedicated=ci:PreferNoSchedule", VAR_PUBLIC);
	variables_add(&c->vars, "KUBERNETES_NODE_TOLERATIONS_3", "maintenance", VAR_PUBLIC);

	/* Not allowed: ignored. */
	assert_int_equal(eval(c), 0);
	assert_int_equal(c->o.node_selector.nr, 0);
	assert_int_equal(c->o.node_tolerations.nr, 0);
	k8s_overwrites_release(&c->o);

	/* A value the expression does not match fails the job. */
	c->kc.node_selector_overwrite_allowed = S("^disktype=");
	assert_int_equal(eval(c), CR_ERR_CONFIG);
	assert_string_equal(c->err.data, "provided value \"kubernetes.io/arch=arm64\" does not match \"^disktype=\"");
	buf_reset(&c->err);
	c->kc.node_selector_overwrite_allowed = S("=");
	c->kc.node_tolerations_overwrite_allowed = S("^(gpu|dedicated|maintenance)");
	assert_int_equal(eval(c), 0);
	assert_int_equal(c->o.node_selector.nr, 2);
	assert_int_equal(c->o.node_tolerations.nr, 6);
	assert_string_equal(c->o.node_tolerations.v[0], "gpu=true");
	assert_string_equal(c->o.node_tolerations.v[1], "NoExecute");
	assert_string_equal(c->o.node_tolerations.v[5], "");
	assert_string_equal(c->o.log.v[0], "\"NodeSelector\" \"disktype\" overwritten with \"ssd\"");
	assert_string_equal(c->o.log.v[2], "\"NodeTolerations\" \"gpu=true\" overwritten with \"NoExecute\"");

	pod_input(&in, &c->kc, &c->vars, c->o.namespace, &cmd);
	in.node_selector_overwrites = &c->o.node_selector;
	in.toleration_overwrites = &c->o.node_tolerations;
	assert_int_equal(k8s_pod_build(&in, &pod, &c->err), 0);
	spec = json_object_get(pod, "spec");
	got = json_dumps(json_object_get(spec, "nodeSelector"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(got, "{\"disktype\":\"ssd\",\"kubernetes.io/arch\":\"arm64\",\"zone\":\"a\"}");
	free(got);
	got = json_dumps(json_object_get(spec, "tolerations"), JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(got, "["
		"{\"effect\":\"NoExecute\",\"key\":\"gpu\",\"operator\":\"Equal\",\"value\":\"true\"},"
		"{\"key\":\"spot\",\"operator\":\"Exists\"},"
		"{\"effect\":\"PreferNoSchedule\",\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"ci\"},"
		"{\"key\":\"maintenance\",\"operator\":\"Exists\"}]");
	free(got);
	json_decref(pod);
	k8s_overwrites_release(&c->o);

	/* A node selector must be key=value. */
	c->kc.node_selector_overwrite_allowed = S(".*");
	variables_add(&c->vars, "KUBERNETES_NODE_SELECTOR_BAD", "no-equals", VAR_PUBLIC);
	assert_int_equal(eval(c), CR_ERR_CONFIG);
	assert_string_equal(c->err.data, "provided value \"no-equals\" does not match \"k=v\"");
	strvec_clear(&cmd);
}

/* Each test with its own fixture. */
#define OW_TEST(test) \
	cmocka_unit_test_setup_teardown(test, case_setup, case_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		OW_TEST(test_not_allowed),
		OW_TEST(test_allowed),
		OW_TEST(test_refused),
		OW_TEST(test_in_the_pod),
		OW_TEST(test_node_selector_and_tolerations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
