#!/usr/bin/env bash
# get_sources with real repositories: over loopback HTTP with the job
# token in the URL (it must never reach the log or .git/config), each
# GIT_STRATEGY, checkout and clean flags, depth and submodules.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

gitc() { git -c user.email=t@example.com -c user.name=tester -c protocol.file.allow=always "$@"; }

# An upstream with two commits, a bare copy served over dumb HTTP.
make_upstream widget.git first second

serve_http "$srv"
port=$HTTP_PORT

# git_job STRATEGY [EXTRA-PAYLOAD-JSON] [SCRIPT-JSON]: queues a job on the
# served repository, with credentials in the URL as GitLab puts them (a
# made-up password: the log must not show it even though nothing masks it).
git_job() {
	local strategy=$1 extra=${2:-} script=${3:-'["cat README", "git rev-parse HEAD", "ls -A"]'}
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "'"$strategy"'",
	  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget",
	  "payload": {"git_info": {"repo_url": "http://gitlab-ci-token:JOBTOKEN@127.0.0.1:'"$port"'/widget.git",
	     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}'"$extra"'},
	  "script": '"$script"'}'
}

test_case "fetch over HTTP with the job token: checked out, token nowhere"
id=$(git_job fetch)
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Fetching changes..." "fetch notice"
expect_contains "$T_DIR/trace" "Created fresh repository." "fresh repository"
expect_contains "$T_DIR/trace" "Checking out ${sha:0:8} as detached HEAD (ref is main)..." "checkout notice"
expect_contains "$T_DIR/trace" "second" "file content"
expect_contains "$T_DIR/trace" "$sha" "commit"
expect_not_contains "$T_DIR/trace" "JOBTOKEN" "token in the log"
expect_not_contains "$T_DIR/run.err" "JOBTOKEN" "token in crunner's log"
proj=$(ls -d "$T_DIR"/builds/*/0/acme/widget)
expect_not_contains "$proj/.git/config" "JOBTOKEN" "token in .git/config"
expect_eq "http://127.0.0.1:$port/widget.git" "$(git -C "$proj" config --get remote.origin.url)" "origin without credentials"
grep -q 'GET /widget.git/info/refs' "$T_DIR/http.log" || fail "the HTTP server was not asked: $(tail -5 "$T_DIR/http.log")"

test_case "fetch from a server that wants the job token: a credential helper answers, no command line shows it, the include goes"
# The server takes only gitlab-ci-token:<job token>; the URL carries another
# password, so success proves the helper (not the URL) answered.  While git
# fetches (0.3 s per request), every process's argv is read.
start_git_auth_server 0.3
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "clone", "ref": "main", "sha": "'"$sha"'",
  "project_path": "acme/authed",
  "payload": {"git_info": {"repo_url": "http://gitlab-ci-token:URLPASSWORD@127.0.0.1:'"$auth_port"'/widget.git",
     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
  "script": ["cat README"]}')
job_token=$(job_field "$id" 'd["token"]')
[ -n "$job_token" ] || fail "no job token"
printf '%s\n' "$job_token" >"$tokfile"
# The patterns in a file: the scanner's own grep must not match itself.
printf '%s\nURLPASSWORD\n' "$job_token" >"$T_DIR/argv-patterns"
: >"$T_DIR/argv-hits"
(
	while [ ! -e "$T_DIR/argv-stop" ]; do
		# One grep over every command line: cheap enough to repeat.
		grep -a -l -F -f "$T_DIR/argv-patterns" /proc/[0-9]*/cmdline 2>/dev/null |
			while read -r f; do
				# A match is a hit even if the process is gone.
				printf '%s: %s\n' "$f" "$(tr '\0' ' ' 2>/dev/null <"$f")"
			done >>"$T_DIR/argv-hits"
		sleep 0.02
	done
) &
scan_pid=$!
run_single --max-builds 1
touch "$T_DIR/argv-stop"
wait "$scan_pid"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"); server: $(tail -5 "$T_DIR/auth.log"))"
expect_contains "$T_DIR/trace" "second" "file content"
grep -q 'auth=ok' "$T_DIR/auth.log" || fail "the server never saw the job token: $(head "$T_DIR/auth.log")"
expect_not_contains "$T_DIR/auth.log" "auth=bad" "a wrong password sent"
[ ! -s "$T_DIR/argv-hits" ] || fail "a command line showed the token: $(sort -u "$T_DIR/argv-hits" | head -5)"
inc=$(ls -d "$T_DIR"/builds/*/0/acme/authed.tmp)
[ ! -e "$inc/git-credentials.conf" ] || fail "git-credentials.conf left after the job: $(cat "$inc/git-credentials.conf")"
authed=$(ls -d "$T_DIR"/builds/*/0/acme/authed)
expect_not_contains "$authed/.git/config" "URLPASSWORD" "URL password in .git/config"
expect_not_contains "$authed/.git/config" "$job_token" "job token in .git/config"

test_case "fetch again: the repository is reused and cleaned"
echo junk >"$proj/untracked.txt"
id=$(git_job fetch)
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_not_contains "$T_DIR/trace" "Created fresh repository." "reused repository"
[ ! -e "$proj/untracked.txt" ] || fail "git clean did not remove an untracked file"

test_case "GIT_CLEAN_FLAGS=none keeps untracked files"
echo keep >"$proj/keep.txt"
id=$(git_job fetch ', "variables": [{"key": "GIT_CLEAN_FLAGS", "value": "none", "public": true, "masked": false}]')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
[ -e "$proj/keep.txt" ] || fail "keep.txt was cleaned"

