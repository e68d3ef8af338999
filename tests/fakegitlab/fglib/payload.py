"""Job payloads (the 201 body of POST /jobs/request, spec §3) and protocol enums."""

import copy
from urllib.parse import urlsplit

# Server failure-reason enum in wire order (spec §5.6); the payload's
# features.failure_reasons lists exactly these and PUT /jobs/:id validates against them.
FAILURE_REASONS = [
    "unknown_failure", "script_failure", "api_failure", "stuck_or_timeout_failure",
    "runner_system_failure", "missing_dependency_failure", "runner_unsupported",
    "stale_schedule", "job_execution_timeout", "archived_failure", "unmet_prerequisites",
    "scheduler_failure", "data_integrity_failure", "forward_deployment_failure",
    "user_blocked", "project_deleted", "ci_quota_exceeded", "pipeline_loop_detected",
    "no_matching_runner", "trace_size_exceeded", "builds_disabled",
    "environment_creation_failure", "deployment_rejected", "failed_outdated_deployment_job",
    "job_execution_server_timeout", "stuck_pending_with_matching_runners",
    "stuck_pending_no_matching_runners", "no_updates_running", "no_updates_canceling",
    "server_timeout_running", "server_timeout_canceling", "runner_configuration_error",
    "runner_external_dependency_failure", "runner_interrupted",
    "protected_environment_failure", "insufficient_bridge_permissions",
    "downstream_bridge_project_not_found", "invalid_bridge_trigger",
    "upstream_bridge_project_not_found", "insufficient_upstream_permissions",
    "bridge_pipeline_is_child_pipeline", "downstream_pipeline_creation_failed",
    "secrets_provider_not_found", "reached_max_descendant_pipelines_depth",
    "ip_restriction_failure", "reached_max_pipeline_hierarchy_size",
    "reached_downstream_pipeline_trigger_rate_limit", "duo_workflow_not_allowed",
    "job_router_failure", "job_token_expired", "id_token_burned_project_path",
    "downstream_project_trigger_resolved_to_empty",
]

# Artifact type -> the only format the server accepts for it (spec §6.2).
ARTIFACT_TYPE_FORMAT = {}
for _fmt, _types in {
    "zip": ["archive", "lsif", "scip"],
    "gzip": ["metadata", "junit", "metrics", "metrics_referee", "network_referee", "dotenv",
             "cobertura", "jacoco", "cluster_applications", "cyclonedx", "annotations",
             "repository_xray"],
    "raw": ["trace", "sast", "secret_detection", "dependency_scanning", "container_scanning",
            "cluster_image_scanning", "dast", "license_scanning", "accessibility",
            "codequality", "performance", "browser_performance", "load_performance",
            "terraform", "requirements", "requirements_v2", "coverage_fuzzing",
            "api_fuzzing", "sarif"],
}.items():
    for _t in _types:
        ARTIFACT_TYPE_FORMAT[_t] = _fmt

# Value that removes a key when used in payload overrides (JSON has no "undefined").
DELETE = "__delete__"

DEFAULT_SHA = "5f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6"
DEFAULT_BEFORE_SHA = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c"


def deep_merge(base, overrides):
    """Merge overrides into a deep copy of base: dicts recurse, everything else
    (lists included) replaces, and the value DELETE removes the key."""
    out = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, str) and value == DELETE:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def var(key, value, public=True, masked=False, file=False, raw=False):
    """One entry of `variables` (spec §3.5): file/raw appear only when true."""
    v = {"key": key, "value": value, "public": public, "masked": masked}
    if file:
        v["file"] = True
    if raw:
        v["raw"] = True
    return v


def normalize_variables(variables):
    """Accept a {KEY: value} dict or a list of variable objects/tuples."""
    if variables is None:
        return []
    if isinstance(variables, dict):
        return [var(k, None if v is None else str(v)) for k, v in variables.items()]
    out = []
    for v in variables:
        if isinstance(v, dict):
            out.append(var(v["key"], v.get("value"), v.get("public", True),
                           v.get("masked", False), v.get("file", False), v.get("raw", False)))
        else:
            out.append(var(*v))
    return out


def _slug(ref):
    s = "".join(c if c.isalnum() else "-" for c in ref.lower())[:63]
    return s.strip("-")


