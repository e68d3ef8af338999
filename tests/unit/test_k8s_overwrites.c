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

#define S(x) ((char *)(uintptr_t)(x))

static void setup(struct config_kubernetes *kc, struct variables *vars)
{
	memset(kc, 0, sizeof(*kc));
	kc->namespace = S("ci");
	kc->service_account = S("builder");
	variables_init(vars);
	variables_add(vars, "TEAM", "blue", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_NAMESPACE_OVERWRITE", "ci-$TEAM", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE", "deployer", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_BEARER_TOKEN", "s3cret", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_POD_LABELS_1", "team=$TEAM", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_POD_LABELS_2", "runner.gitlab.com/x=no", VAR_PUBLIC);
	variables_add(vars, "KUBERNETES_POD_ANNOTATIONS_A", "example.com/owner=me", VAR_PUBLIC);
}

static void test_not_allowed(void **state)
{
	struct config_kubernetes kc;
	struct variables vars;
	struct k8s_overwrites o;
	struct buf err = BUF_INIT;

	(void)state;
	setup(&kc, &vars);
	/* No expression, no bool: config.toml's values stand. */
	assert_int_equal(k8s_overwrites_eval(&kc, &vars, &o, &err), 0);
	assert_string_equal(o.namespace, "ci");
	assert_string_equal(o.service_account, "builder");
	assert_null(o.bearer_token);
	assert_int_equal(o.labels.nr, 0);
	assert_int_equal(o.annotations.nr, 0);
	assert_int_equal(o.log.nr, 0);
	k8s_overwrites_release(&o);
	variables_release(&vars);
	buf_release(&err);
}

static void test_allowed(void **state)
{
	struct config_kubernetes kc;
	struct variables vars;
	struct k8s_overwrites o;
	struct buf err = BUF_INIT;

	(void)state;
	setup(&kc, &vars);
	kc.namespace_overwrite_allowed = S("ci-.*");
	kc.service_account_overwrite_allowed = S("^deploy");
	kc.bearer_token_overwrite_allowed = true;
	kc.pod_labels_overwrite_allowed = S(".*");
	kc.pod_annotations_overwrite_allowed = S("owner");
	assert_int_equal(k8s_overwrites_eval(&kc, &vars, &o, &err), 0);
	assert_string_equal(o.namespace, "ci-blue");
	assert_string_equal(o.service_account, "deployer");
	assert_string_equal(o.bearer_token, "s3cret");
	assert_int_equal(o.labels.nr, 2);
	assert_string_equal(o.labels.v[0], "team=blue");
	assert_int_equal(o.annotations.nr, 1);
	assert_string_equal(o.annotations.v[0], "example.com/owner=me");
	assert_int_equal(o.log.nr, 6);
	assert_string_equal(o.log.v[0], "\"Namespace\" overwritten with \"ci-blue\"");
	assert_string_equal(o.log.v[1], "\"ServiceAccount\" overwritten with \"deployer\"");
	/* The token is never logged. */
	assert_string_equal(o.log.v[2], "\"BearerToken\" overwritten with \"XXXXXXXX...\"");
	assert_string_equal(o.log.v[3], "\"PodLabels\" \"team\" overwritten with \"blue\"");
	assert_string_equal(o.log.v[5], "\"PodAnnotations\" \"example.com/owner\" overwritten with \"me\"");
	k8s_overwrites_release(&o);
	variables_release(&vars);
	buf_release(&err);
}

static void test_refused(void **state)
{
	struct config_kubernetes kc;
	struct variables vars;
	struct k8s_overwrites o;
	struct buf err = BUF_INIT;

	(void)state;
	setup(&kc, &vars);
	kc.namespace_overwrite_allowed = S("^review-");
	assert_int_equal(k8s_overwrites_eval(&kc, &vars, &o, &err), CR_ERR_CONFIG);
	assert_string_equal(err.data, "provided value \"ci-blue\" does not match \"^review-\"");
	buf_reset(&err);
	kc.namespace_overwrite_allowed = NULL;
	kc.pod_annotations_overwrite_allowed = S(".*");
	variables_add(&vars, "KUBERNETES_POD_ANNOTATIONS_B", "no-equals", VAR_PUBLIC);
	assert_int_equal(k8s_overwrites_eval(&kc, &vars, &o, &err), CR_ERR_CONFIG);
	assert_string_equal(err.data, "provided value \"no-equals\" does not match \"k=v\"");
	buf_reset(&err);
	kc.pod_annotations_overwrite_allowed = NULL;
	kc.service_account_overwrite_allowed = S("(");
	assert_int_equal(k8s_overwrites_eval(&kc, &vars, &o, &err), CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "error parsing regexp \"(\""));
	variables_release(&vars);
	buf_release(&err);
}

static void test_in_the_pod(void **state)
{
	struct config_kubernetes kc;
	struct variables vars;
	struct k8s_overwrites o;
	struct k8s_pod_input in = { 0 };
	struct strvec cmd = STRVEC_INIT;
	struct buf err = BUF_INIT;
	json_t *pod = NULL, *meta;
	int i;

	(void)state;
	setup(&kc, &vars);
	kc.pod_termination_grace_period_seconds = -1;
	kc.allow_privilege_escalation = CONFIG_UNSET;
	kc.pod_security.fs_group = kc.pod_security.run_as_group = -1;
	kc.pod_security.run_as_user = -1;
	kc.pod_security.run_as_non_root = CONFIG_UNSET;
	for (i = 0; i < K8S_SC_OWNERS; i++) {
		kc.sc[i].run_as_user = kc.sc[i].run_as_group = -1;
		kc.sc[i].privileged = kc.sc[i].run_as_non_root = CONFIG_UNSET;
		kc.sc[i].read_only_root_filesystem = CONFIG_UNSET;
		kc.sc[i].allow_privilege_escalation = CONFIG_UNSET;
	}
	kc.pod_labels_overwrite_allowed = S(".*");
	kc.pod_annotations_overwrite_allowed = S(".*");
	assert_int_equal(k8s_overwrites_eval(&kc, &vars, &o, &err), 0);
	strvec_push(&cmd, "sh");
	in.kc = &kc;
	in.name = "p-12345678";
	in.namespace = o.namespace;
	in.unique = "p";
	in.vars = &vars;
	in.image = "alpine";
	in.helper_image = "helper";
	in.build_cmd = in.helper_cmd = &cmd;
	in.builds_dir = "/builds";
	in.scripts_dir = "/scripts";
	in.label_overwrites = &o.labels;
	in.annotation_overwrites = &o.annotations;
	assert_int_equal(k8s_pod_build(&in, &pod, &err), 0);
	meta = json_object_get(pod, "metadata");
	assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "labels"), "team")), "blue");
	/* A label in runner.gitlab.com is gitlab-runner's own. */
	assert_null(json_object_get(json_object_get(meta, "labels"), "runner.gitlab.com/x"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(meta, "annotations"), "example.com/owner")), "me");
	json_decref(pod);
	strvec_clear(&cmd);
	k8s_overwrites_release(&o);
	variables_release(&vars);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_not_allowed),
		cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_in_the_pod),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
