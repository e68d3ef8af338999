#!/usr/bin/env bash
# The kubernetes executor's attach strategy (gitlab-runner 19's default)
# against the fake API server: a stage's exit code from its status line in
# the log, output without a final newline kept, and the API server down in
# the middle of a stage: for a few seconds the log is read again from the
# offset reached (every line once, the job succeeds); for longer than the
# job's timeout the job fails with job_execution_timeout, and the pod is
# deleted once the API server is back within gitlab-runner's delete
# retries.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=kat
. "$(dirname "$0")/k8s_lib.sh"
start_k8s

# trace_lines TEXT: how many lines of the trace are TEXT exactly.
trace_lines() { sed 's/^[^ ]* [0-9][0-9][OE]+\{0,1\} //' "$T_DIR/trace" | grep -cxF -- "$1"; }

# start_job JSON: queues it and starts run-single in the background.
start_job() {
	id=$(enqueue_job "$1")
	timeout 150 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
		--check-interval 100ms --trace-interval 200ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
	run_pid=$!
	test_when_finished "kill $run_pid 2>/dev/null"
}

# end_job: waits for run-single; the trace in $T_DIR/trace.
end_job() {
	local rc=0
	wait "$run_pid" || rc=$?
	check_sanitizer
	expect_eq 0 "$rc" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
	job_trace "$id" "$T_DIR/trace"
}

test_case "a failing script: its exit code from the status line, output without a final newline kept"
write_config 'cleanup_grace_period_seconds = 0'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "timeout": 600,
  "variables": [{"key": "FF_WAIT_FOR_POD_TO_BE_REACHABLE", "value": "true", "public": true}],
  "script": ["echo first-line", "printf no-final-newline", "exit 3"]}'
# FF_WAIT_FOR_POD_TO_BE_REACHABLE: the helper's last 10 log lines asked for.
requests 'r["path"].endswith("/pods/'"$(last_pod)"'/log") and r["query"].get("container") == ["helper"] and r["query"].get("tailLines") == ["10"] and r["status"] == 200' |
	grep -q . || fail "no reachability check: $(requests 'True' | tail -5)"
# FF_USE_POD_ACTIVE_DEADLINE_SECONDS, on by default: the job's timeout
# and a second.
expect_eq 601 "$(pod_field 'p["spec"].get("activeDeadlineSeconds")')" "activeDeadlineSeconds"
expect_contains "$T_DIR/trace" "Using FF_USE_POD_ACTIVE_DEADLINE_SECONDS, the Pod activeDeadlineSeconds will be set to the job timeout: 10m0s..." "the deadline line"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "exit code 3" "the exit code ($(tail -c 600 "$T_DIR/trace"))"
expect_eq 1 "$(trace_lines first-line)" "the output once"
expect_contains "$T_DIR/trace" "no-final-newline" "output without a newline"
expect_not_contains "$T_DIR/trace" "command_exit_code" "no status line in the trace"
expect_pod_deleted "$(last_pod)" 0

test_case "the API server down for 4 s mid-stage: the log read again from its offset, the job succeeds"
write_config 'cleanup_grace_period_seconds = 0'
start_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_USE_POD_ACTIVE_DEADLINE_SECONDS", "value": "false", "public": true}],
  "script": ["echo before-down", "sleep 20", "for i in 1 2 3; do echo after-$i; done"]}'
wait_for_trace "$id" "before-down" || fail "the job did not start: $(cat "$T_DIR/run.err")"
expect_eq None "$(pod_field 'p["spec"].get("activeDeadlineSeconds")')" "no activeDeadlineSeconds with the flag false"
[ -z "$(requests 'r["path"].endswith("/pods/'"$(last_pod)"'/log")')" ] || fail "a reachability check without FF_WAIT_FOR_POD_TO_BE_REACHABLE"
curl -sS -X POST "$K8S_ADMIN/down?seconds=4" >/dev/null || fail "cannot take the API down"
end_job
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_eq 1 "$(trace_lines before-down)" "the line before the cut, once"
for i in 1 2 3; do
	expect_eq 1 "$(trace_lines after-$i)" "after-$i once"
done
# One log read per stage (attach) without a cut: one more proves the log
# was read again after it, every line once that it was from the offset.
reads=$(requests '"/exec" in r["path"] and "tail" in r["query"].get("command", [])' | wc -l)
attaches=$(requests 'r["path"].endswith("/attach")' | wc -l)
[ "$reads" -gt "$attaches" ] || fail "the log was not read again: $reads reads, $attaches stages"
expect_pod_deleted "$(last_pod)" 0

test_case "the API server down past the job timeout: job_execution_timeout, the pod deleted when it is back"
write_config 'cleanup_grace_period_seconds = 0'
start_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "timeout": 40,
  "script": ["echo before-down", "sleep 300"]}'
wait_for_trace "$id" "before-down" || fail "the job did not start: $(cat "$T_DIR/run.err")"
pod=$(last_pod)
curl -sS -X POST "$K8S_ADMIN/down?seconds=600" >/dev/null || fail "cannot take the API down"
# Back 2-3 s after the timeout (counted from the job's first trace line),
# while the cleanup still tries the delete again (gitlab-runner's retry: 5
# tries, 500 ms doubling to 2 s).
job_trace "$id" "$T_DIR/trace"
started=$(date -d "$(head -1 "$T_DIR/trace" | cut -d' ' -f1)" +%s) ||
	fail "no start time in the trace: $(head -3 "$T_DIR/trace")"
while [ "$(date +%s)" -lt $((started + 43)) ]; do sleep 0.2; done
curl -sS -X POST "$K8S_ADMIN/up" >/dev/null
up_at=$(date +%s)
end_job
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 1500 "$T_DIR/trace"))"
# The premise: the stage ended (and the cleanup's first delete failed)
# well before the API server came back, so only a retry can have deleted.
step_end=$(sed -n 's/.*section_end:\([0-9]*\):step_script.*/\1/p' "$T_DIR/trace" | head -1)
[ -n "$step_end" ] || fail "no end of step_script in the trace: $(tail -c 1500 "$T_DIR/trace")"
[ "$up_at" -ge $((step_end + 2)) ] || fail "the API server was back at $up_at, the stage ended at $step_end: the test proves nothing"
expect_not_contains "$T_DIR/trace" "Error cleaning up pod" "the delete went through on a retry"
expect_pod_deleted "$pod" 0

t_finish
