#!/usr/bin/env bash
# A slow STS stalls only the job that needs it: the cache URLs of a
# RoleARN cache are signed off the loop thread (util/offload.h,
# archive/cache_plan.h), so while AssumeRole hangs (fake_sts.py --delay)
# the same `crunner run` process picks up, runs and reports another job,
# and a cancel or the timeout of the waiting job ends it at once.  The waiting job still
# gets its cache, signed with the role's credentials, once STS answers; so
# do the cache stages an executor runs as scripts (custom executor).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

DELAY=10

start_fakegitlab
start_role_store

# start_sts COUNT: the role's fake STS (cache_s3_lib.sh), whose first COUNT
# answers take $DELAY s.
start_sts() {
	start_role_sts --delay "$DELAY" --delay-count "$1"
}

# wait_until SECONDS COMMAND...: polls every 0.1 s; false when time ran out.
wait_until() {
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

job_is() { # ID STATUS
	[ "$(job_field "$1" 'd["status"]')" = "$2" ]
}

answered() { # how many AssumeRole answers the STS gave
	grep -c "^POST / -> " "$T_DIR/sts.log"
}

sts_asked() {
	grep -q "^RECV POST /" "$T_DIR/sts.log"
}

start_run() {
	rm -rf "$T_DIR/builds" "$T_DIR/cache"
	: >"$T_DIR/run.err"
	"$CRUNNER" run --config "$T_DIR/config.toml" --trace-interval 200ms \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" &
	RUN_PID=$!
	test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
}

stop_run() {
	kill -TERM "$RUN_PID" 2>/dev/null
	wait_until 30 eval '! kill -0 $RUN_PID 2>/dev/null' || fail "crunner run did not stop"
	wait "$RUN_PID" 2>/dev/null
	! grep -q "Sanitizer" "$T_DIR/run.err" ||
		fail "sanitizer report: $(grep -A30 Sanitizer "$T_DIR/run.err" | head -50)"
}

OBJ_ADDR=127.0.0.1:$(cat "$T_DIR/store.port" 2>/dev/null || echo 0)
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
add_runner "$RUN_TOKEN"

# config.toml: two jobs at once from one runner, its cache behind the role.
write_run_config() {
	OBJ_ADDR=127.0.0.1:$(cat "$T_DIR/store.port")
	write_config "$SK"
	printf '      RoleARN = "%s"\n' "$ROLE" >>"$T_DIR/config.toml"
	sed -i -e 's/^concurrent = 1$/concurrent = 2\ncheck_interval = 1/' \
		-e 's/^  executor = "shell"$/  executor = "shell"\n  limit = 2/' \
		"$T_DIR/config.toml"
}

test_case "while STS hangs on one job's cache, another job runs and finishes"
start_sts 1
write_run_config
slow=$(cache_job role-key pull-push '["mkdir -p vendor", "echo via-assumed-role > vendor/lib.txt"]')
start_run
wait_until 30 sts_asked || fail "the cache job never asked STS: $(tail -5 "$T_DIR/run.err")"
quick=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo quick-job-ran"]}')
# The quick job has to be polled, run and reported while STS still holds
# the first answer back; a blocked loop would let it finish only after.
wait_until $((DELAY - 2)) job_is "$quick" success ||
	fail "the other job did not finish while STS was slow (status $(job_field "$quick" 'd["status"]'))"
expect_eq 0 "$(answered)" "STS still holding its first answer when the other job finished"
job_trace "$quick" "$T_DIR/trace.quick"
expect_contains "$T_DIR/trace.quick" "quick-job-ran" "the other job's output"
wait_until 60 job_is "$slow" success ||
	fail "the cache job did not succeed: $(job_field "$slow" 'd["status"]')"
job_trace "$slow" "$T_DIR/trace.slow"
expect_contains "$T_DIR/trace.slow" "Created cache" "created"
expect_not_contains "$T_DIR/trace.slow" "Cannot use the distributed cache" "the URLs were signed"
grep -q "^PUT /cache/runner/$SHORT/project/.*/role-key -> 200" "$T_DIR/store.log" ||
	fail "the role-signed PUT was refused: $(tail -3 "$T_DIR/store.log")"
expect_eq 1 "$(grep -c " -> 200 $ROLE action=s3:PutObject resource=arn:aws:s3:::cache/runner/$SHORT/project/[0-9]*/role-key " "$T_DIR/sts.log")" "one AssumeRole for the upload"
stop_run

test_case "a job cancelled while its cache URLs wait on STS ends at once"
kill "$STS_PID" 2>/dev/null
wait "$STS_PID" 2>/dev/null
start_sts 100
write_run_config
job=$(cache_job cancel-key pull-push '["echo the script should not run"]')
start_run
wait_until 30 sts_asked || fail "the cache job never asked STS: $(tail -5 "$T_DIR/run.err")"
fake_control POST "jobs/$job/cancel" '{"graceful": false}' >/dev/null
# The fake marks the job at once; crunner's own word says it stopped.
wait_until $((DELAY - 2)) grep -q "job $job finished" "$T_DIR/run.err" ||
	fail "the cancel waited for STS: $(tail -5 "$T_DIR/run.err")"
expect_eq canceled "$(job_field "$job" 'd["status"]')" "job status"
expect_eq 0 "$(answered)" "STS still holding its answer when the job ended"
job_trace "$job" "$T_DIR/trace.cancel"
expect_not_contains "$T_DIR/trace.cancel" "the script should not run" "no script after the cancel"
# The abandoned signer finishes on its own; then the process stops clean.
wait_until $((DELAY + 10)) eval '[ "$(answered)" -ge 1 ]' || fail "STS never answered"
sleep 1
stop_run

test_case "the job's timeout while its cache URLs wait on STS ends it at once"
kill "$STS_PID" 2>/dev/null
wait "$STS_PID" 2>/dev/null
start_sts 100
write_run_config
job=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "timeout": 3,
  "script": ["echo the script should not run"],
  "payload": {"cache": [{"key": "timeout-key", "untracked": false, "paths": ["vendor/"],
     "policy": "pull-push", "when": "on_success", "fallback_keys": []}]}}')
