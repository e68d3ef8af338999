#!/usr/bin/env bash
# Nothing lost: GitLab answers 5xx, resets connections and hangs for 30 s
# in the middle of a job; the job keeps running, and once GitLab is back the
# whole log (checksum equal) and the final state arrive.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

fault() { fake_control POST faults "$1" >/dev/null || fail "cannot inject $1"; }

test_case "a 30 s outage mid-job: job goes on, full log and state arrive after"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "for i in $(seq 1 80); do echo line $i; sleep 0.5; done", "echo finished"]}')
timeout 180 "$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" \
	--builds-dir "$T_DIR/builds" --check-interval 100ms --trace-interval 500ms \
	--max-builds 1 >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
pid=$!
test_when_finished "kill -KILL $pid 2>/dev/null"
wait_for_trace "$id" "line 2" || fail "the job did not start"
start=$(date +%s)
# 10 s of 502s, 10 s of connection resets, 10 s of hangs, on every endpoint.
fault '{"endpoint": "*", "kind": "status", "status": 502, "times": null}'
sleep 10
fake_control DELETE faults >/dev/null
fault '{"endpoint": "*", "kind": "reset", "times": null}'
sleep 10
fake_control DELETE faults >/dev/null
fault '{"endpoint": "*", "kind": "hang", "seconds": 12, "times": null}'
sleep 10
fake_control DELETE faults >/dev/null
outage_end=$(date +%s)
size_at_end=$(curl -sS "$FAKE_URL/__control/jobs/$id/trace?raw=1" | wc -c)
rc=0
wait "$pid" || rc=$?
expect_eq 0 "$rc" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_eq True "$(job_field "$id" 'd["checksum_ok"]')" "checksum of the stored log"
job_trace "$id" "$T_DIR/trace"
for n in 1 20 40 60 80; do
	grep -q " 01O line $n\$" "$T_DIR/trace" || fail "line $n is missing from the log"
done
expect_contains "$T_DIR/trace" "finished" "last command"
expect_contains "$T_DIR/trace" "Job succeeded" "footer"
expect_eq "$(wc -c <"$T_DIR/trace")" "$(job_field "$id" 'd["bytesize"]')" "bytesize"
# The job kept running during the outage: it produced output meanwhile.
lines=$(grep -c ' 01O line ' "$T_DIR/trace")
expect_eq 80 "$lines" "lines of output"
faulted=$(fake_control GET 'requests?endpoint=trace' | "$PYTHON" -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin)["requests"] if r.get("fault")))')
[ "$faulted" -gt 0 ] || fail "no trace request met a fault: the outage was not exercised"

echo "t_outage: all cases passed"
