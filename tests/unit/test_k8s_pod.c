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
#include "executor/kubernetes/k8s_pod.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

#include "k8s_json_path.h"
#include "k8s_pod_fixture.h"

/* Test data is never freed nor written: string literals will do. */
#define S(x) ((char *)(uintptr_t)(x))

struct fixture {
	struct config_kubernetes kc;
	struct variables vars;
	struct strvec cmd, env;
	struct k8s_pod_input in;
	struct k8s_service_spec svc;
	struct job_port port;
	struct config_kv labels[3], annotations[1], tolerations[2];
};

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->kc.pod_termination_grace_period_seconds = -1;
	f->kc.cleanup_grace_period_seconds = -1;
	f->kc.allow_privilege_escalation = CONFIG_UNSET;
	k8s_test_security_defaults(&f->kc);
	variables_init(&f->vars);
	variables_add(&f->vars, "CI_PROJECT_NAMESPACE", "acme/sub group", VAR_PUBLIC);
	variables_add(&f->vars, "CI_COMMIT_REF_SLUG", "feature-x", VAR_PUBLIC);
	strvec_init(&f->cmd);
	strvec_push(&f->cmd, "sh");
	strvec_init(&f->env);
	strvec_push(&f->env, "A=1");
	f->in.kc = &f->kc;
	f->in.name = "runner-abc-project-42-concurrent-0-xyz12345";
	f->in.namespace = "ci";
	f->in.unique = "runner-abc-project-42-concurrent-0";
	f->in.project_id = 42;
	f->in.job_id = 1000;
	f->in.job_name = "test";
	f->in.project_name = "widget";
	f->in.timeout = "1h0m0s";
	f->in.runner_name = "my runner";
	f->in.short_desc = "abc";
	f->in.system_id = "r_0123456789ab";
	f->in.vars = &f->vars;
	f->in.image = "alpine:3";
	f->in.helper_image = "crunner-helper:1";
	f->in.build_cmd = &f->cmd;
	f->in.helper_cmd = &f->cmd;
	f->in.build_env = &f->env;
	f->in.builds_dir = "/builds";
	f->in.scripts_dir = "/scripts-42-1000";
	f->in.pull_policy = "IfNotPresent";
	f->svc.container = S("db");
	f->svc.image = S("postgres:16");
	strvec_init(&f->svc.env);
	f->port.number = 5432;
	f->svc.ports = &f->port;
	f->svc.nr_ports = 1;
	f->in.services = &f->svc;
	f->in.nr_services = 1;
}

static void teardown(struct fixture *f)
{
	variables_release(&f->vars);
	strvec_clear(&f->cmd);
	strvec_clear(&f->env);
	strvec_clear(&f->svc.env);
}

static const char *str_at(json_t *root, const char *path)
{
	return json_string_value(at(root, path));
}

static void test_labels_annotations(void **state)
{
	struct fixture f;
	struct buf err = BUF_INIT;
	json_t *pod = NULL, *labels;

	(void)state;
	setup(&f);
	f.labels[0] = (struct config_kv){ S("team"), S("ref-$CI_COMMIT_REF_SLUG!") };
	/* Keys in the runner.gitlab.com namespace cannot be overwritten. */
	f.labels[1] = (struct config_kv){ S("project.runner.gitlab.com/id"), S("99") };
	f.labels[2] = (struct config_kv){ S("pod"), S("mine") };
	f.kc.pod_labels.items = f.labels;
	f.kc.pod_labels.nr = 3;
	f.annotations[0] = (struct config_kv){ S("example.com/ns"), S("$CI_PROJECT_NAMESPACE") };
	f.kc.pod_annotations.items = f.annotations;
	f.kc.pod_annotations.nr = 1;
	assert_int_equal(k8s_pod_build(&f.in, &pod, &err), 0);
	assert_string_equal(str_at(pod, "metadata|name"), f.in.name);
	assert_string_equal(str_at(pod, "metadata|namespace"), "ci");
	labels = json_object_get(json_object_get(pod, "metadata"), "labels");
	assert_string_equal(json_string_value(json_object_get(labels, "team")), "ref-feature-x");
	assert_string_equal(json_string_value(json_object_get(labels, "project.runner.gitlab.com/id")), "42");
	/* "pod" is not in the namespace: gitlab-runner lets it be replaced. */
	assert_string_equal(json_string_value(json_object_get(labels, "pod")), "mine");
	assert_string_equal(json_string_value(json_object_get(labels, "job.runner.gitlab.com/pod")),
			    "runner-abc-project-42-concurrent-0");
	assert_string_equal(json_string_value(json_object_get(labels, "project.runner.gitlab.com/namespace")),
			    "acme_sub_group");
	assert_string_equal(json_string_value(json_object_get(labels, "manager.runner.gitlab.com/name")),
			    "my_runner");
	assert_string_equal(json_string_value(json_object_get(labels, "manager.runner.gitlab.com/id-short")), "abc");
	assert_string_equal(json_string_value(json_object_get(labels, "crunner/system-id")), "r_0123456789ab");
	assert_string_equal(str_at(pod, "metadata|annotations|job.runner.gitlab.com/id"), "1000");
	assert_string_equal(str_at(pod, "metadata|annotations|job.runner.gitlab.com/timeout"), "1h0m0s");
	assert_string_equal(str_at(pod, "metadata|annotations|example.com/ns"), "acme/sub group");
	json_decref(pod);
	teardown(&f);
	buf_release(&err);
}

