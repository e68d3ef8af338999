#!/usr/bin/env bash
# FF_LOG_IMAGES_CONFIGURED_FOR_JOB: the runner's log names the job's image
# and each service image (with its image:docker:platform), as gitlab-runner
# logs "Image configured for job" and "Service image configured for job";
# the job's variable or the runner's flag turns it on, nothing is logged
# without it, and the job's own log never has these lines.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

PAYLOAD='"payload": {"image": {"name": "alpine:3.20", "executor_opts": {"docker": {"platform": "linux/arm64"}}},
  "services": [{"name": "postgres:16"}, {"name": "redis:7", "executor_opts": {"docker": {"platform": "linux/amd64"}}}]}'

test_case "the job's variable: the image and each service image, in the runner's log"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$PAYLOAD"',
  "variables": [{"key": "FF_LOG_IMAGES_CONFIGURED_FOR_JOB", "value": "true", "public": true}],
  "script": ["echo ran"]}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "exit code ($(tail -3 "$T_DIR/run.err"))"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/run.err" "Image configured for job job=$id project=" "the image line"
expect_contains "$T_DIR/run.err" "image_name=alpine:3.20 image_platform=linux/arm64" "its name and platform"
expect_eq 2 "$(grep -c "Service image configured for job job=$id " "$T_DIR/run.err")" "one line per service"
expect_contains "$T_DIR/run.err" "image_name=postgres:16" "the first service"
expect_contains "$T_DIR/run.err" "image_name=redis:7 image_platform=linux/amd64" "the second, with its platform"
job_trace "$id" "$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "configured for job" "not in the job's log"

test_case "without the flag: no such line"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$PAYLOAD"', "script": ["echo ran"]}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_not_contains "$T_DIR/run.err" "configured for job" "nothing logged"

test_case "the runner's [runners.feature_flags] does the same"
cat >"$T_DIR/config.toml" <<TOML
concurrent = 1
[[runners]]
  name = "ff"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds-ff"
  [runners.feature_flags]
    FF_LOG_IMAGES_CONFIGURED_FOR_JOB = true
TOML
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$PAYLOAD"', "script": ["echo ran"]}')
RUN_RC=0
timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
expect_eq 0 "$RUN_RC" "exit code ($(tail -3 "$T_DIR/run.err"))"
expect_contains "$T_DIR/run.err" "Image configured for job job=$id " "the image line"
expect_eq 2 "$(grep -c "Service image configured for job job=$id " "$T_DIR/run.err")" "one line per service"

echo "ok: $T_NAME"
