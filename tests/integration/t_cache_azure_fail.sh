#!/usr/bin/env bash
# The Azure cache when the storage account answers 5xx, against Azurite
# behind tests/azurite/faulty_front.py (503 ServerBusy on purpose): two
# 503 answers are retried and the cache is restored; 503 on every attempt
# is three attempts a transfer, one line each way, and the job goes on
# without the cache (no local fallback: only a missing blob falls back).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_azure_lib.sh"

start_cache_azure

test_case "a first job saves the cache"
write_config "$KEY"
id=$(cache_job k1 pull-push '["mkdir -p vendor", "echo azure-cached-content > vendor/lib.txt"]')
run_job "$id" keep-cache
expect_contains "$T_DIR/trace" "Created cache" "created notice"

test_case "503 ServerBusy twice: retried, then restored"
# The first two answers go to the HEADs that choose between the key's two
# FF_HASH_CACHE_KEYS names (t_cache_hash_switch): the GET gets the next two.
start_front flaky 4
AZ_PORT=$FRONT_flaky write_config "$KEY"
id=$(cache_job k1 pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "azure-cached-content" "restored after the retries"
expect_eq 2 "$(grep -c "^GET .* -> 503 ServerBusy" "$T_DIR/flaky.log")" "two 503 answers"
expect_eq 1 "$(grep -c "^GET .* -> 200" "$T_DIR/flaky.log")" "then Azurite's answer"
expect_eq 2 "$(grep -c "Retrying in 1 s (attempt [23] of 3): 503 Service Unavailable (code: ServerBusy" "$T_DIR/trace")" "a plain line per retry"
expect_not_contains "$T_DIR/trace" "failed:" "no failure line"

test_case "503 on every attempt: one line each way, no local fallback"
start_front down 1000
AZ_PORT=$FRONT_down write_config "$KEY"
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
# The local cache file from the first job is there: a 503 must not
# restore it (gitlab-runner's extractor fails before the local archive).
run_job "$id" keep-cache
URL=https://$ACCOUNT.localhost:$FRONT_down/$CONTAINER/$BLOB
expect_eq 1 "$(grep -c "Downloading cache from $URL/.* failed: 503 Service Unavailable (code: ServerBusy" "$T_DIR/trace")" "one download line"
expect_eq 1 "$(grep -c "Uploading cache to $URL/.* failed: 503 Service Unavailable (code: ServerBusy" "$T_DIR/trace")" "one upload line"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored, not even the local file"
expect_eq 3 "$(grep -c "^GET .* -> 503" "$T_DIR/down.log")" "three GET attempts"
expect_eq 3 "$(grep -c "^PUT .* -> 503" "$T_DIR/down.log")" "three PUT attempts"

t_finish