static void test_containers_and_volumes(void **state)
{
	struct fixture f;
	struct buf err = BUF_INIT;
	struct strvec ep = STRVEC_INIT, cmd = STRVEC_INIT;
	json_t *pod = NULL, *spec, *c;

	(void)state;
	setup(&f);
	strvec_push(&ep, "docker-entrypoint.sh");
	strvec_push(&cmd, "postgres");
	f.svc.entrypoint = &ep;
	f.svc.command = &cmd;
	f.kc.privileged = true;
	f.kc.pod_termination_grace_period_seconds = 0;
	f.kc.node_tolerations.items = f.tolerations;
	f.kc.node_tolerations.nr = 2;
	f.tolerations[0] = (struct config_kv){ S("gpu=true"), S("NoSchedule") };
	f.tolerations[1] = (struct config_kv){ S("spot"), S("") };
	assert_int_equal(k8s_pod_build(&f.in, &pod, &err), 0);
	spec = json_object_get(pod, "spec");
	assert_string_equal(str_at(spec, "restartPolicy"), "Never");
	assert_string_equal(str_at(spec, "containers|0|name"), "build");
	assert_string_equal(str_at(spec, "containers|0|image"), "alpine:3");
	assert_string_equal(str_at(spec, "containers|0|imagePullPolicy"), "IfNotPresent");
	assert_string_equal(str_at(spec, "containers|0|env|0|name"), "A");
	assert_string_equal(str_at(spec, "containers|0|env|0|value"), "1");
	assert_string_equal(str_at(spec, "containers|1|name"), "helper");
	assert_string_equal(str_at(spec, "containers|1|image"), "crunner-helper:1");
	c = json_array_get(json_object_get(spec, "containers"), 2);
	assert_string_equal(str_at(c, "name"), "db");
	/* gitlab-runner: the entrypoint is the command, command the args. */
	assert_string_equal(str_at(c, "command|0"), "docker-entrypoint.sh");
	assert_string_equal(str_at(c, "args|0"), "postgres");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
		json_object_get(c, "ports"), 0), "containerPort")), 5432);
	assert_true(json_is_true(json_object_get(json_object_get(c, "securityContext"), "privileged")));
	assert_string_equal(str_at(c, "securityContext|capabilities|drop|0"), "NET_RAW");
	assert_string_equal(str_at(c, "volumeMounts|0|name"), "scripts");
	assert_string_equal(str_at(c, "volumeMounts|0|mountPath"), "/scripts-42-1000");
	assert_string_equal(str_at(c, "volumeMounts|1|name"), "repo");
	assert_string_equal(str_at(c, "volumeMounts|1|mountPath"), "/builds");
	assert_string_equal(str_at(spec, "volumes|0|name"), "repo");
	assert_non_null(json_object_get(json_array_get(json_object_get(spec, "volumes"), 0), "emptyDir"));
	assert_int_equal(json_integer_value(json_object_get(spec, "terminationGracePeriodSeconds")), 0);
	assert_string_equal(str_at(spec, "tolerations|0|key"), "gpu");
	assert_string_equal(str_at(spec, "tolerations|0|operator"), "Equal");
	assert_string_equal(str_at(spec, "tolerations|0|value"), "true");
	assert_string_equal(str_at(spec, "tolerations|0|effect"), "NoSchedule");
	assert_string_equal(str_at(spec, "tolerations|1|operator"), "Exists");
	assert_null(json_object_get(json_array_get(json_object_get(spec, "tolerations"), 1), "effect"));
	json_decref(pod);
	strvec_clear(&ep);
	strvec_clear(&cmd);
	teardown(&f);
	buf_release(&err);
}

/*
 * FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR: the init container copies
 * dumb-init to the scripts dir, after the log file's touch with the attach
 * strategy, alone with the exec strategy (which has no init container
 * otherwise).
 */
