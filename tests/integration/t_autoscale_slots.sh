#!/usr/bin/env bash
# Autoscaler slots through `crunner run` with the instance executor (the
# built-in static provider in front of a real OpenSSH server on loopback):
# two jobs at once on an instance of capacity_per_instance 2 hold slots 0
# and 1, and with use_slot_cgroups each sees its slot's cgroup in
# GITLAB_RUNNER_SLOT_CGROUP, as gitlab-runner's acquisition sets it; a
# later job gets a released slot again.  A template without ${slot} is
# warned about at load (gitlab-runner's message) and used as it is;
# without use_slot_cgroups there is no variable.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_require
start_fakegitlab
add_runner "$RUN_TOKEN"
start_sshd slots
. "$(dirname "$0")/daemon_lib.sh"

# write_config RUNNER-LINES: two jobs at once, one instance of two slots.
write_config() {
cat >"$CFG" <<TOML
concurrent = 2
check_interval = 1
shutdown_timeout = 30
log_level = "debug"
[[runners]]
  name = "slots"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "instance"
  builds_dir = "$T_DIR/remote-builds"
  $1
  [runners.autoscaler]
    plugin = "static"
    capacity_per_instance = 2
    [runners.autoscaler.plugin_config.instances.box]
      internal_addr = "127.0.0.1:$SSHD_PORT"
      username = "root"
      key_path = "$SSHD_KEY"
TOML
}

wait_done() { # ID...
	local end=$((SECONDS + 150)) id
	for id in "$@"; do
		until job_done "$id"; do
			((SECONDS < end)) || fail "job $id did not end: $(tail -20 "$LOG")"
			sleep 0.3
		done
	done
}

# check_job ID: the job succeeded; its log in $T_DIR/trace-ID.
check_job() {
	job_trace "$1" "$T_DIR/trace-$1"
	expect_eq success "$(job_field "$1" 'd["status"]')" "job $1 status ($(tail -c 800 "$T_DIR/trace-$1"))"
}

# cgroup_of ID: the GITLAB_RUNNER_SLOT_CGROUP the job printed (check_job first).
cgroup_of() {
	sed -En 's/.*O[ +]cg=([^ [:cntrl:]]*).*/\1/p' "$T_DIR/trace-$1" | head -1
}

PRINT='"echo cg=${GITLAB_RUNNER_SLOT_CGROUP:-none}"'

test_case "two jobs at once hold slots 0 and 1; their cgroups in GITLAB_RUNNER_SLOT_CGROUP"
write_config 'use_slot_cgroups = true
  slot_cgroup_template = "crunner/slot-${slot}.slice"'
# The first job waits for the second to start: both hold a slot at once.
first=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["for i in $(seq 300); do [ -e '"$T_DIR"'/second-started ] && break; sleep 0.1; done",
             '"$PRINT"']}')
second=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["touch '"$T_DIR"'/second-started", '"$PRINT"']}')
start_run
wait_done "$first" "$second"
[ -e "$T_DIR/second-started" ] || fail "the second job did not run"
check_job "$first"
check_job "$second"
got="$(cgroup_of "$first") $(cgroup_of "$second")"
case $got in
"crunner/slot-0.slice crunner/slot-1.slice" | "crunner/slot-1.slice crunner/slot-0.slice") ;;
*) fail "slot cgroups of the two jobs: '$got'" ;;
esac
expect_not_contains "$LOG" "Slot cgroup template does not contain" "no warning for a template with \${slot}"
expect_not_contains "$LOG" "has no effect" "the keys are acted on"

test_case "a released slot is given again"
third=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ['"$PRINT"']}')
wait_done "$third"
check_job "$third"
expect_eq "crunner/slot-0.slice" "$(cgroup_of "$third")" "the third job's cgroup"
stop_run

test_case "a template without \${slot}: gitlab-runner's warning, used as it is"
write_config 'use_slot_cgroups = true
  slot_cgroup_template = "crunner/shared"'
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ['"$PRINT"']}')
start_run
wait_done "$id"
stop_run
check_job "$id"
expect_eq "crunner/shared" "$(cgroup_of "$id")" "the job's cgroup"
expect_contains "$LOG" "Slot cgroup template does not contain \${slot} placeholder. All jobs will use the same cgroup, defeating the purpose of slot-based isolation. Consider using a template like 'gitlab-runner/slot-\${slot}' config_name=slot_cgroup_template template=crunner/shared" "the warning"

test_case "without use_slot_cgroups: no GITLAB_RUNNER_SLOT_CGROUP"
write_config 'slot_cgroup_template = "crunner/slot-${slot}.slice"'
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ['"$PRINT"']}')
start_run
wait_done "$id"
stop_run
check_job "$id"
expect_eq "none" "$(cgroup_of "$id")" "the job's cgroup"

t_finish