start_run
wait_until 30 sts_asked || fail "the cache job never asked STS: $(tail -5 "$T_DIR/run.err")"
wait_until $((DELAY - 2)) job_is "$job" failed ||
	fail "the timeout waited for STS (status $(job_field "$job" 'd["status"]'))"
expect_eq 0 "$(answered)" "STS still holding its answer when the job ended"
expect_eq job_execution_timeout "$(job_field "$job" 'd["failure_reason"]')" "failure reason"
job_trace "$job" "$T_DIR/trace.timeout"
expect_not_contains "$T_DIR/trace.timeout" "the script should not run" "no script after the timeout"
wait_until $((DELAY + 10)) eval '[ "$(answered)" -ge 1 ]' || fail "STS never answered"
sleep 1
stop_run

test_case "stage scripts (custom executor): the role-signed URLs reach the helper"
kill "$STS_PID" 2>/dev/null
wait "$STS_PID" 2>/dev/null
start_sts 0
LOCAL=$CR_SOURCE_DIR/examples/custom-executor/local
OBJ_ADDR=127.0.0.1:$(cat "$T_DIR/store.port")
write_config "$SK"
sed -i 's/^  executor = "shell"$/  executor = "custom"/' "$T_DIR/config.toml"
cat >>"$T_DIR/config.toml" <<TOML
      RoleARN = "$ROLE"
  [runners.custom]
    config_exec = "$LOCAL/config.sh"
    prepare_exec = "$LOCAL/prepare.sh"
    run_exec = "$LOCAL/run.sh"
    cleanup_exec = "$LOCAL/cleanup.sh"
TOML
id1=$(cache_job script-key pull-push '["mkdir -p vendor", "echo via-role-script > vendor/lib.txt"]')
id2=$(cache_job script-key pull '["cat vendor/lib.txt"]')
rm -rf "$T_DIR/builds" "$T_DIR/cache"
RUN_RC=0
timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 2 \
	--check-interval 100ms --trace-interval 200ms \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
! grep -q "Sanitizer" "$T_DIR/run.err" ||
	fail "sanitizer report: $(grep -A30 Sanitizer "$T_DIR/run.err" | head -50)"
for id in "$id1" "$id2"; do
	job_trace "$id" "$T_DIR/trace.$id"
	expect_eq success "$(job_field "$id" 'd["status"]')" "job $id status ($(tail -c 1500 "$T_DIR/trace.$id"))"
	expect_not_contains "$T_DIR/trace.$id" "Cannot use the distributed cache" "job $id: URLs signed"
done
expect_contains "$T_DIR/trace.$id2" "via-role-script" "restored"
grep -q "^PUT /cache/runner/$SHORT/project/.*/script-key -> 200" "$T_DIR/store.log" ||
	fail "the role-signed PUT was refused: $(tail -3 "$T_DIR/store.log")"
grep -q "^GET /cache/runner/$SHORT/project/.*/script-key -> 200" "$T_DIR/store.log" ||
	fail "the role-signed GET did not fetch the archive: $(tail -3 "$T_DIR/store.log")"
expect_contains "$T_DIR/sts.log" "action=s3:GetObject resource=arn:aws:s3:::cache/runner/$SHORT/project/42/script-key" "download role"

t_finish
