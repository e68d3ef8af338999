#!/usr/bin/env bash
# crunner run (the manager) against two fake coordinators: limits per
# runner entry, a hanging coordinator that delays nobody else, metrics,
# reload, token rotation, SIGQUIT and SIGTERM, and a malformed config.
. "$(dirname "$0")/lib.sh"

# Short tokens (the runner label): AlphaRunn, BetaRunne, HangRunne...
TOK_A=glrt-t1_AlphaRunner001
TOK_B=glrt-t1_BetaRunner0001
TOK_H=glrt-t1_HangRunner0001
TOK_D=glrt-t1_DeltaRunner001
TOK_R=glrt-t1_RotorRunner001
CFG=$T_DIR/config.toml
LOG=$T_DIR/run.err

# The main coordinator holds idle job requests (long polling, spec 2.3).
start_fakegitlab --long-poll 5
for t in "$TOK_A" "$TOK_B" "$TOK_D"; do add_runner "$t"; done
R_ID=$(json_get "$(fake_control POST runners "{\"token\": \"$TOK_R\"}")" 'd["id"]')

# A second coordinator whose job requests hang for a minute.
"$PYTHON" "$CR_SOURCE_DIR/tests/fakegitlab/fakegitlab.py" --port 0 \
	--port-file "$T_DIR/fake2.port" >"$T_DIR/fake2.log" 2>&1 &
FAKE2_PID=$!
test_when_finished "kill $FAKE2_PID 2>/dev/null; wait $FAKE2_PID 2>/dev/null"
wait_for_port_file "$T_DIR/fake2.port" "second fakegitlab" "$T_DIR/fake2.log"
FAKE2_URL="http://127.0.0.1:$(cat "$T_DIR/fake2.port")"
curl -sS -X POST "$FAKE2_URL/__control/runners" -d "{\"token\": \"$TOK_H\"}" >/dev/null ||
	fail "cannot add the hanging runner"
curl -sS -X POST "$FAKE2_URL/__control/faults" \
	-d '{"endpoint": "request", "kind": "hang", "seconds": 60, "times": null}' >/dev/null ||
	fail "cannot inject the hang"

runner_toml() { # NAME URL TOKEN LIMIT [extra lines]
	cat <<EOF

[[runners]]
  name = "$1"
  url = "$2"
  token = "$3"
  limit = $4
  executor = "shell"
  builds_dir = "$T_DIR/builds"
${5:-}
EOF
}

write_config() { # extra runner entries on stdin
	{
		cat <<EOF
concurrent = 6
check_interval = 1
shutdown_timeout = 10
listen_address = "127.0.0.1:0"
log_level = "debug"
EOF
		cat
	} >"$CFG.tmp"
	mv "$CFG.tmp" "$CFG"
}

start_run() {
	: >"$LOG"
	"$CRUNNER" run --config "$CFG" --trace-interval 200ms >"$T_DIR/run.out" 2>"$LOG" &
	RUN_PID=$!
	test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
	for ((i = 0; i < 100; i++)); do
		grep -q 'metrics server listening on' "$LOG" && break
		sleep 0.1
	done
	METRICS="http://$(grep -o 'metrics server listening on [0-9.:]*' "$LOG" |
		head -1 | sed 's/.* on //')"
	[ "$METRICS" != "http://" ] || fail "no metrics address in the log: $(cat "$LOG")"
}

