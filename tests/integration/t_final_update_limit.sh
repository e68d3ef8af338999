#!/usr/bin/env bash
# job_status_final_update_retry_limit (gitlab-runner's
# GetJobStatusFinalUpdateRetryLimit, default 10, 0 or less: 10): how many
# times the final job update is tried before the runner gives up.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

# final_puts ID: how many final updates (PUT jobs/ID with a final state)
# the fake received.
final_puts() {
	fake_control GET "requests?endpoint=update" |
		"$PYTHON" -c 'import json,sys
n = 0
for r in json.load(sys.stdin)["requests"]:
    try:
        b = json.loads(r.get("body_text") or "{}")
    except ValueError:
        continue
    if r["job_id"] == int(sys.argv[1]) and b.get("state") in ("success", "failed"):
        n += 1
print(n)' "$1"
}

test_case "a final update refused every time is tried job_status_final_update_retry_limit times"
# 400: not a transient answer, so each try is one request.
fake_control POST faults '{"endpoint": "update", "kind": "status", "status": 400, "times": null}' >/dev/null
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo hi"]}')
start=$(date +%s)
run_single --max-builds 1 --job-status-final-update-retry-limit 2
took=$(($(date +%s) - start))
expect_eq 2 "$(final_puts "$id")" "final updates sent ($(grep -i 'final update' "$T_DIR/run.err" | tail -3))"
expect_contains "$T_DIR/run.err" "(attempt 2 of 2)" "the log counts to the limit"
[ "$took" -lt 30 ] || fail "run-single took ${took}s"
expect_not_contains "$T_DIR/run.err" "has no effect" "a no-effect warning"
fake_control DELETE faults >/dev/null
fake_control DELETE requests >/dev/null

test_case "0 means the default, 10"
cat >"$T_DIR/config.toml" <<TOML
concurrent = 1
[[runners]]
  name = "final"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  job_status_final_update_retry_limit = 0
TOML
fake_control POST faults '{"endpoint": "update", "kind": "status", "status": 400, "times": null}' >/dev/null
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo hi"]}')
"$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
pid=$!
test_when_finished "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
for ((i = 0; i < 200; i++)); do
	grep -q "(attempt 2 of " "$T_DIR/run.err" && break
	sleep 0.1
done
expect_contains "$T_DIR/run.err" "(attempt 2 of 10)" "the default limit ($(tail -3 "$T_DIR/run.err"))"
kill -KILL "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
fake_control DELETE faults >/dev/null

t_finish
