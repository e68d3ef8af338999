#!/usr/bin/env bash
# use_slot_cgroups with the docker-autoscaler executor through `crunner
# run`: the static provider's instance is a real OpenSSH server on
# loopback in front of the local Docker engine, reached through
# tests/docker/record_proxy.py, which records each create body and the
# engine's inspect of each container.  The job's slot (0: the first on the
# instance) names the cgroup parent of the build and helper containers
# (slot_cgroup_template) and of the service (service_slot_cgroup_template),
# over cgroup_parent and service_cgroup_parent, as gitlab-runner's
# getCgroupParent; the job runs in it and sees it in
# GITLAB_RUNNER_SLOT_CGROUP.  No container is left behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_require
command -v docker >/dev/null || skip_scenario "no docker CLI (dial-stdio runs it on the instance)"
. "$CR_SOURCE_DIR/tests/docker/env.sh"
# The leftover check below looks only at this run's containers.
own_runner_token ads
RUN_TOKEN=$TOKEN
ENGINE_SOCK=${DOCKER_SOCK:-/var/run/docker.sock}

. "$CR_SOURCE_DIR/tests/docker/record_lib.sh"
start_record_proxy "$ENGINE_SOCK"

start_fakegitlab
add_runner "$RUN_TOKEN"
start_sshd slotsd
. "$(dirname "$0")/daemon_lib.sh"

# Cgroups of this run's own (cgroupfs: the engine makes them, nobody
# removes them): gone with the test.
CG=crunner-slots-$(basename "$T_DIR" | tr 'A-Z.' 'a-z-')
test_when_finished "for d in /sys/fs/cgroup/$CG-0 /sys/fs/cgroup/$CG-svc-0 /sys/fs/cgroup/*/$CG-0 /sys/fs/cgroup/*/$CG-svc-0; do [ -d \"\$d\" ] && rmdir \"\$d\" 2>/dev/null; done; true"

cat >"$CFG" <<TOML
concurrent = 1
check_interval = 1
shutdown_timeout = 30
log_level = "debug"
[[runners]]
  name = "slotsd"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "docker-autoscaler"
  use_slot_cgroups = true
  slot_cgroup_template = "/$CG-\${slot}"
  [runners.docker]
    host = "unix://$PROXY_SOCK"
    image = "crunner-test/busybox:latest"
    helper_image = "$HELPER_IMAGE"
    pull_policy = ["never"]
    network_mode = "host"
    cgroup_parent = "/not-this-one"
    service_cgroup_parent = "/nor-this-one"
    service_slot_cgroup_template = "/$CG-svc-\${slot}"
  [runners.autoscaler]
    plugin = "static"
    capacity_per_instance = 2
    [runners.autoscaler.plugin_config.instances.box]
      internal_addr = "127.0.0.1:$SSHD_PORT"
      username = "root"
      key_path = "$SSHD_KEY"
TOML

test_case "the slot's cgroups: build, helper and service containers, and the job's variable"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "crunner-test/service:latest", "alias": "web",
     "entrypoint": ["/bin/sh", "-c"],
     "command": ["mkdir -p /www && exec httpd -f -p 38473 -h /www"]}]},
  "script": ["echo cg=$GITLAB_RUNNER_SLOT_CGROUP",
             "grep -q \":/'"$CG"'-0/\" /proc/self/cgroup && echo in-the-slot-cgroup"]}')
run_one_job "$id"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Dialing instance box..." "ran on the instance"
expect_contains "$T_DIR/trace" "cg=/$CG-0" "GITLAB_RUNNER_SLOT_CGROUP"
expect_contains "$T_DIR/trace" "in-the-slot-cgroup" "the job ran in the slot's cgroup"
expect_eq "\"/$CG-0\"" "$(inspected "$id" build 'h["CgroupParent"]')" "build CgroupParent"
expect_eq "\"/$CG-0\"" "$(inspected "$id" predefined 'h["CgroupParent"]')" "helper CgroupParent"
expect_eq "\"/$CG-svc-0\"" "$(inspected "$id" service 'h["CgroupParent"]')" "service CgroupParent"
left=$(docker ps -aq --filter "label=com.gitlab.gitlab-runner.runner.id=$SHORT" \
	--filter "label=com.gitlab.gitlab-runner.job.id=$id")
expect_eq "" "$left" "containers left"

t_finish