static void test_dumb_init_copy(void **state)
{
	struct fixture f;
	struct buf err = BUF_INIT;
	json_t *pod = NULL;

	(void)state;
	setup(&f);
	assert_int_equal(k8s_pod_build(&f.in, &pod, &err), 0);
	assert_null(json_object_get(json_object_get(pod, "spec"), "initContainers"));
	json_decref(pod);

	f.in.dumb_init = 1;
	assert_int_equal(k8s_pod_build(&f.in, &pod, &err), 0);
	assert_string_equal(str_at(pod, "spec|initContainers|0|name"), "init-permissions");
	assert_string_equal(str_at(pod, "spec|initContainers|0|image"), "crunner-helper:1");
	assert_string_equal(str_at(pod, "spec|initContainers|0|command|2"),
			    "cp /usr/bin/dumb-init /scripts-42-1000");
	assert_string_equal(str_at(pod, "spec|initContainers|0|volumeMounts|0|mountPath"),
			    "/scripts-42-1000");
	json_decref(pod);

	f.in.logs_dir = "/logs-42-1000";
	assert_int_equal(k8s_pod_build(&f.in, &pod, &err), 0);
	assert_string_equal(str_at(pod, "spec|initContainers|0|command|2"),
			    "touch /logs-42-1000/output.log && (chmod 777 /logs-42-1000/output.log || exit 0);\n"
			    "cp /usr/bin/dumb-init /scripts-42-1000");
	json_decref(pod);
	teardown(&f);
	buf_release(&err);
}

static void test_resources_and_overwrites(void **state)
{
	struct fixture f;
	struct buf err = BUF_INIT;
	json_t *pod = NULL, *spec;

	(void)state;
	setup(&f);
	f.kc.res[K8S_RES_BUILD][K8S_RES_CPU][K8S_RES_LIMIT].value = S("1");
	f.kc.res[K8S_RES_BUILD][K8S_RES_CPU][K8S_RES_LIMIT].max = S("2");
	f.kc.res[K8S_RES_BUILD][K8S_RES_MEMORY][K8S_RES_REQUEST].value = S("128Mi");
	f.kc.res[K8S_RES_HELPER][K8S_RES_EPHEMERAL][K8S_RES_LIMIT].value = S("1Gi");
	f.kc.res[K8S_RES_SERVICE][K8S_RES_MEMORY][K8S_RES_LIMIT].value = S("256Mi");
	/* No maximum: the job's variable is ignored. */
	variables_add(&f.vars, "KUBERNETES_MEMORY_REQUEST", "64Gi", VAR_PUBLIC);
	variables_add(&f.vars, "KUBERNETES_CPU_LIMIT", "1500m", VAR_PUBLIC);
	assert_int_equal(k8s_pod_build(&f.in, &pod, &err), 0);
	spec = json_object_get(pod, "spec");
	assert_string_equal(str_at(spec, "containers|0|resources|limits|cpu"), "1500m");
	assert_string_equal(str_at(spec, "containers|0|resources|requests|memory"), "128Mi");
	assert_string_equal(str_at(spec, "containers|1|resources|limits|ephemeral-storage"), "1Gi");
	assert_null(json_object_get(json_object_get(json_array_get(json_object_get(spec, "containers"), 1), "resources"), "requests"));
	assert_string_equal(str_at(spec, "containers|2|resources|limits|memory"), "256Mi");
	json_decref(pod);
	pod = NULL;
	/* Over the maximum: gitlab-runner's overwriteTooHighError. */
	variables_add(&f.vars, "KUBERNETES_CPU_LIMIT", "2.5", VAR_PUBLIC);
	assert_int_equal(k8s_pod_build(&f.in, &pod, &err), CR_ERR_CONFIG);
	assert_null(pod);
	assert_string_equal(err.data, "the resource \"cpu\" requested \"2.5\" is higher than limit allowed \"2\"");
	buf_reset(&err);
	variables_add(&f.vars, "KUBERNETES_CPU_LIMIT", "lots", VAR_PUBLIC);
	assert_int_equal(k8s_pod_build(&f.in, &pod, &err), CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "is not a Kubernetes quantity"));
	teardown(&f);
	buf_release(&err);
}

static void test_names(void **state)
{
	struct buf b = BUF_INIT;
	char suffix[9];
	size_t i;

	(void)state;
	k8s_sanitize_label(&b, "-_My Project/é.x._");
	assert_string_equal(b.data, "My_Project___.x");
	buf_reset(&b);
	k8s_sanitize_label(&b, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.-bbb");
	assert_string_equal(b.data, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	buf_reset(&b);
	/* 54 characters of the pattern, "-", the 8-character suffix. */
	k8s_resource_name(&b, "runner-abcdefghi-project-1234567890-concurrent-1234567890", "k3j2h1g0");
	assert_string_equal(b.data, "runner-abcdefghi-project-1234567890-concurrent-1234567-k3j2h1g0");
	assert_int_equal(b.len, 63);
	k8s_random_suffix(suffix);
	assert_int_equal(strlen(suffix), 8);
	for (i = 0; i < 8; i++)
		assert_non_null(strchr("abcdefghijklmnopqrstuvwxyz0123456789", suffix[i]));
	assert_string_equal(k8s_pull_policy("if-not-present"), "IfNotPresent");
	assert_string_equal(k8s_pull_policy("always"), "Always");
	assert_null(k8s_pull_policy("sometimes"));
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labels_annotations),
		cmocka_unit_test(test_containers_and_volumes),
		cmocka_unit_test(test_dumb_init_copy),
		cmocka_unit_test(test_resources_and_overwrites),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
