#!/usr/bin/env bash
# Spec 6.1: an artifact upload answered 307 goes again, whole, to the
# Location's scheme and host with the same API path.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

test_case "a 307 on upload is followed to the Location's host"
port=${FAKE_URL##*:}
fake_control POST faults '{"endpoint": "artifacts_upload", "kind": "status", "status": 307,
  "headers": {"Location": "http://localhost:'"$port"'/elsewhere/ignored?x=1"}}' >/dev/null ||
	fail "cannot inject the fault"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo moved > a.txt"],
  "payload": {"artifacts": [{"name": "art", "paths": ["a.txt"], "when": "on_success",
     "artifact_type": "archive", "artifact_format": "zip"}]}}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "archive" to coordinator... 201 Created' "upload line"
q=$(fake_control GET "requests?endpoint=artifacts_upload&job_id=$id&body=0")
expect_eq 2 "$(json_get "$q" 'len(d["requests"])')" "upload requests"
expect_eq "307 201" "$(json_get "$q" '" ".join(str(r["status"]) for r in d["requests"])')" "statuses"
expect_eq "artifact_format=zip&artifact_type=archive" \
	"$(json_get "$q" 'd["requests"][1]["raw_query"]')" "same query on the second host"
curl -sS --fail "$FAKE_URL/__control/jobs/$id/artifacts/0" >"$T_DIR/a.zip" || fail "no stored artifact"
expect_eq moved "$(unzip -p "$T_DIR/a.zip" a.txt)" "stored content"
