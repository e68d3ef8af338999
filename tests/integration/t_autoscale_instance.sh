#!/usr/bin/env bash
# [runners.autoscaler] with the instance executor through `crunner run`
# against the fake GitLab: instances are a real OpenSSH server on loopback
# (sshd_lib.sh), rented through the built-in static provider and through a
# JSON-lines plugin that fakes a cloud (tests/unit/data/taskscaler/).
# A job runs end to end on its instance; max_use_count retires an instance
# after its job; shutdown deletes the instances; use_common_build_dir and
# log_internal_ip/log_external_ip; FF_USE_FLEETING_ACQUIRE_HEARTBEATS
# keeps a job off an instance that cannot be reached; /metrics shows the pool
# under gitlab-runner's fleeting_taskscaler_* / fleeting_provisioner_* names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_require
start_fakegitlab
add_runner "$RUN_TOKEN"
start_sshd inst
POOL_PLUGIN="$(cd "$(dirname "$0")/../unit/data/taskscaler" && pwd)/pool_plugin.py"
CFG=$T_DIR/config.toml
LOG=$T_DIR/run.log

# write_config AUTOSCALER-LINES: the runner; stdin's lines end the file.
write_config() {
	{
		cat <<TOML
concurrent = 2
check_interval = 1
listen_address = "127.0.0.1:0"
shutdown_timeout = 30
log_level = "debug"
[[runners]]
  name = "inst"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "instance"
  builds_dir = "$T_DIR/remote-builds"
TOML
		cat
	} >"$CFG"
}

start_run() {
	: >"$LOG"
	"$CRUNNER" run --config "$CFG" --trace-interval 200ms >"$T_DIR/run.out" 2>"$LOG" &
	RUN_PID=$!
	test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
}

stop_run() {
	kill -QUIT "$RUN_PID"
	local rc=0
	timeout 60 tail --pid="$RUN_PID" -f /dev/null || fail "crunner did not stop: $(tail -5 "$LOG")"
	wait "$RUN_PID" || rc=$?
	! grep -q "Sanitizer" "$LOG" ||
		fail "sanitizer report: $(grep -A30 Sanitizer "$LOG" | head -40)"
	expect_eq 0 "$rc" "crunner run exit code ($(tail -3 "$LOG"))"
}

wait_until() { # SECONDS COMMAND...
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

scrape() { # FILE
	local addr
	addr=$(grep -o 'metrics server listening on [0-9.:]*' "$LOG" | head -1 | sed 's/.* on //')
	[ -n "$addr" ] || fail "no metrics address in the log: $(tail -5 "$LOG")"
	curl -sS --fail "http://$addr/metrics" >"$1" || fail "cannot scrape $addr/metrics"
}

# metric FILE NAME LABEL=VALUE...: the value of the one sample with these
# labels; every family must have its HELP and TYPE, and come in name order.
metric() {
	"$PYTHON" - "$@" <<'EOF'
import re, sys
path, name, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
types, order, found = {}, [], []
for line in open(path):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        order.append(line.split()[2]); continue
    if line.startswith("# TYPE "):
        types[line.split()[2]] = line.split()[3]; continue
    m = re.match(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
    if not m:
        sys.exit(f"malformed line: {line!r}")
    fam = m[1]
    if fam not in types:
        fam = re.sub(r"_(bucket|sum|count)$", "", fam)
        if types.get(fam) != "histogram":
            sys.exit(f"{m[1]} has no HELP/TYPE before {line!r}")
    labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m[2] or ""))
    if m[1] == name and all(labels.get(k) == v for k, v in want.items()):
        found.append(m[3])
if order != sorted(order):
    sys.exit(f"families out of order: {order}")
if len(found) != 1:
    sys.exit(f"{name} {want}: {len(found)} samples")
print(found[0])
EOF
}

expect_metric() { # EXPECTED FILE NAME LABELS...
	local want=$1 got
	shift
	got=$(metric "$@" 2>&1) || fail "metrics: $got"
	expect_eq "$want" "$got" "metric $2 ${*:3}"
}

job_done() { # ID
	curl -sS "$FAKE_URL/__control/jobs/$1" | "$PYTHON" -c \
		'import json,sys; sys.exit(json.load(sys.stdin)["status"] not in ("success","failed","canceled"))'
}

test_case "static provider: a job runs on the instance over SSH"
write_config <<TOML
  [runners.instance]
    use_common_build_dir = true
  [runners.autoscaler]
    plugin = "static"
    capacity_per_instance = 1
    log_external_ip = true
    instance_ready_command = "echo ready >\$HOME/ready-ran"
    [runners.autoscaler.plugin_config.instances.box]
      internal_addr = "127.0.0.1:$SSHD_PORT"
      username = "root"
      key_path = "$SSHD_KEY"
