/*
 * What the kubernetes executor allows and adds for images: the shared
 * allowed_images check (allowed_images.h), the job's kubernetes user under
 * allowed_users / allowed_groups in the containers' security contexts.
 * config.toml is read by the real loader; the pod built by k8s_pod_build().
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
#include "executor/allowed_images.h"
#include "executor/kubernetes/k8s_pod.h"
#include "gitlab/payload.h"
#include "util/base64.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"

#include "k8s_pod_fixture.h"

/* Loads toml, sets the inputs; the caller may change f->in, then build(). */
static void setup(struct k8s_pod_fixture *f, const char *toml)
{
	k8s_pod_fixture_setup(f, toml);
	f->in.notes = &f->notes;
}

#include "k8s_json_path.h"

/* ---- allowed_images / allowed_services (shared with docker) ---- */

static void test_allowed_image(void **state)
{
	struct strvec allowed = STRVEC_INIT, internal = STRVEC_INIT;
	struct strvec lines = STRVEC_INIT;

	(void)state;
	/* An empty list allows anything. */
	assert_true(allowed_image("evil:latest", "images", &allowed, NULL,
				  &lines));
	strvec_push(&allowed, "docker.io/library/*");
	strvec_push(&allowed, "registry.example.com/**/*:1.*");
	strvec_push(&internal, "helper:x");
	assert_true(allowed_image("docker.io/library/alpine", "images",
				  &allowed, &internal, &lines));
	assert_true(allowed_image("registry.example.com/a/b/c:1.2", "images",
				  &allowed, &internal, &lines));
	assert_true(allowed_image("helper:x", "images", &allowed, &internal,
				  &lines));
	assert_int_equal(lines.nr, 0);
	assert_false(allowed_image("evil:latest", "services", &allowed,
				   &internal, &lines));
	assert_int_equal(lines.nr, 6);
	assert_string_equal(lines.v[0], "");
	assert_string_equal(lines.v[1], "ERROR: The \"evil:latest\" image is not present on list of allowed services:");
	assert_string_equal(lines.v[2], "- docker.io/library/*");
	assert_string_equal(lines.v[3], "- registry.example.com/**/*:1.*");
	assert_string_equal(lines.v[4], "");
	assert_string_equal(lines.v[5], "Please check runner's allowed_images configuration: https://docs.gitlab.com/runner/configuration/advanced-configuration/");
	strvec_clear(&allowed);
	strvec_clear(&internal);
	strvec_clear(&lines);
}

/* ---- the job's kubernetes user: allowed_users / allowed_groups ---- */

static void test_job_user_allowed(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	setup(&f, "    allowed_users = [\"1000\", \"0\"]\n"
		  "    allowed_groups = [\"3000\"]\n");
	f.in.build_user = "1000:3000";
	f.svc.user = strdup("0");
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|containers|0|securityContext|runAsUser", "1000");
	assert_json(f.pod, "spec|containers|0|securityContext|runAsGroup", "3000");
	/* The helper never takes the job's user. */
	assert_json(f.pod, "spec|containers|1|securityContext|runAsUser", "(none)");
	/* Root only because it is listed. */
	assert_json(f.pod, "spec|containers|2|securityContext|runAsUser", "0");
	assert_int_equal(f.warnings.nr, 0);
	assert_int_equal(f.notes.nr, 0);
	k8s_pod_fixture_release(&f);
}

static void test_job_user_refused(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	/* No list: any user but root. */
	setup(&f, "");
	f.in.build_user = "0:-5";
	f.svc.user = strdup("1234");
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|containers|0|securityContext|runAsUser", "(none)");
	assert_json(f.pod, "spec|containers|0|securityContext|runAsGroup", "(none)");
	assert_json(f.pod, "spec|containers|2|securityContext|runAsUser", "1234");
	assert_int_equal(f.warnings.nr, 2);
	assert_string_equal(f.warnings.v[0], "Error parsing 'uid' from image options for container \"build\", using the configured security context: validating UID: user \"0\" is not in the allowed list: []");
	assert_string_equal(f.warnings.v[1], "Error parsing 'gid' from image options for container \"build\", using the configured security context: failed to parse GID: negative values not allowed");
	k8s_pod_fixture_release(&f);

	setup(&f, "    allowed_users = [\"1000\"]\n");
	f.in.build_user = "abc";
	f.svc.user = strdup("2000");
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|containers|0|securityContext|runAsUser", "(none)");
	assert_json(f.pod, "spec|containers|2|securityContext|runAsUser", "(none)");
	assert_int_equal(f.warnings.nr, 2);
	assert_string_equal(f.warnings.v[0], "Error parsing 'uid' from image options for container \"build\", using the configured security context: failed to parse UID: strconv.ParseInt: parsing \"abc\": invalid syntax");
	assert_string_equal(f.warnings.v[1], "Error parsing 'uid' from image options for container \"db\", using the configured security context: validating UID: user \"2000\" is not in the allowed list: [1000]");
	k8s_pod_fixture_release(&f);
}

