#!/usr/bin/env bash
# The custom executor through the real binary and the example drivers in
# examples/custom-executor/: success, build failure, system failure, broken
# config JSON, run_exec hanging past the job timeout, cancel mid-job, a job
# in an unshare sandbox, and the cache, artifact and cleanup sub-stages run
# through run_exec (the helper uploads and downloads itself).
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
# A prepare_exec that fails as a system failure the first time only.
cat >"$DRV/prepare-flaky.sh" <<SH
#!/usr/bin/env bash
n=\$(cat "$T_DIR/prepare.count" 2>/dev/null || echo 0)
echo \$((n + 1)) >"$T_DIR/prepare.count"
if [ "\$n" = 0 ]; then
	echo "prepare: no machine yet"
	exit "\$SYSTEM_FAILURE_EXIT_CODE"
fi
exec "$LOCAL/prepare.sh"
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
run_config
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
run_config
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
run_config
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
run_config
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_eq 1 "$(job_field "$id" 'd["exit_code"]')" "exit code"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Using Custom executor..." "banner without config_exec"

test_case "SYSTEM_FAILURE_EXIT_CODE: runner_system_failure"
write_config local "run_exec = \"$DRV/run-exit.sh\"" 'run_args = ["2"]' \
	"cleanup_exec = \"$DRV/cleanup-record.sh\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["true"]}')
run_config
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Job failed (system failure): exit status 2" "footer"
expect_contains "$T_DIR/cleanup.log" "cleanup ran" "cleanup_exec after a system failure"
rm -f "$T_DIR/cleanup.log"

test_case "an unknown exit code is a system failure too"
write_config local "run_exec = \"$DRV/run-exit.sh\"" 'run_args = ["7"]'
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["true"]}')
run_config
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "unknown Custom executor executable exit code 7; executable execution terminated with: exit status 7" "message"

test_case "config_exec prints broken JSON: system failure with a clear line"
write_config local "config_exec = \"$DRV/config-broken.sh\"" \
	"run_exec = \"$LOCAL/run.sh\"" \
	"cleanup_exec = \"$DRV/cleanup-record.sh\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}')
run_config
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "ERROR: Preparation failed: error while parsing config_exec's JSON output:" "clear line"
expect_contains "$T_DIR/trace" "Job failed (system failure): error while parsing config_exec's JSON output" "footer"
expect_not_contains "$T_DIR/trace" "must-not-run" "no stage after a broken config"
expect_contains "$T_DIR/cleanup.log" "cleanup ran" "cleanup_exec after a broken config"
expect_eq 3 "$(grep -c 'ERROR: Preparation failed: error while parsing' "$T_DIR/trace")" "three tries, as gitlab-runner's PreparationRetries"
expect_eq 2 "$(grep -c 'Will be retried in 3s ...' "$T_DIR/trace")" "pauses between tries"
expect_eq 3 "$(grep -c 'cleanup ran' "$T_DIR/cleanup.log")" "cleanup_exec after each try"
rm -f "$T_DIR/cleanup.log"

test_case "prepare_exec failing once as a system failure is tried again after 3 s"
write_config local "config_exec = \"$LOCAL/config.sh\"" \
	"prepare_exec = \"$DRV/prepare-flaky.sh\"" \
	"run_exec = \"$LOCAL/run.sh\"" \
	"cleanup_exec = \"$DRV/cleanup-record.sh\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo ran-after-retry"]}')
run_config
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "prepare: no machine yet" "first try's output"
expect_contains "$T_DIR/trace" "Will be retried in 3s ..." "pause line"
expect_contains "$T_DIR/trace" "ran-after-retry" "the job ran"
expect_eq 2 "$(cat "$T_DIR/prepare.count")" "prepare_exec tries"
expect_eq 2 "$(grep -c 'cleanup ran' "$T_DIR/cleanup.log")" "cleanup_exec after the failed try and at the end"
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
run_config
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
run_config
wait "$canceller"
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "cancel took $(( $(date +%s) - start )) s"
expect_contains "$T_DIR/cleanup.log" "cleanup ran" "cleanup_exec after a cancel"
left=$(pgrep -f "custom-tick" || true)
[ -z "$left" ] || fail "processes left behind: $left"
rm -f "$T_DIR/cleanup.log"

# run_exec wrappers that record each stage name, then run the example's.
for drv in local unshare; do
	cat >"$DRV/run-record-$drv.sh" <<SH
#!/usr/bin/env bash
echo "\$2" >>"$T_DIR/stages-$drv.log"
exec "$CR_SOURCE_DIR/examples/custom-executor/$drv/run.sh" "\$@"
SH
done
chmod 755 "$DRV"/run-record-*.sh

