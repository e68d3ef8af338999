#!/usr/bin/env bash
# FF_USE_GIT_NATIVE_CLONE, as gitlab-runner's writeCloneCmdIfPossible:
# with GIT_STRATEGY clone and git 2.49 or later, get_sources runs
# `git clone --no-checkout URL DIR [--depth N] --branch REF` (a "refs/..."
# ref goes as --revision) plus GIT_CLONE_EXTRA_FLAGS instead of git init +
# git fetch; older git, the flag off, or GIT_STRATEGY fetch: init + fetch.
# A git wrapper first on PATH logs every git command the job runs and can
# claim another version (git 2.49 is not installed here; --branch works
# with older git, so the clone itself is real).
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

make_upstream widget.git first second
serve_http "$T_DIR/srv"
port=$HTTP_PORT

real_git=$(command -v git)
mkdir -p "$T_DIR/bin"
cat >"$T_DIR/bin/git" <<SH
#!/bin/sh
if [ "\$1" = version ] && [ -s "$T_DIR/git-version" ]; then
	echo "git version \$(cat "$T_DIR/git-version")"
	exit 0
fi
echo "\$*" >>"$T_DIR/git.log"
exec "$real_git" "\$@"
SH
chmod +x "$T_DIR/bin/git"

url="http://gitlab-ci-token:JOBTOKEN@127.0.0.1:$port/widget.git"
git_job() { # STRATEGY DEPTH VARIABLES-JSON
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "'"$1"'",
	  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget",
	  "variables": '"$3"',
	  "payload": {"git_info": {"repo_url": "'"$url"'",
	     "depth": '"$2"', "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
	  "script": ["cat README", "echo \"commits=$(git rev-list --count HEAD)\"",
	     "echo \"include=$(git config include.path)\"", "echo \"tags=$(git tag | wc -l)\""]}'
}
ff_on='{"key": "FF_USE_GIT_NATIVE_CLONE", "value": "true", "public": true, "masked": false}'

run_job() { # STRATEGY DEPTH VARIABLES-JSON GIT-VERSION
	: >"$T_DIR/git.log"
	printf '%s' "$4" >"$T_DIR/git-version"
	id=$(git_job "$1" "$2" "$3")
	PATH="$T_DIR/bin:$PATH" run_single --max-builds 1
	job_trace "$id" "$T_DIR/trace"
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
	expect_contains "$T_DIR/trace" "second" "the checked-out README"
	expect_not_contains "$T_DIR/trace" "JOBTOKEN" "token nowhere in the log"
	expect_not_contains "$T_DIR/git.log" "JOBTOKEN" "token in no git argv"
}

test_case "on, git 2.49: git clone --no-checkout --branch, no init nor fetch"
gitc -C "$T_DIR/srv/widget.git" tag v1 "$sha"
git -C "$T_DIR/srv/widget.git" update-server-info
run_job clone 0 "[$ff_on]" 2.49.0
expect_contains "$T_DIR/trace" 'Git version at least "2.49"' "the version notice"
expect_contains "$T_DIR/trace" "Cloning repository for main..." "the clone notice"
expect_not_contains "$T_DIR/trace" "Fetching changes" "no fetch notice"
clone=$(grep '^-c .* clone ' "$T_DIR/git.log") || fail "no git clone: $(cat "$T_DIR/git.log")"
case "$clone" in
*" clone --no-checkout http://127.0.0.1:$port/widget.git $T_DIR/builds/"*" --config include.path="*" --branch main") ;;
*) fail "clone argv: $clone" ;;
esac
grep -q '^init\|^-c .* fetch ' "$T_DIR/git.log" && fail "init or fetch ran: $(cat "$T_DIR/git.log")"
expect_contains "$T_DIR/trace" "commits=2" "full history"
expect_contains "$T_DIR/trace" "tags=1" "tags fetched by the clone"
grep -q "include=.*/" "$T_DIR/trace" || fail "the credentials include is not in the clone's config: $(grep include= "$T_DIR/trace")"

test_case "on, git 2.49, depth 1 and GIT_CLONE_EXTRA_FLAGS: --depth 1 and the flags"
url="file://$T_DIR/srv/widget.git" # dumb HTTP cannot make a shallow clone
run_job clone 1 "[$ff_on, {\"key\": \"GIT_CLONE_EXTRA_FLAGS\", \"value\": \"--no-tags --single-branch\", \"public\": true, \"masked\": false}]" 2.49.1
expect_contains "$T_DIR/trace" "Cloning repository for main with git depth set to 1..." "the depth notice"
clone=$(grep '^-c .* clone ' "$T_DIR/git.log") || fail "no git clone: $(cat "$T_DIR/git.log")"
case "$clone" in
*" --depth 1 --branch main --no-tags --single-branch") ;;
*) fail "clone argv: $clone" ;;
esac
expect_contains "$T_DIR/trace" "commits=1" "shallow"
expect_contains "$T_DIR/trace" "tags=0" "--no-tags"

test_case "on, git 2.39 (what is installed here): init + fetch"
url="http://gitlab-ci-token:JOBTOKEN@127.0.0.1:$port/widget.git"
run_job clone 0 "[$ff_on]" 2.39.5
expect_contains "$T_DIR/trace" "Fetching changes..." "the fetch notice"
expect_not_contains "$T_DIR/trace" "Cloning repository" "no clone"
grep -q ' clone ' "$T_DIR/git.log" && fail "git clone ran: $(cat "$T_DIR/git.log")"
grep -q '^init ' "$T_DIR/git.log" || fail "no git init: $(cat "$T_DIR/git.log")"

test_case "on, git 2.100 (fields compared as numbers): clone"
run_job clone 0 "[$ff_on]" 2.100.0
grep -q '^-c .* clone ' "$T_DIR/git.log" || fail "no git clone: $(cat "$T_DIR/git.log")"

test_case "off (the default), git 2.49: init + fetch"
run_job clone 0 '[]' 2.49.0
expect_contains "$T_DIR/trace" "Fetching changes..." "the fetch notice"
grep -q ' clone ' "$T_DIR/git.log" && fail "git clone ran: $(cat "$T_DIR/git.log")"
expect_not_contains "$T_DIR/trace" "Git version at least" "no version check"

test_case "on, GIT_STRATEGY fetch: init + fetch"
run_job fetch 0 "[$ff_on]" 2.49.0
grep -q ' clone ' "$T_DIR/git.log" && fail "git clone ran: $(cat "$T_DIR/git.log")"
grep -q '^-c .* fetch ' "$T_DIR/git.log" || fail "no git fetch: $(cat "$T_DIR/git.log")"

t_finish
