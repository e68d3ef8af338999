/* Job payload decoding and validation: spec section 3. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gitlab/payload.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/limits.h"

/* The complete example of spec section 3.12, verbatim. */
static const char example[] =
	"{\n"
	"  \"id\": 8123457,\n"
	"  \"token\": \"glcbt-Zx8QpL3vTg7mN2kR5sWd\",\n"
	"  \"allow_git_fetch\": true,\n"
	"  \"job_info\": {\n"
	"    \"id\": 8123457, \"name\": \"test:unit\", \"stage\": \"test\", \"pipeline_id\": 1402233,\n"
	"    \"project_id\": 42, \"project_name\": \"widget\", \"project_full_path\": \"acme/widget\",\n"
	"    \"namespace_id\": 7, \"root_namespace_id\": 7, \"organization_id\": 1,\n"
	"    \"instance_id\": \"9f86d081884c7d65\", \"instance_uuid\": \"3b8f1a52-6e0c-4e7d-9a31-0c2d5f6e7a89\",\n"
	"    \"user_id\": 15, \"scoped_user_id\": null, \"time_in_queue_seconds\": 2.314,\n"
	"    \"project_jobs_running_on_instance_runners_count\": \"+Inf\", \"queue_size\": 0, \"queue_depth\": 0\n"
	"  },\n"
	"  \"git_info\": {\n"
	"    \"repo_url\": \"https://gitlab-ci-token:glcbt-Zx8QpL3vTg7mN2kR5sWd@gitlab.example.com/acme/widget.git\",\n"
	"    \"ref\": \"main\",\n"
	"    \"sha\": \"5f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6\",\n"
	"    \"before_sha\": \"0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c\",\n"
	"    \"ref_type\": \"branch\",\n"
	"    \"refspecs\": [\n"
	"      \"+refs/pipelines/1402233:refs/pipelines/1402233\",\n"
	"      \"+refs/heads/main:refs/remotes/origin/main\"\n"
	"    ],\n"
	"    \"depth\": 20,\n"
	"    \"repo_object_format\": \"sha1\",\n"
	"    \"protected\": true\n"
	"  },\n"
	"  \"runner_info\": { \"uuid\": \"0e7c9b1d-5a3f-4c2e-8d6b-1f0a9e8d7c6b\", \"timeout\": 3600, \"runner_session_url\": null },\n"
	"  \"variables\": [\n"
	"    { \"key\": \"CI_PIPELINE_ID\", \"value\": \"1402233\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"CI_PROJECT_PATH\", \"value\": \"acme/widget\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"CI_SERVER_URL\", \"value\": \"https://gitlab.example.com\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"CI_SERVER_HOST\", \"value\": \"gitlab.example.com\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"CI_COMMIT_REF_PROTECTED\", \"value\": \"true\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"CI_JOB_ID\", \"value\": \"8123457\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"CI_JOB_TOKEN\", \"value\": \"glcbt-Zx8QpL3vTg7mN2kR5sWd\", \"public\": false, \"masked\": true },\n"
	"    { \"key\": \"CI_REGISTRY_USER\", \"value\": \"gitlab-ci-token\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"CI_REGISTRY_PASSWORD\", \"value\": \"glcbt-Zx8QpL3vTg7mN2kR5sWd\", \"public\": false, \"masked\": true },\n"
	"    { \"key\": \"CI_REPOSITORY_URL\", \"value\": \"https://gitlab-ci-token:glcbt-Zx8QpL3vTg7mN2kR5sWd@gitlab.example.com/acme/widget.git\", \"public\": false, \"masked\": false },\n"
	"    { \"key\": \"CI_RUNNER_ID\", \"value\": \"311\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"CI_RUNNER_TAGS\", \"value\": \"[\\\"linux\\\", \\\"shell\\\"]\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"GIT_DEPTH\", \"value\": \"20\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"GOFLAGS\", \"value\": \"-mod=readonly\", \"public\": true, \"masked\": false },\n"
	"    { \"key\": \"API_SECRET\", \"value\": \"s3cr3t-Value-99\", \"public\": false, \"masked\": true },\n"
	"    { \"key\": \"DEPLOY_KEY\", \"value\": \"-----BEGIN OPENSSH PRIVATE KEY-----\\n...\\n-----END OPENSSH PRIVATE KEY-----\\n\", \"public\": false, \"masked\": false, \"file\": true },\n"
	"    { \"key\": \"LITERAL_PATTERN\", \"value\": \"price=$5\", \"public\": false, \"masked\": false, \"raw\": true },\n"
	"    { \"key\": \"COVER_DIR\", \"value\": \"$CI_PROJECT_DIR/coverage\", \"public\": true, \"masked\": false }\n"
	"  ],\n"
	"  \"steps\": [\n"
	"    { \"name\": \"script\", \"script\": [\"go version\", \"go test ./... -coverprofile=$COVER_DIR/c.out\", \"go-junit-report < test.log > report.xml\"], \"timeout\": 3600, \"when\": \"on_success\", \"allow_failure\": false },\n"
	"    { \"name\": \"after_script\", \"script\": [\"echo \\\"job finished with $CI_JOB_STATUS\\\"\"], \"timeout\": 3600, \"when\": \"always\", \"allow_failure\": true }\n"
	"  ],\n"
	"  \"hooks\": [\n"
	"    { \"name\": \"pre_get_sources_script\", \"script\": [\"git config --global http.postBuffer 524288000\"] }\n"
	"  ],\n"
	"  \"image\": {\n"
	"    \"name\": \"golang:1.22\", \"entrypoint\": null, \"ports\": [],\n"
	"    \"executor_opts\": { \"docker\": { \"platform\": \"linux/amd64\", \"user\": \"1000\" } },\n"
	"    \"pull_policy\": [\"if-not-present\"]\n"
	"  },\n"
	"  \"services\": [\n"
	"    {\n"
	"      \"name\": \"postgres:16\", \"entrypoint\": null, \"ports\": [], \"executor_opts\": null,\n"
	"      \"pull_policy\": null, \"alias\": \"db,database\", \"command\": null,\n"
	"      \"variables\": [ { \"key\": \"POSTGRES_PASSWORD\", \"value\": \"test\", \"public\": true, \"masked\": false } ]\n"
	"    }\n"
	"  ],\n"
	"  \"artifacts\": [\n"
	"    { \"name\": \"widget-$CI_COMMIT_REF_NAME\", \"untracked\": false, \"paths\": [\"bin/\", \"coverage/\"], \"exclude\": [\"bin/*.tmp\"], \"when\": \"on_success\", \"expire_in\": \"1 week\", \"artifact_type\": \"archive\", \"artifact_format\": \"zip\" },\n"
	"    { \"name\": \"junit.xml\", \"paths\": [\"report.xml\"], \"when\": \"always\", \"expire_in\": \"1 week\", \"artifact_type\": \"junit\", \"artifact_format\": \"gzip\" }\n"
	"  ],\n"
	"  \"cache\": [\n"
	"    { \"key\": \"go-mod-main-non_protected\", \"untracked\": false, \"paths\": [\".go/pkg/mod/\"], \"policy\": \"pull-push\", \"when\": \"on_success\", \"fallback_keys\": [\"go-mod-default-non_protected\"] }\n"
	"  ],\n"
	"  \"credentials\": [\n"
	"    { \"type\": \"registry\", \"url\": \"registry.example.com:5050\", \"username\": \"gitlab-ci-token\", \"password\": \"glcbt-Zx8QpL3vTg7mN2kR5sWd\" }\n"
	"  ],\n"
	"  \"features\": {\n"
	"    \"trace_sections\": true,\n"
	"    \"failure_reasons\": [\n"
	"      \"unknown_failure\", \"script_failure\", \"api_failure\", \"stuck_or_timeout_failure\",\n"
	"      \"runner_system_failure\", \"missing_dependency_failure\", \"runner_unsupported\",\n"
	"      \"stale_schedule\", \"job_execution_timeout\", \"archived_failure\", \"unmet_prerequisites\",\n"
	"      \"scheduler_failure\", \"data_integrity_failure\", \"forward_deployment_failure\",\n"
	"      \"user_blocked\", \"project_deleted\", \"ci_quota_exceeded\", \"pipeline_loop_detected\",\n"
	"      \"no_matching_runner\", \"trace_size_exceeded\", \"builds_disabled\",\n"
	"      \"environment_creation_failure\", \"deployment_rejected\", \"failed_outdated_deployment_job\",\n"
	"      \"job_execution_server_timeout\", \"stuck_pending_with_matching_runners\",\n"
	"      \"stuck_pending_no_matching_runners\", \"no_updates_running\", \"no_updates_canceling\",\n"
	"      \"server_timeout_running\", \"server_timeout_canceling\", \"runner_configuration_error\",\n"
	"      \"runner_external_dependency_failure\", \"runner_interrupted\",\n"
	"      \"protected_environment_failure\", \"insufficient_bridge_permissions\",\n"
	"      \"downstream_bridge_project_not_found\", \"invalid_bridge_trigger\",\n"
	"      \"upstream_bridge_project_not_found\", \"insufficient_upstream_permissions\",\n"
	"      \"bridge_pipeline_is_child_pipeline\", \"downstream_pipeline_creation_failed\",\n"
	"      \"secrets_provider_not_found\", \"reached_max_descendant_pipelines_depth\",\n"
	"      \"ip_restriction_failure\", \"reached_max_pipeline_hierarchy_size\",\n"
	"      \"reached_downstream_pipeline_trigger_rate_limit\", \"duo_workflow_not_allowed\",\n"
	"      \"job_router_failure\", \"job_token_expired\", \"id_token_burned_project_path\",\n"
	"      \"downstream_project_trigger_resolved_to_empty\"\n"
	"    ]\n"
	"  },\n"
	"  \"dependencies\": [\n"
	"    { \"id\": 8123400, \"name\": \"build\", \"token\": \"glcbt-Zx8QpL3vTg7mN2kR5sWd\", \"artifacts_file\": { \"filename\": \"artifacts.zip\", \"size\": 1048576 } },\n"
	"    { \"id\": 8123401, \"name\": \"lint\", \"token\": \"glcbt-Zx8QpL3vTg7mN2kR5sWd\" }\n"
	"  ]\n"
	"}\n";

