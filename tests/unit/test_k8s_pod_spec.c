/*
 * The pod spec from config.toml tables: [runners.kubernetes.volumes],
 * the security contexts, cap_add/cap_drop and dns_config, read by the
 * real config loader and built by k8s_pod_build().
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
#include "executor/kubernetes/k8s_pod.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

#include "k8s_pod_fixture.h"

/* The pod of the given [runners.kubernetes] lines, in f->pod. */
static void build(struct k8s_pod_fixture *f, const char *toml)
{
	k8s_pod_fixture_setup(f, toml);
	variables_add(&f->vars, "CI_PROJECT_ID", "42", VAR_PUBLIC);
	variables_add(&f->vars, "CI_JOB_ID", "1000", VAR_PUBLIC);
	k8s_pod_fixture_build(f);
}

#include "k8s_json_path.h"

static const char volumes_toml[] =
	"    [[runners.kubernetes.volumes.host_path]]\n"
	"      name = \"docker\"\n      mount_path = \"/var/run/docker.sock\"\n"
	"      read_only = true\n"
	"    [[runners.kubernetes.volumes.host_path]]\n"
	"      name = \"cache\"\n      mount_path = \"/cache\"\n"
	"      host_path = \"/srv/cache\"\n      sub_path = \"p$CI_PROJECT_ID\"\n"
	"      mount_propagation = \"HostToContainer\"\n"
	"    [[runners.kubernetes.volumes.pvc]]\n"
	"      name = \"pvc-$CI_PROJECT_ID\"\n      mount_path = \"/pvc\"\n"
	"    [[runners.kubernetes.volumes.pvc]]\n"
	"      name = \"pvc-$CI_PROJECT_ID\"\n      mount_path = \"/pvc2\"\n"
	"    [[runners.kubernetes.volumes.config_map]]\n"
	"      name = \"settings\"\n      mount_path = \"/etc/settings\"\n"
	"      [runners.kubernetes.volumes.config_map.items]\n"
	"        \"app.conf\" = \"conf/app.conf\"\n"
	"    [[runners.kubernetes.volumes.secret]]\n"
	"      name = \"tokens\"\n      mount_path = \"/run/tokens\"\n"
	"      read_only = true\n"
	"    [[runners.kubernetes.volumes.empty_dir]]\n"
	"      name = \"scratch\"\n      mount_path = \"/scratch/$CI_JOB_ID\"\n"
	"      medium = \"Memory\"\n      size_limit = \"1Gi\"\n"
	"    [[runners.kubernetes.volumes.empty_dir]]\n"
	"      name = \"bad\"\n      mount_path = \"/bad\"\n"
	"      size_limit = \"plenty\"\n"
	"    [[runners.kubernetes.volumes.csi]]\n"
	"      name = \"inline\"\n      mount_path = \"/csi\"\n"
	"      driver = \"csi.example.com\"\n      fs_type = \"ext4\"\n"
	"      [runners.kubernetes.volumes.csi.volume_attributes]\n"
	"        size = \"2Gi\"\n";

