#!/usr/bin/env bash
# [runners.artifact] upload_timeout (gitlab-runner's ArtifactConfig, the
# artifacts-uploader's --timeout, default 1h): an artifact upload that
# takes longer is given up.  response_header_timeout (its
# --response-header-timeout, default 10m): once the archive is sent, an
# answer whose headers do not come within it is given up too.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

# config_with ARTIFACT-LINES: a shell runner entry with [runners.artifact].
config_with() {
	cat >"$T_DIR/config.toml" <<TOML
concurrent = 1
[[runners]]
  name = "artifacts"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  [runners.artifact]
$1
TOML
}

run_configured() {
	RUN_RC=0
	timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
		--check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
	! grep -q Sanitizer "$T_DIR/run.err" || fail "sanitizer: $(grep -A20 Sanitizer "$T_DIR/run.err")"
}

artifact_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["echo data > a.txt"],
	  "payload": {"artifacts": [{"name": "a", "untracked": false, "paths": ["a.txt"],
	     "when": "on_success", "artifact_type": "archive", "artifact_format": "zip",
	     "expire_in": ""}]}}'
}

test_case "an upload slower than upload_timeout is given up"
# Every upload answers only after 40 s.
fake_control POST faults '{"endpoint": "artifacts_upload", "kind": "hang", "seconds": 40, "times": null}' >/dev/null
config_with '    upload_timeout = "2s"'
id=$(artifact_job)
start=$(date +%s)
run_configured
took=$(($(date +%s) - start))
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Uploading artifacts" "the upload was tried"
[ "$took" -lt 35 ] || fail "the job took ${took}s: upload_timeout did not cut the upload"
expect_not_contains "$T_DIR/run.err" "upload_timeout" "a no-effect warning"
fake_control DELETE faults >/dev/null

test_case "within upload_timeout the upload succeeds"
fake_control POST faults '{"endpoint": "artifacts_upload", "kind": "hang", "seconds": 1, "times": null}' >/dev/null
config_with '    upload_timeout = "20s"'
id=$(artifact_job)
run_configured
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
fake_control DELETE faults >/dev/null

test_case "response_header_timeout gives up on an answer whose headers do not come"
# The fake reads the whole upload, then waits 40 s before answering.
fake_control POST faults '{"endpoint": "artifacts_upload", "kind": "hang", "seconds": 40, "times": null}' >/dev/null
config_with '    upload_timeout = "1h"
    response_header_timeout = "2s"'
id=$(artifact_job)
start=$(date +%s)
run_configured
took=$(($(date +%s) - start))
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "timeout awaiting response headers" "the reason in the trace"
[ "$took" -lt 35 ] || fail "the job took ${took}s: response_header_timeout did not cut the wait"
expect_not_contains "$T_DIR/run.err" "response_header_timeout" "a no-effect warning"
fake_control DELETE faults >/dev/null

test_case "the artifacts helper (docker, kubernetes jobs) keeps the same deadline"
fake_control POST faults '{"endpoint": "artifacts_upload", "kind": "hang", "seconds": 40, "times": null}' >/dev/null
mkdir -p "$T_DIR/helper" && echo data >"$T_DIR/helper/a.txt"
start=$(date +%s)
rc=0
(cd "$T_DIR/helper" && CRUNNER_API_URL="$FAKE_URL/api/v4/" CRUNNER_JOB_TOKEN=job-token \
	CRUNNER_JOB_ID=1 timeout 60 "$CRUNNER" artifacts-helper upload --path a.txt \
	--output "$T_DIR/helper.zip" --response-header-timeout-ms 2000) \
	>"$T_DIR/helper.out" 2>&1 || rc=$?
took=$(($(date +%s) - start))
[ "$rc" -ne 0 ] || fail "the helper's upload succeeded: $(cat "$T_DIR/helper.out")"
expect_contains "$T_DIR/helper.out" "timeout awaiting response headers" "the helper's reason"
[ "$took" -lt 35 ] || fail "the helper took ${took}s: --response-header-timeout-ms did not cut the wait"
fake_control DELETE faults >/dev/null

test_case "an answer within response_header_timeout is taken"
fake_control POST faults '{"endpoint": "artifacts_upload", "kind": "hang", "seconds": 1, "times": null}' >/dev/null
config_with '    response_header_timeout = "6s"'
id=$(artifact_job)
run_configured
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
fake_control DELETE faults >/dev/null

t_finish
