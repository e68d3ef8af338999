#!/usr/bin/env bash
# Stage scripts hold the job's variables, secrets included: they live in a
# private 0700 directory under TMPDIR, and what a SIGKILLed crunner left
# there is removed when the next job starts.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"
tmp=$T_DIR/tmp
mkdir -p "$tmp"
secret=hunter2-stale-secret

job_with_secret() { # SCRIPT-JSON
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "variables": [{"key": "DEPLOY_SECRET", "value": "'"$secret"'", "public": false, "masked": true}],
	  "script": '"$1"'}'
}

# The pids of processes running a script under dir (the killed job's shell).
script_pids() {
	local f
	for f in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' 2>/dev/null <"$f" | grep -qF "$1/" && basename "$(dirname "$f")"
	done
}

test_case "crunner killed mid-job: its stage script, with the secret, is left in a private dir"
id=$(job_with_secret '["echo started", "sleep 60"]')
TMPDIR=$tmp "$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" \
	--builds-dir "$T_DIR/builds" --check-interval 100ms --trace-interval 200ms \
	--max-builds 1 >"$T_DIR/run1.out" 2>"$T_DIR/run1.err" &
crunner_pid=$!
wait_for_trace "$id" "started" || fail "the job did not start: $(cat "$T_DIR/run1.err")"
kill -9 "$crunner_pid"
wait "$crunner_pid" 2>/dev/null
# The job's own process group (its shell and the sleep) outlives crunner:
# end it, found by the script's path (ours, started by this test).
for p in $(script_pids "$tmp"); do
	pgid=$(ps -o pgid= -p "$p" | tr -d ' ')
	[ -n "$pgid" ] && kill -9 -- "-$pgid" 2>/dev/null
done
left=$(ls -d "$tmp"/crunner-stage-* 2>/dev/null)
[ -n "$left" ] || fail "no stage script directory in TMPDIR: $(ls -la "$tmp")"
expect_eq 700 "$(stat -c %a $left)" "mode of $left"
grep -rqF "$secret" "$tmp" || fail "precondition: the stage script holding the secret was not left behind"

test_case "the next job removes the leftover, and leaves nothing of its own"
id=$(job_with_secret '["echo second"]')
TMPDIR=$tmp run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
[ ! -e "$left" ] || fail "the killed crunner's directory is still there: $(ls -la "$left")"
if grep -rqF "$secret" "$tmp"; then
	fail "the secret is still in TMPDIR: $(grep -rlF "$secret" "$tmp")"
fi
expect_eq "" "$(ls -A "$tmp")" "TMPDIR after the job"
