#!/usr/bin/env bash
# The custom executor through the real binary and the example drivers in
# examples/custom-executor/: success, build failure, system failure, broken
# config JSON, run_exec hanging past the job timeout, cancel mid-job, and
# a job in an unshare sandbox.
. "$(dirname "$0")/lib.sh"

LOCAL=$CR_SOURCE_DIR/examples/custom-executor/local
UNSHARE=$CR_SOURCE_DIR/examples/custom-executor/unshare
DRV=$T_DIR/drivers
mkdir -p "$DRV"

start_fakegitlab
add_runner "$RUN_TOKEN"

# A config_exec that records what it saw, then answers like the example.
cat >"$DRV/config-record.sh" <<SH
#!/usr/bin/env bash
env | grep '^CUSTOM_ENV_' | sort >"$T_DIR/config.env"
for v in BUILD_FAILURE_EXIT_CODE SYSTEM_FAILURE_EXIT_CODE JOB_RESPONSE_FILE TMPDIR; do
	echo "\$v=\${!v}"
done >"$T_DIR/config.proto"
stat -c '%a %s' "\$JOB_RESPONSE_FILE" >"$T_DIR/response.stat"
cp "\$JOB_RESPONSE_FILE" "$T_DIR/response.json"
echo "config-stderr-line" >&2
exec "$LOCAL/config.sh"
SH
# A cleanup_exec that records that it ran (and what was still there).
cat >"$DRV/cleanup-record.sh" <<SH
#!/usr/bin/env bash
echo "cleanup ran: \$LOCAL_DRIVER_BUILDS" >>"$T_DIR/cleanup.log"
[ -f "\$JOB_RESPONSE_FILE" ] && echo "response present" >>"$T_DIR/cleanup.log"
exec "$LOCAL/cleanup.sh"
SH
# A run_exec that fails the way its first argument says.
cat >"$DRV/run-exit.sh" <<'SH'
#!/usr/bin/env bash
code=$1 script=$2 stage=$3
if [ "$stage" = step_script ]; then
	echo "driver exiting with $code"
	exit "$code"
fi
exec bash --noprofile --norc "$script"
SH
# A config_exec that answers something that is not JSON.
cat >"$DRV/config-broken.sh" <<'SH'
#!/usr/bin/env bash
echo '{"builds_dir": "/tmp/x", oops'
SH
# A run_exec that ignores SIGTERM and hangs in the script stage.
cat >"$DRV/run-hang.sh" <<SH
#!/usr/bin/env bash
script=\$1 stage=\$2
if [ "\$stage" = step_script ]; then
	trap '' TERM
	echo "hanging-driver \$\$" >"$T_DIR/hang.pid"
	echo "driver hangs"
	sleep 300 &
	wait
	sleep 300
