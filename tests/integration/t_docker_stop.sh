#!/usr/bin/env bash
# How a timed-out job's build container is stopped, asserted on what
# reached the engine (tests/docker/record_proxy.py) and on what the job's
# processes saw: by default, as gitlab-runner, SIGTERM to each process in
# the container but PID 1 first (an exec of sh in it), then the engine's
# stop: a child that traps SIGTERM says so; with FF_USE_NATIVE_CONTAINER_STOP
# only the engine's stop, whose SIGTERM goes to PID 1 alone (the script's
# shell, which passes nothing on): the child never hears of it.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dst
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

. "$CR_SOURCE_DIR/tests/docker/record_lib.sh"
start_record_proxy "$SOCK"

# stops_of JOB-ID: "exec" and "stop" for each such request on the job's
# script container (the last build container the engine held), in order.
stops_of() {
	"$PYTHON" -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
ids = [r["inspect"]["Id"] for r in recs if "inspect" in r and
       (r["inspect"]["Config"]["Labels"] or {}).get("com.gitlab.gitlab-runner.job.id") == sys.argv[2] and
       r["inspect"]["Config"]["Labels"].get("com.gitlab.gitlab-runner.type") == "build"]
cid = ids[-1] if ids else "?"
out = []
for r in recs:
    for k in ("exec", "stop"):
        if k in r and cid.startswith(r[k]):
            out.append(k + (":" + r["body"]["Cmd"][0] if k == "exec" else ""))
print(" ".join(out))' "$RECORD" "$1"
}

# The child's words come from a variable: the trace echoes each command.
job='{"runner": "'"$TOKEN"'", "git_strategy": "none", "timeout": 20,
  "variables": [{"key": "HEARD", "value": "child-got-sigterm", "public": true}],
  "script": ["echo started", "sh -c '"'"'trap \"echo $HEARD; exit 0\" TERM; while :; do sleep 1; done'"'"'"]}'

test_case "a timed-out job, by default: SIGTERM to the script's processes, then the engine's stop"
proxied_config
run_job "$job"
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "started" "the script ran"
expect_contains "$T_DIR/trace" "child-got-sigterm" "the child was sent SIGTERM"
expect_eq "exec:sh stop" "$(stops_of "$id")" "what reached the engine"
expect_nothing_left "$id"

test_case "FF_USE_NATIVE_CONTAINER_STOP: the engine's stop only, PID 1 alone gets SIGTERM"
proxied_config
cat >>"$T_DIR/config.toml" <<TOML
  [runners.feature_flags]
    FF_USE_NATIVE_CONTAINER_STOP = true
TOML
run_job "$job"
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "started" "the script ran"
expect_not_contains "$T_DIR/trace" "child-got-sigterm" "the child heard nothing"
expect_eq "stop" "$(stops_of "$id")" "what reached the engine"
expect_nothing_left "$id"

echo "ok: $T_NAME"