static struct job_payload *decode_ok(const char *json)
{
	struct job_payload *p = NULL;
	struct buf err = BUF_INIT;
	int r = job_payload_decode(json, strlen(json), &p, &err);

	if (r != 0)
		fail_msg("decode failed (%d): %s", r, err.data);
	assert_non_null(p);
	buf_release(&err);
	return p;
}

/* Decodes json, expecting failure r with exactly message. */
static void decode_fails(const char *json, int want_r, const char *message)
{
	struct job_payload *p = (struct job_payload *)&p;
	struct buf err = BUF_INIT;
	int r = job_payload_decode(json, strlen(json), &p, &err);

	if (r != want_r)
		fail_msg("for %s: expected %d, got %d (%s)", json, want_r, r,
			 err.data);
	assert_null(p);
	assert_string_equal(err.data, message);
	buf_release(&err);
}

static void assert_strvec(const struct strvec *sv, const char *const *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		if (i >= sv->nr)
			fail_msg("expected %zu entries, got %zu", i + 1, sv->nr);
		assert_string_equal(sv->v[i], want[i]);
	}
	assert_int_equal(sv->nr, i);
	assert_null(sv->v[sv->nr]);
}

#define STRS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void assert_var(const struct job_variable *v, const char *key,
		       const char *value, bool pub, bool masked, bool file,
		       bool raw)
{
	assert_string_equal(v->key, key);
	assert_string_equal(v->value, value);
	assert_int_equal(v->is_public, pub);
	assert_int_equal(v->masked, masked);
	assert_int_equal(v->file, file);
	assert_int_equal(v->raw, raw);
}

