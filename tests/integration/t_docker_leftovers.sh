#!/usr/bin/env bash
# Leftovers of a killed runner: crunner dies (kill -9) while a docker job
# runs, its build container, build volume and FF_NETWORK_PER_BUILD network
# stay; the next run-single of that runner removes them before it takes a
# job (containers and networks by gitlab-runner's labels, the job's own
# volumes by name), and leaves the
# cache volumes kept on purpose and another runner's containers alone.
# SIGTERM (runner shutdown) mid-job removes the job's build and service
# containers and volumes before crunner exits.
# The engine going away mid-job (its forwarder killed) fails the job as a
# system failure with a clear line.  Also: the Engine API over tcp://
# (through a loopback forwarder to the engine's socket), from config.toml
# and from DOCKER_HOST.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dle
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

# start_forwarder NAME: a loopback TCP port forwarding to the engine's
# socket (FWD_PORT; FWD_PID; connections counted in $T_DIR/NAME.count).
start_forwarder() {
	"$PYTHON" "$CR_SOURCE_DIR/tests/docker/unix_forward.py" "$SOCK" "$T_DIR/$1.count" >"$T_DIR/$1.log" 2>&1 &
	FWD_PID=$!
	test_when_finished "kill $FWD_PID 2>/dev/null; wait $FWD_PID 2>/dev/null"
	FWD_PORT=
	for _ in $(seq 100); do
		FWD_PORT=$(sed -n 's/^port //p' "$T_DIR/$1.log")
		[ -n "$FWD_PORT" ] && return 0
		sleep 0.1
	done
	fail "the TCP forwarder did not start: $(cat "$T_DIR/$1.log")"
}

# start_long_job NAME PAYLOAD-JSON: a job printing a tick a second for two
# minutes, taken by a run-single in the background (run_pid; its output in
# $T_DIR/NAME.out and .err); returns once the job has started (id).
start_long_job() {
	id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
	  "payload": '"$2"',
	  "script": ["echo started-long-job", "i=0; while [ $i -lt 120 ]; do echo tick; sleep 1; i=$((i+1)); done"]}')
	"$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
		--check-interval 100ms --trace-interval 200ms >"$T_DIR/$1.out" 2>"$T_DIR/$1.err" &
	run_pid=$!
	test_when_finished "kill -9 $run_pid 2>/dev/null"
	wait_for_trace "$id" "started-long-job" || fail "the job did not start: $(cat "$T_DIR/$1.err")"
}

test_case "kill -9 mid-job, restart: the job's container, volume and network are removed"
# FF_NETWORK_PER_BUILD (no network_mode): the job's network is left too.
write_config 'network_mode = ""'
sed -i '/network_mode = ""/d' "$T_DIR/config.toml"
printf '  [runners.feature_flags]\n    FF_NETWORK_PER_BUILD = true\n' >>"$T_DIR/config.toml"
networks_of() {
	dapi /networks --data-urlencode "filters={\"label\":[$(labels "job.id=$1")]}" |
		"$PYTHON" -c 'import json,sys; print(" ".join(n["Id"] for n in json.load(sys.stdin)))'
}
start_long_job run1 '{"image": {"name": "'"$BUSYBOX"'"}}'
kill -9 "$run_pid"
wait "$run_pid" 2>/dev/null
left=$(containers_of "$id")
[ -n "$left" ] || fail "no container left by the killed runner: the test proves nothing"
[ -n "$(temp_volumes_of "$id" | tr -d ' ')" ] || fail "no build volume left by the killed runner"
kept=$(volumes_with "job.id=$id" | tr ' ' '\n' | grep -E -- '-concurrent-[0-9]+-cache-' | head -1)
[ -n "$kept" ] || fail "no kept cache volume: $(volumes_with "job.id=$id")"
left_net=$(networks_of "$id")
[ -n "$left_net" ] || fail "no network left by the killed runner"
test_when_finished "curl -sS --unix-socket $SOCK -X DELETE 'http://docker/networks/$left_net' >/dev/null"

