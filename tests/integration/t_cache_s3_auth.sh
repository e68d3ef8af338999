#!/usr/bin/env bash
# The S3 cache's signing extras through the real binary, against
# tests/objstore/objstore.py: server-side encryption headers signed into
# the PUT and seen by the store, and IAM credentials (no keys in
# config.toml) from a fake IMDSv2 (tests/objstore/fake_imds.py) on
# loopback, reached through AWS_EC2_METADATA_SERVICE_ENDPOINT.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

start_cache_s3

test_case "ServerSideEncryption: the signed SSE headers reach the store"
write_config "$SK"
printf '      ServerSideEncryption = "KMS"\n      ServerSideEncryptionKeyID = "alias/crunner-cache"\n' >>"$T_DIR/config.toml"
id=$(cache_job sse-key pull-push '["mkdir -p vendor", "echo encrypted > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
grep -q "^PUT /cache/runner/$SHORT/project/.*/sse-key -> 200 .* sse=aws:kms kms-key-id=alias/crunner-cache meta cachekey=sse-key$" "$T_DIR/objstore.log" ||
	fail "no KMS headers on the PUT: $(grep PUT "$T_DIR/objstore.log" | tail -2)"
id=$(cache_job sse-key pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "encrypted" "restored the encrypted cache"
write_config "$SK"
printf '      ServerSideEncryption = "S3"\n' >>"$T_DIR/config.toml"
id=$(cache_job sse-s3-key pull-push '["mkdir -p vendor", "echo s3 > vendor/lib.txt"]')
run_job "$id"
grep -q "^PUT /cache/runner/$SHORT/project/.*/sse-s3-key -> 200 .* sse=AES256 meta cachekey=sse-s3-key$" "$T_DIR/objstore.log" ||
	fail "no AES256 header on the PUT: $(grep PUT "$T_DIR/objstore.log" | tail -2)"
write_config "$SK"
printf '      ServerSideEncryption = "rot13"\n' >>"$T_DIR/config.toml"
id=$(cache_job sse-bad pull-push '["mkdir -p vendor", "echo x > vendor/lib.txt"]')
run_job "$id"
# As gitlab-runner: a warning in the runner's log, an upload without SSE.
expect_contains "$T_DIR/run.err" "unknown ServerSideEncryption value: rot13" "unknown SSE warning"
grep -q "^PUT /cache/runner/$SHORT/project/.*/sse-bad -> 200 [0-9]* bytes meta cachekey=sse-bad$" "$T_DIR/objstore.log" ||
	fail "not uploaded without SSE: $(grep PUT "$T_DIR/objstore.log" | tail -2)"

test_case "IAM: instance-profile credentials from IMDSv2, session token signed"
# A second store that knows only the instance profile's keys and token.
IAM_AK=ASIACRUNNERIAMTEST01
IAM_SK=iam/instance+profile/secret
IAM_TOKEN=FwoGZXIvYXdzEIAM-session-token/crunner+test==
"$PYTHON" "$CR_SOURCE_DIR/tests/objstore/objstore.py" --dir "$T_DIR/iam-objects" \
	--access-key "$IAM_AK" --secret-key "$IAM_SK" --session-token "$IAM_TOKEN" \
	--bucket cache --region eu-test-1 --port 0 --port-file "$T_DIR/iam-store.port" \
	>/dev/null 2>"$T_DIR/iam-store.log" &
IAM_STORE_PID=$!
test_when_finished "kill $IAM_STORE_PID 2>/dev/null; wait $IAM_STORE_PID 2>/dev/null"
"$PYTHON" "$CR_SOURCE_DIR/tests/objstore/fake_imds.py" --access-key "$IAM_AK" \
	--secret-key "$IAM_SK" --session-token "$IAM_TOKEN" --port 0 \
	--port-file "$T_DIR/imds.port" >/dev/null 2>"$T_DIR/imds.log" &
IMDS_PID=$!
test_when_finished "kill $IMDS_PID 2>/dev/null; wait $IMDS_PID 2>/dev/null"
wait_for_port_file "$T_DIR/iam-store.port" "IAM store" "$T_DIR/iam-store.log"
wait_for_port_file "$T_DIR/imds.port" "fake IMDS" "$T_DIR/imds.log"
IAM_ADDR=127.0.0.1:$(cat "$T_DIR/iam-store.port")
cat >"$T_DIR/config.toml" <<TOML
concurrent = 1
[[runners]]
  name = "s3"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  cache_dir = "$T_DIR/cache"
  [runners.cache]
    Type = "s3"
    [runners.cache.s3]
      ServerAddress = "$IAM_ADDR"
      BucketName = "cache"
      BucketLocation = "eu-test-1"
      Insecure = true
TOML
export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(cat "$T_DIR/imds.port")
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_EC2_METADATA_DISABLED
id=$(cache_job iam-key pull-push '["mkdir -p vendor", "echo via-instance-profile > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
expect_not_contains "$T_DIR/trace" "X-Amz-Security-Token" "no token in the log"
grep -q "^PUT /cache/runner/$SHORT/project/.*/iam-key -> 200" "$T_DIR/iam-store.log" ||
	fail "the IAM-signed PUT was not accepted: $(tail -3 "$T_DIR/iam-store.log")"
expect_contains "$T_DIR/imds.log" "PUT /latest/api/token -> 200 ttl=21600" "IMDSv2 session token"
expect_contains "$T_DIR/imds.log" "GET /latest/meta-data/iam/security-credentials/crunner-cache-role -> 200 token ok" "credentials with the token"
expect_not_contains "$T_DIR/imds.log" "no session token" "every GET carried the token"
id=$(cache_job iam-key pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "via-instance-profile" "restored with IAM credentials"
# Fresh credentials for every URL: a restore's GET and HEAD URLs and those
# of the key's other FF_HASH_CACHE_KEYS name (t_cache_hash_switch), in
# both jobs, and job 1's PUT.
expect_eq 9 "$(grep -c "PUT /latest/api/token -> 200" "$T_DIR/imds.log")" "a token per signed URL"

test_case "IAM without a metadata service: one warning, the local cache only"
export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1
id=$(cache_job iam-down pull-push '["mkdir -p vendor", "echo x > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Cannot use the distributed cache: cannot reach the instance metadata service at http://127.0.0.1:1/latest/api/token" "IMDS warning"
expect_contains "$T_DIR/trace" "Created cache" "local cache made"
unset AWS_EC2_METADATA_SERVICE_ENDPOINT
write_config "$SK"

t_finish