static void test_example_top_and_infos(void **state)
{
	struct job_payload *p = decode_ok(example);
	const struct job_info *ji = &p->job_info;
	const struct job_git_info *gi = &p->git_info;

	(void)state;
	assert_int_equal(p->id, 8123457);
	assert_string_equal(p->token, "glcbt-Zx8QpL3vTg7mN2kR5sWd");
	assert_true(p->allow_git_fetch);

	assert_int_equal(ji->id, 8123457);
	assert_string_equal(ji->name, "test:unit");
	assert_string_equal(ji->stage, "test");
	assert_int_equal(ji->pipeline_id, 1402233);
	assert_int_equal(ji->project_id, 42);
	assert_string_equal(ji->project_name, "widget");
	assert_string_equal(ji->project_full_path, "acme/widget");
	assert_int_equal(ji->namespace_id, 7);
	assert_int_equal(ji->root_namespace_id, 7);
	assert_int_equal(ji->organization_id, 1);
	assert_string_equal(ji->instance_id, "9f86d081884c7d65");
	assert_string_equal(ji->instance_uuid,
			    "3b8f1a52-6e0c-4e7d-9a31-0c2d5f6e7a89");
	assert_int_equal(ji->user_id, 15);
	assert_false(ji->has_scoped_user_id);
	assert_int_equal(ji->scoped_user_id, 0);
	assert_true(ji->time_in_queue_seconds > 2.3139 &&
		    ji->time_in_queue_seconds < 2.3141);
	assert_string_equal(ji->project_jobs_running_on_instance_runners_count,
			    "+Inf");
	assert_int_equal(ji->queue_size, 0);
	assert_int_equal(ji->queue_depth, 0);

	assert_string_equal(gi->repo_url,
			    "https://gitlab-ci-token:glcbt-Zx8QpL3vTg7mN2kR5sWd@gitlab.example.com/acme/widget.git");
	assert_string_equal(gi->ref, "main");
	assert_string_equal(gi->sha, "5f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6");
	assert_string_equal(gi->before_sha,
			    "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c");
	assert_string_equal(gi->ref_type, "branch");
	assert_strvec(&gi->refspecs,
		      STRS("+refs/pipelines/1402233:refs/pipelines/1402233",
			   "+refs/heads/main:refs/remotes/origin/main"));
	assert_int_equal(gi->depth, 20);
	assert_string_equal(gi->repo_object_format, "sha1");
	assert_int_equal(gi->protected_ref, 1);

	assert_string_equal(p->runner_info.uuid,
			    "0e7c9b1d-5a3f-4c2e-8d6b-1f0a9e8d7c6b");
	assert_int_equal(p->runner_info.timeout, 3600);
	assert_string_equal(p->runner_info.runner_session_url, "");
	assert_string_equal(p->run, "");
	assert_int_equal(p->nr_run_steps, 0);
	job_payload_free(p);
}