def build_payload(job_id, job_token, server_url, runner_id=1, runner_description="",
                  runner_tags=(), project_path="acme/widget", project_id=42,
                  pipeline_id=1402233, name="test", stage="test", ref="main",
                  sha=DEFAULT_SHA, timeout=3600, script=None, after_script=None,
                  variables=None, git_strategy=None, depth=20, template="default"):
    """A complete, valid job payload for a branch pipeline (spec §3.12 shape).

    template "default" has no image, services, artifacts, caches or dependencies so a plain
    shell runner can run it; "example" adds those parts like the spec's composed example.
    `variables` (dict or list) are appended after the predefined ones (last one wins).
    """
    url = urlsplit(server_url)
    host = url.hostname or "127.0.0.1"
    hostport = url.netloc.rsplit("@", 1)[-1]
    namespace, _, project_name = project_path.rpartition("/")
    repo_url = f"{url.scheme}://gitlab-ci-token:{job_token}@{hostport}/{project_path}.git"
    if script is None:
        script = ["echo hello from fakegitlab"]
    elif isinstance(script, str):
        script = [script]
    if isinstance(after_script, str):
        after_script = [after_script]
    tags = list(runner_tags)

    refspecs = [f"+refs/pipelines/{pipeline_id}:refs/pipelines/{pipeline_id}"]
    if depth > 0:
        refspecs.append(f"+refs/heads/{ref}:refs/remotes/origin/{ref}")
    else:
        refspecs += ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]

    variables_list = [
        var("CI", "true"), var("GITLAB_CI", "true"),
        var("CI_SERVER_URL", server_url), var("CI_SERVER_HOST", host),
        var("CI_SERVER_PORT", str(url.port or (443 if url.scheme == "https" else 80))),
        var("CI_SERVER_PROTOCOL", url.scheme), var("CI_SERVER_NAME", "GitLab"),
        var("CI_SERVER_VERSION", "18.5.0"), var("CI_API_V4_URL", server_url + "/api/v4"),
        var("CI_PIPELINE_ID", str(pipeline_id)), var("CI_PIPELINE_IID", "1"),
        var("CI_PIPELINE_SOURCE", "push"),
        var("CI_PIPELINE_URL", f"{server_url}/{project_path}/-/pipelines/{pipeline_id}"),
        var("CI_PROJECT_ID", str(project_id)), var("CI_PROJECT_NAME", project_name),
        var("CI_PROJECT_PATH", project_path), var("CI_PROJECT_NAMESPACE", namespace),
        var("CI_PROJECT_PATH_SLUG", _slug(project_path)),
        var("CI_PROJECT_URL", f"{server_url}/{project_path}"),
        var("CI_DEFAULT_BRANCH", "main"),
        var("CI_COMMIT_SHA", sha), var("CI_COMMIT_SHORT_SHA", sha[:8]),
        var("CI_COMMIT_BEFORE_SHA", DEFAULT_BEFORE_SHA),
        var("CI_COMMIT_REF_NAME", ref), var("CI_COMMIT_REF_SLUG", _slug(ref)),
        var("CI_COMMIT_BRANCH", ref), var("CI_COMMIT_REF_PROTECTED", "true"),
        var("CI_JOB_ID", str(job_id)), var("CI_JOB_NAME", name), var("CI_JOB_STAGE", stage),
        var("CI_JOB_URL", f"{server_url}/{project_path}/-/jobs/{job_id}"),
        var("CI_JOB_TOKEN", job_token, public=False, masked=True),
        var("CI_REGISTRY_USER", "gitlab-ci-token"),
        var("CI_REGISTRY_PASSWORD", job_token, public=False, masked=True),
        var("CI_REPOSITORY_URL", repo_url, public=False),
        var("CI_RUNNER_ID", str(runner_id)),
        var("CI_RUNNER_DESCRIPTION", runner_description),
        var("CI_RUNNER_TAGS", "[" + ", ".join(f'"{t}"' for t in tags) + "]"),
        var("CI_NODE_TOTAL", "1"),
        var("GITLAB_USER_ID", "15"), var("GITLAB_USER_LOGIN", "tester"),
        var("GIT_DEPTH", str(depth)),
    ]
    if git_strategy:
        variables_list.append(var("GIT_STRATEGY", git_strategy))
    variables_list += normalize_variables(variables)

    steps = [{"name": "script", "script": list(script), "timeout": timeout,
              "when": "on_success", "allow_failure": False}]
    if after_script:
        steps.append({"name": "after_script", "script": list(after_script), "timeout": timeout,
                      "when": "always", "allow_failure": True})

    payload = {
        "id": job_id,
        "token": job_token,
        "allow_git_fetch": True,
        "job_info": {
            "id": job_id, "name": name, "stage": stage, "pipeline_id": pipeline_id,
            "project_id": project_id, "project_name": project_name,
            "project_full_path": project_path, "namespace_id": 7, "root_namespace_id": 7,
            "organization_id": 1, "instance_id": "9f86d081884c7d65",
            "instance_uuid": "3b8f1a52-6e0c-4e7d-9a31-0c2d5f6e7a89", "user_id": 15,
            "scoped_user_id": None, "time_in_queue_seconds": 0.5,
            "project_jobs_running_on_instance_runners_count": "+Inf",
            "queue_size": 0, "queue_depth": 0,
        },
        "git_info": {
            "repo_url": repo_url, "ref": ref, "sha": sha, "before_sha": DEFAULT_BEFORE_SHA,
            "ref_type": "branch", "refspecs": refspecs, "depth": depth,
            "repo_object_format": "sha1", "protected": True,
        },
        "runner_info": {"uuid": "0e7c9b1d-5a3f-4c2e-8d6b-1f0a9e8d7c6b", "timeout": timeout,
                        "runner_session_url": None},
        "variables": variables_list,
        "steps": steps,
        "hooks": [],
        "image": None,
        "services": [],
        "artifacts": None,
        "cache": [],
        "credentials": [],
        "features": {"trace_sections": True, "failure_reasons": list(FAILURE_REASONS)},
        "dependencies": [],
    }
    if template == "example":
        payload.update(_example_parts(job_token, host))
    elif template != "default":
        raise ValueError(f"unknown payload template {template!r}")
    return payload


