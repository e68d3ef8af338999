#!/usr/bin/env bash
# Cache feature flags, as gitlab-runner's newCacheConfig and
# addExtractCacheCommand: FF_HASH_CACHE_KEYS stores a cache under the
# SHA-256 of its key (local <hash>/cache.zip; distributed .../<ab>/<hash>,
# sharded by the hash's first two characters) while the log shows the key;
# FF_CLEAN_UP_FAILED_CACHE_EXTRACT removes the entry's paths after a failed
# extraction.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

start_cache_s3

FF_HASH='"variables": [{"key": "FF_HASH_CACHE_KEYS", "value": "true", "public": true, "masked": false}]'
key='feature/Key with spaces'
hash=$(printf '%s' "$key" | sha256sum | cut -c1-64)

# hash_job POLICY SCRIPT [VARIABLES-JSON]
hash_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"${3:-$FF_HASH}"',
  "script": '"$2"',
  "payload": {"cache": [{"key": "'"$key"'", "untracked": false, "paths": ["vendor/"],
     "policy": "'"$1"'", "when": "on_success", "fallback_keys": []}]}}'
}

test_case "FF_HASH_CACHE_KEYS: saved under the key's SHA-256, locally and in the store"
write_config "$SK"
id=$(hash_job pull-push '["mkdir -p vendor", "echo hashed-content > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Creating cache $key..." "the key in the log"
expect_contains "$T_DIR/trace" "Created cache" "created"
local_zip=$(find "$T_DIR/cache" -path "*/$hash/cache.zip")
[ -n "$local_zip" ] || fail "no local $hash/cache.zip: $(find "$T_DIR/cache")"
obj=$(find "$PREFIX" -path "*/${hash:0:2}/$hash" -type f)
[ -n "$obj" ] || fail "no object .../${hash:0:2}/$hash: $(find "$OBJ" -type f)"
grep -q "^PUT /cache/runner/$SHORT/project/[0-9]*/${hash:0:2}/$hash -> 200 .* meta cachekey=$key$" "$T_DIR/objstore.log" ||
	fail "PUT or its cachekey metadata: $(grep '^PUT' "$T_DIR/objstore.log")"
expect_eq "" "$(find "$T_DIR/cache" "$OBJ" -name 'Key with spaces*')" "a file named after the key"

test_case "FF_HASH_CACHE_KEYS: restored from the store by the same key"
id=$(hash_job pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Checking cache for $key..." "the key in the log"
expect_contains "$T_DIR/trace" "Successfully extracted cache" "extracted"
expect_contains "$T_DIR/trace" "hashed-content" "restored content"

test_case "without the flag the key is sanitised and not hashed: the hashed cache is the other name's"
# gitlab-runner 19's compatibility mode (t_cache_hash_switch).
id=$(hash_job pull '["cat vendor/lib.txt"]' '"variables": []')
run_job "$id"
expect_contains "$T_DIR/trace" "Selecting alternate cache URL: primary not available" "the other name"
expect_contains "$T_DIR/trace" "hashed-content" "restored content"

# ---- FF_CLEAN_UP_FAILED_CACHE_EXTRACT, with the local cache ----
# GIT_STRATEGY none keeps the project dir between jobs: a stale vendor/
# is there when the next job's extraction fails.
clean_job() { # VARIABLES-JSON
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$1"',
  "script": ["cat vendor/stale.txt 2>/dev/null || true"],
  "payload": {"cache": [{"key": "never-saved", "untracked": false, "paths": ["vendor/"],
     "policy": "pull", "when": "on_success", "fallback_keys": []}]}}'
}
stale_job() {
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["mkdir -p vendor", "echo stale-file-content > vendor/stale.txt"]}')
	run_single --max-builds 1 --cache-dir "$T_DIR/cache2"
	expect_eq success "$(job_field "$id" 'd["status"]')" "stale job status"
}

test_case "default: a failed extraction leaves the paths alone"
stale_job
id=$(clean_job '"variables": []')
run_single --max-builds 1 --cache-dir "$T_DIR/cache2"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Failed to extract cache" "failed extraction"
expect_not_contains "$T_DIR/trace" "Removing vendor/" "removal"
expect_contains "$T_DIR/trace" "stale-file-content" "the stale file"

test_case "FF_CLEAN_UP_FAILED_CACHE_EXTRACT: the paths go after a failed extraction"
stale_job
id=$(clean_job '"variables": [{"key": "FF_CLEAN_UP_FAILED_CACHE_EXTRACT", "value": "true", "public": true, "masked": false}]')
run_single --max-builds 1 --cache-dir "$T_DIR/cache2"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Failed to extract cache" "failed extraction"
expect_contains "$T_DIR/trace" "Removing vendor/" "removal notice"
expect_not_contains "$T_DIR/trace" "stale-file-content" "the stale file"

echo "t_cache_ff: all cases passed"
