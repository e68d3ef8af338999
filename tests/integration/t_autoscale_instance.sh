#!/usr/bin/env bash
# [runners.autoscaler] with the instance executor through `crunner run`
# against the fake GitLab, instances being real OpenSSH servers on loopback:
# the built-in static provider in front of one (sshd_lib.sh), and a fake
# cloud whose every instance is its own sshd (tests/autoscale/sshd_cloud.py),
# rented through a plugin of the kind AS_PLUGIN_KIND names: jsonl (default,
# tests/autoscale/jsonl_plugin.py) or grpc (go-plugin over gRPC,
# tests/autoscale/fakeplugin.py; t_autoscale_grpc.sh runs this script so).
# Scale-up under a queue, the idle count, max_use_count retirement, a plugin
# crash and restart, state storage across a runner restart, and shutdown
# deleting the instances; use_common_build_dir and
# log_internal_ip/log_external_ip; FF_USE_FLEETING_ACQUIRE_HEARTBEATS
# keeps a job off an instance that cannot be reached; /metrics shows the pool
# under gitlab-runner's fleeting_taskscaler_* / fleeting_provisioner_* names;
# a config reload reconfigures the policies.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

AS_PLUGIN_KIND=${AS_PLUGIN_KIND:-jsonl}
sshd_require
case $AS_PLUGIN_KIND in
jsonl) PLUGIN=$CR_SOURCE_DIR/tests/autoscale/jsonl_plugin.py ;;
grpc)
	/usr/bin/python3 -c 'import grpc, google.protobuf.descriptor_pb2' 2>/dev/null ||
		skip_scenario "/usr/bin/python3 has no grpc module (Debian python3-grpcio)"
	PLUGIN=$CR_SOURCE_DIR/tests/autoscale/fakeplugin.py
	;;
*) fail "AS_PLUGIN_KIND is jsonl or grpc, not '$AS_PLUGIN_KIND'" ;;
esac
SSHD_CLOUD=$CR_SOURCE_DIR/tests/autoscale/sshd_cloud.py
start_fakegitlab
add_runner "$RUN_TOKEN"
. "$(dirname "$0")/daemon_lib.sh"
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/cloud_key" -C cloud || fail "ssh-keygen"