# zip_listing FILE: "name:content" per file entry, sorted.
zip_listing() {
	"$PYTHON" - "$1" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in sorted(z.infolist(), key=lambda i: i.filename):
    if i.is_dir():
        print(i.filename)
    else:
        print("%s:%s" % (i.filename, z.read(i).decode().strip()))
PY
}

# stages_of FILE: the recorded stage names, one line, in order.
stages_of() {
	tr '\n' ' ' <"$1" | sed 's/ $//'
}

test_case "local driver: cache, artifacts, dependencies and file variables through run_exec"
write_config local \
	"config_exec = \"$LOCAL/config.sh\"" \
	"prepare_exec = \"$LOCAL/prepare.sh\"" \
	"run_exec = \"$DRV/run-record-local.sh\"" \
	"cleanup_exec = \"$LOCAL/cleanup.sh\""
rm -f "$T_DIR/stages-local.log"
cache='"cache": [{"key": "stage-key", "paths": ["c/"], "policy": "pull-push", "when": "on_success",
                  "untracked": false, "fallback_keys": []}]'
vars='"variables": [{"key": "LOCAL_DRIVER_CACHE_DIR", "value": "'"$T_DIR"'/stage-cache", "public": true, "masked": false},
                  {"key": "MY_FILE", "value": "file-secret", "public": false, "masked": false, "file": true}]'
id1=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$vars"',
  "script": ["mkdir -p c out/sub", "echo cached-by-job-1 > c/f", "echo one > out/a.txt",
             "echo two > out/sub/b.txt", "echo myfile=$MY_FILE > '"$T_DIR"'/myfile.path"],
  "payload": {'"$cache"',
    "artifacts": [{"name": "stage-art", "untracked": false, "paths": ["out/"], "exclude": [],
                   "when": "on_success", "expire_in": "1 week", "artifact_type": "archive",
                   "artifact_format": "zip"}]}}')
run_config
job_trace "$id1" "$T_DIR/trace"
expect_eq success "$(job_field "$id1" 'd["status"]')" "job 1 status ($(tail -c 1500 "$T_DIR/trace"))"
expect_eq "prepare_script get_sources restore_cache step_script archive_cache upload_artifacts_on_success cleanup_file_variables" \
	"$(stages_of "$T_DIR/stages-local.log")" "job 1: every sub-stage through run_exec"
expect_contains "$T_DIR/trace" "Checking cache for stage-key..." "restore_cache script output"
expect_contains "$T_DIR/trace" "Created cache" "archive_cache script output"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "archive" to coordinator... 201 Created' "upload by the helper"
found=$(find "$T_DIR/stage-cache" -name cache.zip 2>/dev/null | head -1)
[ -n "$found" ] || fail "no cache.zip under config_exec's cache_dir"
expect_eq 1 "$(job_field "$id1" 'len(d["artifacts"])')" "number of artifacts"
expect_eq "archive zip 1 week stage-art.zip" \
	"$(job_field "$id1" '" ".join([d["artifacts"][0][k] for k in ("artifact_type", "artifact_format", "expire_in", "filename")])')" \
	"artifact fields"
curl -sS --fail "$FAKE_URL/__control/jobs/$id1/artifacts/0" >"$T_DIR/stage-art.zip" ||
	fail "cannot fetch the artifact of job $id1"
expect_eq "$(printf 'out/\nout/a.txt:one\nout/sub/\nout/sub/b.txt:two')" \
	"$(zip_listing "$T_DIR/stage-art.zip")" "artifact contents"
token1=$(job_field "$id1" 'd["token"]')
[ -n "$token1" ] || fail "no job token in the fake's record"
expect_not_contains "$T_DIR/trace" "$token1" "job token in the trace"
myfile=$(sed -n 's/^myfile=//p' "$T_DIR/myfile.path")
[ -n "$myfile" ] || fail "the job did not see its file variable"
[ ! -e "$myfile" ] || fail "file variable $myfile left after cleanup_file_variables"

rm -f "$T_DIR/stages-local.log"
id2=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$vars"',
  "script": ["cat c/f", "cat out/a.txt out/sub/b.txt"],
  "payload": {'"$cache"', "dependencies": [{"id": '"$id1"', "name": "first"}]}}')
run_config
job_trace "$id2" "$T_DIR/trace"
expect_eq success "$(job_field "$id2" 'd["status"]')" "job 2 status ($(tail -c 1500 "$T_DIR/trace"))"
expect_eq "prepare_script get_sources restore_cache download_artifacts step_script archive_cache cleanup_file_variables" \
	"$(stages_of "$T_DIR/stages-local.log")" "job 2: every sub-stage through run_exec"
