#!/usr/bin/env bash
# The distributed cache ([runners.cache] Type = "s3") through the real
# binary, against tests/objstore/objstore.py, which checks every request's
# SigV4 pre-signed URL with the same credentials: job 1 saves, job 2 with
# fresh builds and cache directories restores from the object store,
# fallback keys, a 404 for a missing key, a wrong secret key (403: warning,
# the job goes on), the Shared and Path layout, MaxUploadedArchiveSize,
# server-side encryption headers signed into the PUT and seen by the store.
. "$(dirname "$0")/lib.sh"

AK=AKIACRUNNERTEST0001
SK=crunner/objstore+secret/key0001
# gitlab-runner's short token: the first 9 characters after the glrt-t1_ prefix.
SHORT=integrati
OBJ=$T_DIR/objects

start_objstore() {
	local portfile="$T_DIR/objstore.port" i
	"$PYTHON" "$CR_SOURCE_DIR/tests/objstore/objstore.py" --dir "$OBJ" \
		--access-key "$AK" --secret-key "$SK" --bucket cache \
		--region eu-test-1 --port 0 --port-file "$portfile" \
		>"$T_DIR/objstore.out" 2>"$T_DIR/objstore.log" &
	OBJ_PID=$!
	test_when_finished "kill $OBJ_PID 2>/dev/null; wait $OBJ_PID 2>/dev/null"
	for ((i = 0; i < 100; i++)); do
		[ -s "$portfile" ] && break
		sleep 0.1
	done
	[ -s "$portfile" ] || fail "objstore did not start: $(cat "$T_DIR/objstore.log")"
	OBJ_ADDR=127.0.0.1:$(cat "$portfile")
}

start_fakegitlab
start_objstore
add_runner "$RUN_TOKEN"

# write_config SECRET [CACHE-KEY = VALUE...]: config.toml with an S3 cache.
write_config() {
	local secret=$1 kv
	shift
	{
		cat <<TOML
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
TOML
		for kv in "$@"; do
			echo "    $kv"
		done
		cat <<TOML
    [runners.cache.s3]
      ServerAddress = "$OBJ_ADDR"
      AccessKey = "$AK"
      SecretKey = "$secret"
      BucketName = "cache"
      BucketLocation = "eu-test-1"
      Insecure = true
TOML
	} >"$T_DIR/config.toml"
}

# cache_job KEY POLICY SCRIPT [FALLBACK-KEYS-JSON]
cache_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": '"$3"',
  "payload": {"cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "'"$2"'", "when": "on_success", "fallback_keys": ['"${4:-}"']}]}}'
}

# run_job ID: runs one job with fresh builds and local cache directories,
# so that whatever is restored came from the object store.
run_job() {
	rm -rf "$T_DIR/builds" "$T_DIR/cache"
	RUN_RC=0
	timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" \
		--max-builds 1 --check-interval 100ms --trace-interval 200ms \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
	expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
	job_trace "$1" "$T_DIR/trace"
	! grep -q "Sanitizer" "$T_DIR/run.err" "$T_DIR/trace" ||
		fail "sanitizer report: $(grep -h -A20 Sanitizer "$T_DIR/run.err" "$T_DIR/trace" | head -40)"
	expect_eq success "$(job_field "$1" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
}

PREFIX=$OBJ/cache/runner/$SHORT/project

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

test_case "ServerSideEncryption: the signed SSE headers reach the store"
write_config "$SK"
printf '      ServerSideEncryption = "KMS"\n      ServerSideEncryptionKeyID = "alias/crunner-cache"\n' >>"$T_DIR/config.toml"
id=$(cache_job sse-key pull-push '["mkdir -p vendor", "echo encrypted > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
grep -q "^PUT /cache/runner/$SHORT/project/.*/sse-key -> 200 .* sse=aws:kms kms-key-id=alias/crunner-cache$" "$T_DIR/objstore.log" ||
	fail "no KMS headers on the PUT: $(grep PUT "$T_DIR/objstore.log" | tail -2)"
id=$(cache_job sse-key pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "encrypted" "restored the encrypted cache"
write_config "$SK"
printf '      ServerSideEncryption = "S3"\n' >>"$T_DIR/config.toml"
id=$(cache_job sse-s3-key pull-push '["mkdir -p vendor", "echo s3 > vendor/lib.txt"]')
run_job "$id"
grep -q "^PUT /cache/runner/$SHORT/project/.*/sse-s3-key -> 200 .* sse=AES256$" "$T_DIR/objstore.log" ||
	fail "no AES256 header on the PUT: $(grep PUT "$T_DIR/objstore.log" | tail -2)"
write_config "$SK"
printf '      ServerSideEncryption = "rot13"\n' >>"$T_DIR/config.toml"
id=$(cache_job sse-bad pull-push '["mkdir -p vendor", "echo x > vendor/lib.txt"]')
run_job "$id"
# As gitlab-runner: a warning in the runner's log, an upload without SSE.
expect_contains "$T_DIR/run.err" "unknown ServerSideEncryption value: rot13" "unknown SSE warning"
grep -q "^PUT /cache/runner/$SHORT/project/.*/sse-bad -> 200 [0-9]* bytes$" "$T_DIR/objstore.log" ||
	fail "not uploaded without SSE: $(grep PUT "$T_DIR/objstore.log" | tail -2)"

test_case "no Type: the local cache only, no request to the store"
lines=$(wc -l <"$T_DIR/objstore.log")
sed -i '/Type = "s3"/d' "$T_DIR/config.toml"
id=$(cache_job local-only pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
expect_not_contains "$T_DIR/trace" "Uploading cache.zip" "no upload"
expect_eq "$lines" "$(wc -l <"$T_DIR/objstore.log")" "no request to the store"
