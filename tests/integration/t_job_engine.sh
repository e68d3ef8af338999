#!/usr/bin/env bash
# The job engine through the real binary: timeouts, output limit, git
# strategies and submodules, abort, config scripts, bad payloads and output.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"


test_case "the job timeout stops the script: job_execution_timeout, no after_script"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "timeout": 2,
  "script": ["echo started", "sleep 30", "echo not-reached"],
  "after_script": ["echo after-ran"]}')
start=$(date +%s)
run_single --max-builds 1
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "ERROR: Job failed: execution took longer than 2s seconds" "footer"
expect_not_contains "$T_DIR/trace" "not-reached" "script after timeout"
expect_not_contains "$T_DIR/trace" "after-ran" "after_script after the job timeout"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "timeout took $(( $(date +%s) - start )) s"

test_case "RUNNER_SCRIPT_TIMEOUT: script stopped, after_script still runs with timedout"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "RUNNER_SCRIPT_TIMEOUT", "value": "1s", "public": true, "masked": false}],
  "script": ["sleep 30"], "after_script": ["echo after:$CI_JOB_STATUS"]}')
run_single --max-builds 1
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "after:timedout" "after_script status"

test_case "RUNNER_AFTER_SCRIPT_TIMEOUT: a hung after_script is stopped, job result kept"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "RUNNER_AFTER_SCRIPT_TIMEOUT", "value": "1s", "public": true, "masked": false}],
  "script": ["true"], "after_script": ["sleep 30"]}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "after_script failed, but job will continue unaffected: execution took longer than 1s seconds" "warning"

test_case "output_limit: the log is cut with gitlab-runner's notice, the job goes on"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["head -c 20000 /dev/zero | tr \"\\\\0\" x", "echo; echo still-running > '"$T_DIR"'/went-on"]}')
run_single --max-builds 1 --output-limit 4
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_eq True "$(job_field "$id" 'd["checksum_ok"]')" "checksum"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Job's log exceeded limit of 4096 bytes." "notice"
expect_contains "$T_DIR/trace" "Job execution will continue but no more output will be collected." "notice 2"
expect_not_contains "$T_DIR/trace" "Job succeeded" "footer after the limit"
[ "$(wc -c <"$T_DIR/trace")" -lt 4400 ] || fail "log is $(wc -c <"$T_DIR/trace") bytes"
[ -f "$T_DIR/went-on" ] || fail "the job did not go on after the limit"

test_case "abort (Job-Status canceled): everything stops at once, no after_script"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "for i in $(seq 600); do echo tick $i; sleep 0.1; done"],
  "after_script": ["echo after-ran"]}')
( wait_for_trace "$id" started
  curl -sS -X POST -d '{"graceful": false}' "$FAKE_URL/__control/jobs/$id/cancel" >/dev/null ) &
canceller=$!
start=$(date +%s)
run_single --max-builds 1
wait "$canceller"
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "after-ran" "after_script on abort"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "abort took $(( $(date +%s) - start )) s"
leftover=$(pgrep -f "tick \$i" || true)
[ -z "$leftover" ] || fail "processes left behind: $leftover"

test_case "shell executor: one shell per trivial job, the prepare line written by crunner"
# gitlab-runner echoes "Running on <host>..." from a prepare_script shell;
# crunner writes the same line itself (executor_ops.native_prepare), so a
# trivial job starts one shell, for its step_script.
mkdir -p "$T_DIR/shim"
printf '#!/bin/sh\necho "$*" >>"%s"\nexec /bin/bash "$@"\n' "$T_DIR/shells.log" >"$T_DIR/shim/bash"
chmod +x "$T_DIR/shim/bash"
: >"$T_DIR/shells.log"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo step-ran"]}')
PATH="$T_DIR/shim:$PATH" run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "step-ran" "the step ran through the shim"
expect_eq 1 "$(wc -l <"$T_DIR/shells.log")" "shells started for the job"
grep -q "step_script" "$T_DIR/shells.log" || fail "the one shell was not step_script's: $(cat "$T_DIR/shells.log")"
# The line sits in the prepare_script section, as the script's stdout would.
sed -n '/section_start:[0-9]*:prepare_script/,/section_end:[0-9]*:prepare_script/p' "$T_DIR/trace" >"$T_DIR/prepare"
expect_contains "$T_DIR/prepare" "Running on $(hostname)..." "prepare line"
# Marked as the job's stdout (as step-ran is), no colour or erase codes.
stream=$(grep -a " step-ran\$" "$T_DIR/trace" | head -1 | cut -d' ' -f2)
[ -n "$stream" ] || fail "no plain step-ran line in the trace"
grep -aq " $stream Running on $(hostname)\.\.\.\$" "$T_DIR/prepare" ||
	fail "prepare line not a plain stdout line like the step's ($stream): $(grep -a "Running on" "$T_DIR/prepare" | od -c | head -5)"

test_case "a payload of the wrong shape fails that job; the runner goes on"
bad=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "payload": {"steps": "not-an-array"}}')
good=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo fine"]}')
# A job whose payload cannot be decoded is no build (gitlab-runner's
# run-single counts a build once it ran): one build is the good job, and
# run-single stops by itself after it (with --max-builds 2 it waited for
# a third job until run_single's timeout killed it).
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "run-single exit code (stopped after the good job)"
expect_eq failed "$(job_field "$bad" 'd["status"]')" "bad job status"
expect_eq runner_system_failure "$(job_field "$bad" 'd["failure_reason"]')" "bad job reason"
job_trace "$bad" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "steps" "the trace names the bad field"
expect_eq success "$(job_field "$good" 'd["status"]')" "next job"

test_case "huge variable values and invalid UTF-8 output are handled"
big=$(head -c 120000 /dev/zero | tr '\0' 'v')
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "BIG", "value": "'"$big"'", "public": true, "masked": false}],
  "script": ["echo ${#BIG}", "printf \"bad:\\\\377\\\\376:end\\\\n\""]}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_eq True "$(job_field "$id" 'd["checksum_ok"]')" "checksum"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "120000" "variable length"
expect_contains "$T_DIR/trace" "bad:$(printf '\xef\xbf\xbd\xef\xbf\xbd'):end" "U+FFFD for invalid bytes"

test_case "config.toml: sh shell, environment, pre/post build scripts"
cat >"$T_DIR/config.toml" <<TOML
concurrent = 1
[[runners]]
  name = "from-config"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  shell = "sh"
  builds_dir = "$T_DIR/builds-sh"
  environment = ["FROM_CONFIG=cfg-value"]
  pre_build_script = "echo pre-build"
  post_build_script = "echo post-build"
TOML
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo env=$FROM_CONFIG", "echo shell=$0"]}')
RUN_RC=0
timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
expect_eq 0 "$RUN_RC" "exit code"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "env=cfg-value" "config environment"
expect_contains "$T_DIR/trace" "pre-build" "pre_build_script"
expect_contains "$T_DIR/trace" "post-build" "post_build_script"
expect_contains "$T_DIR/trace" "Using Shell (sh) executor" "shell line"
expect_contains "$T_DIR/trace" "on from-config" "runner name in the header"
ls -d "$T_DIR"/builds-sh/*/0/acme/widget >/dev/null 2>&1 ||
	fail "builds_dir layout: no <builds>/<short token>/0/acme/widget in $(find "$T_DIR/builds-sh" -maxdepth 4)"

echo "t_job_engine: all cases passed"