fi
exec bash --noprofile --norc "\$script"
SH
chmod 755 "$DRV"/*.sh

# write_config NAME KEY=VALUE...: a config.toml for the custom executor.
write_config() {
	local name=$1
	shift
	{
		cat <<TOML
concurrent = 1
[[runners]]
  name = "$name"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "custom"
  builds_dir = "$T_DIR/builds"
  cache_dir = "$T_DIR/cache"
  [runners.custom]
TOML
		local kv
		for kv in "$@"; do
			echo "    $kv"
		done
	} >"$T_DIR/config.toml"
}

run_custom() {
	RUN_RC=0
	timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" \
		--max-builds 1 --check-interval 100ms --trace-interval 200ms \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
	! grep -q "Sanitizer" "$T_DIR/run.err" ||
		fail "sanitizer report: $(grep -A20 Sanitizer "$T_DIR/run.err" | head -40)"
	expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
}

test_case "local driver: success, protocol variables, response file, cleanup"
write_config local \
	"config_exec = \"$DRV/config-record.sh\"" \
	"prepare_exec = \"$LOCAL/prepare.sh\"" \
	"run_exec = \"$LOCAL/run.sh\"" \
	"cleanup_exec = \"$DRV/cleanup-record.sh\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "MY_VAR", "value": "my-value", "public": true, "masked": false}],
  "script": ["echo hello-from-custom", "echo response=$JOB_RESPONSE_FILE > '"$T_DIR"'/response.path",
             "stat -c mode=%a $JOB_RESPONSE_FILE", "echo pwd=$PWD"]}')
run_custom
expect_eq 0 "$RUN_RC" "exit code ($(cat "$T_DIR/run.err"))"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Using Custom executor with driver local v1.0.0..." "banner"
expect_contains "$T_DIR/trace" "config-stderr-line" "config_exec stderr in the log"
expect_contains "$T_DIR/trace" "Local environment ready in" "prepare_exec output"
expect_contains "$T_DIR/trace" "hello-from-custom" "script output"
expect_contains "$T_DIR/trace" "mode=600" "response file mode during the job"
expect_contains "$T_DIR/trace" "Job succeeded" "footer"
expect_contains "$T_DIR/config.env" "CUSTOM_ENV_MY_VAR=my-value" "job variable"
expect_contains "$T_DIR/config.env" "CUSTOM_ENV_CI_JOB_ID=$id" "predefined variable"
expect_contains "$T_DIR/config.env" "CUSTOM_ENV_CI_BUILDS_DIR=$T_DIR/builds" "builds dir before config"
expect_contains "$T_DIR/config.proto" "BUILD_FAILURE_EXIT_CODE=1" "BUILD_FAILURE_EXIT_CODE"
expect_contains "$T_DIR/config.proto" "SYSTEM_FAILURE_EXIT_CODE=2" "SYSTEM_FAILURE_EXIT_CODE"
read -r mode size <"$T_DIR/response.stat"
expect_eq 600 "$mode" "JOB_RESPONSE_FILE mode"
expect_eq "$id" "$(json_get "$(cat "$T_DIR/response.json")" 'd["id"]')" "payload id in JOB_RESPONSE_FILE"
rfile=$(sed -n 's/^response=//p' "$T_DIR/response.path")
[ -n "$rfile" ] || fail "the job did not see JOB_RESPONSE_FILE"
[ ! -e "$rfile" ] || fail "JOB_RESPONSE_FILE $rfile is still there after the job"
tmpdir=$(sed -n 's/^TMPDIR=//p' "$T_DIR/config.proto")
expect_eq "$(dirname "$rfile")" "$tmpdir" "JOB_RESPONSE_FILE in TMPDIR"
[ ! -e "$tmpdir" ] || fail "the executor's TMPDIR $tmpdir is still there"
expect_contains "$T_DIR/trace" "pwd=$tmpdir/builds/" "builds_dir from config_exec (not shared)"
expect_contains "$T_DIR/cleanup.log" "cleanup ran: $tmpdir/builds" "cleanup_exec ran with job_env"
expect_contains "$T_DIR/cleanup.log" "response present" "response file during cleanup"
rm -f "$T_DIR/cleanup.log"

test_case "config_exec's cache_dir is where the cache goes"
write_config local \
	"config_exec = \"$LOCAL/config.sh\"" \
	"prepare_exec = \"$LOCAL/prepare.sh\"" \
	"run_exec = \"$LOCAL/run.sh\"" \
	"cleanup_exec = \"$LOCAL/cleanup.sh\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "LOCAL_DRIVER_CACHE_DIR", "value": "'"$T_DIR"'/driver-cache", "public": true, "masked": false}],
  "payload": {"cache": [{"key": "k1", "paths": ["c/"], "policy": "pull-push", "when": "on_success",
                         "untracked": false, "fallback_keys": []}]},
  "script": ["mkdir -p c && echo cached > c/f"]}')
run_custom
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
found=$(find "$T_DIR/driver-cache" -name cache.zip 2>/dev/null | head -1)
[ -n "$found" ] || fail "no cache.zip under config_exec's cache_dir: $(find "$T_DIR" -name cache.zip)"
[ -z "$(find "$T_DIR/cache" -name cache.zip 2>/dev/null)" ] || fail "the cache went to config.toml's cache_dir"

test_case "BUILD_FAILURE_EXIT_CODE: script_failure with the script's exit code"
write_config local \
	"config_exec = \"$LOCAL/config.sh\"" \
	"prepare_exec = \"$LOCAL/prepare.sh\"" \
	"run_exec = \"$LOCAL/run.sh\"" \
	"cleanup_exec = \"$DRV/cleanup-record.sh\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo before-fail", "exit 42"], "after_script": ["echo after-ran"]}')
run_custom
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_eq 42 "$(job_field "$id" 'd["exit_code"]')" "exit code from BUILD_EXIT_CODE_FILE"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "ERROR: Job failed: exit status 42" "footer"
expect_contains "$T_DIR/trace" "after-ran" "after_script still runs"
expect_contains "$T_DIR/cleanup.log" "cleanup ran" "cleanup_exec after a failure"
rm -f "$T_DIR/cleanup.log"

test_case "BUILD_FAILURE_EXIT_CODE without an exit code file: exit code 1"
write_config local "run_exec = \"$DRV/run-exit.sh\"" 'run_args = ["1"]'
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["true"]}')
run_custom
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_eq 1 "$(job_field "$id" 'd["exit_code"]')" "exit code"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Using Custom executor..." "banner without config_exec"

test_case "SYSTEM_FAILURE_EXIT_CODE: runner_system_failure"
write_config local "run_exec = \"$DRV/run-exit.sh\"" 'run_args = ["2"]' \
	"cleanup_exec = \"$DRV/cleanup-record.sh\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["true"]}')
run_custom
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Job failed (system failure): exit status 2" "footer"
expect_contains "$T_DIR/cleanup.log" "cleanup ran" "cleanup_exec after a system failure"
rm -f "$T_DIR/cleanup.log"

test_case "an unknown exit code is a system failure too"
write_config local "run_exec = \"$DRV/run-exit.sh\"" 'run_args = ["7"]'
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["true"]}')
run_custom
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "unknown Custom executor executable exit code 7; executable execution terminated with: exit status 7" "message"

test_case "config_exec prints broken JSON: system failure with a clear line"
write_config local "config_exec = \"$DRV/config-broken.sh\"" \
	"run_exec = \"$LOCAL/run.sh\"" \
	"cleanup_exec = \"$DRV/cleanup-record.sh\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}')
run_custom
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "ERROR: Preparation failed: error while parsing config_exec's JSON output:" "clear line"
expect_contains "$T_DIR/trace" "Job failed (system failure): error while parsing config_exec's JSON output" "footer"
expect_not_contains "$T_DIR/trace" "must-not-run" "no stage after a broken config"
expect_contains "$T_DIR/cleanup.log" "cleanup ran" "cleanup_exec after a broken config"
rm -f "$T_DIR/cleanup.log"

test_case "a hanging run_exec is killed on the job timeout; cleanup still runs"
write_config local \
	"config_exec = \"$LOCAL/config.sh\"" \
	"run_exec = \"$DRV/run-hang.sh\"" \
	"cleanup_exec = \"$DRV/cleanup-record.sh\"" \
	"graceful_kill_timeout = 1" "force_kill_timeout = 2"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "timeout": 2,
  "script": ["echo never"]}')
start=$(date +%s)
run_custom
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "driver hangs" "driver output"
expect_contains "$T_DIR/trace" "execution took longer than 2s seconds" "footer"
expect_contains "$T_DIR/cleanup.log" "cleanup ran" "cleanup_exec after the timeout"
[ $(( $(date +%s) - start )) -lt 30 ] || fail "timeout took $(( $(date +%s) - start )) s"
read -r _ hpid <"$T_DIR/hang.pid"
if kill -0 "$hpid" 2>/dev/null; then fail "the hanging driver $hpid is still alive"; fi
left=$(pgrep -f "$DRV/run-hang.sh" || true)
[ -z "$left" ] || fail "processes left behind: $left"
rm -f "$T_DIR/cleanup.log"

test_case "cancel mid-job: the driver is stopped, cleanup_exec runs"
write_config local \
	"config_exec = \"$LOCAL/config.sh\"" \
	"prepare_exec = \"$LOCAL/prepare.sh\"" \
	"run_exec = \"$LOCAL/run.sh\"" \
	"cleanup_exec = \"$DRV/cleanup-record.sh\"" \
	"graceful_kill_timeout = 2"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "for i in $(seq 600); do echo custom-tick $i; sleep 0.1; done"],
  "after_script": ["echo after-ran"]}')
( wait_for_trace "$id" started
  curl -sS -X POST -d '{"graceful": false}' "$FAKE_URL/__control/jobs/$id/cancel" >/dev/null ) &
canceller=$!
start=$(date +%s)
run_custom
wait "$canceller"
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "cancel took $(( $(date +%s) - start )) s"
expect_contains "$T_DIR/cleanup.log" "cleanup ran" "cleanup_exec after a cancel"
left=$(pgrep -f "custom-tick" || true)
[ -z "$left" ] || fail "processes left behind: $left"
rm -f "$T_DIR/cleanup.log"

test_case "unshare driver: the job runs in its own namespaces"
if ! unshare --mount --pid --uts --ipc --fork --kill-child --mount-proc true 2>/dev/null &&
   ! unshare --user --map-root-user --mount --pid --uts --ipc --fork --kill-child --mount-proc true 2>/dev/null; then
	echo "--- $T_NAME: skipped: cannot create namespaces here"
else
	write_config unshare \
		"config_exec = \"$UNSHARE/config.sh\"" \
		"prepare_exec = \"$UNSHARE/prepare.sh\"" \
		"run_exec = \"$UNSHARE/run.sh\"" \
		"cleanup_exec = \"$UNSHARE/cleanup.sh\"" \
		"graceful_kill_timeout = 2"
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["echo pid=$$", "echo host=$(hostname)", "echo procs=$(ls /proc | grep -c \"^[0-9]\")"]}')
	run_custom
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
	job_trace "$id" "$T_DIR/trace"
	expect_contains "$T_DIR/trace" "Using Custom executor with driver unshare v1.0.0..." "banner"
	expect_contains "$T_DIR/trace" "Running on crunner-sandbox-$id..." "hostname from config_exec"
	expect_contains "$T_DIR/trace" "host=crunner-sandbox-$id" "UTS namespace"
	expect_contains "$T_DIR/trace" "pid=1" "PID namespace"
	procs=$(grep -o 'procs=[0-9][0-9]*' "$T_DIR/trace" | head -1 | cut -d= -f2)
	[ -n "$procs" ] && [ "$procs" -lt 10 ] ||
		fail "the sandbox sees $procs processes: not its own /proc"
fi

echo "t_custom: all cases passed"
