#!/usr/bin/env bash
# A hostile coordinator (the fake's hostile faults): undecodable jobs,
# endless bodies, slowloris answers and header floods must not make crunner
# ask in a storm; a job whose id can be read is reported as failed; 416
# answers with an unusable Range must not keep a job (or a shutdown) going
# for ever; a malformed payload's text is never quoted in the log.
. "$(dirname "$0")/lib.sh"

CFG=$T_DIR/config.toml
LOG=$T_DIR/run.err
RUN_PID=

# The fake accepts a final update with a wrong checksum after 2 s (GitLab
# waits longer), so a job whose log was refused still ends here.
printf '{"final_update_max_wait": 2}\n' >"$T_DIR/fake.json"
start_fakegitlab --config "$T_DIR/fake.json"
add_runner "$RUN_TOKEN"

fault() { fake_control POST faults "$1" >/dev/null || fail "cannot inject $1"; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# requests_since SEQ [ENDPOINT]: requests the fake received after SEQ.
requests_since() {
	fake_control GET "requests?body=0&since=$1${2:+&endpoint=$2}" |
		"$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))'
}

last_seq() {
	fake_control GET 'requests?body=0' | "$PYTHON" -c '
import json, sys
r = json.load(sys.stdin)["requests"]
print(r[-1]["seq"] if r else 0)'
}

# start_run [shutdown_timeout]: crunner run, one runner, check_interval 1 s.
start_run() {
	cat >"$CFG" <<EOF
concurrent = 2
check_interval = 1
shutdown_timeout = ${1:-30}
[[runners]]
  name = "hostile"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
EOF
	: >"$LOG"
	"$CRUNNER" run --config "$CFG" --trace-interval 200ms >"$T_DIR/run.out" 2>"$LOG" &
	RUN_PID=$!
	test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
}

# start_single ARGS...: crunner run-single in the background.
start_single() {
	: >"$LOG"
	"$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" \
		--builds-dir "$T_DIR/builds" --trace-interval 200ms "$@" \
		>"$T_DIR/run.out" 2>"$LOG" &
	RUN_PID=$!
	test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
}

# wait_exit SECONDS: waits for crunner to exit; fails if it does not.
wait_exit() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$RUN_PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$RUN_PID" 2>/dev/null; then
		kill -KILL "$RUN_PID"
		fail "crunner still running after $1 s: $(tail -5 "$LOG")"
	fi
	wait "$RUN_PID" 2>/dev/null
}

# term_within SECONDS: SIGTERM, then crunner must be gone in SECONDS.
term_within() {
	local t0
	t0=$(now_ms)
	kill -TERM "$RUN_PID"
	wait_exit "$1"
	echo "exited $(($(now_ms) - t0)) ms after SIGTERM"
}

# wait_log SECONDS TEXT WHAT: waits until crunner logged TEXT.
wait_log() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		grep -qF -- "$2" "$LOG" && return 0
		sleep 0.1
	done
	fail "$3: '$2' not logged in $1 s: $(tail -3 "$LOG")"
}

# at_most LIMIT COUNT WHAT
at_most() {
	[ "$2" -le "$1" ] || fail "$3: $2 requests, at most $1 expected (back-off): $(tail -3 "$LOG")"
	echo "$3: $2 requests"
}

test_case "a 201 cut short: back-off, the job reported as runner_system_failure"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo hi"]}')
fault '{"endpoint": "request", "kind": "bad_job", "shape": "truncated", "times": null}'
seq=$(last_seq)
start_run
sleep 5
# Back-off from check_interval (1 s) doubling: about 4 asks in 5 s; without
# it thousands.
at_most 8 "$(requests_since "$seq" request)" "truncated job, 5 s"
expect_eq failed "$(job_field "$id" 'd["status"]')" "status of the cut job"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$LOG" "job $id: job payload: invalid JSON at line 1 column" "where it broke"
expect_contains "$LOG" "the job's payload cannot be decoded); next try in" "back-off logged"
term_within 5
fake_control DELETE faults >/dev/null

