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

# The fake accepts a final update with a wrong checksum after 1 s (GitLab
# waits longer), so a job whose log was refused still ends here.
printf '{"final_update_max_wait": 1}\n' >"$T_DIR/fake.json"
start_fakegitlab --config "$T_DIR/fake.json"
add_runner "$RUN_TOKEN"

fault() { fake_control POST faults "$1" >/dev/null || fail "cannot inject $1"; }

# job_fields ID KEY...: the values of the fake's job record, space-separated.
job_fields() {
	local id=$1
	shift
	fake_control GET "jobs/$id" | "$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
print(" ".join(str(d[k]) for k in sys.argv[1:]))' "$@"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# requests_since SEQ [ENDPOINT [JOB]]: requests the fake received after SEQ.
requests_since() {
	fake_control GET "requests?body=0&since=$1${2:+&endpoint=$2}${3:+&job_id=$3}" |
		grep -o '"seq": [0-9]*' | wc -l
}

last_seq() {
	local n
	n=$(fake_control GET 'requests?body=0' | grep -o '"seq": [0-9]*' | tail -1)
	echo "${n#*: }" | sed 's/^$/0/'
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
sleep 4
# Back-off from check_interval (1 s) doubling: about 3 asks in 4 s; without
# it thousands.
at_most 7 "$(requests_since "$seq" request)" "truncated job, 4 s"
expect_eq "failed runner_system_failure" \
	"$(job_fields "$id" status failure_reason)" "status of the cut job"
expect_contains "$LOG" "job $id: job payload: invalid JSON at line 1 column" "where it broke"
expect_contains "$LOG" "the job's payload cannot be decoded); next try in" "back-off logged"
term_within 5
fake_control DELETE faults >/dev/null

test_case "a job nested 200,000 deep: no crash, back-off, reported failed"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo hi"]}')
fault '{"endpoint": "request", "kind": "bad_job", "shape": "deep", "times": null}'
seq=$(last_seq)
start_run
sleep 3
at_most 6 "$(requests_since "$seq" request)" "deep job, 3 s"
expect_eq "failed runner_system_failure" \
	"$(job_fields "$id" status failure_reason)" "status of the deep job"
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
sleep 3
# One ask per check interval: about 6 in 3 s.
at_most 9 "$(requests_since "$seq" request)" "array, then unreadable jobs, 3 s"
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
sleep 4
# (the HTTP layer retries a refused answer: up to 5 attempts each)
n=$(requests_since "$seq" request)
at_most 12 "$n" "header floods, 4 s"
# That was the rate; this is that it goes on at all: on a loaded machine
# the fake may need seconds to write one 11 MB answer.
for ((i = 0; i < 40 && n < 2; i++)); do
	sleep 0.5
	n=$(requests_since "$seq" request)
done
[ "$n" -ge 2 ] || fail "no header flood was asked for"
term_within 5
fake_control DELETE faults >/dev/null
fault '{"endpoint": "request", "kind": "slowloris", "mode": "headers", "interval": 0.5,
  "seconds": 120, "times": null}'
seq=$(last_seq)
start_run
for ((i = 0; i < 100; i++)); do
	[ "$(requests_since "$seq" request)" -ge 1 ] && break
	sleep 0.1
done
sleep 2
n=$(requests_since "$seq" request)
[ "$n" -ge 1 ] || fail "crunner never asked for a job"
# The one ask is still being answered, a byte every 0.5 s: no other.
at_most 1 "$n" "slowloris, 2 s"
term_within 3
fake_control DELETE faults >/dev/null

test_case "416 with a missing, garbage or too large Range to every log PATCH: the jobs end"
seq=$(last_seq)
ids=
for range in missing garbage beyond; do
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["for i in 1 2 3 4 5; do echo line $i; sleep 0.1; done"]}')
	fault '{"endpoint": "trace", "kind": "range416", "range": "'"$range"'",
	  "job_id": '"$id"', "times": null}'
	ids="$ids $id"
done
start_single --check-interval 100ms --max-builds 3
# Each: 5 resends 200 ms apart, then the final update: 202, then 200.
wait_exit 30
for id in $ids; do
	expect_eq "success False" "$(job_fields "$id" status checksum_ok)" \
		"job $id status, checksum (the log was refused, the result kept)"
	# 6 in the final phase, the rest while the job ran (one per 200 ms tick).
	at_most 16 "$(requests_since "$seq" trace "$id")" "log PATCHes of job $id"
done
n=$(grep -c "refused the log's range 6 times: sending the final update" "$LOG")
expect_eq 3 "$n" "final updates sent without the whole log"
fake_control DELETE faults >/dev/null

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
expect_eq "failed runner_interrupted" \
	"$(job_fields "$id" status failure_reason)" "job status"
expect_not_contains "$LOG" "shutdown_timeout passed" "the shutdown timed out"
fake_control DELETE faults >/dev/null

test_case "run-single: a final update that hangs ends at --shutdown-timeout"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo started", "sleep 60"]}')
# The acceptance PUT goes through; every later one hangs for 100 s.
fault '{"endpoint": "update", "kind": "hang", "seconds": 100, "skip": 1, "times": null}'
start_single --check-interval 100ms --shutdown-timeout 2
wait_for_trace "$id" "started" || fail "the job did not start: $(tail -3 "$LOG")"
term_within 6
expect_contains "$LOG" "the shutdown timeout (2 s) passed with the job still running: exiting" \
	"why it exited"
fake_control DELETE faults >/dev/null

echo "t_hostile_coordinator: all cases passed"
