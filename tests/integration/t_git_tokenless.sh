#!/usr/bin/env bash
# FF_GIT_URLS_WITHOUT_TOKENS: every stage exports GIT_CONFIG_GLOBAL, a
# file in the job's temporary dir that includes the user's ~/.gitconfig
# and the credential helper, so the script's own git commands against
# GitLab authenticate with the job token that no URL, log or .git/config
# holds, and "git config --global" writes (safe.directory among them)
# stay out of the user's ~/.gitconfig (gitlab-runner's
# setupTokenlessGitConfig).  FF_USE_GIT_PROACTIVE_AUTH adds
# "-c http.<scheme://host>.proactiveAuth=basic" to git fetch.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

make_upstream widget.git "content"

# A server that answers only gitlab-ci-token:<the job's token>.
start_git_auth_server 0
port=$auth_port
plain=http://127.0.0.1:$port/widget.git

# The user's own global config: its alias must still work in the job.
export HOME=$T_DIR/home
mkdir -p "$HOME"
printf '[alias]\n\thello = !echo hello-from-user-config\n' >"$HOME/.gitconfig"
cp "$HOME/.gitconfig" "$T_DIR/gitconfig.before"

# A git on PATH that logs its arguments, then runs the real one.
real_git=$(command -v git)
mkdir -p "$T_DIR/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$*" >>"%s"\nexec "%s" "$@"\n' "$T_DIR/git-args" "$real_git" >"$T_DIR/bin/git"
chmod +x "$T_DIR/bin/git"
export PATH=$T_DIR/bin:$PATH

SCRIPT='["git ls-remote '"$plain"' refs/heads/main", "git hello", "git config --global --add safe.directory /from-the-script", "git config --global --get-all safe.directory", "echo gcg=$GIT_CONFIG_GLOBAL"]'
ff_vars() { # FLAG...
	local f sep=
	printf '"variables": ['
	for f; do
		printf '%s{"key": "%s", "value": "true", "public": true, "masked": false}' "$sep" "$f"
		sep=,
	done
	printf ']'
}
job() { # STRATEGY VARIABLES-JSON
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "'"$1"'",
	  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget", '"$2"',
	  "payload": {"git_info": {"repo_url": "http://gitlab-ci-token:URLPASSWORD@127.0.0.1:'"$port"'/widget.git",
	     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
	  "script": '"$SCRIPT"'}'
}

test_case "default: the script's own git has no credentials for GitLab"
id=$(job none '"variables": []')
printf '%s\n' "$(job_field "$id" 'd["token"]')" >"$tokfile"
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_not_contains "$T_DIR/trace" "$sha" "ls-remote's answer"

test_case "FF_GIT_URLS_WITHOUT_TOKENS, GIT_STRATEGY none: the helper answers, the global config is the job's"
id=$(job none "$(ff_vars FF_GIT_URLS_WITHOUT_TOKENS)")
token=$(job_field "$id" 'd["token"]')
printf '%s\n' "$token" >"$tokfile"
: >"$T_DIR/auth.log"
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"); server: $(tail -3 "$T_DIR/auth.log"))"
expect_contains "$T_DIR/trace" "$sha	refs/heads/main" "ls-remote's answer"
expect_contains "$T_DIR/trace" "hello-from-user-config" "the user's alias"
expect_contains "$T_DIR/trace" "/from-the-script" "safe.directory written"
grep -q '^.*gcg=/.*\.tmp/\.glr\.gconf' "$T_DIR/trace" || fail "GIT_CONFIG_GLOBAL: $(grep gcg= "$T_DIR/trace")"
grep -q 'auth=ok' "$T_DIR/auth.log" || fail "the server never saw the job token: $(cat "$T_DIR/auth.log")"
expect_not_contains "$T_DIR/trace" "$token" "the token in the log"
expect_not_contains "$T_DIR/trace" "URLPASSWORD" "the URL's password in the log"
cmp -s "$HOME/.gitconfig" "$T_DIR/gitconfig.before" || fail "the user's ~/.gitconfig changed: $(cat "$HOME/.gitconfig")"
left=$(find "$T_DIR/builds" -name .glr.gconf -o -name git-credentials.conf)
expect_eq "" "$left" "git config files left after the job"

test_case "FF_GIT_URLS_WITHOUT_TOKENS and FF_USE_GIT_PROACTIVE_AUTH, GIT_STRATEGY fetch"
id=$(job fetch "$(ff_vars FF_GIT_URLS_WITHOUT_TOKENS FF_USE_GIT_PROACTIVE_AUTH)")
token=$(job_field "$id" 'd["token"]')
printf '%s\n' "$token" >"$tokfile"
: >"$T_DIR/git-args"
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "hello-from-user-config" "the user's alias"
expect_not_contains "$T_DIR/trace" "$token" "the token in the log"
proj=$(ls -d "$T_DIR"/builds/*/0/acme/widget)
expect_not_contains "$proj/.git/config" "$token" "the token in .git/config"
expect_not_contains "$proj/.git/config" "URLPASSWORD" "the URL's password in .git/config"
grep -q "^-c http.userAgent=.* -c http.http://127.0.0.1:$port.proactiveAuth=basic fetch origin" "$T_DIR/git-args" ||
	fail "no proactiveAuth for the fetch: $(grep fetch "$T_DIR/git-args")"
cmp -s "$HOME/.gitconfig" "$T_DIR/gitconfig.before" || fail "the user's ~/.gitconfig changed"

test_case "without FF_USE_GIT_PROACTIVE_AUTH: no proactiveAuth"
id=$(job fetch '"variables": []')
printf '%s\n' "$(job_field "$id" 'd["token"]')" >"$tokfile"
: >"$T_DIR/git-args"
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
grep -q "fetch origin" "$T_DIR/git-args" || fail "no fetch logged"
expect_not_contains "$T_DIR/git-args" "proactiveAuth" "proactiveAuth"

echo "t_git_tokenless: all cases passed"