# write_config AUTOSCALER-LINES: the runner; stdin's lines end the file.
write_config() {
	{
		cat <<TOML
concurrent = 3
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

# cloud_config NAME: the [runners.autoscaler] lines that rent instances of
# a fresh fake cloud in $T_DIR/NAME (its calls logged in $T_DIR/NAME.log)
# through the plugin; the case's own lines follow on stdin.  Every instance
# and plugin process left is ended with the scenario.
cloud_config() {
	CLOUD=$T_DIR/$1
	CLOUD_LOG=$T_DIR/$1.log
	test_when_finished "/usr/bin/python3 $SSHD_CLOUD kill-all $CLOUD"
	# A plugin outlives a runner killed by a failed case (its own group).
	test_when_finished "kill_plugins $CLOUD_LOG"
	cat <<TOML
  [runners.autoscaler]
    plugin = "$PLUGIN"
    capacity_per_instance = 1
    update_interval = "1s"
    update_interval_when_expecting = "200ms"
    shutdown_deletion_interval = "200ms"
TOML
	cat
	cat <<TOML
    [runners.autoscaler.plugin_config]
      sshd_cloud = "$CLOUD"
      log = "$CLOUD_LOG"
      authorized_keys = "$T_DIR/cloud_key.pub"
      key_path = "$T_DIR/cloud_key"
TOML
}

# kill_plugins LOG: ends the plugin processes the cloud's log names that
# still run (checked by their command line: a pid may have been reused).
kill_plugins() {
	local p
	for p in $(sed -n 's/^init //p' "$1" 2>/dev/null); do
		tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | grep -qF "$PLUGIN" && kill "$p"
	done
	return 0
}

# cloud_count [STATE]: how many instances the cloud has (in that state).
cloud_count() {
	"$PYTHON" -c 'import json,sys
try:
    d = json.load(open(sys.argv[1]))["instances"]
except FileNotFoundError:
    d = {}
print(sum(1 for i in d.values() if sys.argv[2] in ("", i["state"])))' "$CLOUD/cloud.json" "${1:-}"
}

# cloud_pids: the pids of the servers the cloud started, one a line.
cloud_pids() {
	cat "$CLOUD"/i-*/instance.pid 2>/dev/null
}

# running PID: the process exists and is no zombie.
running() {
	local st
	st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
	case $st in Z*) return 1 ;; esac
}

# instances_of TRACE...: the instance each job's log says it dialed.
instances_of() {
	cat "$@" | grep -o 'Dialing instance i-[0-9]*' | awk '{print $3}'
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

if [ "$AS_PLUGIN_KIND" = jsonl ]; then
test_case "static provider: a job runs on the instance over SSH"
start_sshd inst
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
fi

test_case "$AS_PLUGIN_KIND plugin: the idle count, a queue scales the group up, shutdown deletes the instances"
cloud_config cloud1 <<TOML >"$T_DIR/as.toml"
    max_instances = 3
    delete_instances_on_shutdown = true
    [[runners.autoscaler.policy]]
      idle_count = 1
      idle_time = "10m"
TOML
write_config <"$T_DIR/as.toml"
start_run
wait_until 60 grep -q "instance i-1 ready" "$LOG" || fail "no idle instance: $(tail -20 "$LOG")"
expect_contains "$LOG" "$(basename "$PLUGIN")" "the plugin"
[ "$AS_PLUGIN_KIND" = grpc ] && expect_contains "$LOG" "go-plugin protocol" "spoken over gRPC"
# One idle instance, and one for the capacity the runner reserves before
# it asks GitLab for a job (as gitlab-runner's taskscaler does); no more.
count_is() { [ "$(cloud_count running)" = "$1" ]; }
wait_until 30 count_is 2 || fail "not two instances: $(cat "$CLOUD_LOG")"
sleep 3
expect_eq 2 "$(cloud_count running)" "the idle count and the reservation, no more"
ids=()
for n in 1 2 3; do
	ids+=("$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["echo job-'$n' on ${SSH_CONNECTION##* }", "sleep 4"]}')")
done
for id in "${ids[@]}"; do
	wait_until 150 job_done "$id" || fail "job $id did not end: $(tail -20 "$LOG")"
	expect_eq success "$(job_field "$id" 'd["status"]')" "job $id status"
	job_trace "$id" "$T_DIR/trace-$id"
done
expect_eq 3 "$(instances_of "$T_DIR"/trace-* | sort -u | wc -l)" "three queued jobs on three instances"
for i in $(instances_of "$T_DIR"/trace-*); do
	grep -q "Accepted publickey for root" "$CLOUD/$i/sshd.log" || fail "$i's own sshd ran no login"
done
expect_not_contains "$CLOUD_LOG" "i-4" "max_instances = 3"
pids=$(cloud_pids)
expect_eq 3 "$(echo "$pids" | wc -l)" "three servers"
stop_run
for p in $pids; do
	running "$p" && fail "instance server $p still runs after shutdown"
done
expect_eq 0 "$(cloud_count)" "instances left after shutdown"
expect_contains "$CLOUD_LOG" "shutdown" "the plugin was shut down"

test_case "$AS_PLUGIN_KIND plugin: max_use_count retires an instance after its job"
cloud_config cloud2 <<TOML >"$T_DIR/as.toml"
    max_use_count = 1
    max_instances = 2
    log_internal_ip = true
    delete_instances_on_shutdown = true
    instance_readiness_time_buckets = [3600, 0.001]
    [[runners.autoscaler.policy]]
      idle_count = 1
      idle_time = "10m"
TOML
cat >>"$T_DIR/as.toml" <<TOML
  [runners.instance]
    use_common_build_dir = true
TOML
write_config <"$T_DIR/as.toml"
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
i1=$(instances_of "$T_DIR/trace1")
i2=$(instances_of "$T_DIR/trace2")
[ -n "$i1" ] && [ -n "$i2" ] || fail "no instance in the traces"
[ "$i1" != "$i2" ] || fail "max_use_count = 1, yet $i1 ran both jobs"
# log_internal_ip: the address follows the id.
expect_contains "$T_DIR/trace1" "Dialing instance $i1, 127.0.0.1:" "internal address logged"
# use_common_build_dir with max_use_count = 1: <builds_dir>/<project path>.
path=$(grep -o '^path=.*' "$T_DIR/trace1" | tail -1 | cut -d= -f2 | tr -d '\r')
expect_contains "$T_DIR/trace1" "pwd=$T_DIR/remote-builds/$path" "common build dir"
expect_not_contains "$T_DIR/trace1" "use_common_build_dir has no effect" "no warning"
wait_until 10 grep -q "^decrease $i1\$" "$CLOUD_LOG" || fail "$i1 was not retired: $(cat "$CLOUD_LOG")"
expect_contains "$LOG" "removing instance $i1: max_use_count reached" "retired"
running "$(cat "$CLOUD/$i1/instance.pid")" && fail "$i1's server still runs"

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
# The configured buckets, sorted: 0.001 (an instance with no ready command
# may be ready within it) and 3600.
fast=$(metric "$T_DIR/metrics" fleeting_taskscaler_task_instance_readiness_time_seconds_bucket le=0.001 "${L[@]}") ||
	fail "no 0.001 bucket: $fast"
[ "$fast" -le "$ready" ] || fail "le=0.001 holds $fast of $ready observations"
expect_metric "$ready" "$T_DIR/metrics" fleeting_taskscaler_task_instance_readiness_time_seconds_bucket le=3600 "${L[@]}"
expect_metric "$ready" "$T_DIR/metrics" fleeting_taskscaler_task_instance_readiness_time_seconds_bucket le=+Inf "${L[@]}"
stop_run
expect_eq 0 "$(cloud_count)" "instances left after shutdown"

test_case "$AS_PLUGIN_KIND plugin: a crashed plugin is restarted and its instances re-learned; state storage keeps them across a runner restart"
cloud_config cloud3 <<TOML >"$T_DIR/as.toml"
    max_instances = 2
    [runners.autoscaler.state_storage]
      enabled = true
      dir = "$T_DIR/ts-state"
    [[runners.autoscaler.policy]]
      idle_count = 1
      idle_time = "10m"
TOML
write_config <"$T_DIR/as.toml"
start_run
wait_until 60 grep -q "instance i-1 ready" "$LOG" || fail "no idle instance: $(tail -20 "$LOG")"
# And the reservation's: a plugin killed during that Increase leaves its
# outcome unknown, and the runner rightly removes the instance it cannot
# account for (a loaded machine saw it).
wait_until 60 grep -q "instance i-2 ready" "$LOG" || fail "no second instance: $(tail -20 "$LOG")"
plugin_pid=$(sed -n 's/^init //p' "$CLOUD_LOG" | tail -1)
[ -n "$plugin_pid" ] || fail "no plugin pid in $(cat "$CLOUD_LOG")"
kill -KILL "$plugin_pid"
inits() { [ "$(grep -c '^init ' "$CLOUD_LOG")" = "$1" ]; }
wait_until 30 inits 2 || fail "the plugin was not started again: $(tail -20 "$LOG")"
expect_contains "$LOG" "plugin $PLUGIN restarted" "restart logged"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo after-crash"]}')
wait_until 150 job_done "$id" || fail "the job did not end: $(tail -20 "$LOG")"
expect_eq success "$(job_field "$id" 'd["status"]')" "job after the crash"
job_trace "$id" "$T_DIR/trace3"
case $(instances_of "$T_DIR/trace3") in
i-1 | i-2) ;;
*) fail "the job ran on '$(instances_of "$T_DIR/trace3")', not on an instance from before the crash" ;;
esac
expect_not_contains "$CLOUD_LOG" "decrease" "nothing removed"
# i-1 idle, i-2 for the reservation: nothing asked for after the crash.
expect_eq 2 "$(grep -c '^increase' "$CLOUD_LOG")" "no instance asked for again"
pids=$(cloud_pids)
stop_run
for p in $pids; do
	running "$p" || fail "instance server $p did not outlive the runner (delete_instances_on_shutdown is off)"
done
expect_eq 2 "$(cloud_count running)" "the cloud still has them"
# A second runner, the same state storage: i-1 is its own, not a stranger.
start_run
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo after-restart"]}')
wait_until 150 job_done "$id" || fail "the job did not end: $(tail -20 "$LOG")"
expect_eq success "$(job_field "$id" 'd["status"]')" "job after the restart"
job_trace "$id" "$T_DIR/trace4"
case $(instances_of "$T_DIR/trace4") in
i-1 | i-2) ;;
*) fail "the job ran on '$(instances_of "$T_DIR/trace4")', not on an instance from before the restart" ;;
esac
expect_contains "$LOG" "state storage knows 2 instance(s)" "state storage read"
stop_run
expect_not_contains "$CLOUD_LOG" "decrease" "nothing removed"
expect_not_contains "$CLOUD_LOG" "i-3" "no new instance"
for p in $pids; do
	running "$p" || fail "instance server $p is gone"
