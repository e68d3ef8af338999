#!/usr/bin/env bash
# The GCS cache ([runners.cache] Type = "gcs") through the real binary,
# against tests/gcs/fakegcs.py reached through STORAGE_EMULATOR_HOST
# (http:// kept), which verifies every V2 signature with the service
# account's public key: AccessID + PrivateKey saves, a CredentialsFile
# restores, and the failure modes: a wrong key (403), an expired URL
# (400 ExpiredToken), 503s retried, an unreachable store, a credentials
# file of another type (the local cache only); GOOGLE_APPLICATION_CREDENTIALS,
# which FF_USE_LEGACY_GCS_CACHE_ADAPTER does not read.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_gcs_lib.sh"

start_fakegitlab
start_fakegcs store
add_runner "$RUN_TOKEN"
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$PORT_store
unset GOOGLE_APPLICATION_CREDENTIALS GCE_METADATA_HOST
URL=http://127.0.0.1:$PORT_store/cache/runner/$SHORT/project
PREFIX=$OBJ/cache/runner/$SHORT/project

test_case "AccessID + PrivateKey: job 1 saves the cache through a signed PUT"
write_config 'MaxUploadedArchiveSize = 10000000' -- "$(key_config "$keys/sa.pem")"
id=$(cache_job k1 pull-push '["mkdir -p vendor", "echo gcs-cached-content > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Uploading cache.zip to $URL/" "upload notice"
expect_contains "$T_DIR/trace" "Created cache" "created notice"
expect_not_contains "$T_DIR/trace" "Signature=" "no signature in the log"
obj=$(find "$PREFIX" -path '*/k1' -type f)
[ -n "$obj" ] || fail "no object k1 under $PREFIX: $(find "$OBJ")"
unzip -p "$obj" vendor/lib.txt >"$T_DIR/content" || fail "object is not the cache zip"
expect_eq gcs-cached-content "$(cat "$T_DIR/content")" "archived content"
# The length range and gitlab-runner's metadata, both signed (the store
# checks every x-goog-* header against the signature).
grep -q "^PUT /cache/runner/$SHORT/project/.*/k1 -> 200 [0-9]* bytes range=0,10000000 meta cachekey=k1$" "$T_DIR/store.log" ||
	fail "no signed PUT with the length range and metadata: $(tail -3 "$T_DIR/store.log")"

test_case "CredentialsFile: job 2 restores it through a signed GET"
sa_json "$keys/sa.pem" "$T_DIR/sa.json"
write_config -- "CredentialsFile = \"$T_DIR/sa.json\""
id=$(cache_job k1 pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Downloading cache.zip from $URL/" "download notice"
expect_contains "$T_DIR/trace" "gcs-cached-content" "restored content"
grep -q "^GET /cache/runner/$SHORT/project/.*/k1 -> 200" "$T_DIR/store.log" || fail "no signed GET"

test_case "a missing key is a 404 (NoSuchKey): the fallback key is used"
id=$(cache_job no-such-key pull '["cat vendor/lib.txt"]' '"k1"')
run_job "$id"
expect_contains "$T_DIR/trace" "No cache at $URL/" "404 warning"
expect_contains "$T_DIR/trace" "gcs-cached-content" "restored from the fallback"
expect_contains "$T_DIR/store.log" "-> 404 NoSuchKey" "the store answered 404"

test_case "a wrong private key: one 403 line per transfer, the job goes on without the cache"
write_config -- "$(key_config "$keys/wrong.pem")"
before=$(cksum <"$obj")
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from $URL/.* failed: 403 Forbidden" "$T_DIR/trace")" "one download line"
expect_contains "$T_DIR/trace" "RESULT-none" "no local fallback for a signed URL"
expect_eq 1 "$(grep -c "Uploading cache to $URL/.* failed: 403 Forbidden" "$T_DIR/trace")" "one upload line"
expect_contains "$T_DIR/trace" "Failed to create cache" "archive warning"
expect_contains "$T_DIR/store.log" "-> 403 SignatureDoesNotMatch" "the store refused the signature"
expect_eq "$before" "$(cksum <"$obj")" "object unchanged"

test_case "an expired URL: the store answers 400 ExpiredToken, one line"
start_fakegcs late --clock-offset 100000
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$PORT_late
write_config -- "$(key_config "$keys/sa.pem")"
id=$(cache_job k1 pull '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from http://127.0.0.1:$PORT_late/cache/.* failed: 400 Bad Request (code: ExpiredToken" "$T_DIR/trace")" "one expired line, with the store's code"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"
expect_contains "$T_DIR/late.log" "-> 400 ExpiredToken" "the store saw an expired URL"

test_case "503 twice: retried, then restored"
start_fakegcs flaky --fail 2
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$PORT_flaky
id=$(cache_job k1 pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "gcs-cached-content" "restored after retries"
expect_eq 2 "$(grep -c -- "-> 503 injected" "$T_DIR/flaky.log")" "two 503 answers"
grep -q "^GET /cache/.*/k1 -> 200" "$T_DIR/flaky.log" || fail "no successful retry: $(cat "$T_DIR/flaky.log")"

test_case "503 on every attempt: three attempts each way, one line each, no local fallback"
start_fakegcs down --fail 1000
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$PORT_down
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from http://127.0.0.1:$PORT_down/cache/.* failed: 503 Service Unavailable" "$T_DIR/trace")" "one download line"
expect_eq 1 "$(grep -c "Uploading cache to http://127.0.0.1:$PORT_down/cache/.* failed: 503 Service Unavailable" "$T_DIR/trace")" "one upload line"
expect_eq 4 "$(grep -c "Retrying in 1 s (attempt [23] of 3): 503" "$T_DIR/trace")" "two retries each way"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"
expect_eq 3 "$(grep -c "^GET .* -> 503" "$T_DIR/down.log")" "three GET attempts"
expect_eq 3 "$(grep -c "^PUT .* -> 503" "$T_DIR/down.log")" "three PUT attempts"

test_case "an unreachable store: one line, the job goes on"
export STORAGE_EMULATOR_HOST=http://127.0.0.1:1
id=$(cache_job k1 pull '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from http://127.0.0.1:1/cache/.* failed: " "$T_DIR/trace")" "one unreachable line"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"
export STORAGE_EMULATOR_HOST=http://127.0.0.1:$PORT_store

test_case "a credentials file of another type: one line, the local cache only"
sa_json "$keys/sa.pem" "$T_DIR/user.json" authorized_user
write_config -- "CredentialsFile = \"$T_DIR/user.json\""
lines=$(wc -l <"$T_DIR/store.log")
id=$(cache_job local-only pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Cannot use the distributed cache: error while resolving GCS credentials: unsupported credentials file type: authorized_user" "type warning"
expect_contains "$T_DIR/trace" "Created cache" "local cache made"
expect_eq "$lines" "$(wc -l <"$T_DIR/store.log")" "no request to the store"

test_case "GOOGLE_APPLICATION_CREDENTIALS (gcsv2's application default credentials) signs without a key in config.toml"
export GOOGLE_APPLICATION_CREDENTIALS=$T_DIR/sa.json
export GCE_METADATA_HOST=127.0.0.1:1
write_config --
id=$(cache_job adc pull-push '["mkdir -p vendor", "echo adc > vendor/a.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Uploading cache.zip to $URL/" "upload notice"
grep -q "^PUT /cache/runner/$SHORT/project/.*/adc -> 200" "$T_DIR/store.log" ||
	fail "no signed PUT with the ADC key: $(tail -3 "$T_DIR/store.log")"

test_case "FF_USE_LEGACY_GCS_CACHE_ADAPTER: the legacy adapter does not read GOOGLE_APPLICATION_CREDENTIALS, it asks the metadata server"
write_config --
printf '  [runners.feature_flags]\n    FF_USE_LEGACY_GCS_CACHE_ADAPTER = true\n' >>"$T_DIR/config.toml"
lines=$(wc -l <"$T_DIR/store.log")
id=$(cache_job adc-legacy pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Cannot use the distributed cache: error while resolving GCS credentials: getting email from metadata server: cannot reach http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/email" "metadata server asked"
expect_contains "$T_DIR/trace" "Created cache" "local cache made"
expect_eq "$lines" "$(wc -l <"$T_DIR/store.log")" "no request to the store"
unset GOOGLE_APPLICATION_CREDENTIALS GCE_METADATA_HOST

t_finish