test_case "clone starts from an empty directory"
echo marker >"$proj/.git/marker"
id=$(git_job clone)
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Created fresh repository." "fresh repository"
[ ! -e "$proj/.git/marker" ] || fail "clone reused the old .git"

test_case "GIT_CHECKOUT=false fetches but does not check out"
rm -rf "$proj"
id=$(git_job fetch ', "variables": [{"key": "GIT_CHECKOUT", "value": "false", "public": true, "masked": false}]' '["test ! -e README && echo no-checkout"]')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Skipping Git checkout" "notice"
expect_contains "$T_DIR/trace" "no-checkout" "no files"

test_case "empty gives an empty directory, none leaves it alone"
id=$(git_job empty '' '["ls -A | wc -l"]')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "creating an empty build directory" "notice"
grep -qx "$(printf '.*01O 0')" "$T_DIR/trace" || grep -q '^0$' "$T_DIR/trace" || fail "directory not empty: $(tail -c 400 "$T_DIR/trace")"
touch "$proj/left-alone"
id=$(git_job none '' '["ls"]')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Skipping Git repository setup" "notice"
expect_contains "$T_DIR/trace" "left-alone" "directory untouched"

test_case "depth: a shallow fetch of one commit (file:// transport)"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "clone", "ref": "main", "sha": "'"$sha"'",
  "payload": {"git_info": {"repo_url": "file://'"$srv"'/widget.git", "depth": 1,
     "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
  "script": ["git rev-list --count HEAD"]}')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Fetching changes with git depth set to 1..." "depth notice"
grep -q ' 01O 1$' "$T_DIR/trace" || fail "history is not one commit deep: $(tail -c 400 "$T_DIR/trace")"

test_case "submodules: normal strategy checks out the submodule"
gitc init -q -b main "$T_DIR/lib"
echo "library" >"$T_DIR/lib/LIB"
gitc -C "$T_DIR/lib" add LIB && gitc -C "$T_DIR/lib" commit -q -m lib
git clone -q --bare "$T_DIR/lib" "$srv/lib.git"
gitc -C "$T_DIR/up" submodule add -q "file://$srv/lib.git" vendor/lib
gitc -C "$T_DIR/up" commit -q -m "add submodule"
git -C "$T_DIR/up" push -q "$srv/widget.git" main
sha2=$(git -C "$T_DIR/up" rev-parse HEAD)
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "clone", "ref": "main", "sha": "'"$sha2"'",
  "variables": [{"key": "GIT_SUBMODULE_STRATEGY", "value": "normal", "public": true, "masked": false},
                {"key": "GIT_CONFIG_COUNT", "value": "1", "public": true, "masked": false},
                {"key": "GIT_CONFIG_KEY_0", "value": "protocol.file.allow", "public": true, "masked": false},
                {"key": "GIT_CONFIG_VALUE_0", "value": "always", "public": true, "masked": false}],
  "payload": {"git_info": {"repo_url": "file://'"$srv"'/widget.git", "depth": 0,
     "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
  "script": ["cat vendor/lib/LIB"]}')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Updating/initializing submodules..." "notice"
expect_contains "$T_DIR/trace" "library" "submodule content"

test_case "a fetch failure fails the job with the git error in the log"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "fetch", "ref": "main", "sha": "'"$sha"'",
  "payload": {"git_info": {"repo_url": "http://127.0.0.1:'"$port"'/missing.git", "depth": 0, "refspecs": []}},
  "script": ["echo never"]}')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_not_contains "$T_DIR/trace" "$(printf '01O never')" "script after a failed fetch"

test_case "GET_SOURCES_ATTEMPTS=3 without back-off: three tries, clear_worktree once, then the job fails"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "fetch", "ref": "main", "sha": "'"$sha"'",
  "variables": [{"key": "GET_SOURCES_ATTEMPTS", "value": "3", "public": true, "masked": false},
                {"key": "FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY", "value": "false", "public": true, "masked": false}],
  "payload": {"git_info": {"repo_url": "http://127.0.0.1:'"$port"'/missing.git", "depth": 0, "refspecs": []}},
  "script": ["echo never"]}')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq 3 "$(grep -c 'section_start:[0-9]*:get_sources' "$T_DIR/trace")" "get_sources sections"
expect_eq 1 "$(grep -c 'section_start:[0-9]*:clear_worktree' "$T_DIR/trace")" "clear_worktree sections"
expect_contains "$T_DIR/trace" "Deleting all tracked and untracked files due to source fetch failure" "clear_worktree header"
expect_not_contains "$T_DIR/trace" "Retrying in" "back-off with the feature flag off"

test_case "GET_SOURCES_ATTEMPTS=2: a fetch that fails once succeeds after the 5 s back-off"
( for _ in $(seq 300); do
	grep -q 'flaky.git/info/refs' "$T_DIR/http.log" && break
	sleep 0.1
  done
  cp -r "$srv/widget.git" "$srv/flaky.git" ) &
copier=$!
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "fetch", "ref": "main", "sha": "'"$sha"'",
  "variables": [{"key": "GET_SOURCES_ATTEMPTS", "value": "2", "public": true, "masked": false}],
  "payload": {"git_info": {"repo_url": "http://127.0.0.1:'"$port"'/flaky.git", "depth": 0,
     "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
  "script": ["cat README"]}')
started=$(date +%s%N)
run_single --max-builds 1
took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
wait $copier
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Retrying in 5s" "back-off line"
expect_eq 2 "$(grep -c 'section_start:[0-9]*:get_sources' "$T_DIR/trace")" "get_sources sections"
expect_contains "$T_DIR/trace" "second" "checked out after the retry"
[ "$took_ms" -ge 5000 ] || fail "the retry came after ${took_ms} ms, before the 5 s back-off"

echo "t_git: all cases passed"