# A container of another runner must survive the cleanup.
other=$(curl -sS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
	-d '{"Image": "'"$BUSYBOX"'", "Cmd": ["sleep", "60"], "Labels": {"com.gitlab.gitlab-runner.managed": "true", "com.gitlab.gitlab-runner.runner.id": "someother"}}' \
	"http://docker/containers/create" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
test_when_finished "curl -sS --unix-socket $SOCK -X DELETE 'http://docker/containers/$other?force=1' >/dev/null"

# The restarted runner cleans up first, then runs a job of its own.
next=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo second-job"]}')
run_docker
expect_contains "$T_DIR/run.err" "removed 1 container(s), 1 volume(s) and 1 network(s) left by jobs of an earlier crunner" "log line"
expect_nothing_left "$id"
expect_eq "" "$(networks_of "$id")" "the job's network"
expect_nothing_left "$next"
dapi "/volumes/$kept" | grep -q '"Name"' || fail "the kept cache volume '$kept' was removed"
dapi "/containers/$other/json" | grep -q '"Id"' || fail "another runner's container was removed"
expect_eq success "$(job_field "$next" 'd["status"]')" "the next job ran"

test_case "SIGTERM mid-job: the job is aborted and its containers and volumes removed"
write_config 'wait_for_services_timeout = -1'
start_long_job run2 '{"services": [{"name": "'"$SERVICE_IMAGE"'", "entrypoint": ["sleep"], "command": ["120"]}]}'
[ -n "$(containers_with "type=service")" ] || fail "no service container while the job runs"
kill -TERM "$run_pid"
rc=0
wait "$run_pid" || rc=$?
! grep -q Sanitizer "$T_DIR/run2.err" || fail "sanitizer report: $(grep -A20 Sanitizer "$T_DIR/run2.err" | head -30)"
expect_eq runner_interrupted "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -3 "$T_DIR/run2.err"))"
expect_nothing_left "$id"

test_case "tcp:// in [runners.docker] host and in DOCKER_HOST: the Engine API over TCP"
start_forwarder tcp
tcp_port=$FWD_PORT
write_config
sed -i "s|host = \"unix://$SOCK\"|host = \"tcp://127.0.0.1:$tcp_port\"|" "$T_DIR/config.toml"
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo over-tcp"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "over-tcp" "script output"
[ "$(cat "$T_DIR/tcp.count" 2>/dev/null || echo 0)" -gt 0 ] || fail "nothing went through tcp://127.0.0.1:$tcp_port"
expect_nothing_left "$id"
write_config
sed -i "/host = \"unix:/d" "$T_DIR/config.toml"
rm -f "$T_DIR/tcp.count"
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo over-docker-host"]}')
RUN_RC=0
DOCKER_HOST=tcp://127.0.0.1:$tcp_port timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" \
	--max-builds 1 --check-interval 100ms --trace-interval 200ms \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
check_sanitizer
expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status with DOCKER_HOST ($(tail -c 1500 "$T_DIR/trace"))"
[ "$(cat "$T_DIR/tcp.count" 2>/dev/null || echo 0)" -gt 0 ] || fail "DOCKER_HOST was not used"
expect_nothing_left "$id"

test_case "the engine gone mid-job: runner_system_failure with a clear line, the next runner cleans up"
start_forwarder gone
gone_pid=$FWD_PID gone_port=$FWD_PORT
write_config
sed -i "s|host = \"unix://$SOCK\"|host = \"tcp://127.0.0.1:$gone_port\"|" "$T_DIR/config.toml"
start_long_job run3 '{"image": {"name": "'"$BUSYBOX"'"}}'
kill "$gone_pid"
wait "$gone_pid" 2>/dev/null
rc=0
for _ in $(seq 600); do kill -0 "$run_pid" 2>/dev/null || break; sleep 0.1; done
wait "$run_pid" || rc=$?
! grep -q Sanitizer "$T_DIR/run3.err" || fail "sanitizer report: $(grep -A20 Sanitizer "$T_DIR/run3.err" | head -30)"
expect_eq 0 "$rc" "run-single exit code ($(tail -3 "$T_DIR/run3.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 1200 "$T_DIR/trace"))"
grep -q "ERROR: Job failed (system failure): .*cannot talk to the Docker engine at .tcp://127.0.0.1:$gone_port" "$T_DIR/trace" ||
	fail "no clear line about the engine: $(tail -c 1200 "$T_DIR/trace")"
[ -n "$(containers_of "$id")" ] || echo "note: the engine removed the container itself"
# With the engine back (the unix socket), the next run-single removes what is left.
write_config
next=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo after-the-outage"]}')
run_docker
expect_nothing_left "$id"
expect_nothing_left "$next"

test_case "a docker host crunner cannot use: a clear sentence"
write_config
sed -i "s|host = \"unix://$SOCK\"|host = \"ssh://user@example.com\"|" "$T_DIR/config.toml"
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "docker host 'ssh://user@example.com' is not supported by crunner" "clear line"

echo "ok: $T_NAME"
