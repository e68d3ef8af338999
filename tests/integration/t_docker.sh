#!/usr/bin/env bash
# The docker executor through the real binary against a real Docker engine
# (scripts/docker-test-env.sh starts one and builds the local test images):
# a job in a sh-only image and in a bash image (the helper container runs
# the preparation, the job's image the script, on a build volume), a
# failing script, pull policy never with a missing image, allowed_images,
# cancel mid-job, the job timeout and an OOM kill; no container and no
# volume of the job is left after any of them.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dba
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

# image:docker:platform: this machine's own, so the local image fits.
case $(uname -m) in x86_64) PLATFORM=linux/amd64 ;; aarch64) PLATFORM=linux/arm64 ;; *) PLATFORM= ;; esac
test_case "sh-only image: script output, sh detected, labels, nothing left"
HOST_BUILDS_MARK=
[ -e /builds/acme/widget ] || HOST_BUILDS_MARK=/builds/acme/widget
write_config
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "timeout": 5400,
  "variables": [{"key": "MY_FILE_VAR", "value": "file-var-content", "public": true, "file": true}],
  "payload": {"image": {"name": "'"$BUSYBOX"'", "executor_opts": {"docker": {"platform": "'"$PLATFORM"'"}}}},
  "script": ["echo hello-from-docker", "cat \"$MY_FILE_VAR\"", "echo shell=$0", "cat /proc/1/cgroup | head -1 >/dev/null", "echo pwd=$PWD", "echo err-line >&2", "touch made-in-container"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -5 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Using Docker executor with image $BUSYBOX ..." "banner"
expect_contains "$T_DIR/trace" 'Using locally found image version due to "if-not-present" pull policy' "policy line"
expect_contains "$T_DIR/trace" "hello-from-docker" "script output"
expect_contains "$T_DIR/trace" "err-line" "stderr"
expect_contains "$T_DIR/trace" "Running on runner-" "hostname of the container"
expect_contains "$T_DIR/trace" "Job succeeded" "footer"
expect_contains "$T_DIR/trace" "pwd=/builds/acme/widget" "the project dir in the build volume"
expect_contains "$T_DIR/trace" "file-var-content" "a file variable, written in the build volume"
# The container's paths are not made on this host (the volume has them).
[ ! -e "/builds/acme/widget.tmp/MY_FILE_VAR" ] || fail "the file variable was written on the host"
[ ! -e "$HOST_BUILDS_MARK" ] || fail "the project dir was made on the host: /builds/acme/widget"
# gitlab-runner's labeler also sets the job's timeout, the project runner
# id (CI_CONCURRENT_PROJECT_ID) and the system id, on every container.
sleep 0.3
labels3=$("$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    a = json.loads(line)["Actor"]["Attributes"]
    if a.get("com.gitlab.gitlab-runner.job.id") == sys.argv[2]:
        print(" ".join(a.get("com.gitlab.gitlab-runner." + k, "(none)")
                       for k in ("job.timeout", "project.runner_id", "runner.system_id")))
        break' "$T_DIR/events.json" "$id")
expect_eq "1h30m0s 0 $(cat "$T_DIR/.runner_system_id")" "$labels3" "job.timeout, project.runner_id and runner.system_id labels"
expect_nothing_left "$id"

test_case "bash image: bash detected, image:docker:user, a failing script's exit code, after_script"
write_config
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BASH_IMAGE"'", "executor_opts": {"docker": {"user": "65534"}}}},
  "script": ["echo bash=$BASH_VERSION", "echo uid=$(id -u)", "exit 42"], "after_script": ["echo after-ran"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_eq 42 "$(job_field "$id" 'd["exit_code"]')" "exit code"
expect_contains "$T_DIR/trace" "bash=5." "bash ran the script"
expect_contains "$T_DIR/trace" "after-ran" "after_script ran"
expect_contains "$T_DIR/trace" "uid=65534" "image:docker:user"
expect_contains "$T_DIR/trace" "ERROR: Job failed: exit code 42" "footer (gitlab-runner's docker executor's words)"
expect_nothing_left "$id"

test_case "default image from config.toml; options honoured"
write_config 'memory = "64m"' 'cpus = "0.5"' 'shm_size = 8388608' \
	'cap_add = ["SYS_NICE"]' 'cap_drop = ["CHOWN"]' 'user = "nobody"' \
	'extra_hosts = ["db.test:10.1.2.3"]'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "script": ["id -u", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max", "df -k /dev/shm | tail -1", "grep db.test /etc/hosts"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -5 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Using Docker executor with image $BUSYBOX ..." "config image"
expect_contains "$T_DIR/trace" "65534" "user nobody"
expect_contains "$T_DIR/trace" "67108864" "memory limit"
expect_contains "$T_DIR/trace" " 8192 " "shm size"
expect_contains "$T_DIR/trace" "10.1.2.3" "extra host"
expect_nothing_left "$id"

test_case "pull_policy never and a missing image: runner_system_failure, clear line"
write_config 'pull_policy = ["never"]'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "crunner-test/missing:latest"}}, "script": ["echo must-not-run"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" 'ERROR: Preparation failed: failed to pull image "crunner-test/missing:latest" with specified policies [never]: ' "clear line"
expect_contains "$T_DIR/trace" 'No such image: crunner-test/missing:latest' "the engine's reason"
expect_not_contains "$T_DIR/trace" "must-not-run" "no stage ran"
expect_nothing_left "$id"

test_case "allowed_images and allowed_pull_policies refuse what is not listed"
# The config's own image is always allowed, as in gitlab-runner.
write_config 'allowed_images = ["crunner-test/busy*"]'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BASH_IMAGE"'"}}, "script": ["echo must-not-run"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason (image)"
expect_contains "$T_DIR/trace" "is not present on list of allowed images" "allowed_images line"
write_config 'allowed_pull_policies = ["if-not-present"]'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BUSYBOX"'", "pull_policy": ["always"]}}, "script": ["echo must-not-run"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
# gitlab-runner's BuildError with ConfigurationError: not retried.
expect_eq runner_configuration_error "$(job_field "$id" 'd["failure_reason"]')" "failure reason (policy)"
expect_contains "$T_DIR/trace" "invalid pull policy for image \"$BUSYBOX\": pull_policy ([always]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([if-not-present])" "allowed_pull_policies line"
expect_not_contains "$T_DIR/trace" "Will be retried" "a refusal is not retried"
expect_eq 1 "$(grep -c 'invalid pull policy' "$T_DIR/trace")" "refused once"
expect_not_contains "$T_DIR/trace" "must-not-run" "no stage ran"

test_case "allowed_pull_policies empty: the runner's pull_policy is the allowed set"
# An admin's "always" cannot be skipped by a job's image:pull_policy.
write_config 'pull_policy = ["always"]'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BUSYBOX"'", "pull_policy": ["if-not-present"]}}, "script": ["echo must-not-run"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq runner_configuration_error "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "pull_policy ([if-not-present]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])" "the refusal"
expect_not_contains "$T_DIR/trace" "Pulling docker image" "nothing pulled"
expect_not_contains "$T_DIR/trace" "must-not-run" "no stage ran"
expect_nothing_left "$id"

