#!/usr/bin/env bash
# The Azure cache with bad account keys, against Azurite (see
# t_cache_azure.sh): a wrong key is one warning per transfer (Azurite
# answers 403) and the job goes on with the blob untouched; an unreachable
# endpoint is one line per transfer; a key that is not base64 is one
# warning and the local cache only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_azure_lib.sh"

start_cache_azure

test_case "a first job saves the cache"
write_config "$KEY"
id=$(cache_job k1 pull-push '["mkdir -p vendor", "echo azure-cached-content > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created notice"
name=$(sed -n "s|.*Uploading cache.zip to $URL/\([^ ]*\).*|\1|p" "$T_DIR/trace" | head -1 | tr -d '\r')
case $name in */k1) ;; *) fail "object name does not end in /k1: '$name'" ;; esac
azblob get "$CONTAINER" "$BLOB/$name" "$T_DIR/blob.zip" || fail "the Shared Key client cannot read $BLOB/$name"

test_case "a wrong account key: one warning per transfer, the job goes on"
write_config "$WRONG_KEY"
cp "$T_DIR/blob.zip" "$T_DIR/blob.before"
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from $URL/.* failed: 403" "$T_DIR/trace")" "one download warning"
expect_contains "$T_DIR/trace" "Failed to extract cache" "restore warning"
expect_contains "$T_DIR/trace" "RESULT-none" "script ran without the cache"
expect_eq 1 "$(grep -c "Uploading cache to $URL/.* failed: 403" "$T_DIR/trace")" "one upload warning"
expect_contains "$T_DIR/trace" "Failed to create cache" "archive warning"
grep -q 'AuthorizationFailure\|AuthenticationFailed\| 403' "$T_DIR/azurite.log" ||
	fail "Azurite did not refuse the signature: $(tail -3 "$T_DIR/azurite.log")"
azblob get "$CONTAINER" "$BLOB/$name" "$T_DIR/blob.after" || fail "blob gone"
cmp -s "$T_DIR/blob.before" "$T_DIR/blob.after" || fail "the blob changed under a wrong key"

test_case "an unreachable storage endpoint: one line per transfer, the job goes on"
AZ_PORT=1 write_config "$KEY"
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from https://$ACCOUNT.localhost:1/$CONTAINER/.* failed: " "$T_DIR/trace")" "one download line"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"
expect_eq 1 "$(grep -c "Uploading cache to https://$ACCOUNT.localhost:1/$CONTAINER/.* failed: " "$T_DIR/trace")" "one upload line"

test_case "an account key that is not base64: one warning, the local cache still works"
write_config "not base64!"
id=$(cache_job bad-key pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Cannot use the distributed cache: creating Azure signature: the account key is not base64" "key warning"
expect_contains "$T_DIR/trace" "Created cache" "local cache made"
expect_not_contains "$T_DIR/trace" "Uploading cache.zip" "no upload"

t_finish
