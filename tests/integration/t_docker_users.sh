#!/usr/bin/env bash
# [runners.docker] user / allowed_users against a job's image:docker:user,
# as gitlab-runner's DockerConfig.IsUserAllowed decides: the runner's user
# wins; a job's user must be in allowed_users (or be the runner's user
# when only that is set); a refused user fails the job before any build
# container is created.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dus
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

user_job() { # USER
	run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
	  "payload": {"image": {"name": "'"$BUSYBOX"'", "executor_opts": {"docker": {"user": "'"$1"'"}}}},
	  "script": ["echo uid=$(id -u)"]}'
}

test_case "a job user listed in allowed_users runs as that user"
write_config 'allowed_users = ["65534", "1234"]'
user_job 1234
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -5 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "uid=1234" "image:docker:user"
expect_nothing_left "$id"

test_case "a job user not in allowed_users fails the job, no build container"
write_config 'allowed_users = ["65534", "1234"]'
user_job 0
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" 'user "0" is not an allowed user: [65534 1234]' "gitlab-runner's message"
expect_not_contains "$T_DIR/trace" "uid=" "script ran"
expect_nothing_left "$id"

test_case "the runner's user alone: a job asking for another one is refused"
write_config 'user = "65534"'
user_job 1234
expect_eq success "$(job_field "$id" 'd["status"]')" "runner's user wins ($(tail -5 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "uid=65534" "the runner's user"

test_case "the runner's user outside allowed_users is refused too"
write_config 'user = "65534"' 'allowed_users = ["1234"]'
user_job 1234
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" 'user "65534" is not an allowed user: [1234]' "message"

test_case "a variable in image:docker:user is expanded before the check"
write_config 'allowed_users = ["4321"]'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "JOB_UID", "value": "4321", "public": true}],
  "payload": {"image": {"name": "'"$BUSYBOX"'", "executor_opts": {"docker": {"user": "$JOB_UID"}}}},
  "script": ["echo uid=$(id -u)"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -5 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "uid=4321" "expanded user"

t_finish
