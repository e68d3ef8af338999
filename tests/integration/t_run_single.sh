#!/usr/bin/env bash
# run-single against the fake coordinator: the job payload in, the trace
# and the final state out, as GitLab would see them.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

test_case "a successful job: log, sections, masking, checksum"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "SECRET_ONE", "value": "hunter2-hunter2", "public": false, "masked": true}],
  "script": ["echo start", "echo value=$SECRET_ONE", "printf \"%s\\n\" \"multi\" \"line\""],
  "after_script": ["echo after:$CI_JOB_STATUS"]}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "run-single exit code"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_eq True "$(job_field "$id" 'd["checksum_ok"]')" "checksum matches the stored log"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Running with crunner" "header"
expect_contains "$T_DIR/trace" "section_start:" "section markers"
expect_contains "$T_DIR/trace" ':step_script' "step_script section"
expect_contains "$T_DIR/trace" 'Executing "step_script" stage of the job script' "stage header"
expect_contains "$T_DIR/trace" '$ echo start' "echoed command"
expect_contains "$T_DIR/trace" 'value=[MASKED]' "masked value"
expect_not_contains "$T_DIR/trace" 'hunter2-hunter2' "secret in the log"
expect_contains "$T_DIR/trace" 'after:success' "after_script with CI_JOB_STATUS"
expect_contains "$T_DIR/trace" 'Job succeeded' "footer"
expect_eq "$(wc -c <"$T_DIR/trace")" "$(job_field "$id" 'd["bytesize"]')" "bytesize"

test_case "a failing command: exit code, failure reason, rest skipped"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo before", "exit 42", "echo never-printed"],
  "after_script": ["echo after:$CI_JOB_STATUS"]}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "run-single exit code"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_eq 42 "$(job_field "$id" 'd["exit_code"]')" "exit code"
job_trace "$id" "$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "never-printed" "command after the failure"
expect_contains "$T_DIR/trace" "after:failed" "after_script status"
expect_contains "$T_DIR/trace" "ERROR: Job failed: exit status 42" "footer"

test_case "file variables are 0600 files, removed after the job"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "KEYFILE", "value": "file-content-123", "public": false, "masked": false, "file": true}],
  "script": ["stat -c %a \"$KEYFILE\"", "cat \"$KEYFILE\"; echo", "echo $KEYFILE > '"$T_DIR"'/keyfile-path"]}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "600" "file mode"
expect_contains "$T_DIR/trace" "file-content-123" "file content"
path=$(cat "$T_DIR/keyfile-path")
[ ! -e "$path" ] || fail "file variable '$path' still exists after the job"

test_case "git sources: fetch and checkout of the job's commit"
repo=$T_DIR/repo.git
git init -q --bare "$repo"
git -C "$T_DIR" init -q src
git -C "$T_DIR/src" -c user.email=t@e -c user.name=t commit -q --allow-empty -m first
echo "tracked file" >"$T_DIR/src/README"
git -C "$T_DIR/src" add README
git -C "$T_DIR/src" -c user.email=t@e -c user.name=t commit -q -m second
git -C "$T_DIR/src" push -q "$repo" HEAD:refs/heads/main
sha=$(git -C "$T_DIR/src" rev-parse HEAD)
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "ref": "main", "sha": "'"$sha"'",
  "payload": {"git_info": {"repo_url": "file://'"$repo"'", "depth": 0,
     "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
  "script": ["cat README", "git rev-parse HEAD"]}')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Checking out ${sha:0:8} as detached HEAD (ref is main)" "checkout notice"
expect_contains "$T_DIR/trace" "tracked file" "file from the repository"
expect_contains "$T_DIR/trace" "$sha" "checked-out commit"

test_case "graceful cancel: script stopped, after_script runs, job canceled"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "for i in $(seq 600); do echo tick $i; sleep 0.1; done", "echo not-reached"],
  "after_script": ["echo after:$CI_JOB_STATUS"]}')
(
	wait_for_trace "$id" started
	curl -sS -X POST -d '{"graceful": true}' "$FAKE_URL/__control/jobs/$id/cancel" >/dev/null
) &
canceller=$!
start=$(date +%s)
run_single --max-builds 1
wait "$canceller"
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "not-reached" "script after cancel"
expect_contains "$T_DIR/trace" "after:canceled" "after_script status"
expect_contains "$T_DIR/trace" "ERROR: Job failed: canceled" "footer"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "cancel took $(( $(date +%s) - start )) s"

test_case "the log survives 5xx answers on trace updates"
fake_control POST faults '{"endpoint": "trace", "kind": "status", "status": 502, "times": 3}' >/dev/null
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["seq 1 2000"]}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_eq True "$(job_field "$id" 'd["checksum_ok"]')" "checksum after retries"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "2000" "last line of output"

test_case "SIGTERM aborts the job and reports runner_interrupted"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "sleep 60"]}')
# Not under timeout(1): it would pass our SIGTERM on twice.
"$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" \
	--builds-dir "$T_DIR/builds" --check-interval 100ms --trace-interval 200ms \
	--max-builds 1 >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
pid=$!
test_when_finished "kill -KILL $pid 2>/dev/null"
wait_for_trace "$id" started || fail "the job did not start"
kill -TERM "$pid"
rc=0
wait "$pid" || rc=$?
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_interrupted "$(job_field "$id" 'd["failure_reason"]')" "failure reason"

test_case "--log-format json: one JSON object per log line, no token"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["true"]}')
RUN_RC=0
timeout 120 "$CRUNNER" --log-format json --log-level debug run-single --url "$FAKE_URL" \
	--token "$RUN_TOKEN" --builds-dir "$T_DIR/builds" --check-interval 100ms \
	--max-builds 1 >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
expect_eq 0 "$RUN_RC" "exit code"
"$PYTHON" - "$T_DIR/run.err" <<'PY' || fail "log lines are not JSON: $(head -5 "$T_DIR/run.err")"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log lines"
for l in lines:
    d = json.loads(l)
    assert {"time", "level", "msg"} <= d.keys(), d
assert any(json.loads(l)["level"] == "debug" for l in lines), "no debug line"
PY
expect_not_contains "$T_DIR/run.err" "$RUN_TOKEN" "full token in the log"

test_case "a refused token is a clear error and a non-zero exit"
RUN_TOKEN=glrt-t1_notKnownAnywhere00 run_single --max-builds 1
expect_eq 1 "$RUN_RC" "exit code"
expect_contains "$T_DIR/run.err" "refused the token" "message"

echo "t_run_single: all cases passed"
