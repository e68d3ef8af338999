#!/usr/bin/env bash
# FF_USE_DIRECT_DOWNLOAD as gitlab-runner's artifacts-downloader reads it:
# on (the default), the first attempt of a dependency download asks for
# ?direct_download=true (GitLab may then redirect to object storage) and a
# retry asks without it; off, no attempt asks for it.  Both the in-process
# download (shell executor) and the artifacts helper's (executors whose
# stages are scripts).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/artifacts_dep_lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

"$PYTHON" - "$T_DIR/dep.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("dist/readme.txt", "hello\n")
PY
add_dependency "$T_DIR/dep.zip"

# queries: the raw query strings of the artifact downloads, one a line.
queries() {
	json_get "$(fake_control GET "requests?endpoint=artifacts_download&body=0")" \
		'"\n".join(r["raw_query"] or "-" for r in d["requests"])'
}
CMD='"cat dist/readme.txt"'

test_case "default: the first attempt asks for a direct download, object storage answers"
fake_control DELETE requests >/dev/null
fake_control PATCH config '{"direct_download_redirect": true}' >/dev/null
id=$(dep_job_with '[]' "$CMD")
run_dep_job "$id"
expect_eq "direct_download=true" "$(queries)" "the query"
expect_eq 1 "$(json_get "$(fake_control GET "requests?endpoint=storage&body=0")" 'len(d["requests"])')" "object storage reached"

test_case "default: a retry asks without it"
fake_control DELETE requests >/dev/null
fake_control POST faults '{"endpoint": "artifacts_download", "kind": "status", "status": 502, "times": 5}' >/dev/null ||
	fail "cannot inject the fault"
id=$(dep_job_with '[{"key": "ARTIFACT_DOWNLOAD_ATTEMPTS", "value": "2", "public": true, "masked": false},
  {"key": "RESTORE_CACHE_ATTEMPTS", "value": "1", "public": true, "masked": false}]' "$CMD")
run_dep_job "$id"
fake_control DELETE faults >/dev/null
expect_contains "$T_DIR/trace" "Downloading artifacts from coordinator... error" "first attempt failed"
# The HTTP layer repeats a 502 within one attempt: every request of the
# first attempt is direct, the second attempt's is not.
q=$(queries)
expect_eq "-" "$(echo "$q" | tail -1)" "the last request (second attempt)"
expect_eq "direct_download=true" "$(echo "$q" | head -1)" "the first request"

test_case "FF_USE_DIRECT_DOWNLOAD=false: never asked, GitLab serves the archive itself"
fake_control DELETE requests >/dev/null
id=$(dep_job_with '[{"key": "FF_USE_DIRECT_DOWNLOAD", "value": "false", "public": true, "masked": false}]' "$CMD")
run_dep_job "$id"
expect_contains "$T_DIR/trace" "hello" "extracted"
expect_eq "-" "$(queries)" "no direct_download in the query"
expect_eq 0 "$(json_get "$(fake_control GET "requests?endpoint=storage&body=0")" 'len(d["requests"])')" "object storage not used"

test_case "the artifacts helper: --no-direct-download, and direct on its first attempt only"
add_requesting_job
expect_helper_extracted() {
	expect_eq hello "$(cat "$T_DIR/helper/dist/readme.txt")" "extracted by the helper"
}
fake_control DELETE requests >/dev/null
helper_download --no-direct-download
expect_helper_extracted
expect_eq "-" "$(queries)" "--no-direct-download"
fake_control DELETE requests >/dev/null
fake_control POST faults '{"endpoint": "artifacts_download", "kind": "status", "status": 502, "times": 5}' >/dev/null
helper_download --attempts 2
expect_helper_extracted
fake_control DELETE faults >/dev/null
q=$(queries)
expect_eq "direct_download=true" "$(echo "$q" | head -1)" "the helper's first request"
expect_eq "-" "$(echo "$q" | tail -1)" "the helper's second attempt"
fake_control PATCH config '{"direct_download_redirect": false}' >/dev/null

t_finish