static void test_volumes(void **state)
{
	struct k8s_pod_fixture f;
	json_t *spec;
	size_t i;

	(void)state;
	build(&f, volumes_toml);
	spec = json_object_get(f.pod, "spec");
	/* gitlab-runner's order: host paths, secrets, PVCs, config maps,
	 * empty dirs, CSI, then repo, scripts (and logs). */
	assert_json(spec, "volumes",
		"[{\"hostPath\":{\"path\":\"/var/run/docker.sock\"},\"name\":\"docker\"},"
		"{\"hostPath\":{\"path\":\"/srv/cache\"},\"name\":\"cache\"},"
		"{\"name\":\"tokens\",\"secret\":{\"secretName\":\"tokens\"}},"
		"{\"name\":\"pvc-42\",\"persistentVolumeClaim\":{\"claimName\":\"pvc-42\"}},"
		"{\"configMap\":{\"items\":[{\"key\":\"app.conf\",\"path\":\"conf/app.conf\"}],\"name\":\"settings\"},\"name\":\"settings\"},"
		"{\"emptyDir\":{\"medium\":\"Memory\",\"sizeLimit\":\"1Gi\"},\"name\":\"scratch\"},"
		"{\"emptyDir\":{},\"name\":\"bad\"},"
		"{\"csi\":{\"driver\":\"csi.example.com\",\"fsType\":\"ext4\",\"readOnly\":false,\"volumeAttributes\":{\"size\":\"2Gi\"}},\"name\":\"inline\"},"
		"{\"emptyDir\":{},\"name\":\"repo\"},"
		"{\"emptyDir\":{},\"name\":\"scripts\"}]");
	/* The same mounts in the build, helper and service containers. */
	for (i = 0; i < 3; i++) {
		json_t *c = json_array_get(json_object_get(spec, "containers"), i);

		assert_json(c, "volumeMounts",
			"[{\"mountPath\":\"/scripts-42-1000\",\"name\":\"scripts\"},"
			"{\"mountPath\":\"/var/run/docker.sock\",\"name\":\"docker\",\"readOnly\":true},"
			"{\"mountPath\":\"/cache\",\"mountPropagation\":\"HostToContainer\",\"name\":\"cache\",\"subPath\":\"p42\"},"
			"{\"mountPath\":\"/run/tokens\",\"name\":\"tokens\",\"readOnly\":true},"
			"{\"mountPath\":\"/pvc\",\"name\":\"pvc-42\"},"
			"{\"mountPath\":\"/pvc2\",\"name\":\"pvc-42\"},"
			"{\"mountPath\":\"/etc/settings\",\"name\":\"settings\"},"
			"{\"mountPath\":\"/scratch/1000\",\"name\":\"scratch\"},"
			"{\"mountPath\":\"/bad\",\"name\":\"bad\"},"
			"{\"mountPath\":\"/csi\",\"name\":\"inline\"},"
			"{\"mountPath\":\"/builds\",\"name\":\"repo\"}]");
	}
	/* parseVolumeSizeLimit: a bad quantity is a warning, not an error. */
	assert_int_equal(f.warnings.nr, 1);
	assert_string_equal(f.warnings.v[0],
		"invalid limit quantity \"plenty\" for empty volume \"bad\"");
	k8s_pod_fixture_release(&f);
}

static void test_builds_dir_volume(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	/* A configured volume at the builds dir replaces the "repo" emptyDir. */
	build(&f, "    [[runners.kubernetes.volumes.pvc]]\n"
		  "      name = \"builds\"\n      mount_path = \"/builds\"\n");
	assert_json(f.pod, "spec|volumes",
		"[{\"name\":\"builds\",\"persistentVolumeClaim\":{\"claimName\":\"builds\"}},"
		"{\"emptyDir\":{},\"name\":\"scripts\"}]");
	assert_json(f.pod, "spec|containers|0|volumeMounts",
		"[{\"mountPath\":\"/scripts-42-1000\",\"name\":\"scripts\"},"
		"{\"mountPath\":\"/builds\",\"name\":\"builds\"}]");
	k8s_pod_fixture_release(&f);
}

static void test_default_security(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	build(&f, "");
	assert_json(f.pod, "spec|securityContext", "(none)");
	assert_json(f.pod, "spec|dnsConfig", "(none)");
	assert_json(f.pod, "spec|containers|0|securityContext",
		    "{\"capabilities\":{\"drop\":[\"NET_RAW\"]}}");
	k8s_pod_fixture_release(&f);
}

