#!/usr/bin/env bash
# The local cache through the real binary: saved by one job, restored by
# the next, fallback keys, pull-only policy, corrupt archives, reuse of an
# unchanged archive, keys that try to leave the cache directory.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"
CACHE=$T_DIR/cache

# cache_job KEY POLICY SCRIPT [EXTRA-CACHE-JSON]: queues a job with one cache entry.
cache_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": '"$3"',
  "payload": {"cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "'"$2"'", "when": "on_success", "fallback_keys": ['"${4:-}"']}]}}'
}

run_cached() {
	run_single --max-builds 1 --cache-dir "$CACHE"
	expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
}

test_case "cache saved by job 1 and restored by job 2"
id=$(cache_job k1 pull-push '["mkdir -p vendor", "echo cached-content > vendor/lib.txt"]')
run_cached
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job 1 status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Saving cache for successful job" "archive stage"
expect_contains "$T_DIR/trace" "Creating cache k1..." "creating notice"
expect_contains "$T_DIR/trace" "Created cache" "created notice"
zip=$(find "$CACHE" -path '*/k1/cache.zip')
[ -n "$zip" ] || fail "no cache.zip under $CACHE: $(find "$CACHE")"
id=$(cache_job k1 pull-push '["cat vendor/lib.txt"]')
run_cached
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job 2 status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Restoring cache" "restore stage"
expect_contains "$T_DIR/trace" "Checking cache for k1..." "checking notice"
expect_contains "$T_DIR/trace" "Successfully extracted cache" "extracted notice"
expect_contains "$T_DIR/trace" "cached-content" "restored content"
expect_contains "$T_DIR/trace" "Archive is up to date!" "unchanged archive reused"

test_case "fallback key used when the key has no cache"
id=$(cache_job missing-key pull '["cat vendor/lib.txt"]' '"k1"')
run_cached
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Checking cache for missing-key..." "first key tried"
expect_contains "$T_DIR/trace" "Failed to extract cache" "first key missing"
expect_contains "$T_DIR/trace" "Checking cache for k1..." "fallback key tried"
expect_contains "$T_DIR/trace" "cached-content" "restored from the fallback"

test_case "pull-only policy does not save"
id=$(cache_job k-pull pull '["mkdir -p vendor", "echo x > vendor/lib.txt"]')
run_cached
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Not uploading cache k-pull due to policy" "policy notice"
expect_eq "" "$(find "$CACHE" -path '*/k-pull/*')" "no archive for the pull-only key"

test_case "push-only policy does not restore"
id=$(cache_job k1 push '["test ! -e vendor/lib.txt || echo restored-anyway"]')
run_cached
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "Not downloading cache k1 due to policy" "policy notice"

test_case "a corrupt cache archive warns and the job goes on"
mkdir -p "$(dirname "$zip")/../k-bad"
echo "not a zip" >"$(dirname "$zip")/../k-bad/cache.zip"
id=$(cache_job k-bad pull '["echo script-ran"]')
run_cached
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Failed to extract cache" "warning"
expect_contains "$T_DIR/trace" "script-ran" "script ran"

test_case "a key cannot leave the cache directory"
id=$(cache_job '../../../../escape%2f..%2f..%2fx' pull-push '["mkdir -p vendor", "echo e > vendor/e.txt"]')
run_cached
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Creating cache x..." "sanitised key"
[ -n "$(find "$CACHE" -path '*/x/cache.zip')" ] || fail "sanitised cache not under $CACHE: $(find "$T_DIR" -name cache.zip)"

test_case "trailing white space cannot turn a key into '..' (issue 16)"
before=$(find "$CACHE" -name cache.zip | sort)
for key in '.. ' '%2e%2e\t' '../.. ' 'a/.. /b/..'; do
	id=$(cache_job "$key" pull-push '["mkdir -p vendor", "echo e > vendor/e.txt"]')
	run_cached
	job_trace "$id" "$T_DIR/trace"
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status for '$key' ($(tail -c 1500 "$T_DIR/trace"))"
	expect_contains "$T_DIR/trace" "could not be sanitized" "key '$key' refused"
done
expect_eq "$before" "$(find "$CACHE" -name cache.zip | sort)" "no new archive anywhere"