wait_until() { # SECONDS COMMAND...: polls every 0.2 s
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

job_done() { # FAKE-URL ID
	curl -sS "$1/__control/jobs/$2" | "$PYTHON" -c \
		'import json,sys; sys.exit(json.load(sys.stdin)["status"] not in ("success","failed","canceled"))'
}

all_done() { # ID...
	local id
	for id in "$@"; do job_done "$FAKE_URL" "$id" || return 1; done
}

# max_overlap ID...: the most of these jobs that ran at once, from the
# coordinator's own assignment and final-update times.
max_overlap() {
	fake_control GET jobs | "$PYTHON" -c '
import json, sys
from datetime import datetime
ids = set(int(x) for x in sys.argv[1:])
ev = []
for j in json.load(sys.stdin)["jobs"]:
    if j["id"] in ids:
        t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
        ev += [(t(j["started_at"]), 1), (t(j["finished_at"]), -1)]
cur = best = 0
for _, d in sorted(ev, key=lambda e: (e[0], e[1])):
    cur += d
    best = max(best, cur)
print(best)' "$@"
}

scrape() { # FILE
	curl -sS --fail "$METRICS/metrics" >"$1" || fail "cannot scrape $METRICS/metrics"
}

# metric FILE NAME LABEL=VALUE...: the value of the one sample that has
# these labels; checks every family has HELP and TYPE on the way.
metric() {
	"$PYTHON" - "$@" <<'EOF'
import re, sys
path, name, want = sys.argv[1], sys.argv[2], dict(a.split("=", 1) for a in sys.argv[3:])
helps, types, found = set(), set(), []
for line in open(path):
    line = line.rstrip("\n")
    if line.startswith("# HELP "):
        helps.add(line.split()[2]); continue
    if line.startswith("# TYPE "):
        types.add(line.split()[2]); continue
    m = re.match(r'^([a-z_]+)(?:\{(.*)\})? (\S+)$', line)
    if not m:
        sys.exit(f"malformed line: {line!r}")
    fam = re.sub(r"_(bucket|sum|count)$", "", m[1]) if m[1].startswith("gitlab_runner_job_duration") else m[1]
    if fam not in helps or fam not in types:
        sys.exit(f"{fam} has no HELP/TYPE before {line!r}")
    labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', m[2] or ""))
    if m[1] == name and all(labels.get(k) == v for k, v in want.items()):
        found.append(m[3])
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

sleeper() { # TOKEN SECONDS: a job that sleeps, marking its start
	enqueue_job '{"runner": "'"$1"'", "git_strategy": "none",
	  "script": ["touch '"$T_DIR"'/started-$CI_JOB_ID", "sleep '"$2"'"]}'
}

test_case "a malformed config.toml is one clear line and a non-zero exit"
printf 'concurrent = 2\ncheck_interval = "often"\n' >"$CFG"
rc=0
timeout 20 "$CRUNNER" run --config "$CFG" >"$T_DIR/bad.out" 2>"$T_DIR/bad.err" || rc=$?
expect_eq 3 "$rc" "exit code"
expect_contains "$T_DIR/bad.err" "config.toml:2" "file:line"
expect_contains "$T_DIR/bad.err" "check_interval" "key"
expect_eq 1 "$(wc -l <"$T_DIR/bad.err")" "lines on stderr"

test_case "two entries with limits 1 and 2; a hanging coordinator delays nobody"
{
	runner_toml alpha "$FAKE_URL" "$TOK_A" 1
	runner_toml beta "$FAKE_URL" "$TOK_B" 2
	runner_toml hanging "$FAKE2_URL" "$TOK_H" 0
} | write_config
A_IDS=() B_IDS=()
for i in 1 2 3; do A_IDS+=("$(sleeper "$TOK_A" 1.2)"); done
for i in 1 2 3 4; do B_IDS+=("$(sleeper "$TOK_B" 1.2)"); done
start=$SECONDS
start_run
wait_until 30 all_done "${A_IDS[@]}" "${B_IDS[@]}" ||
	fail "jobs not finished in 30 s: $(fake_control GET jobs | head -c 1500)"
elapsed=$((SECONDS - start))
[ "$elapsed" -lt 25 ] || fail "the jobs took $elapsed s (the hanging coordinator held them up?)"
for id in "${A_IDS[@]}" "${B_IDS[@]}"; do
	expect_eq success "$(job_field "$id" 'd["status"]')" "job $id status"
done
expect_eq 1 "$(max_overlap "${A_IDS[@]}")" "most alpha jobs at once (limit 1)"
expect_eq 2 "$(max_overlap "${B_IDS[@]}")" "most beta jobs at once (limit 2)"
n=$(curl -sS "$FAKE2_URL/__control/requests?endpoint=request" |
	"$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))')
[ "$n" -ge 1 ] || fail "the hanging coordinator was never asked"
expect_contains "$LOG" "runner AlphaRunn: asking for a job" "short token in the log"
expect_not_contains "$LOG" "$TOK_A" "full token in the log"

test_case "metrics: names, labels, values"
scrape "$T_DIR/m1"
sid=$(cat "$T_DIR/.runner_system_id")
expect_metric 6 "$T_DIR/m1" gitlab_runner_concurrent
expect_metric 1 "$T_DIR/m1" gitlab_runner_limit runner=AlphaRunn runner_name=alpha system_id="$sid"
expect_metric 2 "$T_DIR/m1" gitlab_runner_limit runner_name=beta
expect_metric 3 "$T_DIR/m1" gitlab_runner_jobs_total runner_name=alpha
expect_metric 4 "$T_DIR/m1" gitlab_runner_jobs_total runner_name=beta
expect_metric 3 "$T_DIR/m1" gitlab_runner_job_duration_seconds_count runner_name=alpha
expect_metric 3 "$T_DIR/m1" gitlab_runner_job_duration_seconds_bucket runner_name=alpha le=30
expect_metric 3 "$T_DIR/m1" gitlab_runner_api_request_statuses_total runner=AlphaRunn endpoint=request_job status=201 system_id="$sid"
# Job calls count too: every job's acceptance and final PUT, and its PATCHes.
puts=$(metric "$T_DIR/m1" gitlab_runner_api_request_statuses_total runner=AlphaRunn endpoint=update_job status=200) ||
	fail "no update_job count: $puts"
[ "$puts" -ge 6 ] || fail "update_job 200 count is $puts, expected >= 6 for 3 jobs"
patches=$(metric "$T_DIR/m1" gitlab_runner_api_request_statuses_total runner=AlphaRunn endpoint=patch_trace status=202) ||
	fail "no patch_trace count: $patches"
[ "$patches" -ge 3 ] || fail "patch_trace 202 count is $patches, expected >= 3"
expect_metric 0 "$T_DIR/m1" gitlab_runner_jobs runner_name=alpha state=idle
expect_metric 1 "$T_DIR/m1" gitlab_runner_request_concurrency runner=HangRunne
expect_metric 1 "$T_DIR/m1" gitlab_runner_version_info name=crunner
expect_contains "$T_DIR/m1" "# TYPE gitlab_runner_job_duration_seconds histogram" "histogram type"
expect_contains "$T_DIR/m1" 'gitlab_runner_errors_total{level="warning"}' "errors_total"
expect_eq ok "$(curl -sS "$METRICS/health")" "health endpoint"
expect_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "$METRICS/nope")" "unknown path"

test_case "a bad config on SIGHUP is reported and the old one kept"
cp "$CFG" "$T_DIR/good.toml"
printf 'concurrent = [\n' >"$CFG"
kill -HUP "$RUN_PID"
wait_until 5 grep -q "cannot reload the config: .*config.toml:[0-9]" "$LOG" ||
	fail "no reload error in the log: $(tail -5 "$LOG")"
id=$(sleeper "$TOK_A" 0)
wait_until 10 job_done "$FAKE_URL" "$id" || fail "no job ran with the old config"

test_case "reload: a new entry runs jobs without a restart, the removed one stops"
{
	runner_toml alpha "$FAKE_URL" "$TOK_A" 1
	runner_toml beta "$FAKE_URL" "$TOK_B" 2
	runner_toml delta "$FAKE_URL" "$TOK_D" 0
} | write_config
id=$(sleeper "$TOK_D" 0)
wait_until 15 job_done "$FAKE_URL" "$id" || fail "the new runner did not run its job: $(tail -5 "$LOG")"
expect_eq success "$(job_field "$id" 'd["status"]')" "job of the added runner"
expect_contains "$LOG" "configuration reloaded" "reload logged"
scrape "$T_DIR/m2"
expect_metric 1 "$T_DIR/m2" gitlab_runner_jobs_total runner_name=delta
expect_metric 4 "$T_DIR/m2" gitlab_runner_jobs_total runner_name=alpha
metric "$T_DIR/m2" gitlab_runner_limit runner_name=hanging >/dev/null 2>&1 &&
	fail "the removed runner still has a limit"

test_case "SIGQUIT: the running job finishes and is reported, no new job starts"
id=$(sleeper "$TOK_A" 2)
wait_until 10 test -e "$T_DIR/started-$id" || fail "the job did not start"
scrape "$T_DIR/m3"
expect_metric 1 "$T_DIR/m3" gitlab_runner_jobs runner_name=alpha state=running stage=step_script executor_stage=prepare
kill -QUIT "$RUN_PID"
sleep 0.3
late=$(sleeper "$TOK_B" 0)
rc=0
wait "$RUN_PID" || rc=$?
expect_eq 0 "$rc" "exit code after SIGQUIT"
expect_eq success "$(job_field "$id" 'd["status"]')" "running job after SIGQUIT"
expect_eq pending "$(job_field "$late" 'd["status"]')" "job queued after SIGQUIT"

test_case "token rotation: reset at 75% of the lifetime, config.toml rewritten"
now=$(date +%s)
{
	runner_toml rotor "$FAKE_URL" "$TOK_R" 0 "  token_obtained_at = $(date -u -d "@$((now - 30))" +%Y-%m-%dT%H:%M:%SZ)
  token_expires_at = $(date -u -d "@$((now + 2))" +%Y-%m-%dT%H:%M:%SZ)"
} | write_config
start_run
rotor_token() {
	"$PYTHON" -c 'import sys, tomllib
print(tomllib.load(open(sys.argv[1], "rb"))["runners"][0]["token"])' "$CFG"
}
rotated() { [ "$(rotor_token)" != "$TOK_R" ]; }
wait_until 10 rotated || fail "config.toml not rewritten: $(tail -5 "$LOG")"
expect_eq "$(fake_control GET "runners/$R_ID" | "$PYTHON" -c \
	'import json,sys; print(json.load(sys.stdin)["token"])')" "$(rotor_token)" "token written"
expect_contains "$CFG" 'name = "rotor"' "entry kept"
expect_eq "$TOK_R" "$(fake_control GET "runners/$R_ID" | "$PYTHON" -c \
	'import json,sys; print(json.load(sys.stdin)["old_tokens"][0])')" "old token retired"
id=$(enqueue_job '{"runner": '"$R_ID"', "git_strategy": "none", "script": ["echo rotated"]}')
wait_until 10 job_done "$FAKE_URL" "$id" || fail "no job with the new token"
expect_eq success "$(job_field "$id" 'd["status"]')" "job after rotation"
expect_not_contains "$LOG" "${TOK_R#glrt-t1_}" "token in the log"

test_case "SIGTERM: the job is aborted and reported runner_interrupted"
id=$(enqueue_job '{"runner": '"$R_ID"', "git_strategy": "none",
  "script": ["touch '"$T_DIR"'/started-$CI_JOB_ID", "sleep 60"]}')
wait_until 10 test -e "$T_DIR/started-$id" || fail "the job did not start"
start=$SECONDS
kill -TERM "$RUN_PID"
rc=0
wait "$RUN_PID" || rc=$?
expect_eq 0 "$rc" "exit code after SIGTERM"
[ $((SECONDS - start)) -lt 10 ] || fail "SIGTERM took $((SECONDS - start)) s"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_interrupted "$(job_field "$id" 'd["failure_reason"]')" "failure reason"

test_case "a slot a job freed asks again at once, not at the next check_interval"
{
	cat <<EOF
concurrent = 1
check_interval = 10
shutdown_timeout = 10
listen_address = "127.0.0.1:0"
log_level = "debug"
EOF
	runner_toml delta "$FAKE_URL" "$TOK_D" 1
} >"$CFG"
D_IDS=()
for i in 1 2 3 4 5; do
	D_IDS+=("$(enqueue_job '{"runner": "'"$TOK_D"'", "git_strategy": "none", "script": ["echo quick"]}')")
done
start_run
# One after another at concurrent 1: waiting for the 10 s feed tick between
# them would take 40 s.
wait_until 8 all_done "${D_IDS[@]}" ||
	fail "5 quick jobs not done in 8 s with check_interval 10: $(fake_control GET jobs | head -c 800)"
kill -TERM "$RUN_PID"
wait "$RUN_PID" 2>/dev/null

test_case "the runners of one GitLab share one connection pool"
# Eight runners polling a plain coordinator every second: with one multi
# handle per runner each kept its own idle connection (8); with the
# manager's shared pool they reuse one.
"$PYTHON" "$CR_SOURCE_DIR/tests/fakegitlab/fakegitlab.py" --port 0 \
	--port-file "$T_DIR/fake3.port" >"$T_DIR/fake3.log" 2>&1 &
FAKE3_PID=$!
test_when_finished "kill $FAKE3_PID 2>/dev/null; wait $FAKE3_PID 2>/dev/null"
wait_for_port_file "$T_DIR/fake3.port" "third fakegitlab" "$T_DIR/fake3.log"
FAKE3_PORT=$(cat "$T_DIR/fake3.port")
{
	cat <<EOF
concurrent = 4
check_interval = 1
shutdown_timeout = 10
listen_address = "127.0.0.1:0"
log_level = "debug"
EOF
	for i in 1 2 3 4 5 6 7 8; do
		tok=glrt-t1_PoolRunner000$i
		curl -sS -X POST "http://127.0.0.1:$FAKE3_PORT/__control/runners" \
			-d "{\"token\": \"$tok\"}" >/dev/null || fail "cannot add $tok"
		runner_toml "pool$i" "http://127.0.0.1:$FAKE3_PORT" "$tok" 1
	done
} >"$CFG"
# established_to PID PORT: TCP connections of PID to PORT.
established_to() {
	"$PYTHON" - "$1" "$2" <<'PY'
import os, sys
pid, port = sys.argv[1], int(sys.argv[2])
inodes = set()
for fd in os.listdir(f"/proc/{pid}/fd"):
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:["):
        inodes.add(link[8:-1])
n = 0
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    with open(table) as f:
        next(f)
        for line in f:
            cols = line.split()
            if cols[3] == "01" and int(cols[2].rsplit(":", 1)[1], 16) == port \
                    and cols[9] in inodes:
                n += 1
print(n)
PY
}
start_run
most=0
for k in 1 2 3 4 5 6; do
	sleep 0.5
	n=$(established_to "$RUN_PID" "$FAKE3_PORT")
	[ "$n" -gt "$most" ] && most=$n
done
kill -TERM "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
[ "$most" -ge 1 ] || fail "no connection to the coordinator seen"
[ "$most" -le 2 ] || fail "8 runners held $most connections at once (want 1-2: one shared pool)"

test_case "run with no config.toml yet waits for it and then runs its runners"
LATE=$T_DIR/late/config.toml
: >"$LOG"
"$CRUNNER" run --config "$LATE" >"$T_DIR/late.out" 2>"$LOG" &
LATE_PID=$!
test_when_finished "kill -KILL $LATE_PID 2>/dev/null"
wait_until 10 grep -q "does not exist yet: running with no runners" "$LOG" ||
	fail "no word about the missing file: $(cat "$LOG")"
kill -0 "$LATE_PID" 2>/dev/null || fail "crunner run exited without a config.toml: $(cat "$LOG")"
late_id=$(enqueue_job '{"runner": "'"$TOK_D"'", "git_strategy": "none", "script": ["echo late"]}')
mkdir -p "$T_DIR/late"
{
	printf 'concurrent = 1\ncheck_interval = 1\n'
	runner_toml delta "$FAKE_URL" "$TOK_D" 1
} >"$LATE.tmp"
mv "$LATE.tmp" "$LATE"
wait_until 30 all_done "$late_id" ||
	fail "the job of the config that appeared did not run: $(cat "$LOG")"
expect_contains "$LOG" "configuration reloaded (1 runner" "the reload"
kill -TERM "$LATE_PID"
wait "$LATE_PID" 2>/dev/null

echo "t_manager: all cases passed"