TOML
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo hello-from-instance", "echo conn=${SSH_CONNECTION%% *}", "echo pwd=$PWD"]}')
start_run
wait_until 150 job_done "$id" || fail "the job did not end: $(tail -20 "$LOG")"
stop_run
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Preparing instance..." "gitlab-runner's line"
# log_external_ip: the static provider's external address is the internal one.
expect_contains "$T_DIR/trace" "Dialing instance box, 127.0.0.1:$SSHD_PORT..." "the instance and its external address"
# No max_use_count = 1 (nor VM isolation): gitlab-runner's warning, and
# the builds dir stays per runner and slot.
expect_contains "$T_DIR/trace" "WARNING: use_common_build_dir has no effect: requires vm isolation or max_use_count = 1" "common build dir refused"
expect_contains "$T_DIR/trace" "Using Instance executor..." "banner"
expect_contains "$T_DIR/trace" "hello-from-instance" "script output"
expect_contains "$T_DIR/trace" "conn=127.0.0.1" "ran through sshd"
expect_contains "$T_DIR/trace" "pwd=$T_DIR/remote-builds/" "builds_dir on the instance"
expect_contains "$LOG" "instance box ready" "ready command succeeded"
expect_contains "$SSHD_DIR/sshd.log" "Accepted publickey for root" "key login"

test_case "a cloud plugin: max_use_count retires instances, shutdown deletes them"
write_config <<TOML
  [runners.autoscaler]
    plugin = "$POOL_PLUGIN"
    capacity_per_instance = 1
    max_use_count = 1
    max_instances = 2
    log_internal_ip = true
    delete_instances_on_shutdown = true
    update_interval = "1s"
    update_interval_when_expecting = "200ms"
    shutdown_deletion_interval = "200ms"
    instance_readiness_time_buckets = [3600, 0.001]
    [runners.autoscaler.plugin_config]
      state = "$T_DIR/cloud.json"
      log = "$T_DIR/cloud.log"
      addr = "127.0.0.1:$SSHD_PORT"
      user = "root"
      key_path = "$SSHD_KEY"
    [[runners.autoscaler.policy]]
      idle_count = 1
      idle_time = "10m"
  [runners.instance]
    use_common_build_dir = true
TOML
id1=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo job-one", "echo pwd=$PWD", "echo path=$CI_PROJECT_PATH"]}')
start_run
wait_until 150 job_done "$id1" || fail "job 1 did not end: $(tail -20 "$LOG")"
id2=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo job-two"]}')
wait_until 150 job_done "$id2" || fail "job 2 did not end: $(tail -20 "$LOG")"
expect_eq success "$(job_field "$id1" 'd["status"]')" "job 1 status"
expect_eq success "$(job_field "$id2" 'd["status"]')" "job 2 status"
job_trace "$id1" "$T_DIR/trace1"
job_trace "$id2" "$T_DIR/trace2"
i1=$(grep -o 'Dialing instance i-[0-9]*' "$T_DIR/trace1" | awk '{print $3}')
i2=$(grep -o 'Dialing instance i-[0-9]*' "$T_DIR/trace2" | awk '{print $3}')
[ -n "$i1" ] && [ -n "$i2" ] || fail "no instance in the traces"
[ "$i1" != "$i2" ] || fail "max_use_count = 1, yet $i1 ran both jobs"
# log_internal_ip: the address follows the id.
expect_contains "$T_DIR/trace1" "Dialing instance $i1, 127.0.0.1:$SSHD_PORT..." "internal address logged"
# use_common_build_dir with max_use_count = 1: <builds_dir>/<project path>.
path=$(grep -o '^path=.*' "$T_DIR/trace1" | tail -1 | cut -d= -f2 | tr -d '\r')
expect_contains "$T_DIR/trace1" "pwd=$T_DIR/remote-builds/$path" "common build dir"
expect_not_contains "$T_DIR/trace1" "use_common_build_dir has no effect" "no warning"
wait_until 10 grep -q "^decrease $i1\$" "$T_DIR/cloud.log" || fail "$i1 was not retired: $(cat "$T_DIR/cloud.log")"
expect_contains "$LOG" "removing instance $i1: max_use_count reached" "retired"

