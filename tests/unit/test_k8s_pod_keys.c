/*
 * The pod spec for k8sff's keys and flags: [[runners.kubernetes.volumes.nfs]]
 * and FF_KUBERNETES_HONOR_ENTRYPOINT (gitlab-runner's getCommandAndArgs),
 * read by the real config loader and built by k8s_pod_build().
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/k8s_pod.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

#include "k8s_pod_fixture.h"

/* The pod of the given [runners.kubernetes] lines, in f->pod. */
static void build_with(struct k8s_pod_fixture *f, const char *toml, int honor)
{
	k8s_pod_fixture_setup(f, toml);
	variables_add(&f->vars, "CI_PROJECT_ID", "42", VAR_PUBLIC);
	variables_add(&f->vars, "CI_JOB_ID", "1000", VAR_PUBLIC);
	f->in.honor_entrypoint = honor;
	k8s_pod_fixture_build(f);
}

static void build(struct k8s_pod_fixture *f, const char *toml)
{
	build_with(f, toml, 0);
}

#include "k8s_json_path.h"

static void test_nfs_volume(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	build(&f, "    [[runners.kubernetes.volumes.empty_dir]]\n"
	      "      name = \"tmp\"\n      mount_path = \"/tmp/x\"\n"
	      "    [[runners.kubernetes.volumes.nfs]]\n"
	      "      name = \"share\"\n      mount_path = \"/mnt/$CI_PROJECT_ID\"\n"
	      "      sub_path = \"sub\"\n      server = \"nfs.example.com\"\n"
	      "      path = \"/exports/ci\"\n      read_only = true\n"
	      "    [[runners.kubernetes.volumes.nfs]]\n"
	      "      name = \"builds\"\n      mount_path = \"/builds\"\n"
	      "      server = \"10.0.0.2\"\n      path = \"/b\"\n");
	/* After every other kind; one at the builds dir replaces "repo". */
	assert_json(f.pod, "spec|volumes",
		"[{\"emptyDir\":{},\"name\":\"tmp\"},"
		"{\"name\":\"share\",\"nfs\":{\"path\":\"/exports/ci\",\"readOnly\":true,\"server\":\"nfs.example.com\"}},"
		"{\"name\":\"builds\",\"nfs\":{\"path\":\"/b\",\"server\":\"10.0.0.2\"}},"
		"{\"emptyDir\":{},\"name\":\"scripts\"}]");
	assert_json(f.pod, "spec|containers|0|volumeMounts",
		"[{\"mountPath\":\"/scripts-42-1000\",\"name\":\"scripts\"},"
		"{\"mountPath\":\"/tmp/x\",\"name\":\"tmp\"},"
		"{\"mountPath\":\"/mnt/42\",\"name\":\"share\",\"readOnly\":true,\"subPath\":\"sub\"},"
		"{\"mountPath\":\"/builds\",\"name\":\"builds\"}]");
	k8s_pod_fixture_release(&f);
}

static void test_honor_entrypoint(void **state)
{
	struct k8s_pod_fixture f;
	struct strvec svc_cmd = STRVEC_INIT, svc_ep = STRVEC_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	build(&f, "");
	/* Without the flag: the shell is the command. */
	assert_json(f.pod, "spec|containers|0|command", "[\"sh\"]");
	assert_json(f.pod, "spec|containers|0|args", "(none)");
	json_decref(f.pod);
	strvec_push(&svc_ep, "docker-entrypoint.sh");
	strvec_push(&svc_cmd, "postgres");
	f.svc.entrypoint = &svc_ep;
	f.svc.command = &svc_cmd;
	f.in.honor_entrypoint = 1;
	if (k8s_pod_build(&f.in, &f.pod, &err) != 0)
		fail_msg("k8s_pod_build: %s", err.data);
	/* With it: the image's entrypoint runs the shell (args). */
	assert_json(f.pod, "spec|containers|0|command", "(none)");
	assert_json(f.pod, "spec|containers|0|args", "[\"sh\"]");
	assert_json(f.pod, "spec|containers|1|command", "(none)");
	assert_json(f.pod, "spec|containers|1|args", "[\"sh\"]");
	/* A service runs its image's own entrypoint and command. */
	assert_json(f.pod, "spec|containers|2|name", "\"db\"");
	assert_json(f.pod, "spec|containers|2|command", "(none)");
	assert_json(f.pod, "spec|containers|2|args", "(none)");
	strvec_clear(&svc_cmd);
	strvec_clear(&svc_ep);
	buf_release(&err);
	k8s_pod_fixture_release(&f);
}

