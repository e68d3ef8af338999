#!/usr/bin/env bash
# Server mode: a user command's exit status is left to bash's errexit, as
# gitlab-runner does, unless FF_ENABLE_BASH_EXIT_CODE_CHECK (a job variable
# or the runner's [runners.feature_flags]) asks for every one to be checked.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

# "grep finds nothing && ... && exit 1": errexit ignores the failing grep.
SCRIPT='"script": ["grep -q absent /dev/null && echo found && exit 1", "echo went-on"]'

test_case "default: a failure errexit ignores does not fail the job"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$SCRIPT"'}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "went-on" "the next command ran"

test_case "FF_ENABLE_BASH_EXIT_CODE_CHECK job variable: the same line fails the job"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_ENABLE_BASH_EXIT_CODE_CHECK", "value": "true", "public": true, "masked": false}],
  '"$SCRIPT"'}')
run_single --max-builds 1
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "went-on" "the next command"
expect_contains "$T_DIR/trace" "ERROR: Job failed: exit status 1" "exit status"

test_case "the runner's feature flag does the same; a job variable false turns it off"
cat >"$T_DIR/config.toml" <<TOML
concurrent = 1
[[runners]]
  name = "ff"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds-ff"
  [runners.feature_flags]
    FF_ENABLE_BASH_EXIT_CODE_CHECK = true
TOML
on=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$SCRIPT"'}')
off=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_ENABLE_BASH_EXIT_CODE_CHECK", "value": "false", "public": true, "masked": false}],
  '"$SCRIPT"'}')
RUN_RC=0
timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 2 \
	--check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
expect_eq 0 "$RUN_RC" "exit code"
expect_eq failed "$(job_field "$on" 'd["status"]')" "job status with the runner's flag"
expect_eq success "$(job_field "$off" 'd["status"]')" "job status with the variable false"

echo "t_exit_code_check: all cases passed"
