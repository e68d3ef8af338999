#!/usr/bin/env bash
# What [runners.docker] keys and docker feature flags make of the
# containers, asserted on what reached the engine: crunner talks to the
# engine through tests/docker/record_proxy.py, which records each create
# body and the engine's inspect of each container before crunner removes
# it.  pid_mode, cgroup_parent, cpuset_mems, device_cgroup_rules,
# log_options (LogConfig) and FF_USE_INIT_WITH_DOCKER_EXECUTOR (Init) on
# the build container, the service_* resources on a service; the helper
# gets the cgroup but neither pid_mode nor Init, as in gitlab-runner;
# services_limit refuses a job with too many services; a log option
# gitlab-runner does not allow is a configuration error; gpus reaches the
# engine as DeviceRequests (this engine has no GPU: it refuses to start).
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dhc
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

. "$CR_SOURCE_DIR/tests/docker/record_lib.sh"
start_record_proxy "$SOCK"

# A cgroup of this run's own (cgroupfs: the engine makes it, nobody
# removes it): gone with the test.
CGROUP=crunner-test-$SHORT_LC
test_when_finished "for d in /sys/fs/cgroup/*/$CGROUP-build /sys/fs/cgroup/*/$CGROUP-svc; do [ -d \"\$d\" ] && rmdir \"\$d\" 2>/dev/null; done; true"

test_case "build, helper and service containers: what the engine made of the keys"
proxied_config 'network_mode = "host"' 'pid_mode = "host"' \
	"cgroup_parent = \"/$CGROUP-build\"" 'cpuset_mems = "0"' \
	'device_cgroup_rules = ["c 13:* rwm"]' \
	'log_options = { env = "CI_JOB_ID", labels = "com.gitlab.gitlab-runner.job.id" }' \
	"service_cgroup_parent = \"/$CGROUP-svc\"" 'service_memory = "48m"' \
	'service_memory_swap = "96m"' 'service_memory_reservation = "24m"' \
	'service_cpus = "0.5"' 'service_cpu_shares = 256' 'service_cpuset_cpus = "0"' \
	'services_limit = 1'
cat >>"$T_DIR/config.toml" <<TOML
  [runners.feature_flags]
    FF_USE_INIT_WITH_DOCKER_EXECUTOR = true
TOML
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "entrypoint": ["/bin/sh", "-c"],
     "command": ["mkdir -p /www && exec httpd -f -p '"$SERVICE_PORT"' -h /www"]}]},
  "script": ["grep -q \":/'"$CGROUP"'-build/\" /proc/self/cgroup && echo in-the-build-cgroup",
             "echo pid1=$(cat /proc/1/comm)"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
# in the job: the cgroup asked for; PID 1 the host's (pid_mode host wins
# over Init, which only the engine's record shows)
expect_contains "$T_DIR/trace" "in-the-build-cgroup" "the job ran in cgroup_parent"
expect_not_contains "$T_DIR/trace" "pid1=sh" "PID 1 is not the job's shell (pid_mode host)"
expect_eq '"host"' "$(inspected "$id" build 'h["PidMode"]')" "build PidMode"
expect_eq "\"/$CGROUP-build\"" "$(inspected "$id" build 'h["CgroupParent"]')" "build CgroupParent"
expect_eq '"0"' "$(inspected "$id" build 'h["CpusetMems"]')" "build CpusetMems"
expect_eq '["c 13:* rwm"]' "$(inspected "$id" build 'h["DeviceCgroupRules"]')" "build DeviceCgroupRules"
expect_eq 'true' "$(inspected "$id" build 'h["Init"]')" "build Init"
expect_eq '{"Config": {"env": "CI_JOB_ID", "labels": "com.gitlab.gitlab-runner.job.id"}, "Type": "json-file"}' \
	"$(inspected "$id" build 'h["LogConfig"]')" "build LogConfig"
# the helper: the cgroup, not pid_mode nor Init
expect_eq "[\"/$CGROUP-build\", \"\", null]" \
	"$(inspected "$id" predefined '[h["CgroupParent"], h["PidMode"], h.get("Init")]')" "helper"
# the service: its own resources and cgroup, Init, LogConfig
expect_eq "[$((48 << 20)), $((96 << 20)), $((24 << 20)), 500000000, 256, \"0\", \"/$CGROUP-svc\", true, \"json-file\", \"\"]" \
	"$(inspected "$id" service '[h["Memory"], h["MemorySwap"], h["MemoryReservation"], h["NanoCpus"], h["CpuShares"], h["CpusetCpus"], h["CgroupParent"], h["Init"], h["LogConfig"]["Type"], h["PidMode"]]')" \
	"service resources"
expect_nothing_left "$id"

test_case "services_limit: one service more than allowed, gitlab-runner's refusal"
proxied_config 'network_mode = "host"' 'services_limit = 1'
cat >>"$T_DIR/config.toml" <<TOML
    [[runners.docker.services]]
      name = "$SERVICE_IMAGE"
TOML
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'"}]}, "script": ["echo must-not-run"]}'
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "too many services requested: 2, only 1 allowed" "gitlab-runner's message"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
case " $(created_types_of "$id") " in
*" service "*) fail "a service container was created" ;;
esac
expect_nothing_left "$id"