test_case "the helper image honours pull_policy"
# never: a configured helper_image that is not here is not pulled.
write_config 'pull_policy = ["never"]'
sed -i "s|helper_image = \"$HELPER_IMAGE\"|helper_image = \"crunner-test/no-such-helper:1\"|" "$T_DIR/config.toml"
grep -q 'no-such-helper' "$T_DIR/config.toml" || fail "sed did not apply: $(cat "$T_DIR/config.toml")"
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" 'failed to pull image "crunner-test/no-such-helper:1" with specified policies [never]' "the helper got with never"
expect_not_contains "$T_DIR/trace" "Pulling docker image crunner-test/no-such-helper" "the helper image was not pulled"
expect_not_contains "$T_DIR/trace" "must-not-run" "no stage ran"
expect_nothing_left "$id"

# The job prints as it runs: each trace update brings GitLab's cancel back.
test_case "cancel mid-job: the container is killed and removed"
write_config
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BUSYBOX"'"}},
  "script": ["echo started-long-job", "i=0; while [ $i -lt 300 ]; do echo tick; sleep 1; i=$((i+1)); done", "echo must-not-finish"]}')
timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms --trace-interval 200ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
run_pid=$!
test_when_finished "kill $run_pid 2>/dev/null"
wait_for_trace "$id" "started-long-job" || fail "the job did not start: $(cat "$T_DIR/run.err")"
[ -n "$(containers_of "$id")" ] || fail "no container labelled with job $id while it runs"
fake_control POST "jobs/$id/cancel" >/dev/null || fail "cannot cancel"
rc=0
wait "$run_pid" || rc=$?
expect_eq 0 "$rc" "run-single exit code after a cancel ($(tail -3 "$T_DIR/run.err"))"
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "must-not-finish" "script stopped"
expect_nothing_left "$id"

test_case "job timeout: killed, job_execution_timeout, nothing left"
write_config
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "timeout": 3,
  "payload": {"image": {"name": "'"$BUSYBOX"'"}}, "script": ["echo before-hang", "sleep 300"]}')
start=$(date +%s)
run_docker
elapsed=$(($(date +%s) - start))
job_trace "$id" "$T_DIR/trace"
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "execution took longer than" "timeout line"
[ "$elapsed" -lt 40 ] || fail "the timeout took ${elapsed}s"
expect_nothing_left "$id"

test_case "memory limit: an OOM kill is reported in the trace"
write_config 'memory = "16m"' 'memory_swap = "16m"'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BUSYBOX"'"}},
  "script": ["head -c 200000000 /dev/zero | sort >/dev/null"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "killed by the kernel because it ran out of memory (memory limit 16m)" "OOM line"
expect_nothing_left "$id"

test_case "no engine at the configured socket: runner_system_failure"
write_config
sed -i "s|host = \"unix://$SOCK\"|host = \"unix://$T_DIR/no-such.sock\"|" "$T_DIR/config.toml"
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["true"]}')
run_docker
job_trace "$id" "$T_DIR/trace"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "cannot connect to the Docker engine at 'unix://$T_DIR/no-such.sock'" "clear line"

echo "ok: $T_NAME"