done

# Keys whose effect does not depend on the plugin kind, once (jsonl).
if [ "$AS_PLUGIN_KIND" = jsonl ]; then
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
      key_path = "$T_DIR/cloud_key"
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
cloud_config cloud7 <<TOML >"$T_DIR/as.toml"
    max_instances = 2
    delete_instances_on_shutdown = true
TOML
write_config <"$T_DIR/as.toml"
start_run
wait_until 30 grep -q "instance group .* ready" "$LOG" || fail "no instance group: $(tail -5 "$LOG")"
two_instances() { [ "$(cloud_count running)" = 2 ]; }
# Without a policy one job request at a time reserves one slot: never two.
sleep 3
! two_instances || fail "two instances without an idle_count"
# Same entry, idle_count = 2: crunner notices the file by itself.
cat "$T_DIR/as.toml" - <<TOML | write_config
    [[runners.autoscaler.policy]]
      idle_count = 2
      idle_time = "10m"
TOML
wait_until 60 two_instances || fail "the new idle_count was not acted on: $(tail -10 "$LOG")"
expect_contains "$LOG" "1 policy configured" "reconfigured"
expect_eq 1 "$(grep -c '^init' "$CLOUD_LOG")" "plugin inits (not restarted)"
stop_run
fi

# The taskscaler's own behaviour, once (with the gRPC plugin): the plugin
# kind plays no part in it.
if [ "$AS_PLUGIN_KIND" = grpc ]; then
test_case "an instance whose ready command fails is removed; the job runs on another"
# The first instance to run it fails (the instances share this file system).
cloud_config cloud4 <<TOML >"$T_DIR/as.toml"
    max_instances = 2
    delete_instances_on_shutdown = true
    instance_ready_command = "if mkdir $T_DIR/ready-failed-once 2>/dev/null; then echo not-ready >&2; exit 3; fi"
