# Helpers for the scenarios that run `crunner run` (the daemon) with
# $T_DIR/config.toml against the fake GitLab, sourced after lib.sh: CFG
# and LOG (crunner's log), starting and stopping it, and waiting for jobs.

CFG=$T_DIR/config.toml
LOG=$T_DIR/run.log

# start_run: `crunner run` in the background (RUN_PID), killed with the
# scenario if still there.
start_run() {
	: >"$LOG"
	"$CRUNNER" run --config "$CFG" --trace-interval 200ms >"$T_DIR/run.out" 2>"$LOG" &
	RUN_PID=$!
	test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
}

# stop_run: SIGQUIT; crunner must stop within 60 s and exit 0, with no
# sanitizer report in its log.
stop_run() {
	local rc=0
	kill -QUIT "$RUN_PID"
	timeout 60 tail --pid="$RUN_PID" -f /dev/null || fail "crunner did not stop: $(tail -5 "$LOG")"
	wait "$RUN_PID" || rc=$?
	! grep -q "Sanitizer" "$LOG" ||
		fail "sanitizer report: $(grep -A30 Sanitizer "$LOG" | head -40)"
	expect_eq 0 "$rc" "crunner run exit code ($(tail -3 "$LOG"))"
}

# wait_until SECONDS COMMAND...: polls COMMAND every 0.2 s; its status
# when the time ran out.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.2
	done
	"$@"
}

# job_done ID: the job has ended (success, failed or canceled).
job_done() {
	curl -sS "$FAKE_URL/__control/jobs/$1" | "$PYTHON" -c \
		'import json,sys; sys.exit(json.load(sys.stdin)["status"] not in ("success","failed","canceled"))'
}

# run_one_job ID: start_run, wait (240 s at most) for the job to end,
# stop_run; its log in $T_DIR/trace.
run_one_job() {
	start_run
	wait_until 240 job_done "$1" || fail "the job did not end: $(tail -20 "$LOG")"
	stop_run
	job_trace "$1" "$T_DIR/trace"
}
