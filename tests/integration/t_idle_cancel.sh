#!/usr/bin/env bash
# A job with no output still learns it was canceled: the keep-alive
# PUT after 30 s of silence carries Job-Status (spec 4.3).
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

test_case "a quiet job is canceled through the 30 s keep-alive"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "sleep 120", "echo not-reached"],
  "after_script": ["echo after:$CI_JOB_STATUS"]}')
( wait_for_trace "$id" started
  curl -sS -X POST -d '{"graceful": true}' "$FAKE_URL/__control/jobs/$id/cancel" >/dev/null ) &
canceller=$!
start=$(date +%s)
run_single --max-builds 1
wait "$canceller"
took=$(( $(date +%s) - start ))
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "not-reached" "script after cancel"
expect_contains "$T_DIR/trace" "after:canceled" "after_script"
[ "$took" -ge 25 ] && [ "$took" -lt 60 ] || fail "cancel took $took s, expected about 30 s"
keepalives=$(fake_control GET "requests?endpoint=update&job_id=$id" | "$PYTHON" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin)["requests"]
          if (r.get("json") or {}).get("state") == "running"))')
[ "$keepalives" -ge 2 ] || fail "expected the acceptance and a keep-alive PUT, got $keepalives"

echo "t_idle_cancel: all cases passed"