test_case "log_options: a key gitlab-runner does not allow is a configuration error"
proxied_config 'log_options = { max-size = "1m" }'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq runner_configuration_error "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" 'creating docker log configuration: invalid log options: only ["env" "labels"] are allowed, but found: ["max-size"]' "gitlab-runner's message"
expect_eq "" "$(created_types_of "$id")" "no container"
expect_nothing_left "$id"

test_case "gpus: DeviceRequests as gitlab-runner builds them, refused by an engine without GPUs"
proxied_config 'gpus = "all"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" 'could not select device driver' "the engine's refusal"
got=$("$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "create" in r and (r["body"].get("Labels") or {}).get(
            "com.gitlab.gitlab-runner.job.id") == sys.argv[2]:
        print(json.dumps(r["body"]["HostConfig"].get("DeviceRequests"), sort_keys=True))
        break' "$RECORD" "$id")
expect_eq '[{"Capabilities": [["gpu"]], "Count": -1, "DeviceIDs": null, "Driver": "", "Options": {}}]' "$got" "DeviceRequests sent"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
expect_nothing_left "$id"

test_case "FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR: no umask 0000, the files given to the image's user"
# An image whose Config.User is 1234:1234 (gitlab-runner looks there).
USER_IMAGE=crunner-test/dropin-user-$SHORT_LC:latest
cid=$(curl -sS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
	-d '{"Image": "'"$BUSYBOX"'", "Cmd": ["true"], "Labels": {"com.gitlab.gitlab-runner.runner.id": "'"$SHORT"'"}}' \
	"http://docker/containers/create" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
curl -sS --unix-socket "$SOCK" -X POST -G "http://docker/commit" --data-urlencode "container=$cid" \
	--data-urlencode "repo=${USER_IMAGE%:*}" --data-urlencode tag=latest \
	--data-urlencode "changes=USER 1234:1234" >/dev/null
curl -sS --unix-socket "$SOCK" -X DELETE "http://docker/containers/$cid?force=1" >/dev/null
test_when_finished "curl -sS --unix-socket '$SOCK' -X DELETE 'http://docker/images/$USER_IMAGE?force=1' >/dev/null"
umask_job() {
	run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
	  "variables": [{"key": "SECRET_FILE", "value": "file-content-ok", "file": true}],
	  "payload": {"image": {"name": "'"$USER_IMAGE"'"}},
	  "script": ["echo uid=$(id -u) dir=$(stat -c %a:%u:%g \"$CI_PROJECT_DIR\")", "cat \"$SECRET_FILE\"; echo"]}'
}
write_config 'pull_policy = ["if-not-present"]'
cat >>"$T_DIR/config.toml" <<TOML
  [runners.feature_flags]
    FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR = true
TOML
umask_job
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Not using umask - FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR is set!" "gitlab-runner's line"
expect_contains "$T_DIR/trace" 'Changing ownership of files at "/builds/' "chown line"
expect_contains "$T_DIR/trace" '.tmp" to 1234:1234' "the .tmp dir too"
# made by the helper without umask 0000 (755), then given to the user
expect_contains "$T_DIR/trace" "uid=1234 dir=755:1234:1234" "owner and mode of the project dir"
expect_contains "$T_DIR/trace" "file-content-ok" "the user reads its file variable"
expect_nothing_left "$id"

# Without the flag: gitlab-runner's umask 0000, nothing chowned.
write_config 'pull_policy = ["if-not-present"]'
umask_job
expect_contains "$T_DIR/trace" "uid=1234 dir=777:0:0" "umask 0000 without the flag"
expect_not_contains "$T_DIR/trace" "Changing ownership" "no chown without the flag"
expect_nothing_left "$id"

echo "ok: $T_NAME"
