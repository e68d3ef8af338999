# Helpers for the dependency-download scenarios (t_direct_download.sh,
# t_artifacts_parallel.sh), sourced after lib.sh: a finished "build" job
# whose artifacts archive a later job needs, that later job, and the
# artifacts helper's download run by hand.

# add_dependency ZIP: a successful job "build" with ZIP as its artifacts
# archive; its id in $dep.  (The archive goes in a file, not on the command
# line: it may be large.)
add_dependency() {
	local out
	out=$(fake_control POST jobs '{"runner": null, "queue": false, "status": "success", "name": "build"}') ||
		fail "cannot create the dependency job"
	dep=$(json_get "$out" 'd["id"]')
	"$PYTHON" - "$1" "$T_DIR/dep-body.json" <<'PY'
import base64, json, sys
with open(sys.argv[1], "rb") as f:
    data = f.read()
with open(sys.argv[2], "w") as f:
    json.dump({"data_b64": base64.b64encode(data).decode(), "filename": "artifacts.zip"}, f)
PY
	curl "${FAKE_CURL_OPTS[@]}" -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
		--data-binary @"$T_DIR/dep-body.json" "$FAKE_URL/__control/jobs/$dep/artifacts" >/dev/null ||
		fail "cannot attach the archive"
}

# dep_job_with VARIABLES-JSON COMMAND: a job needing $dep that runs
# COMMAND (a JSON string); prints its id.
dep_job_with() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ['"$2"'], "variables": '"$1"',
	  "payload": {"dependencies": [{"id": '"$dep"', "name": "build"}]}}'
}

# run_dep_job ID: runs one job (ID); it must succeed.  Its log in $T_DIR/trace.
run_dep_job() {
	run_single --max-builds 1
	job_trace "$1" "$T_DIR/trace"
	expect_eq success "$(job_field "$1" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
}

# add_requesting_job: a running job whose token the artifacts helper uses,
# in $token.
add_requesting_job() {
	local out
	out=$(fake_control POST jobs '{"runner": null, "queue": false, "status": "running", "name": "needs-build"}') ||
		fail "cannot create the requesting job"
	token=$(json_get "$out" 'd["token"]')
}

# helper_download ARGS...: `artifacts-helper download --id $dep ARGS...`
# with $token, extracting into $T_DIR/helper (made afresh); its output in
# $T_DIR/helper.out; a failure fails the test.
helper_download() {
	rm -rf "$T_DIR/helper" && mkdir "$T_DIR/helper"
	(cd "$T_DIR/helper" && CRUNNER_API_URL="$FAKE_URL/api/v4/" CRUNNER_JOB_TOKEN="$token" \
		CRUNNER_JOB_ID=1 timeout 60 "$CRUNNER" artifacts-helper download --id "$dep" \
		--file "$T_DIR/got.zip" "$@") >"$T_DIR/helper.out" 2>&1 ||
		fail "helper download: $(cat "$T_DIR/helper.out")"
}