static void test_job_user_overridden(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	setup(&f, "    [runners.kubernetes.pod_security_context]\n"
		  "      run_as_user = 500\n"
		  "    [runners.kubernetes.build_container_security_context]\n"
		  "      run_as_group = 600\n");
	f.in.build_user = "1000:3000";
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|containers|0|securityContext|runAsUser", "500");
	assert_json(f.pod, "spec|containers|0|securityContext|runAsGroup", "600");
	assert_int_equal(f.notes.nr, 2);
	assert_string_equal(f.notes.v[0], "Overriding user for container \"build\" to \"1000\" is not allowed: user is set to 500 in pod security context");
	assert_string_equal(f.notes.v[1], "Overriding group for container \"build\" to \"3000\" is not allowed: group is set to 600 in container security context");
	k8s_pod_fixture_release(&f);
}

/* ---- registry credentials: the Secret and imagePullSecrets ---- */

/* The Secret's .dockercfg, decoded. */
static char *dockercfg(json_t *secret)
{
	const char *b64 = json_string_value(json_object_get(
		json_object_get(secret, "data"), ".dockercfg"));
	struct buf out = BUF_INIT;

	assert_non_null(b64);
	assert_int_equal(base64_decode(b64, &out), 0);
	return buf_detach(&out, NULL);
}

static void test_credentials_secret(void **state)
{
	char t[] = "registry", o[] = "other", u1[] = "registry.example.com",
		n1[] = "gitlab-ci-token", p1[] = "job-token", u2[] = "ghcr.io",
		n2[] = "bot", p2[] = "ghcr-pass", u3[] = "x.example.com",
		n3[] = "u", p3[] = "p";
	struct job_credential creds[] = {
		{ t, u1, n1, p1 }, { t, u2, n2, p2 }, { o, u3, n3, p3 },
	};
	struct job_payload p;
	struct strvec warnings = STRVEC_INIT;
	json_t *secret;
	char *cfg;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.credentials = creds;
	p.nr_credentials = 3;
	/* "auth" is user:password; registry.example.com is already here. */
	secret = k8s_credentials_secret("runner-x-project-1-concurrent-0-abcd1234",
		"ci", "{\"auths\": {\"https://Registry.Example.com/v1/\": "
		"{\"auth\": \"YWRtaW46czNjcjN0\"}, \"quay.io\": "
		"{\"username\": \"q\", \"password\": \"qp\", \"email\": \"q@example.com\"}}}",
		&p, &warnings);
	assert_non_null(secret);
	assert_int_equal(warnings.nr, 0);
	assert_json(secret, "type", "\"kubernetes.io/dockercfg\"");
	assert_json(secret, "metadata", "{\"name\":\"runner-x-project-1-concurrent-0-abcd1234\",\"namespace\":\"ci\"}");
	assert_json(secret, "kind", "\"Secret\"");
	cfg = dockercfg(secret);
	assert_string_equal(cfg,
		"{\"ghcr.io\":{\"username\":\"bot\",\"password\":\"ghcr-pass\",\"serveraddress\":\"ghcr.io\"},"
		"\"https://Registry.Example.com/v1/\":{\"username\":\"admin\",\"password\":\"s3cr3t\",\"serveraddress\":\"https://Registry.Example.com/v1/\"},"
		"\"quay.io\":{\"username\":\"q\",\"password\":\"qp\",\"email\":\"q@example.com\",\"serveraddress\":\"quay.io\"}}");
	free(cfg);
	json_decref(secret);

	/* A broken $DOCKER_AUTH_CONFIG is left out with a warning. */
	p.nr_credentials = 1;
	secret = k8s_credentials_secret("s", "ci", "{\"auths\": {\"a.io\": {\"auth\": \"!!\"}}}",
					&p, &warnings);
	assert_int_equal(warnings.nr, 1);
	assert_string_equal(warnings.v[0], "Failed to resolve credentials from $DOCKER_AUTH_CONFIG: invalid auth configuration file. Credentials from this source will not be used.");
	cfg = dockercfg(secret);
	assert_string_equal(cfg, "{\"registry.example.com\":{\"username\":\"gitlab-ci-token\",\"password\":\"job-token\",\"serveraddress\":\"registry.example.com\"}}");
	free(cfg);
	json_decref(secret);

	/* Nothing to put in it: no Secret. */
	p.nr_credentials = 0;
	assert_null(k8s_credentials_secret("s", "ci", NULL, &p, &warnings));
	strvec_clear(&warnings);
}

static void test_image_pull_secrets(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	setup(&f, "    image_pull_secrets = [\"regcred\", \"other\"]\n");
	f.in.credentials_secret = "runner-x-abcd1234";
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|imagePullSecrets",
		    "[{\"name\":\"regcred\"},{\"name\":\"other\"},{\"name\":\"runner-x-abcd1234\"}]");
	k8s_pod_fixture_release(&f);

	setup(&f, "");
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|imagePullSecrets", "(none)");
	k8s_pod_fixture_release(&f);

	/* The service account's secrets only: none in the pod. */
	setup(&f, "    image_pull_secrets = [\"regcred\"]\n"
		  "    use_service_account_image_pull_secrets = true\n");
	f.in.credentials_secret = "runner-x-abcd1234";
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|imagePullSecrets", "(none)");
	k8s_pod_fixture_release(&f);
}

