#!/usr/bin/env bash
# prepare_timeout and get_sources_timeout ([[runners]]), as gitlab-runner's
# GetPrepareTimeout/GetGetSourcesTimeout: a deadline over the executor's
# preparation and prepare_script, and one over get_sources; exceeded, the
# job fails as job_execution_timeout with "<stage> timeout: exceeded
# timeout of <duration>" and no after_script, cache or artifact upload.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"
LOCAL=$CR_SOURCE_DIR/examples/custom-executor/local

# A prepare_exec that takes far longer than the deadline.
cat >"$T_DIR/slow-prepare.sh" <<'SH'
#!/usr/bin/env bash
echo "slow prepare starts"
sleep 20
echo "slow prepare done"
SH
chmod +x "$T_DIR/slow-prepare.sh"

test_case "prepare_timeout: a custom executor's prepare_exec past it fails the job as job_execution_timeout"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo SCRIPT-RAN"], "after_script": ["echo AFTER-RAN"]}')
start=$(date +%s)
run_single --max-builds 1 --executor custom --custom-run-exec "$LOCAL/run.sh" \
	--custom-prepare-exec "$T_DIR/slow-prepare.sh" --prepare-timeout 1s
took=$(($(date +%s) - start))
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "ERROR: Job failed: prepare timeout: exceeded timeout of 1s" "the reason ($(tail -c 600 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "slow prepare starts" "prepare_exec ran"
expect_not_contains "$T_DIR/trace" "slow prepare done" "prepare_exec stopped"
expect_not_contains "$T_DIR/trace" "SCRIPT-RAN" "the script"
[ "$took" -lt 15 ] || fail "the job took ${took}s: the deadline did not stop prepare_exec"

test_case "get_sources_timeout: a get_sources past it fails the job, no after_script"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "fetch",
  "script": ["echo SCRIPT-RAN"], "after_script": ["echo AFTER-RAN"]}')
start=$(date +%s)
run_single --max-builds 1 --pre-get-sources-script "echo hook-starts; sleep 20" \
	--get-sources-timeout 1500ms
took=$(($(date +%s) - start))
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "ERROR: Job failed: get sources timeout: exceeded timeout of 1.5s" "the reason ($(tail -c 600 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "hook-starts" "get_sources ran"
expect_not_contains "$T_DIR/trace" "SCRIPT-RAN" "the script"
expect_not_contains "$T_DIR/trace" "AFTER-RAN" "after_script"
[ "$took" -lt 15 ] || fail "the job took ${took}s: the deadline did not stop get_sources"

test_case "the deadlines end with their stages: a script longer than both succeeds"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["sleep 3", "echo SCRIPT-RAN"]}')
run_single --max-builds 1 --prepare-timeout 1s --get-sources-timeout 1s
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "SCRIPT-RAN" "the script"

test_case "a deadline longer than the job's timeout: the job's timeout, said in crunner's log"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "timeout": 60,
  "script": ["echo SCRIPT-RAN"]}')
run_single --max-builds 1 --get-sources-timeout 2h
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/run.err" "get_sources_timeout (2h0m0s) exceeds job timeout (1m0s); using job timeout" "the warning"

t_finish