static void test_security_contexts(void **state)
{
	struct k8s_pod_fixture f;
	json_t *spec;

	(void)state;
	build(&f,
	      "    privileged = true\n"
	      "    allow_privilege_escalation = false\n"
	      "    cap_add = [\"NET_RAW\", \"SYS_TIME\"]\n"
	      "    cap_drop = [\"CHOWN\"]\n"
	      "    [runners.kubernetes.pod_security_context]\n"
	      "      run_as_user = 1000\n      run_as_group = 3000\n"
	      "      fs_group = 2000\n      run_as_non_root = true\n"
	      "      selinux_type = \"spc_t\"\n"
	      "      [runners.kubernetes.pod_security_context.seccomp_profile]\n"
	      "        type = \"RuntimeDefault\"\n"
	      "    [runners.kubernetes.build_container_security_context]\n"
	      "      run_as_user = 65534\n      read_only_root_filesystem = true\n"
	      "      proc_mount = \" unmasked \"\n"
	      "      [runners.kubernetes.build_container_security_context.capabilities]\n"
	      "        drop = [\"ALL\"]\n"
	      "      [runners.kubernetes.build_container_security_context.app_armor_profile]\n"
	      "        type = \"Localhost\"\n        localhost_profile = \"k8s-ci\"\n"
	      "    [runners.kubernetes.helper_container_security_context]\n"
	      "      privileged = false\n      allow_privilege_escalation = true\n"
	      "      [runners.kubernetes.helper_container_security_context.seccomp_profile]\n"
	      "        type = \"Localhost\"\n"
	      "    [runners.kubernetes.service_container_security_context]\n"
	      "      run_as_group = 5\n      selinux_type = \"svc_t\"\n"
	      "      [runners.kubernetes.service_container_security_context.capabilities]\n"
	      "        add = [\"NET_ADMIN\"]\n");
	spec = json_object_get(f.pod, "spec");
	assert_json(spec, "securityContext",
		"{\"fsGroup\":2000,\"runAsGroup\":3000,\"runAsNonRoot\":true,"
		"\"runAsUser\":1000,\"seLinuxOptions\":{\"type\":\"spc_t\"},"
		"\"seccompProfile\":{\"type\":\"RuntimeDefault\"}}");
	/* cap_add takes NET_RAW off the default drop; the container's drop
	 * replaces the runner's; its own user, the pod's group. */
	assert_json(spec, "containers|0|securityContext",
		"{\"allowPrivilegeEscalation\":false,"
		"\"appArmorProfile\":{\"localhostProfile\":\"k8s-ci\",\"type\":\"Localhost\"},"
		"\"capabilities\":{\"add\":[\"NET_RAW\",\"SYS_TIME\"],\"drop\":[\"ALL\"]},"
		"\"privileged\":true,\"procMount\":\"Unmasked\","
		"\"readOnlyRootFilesystem\":true,\"runAsGroup\":3000,\"runAsUser\":65534}");
	/* Localhost without localhost_profile is left out, as gitlab-runner does. */
	assert_json(spec, "containers|1|securityContext",
		"{\"allowPrivilegeEscalation\":true,"
		"\"capabilities\":{\"add\":[\"NET_RAW\",\"SYS_TIME\"],\"drop\":[\"CHOWN\"]},"
		"\"privileged\":false,\"runAsGroup\":3000,\"runAsUser\":1000}");
	assert_json(spec, "containers|2|securityContext",
		"{\"allowPrivilegeEscalation\":false,"
		"\"capabilities\":{\"add\":[\"NET_ADMIN\"],\"drop\":[\"CHOWN\"]},"
		"\"privileged\":true,\"runAsGroup\":5,\"runAsUser\":1000,"
		"\"seLinuxOptions\":{\"type\":\"svc_t\"}}");
	k8s_pod_fixture_release(&f);
}

static void test_dns_config(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	build(&f, "    dns_policy = \"none\"\n"
		  "    [runners.kubernetes.dns_config]\n"
		  "      nameservers = [\"1.2.3.4\"]\n"
		  "      searches = [\"ns1.svc.cluster-domain.example\"]\n"
		  "      [[runners.kubernetes.dns_config.options]]\n"
		  "        name = \"ndots\"\n        value = \"2\"\n"
		  "      [[runners.kubernetes.dns_config.options]]\n"
		  "        name = \"edns0\"\n");
	assert_json(f.pod, "spec|dnsPolicy", "\"None\"");
	assert_json(f.pod, "spec|dnsConfig",
		"{\"nameservers\":[\"1.2.3.4\"],"
		"\"options\":[{\"name\":\"ndots\",\"value\":\"2\"},{\"name\":\"edns0\"}],"
		"\"searches\":[\"ns1.svc.cluster-domain.example\"]}");
	k8s_pod_fixture_release(&f);
}

