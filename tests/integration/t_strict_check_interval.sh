#!/usr/bin/env bash
# strict_check_interval ([[runners]]): after a job arrives crunner asks
# for the next one at once (gitlab-runner's requeueRunner), unless the
# key is true: then only at check_interval's pace (commands/multi.go).
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"
CFG=$T_DIR/config.toml

# run_manager STRICT: two queued jobs, `crunner run` until both are done;
# GAP is the seconds between the request that got the first job and the
# next request.
run_manager() {
	local pid
	fake_control DELETE requests >/dev/null
	id1=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo one"]}')
	id2=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo two"]}')
	cat >"$CFG" <<TOML
concurrent = 2
check_interval = 4
[[runners]]
  name = "strict"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  strict_check_interval = $1
TOML
	"$CRUNNER" run --config "$CFG" >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
	pid=$!
	test_when_finished "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	for _ in $(seq 300); do
		[ "$(job_field "$id2" 'd["status"]')" = success ] &&
			[ "$(job_field "$id1" 'd["status"]')" = success ] && break
		sleep 0.1
	done
	kill -TERM "$pid"	# the jobs are done
	wait "$pid" 2>/dev/null
	expect_eq success "$(job_field "$id1" 'd["status"]')" "first job ($(tail -3 "$T_DIR/run.err"))"
	expect_eq success "$(job_field "$id2" 'd["status"]')" "second job"
	GAP=$(fake_control GET "requests?endpoint=request&body=0" | "$PYTHON" -c '
import json, sys
reqs = [r for r in json.load(sys.stdin)["requests"]]
got = [i for i, r in enumerate(reqs) if r["status"] == 201]
first = got[0]
print("%.2f" % (reqs[first + 1]["time"] - reqs[first]["time"]))')
	[ -n "$GAP" ] || fail "no request after the first job"
}

test_case "unset: the next request follows a job at once"
run_manager false
"$PYTHON" -c "import sys; sys.exit(0 if $GAP < 2 else 1)" ||
	fail "the next request came ${GAP}s after the job"

test_case "strict_check_interval = true: the next request waits for check_interval"
run_manager true
"$PYTHON" -c "import sys; sys.exit(0 if $GAP >= 3 else 1)" ||
	fail "the next request came ${GAP}s after the job, before check_interval (4s)"

t_finish
