#!/usr/bin/env bash
# [runners.autoscaler] with the docker-autoscaler executor through `crunner
# run` against the fake GitLab: taskscaler rents the instance (the built-in
# static provider; the instance is a real OpenSSH server on loopback in
# front of the local Docker engine) and the docker executor runs the job
# with its Docker API over SSH there (docker system dial-stdio).  No
# container is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_require
command -v docker >/dev/null || skip_scenario "no docker CLI (dial-stdio runs it on the instance)"
. "$CR_SOURCE_DIR/tests/docker/env.sh"
HELPER_IMAGE=$(sed -n 's/.*helper image: //p' "$T_DIR/docker-env.log" | tail -1)
[ -n "$HELPER_IMAGE" ] || fail "no helper image: $(cat "$T_DIR/docker-env.log")"

start_fakegitlab
add_runner "$RUN_TOKEN"
start_sshd adk
CFG=$T_DIR/config.toml
LOG=$T_DIR/run.log

cat >"$CFG" <<TOML
concurrent = 1
check_interval = 1
shutdown_timeout = 30
log_level = "debug"
[[runners]]
  name = "adk"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "docker-autoscaler"
  [runners.docker]
    image = "crunner-test/busybox:latest"
    helper_image = "$HELPER_IMAGE"
    pull_policy = ["never"]
  [runners.autoscaler]
    plugin = "static"
    capacity_per_instance = 1
    [runners.autoscaler.plugin_config.instances.box]
      internal_addr = "127.0.0.1:$SSHD_PORT"
      username = "root"
      key_path = "$SSHD_KEY"
TOML

# Containers only: the cache and build volumes are kept for the next job,
# as gitlab-runner keeps them.
leftovers() {
	docker ps -aq --filter "label=com.gitlab.gitlab-runner.job.id=$1"
}

test_case "a docker-autoscaler job runs in a container on the instance"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo hello-from-container", "cat /etc/hostname >/dev/null && echo in-container"]}')
"$CRUNNER" run --config "$CFG" --trace-interval 200ms >"$T_DIR/run.out" 2>"$LOG" &
RUN_PID=$!
test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
end=$((SECONDS + 240))
until curl -sS "$FAKE_URL/__control/jobs/$id" | "$PYTHON" -c \
	'import json,sys; sys.exit(json.load(sys.stdin)["status"] not in ("success","failed","canceled"))'; do
	((SECONDS < end)) || fail "the job did not end: $(tail -20 "$LOG")"
	sleep 0.5
done
kill -QUIT "$RUN_PID"
timeout 60 tail --pid="$RUN_PID" -f /dev/null || fail "crunner did not stop: $(tail -5 "$LOG")"
! grep -q "Sanitizer" "$LOG" || fail "sanitizer report: $(grep -A30 Sanitizer "$LOG" | head -40)"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -20 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Preparing instance..." "gitlab-runner's line"
expect_contains "$T_DIR/trace" "Dialing instance box..." "the instance"
expect_contains "$T_DIR/trace" "hello-from-container" "script output"
expect_contains "$T_DIR/trace" "in-container" "ran in a container"
n=$(grep -c "Dialing instance" "$T_DIR/trace")
expect_eq 1 "$n" "one dialing line"
expect_contains "$SSHD_DIR/sshd.log" "Accepted publickey for root" "the Docker API went through sshd"
expect_eq "" "$(leftovers "$id")" "containers left"

t_finish