static void test_affinity(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	build(&f,
	      "    [runners.kubernetes.affinity]\n"
	      "      [runners.kubernetes.affinity.node_affinity]\n"
	      "        [[runners.kubernetes.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution]]\n"
	      "          weight = 100\n"
	      "          [runners.kubernetes.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution.preference]\n"
	      "            [[runners.kubernetes.affinity.node_affinity.preferred_during_scheduling_ignored_during_execution.preference.match_expressions]]\n"
	      "              key = \"cpu_speed\"\n              operator = \"In\"\n              values = [\"fast\"]\n"
	      "        [runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution]\n"
	      "          [[runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms]]\n"
	      "            [[runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms.match_expressions]]\n"
	      "              key = \"kubernetes.io/e2e-az-name\"\n              operator = \"In\"\n              values = [\"e2e-az1\", \"e2e-az2\"]\n"
	      "            [[runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms.match_fields]]\n"
	      "              key = \"metadata.name\"\n              operator = \"NotIn\"\n              values = [\"node-1\"]\n"
	      "      [runners.kubernetes.affinity.pod_anti_affinity]\n"
	      "        [[runners.kubernetes.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution]]\n"
	      "          topology_key = \"kubernetes.io/hostname\"\n"
	      "          namespaces = [\"ci\"]\n"
	      "          [runners.kubernetes.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution.label_selector]\n"
	      "            [runners.kubernetes.affinity.pod_anti_affinity.required_during_scheduling_ignored_during_execution.label_selector.match_labels]\n"
	      "              app = \"db\"\n"
	      "        [[runners.kubernetes.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution]]\n"
	      "          weight = 5\n"
	      "          [runners.kubernetes.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution.pod_affinity_term]\n"
	      "            topology_key = \"zone\"\n"
	      "            [runners.kubernetes.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution.pod_affinity_term.namespace_selector]\n"
	      "              [[runners.kubernetes.affinity.pod_anti_affinity.preferred_during_scheduling_ignored_during_execution.pod_affinity_term.namespace_selector.match_expressions]]\n"
	      "                key = \"team\"\n                operator = \"Exists\"\n");
	assert_json(f.pod, "spec|affinity",
		"{\"nodeAffinity\":{"
		"\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"preference\":{\"matchExpressions\":"
		"[{\"key\":\"cpu_speed\",\"operator\":\"In\",\"values\":[\"fast\"]}]},\"weight\":100}],"
		"\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{"
		"\"matchExpressions\":[{\"key\":\"kubernetes.io/e2e-az-name\",\"operator\":\"In\",\"values\":[\"e2e-az1\",\"e2e-az2\"]}],"
		"\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"NotIn\",\"values\":[\"node-1\"]}]}]}},"
		"\"podAntiAffinity\":{"
		"\"preferredDuringSchedulingIgnoredDuringExecution\":[{\"podAffinityTerm\":{"
		"\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"team\",\"operator\":\"Exists\"}]},"
		"\"topologyKey\":\"zone\"},\"weight\":5}],"
		"\"requiredDuringSchedulingIgnoredDuringExecution\":[{"
		"\"labelSelector\":{\"matchLabels\":{\"app\":\"db\"}},\"namespaces\":[\"ci\"],"
		"\"topologyKey\":\"kubernetes.io/hostname\"}]}}");
	k8s_pod_fixture_release(&f);
	build(&f, "");
	assert_json(f.pod, "spec|affinity", "(none)");
	k8s_pod_fixture_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_volumes),
		cmocka_unit_test(test_builds_dir_volume),
		cmocka_unit_test(test_default_security),
		cmocka_unit_test(test_security_contexts),
		cmocka_unit_test(test_dns_config),
		cmocka_unit_test(test_affinity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