/* ---- the init-permissions container, automount_service_account_token ---- */

static void test_init_permissions(void **state)
{
	struct k8s_pod_fixture f;

	(void)state;
	setup(&f, "    helper_cpu_limit = \"200m\"\n"
		  "    automount_service_account_token = false\n"
		  "    [runners.kubernetes.pod_security_context]\n"
		  "      run_as_user = 1000\n"
		  "    [runners.kubernetes.init_permissions_container_security_context]\n"
		  "      run_as_user = 0\n"
		  "      [runners.kubernetes.init_permissions_container_security_context.capabilities]\n"
		  "        add = [\"CHOWN\"]\n");
	f.in.logs_dir = "/logs-42-1000";
	f.in.pull_policy = "IfNotPresent";
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|initContainers|0|name", "\"init-permissions\"");
	assert_json(f.pod, "spec|initContainers|0|image", "\"helper\"");
	assert_json(f.pod, "spec|initContainers|0|imagePullPolicy", "\"IfNotPresent\"");
	assert_json(f.pod, "spec|initContainers|0|command",
		    "[\"sh\",\"-c\",\"touch /logs-42-1000/output.log && (chmod 777 /logs-42-1000/output.log || exit 0)\"]");
	assert_json(f.pod, "spec|initContainers|0|resources", "{\"limits\":{\"cpu\":\"200m\"}}");
	/* Its own context: not the pod's user. */
	assert_json(f.pod, "spec|initContainers|0|securityContext",
		    "{\"capabilities\":{\"add\":[\"CHOWN\"],\"drop\":[\"NET_RAW\"]},\"runAsUser\":0}");
	assert_json(f.pod, "spec|initContainers|0|env", "(none)");
	assert_json(f.pod, "spec|initContainers|0|stdin", "(none)");
	/* The same mounts as the others (getVolumeMounts), the logs among them. */
	{
		char *build_mounts = dump(f.pod, "spec|containers|0|volumeMounts");

		assert_json(f.pod, "spec|initContainers|0|volumeMounts", build_mounts);
		assert_non_null(strstr(build_mounts, "\"mountPath\":\"/logs-42-1000\""));
		free(build_mounts);
	}
	assert_json(f.pod, "spec|automountServiceAccountToken", "false");
	k8s_pod_fixture_release(&f);

	/* The exec strategy (no logs dir) has none; the token key unset. */
	setup(&f, "");
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|initContainers", "(none)");
	assert_json(f.pod, "spec|automountServiceAccountToken", "(none)");
	k8s_pod_fixture_release(&f);
}

/* ---- pod-level resources and their overwrites ---- */

static void test_pod_resources(void **state)
{
	struct k8s_pod_fixture f;
	struct buf err = BUF_INIT;

	(void)state;
	setup(&f, "    pod_cpu_limit = \"2\"\n"
		  "    pod_cpu_limit_overwrite_max_allowed = \"4\"\n"
		  "    pod_memory_request = \"1Gi\"\n"
		  "    pod_memory_request_overwrite_max_allowed = \"2Gi\"\n"
		  "    pod_cpu_request = \"500m\"\n");
	variables_add(&f.vars, "KUBERNETES_POD_CPU_LIMIT", "3", VAR_PUBLIC);
	/* No maximum for it: ignored. */
	variables_add(&f.vars, "KUBERNETES_POD_CPU_REQUEST", "1", VAR_PUBLIC);
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|resources",
		    "{\"limits\":{\"cpu\":\"3\"},\"requests\":{\"cpu\":\"500m\",\"memory\":\"1Gi\"}}");
	/* The containers keep their own. */
	assert_json(f.pod, "spec|containers|0|resources", "{}");
	json_decref(f.pod);
	f.pod = NULL;

	/* Over the maximum: the pod is refused. */
	variables_add(&f.vars, "KUBERNETES_POD_MEMORY_REQUEST", "3Gi", VAR_PUBLIC);
	assert_int_equal(k8s_pod_build(&f.in, &f.pod, &err), CR_ERR_CONFIG);
	assert_string_equal(err.data, "invalid Pod requests specified: the resource \"memory\" requested \"3Gi\" is higher than limit allowed \"2Gi\"");
	assert_null(f.pod);
	buf_release(&err);
	k8s_pod_fixture_release(&f);

	setup(&f, "");
	k8s_pod_fixture_build(&f);
	assert_json(f.pod, "spec|resources", "(none)");
	k8s_pod_fixture_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_image),
		cmocka_unit_test(test_job_user_allowed),
		cmocka_unit_test(test_job_user_refused),
		cmocka_unit_test(test_job_user_overridden),
		cmocka_unit_test(test_credentials_secret),
		cmocka_unit_test(test_image_pull_secrets),
		cmocka_unit_test(test_init_permissions),
		cmocka_unit_test(test_pod_resources),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