static void test_example_variables(void **state)
{
	struct job_payload *p = decode_ok(example);
	const struct job_variable *v = p->variables.v;

	(void)state;
	assert_int_equal(p->variables.nr, 18);
	assert_var(&v[0], "CI_PIPELINE_ID", "1402233", true, false, false, false);
	assert_var(&v[1], "CI_PROJECT_PATH", "acme/widget", true, false, false,
		   false);
	assert_var(&v[2], "CI_SERVER_URL", "https://gitlab.example.com", true,
		   false, false, false);
	assert_var(&v[3], "CI_SERVER_HOST", "gitlab.example.com", true, false,
		   false, false);
	assert_var(&v[4], "CI_COMMIT_REF_PROTECTED", "true", true, false, false,
		   false);
	assert_var(&v[5], "CI_JOB_ID", "8123457", true, false, false, false);
	assert_var(&v[6], "CI_JOB_TOKEN", "glcbt-Zx8QpL3vTg7mN2kR5sWd", false,
		   true, false, false);
	assert_var(&v[7], "CI_REGISTRY_USER", "gitlab-ci-token", true, false,
		   false, false);
	assert_var(&v[8], "CI_REGISTRY_PASSWORD", "glcbt-Zx8QpL3vTg7mN2kR5sWd",
		   false, true, false, false);
	assert_var(&v[9], "CI_REPOSITORY_URL",
		   "https://gitlab-ci-token:glcbt-Zx8QpL3vTg7mN2kR5sWd@gitlab.example.com/acme/widget.git",
		   false, false, false, false);
	assert_var(&v[10], "CI_RUNNER_ID", "311", true, false, false, false);
	assert_var(&v[11], "CI_RUNNER_TAGS", "[\"linux\", \"shell\"]", true,
		   false, false, false);
	assert_var(&v[12], "GIT_DEPTH", "20", true, false, false, false);
	assert_var(&v[13], "GOFLAGS", "-mod=readonly", true, false, false, false);
	assert_var(&v[14], "API_SECRET", "s3cr3t-Value-99", false, true, false,
		   false);
	assert_var(&v[15], "DEPLOY_KEY",
		   "-----BEGIN OPENSSH PRIVATE KEY-----\n...\n-----END OPENSSH PRIVATE KEY-----\n",
		   false, false, true, false);
	assert_var(&v[16], "LITERAL_PATTERN", "price=$5", false, false, false,
		   true);
	assert_var(&v[17], "COVER_DIR", "$CI_PROJECT_DIR/coverage", true, false,
		   false, false);
	assert_ptr_equal(job_payload_variable(p, "GOFLAGS"), &v[13]);
	assert_null(job_payload_variable(p, "NOPE"));
	job_payload_free(p);
}

static void test_example_steps_hooks(void **state)
{
	struct job_payload *p = decode_ok(example);

	(void)state;
	assert_int_equal(p->nr_steps, 2);
	assert_string_equal(p->steps[0].name, "script");
	assert_strvec(&p->steps[0].script,
		      STRS("go version",
			   "go test ./... -coverprofile=$COVER_DIR/c.out",
			   "go-junit-report < test.log > report.xml"));
	assert_int_equal(p->steps[0].timeout, 3600);
	assert_string_equal(p->steps[0].when, "on_success");
	assert_false(p->steps[0].allow_failure);
	assert_string_equal(p->steps[1].name, "after_script");
	assert_strvec(&p->steps[1].script,
		      STRS("echo \"job finished with $CI_JOB_STATUS\""));
	assert_int_equal(p->steps[1].timeout, 3600);
	assert_string_equal(p->steps[1].when, "always");
	assert_true(p->steps[1].allow_failure);

	assert_int_equal(p->nr_hooks, 1);
	assert_string_equal(p->hooks[0].name, "pre_get_sources_script");
	assert_strvec(&p->hooks[0].script,
		      STRS("git config --global http.postBuffer 524288000"));
	job_payload_free(p);
}

static void test_example_image_services(void **state)
{
	struct job_payload *p = decode_ok(example);
	const struct job_image *im, *s;

	(void)state;
	assert_non_null(p->image);
	im = p->image;
	assert_string_equal(im->name, "golang:1.22");
	assert_int_equal(im->entrypoint.nr, 0);
	assert_int_equal(im->nr_ports, 0);
	assert_null(im->ports);
	assert_string_equal(im->executor_opts.docker.platform, "linux/amd64");
	assert_string_equal(im->executor_opts.docker.user, "1000");
	assert_int_equal(im->executor_opts.docker.unsupported.nr, 0);
	assert_string_equal(im->executor_opts.kubernetes.user, "");
	assert_int_equal(im->executor_opts.unsupported.nr, 0);
	assert_strvec(&im->pull_policy, STRS("if-not-present"));
	assert_string_equal(im->alias, "");
	assert_int_equal(im->command.nr, 0);
	assert_int_equal(im->variables.nr, 0);

	assert_int_equal(p->nr_services, 1);
	s = &p->services[0];
	assert_string_equal(s->name, "postgres:16");
	assert_int_equal(s->entrypoint.nr, 0);
	assert_string_equal(s->executor_opts.docker.platform, "");
	assert_int_equal(s->pull_policy.nr, 0);
	assert_string_equal(s->alias, "db,database");
	assert_int_equal(s->command.nr, 0);
	assert_int_equal(s->variables.nr, 1);
	assert_var(&s->variables.v[0], "POSTGRES_PASSWORD", "test", true, false,
		   false, false);
	job_payload_free(p);
}

