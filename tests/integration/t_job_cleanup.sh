#!/usr/bin/env bash
# FF_ENABLE_JOB_CLEANUP (gitlab-runner's writeCleanupBuildDirectoryScript):
# at the end of the job a cloned or empty project dir is removed, a fetched
# one is cleaned with GIT_CLEAN_FLAGS and reset to its commit, and with
# GIT_STRATEGY none it is left ("Skipping build directory cleanup step").
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

make_upstream widget.git "committed"
serve_http "$srv"

FF='{"key": "FF_ENABLE_JOB_CLEANUP", "value": "true", "public": true, "masked": false}'
SCRIPT='["echo changed > README", "echo junk > untracked.txt"]'
job() { # STRATEGY VARIABLES-JSON-LIST
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "'"$1"'",
	  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget", "variables": ['"$2"'],
	  "payload": {"git_info": {"repo_url": "http://127.0.0.1:'"$HTTP_PORT"'/widget.git",
	     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
	  "script": '"$SCRIPT"'}'
}
project() { ls -d "$T_DIR"/builds/*/0/acme/widget 2>/dev/null; }

test_case "default: the project dir stays as the job left it"
id=$(job fetch "")
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
proj=$(project)
[ -n "$proj" ] || fail "no project dir"
expect_eq changed "$(cat "$proj/README")" "README"
[ -e "$proj/untracked.txt" ] || fail "untracked.txt went"

test_case "FF_ENABLE_JOB_CLEANUP, fetch: cleaned and reset"
id=$(job fetch "$FF")
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
proj=$(project)
expect_eq committed "$(cat "$proj/README")" "README reset"
[ ! -e "$proj/untracked.txt" ] || fail "untracked.txt left"
expect_eq "$sha" "$(git -C "$proj" rev-parse HEAD)" "HEAD"

test_case "FF_ENABLE_JOB_CLEANUP, clone: the project dir goes"
id=$(job clone "$FF")
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_eq "" "$(project)" "project dir"

test_case "FF_ENABLE_JOB_CLEANUP, none: left, with a notice"
mkdir -p "$T_DIR/builds/keep"
id=$(job none "$FF")
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Skipping build directory cleanup step" "notice"
proj=$(project)
[ -n "$proj" ] && [ -e "$proj/untracked.txt" ] || fail "the project dir was cleaned"

echo "t_job_cleanup: all cases passed"
