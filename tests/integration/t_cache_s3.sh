#!/usr/bin/env bash
# The distributed cache ([runners.cache] Type = "s3") through the real
# binary, against tests/objstore/objstore.py, which checks every request's
# SigV4 pre-signed URL with the same credentials: job 1 saves, job 2 with
# fresh builds and cache directories restores from the object store,
# fallback keys, a 404 for a missing key, a wrong secret key (403: warning,
# the job goes on), the Shared and Path layout, MaxUploadedArchiveSize
# (t_cache_s3_auth.sh: encryption headers and IAM credentials).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

start_cache_s3

test_case "job 1 saves the cache to the object store"
write_config "$SK"
id=$(cache_job k1 pull-push '["mkdir -p vendor", "echo s3-cached-content > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Creating cache k1..." "creating notice"
expect_contains "$T_DIR/trace" "Uploading cache.zip to http://$OBJ_ADDR/cache/runner/$SHORT/project/" "upload notice"
expect_contains "$T_DIR/trace" "Created cache" "created notice"
expect_not_contains "$T_DIR/trace" "X-Amz-Signature" "no signature in the log"
obj=$(find "$PREFIX" -path '*/k1' -type f)
[ -n "$obj" ] || fail "no object k1 under $PREFIX: $(find "$OBJ")"
unzip -p "$obj" vendor/lib.txt >"$T_DIR/content" || fail "object is not the cache zip"
expect_eq s3-cached-content "$(cat "$T_DIR/content")" "archived content"
expect_contains "$T_DIR/objstore.log" "PUT /cache/runner/$SHORT/project/" "signed PUT accepted"
# gitlab-runner's metadata, signed (the store refuses unsigned x-amz-*).
grep -q "^PUT /cache/runner/$SHORT/project/.*/k1 -> 200 .* meta cachekey=k1$" "$T_DIR/objstore.log" ||
	fail "no x-amz-meta-cachekey: $(grep '^PUT' "$T_DIR/objstore.log")"

test_case "job 2 restores it from the object store"
id=$(cache_job k1 pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Checking cache for k1..." "checking notice"
expect_contains "$T_DIR/trace" "Downloading cache.zip from http://$OBJ_ADDR/cache/runner/$SHORT/project/" "download notice"
expect_contains "$T_DIR/trace" "Successfully extracted cache" "extracted"
expect_contains "$T_DIR/trace" "s3-cached-content" "restored content"
expect_contains "$T_DIR/trace" "Not uploading cache k1 due to policy" "pull policy"

test_case "a missing key is a 404: the fallback key is used"
id=$(cache_job no-such-key pull '["cat vendor/lib.txt"]' '"k1"')
run_job "$id"
expect_contains "$T_DIR/trace" "Checking cache for no-such-key..." "first key"
expect_contains "$T_DIR/trace" "No cache at http://$OBJ_ADDR/cache/runner/$SHORT/project/" "404 warning"
expect_contains "$T_DIR/trace" "404 Not Found" "404 status"
expect_contains "$T_DIR/trace" "Failed to extract cache" "first key failed"
expect_contains "$T_DIR/trace" "Checking cache for k1..." "fallback key"
expect_contains "$T_DIR/trace" "s3-cached-content" "restored from the fallback"
expect_contains "$T_DIR/objstore.log" "NoSuchKey" "the store answered 404"

test_case "a wrong secret key: 403 warnings, the job goes on"
write_config "not-the-secret"
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
before=$(cat "$obj" | cksum)
run_job "$id"
expect_contains "$T_DIR/trace" "Downloading cache from http://$OBJ_ADDR/cache/runner/$SHORT/project/" "download warning"
expect_contains "$T_DIR/trace" "403 Forbidden" "403 status"
expect_contains "$T_DIR/trace" "Failed to extract cache" "restore warning"
expect_contains "$T_DIR/trace" "RESULT-none" "script ran without the cache"
expect_not_contains "$T_DIR/trace" "RESULT-restored" "nothing restored"
expect_contains "$T_DIR/trace" "Uploading cache to http://$OBJ_ADDR/" "upload warning"
expect_contains "$T_DIR/trace" "Failed to create cache" "archive warning"
expect_contains "$T_DIR/objstore.log" "SignatureDoesNotMatch" "the store refused the signature"
expect_eq "$before" "$(cat "$obj" | cksum)" "object unchanged"

test_case "Shared and Path: project/<id>/<key> under the path, no runner namespace"
write_config "$SK" 'Path = "team/ci"' 'Shared = true'
id=$(cache_job shared-key pull-push '["mkdir -p vendor", "echo shared > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
obj2=$(find "$OBJ/cache/team/ci/project" -path '*/shared-key' -type f)
[ -n "$obj2" ] || fail "no shared object: $(find "$OBJ")"
[ -z "$(find "$OBJ/cache/team/ci" -path '*/runner/*')" ] || fail "runner namespace used for a shared cache"
id=$(cache_job shared-key pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "shared" "restored the shared cache"
expect_contains "$T_DIR/trace" "Downloading cache.zip from http://$OBJ_ADDR/cache/team/ci/project/" "shared URL"

test_case "MaxUploadedArchiveSize: a larger archive is not uploaded"
write_config "$SK" 'MaxUploadedArchiveSize = 100'
id=$(cache_job big-key pull-push '["mkdir -p vendor", "head -c 20000 /dev/urandom > vendor/blob"]')
run_job "$id"
expect_contains "$T_DIR/trace" "is over the maximum uploaded archive size (100 bytes): not uploading it" "skip warning"
expect_contains "$T_DIR/trace" "Created cache" "the local cache is still made"
[ -z "$(find "$OBJ" -path '*/big-key')" ] || fail "big archive was uploaded"
write_config "$SK" 'MaxUploadedArchiveSize = 10000000'
id=$(cache_job big-key pull-push '["mkdir -p vendor", "head -c 20000 /dev/urandom > vendor/blob"]')
run_job "$id"
[ -n "$(find "$OBJ" -path '*/big-key')" ] || fail "archive under the limit not uploaded"

test_case "no BucketLocation: GetBucketLocation first, then URLs for the bucket's region"
BUCKET_LOCATION= write_config "$SK"
grep -q 'BucketLocation = ""' "$T_DIR/config.toml" || fail "config still names a region"
lines=$(wc -l <"$T_DIR/objstore.log")
id=$(cache_job where-key pull-push '["mkdir -p vendor", "echo w > vendor/w.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
tail -n +"$((lines + 1))" "$T_DIR/objstore.log" >"$T_DIR/where.log"
# Each signed URL is preceded by the question (the store answers eu-test-1
# only to a request signed for us-east-1 or eu-test-1, and takes objects
# only signed for eu-test-1): the restore's GET and HEAD URLs and those of
# the key's other FF_HASH_CACHE_KEYS name (t_cache_hash_switch), the PUT.
expect_eq 5 "$(grep -c '^GET /cache -> 200 location eu-test-1$' "$T_DIR/where.log")" "a GetBucketLocation per signed URL"
grep -q "^PUT /cache/runner/$SHORT/project/.*/where-key -> 200" "$T_DIR/where.log" ||
	fail "no PUT signed for eu-test-1: $(cat "$T_DIR/where.log")"
[ -n "$(find "$OBJ" -path '*/where-key')" ] || fail "archive not uploaded"

test_case "no BucketLocation and S3 will not say: a warning in crunner's log, us-east-1"
BUCKET_LOCATION= write_config "not-the-secret"
id=$(cache_job where-key pull '["echo RESULT-$(test -e vendor/w.txt && echo restored || echo none)"]')
run_job "$id"
expect_contains "$T_DIR/run.err" "Failed to detect S3 bucket location, falling back to default region us-east-1: GET http://$OBJ_ADDR/cache?location: 403 Forbidden" "detection warning"
expect_eq 1 "$(grep -c "Downloading cache from http://$OBJ_ADDR/cache/.* failed: 400 Bad Request (code: AuthorizationQueryParametersError, message: bad credential scope)" "$T_DIR/trace")" "the URL was signed for us-east-1"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"

test_case "no Type: the local cache only, no request to the store"
lines=$(wc -l <"$T_DIR/objstore.log")
sed -i '/Type = "s3"/d' "$T_DIR/config.toml"
id=$(cache_job local-only pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
expect_not_contains "$T_DIR/trace" "Uploading cache.zip" "no upload"
expect_eq "$lines" "$(wc -l <"$T_DIR/objstore.log")" "no request to the store"
