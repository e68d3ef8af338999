#!/usr/bin/env bash
# Leftovers of a killed runner: crunner dies (kill -9) while a docker job
# runs, its build container and build volume stay; the next run-single of
# that runner removes them before it takes a job (containers by
# gitlab-runner's labels, the job's own volumes by name), and leaves the
# cache volumes kept on purpose and another runner's containers alone.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_TOKEN=glrt-t1_dockerLeftoverT01
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

test_case "kill -9 mid-job, restart: the job's container and volume are removed"
write_config
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BUSYBOX"'"}},
  "script": ["echo started-long-job", "i=0; while [ $i -lt 120 ]; do echo tick; sleep 1; i=$((i+1)); done"]}')
"$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms --trace-interval 200ms >"$T_DIR/run1.out" 2>"$T_DIR/run1.err" &
run_pid=$!
test_when_finished "kill -9 $run_pid 2>/dev/null"
wait_for_trace "$id" "started-long-job" || fail "the job did not start: $(cat "$T_DIR/run1.err")"
kill -9 "$run_pid"
wait "$run_pid" 2>/dev/null
left=$(containers_of "$id")
[ -n "$left" ] || fail "no container left by the killed runner: the test proves nothing"
[ -n "$(temp_volumes_of "$id" | tr -d ' ')" ] || fail "no build volume left by the killed runner"
kept=$(volumes_with "job.id=$id" | tr ' ' '\n' | grep -E -- '-concurrent-[0-9]+-cache-' | head -1)
[ -n "$kept" ] || fail "no kept cache volume: $(volumes_with "job.id=$id")"

# A container of another runner must survive the cleanup.
other=$(curl -sS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
	-d '{"Image": "'"$BUSYBOX"'", "Cmd": ["sleep", "60"], "Labels": {"com.gitlab.gitlab-runner.managed": "true", "com.gitlab.gitlab-runner.runner.id": "someother"}}' \
	"http://docker/containers/create" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
test_when_finished "curl -sS --unix-socket $SOCK -X DELETE 'http://docker/containers/$other?force=1' >/dev/null"

# The restarted runner cleans up first, then runs a job of its own.
next=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo second-job"]}')
run_docker
expect_contains "$T_DIR/run.err" "removed 1 container(s) and 1 volume(s) left by jobs of an earlier crunner" "log line"
expect_nothing_left "$id"
expect_nothing_left "$next"
dapi "/volumes/$kept" | grep -q '"Name"' || fail "the kept cache volume '$kept' was removed"
dapi "/containers/$other/json" | grep -q '"Id"' || fail "another runner's container was removed"
expect_eq success "$(job_field "$next" 'd["status"]')" "the next job ran"

echo "ok: $T_NAME"