static void test_container_lifecycle(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	build(&f, "");
	k8s_add_container_lifecycle(f.pod, f.in.kc);
	assert_json(f.pod, "spec|containers|0|lifecycle", "(none)");
	k8s_pod_fixture_release(&f);
	build(&f, "    [runners.kubernetes.container_lifecycle.post_start.exec]\n"
	      "      command = [\"touch\", \"/tmp/started\"]\n"
	      "    [runners.kubernetes.container_lifecycle.pre_stop.http_get]\n"
	      "      port = 8080\n      host = \"localhost\"\n"
	      "      path = \"/stop\"\n      scheme = \"HTTP\"\n"
	      "      [[runners.kubernetes.container_lifecycle.pre_stop.http_get.http_headers]]\n"
	      "        name = \"X-Why\"\n        value = \"ci\"\n"
	      "    [runners.kubernetes.container_lifecycle.pre_stop.tcp_socket]\n"
	      "      port = 22\n");
	k8s_add_container_lifecycle(f.pod, f.in.kc);
	/* On every container: build, helper and the service. */
	assert_json(f.pod, "spec|containers|0|lifecycle",
		"{\"postStart\":{\"exec\":{\"command\":[\"touch\",\"/tmp/started\"]}},"
		"\"preStop\":{\"httpGet\":{\"host\":\"localhost\",\"httpHeaders\":[{\"name\":\"X-Why\",\"value\":\"ci\"}],"
		"\"path\":\"/stop\",\"port\":8080,\"scheme\":\"HTTP\"},\"tcpSocket\":{\"port\":22}}}");
	assert_json(f.pod, "spec|containers|1|lifecycle|postStart|exec|command|0",
		    "\"touch\"");
	assert_json(f.pod, "spec|containers|2|lifecycle|preStop|tcpSocket|port",
		    "22");
	k8s_pod_fixture_release(&f);
}

static void test_retry_limits(void **state)
{
	struct k8s_pod_fixture f;
	const struct config_kubernetes *kc;

	(void)state;
	build(&f, "    retry_limit = 4\n    retry_backoff_max = 100\n"
	      "    retry_limits = { \"exceeded quota\" = 3, \"tls\" = 2 }\n");
	kc = f.in.kc;
	/* A configured text wins; network errors take retry_limit. */
	assert_int_equal(k8s_retry_max_tries(kc,
		"pods \"p\" is forbidden: exceeded quota: compute", 0), 3);
	assert_int_equal(k8s_retry_max_tries(kc, "remote error: tls: bad", 0), 2);
	assert_int_equal(k8s_retry_max_tries(kc,
		"dial tcp 127.0.0.1:1: connect: connection refused", 0), 4);
	assert_int_equal(k8s_retry_max_tries(kc, "Couldn't connect to server", 1),
			 4);
	assert_int_equal(k8s_retry_max_tries(kc, "pods \"p\" not found", 0), 1);
	/* At least 500 ms. */
	assert_int_equal(k8s_retry_backoff_max_ms(kc), 500);
	k8s_pod_fixture_release(&f);
	build(&f, "");
	assert_int_equal(k8s_retry_max_tries(f.in.kc, "http2: client connection lost",
					     0), 5);
	assert_int_equal(k8s_retry_backoff_max_ms(f.in.kc), 2000);
	k8s_pod_fixture_release(&f);
}

static void test_supplemental_groups(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	build(&f, "    [runners.kubernetes.pod_security_context]\n"
	      "      supplemental_groups = [2000, 3000]\n");
	assert_json(f.pod, "spec|securityContext",
		    "{\"supplementalGroups\":[2000,3000]}");
	k8s_pod_fixture_release(&f);
	build(&f, "    [runners.kubernetes.pod_security_context]\n"
	      "      supplemental_groups = []\n");
	assert_json(f.pod, "spec|securityContext", "(none)");
	k8s_pod_fixture_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nfs_volume),
		cmocka_unit_test(test_honor_entrypoint),
		cmocka_unit_test(test_container_lifecycle),
		cmocka_unit_test(test_retry_limits),
		cmocka_unit_test(test_supplemental_groups),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