static void test_example_artifacts_cache(void **state)
{
	struct job_payload *p = decode_ok(example);
	const struct job_artifact *a;
	const struct job_cache *c;

	(void)state;
	assert_int_equal(p->nr_artifacts, 2);
	a = &p->artifacts[0];
	assert_string_equal(a->name, "widget-$CI_COMMIT_REF_NAME");
	assert_false(a->untracked);
	assert_strvec(&a->paths, STRS("bin/", "coverage/"));
	assert_strvec(&a->exclude, STRS("bin/*.tmp"));
	assert_string_equal(a->when, "on_success");
	assert_string_equal(a->expire_in, "1 week");
	assert_string_equal(a->artifact_type, "archive");
	assert_string_equal(a->artifact_format, "zip");
	a = &p->artifacts[1];
	assert_string_equal(a->name, "junit.xml");
	assert_false(a->untracked);
	assert_strvec(&a->paths, STRS("report.xml"));
	assert_int_equal(a->exclude.nr, 0);
	assert_string_equal(a->when, "always");
	assert_string_equal(a->expire_in, "1 week");
	assert_string_equal(a->artifact_type, "junit");
	assert_string_equal(a->artifact_format, "gzip");

	assert_int_equal(p->nr_caches, 1);
	c = &p->caches[0];
	assert_string_equal(c->key, "go-mod-main-non_protected");
	assert_false(c->untracked);
	assert_strvec(&c->paths, STRS(".go/pkg/mod/"));
	assert_string_equal(c->policy, "pull-push");
	assert_string_equal(c->when, "on_success");
	assert_strvec(&c->fallback_keys, STRS("go-mod-default-non_protected"));
	job_payload_free(p);
}

static void test_example_credentials_features_deps(void **state)
{
	struct job_payload *p = decode_ok(example);
	const struct job_dependency *d;

	(void)state;
	assert_int_equal(p->nr_credentials, 1);
	assert_string_equal(p->credentials[0].type, "registry");
	assert_string_equal(p->credentials[0].url, "registry.example.com:5050");
	assert_string_equal(p->credentials[0].username, "gitlab-ci-token");
	assert_string_equal(p->credentials[0].password,
			    "glcbt-Zx8QpL3vTg7mN2kR5sWd");

	assert_true(p->features.trace_sections);
	assert_int_equal(p->features.failure_reasons.nr, 52);
	assert_string_equal(p->features.failure_reasons.v[0], "unknown_failure");
	assert_string_equal(p->features.failure_reasons.v[51],
			    "downstream_project_trigger_resolved_to_empty");
	assert_int_equal(p->features.token_mask_prefixes.nr, 0);

	assert_int_equal(p->nr_dependencies, 2);
	d = &p->dependencies[0];
	assert_int_equal(d->id, 8123400);
	assert_string_equal(d->name, "build");
	assert_string_equal(d->token, "glcbt-Zx8QpL3vTg7mN2kR5sWd");
	assert_string_equal(d->artifacts_file.filename, "artifacts.zip");
	assert_int_equal(d->artifacts_file.size, 1048576);
	d = &p->dependencies[1];
	assert_int_equal(d->id, 8123401);
	assert_string_equal(d->name, "lint");
	assert_string_equal(d->artifacts_file.filename, "");
	assert_int_equal(d->artifacts_file.size, 0);
	job_payload_free(p);
}

static void test_example_validates(void **state)
{
	struct job_payload *p = decode_ok(example);
	struct buf msg = BUF_INIT;

	(void)state;
	assert_int_equal(job_payload_validate(p, &msg), 0);
	assert_int_equal(msg.len, 0);
	job_payload_free(p);
}

static void test_nulls_everywhere(void **state)
{
	struct job_payload *p = decode_ok(
		"{\"id\": 5, \"token\": null, \"allow_git_fetch\": null,"
		" \"job_info\": null, \"git_info\": {\"refspecs\": null,"
		"  \"protected\": null, \"ref\": null, \"depth\": null},"
		" \"runner_info\": {\"runner_session_url\": null},"
		" \"variables\": [{\"key\": \"A\", \"value\": null,"
		"  \"public\": true, \"masked\": false}, null],"
		" \"steps\": [{\"name\": \"script\", \"script\": [\"a\", null],"
		"  \"when\": null}],"
		" \"hooks\": null, \"image\": null, \"services\": null,"
		" \"artifacts\": null, \"cache\": null, \"credentials\": null,"
		" \"features\": {\"failure_reasons\": null,"
		"  \"token_mask_prefixes\": null},"
		" \"dependencies\": [{\"id\": 1, \"artifacts_file\": null}],"
		" \"run\": null}");

	(void)state;
	assert_int_equal(p->id, 5);
	assert_string_equal(p->token, "");
	assert_false(p->allow_git_fetch);
	assert_string_equal(p->job_info.name, "");
	assert_false(p->job_info.has_scoped_user_id);
	assert_int_equal(p->git_info.refspecs.nr, 0);
	assert_int_equal(p->git_info.protected_ref, -1);
	assert_string_equal(p->git_info.ref, "");
	assert_int_equal(p->git_info.depth, 0);
	assert_string_equal(p->runner_info.runner_session_url, "");
	assert_int_equal(p->variables.nr, 2);
	assert_var(&p->variables.v[0], "A", "", true, false, false, false);
	/* A null element is an all-default variable. */
	assert_var(&p->variables.v[1], "", "", false, false, false, false);
	assert_strvec(&p->steps[0].script, STRS("a", ""));
	assert_string_equal(p->steps[0].when, "");
	assert_int_equal(p->nr_hooks, 0);
	assert_null(p->image);
	assert_int_equal(p->nr_services, 0);
	assert_int_equal(p->nr_artifacts, 0);
	assert_int_equal(p->nr_caches, 0);
	assert_int_equal(p->nr_credentials, 0);
	assert_int_equal(p->features.failure_reasons.nr, 0);
	assert_string_equal(p->dependencies[0].artifacts_file.filename, "");
	assert_string_equal(p->run, "");
	job_payload_free(p);
}