# /metrics: the const labels are gitlab-runner's (runner, runner_name,
# system_id); the numbers are this run's.
scrape "$T_DIR/metrics"
sysid=$(grep -o 'system_id="[^"]*"' "$T_DIR/metrics" | head -1 | cut -d'"' -f2)
short=$(grep -o 'fleeting_taskscaler_max_tasks_per_instance{runner="[^"]*"' "$T_DIR/metrics" | cut -d'"' -f2)
[ -n "$sysid" ] && [ -n "$short" ] || fail "no labels: $(head -30 "$T_DIR/metrics")"
case "$RUN_TOKEN" in *"$short"*) ;; *) fail "runner label $short is not from $RUN_TOKEN" ;; esac
L=(runner="$short" runner_name=inst system_id="$sysid")
expect_contains "$T_DIR/metrics" "# TYPE fleeting_taskscaler_tasks gauge" "tasks gauge"
expect_contains "$T_DIR/metrics" "# TYPE fleeting_provisioner_instance_creation_time_seconds histogram" "creation histogram"
expect_metric 2 "$T_DIR/metrics" fleeting_taskscaler_task_operations_total operation=acquire "${L[@]}"
expect_metric 2 "$T_DIR/metrics" fleeting_taskscaler_task_operations_total operation=release "${L[@]}"
expect_metric 0 "$T_DIR/metrics" fleeting_taskscaler_tasks state=acquired "${L[@]}"
expect_metric 1 "$T_DIR/metrics" fleeting_taskscaler_max_use_count_per_instance "${L[@]}"
expect_metric 1 "$T_DIR/metrics" fleeting_taskscaler_max_tasks_per_instance "${L[@]}"
expect_metric 2 "$T_DIR/metrics" fleeting_provisioner_max_instances "${L[@]}"
created=$(metric "$T_DIR/metrics" fleeting_provisioner_instance_operations_total operation=create "${L[@]}") || fail "$created"
[ "$created" -ge 3 ] || fail "instances asked for: $created, want >= 3 (two retired, one idle)"
deleted=$(metric "$T_DIR/metrics" fleeting_provisioner_instance_operations_total operation=delete "${L[@]}") || fail "$deleted"
[ "$deleted" -ge 2 ] || fail "instances deleted: $deleted, want >= 2"
ready=$(metric "$T_DIR/metrics" fleeting_taskscaler_task_instance_readiness_time_seconds_count "${L[@]}") || fail "$ready"
[ "$ready" -ge 2 ] || fail "readiness observations: $ready"
# The configured buckets: 0.001 (nothing is that fast) and 3600.
expect_metric 0 "$T_DIR/metrics" fleeting_taskscaler_task_instance_readiness_time_seconds_bucket le=0.001 "${L[@]}"
expect_metric "$ready" "$T_DIR/metrics" fleeting_taskscaler_task_instance_readiness_time_seconds_bucket le=3600 "${L[@]}"
expect_metric "$ready" "$T_DIR/metrics" fleeting_taskscaler_task_instance_readiness_time_seconds_bucket le=+Inf "${L[@]}"
stop_run
expect_contains "$T_DIR/cloud.log" "shutdown" "the plugin was shut down"
"$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(1 if d["instances"] else 0)' \
	"$T_DIR/cloud.json" || fail "instances left after shutdown: $(cat "$T_DIR/cloud.json")"

test_case "FF_USE_FLEETING_ACQUIRE_HEARTBEATS: an unreachable instance is not given to the job"
# The pool's one host has nothing listening: its heartbeat fails, it is
# removed, and the job never dials it (without the flag it would).
write_config <<TOML
  [runners.feature_flags]
    FF_USE_FLEETING_ACQUIRE_HEARTBEATS = true
  [runners.autoscaler]
    plugin = "static"
    capacity_per_instance = 1
    failure_threshold = 1
    instance_acquire_timeout = "20s"
    [runners.autoscaler.plugin_config.instances.a-dead]
      internal_addr = "127.0.0.1:1"
      username = "root"
      key_path = "$SSHD_KEY"
TOML
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo alive"]}')
start_run
wait_until 150 job_done "$id" || fail "the job did not end: $(tail -20 "$LOG")"
stop_run
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "unable to acquire instance within the configured timeout of 20s" "no instance for the job"
expect_not_contains "$T_DIR/trace" "Dialing instance a-dead" "the dead instance was not dialed"
expect_contains "$LOG" "instance a-dead failed its heartbeat (1 of 1)" "heartbeat failed"
expect_contains "$LOG" "removing instance a-dead: too many failed heartbeats" "removed"

test_case "a config reload reconfigures the policies, the plugin keeps running"
: >"$T_DIR/cloud.log"
rm -f "$T_DIR/cloud.json"
POLICY_HEAD=$(cat <<TOML
  [runners.autoscaler]
    plugin = "$POOL_PLUGIN"
    capacity_per_instance = 1
    max_instances = 2
    delete_instances_on_shutdown = true
    update_interval = "1s"
    update_interval_when_expecting = "200ms"
    shutdown_deletion_interval = "200ms"
    [runners.autoscaler.plugin_config]
      state = "$T_DIR/cloud.json"
      log = "$T_DIR/cloud.log"
      addr = "127.0.0.1:$SSHD_PORT"
TOML
)
write_config <<<"$POLICY_HEAD"
start_run
wait_until 30 grep -q "instance group .* ready" "$LOG" || fail "no instance group: $(tail -5 "$LOG")"
cloud_count() { # the instances the fake cloud has now
	"$PYTHON" -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["instances"]))' "$T_DIR/cloud.json" 2>/dev/null || echo 0
}
two_instances() { [ "$(cloud_count)" = 2 ]; }
# Without a policy one job request at a time reserves one slot: never two.
sleep 3
! two_instances || fail "two instances without an idle_count"
# Same entry, idle_count = 2: crunner notices the file by itself.
write_config <<TOML
$POLICY_HEAD
    [[runners.autoscaler.policy]]
      idle_count = 2
      idle_time = "10m"
TOML
wait_until 60 two_instances || fail "the new idle_count was not acted on: $(tail -10 "$LOG")"
expect_contains "$LOG" "1 policy configured" "reconfigured"
expect_eq 1 "$(grep -c '^init' "$T_DIR/cloud.log")" "plugin inits (not restarted)"
stop_run

t_finish