test_case "a job nested 200,000 deep: no crash, back-off, reported failed"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo hi"]}')
fault '{"endpoint": "request", "kind": "bad_job", "shape": "deep", "times": null}'
seq=$(last_seq)
start_run
sleep 4
at_most 7 "$(requests_since "$seq" request)" "deep job, 4 s"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$LOG" "nested too deep" "the cause"
term_within 5
fake_control DELETE faults >/dev/null

test_case "run-single: a job in an array (no id), and a payload text never quoted"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo hi"]}')
fault '{"endpoint": "request", "kind": "bad_job", "shape": "array"}'
# jansson's error would end "near '\"glcbt-HostileSecret\"'"
fault '{"endpoint": "request", "kind": "status", "status": 201, "times": null,
  "body": "{\"id\": 1, \"token\" \"glcbt-HostileSecret\"}"}'
seq=$(last_seq)
start_single --check-interval 500ms
sleep 4
# One ask per check interval: about 8 in 4 s.
at_most 11 "$(requests_since "$seq" request)" "array, then unreadable jobs, 4 s"
expect_contains "$LOG" "its id and token cannot be read" "the array job cannot be reported"
expect_contains "$LOG" "invalid JSON at line 1 column 39 (byte 39): invalid syntax" "error place"
expect_not_contains "$LOG" "HostileSecret" "payload text in the log"
expect_eq True "$(job_field "$id" 'd["assigned"]')" "the array job was handed out"
term_within 5
fake_control DELETE faults >/dev/null

test_case "endless bodies, header floods, slowloris: back-off and a prompt SIGTERM"
fault '{"endpoint": "request", "kind": "endless", "seconds": 30, "times": 1}'
fault '{"endpoint": "request", "kind": "header_flood", "count": 100000, "times": null}'
seq=$(last_seq)
start_run
# An endless answer, refused at 32 MiB and backed off from; then 11 MB of
# headers (curl refuses them past 300 KiB, or crunner keeps the first few
# and takes the 204): asked at the check interval, no faster.
wait_log 30 "answer larger than 33554432 bytes" "endless body refused at the cap"
seq=$(last_seq)
sleep 5
at_most 7 "$(requests_since "$seq" request)" "header floods, 5 s"
[ "$(requests_since "$seq" request)" -ge 2 ] || fail "no header flood was asked for"
term_within 5
fake_control DELETE faults >/dev/null
fault '{"endpoint": "request", "kind": "slowloris", "mode": "headers", "interval": 0.5,
  "seconds": 120, "times": null}'
seq=$(last_seq)
start_run
sleep 3
at_most 1 "$(requests_since "$seq" request)" "slowloris, 3 s"
term_within 3
fake_control DELETE faults >/dev/null

for range in missing garbage beyond; do
	test_case "416 with a $range Range to every log PATCH: the job still ends"
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done"]}')
	fault '{"endpoint": "trace", "kind": "range416", "range": "'"$range"'", "times": null}'
	seq=$(last_seq)
	start_single --check-interval 100ms --max-builds 1
	# 5 resends 200 ms apart, then the final update: 202 for 2 s, then 200.
	wait_exit 20
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
	expect_eq False "$(job_field "$id" 'd["checksum_ok"]')" "log refused, result kept"
	expect_contains "$LOG" "refused the log's range 6 times: sending the final update" "gave up"
	# 6 in the final phase, the rest while the job ran (one per 200 ms tick).
	at_most 16 "$(requests_since "$seq" trace)" "log PATCHes"
	fake_control DELETE faults >/dev/null
done

test_case "SIGTERM during a 416 loop: the job is reported interrupted, crunner exits"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "sleep 60"]}')
fault '{"endpoint": "trace", "kind": "range416", "range": "garbage", "times": null}'
start_run 30
for ((i = 0; i < 100; i++)); do
	[ "$(job_field "$id" 'd["status"]')" = running ] &&
		[ "$(requests_since 0 trace)" -gt 0 ] && break
	sleep 0.1
done
# shutdown_timeout is 30 s: ending well before it means the job ended.
term_within 15
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_interrupted "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_not_contains "$LOG" "shutdown_timeout passed" "the shutdown timed out"
fake_control DELETE faults >/dev/null

echo "t_hostile_coordinator: all cases passed"