static void test_empty_object_defaults(void **state)
{
	struct job_payload *p = decode_ok("{}");

	(void)state;
	assert_int_equal(p->id, 0);
	assert_non_null(p->token);
	assert_string_equal(p->token, "");
	assert_string_equal(p->git_info.repo_url, "");
	assert_int_equal(p->git_info.protected_ref, -1);
	assert_non_null(p->git_info.refspecs.v);
	assert_null(p->git_info.refspecs.v[0]);
	assert_false(p->features.trace_sections);
	assert_null(p->image);
	assert_int_equal(p->variables.nr, 0);
	job_payload_free(p);
}

static void test_unknown_fields_ignored(void **state)
{
	struct job_payload *p = decode_ok(
		"{\"id\": 9, \"future_field\": {\"deep\": [1, 2, {\"x\": null}]},"
		" \"secrets\": {\"DB\": {\"vault\": {\"path\": \"a\"}}},"
		" \"policy_options\": {\"execution_policy_job\": true},"
		" \"inputs\": [{\"key\": \"k\", \"value\": {\"type\": \"string\"}}],"
		" \"job_info\": {\"name\": \"n\", \"new_counter\": 3},"
		" \"variables\": [{\"key\": \"K\", \"value\": \"v\","
		"  \"public\": true, \"masked\": false, \"internal\": 7}],"
		" \"features\": {\"trace_sections\": true,"
		"  \"tracing\": {\"trace_id\": \"abc\"}}}");

	(void)state;
	assert_int_equal(p->id, 9);
	assert_string_equal(p->job_info.name, "n");
	assert_var(&p->variables.v[0], "K", "v", true, false, false, false);
	assert_true(p->features.trace_sections);
	job_payload_free(p);
}