expect_contains "$T_DIR/trace" "Successfully extracted cache" "cache restored"
expect_contains "$T_DIR/trace" "cached-by-job-1" "cached file from job 1"
expect_contains "$T_DIR/trace" "Downloading artifacts for first ($id1)..." "download notice"
expect_contains "$T_DIR/trace" "Downloading artifacts from coordinator... ok  id=$id1" "download by the helper"
expect_contains "$T_DIR/trace" "two" "artifact file from job 1"
expect_not_contains "$T_DIR/trace" "$(job_field "$id2" 'd["token"]')" "job token in the trace"
q=$(fake_control GET "requests?endpoint=artifacts_download&job_id=$id1&body=0")
expect_eq 1 "$(json_get "$q" 'len(d["requests"])')" "one download request to the fake"

test_case "on failure: archive_cache_on_failure and upload_artifacts_on_failure through run_exec"
rm -f "$T_DIR/stages-local.log"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$vars"',
  "script": ["mkdir -p c", "echo on-failure > c/f", "echo failed-log > build.log", "exit 4"],
  "payload": {"cache": [{"key": "fail-key", "paths": ["c/"], "policy": "push", "when": "on_failure",
                         "untracked": false, "fallback_keys": []}],
    "artifacts": [{"name": "logs", "paths": ["build.log"], "when": "on_failure",
                   "artifact_type": "archive", "artifact_format": "zip"}]}}')
run_config
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq 4 "$(job_field "$id" 'd["exit_code"]')" "the script's exit code"
expect_eq "prepare_script get_sources restore_cache step_script archive_cache_on_failure upload_artifacts_on_failure cleanup_file_variables" \
	"$(stages_of "$T_DIR/stages-local.log")" "failure sub-stages through run_exec"
expect_eq "logs.zip" "$(job_field "$id" '",".join(a["filename"] for a in d["artifacts"])')" "uploaded on failure"
[ -n "$(find "$T_DIR/stage-cache" -path '*fail-key*' -name cache.zip)" ] || fail "no cache saved on failure"

test_case "unshare driver: the job runs in its own namespaces"
if ! unshare --mount --pid --uts --ipc --fork --kill-child --mount-proc true 2>/dev/null &&
   ! unshare --user --map-root-user --mount --pid --uts --ipc --fork --kill-child --mount-proc true 2>/dev/null; then
	skip_case "cannot create namespaces here (unshare refused)"
else
	write_config unshare \
		"config_exec = \"$UNSHARE/config.sh\"" \
		"prepare_exec = \"$UNSHARE/prepare.sh\"" \
		"run_exec = \"$UNSHARE/run.sh\"" \
		"cleanup_exec = \"$UNSHARE/cleanup.sh\"" \
		"graceful_kill_timeout = 2"
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["echo pid=$$", "echo host=$(hostname)", "echo procs=$(ls /proc | grep -c \"^[0-9]\")"]}')
	run_config
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
	job_trace "$id" "$T_DIR/trace"
	expect_contains "$T_DIR/trace" "Using Custom executor with driver unshare v1.0.0..." "banner"
	expect_contains "$T_DIR/trace" "Running on crunner-sandbox-$id..." "hostname from config_exec"
	expect_contains "$T_DIR/trace" "host=crunner-sandbox-$id" "UTS namespace"
	expect_contains "$T_DIR/trace" "pid=1" "PID namespace"
	procs=$(grep -o 'procs=[0-9][0-9]*' "$T_DIR/trace" | head -1 | cut -d= -f2)
	[ -n "$procs" ] && [ "$procs" -lt 10 ] ||
		fail "the sandbox sees $procs processes: not its own /proc"

	test_case "unshare driver: artifacts uploaded by the helper inside the sandbox"
	write_config unshare \
		"config_exec = \"$UNSHARE/config.sh\"" \
		"prepare_exec = \"$UNSHARE/prepare.sh\"" \
		"run_exec = \"$DRV/run-record-unshare.sh\"" \
		"cleanup_exec = \"$UNSHARE/cleanup.sh\"" \
		"graceful_kill_timeout = 2"
	rm -f "$T_DIR/stages-unshare.log"
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["mkdir -p dist", "echo built-in-sandbox-$(hostname) > dist/out.txt"],
	  "payload": {"artifacts": [{"name": "sandboxed", "paths": ["dist/"], "when": "on_success",
	                             "artifact_type": "archive", "artifact_format": "zip"}]}}')
	run_config
	job_trace "$id" "$T_DIR/trace"
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
	expect_contains "$T_DIR/stages-unshare.log" upload_artifacts_on_success "upload stage through run_exec"
	expect_contains "$T_DIR/trace" 'Uploading artifacts as "archive" to coordinator... 201 Created' "upload by the helper"
	curl -sS --fail "$FAKE_URL/__control/jobs/$id/artifacts/0" >"$T_DIR/sandboxed.zip" ||
		fail "cannot fetch the artifact of job $id"
	expect_eq "$(printf 'dist/\ndist/out.txt:built-in-sandbox-crunner-sandbox-%s' "$id")" \
		"$(zip_listing "$T_DIR/sandboxed.zip")" "artifact made in the sandbox"
fi

t_finish
