#!/usr/bin/env bash
# The [[runners]] keys that change where a job's sources come from and go
# to: clone_url (gitlab-runner's GitAuthHelper.GetRemoteURL: scheme, host
# and path of clone_url + CI_PROJECT_PATH.git, with the job token) and
# [runners.custom_build_dir] enabled with GIT_CLONE_PATH (getCustomBuildDir:
# refused unless enabled, off by default for shell; within builds_dir).
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

# The project acme/widget, bare, served over dumb HTTP at /acme/widget.git.
make_upstream acme/widget.git "from the mirror"
serve_http "$srv"
port=$HTTP_PORT

# job [', "variables": [...]'] [SCRIPT-JSON]: a job whose repo_url leads
# nowhere (port 9 on loopback): only clone_url can make its fetch work.
# The variables are appended to the fake's (CI_PROJECT_PATH, ...).
job() {
	local vars=${1:-} script=${2:-'["cat README", "pwd"]'}
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "clone",
	  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget",
	  "payload": {"git_info": {"repo_url": "http://gitlab-ci-token:JOBTOKEN@127.0.0.1:9/nowhere/widget.git",
	     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}}'"$vars"',
	  "script": '"$script"'}'
}

test_case "without clone_url the job fetches from repo_url (which fails here)"
id=$(job)
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "127.0.0.1:9" "repo_url used"

test_case "clone_url: the project's path on the clone_url host, origin without credentials"
id=$(job)
run_single --max-builds 1 --clone-url "http://127.0.0.1:$port/"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "from the mirror" "file content"
proj=$(ls -d "$T_DIR"/builds/*/0/acme/widget)
expect_eq "http://127.0.0.1:$port/acme/widget.git" "$(git -C "$proj" config --get remote.origin.url)" "origin"
grep -q 'GET /acme/widget.git/info/refs' "$T_DIR/http.log" || fail "the clone_url host was not asked: $(tail -5 "$T_DIR/http.log")"

test_case "clone_url from config.toml, with a server that wants gitlab-ci-token and the job token"
start_git_auth_server 0
id=$(job)
job_field "$id" 'd["token"]' >"$tokfile"
cat >"$T_DIR/config.toml" <<TOML
concurrent = 1
[[runners]]
  name = "mirror"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  clone_url = "http://127.0.0.1:$auth_port"
TOML
RUN_RC=0
timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"); $(tail -3 "$T_DIR/run.err"); server: $(tail -3 "$T_DIR/auth.log"))"
grep -q '/acme/widget.git/info/refs.*auth=ok' "$T_DIR/auth.log" || fail "no authorised fetch: $(head "$T_DIR/auth.log")"
expect_not_contains "$T_DIR/run.err" "clone_url" "a no-effect warning"

test_case "GIT_CLONE_PATH on a shell runner: refused unless custom_build_dir is enabled"
clone_var=', "variables": [{"key": "GIT_CLONE_PATH", "value": "$CI_BUILDS_DIR/custom/place", "public": true, "masked": false}]'
id=$(job "$clone_var")
run_single --max-builds 1 --clone-url "http://127.0.0.1:$port"
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_configuration_error "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" 'ERROR: Job failed: setting GIT_CLONE_PATH is not allowed, enable `custom_build_dir` feature' "the reason"
expect_not_contains "$T_DIR/trace" "from the mirror" "a script that ran"

test_case "GIT_CLONE_PATH with custom_build_dir enabled: cloned there, CI_PROJECT_DIR says so"
id=$(job "$clone_var" '["cat README", "pwd", "echo dir=$CI_PROJECT_DIR"]')
run_single --max-builds 1 --clone-url "http://127.0.0.1:$port" --custom_build_dir-enabled
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "dir=$T_DIR/builds/custom/place" "CI_PROJECT_DIR"
[ -f "$T_DIR/builds/custom/place/README" ] || fail "nothing cloned into the custom path"

test_case "GIT_CLONE_PATH outside builds_dir: refused even when enabled"
id=$(job ', "variables": [{"key": "GIT_CLONE_PATH", "value": "'"$T_DIR"'/elsewhere", "public": true, "masked": false}]')
run_single --max-builds 1 --clone-url "http://127.0.0.1:$port" --custom_build_dir-enabled
job_trace "$id" "$T_DIR/trace"
expect_eq runner_configuration_error "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "ERROR: Job failed: the GIT_CLONE_PATH=\"$T_DIR/elsewhere\" has to be within \"$T_DIR/builds\"" "the reason"
[ ! -e "$T_DIR/elsewhere" ] || fail "the refused path was made"

test_case "safe_directory_checkout: a worktree another user owns is fetched (git config --global safe.directory)"
# As gitlab-runner's shells/abstract.go: before the fetch, for clone and
# fetch; off by default for shell.  HOME is the test's, so its global
# git config is the one written.
if [ "$(id -u)" != 0 ] || ! id nobody >/dev/null 2>&1; then
	skip_case "needs root and a user 'nobody' to own the worktree"
else
	mkdir -p "$T_DIR/home"
	fetch_job() {
		enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "fetch",
		  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/owned",
		  "payload": {"git_info": {"repo_url": "http://127.0.0.1:'"$port"'/acme/widget.git",
		     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
		  "script": ["cat README"]}'
	}
	id=$(fetch_job)
	HOME=$T_DIR/home run_single --max-builds 1
	expect_eq success "$(job_field "$id" 'd["status"]')" "first fetch"
	owned=$(ls -d "$T_DIR"/builds/*/0/acme/owned)
	chown -R nobody "$owned"
	id=$(fetch_job)
	HOME=$T_DIR/home run_single --max-builds 1
	job_trace "$id" "$T_DIR/trace"
	expect_eq failed "$(job_field "$id" 'd["status"]')" "fetch without safe.directory"
	expect_contains "$T_DIR/trace" "dubious ownership" "git's refusal"
	id=$(fetch_job)
	HOME=$T_DIR/home run_single --max-builds 1 --safe-directory-checkout
	job_trace "$id" "$T_DIR/trace"
	expect_eq success "$(job_field "$id" 'd["status"]')" "fetch with safe_directory_checkout ($(tail -c 600 "$T_DIR/trace"))"
	expect_eq "$owned" "$(HOME=$T_DIR/home git config --global --get-all safe.directory)" "the global entry"
fi

t_finish
