# Helpers for the job-secrets scenarios (t_secrets_*.sh), sourced after
# lib.sh.  A scenario sets, before it runs jobs:
#   JWT              the job's ID token, as the fake accepts it
#   SECRETS_FAKE     the provider's fake: tests/secrets/fake_$SECRETS_FAKE.py,
#                    configured by $T_DIR/$SECRETS_FAKE.json, logging each
#                    request to $T_DIR/$SECRETS_FAKE.log
#   SECRETS_JWT_VAR  the job variable that holds $JWT
#   SECRETS_VALUES   (array) what must never show in the job log or in
#                    crunner's output: values, the JWT, tokens

# start_secrets_fake TAG [ARGS...]: the fake on loopback, its port in
# $T_DIR/TAG.port and its output in $T_DIR/TAG.out; stopped at the end.
# Sets SECRETS_FAKE_PID and SECRETS_FAKE_PORT.
start_secrets_fake() {
	local tag=$1
	shift
	: >"$T_DIR/$SECRETS_FAKE.log"
	"$PYTHON" "$CR_SOURCE_DIR/tests/secrets/fake_$SECRETS_FAKE.py" \
		--config "$T_DIR/$SECRETS_FAKE.json" --log "$T_DIR/$SECRETS_FAKE.log" \
		--port 0 --port-file "$T_DIR/$tag.port" "$@" >"$T_DIR/$tag.out" 2>&1 &
	SECRETS_FAKE_PID=$!
	test_when_finished "kill $SECRETS_FAKE_PID 2>/dev/null; wait $SECRETS_FAKE_PID 2>/dev/null"
	for _ in $(seq 100); do
		[ -s "$T_DIR/$tag.port" ] && break
		sleep 0.1
	done
	[ -s "$T_DIR/$tag.port" ] || fail "fake $tag did not start: $(cat "$T_DIR/$tag.out")"
	SECRETS_FAKE_PORT=$(cat "$T_DIR/$tag.port")
}

# secrets_job SECRETS-JSON SCRIPT-JSON [EXTRA-VARIABLES-JSON]: queues it,
# with $JWT in $SECRETS_JWT_VAR.
secrets_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": '"$2"',
  "variables": [{"key": "'"$SECRETS_JWT_VAR"'", "value": "'"$JWT"'", "public": false, "masked": true}'"${3:-}"'],
  "payload": {"secrets": '"$1"'}}'
}

# expect_no_sanitizer: no sanitizer report in crunner's errors or the log.
expect_no_sanitizer() {
	! grep -q "Sanitizer" "$T_DIR/run.err" "$T_DIR/trace" ||
		fail "sanitizer report: $(grep -h -A20 Sanitizer "$T_DIR/run.err" "$T_DIR/trace" | head -40)"
}

# run_job ID: one run-single for the job (a fresh request log), its trace
# in $T_DIR/trace; none of SECRETS_VALUES anywhere.
run_job() {
	: >"$T_DIR/$SECRETS_FAKE.log"
	run_single --max-builds 1
	expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
	job_trace "$1" "$T_DIR/trace"
	expect_no_sanitizer
	for v in "${SECRETS_VALUES[@]}"; do
		expect_not_contains "$T_DIR/trace" "$v" "a secret in the job log"
		expect_not_contains "$T_DIR/run.out" "$v" "a secret in crunner's output"
		expect_not_contains "$T_DIR/run.err" "$v" "a secret in crunner's errors"
	done
}

# run_secrets_job SECRETS-JSON SCRIPT-JSON [EXTRA-VARIABLES-JSON]:
# secrets_job, then run_job; the job's id in $id.
run_secrets_job() {
	id=$(secrets_job "$@")
	run_job "$id"
}

# expect_job_success ID: the job succeeded (the log's end if not).
expect_job_success() {
	expect_eq success "$(job_field "$1" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
}

# secrets_requests EXPR: a Python expression over the fake's request list r.
secrets_requests() {
	"$PYTHON" -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print(eval(sys.argv[2]))' \
		"$T_DIR/$SECRETS_FAKE.log" "$1"
}

# expect_failed ID REASON FOOTER WHAT: failed for REASON before the
# executor was prepared, FOOTER in the log, the script never ran.
expect_failed() {
	expect_eq failed "$(job_field "$1" 'd["status"]')" "$4: job status ($(tail -c 1500 "$T_DIR/trace"))"
	expect_eq "$2" "$(job_field "$1" 'd["failure_reason"]')" "$4: failure reason"
	expect_contains "$T_DIR/trace" "$3" "$4: the footer"
	expect_not_contains "$T_DIR/trace" "Preparing the \"shell\" executor" "$4: no executor after a failed resolve"
	expect_not_contains "$T_DIR/trace" "SCRIPT-RAN" "$4: the script did not run"
}

# expect_system_failure ID FOOTER WHAT: expect_failed, runner_system_failure.
expect_system_failure() {
	expect_failed "$1" runner_system_failure "$2" "$3"
}

hash_of() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