def _example_parts(job_token, host):
    """Image, service, archive + JUnit report, cache, registry credentials, hook (§3.12)."""
    return {
        "hooks": [{"name": "pre_get_sources_script",
                   "script": ["git config --global http.postBuffer 524288000"]}],
        "image": {"name": "golang:1.22", "entrypoint": None, "ports": [],
                  "executor_opts": {"docker": {"platform": "linux/amd64", "user": "1000"}},
                  "pull_policy": ["if-not-present"]},
        "services": [{"name": "postgres:16", "entrypoint": None, "ports": [],
                      "executor_opts": None, "pull_policy": None, "alias": "db,database",
                      "command": None,
                      "variables": [var("POSTGRES_PASSWORD", "test")]}],
        "artifacts": [
            {"name": "widget-$CI_COMMIT_REF_NAME", "untracked": False,
             "paths": ["bin/", "coverage/"], "exclude": ["bin/*.tmp"], "when": "on_success",
             "expire_in": "1 week", "artifact_type": "archive", "artifact_format": "zip"},
            {"name": "junit.xml", "paths": ["report.xml"], "when": "always",
             "expire_in": "1 week", "artifact_type": "junit", "artifact_format": "gzip"},
        ],
        "cache": [{"key": "go-mod-main-non_protected", "untracked": False,
                   "paths": [".go/pkg/mod/"], "policy": "pull-push", "when": "on_success",
                   "fallback_keys": ["go-mod-default-non_protected"]}],
        "credentials": [{"type": "registry", "url": f"{host}:5050",
                         "username": "gitlab-ci-token", "password": job_token}],
    }


def required_features(payload):
    """Runner features the server requires before handing out this job (spec §1.8,
    "Server use" column): a runner lacking one gets the job dropped as runner_unsupported."""
    req = set()

    def dicts(value):
        # A deliberately malformed payload (a test of the runner's decoder)
        # must still be queued: skip what is not a list of objects.
        return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []

    for a in dicts(payload.get("artifacts")):
        if a.get("artifact_type", "archive") != "archive":
            req.add("upload_multiple_artifacts")
        if a.get("exclude"):
            req.add("artifacts_exclude")
    for c in dicts(payload.get("cache")):
        if c.get("fallback_keys"):
            req.add("fallback_cache_keys")
    for s in dicts(payload.get("steps")):
        if s.get("name") not in ("script", "after_script"):
            req.add("multi_build_steps")
    git_info = payload.get("git_info")
    refspecs = git_info.get("refspecs") if isinstance(git_info, dict) else None
    for r in refspecs if isinstance(refspecs, list) else []:
        if isinstance(r, str) and "refs/merge-requests/" in r:
            req.add("refspecs")
    if payload.get("secrets"):
        req.add("vault_secrets")
    return req
