#!/usr/bin/env bash
# [runners.autoscaler] with the docker-autoscaler executor through `crunner
# run` against the fake GitLab: taskscaler rents the instance (the built-in
# static provider; the instance is a real OpenSSH server on loopback in
# front of the local Docker engine) and the docker executor runs the job
# with its Docker API over SSH there (docker system dial-stdio).  A
# service's port is checked from the instance (a direct-tcpip channel that
# sshd logs), not from the runner's host.  No container is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_require
command -v docker >/dev/null || skip_scenario "no docker CLI (dial-stdio runs it on the instance)"
. "$CR_SOURCE_DIR/tests/docker/env.sh"
# The leftover check below looks only at this run's containers.
own_runner_token asd
RUN_TOKEN=$TOKEN

start_fakegitlab
add_runner "$RUN_TOKEN"
# DEBUG1: sshd logs the direct-tcpip channels of the service check.
SSHD_LOGLEVEL=DEBUG1 start_sshd adk
. "$(dirname "$0")/daemon_lib.sh"

# write_config [DOCKER-LINE]: the runner, one more [runners.docker] line.
write_config() {
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
    ${1:-}
  [runners.autoscaler]
    plugin = "static"
    capacity_per_instance = 1
    [runners.autoscaler.plugin_config.instances.box]
      internal_addr = "127.0.0.1:$SSHD_PORT"
      username = "root"
      key_path = "$SSHD_KEY"
TOML
}
write_config

# Containers only: the cache and build volumes are kept for the next job,
# as gitlab-runner keeps them.
leftovers() {
	docker ps -aq --filter "label=com.gitlab.gitlab-runner.runner.id=$SHORT" \
		--filter "label=com.gitlab.gitlab-runner.job.id=$1"
}

# run_job JSON: queues the job, runs crunner until it ended; the job's log
# in $T_DIR/trace.
run_job() {
	id=$(enqueue_job "$1")
	run_one_job "$id"
}

test_case "a docker-autoscaler job runs in a container on the instance"
run_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo hello-from-container", "cat /etc/hostname >/dev/null && echo in-container"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -20 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Preparing instance..." "gitlab-runner's line"
expect_contains "$T_DIR/trace" "Dialing instance box..." "the instance"
expect_contains "$T_DIR/trace" "hello-from-container" "script output"
expect_contains "$T_DIR/trace" "in-container" "ran in a container"
n=$(grep -c "Dialing instance" "$T_DIR/trace")
expect_eq 1 "$n" "one dialing line"
expect_contains "$SSHD_DIR/sshd.log" "Accepted publickey for root" "the Docker API went through sshd"
expect_eq "" "$(leftovers "$id")" "containers left"

test_case "a service's port is checked from the instance, through SSH"
# network_mode host: this engine has no usable bridge (t_docker_services).
write_config 'network_mode = "host"'
run_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "crunner-test/service:latest", "alias": "web",
     "entrypoint": ["/bin/sh", "-c"],
     "command": ["sleep 1; echo svc-up > /www/index.html && exec httpd -f -p 38471 -h /www"]}]},
  "script": ["wget -qO- http://127.0.0.1:38471/"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Waiting for services to be up and running (timeout 30 seconds)..." "wait line"
expect_not_contains "$T_DIR/trace" "probably didn't start properly" "the check reached the service"
expect_contains "$T_DIR/trace" "svc-up" "the job talked to the service"
# The check's connection was made by the instance's sshd.
grep -q "server_request_direct_tcpip: originator .* target 127.0.0.1 port 38471" "$SSHD_DIR/sshd.log" ||
	fail "no direct-tcpip channel to the service's port in the instance's sshd log"
expect_eq "" "$(leftovers "$id")" "containers left"

t_finish