static void test_wrong_types(void **state)
{
	static const struct {
		const char *json, *message;
	} cases[] = {
		{ "{\"id\": \"8\"}", "job payload: 'id' must be an integer" },
		{ "{\"id\": 1.5}", "job payload: 'id' must be an integer" },
		{ "{\"token\": 5}", "job payload: 'token' must be a string" },
		{ "{\"allow_git_fetch\": \"yes\"}",
		  "job payload: 'allow_git_fetch' must be a boolean" },
		{ "{\"job_info\": []}", "job payload: 'job_info' must be an object" },
		{ "{\"job_info\": {\"time_in_queue_seconds\": \"2\"}}",
		  "job payload: 'job_info.time_in_queue_seconds' must be a number" },
		{ "{\"git_info\": {\"refspecs\": \"+refs/heads/*\"}}",
		  "job payload: 'git_info.refspecs' must be an array of strings" },
		{ "{\"git_info\": {\"protected\": \"true\"}}",
		  "job payload: 'git_info.protected' must be a boolean" },
		{ "{\"variables\": {}}", "job payload: 'variables' must be an array" },
		{ "{\"variables\": [{\"key\": \"A\", \"value\": 1}]}",
		  "job payload: 'variables[0].value' must be a string" },
		{ "{\"variables\": [{\"key\": \"A\"}, 7]}",
		  "job payload: 'variables[1]' must be an object" },
		{ "{\"steps\": [{\"name\": \"script\", \"script\": \"ls\"}]}",
		  "job payload: 'steps[0].script' must be an array of strings" },
		{ "{\"steps\": [{\"script\": [\"ls\", 3]}]}",
		  "job payload: 'steps[0].script' must be an array of strings" },
		{ "{\"image\": \"alpine\"}", "job payload: 'image' must be an object" },
		{ "{\"image\": {\"executor_opts\": {\"docker\": {\"user\": true}}}}",
		  "job payload: 'image.executor_opts.docker.user' must be a string or an integer" },
		{ "{\"services\": [{\"name\": \"a\"}, {\"ports\": [{\"number\": \"80\"}]}]}",
		  "job payload: 'services[1].ports[0].number' must be an integer" },
		{ "{\"dependencies\": [{\"artifacts_file\": {\"size\": \"1\"}}]}",
		  "job payload: 'dependencies[0].artifacts_file.size' must be an integer" },
		{ "{\"features\": {\"failure_reasons\": [1]}}",
		  "job payload: 'features.failure_reasons' must be an array of strings" },
		{ "{\"run\": [{\"name\": \"x\"}]}", "job payload: 'run' must be a string" },
		{ "{\"run\": \"{\\\"name\\\": 1}\"}",
		  "job payload: 'run' must be a JSON-encoded array of steps" },
		{ "[]", "job payload: must be a JSON object" },
		{ "{\"id\": 1", "job payload: invalid JSON at line 1 column 8 (byte 8): unexpected end of input" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		decode_fails(cases[i].json, CR_ERR_INVALID, cases[i].message);
}

/*
 * jansson's error text ends "near '<text>'", and the text there can be a
 * secret: the message names the place and the kind of error only.
 */
static void test_json_errors_quote_no_text(void **state)
{
	static const struct {
		const char *json, *message;
	} cases[] = {
		{ "{\"id\": 1, \"token\" \"glcbt-SECRET\"}",
		  "job payload: invalid JSON at line 1 column 32 (byte 32): invalid syntax" },
		{ "{\"variables\": [{\"value\": \"SECRET\" \"SECRET2\"}]}",
		  "job payload: invalid JSON at line 1 column 43 (byte 43): invalid syntax" },
		{ "{\"variables\": [{\"value\": SECRETword}]}",
		  "job payload: invalid JSON at line 1 column 35 (byte 35): invalid syntax" },
		{ "{\"token\": \"SECRET\"}SECRET",
		  "job payload: invalid JSON at line 1 column 25 (byte 25): more text after the end of the document" },
		{ "{\"token\": \"SECRET\xff\"}",
		  "job payload: invalid JSON at line 1 column 17 (byte 17): invalid UTF-8" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decode_fails(cases[i].json, CR_ERR_INVALID, cases[i].message);
		assert_null(strstr(cases[i].message, "SECRET"));
	}
}

/* 200,000 levels: jansson stops at JSON_PARSER_MAX_DEPTH, no stack blow-up. */
static void test_deep_nesting(void **state)
{
	size_t depth = 200000, i, len = 2 * depth;
	char *deep = malloc(len + 1);
	struct job_payload *p = NULL;
	struct buf err = BUF_INIT;

	(void)state;
	assert_non_null(deep);
	for (i = 0; i < depth; i++) {
		deep[i] = '[';
		deep[len - 1 - i] = ']';
	}
	deep[len] = '\0';
	assert_int_equal(job_payload_decode(deep, len, &p, &err),
			 CR_ERR_INVALID);
	assert_null(p);
	assert_non_null(strstr(err.data, "nested too deep"));
	buf_release(&err);
	free(deep);
}

static void salvage(const char *json, int64_t want_id, const char *want_token,
		    bool want_ok)
{
	int64_t id = -1;
	char *token = (char *)&id;
	bool ok = job_payload_salvage_identity(json, strlen(json), &id, &token);

	if (ok != want_ok || id != want_id ||
	    (want_token ? !token || strcmp(token, want_token) : token != NULL))
		fail_msg("salvage of %s: got %d, id %lld, token %s", json,
			 (int)ok, (long long)id, token ? token : "(null)");
	free(token);
}

static void test_salvage_identity(void **state)
{
	char *deep;
	size_t i, n = 100000;
	static const char head[] = "{\"id\": 42, \"token\": \"glcbt-t\", \"x\": ";

	(void)state;
	/* cut short after the members GitLab sends first */
	salvage("{\"id\": 42, \"token\": \"glcbt-t\", \"allow_git_fe", 42,
		"glcbt-t", true);
	salvage(" {\n\"id\":42 ,\"token\":\"glcbt-t\",\"job_info\":{\"name\":\"b", 42,
		"glcbt-t", true);
	/* whole but refused for a type: still read */
	salvage("{\"token\": \"glcbt-t\", \"id\": 7, \"variables\": 3}", 7,
		"glcbt-t", true);
	/* a value cut short does not count: "4" of "42" is not the id */
	salvage("{\"token\": \"glcbt-t\", \"id\": 4", 0, "glcbt-t", false);
	salvage("{\"id\": 42, \"token\": \"glcbt-", 42, NULL, false);
	/* not an object, or members of the wrong type: nothing */
	salvage("[{\"id\": 42, \"token\": \"glcbt-t\"}]", 0, NULL, false);
	salvage("{\"id\": \"42\", \"token\": 5}", 0, NULL, false);
	salvage("{}", 0, NULL, false);
	salvage("", 0, NULL, false);
	salvage("{\"id\" 42, \"token\": \"glcbt-t\"}", 0, NULL, false);
	/* a deep member after them: they are read, the depth is refused */
	deep = malloc(sizeof(head) + 2 * n + 2);
	assert_non_null(deep);
	memcpy(deep, head, sizeof(head) - 1);
	for (i = 0; i < n; i++) {
		deep[sizeof(head) - 1 + i] = '[';
		deep[sizeof(head) - 1 + 2 * n - 1 - i] = ']';
	}
	memcpy(deep + sizeof(head) - 1 + 2 * n, "}", 2);
	salvage(deep, 42, "glcbt-t", true);
	free(deep);
}

static void test_size_cap(void **state)
{
	struct job_payload *p = NULL;
	struct buf err = BUF_INIT;
	char *big;
	size_t len = CR_MAX_PAYLOAD + 1;

	(void)state;
	big = malloc(len);
	assert_non_null(big);
	memset(big, ' ', len);
	big[0] = '{';
	big[len - 1] = '}';
	assert_int_equal(job_payload_decode(big, len, &p, &err),
			 CR_ERR_TOO_LARGE);
	assert_null(p);
	assert_string_equal(err.data, "job payload: larger than 33554432 bytes");
	free(big);
	buf_release(&err);
}

static void test_run_steps(void **state)
{
	struct job_payload *p = decode_ok(
		"{\"run\": \"[{\\\"name\\\": \\\"hello\\\", \\\"script\\\": \\\"echo hi\\\"}]\","
		" \"steps\": [{\"name\": \"script\", \"script\": []}]}");
	struct buf msg = BUF_INIT;

	(void)state;
	assert_int_equal(p->nr_run_steps, 1);
	assert_string_equal(p->run,
			    "[{\"name\": \"hello\", \"script\": \"echo hi\"}]");
	assert_int_equal(job_payload_validate(p, &msg), 0);
	job_payload_free(p);
	buf_release(&msg);
}

static void expect_invalid(const char *json, const char *message)
{
	struct job_payload *p = decode_ok(json);
	struct buf msg = BUF_INIT;

	assert_int_equal(job_payload_validate(p, &msg), CR_ERR_UNSUPPORTED);
	assert_string_equal(msg.data, message);
	buf_release(&msg);
	job_payload_free(p);
}

static void test_validate_run_and_script(void **state)
{
	(void)state;
	expect_invalid("{\"run\": \"[{}]\", \"steps\": [{\"name\": \"script\","
		       " \"script\": [\"ls\"]}]}",
		       "the `run` and `script` keywords cannot be used together");
	expect_invalid("{\"run\": \"[{}]\", \"variables\": [{\"key\": \"STEPS\","
		       " \"value\": \"x\"}]}",
		       "the `run` keyword requires the exclusive use of the variable STEPS");
}

static void test_validate_executor_opts(void **state)
{
	(void)state;
	expect_invalid("{\"image\": {\"name\": \"a\", \"executor_opts\":"
		       " {\"docker\": {\"platform\": \"x\", \"foo\": 1, \"bar\": null}}}}",
		       "Unsupported \"image\" options [foo bar] for \"docker executor\";"
		       " supported options are [platform user]");
	expect_invalid("{\"image\": {\"executor_opts\": {\"podman\": {}}},"
		       " \"services\": [{\"executor_opts\":"
		       " {\"kubernetes\": {\"user\": 1000, \"group\": 3}}}]}",
		       "Unsupported \"image\" options [podman] for \"executor_opts\";"
		       " supported options are [docker kubernetes]\n"
		       "Unsupported \"image\" options [group] for \"kubernetes executor\";"
		       " supported options are [user]");
}

static void test_duplicate_variable_last_wins(void **state)
{
	struct job_payload *p = decode_ok(
		"{\"variables\": [{\"key\": \"A\", \"value\": \"1\"},"
		" {\"key\": \"B\", \"value\": \"2\"},"
		" {\"key\": \"A\", \"value\": \"3\"}]}");

	(void)state;
	assert_string_equal(job_payload_variable(p, "A")->value, "3");
	assert_string_equal(job_payload_variable(p, "B")->value, "2");
	job_payload_free(p);
}

static bool all_zero(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_wipe_secrets(void **state)
{
	struct job_payload *p = decode_ok(example);
	char *token = p->token, *url = p->git_info.repo_url;
	char *masked = p->variables.v[14].value;
	char *plain = p->variables.v[13].value;
	char *svc = p->services[0].variables.v[0].value;
	char *pass = p->credentials[0].password;
	char *dep = p->dependencies[0].token;
	size_t token_len = strlen(token), url_len = strlen(url);
	size_t masked_len = strlen(masked), plain_len = strlen(plain);

	(void)state;
	job_payload_wipe(p);
	/* The same memory, overwritten in place. */
	assert_ptr_equal(p->token, token);
	assert_true(all_zero(token, token_len));
	assert_true(all_zero(url, url_len));
	assert_true(all_zero(masked, masked_len));
	assert_true(all_zero(plain, plain_len));
	assert_string_equal(svc, "");
	assert_string_equal(pass, "");
	assert_string_equal(dep, "");
	/* Not secrets. */
	assert_string_equal(p->variables.v[13].key, "GOFLAGS");
	assert_string_equal(p->job_info.name, "test:unit");
	job_payload_free(p);
	job_payload_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_top_and_infos),
		cmocka_unit_test(test_example_variables),
		cmocka_unit_test(test_example_steps_hooks),
		cmocka_unit_test(test_example_image_services),
		cmocka_unit_test(test_example_artifacts_cache),
		cmocka_unit_test(test_example_credentials_features_deps),
		cmocka_unit_test(test_example_validates),
		cmocka_unit_test(test_nulls_everywhere),
		cmocka_unit_test(test_empty_object_defaults),
		cmocka_unit_test(test_unknown_fields_ignored),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_json_errors_quote_no_text),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_salvage_identity),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_run_steps),
		cmocka_unit_test(test_validate_run_and_script),
		cmocka_unit_test(test_validate_executor_opts),
		cmocka_unit_test(test_duplicate_variable_last_wins),
		cmocka_unit_test(test_wipe_secrets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
