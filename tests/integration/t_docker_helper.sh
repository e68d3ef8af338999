#!/usr/bin/env bash
# The docker executor's helper container (crunner-helper, built from the
# crunner under test) against a real Docker engine: a real clone over
# loopback HTTP into the build volume for a job image without git, a cache
# archived and restored through the helper (kept in [runners.docker]
# cache_dir on this host), artifacts uploaded and a dependency downloaded
# by the helper talking to the coordinator itself; a second fetch job
# reuses the kept build volume; a builds_dir on a host volume gives the
# shared layout on this host (what crunner exec needs); nothing of a job's
# own is left.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dhe
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

# An upstream repository served over dumb HTTP on loopback.
make_upstream widget.git "from-the-repository"
serve_http "$srv"
port=$HTTP_PORT

# git_job STRATEGY SCRIPT-JSON [EXTRA-PAYLOAD-JSON]
git_job() {
	printf '%s' '{"runner": "'"$TOKEN"'", "git_strategy": "'"$1"'",
	  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget",
	  "payload": {"git_info": {"repo_url": "http://gitlab-ci-token:JOBTOKEN@127.0.0.1:'"$port"'/widget.git",
	     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}'"${3:-}"'},
	  "script": '"$2"'}'
}

CACHE='"cache": [{"key": "dk1", "paths": ["c/"], "policy": "pull-push", "when": "on_success",
                  "untracked": false, "fallback_keys": []}]'
ART='"artifacts": [{"name": "out", "untracked": false, "paths": ["out/"], "when": "on_success",
                   "expire_in": "1 day", "artifact_type": "archive", "artifact_format": "zip"}]'

test_case "clone, cache and artifacts by the helper; the job's image has no git"
write_config 'network_mode = "host"' "cache_dir = \"$T_DIR/hostcache\""
run_job "$(git_job clone '["command -v git || echo no-git-here", "cat README",
  "mkdir -p c out && echo cached-bytes > c/f && echo art-bytes > out/a.txt"]' ", $CACHE, $ART")"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "no-git-here" "busybox image without git"
expect_contains "$T_DIR/trace" "Created fresh repository." "clone by the helper"
expect_contains "$T_DIR/trace" "from-the-repository" "checked out into the build volume"
expect_not_contains "$T_DIR/trace" "JOBTOKEN" "token in the log"
grep -q 'GET /widget.git/info/refs' "$T_DIR/http.log" || fail "the HTTP server was not asked"
expect_contains "$T_DIR/trace" "Created cache" "cache archived"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "archive" to coordinator... 201 Created' "artifact upload"
expect_eq 1 "$(job_field "$id" 'len(d["artifacts"])')" "artifacts stored"
zip=$(find "$T_DIR/hostcache" -name cache.zip | head -1)
[ -n "$zip" ] || fail "no cache.zip under [runners.docker] cache_dir: $(find "$T_DIR/hostcache" | head)"
# <cache_dir>/<unique name>/<md5 of the container path /cache>/<project>/<key>
expect_eq "$T_DIR/hostcache/runner-$SHORT_LC-project-42-concurrent-0/$(printf /cache | md5sum | cut -c1-32)/acme/widget/dk1/cache.zip" \
	"$zip" "where the cache is kept"
# The shell probe, then prepare_script, get_sources and restore_cache in
# the helper, step_script in the job's image, then archive_cache and
# upload_artifacts_on_success in the helper (no file variables: no
# container for cleanup_file_variables).
expect_eq "build predefined predefined predefined build predefined predefined" \
	"$(created_types_of "$id")" "which container ran each stage"
expect_nothing_left "$id"
first=$id

# helper_image expands the runner's variables only, never the job's.
test_case "the next job restores the cache and gets the artifacts as a dependency"
write_config 'network_mode = "host"' "cache_dir = \"$T_DIR/hostcache\""
sed -i "s|helper_image = \"$HELPER_IMAGE\"|helper_image = \"$HELPER_IMAGE\${HELPER_TAG}\${CI_RUNNER_NOPE}\"|" "$T_DIR/config.toml"
grep -q 'HELPER_TAG' "$T_DIR/config.toml" || fail "sed did not apply: $(cat "$T_DIR/config.toml")"
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "project_path": "acme/widget",
  "variables": [{"key": "HELPER_TAG", "value": "-from-the-job", "public": true}],
  "payload": {'"$CACHE"', "dependencies": [{"id": '"$first"', "name": "build"}]},
  "script": ["cat c/f", "cat out/a.txt"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Successfully extracted cache" "cache restored"
expect_contains "$T_DIR/trace" "cached-bytes" "cache content"
expect_contains "$T_DIR/trace" "Downloading artifacts from coordinator... ok" "dependency downloaded"
expect_contains "$T_DIR/trace" "art-bytes" "artifact content"
expect_nothing_left "$id"

test_case "GIT_STRATEGY fetch keeps the build volume for the next job; bash image"
write_config 'network_mode = "host"'
run_job "$(git_job fetch '["echo bash=$BASH_VERSION", "cat README"]' ', "image": {"name": "'"$BASH_IMAGE"'"}')"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "bash=5." "bash image"
expect_contains "$T_DIR/trace" "from-the-repository" "fetched"
kept=runner-$SHORT_LC-project-42-concurrent-0-cache-$(printf /builds | md5sum | cut -c1-32)
dapi "/volumes/$kept" | grep -q '"Name"' || fail "no kept build volume '$kept'"
run_job "$(git_job fetch '["cat README"]' ', "image": {"name": "'"$BASH_IMAGE"'"}')"
expect_eq success "$(job_field "$id" 'd["status"]')" "second job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Fetching changes..." "fetch"
expect_not_contains "$T_DIR/trace" "Created fresh repository." "the second fetch found the first's repository"
expect_nothing_left "$id"

# gitlab-runner's default when GitLab allows fetch (the fake does): the
# engine resolves it, and the volume follows what the engine resolved.
test_case "GIT_STRATEGY unset (fetch by default) keeps the build volume too"
curl -sS --unix-socket "$SOCK" -X DELETE "http://docker/volumes/$kept" >/dev/null
dapi "/volumes/$kept" | grep -q '"Name"' && fail "could not remove '$kept' before the case"
write_config 'network_mode = "host"'
run_job "$(git_job "" '["cat README"]')"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Created fresh repository." "the first job clones into an empty volume"
dapi "/volumes/$kept" | grep -q '"Name"' || fail "no kept build volume '$kept' with GIT_STRATEGY unset"
run_job "$(git_job "" '["cat README"]')"
expect_eq success "$(job_field "$id" 'd["status"]')" "second job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Fetching changes..." "fetch"
expect_not_contains "$T_DIR/trace" "Created fresh repository." "the second job found the first's repository"
expect_nothing_left "$id"

test_case "builds_dir on a host volume: shared layout on this host, no build volume"
mkdir -p "$T_DIR/hb"
write_config "runners.builds_dir = \"$T_DIR/hb\"" "volumes = [\"$T_DIR/hb:$T_DIR/hb\"]" 'disable_cache = true'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "project_path": "acme/widget",
  "script": ["echo pwd=$PWD", "echo made-in-container > made.txt"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "pwd=$T_DIR/hb/$SHORT/0/acme/widget" "gitlab-runner's shared layout"
expect_eq made-in-container "$(cat "$T_DIR/hb/$SHORT/0/acme/widget/made.txt" 2>/dev/null)" "the file on this host"
expect_eq "" "$(volumes_with "job.id=$id")" "no volume with disable_cache and a host builds dir"
expect_nothing_left "$id"

echo "ok: $T_NAME"
