#!/usr/bin/env bash
# clean_git_config (gitlab-runner's writeGitCleanupAllConfigs): the git
# config and hooks a job leaves in its worktree are removed before the next
# get_sources fetches and in the cleanup stage; on by default except for the
# shell executor and GIT_STRATEGY none, where config.toml can turn it on.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

make_upstream widget.git "content"
serve_http "$srv"
port=$HTTP_PORT

# git_job SCRIPT-JSON: a fetch job on the served repository.
git_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "fetch",
	  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget",
	  "payload": {"git_info": {"repo_url": "http://127.0.0.1:'"$port"'/widget.git",
	     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
	  "script": '"$1"'}'
}

PLANT='["git config crunner.planted yes", "mkdir -p .git/hooks", "echo exit 0 > .git/hooks/planted"]'
# The quotes keep the words out of the echoed command lines.
LOOK='["git config --get crunner.planted || echo CONFIG\"-GONE\"", "test -e .git/hooks/planted && echo HOOK\"-KEPT\" || echo HOOK\"-GONE\""]'

test_case "shell executor, unset: a job's git config and hooks stay for the next job"
id=$(git_job "$PLANT")
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "planting job"
id=$(git_job "$LOOK")
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "HOOK-KEPT" "hook kept"
expect_not_contains "$T_DIR/trace" "CONFIG-GONE" "config kept"
expect_not_contains "$T_DIR/trace" "HOOK-GONE" "hook kept"

test_case "clean_git_config = true: removed before the fetch and after the job"
id=$(git_job "$PLANT")
run_single --max-builds 1
id=$(git_job "$LOOK")
run_single --max-builds 1 --clean-git-config
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "CONFIG-GONE" "the planted config key"
expect_contains "$T_DIR/trace" "HOOK-GONE" "the planted hook"
expect_not_contains "$T_DIR/trace" "HOOK-KEPT" "the planted hook"
proj=$(ls -d "$T_DIR"/builds/*/0/acme/widget)
[ ! -e "$proj/.git/config" ] || fail "the cleanup stage left .git/config: $(cat "$proj/.git/config")"
[ ! -e "$proj/.git/hooks" ] || fail "the cleanup stage left .git/hooks"
expect_not_contains "$T_DIR/run.err" "clean_git_config" "a no-effect warning"

test_case "and the next job still fetches into that worktree"
id=$(git_job '["cat README"]')
run_single --max-builds 1 --clean-git-config
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "content" "README"

t_finish
