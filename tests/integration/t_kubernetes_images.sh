#!/usr/bin/env bash
# What [runners.kubernetes] allows a job's images to be and do, against the
# fake API server (each pod's containers run as Docker containers):
# allowed_images and allowed_services refuse before any pod is created,
# with gitlab-runner's log lines; the image's kubernetes user runs the
# build container when allowed_users / allowed_groups allow it.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=kim
start_fakegitlab
. "$(dirname "$0")/k8s_lib.sh"
add_runner "$TOKEN"
start_k8s

pod_posts() { requests 'r["method"] == "POST" and r["path"].endswith("/pods")' | wc -l; }

test_case "allowed_images: a job image not on the list fails the job before any pod"
write_config 'allowed_images = ["crunner-test/bash:*", "registry.example.com/**"]'
before=$(pod_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "crunner-test/service:latest"}},
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" 'ERROR: The "crunner-test/service:latest" image is not present on list of allowed images:' "gitlab-runner's line"
expect_contains "$T_DIR/trace" "- crunner-test/bash:*" "the list"
expect_contains "$T_DIR/trace" "Please check runner's allowed_images configuration" "the hint"
expect_contains "$T_DIR/trace" "disallowed image" "the reason"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
expect_eq "$before" "$(pod_posts)" "no pod created"

test_case "allowed_images: config.toml's image is allowed whatever the list; allowed_services refuses a service"
write_config 'allowed_images = ["registry.example.com/**"]' 'allowed_services = ["crunner-test/bash:*"]'
before=$(pod_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "alias": "web"}]},
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "ERROR: The \"$SERVICE_IMAGE\" image is not present on list of allowed services:" "gitlab-runner's line"
expect_not_contains "$T_DIR/trace" "list of allowed images" "the build image passed"
expect_eq "$before" "$(pod_posts)" "no pod created"

test_case "allowed_users / allowed_groups: the image's kubernetes user runs the script"
write_config 'cleanup_grace_period_seconds = 0' 'allowed_images = ["crunner-test/*"]' \
	'allowed_users = ["1000"]' 'allowed_groups = ["3000"]'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BUSYBOX"'", "executor_opts": {"kubernetes": {"user": "1000:3000"}}}},
  "script": ["echo \"ids: $(id -u):$(id -g)\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "ids: 1000:3000" "the job's user and group"
expect_eq '1000 3000' "$(pod_field 'str(p["spec"]["containers"][0]["securityContext"]["runAsUser"]) + " " + str(p["spec"]["containers"][0]["securityContext"]["runAsGroup"])')" "build security context"
expect_pod_deleted "$(last_pod)" 0

test_case "allowed_users: a user not on the list is ignored with gitlab-runner's warning"
write_config 'cleanup_grace_period_seconds = 0' 'allowed_users = ["1000"]'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BUSYBOX"'", "executor_opts": {"kubernetes": {"user": "0"}}}},
  "script": ["echo \"uid: $(id -u)\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "WARNING: Error parsing 'uid' from image options for container \"build\", using the configured security context: validating UID: user \"0\" is not in the allowed list: [1000]" "the warning"
expect_eq "" "$(pod_field 'str(p["spec"]["containers"][0]["securityContext"].get("runAsUser", ""))')" "no runAsUser"
expect_pod_deleted "$(last_pod)" 0

t_finish
