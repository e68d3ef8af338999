#!/usr/bin/env bash
# dotenv reports (artifact_type "dotenv") checked as GitLab checks them
# before they are uploaded: a valid one goes up as a gzip report; a bad
# key, a line without '=', more than 20 variables or a stored file of
# 5 KiB or more fail the upload (and the job) with a clear line, and
# nothing is sent.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

# dotenv_job SCRIPT-JSON: a job with one dotenv report, deploy.env.
dotenv_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": '"$1"',
  "payload": {"artifacts": [
    {"name": "deploy.env", "paths": ["deploy.env"], "when": "on_success", "expire_in": null,
     "artifact_type": "dotenv", "artifact_format": "gzip"}]}}'
}

run_job() {
	run_single --max-builds 1
	expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
	job_trace "$1" "$T_DIR/trace"
	! grep -q "Sanitizer" "$T_DIR/run.err" "$T_DIR/trace" ||
		fail "sanitizer report: $(grep -h -A20 Sanitizer "$T_DIR/run.err" "$T_DIR/trace" | head -40)"
}

# refused ID WHAT TEXT: the job failed at the upload with TEXT, nothing sent.
refused() {
	expect_eq failed "$(job_field "$1" 'd["status"]')" "$2: job status ($(tail -c 1500 "$T_DIR/trace"))"
	expect_contains "$T_DIR/trace" "ERROR: Invalid dotenv report, not uploading it (GitLab would refuse it): $3" "$2: error line"
	expect_eq 0 "$(job_field "$1" 'len(d["artifacts"])')" "$2: nothing uploaded"
	expect_eq 0 "$(json_get "$(fake_control GET "requests?endpoint=artifacts_upload&job_id=$1&body=0")" 'len(d["requests"])')" \
		"$2: no upload request"
}

test_case "a valid dotenv report is uploaded"
id=$(dotenv_job '["printf \"A=1\\nB_2 = two words\\n\\nC=\\\"q\\\"\\n\" > deploy.env"]')
run_job "$id"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "dotenv report: 3 variables" "variables counted"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "dotenv" to coordinator... 201 Created' "upload line"
expect_eq "dotenv gzip deploy.env.gz" \
	"$(job_field "$id" '" ".join([d["artifacts"][0][k] for k in ("artifact_type", "artifact_format", "filename")])')" \
	"report fields"
curl -sS --fail "$FAKE_URL/__control/jobs/$id/artifacts/0" >"$T_DIR/r.gz" || fail "cannot fetch the report"
expect_eq "$(printf 'A=1\nB_2 = two words\n\nC="q"')" "$(gzip -dc "$T_DIR/r.gz")" "report content"

test_case "a key with a dash is refused"
id=$(dotenv_job '["printf \"GOOD=1\\nBAD-KEY=2\\n\" > deploy.env"]')
run_job "$id"
refused "$id" "bad key" "deploy.env: dotenv report line 2: invalid key"

test_case "a line without = is refused"
id=$(dotenv_job '["printf \"A=1\\njust text\\n\" > deploy.env"]')
run_job "$id"
refused "$id" "no =" "deploy.env: dotenv report line 2: invalid format, KEY=VALUE expected"

test_case "more than 20 variables are refused"
id=$(dotenv_job '["for i in $(seq 1 21); do echo V$i=$i; done > deploy.env"]')
run_job "$id"
refused "$id" "21 variables" "deploy.env: dotenv report has more than 20 variables"

test_case "exactly 20 variables are accepted"
id=$(dotenv_job '["for i in $(seq 1 20); do echo V$i=$i; done > deploy.env"]')
run_job "$id"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "dotenv report: 20 variables" "variables counted"

test_case "a stored report of 5 KiB or more is refused"
id=$(dotenv_job '["echo \"BIG=$(head -c 8000 /dev/urandom | base64 -w0)\" > deploy.env"]')
run_job "$id"
refused "$id" "too big" "Dotenv Artifact Too Big. Maximum Allowable Size: 5120"

test_case "a long value that compresses well is accepted, as GitLab limits the stored file"
id=$(dotenv_job '["echo \"LONG=$(printf %08000d 0)\" > deploy.env"]')
run_job "$id"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