TOML
write_config <"$T_DIR/as.toml"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo after-ready"]}')
start_run
wait_until 150 job_done "$id" || fail "the job did not end: $(tail -20 "$LOG")"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace5"
expect_contains "$LOG" "instance i-1 failed: ready command: exit status 3" "the ready command's failure"
expect_contains "$LOG" "removing instance i-1: ready command: exit status 3" "removed"
wait_until 10 grep -q "^decrease i-1\$" "$CLOUD_LOG" || fail "i-1 was not removed: $(cat "$CLOUD_LOG")"
case $(instances_of "$T_DIR/trace5") in
i-1 | "") fail "the job ran on '$(instances_of "$T_DIR/trace5")'" ;;
esac
stop_run

test_case "an instance that dies mid-job: the job fails as a system failure, the instance is removed"
cloud_config cloud5 <<TOML >"$T_DIR/as.toml"
    max_instances = 2
    delete_instances_on_shutdown = true
TOML
write_config <"$T_DIR/as.toml"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo job-started", "sleep 60", "echo not-reached"]}')
start_run
wait_for_trace "$id" "job-started" || wait_for_trace "$id" "job-started" ||
	fail "the job did not start: $(tail -20 "$LOG")"
job_trace "$id" "$T_DIR/trace6"
victim=$(instances_of "$T_DIR/trace6")
[ -n "$victim" ] || fail "no instance in the trace"
/usr/bin/python3 "$SSHD_CLOUD" kill "$CLOUD" "$victim"
wait_until 60 job_done "$id" || fail "the job did not end: $(tail -20 "$LOG")"
job_trace "$id" "$T_DIR/trace6"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "gitlab-runner's failure reason"
expect_contains "$T_DIR/trace6" "Job failed (system failure):" "gitlab-runner's line"
expect_not_contains "$T_DIR/trace6" "not-reached" "the script stopped"
wait_until 10 grep -q "^decrease $victim\$" "$CLOUD_LOG" || fail "$victim was not removed: $(cat "$CLOUD_LOG")"
expect_contains "$LOG" "removing instance $victim: a job could not use it" "why"
stop_run
fi

t_finish
