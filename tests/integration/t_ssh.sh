#!/usr/bin/env bash
# The ssh executor ([runners.ssh]) through the real binary against a real
# OpenSSH server on a loopback port (sshd_lib.sh): a job's output and exit
# code, key and password logins, the known-hosts policy, a wrong password,
# and a cancel that ends the remote process.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_require
start_fakegitlab
add_runner "$RUN_TOKEN"
start_sshd main

# write_config KEY=VALUE...: a config.toml for the ssh executor; the lines
# go to [runners.ssh].
write_config() {
	{
		cat <<TOML
concurrent = 1
[[runners]]
  name = "ssh"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "ssh"
  builds_dir = "$T_DIR/remote-builds"
  [runners.ssh]
    host = "127.0.0.1"
    port = "$SSHD_PORT"
    user = "root"
TOML
		local kv
		for kv in "$@"; do
			echo "    $kv"
		done
	} >"$T_DIR/config.toml"
}

test_case "key login: the job runs on the remote host, output and success arrive"
write_config "identity_file = \"$SSHD_KEY\"" "known_hosts_file = \"$SSHD_KNOWN_HOSTS\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "MY_VAR", "value": "my-value", "public": true, "masked": false},
                {"key": "MY_FILE", "value": "file-content", "public": true, "masked": false, "file": true}],
  "script": ["echo hello-from-ssh $MY_VAR", "echo conn=${SSH_CONNECTION%% *}",
             "echo pwd=$PWD", "echo file=$(cat \"$MY_FILE\")", "echo to-stderr >&2"]}')
run_config
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Using SSH executor..." "banner"
expect_contains "$T_DIR/trace" "hello-from-ssh my-value" "script output and variables"
# Only a login through sshd sets SSH_CONNECTION.
expect_contains "$T_DIR/trace" "conn=127.0.0.1" "ran through sshd"
expect_contains "$T_DIR/trace" "pwd=$T_DIR/remote-builds/" "builds_dir on the remote host"
expect_contains "$T_DIR/trace" "file=file-content" "file variable written on the remote host"
expect_contains "$T_DIR/trace" "to-stderr" "stderr in the log"
expect_contains "$T_DIR/trace" "Job succeeded" "footer"
[ -z "$(ls "$T_DIR"/remote-builds/*/*/*.tmp/MY_FILE 2>/dev/null)" ] ||
	fail "the file variable was left behind"

test_case "a failing script: its exit code, in gitlab-runner's ssh wording"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo before-fail", "exit 42"], "after_script": ["echo after-ran"]}')
run_config
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_eq 42 "$(job_field "$id" 'd["exit_code"]')" "exit code"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "ERROR: Job failed: Process exited with status 42" "footer"
expect_contains "$T_DIR/trace" "after-ran" "after_script ran"

test_case "password login"
if [ -n "$SSHD_PASSWORD" ]; then
	write_config "password = \"$SSHD_PASSWORD\"" "known_hosts_file = \"$SSHD_KNOWN_HOSTS\""
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["echo via-password ${SSH_CONNECTION%% *}"]}')
	run_config
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
	job_trace "$id" "$T_DIR/trace"
	expect_contains "$T_DIR/trace" "via-password 127.0.0.1" "script output"
	expect_contains "$SSHD_DIR/sshd.log" "Accepted password for root" "sshd saw a password login"
else
	skip_case "sshd could not be given a password (no mount namespace)"
fi

test_case "a wrong password is a clear error"
write_config "password = \"not-the-password\"" "known_hosts_file = \"$SSHD_KNOWN_HOSTS\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}')
run_config
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "unable to authenticate to root@127.0.0.1:$SSHD_PORT, tried password: access denied" "error"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"

test_case "an unknown host key is refused"
: >"$T_DIR/empty_known_hosts"
write_config "identity_file = \"$SSHD_KEY\"" "known_hosts_file = \"$T_DIR/empty_known_hosts\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}')
run_config
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "knownhosts: key is unknown" "error"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"

test_case "a changed host key is refused"
echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1-2 "$SSHD_DIR/client_ed25519.pub")" >"$T_DIR/wrong_known_hosts"
write_config "identity_file = \"$SSHD_KEY\"" "known_hosts_file = \"$T_DIR/wrong_known_hosts\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}')
run_config
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "knownhosts: key mismatch" "error"

test_case "disable_strict_host_key_checking accepts an unknown host key"
write_config "identity_file = \"$SSHD_KEY\"" "known_hosts_file = \"$T_DIR/empty_known_hosts\"" \
	"disable_strict_host_key_checking = true"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo insecure-ok"]}')
run_config
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "insecure-ok" "script output"

test_case "cancel mid-job ends the remote process"
write_config "identity_file = \"$SSHD_KEY\"" "known_hosts_file = \"$SSHD_KNOWN_HOSTS\""
marker=ssh-cancel-$RANDOM$RANDOM
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "bash -c \"exec -a '"$marker"' sleep 300\""]}')
( wait_for_trace "$id" started
  for _ in $(seq 100); do pgrep -f "$marker" >/dev/null && break; sleep 0.1; done
  pgrep -f "$marker" >"$T_DIR/remote.pid"
  curl -sS -X POST -d '{"graceful": false}' "$FAKE_URL/__control/jobs/$id/cancel" >/dev/null
  date +%s >"$T_DIR/cancel.time" ) &
canceller=$!
run_config
wait "$canceller"
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
[ -s "$T_DIR/remote.pid" ] || fail "the remote process never started"
took=$(( $(date +%s) - $(cat "$T_DIR/cancel.time") ))
# The remote "sleep 300" must not be what ended the job.
[ "$took" -lt 120 ] || fail "the job ended $took s after the cancel"
for _ in $(seq 50); do pgrep -f "$marker" >/dev/null || break; sleep 0.1; done
left=$(pgrep -af "$marker" || true)
[ -z "$left" ] || { pkill -f "$marker"; fail "remote processes left behind: $left"; }

t_finish
