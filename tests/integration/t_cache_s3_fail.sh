#!/usr/bin/env bash
# The S3 cache's failure modes through the real binary, against
# tests/objstore/objstore.py sharing one object directory: an expired
# pre-signed URL (a store whose clock runs a day ahead answers 403
# AccessDenied "Request has expired"), 503 SlowDown retried until it
# passes, 503 that never ends, an unreachable store.  Each is one line in
# the job log and the job goes on without the remote cache, as with
# gitlab-runner's pre-signed URLs (no local fallback).  A wrong secret key
# is in t_cache_s3.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

# extra_store NAME ARGS...: another objstore.py on $OBJ; sets ADDR_<NAME>.
extra_store() {
	local name=$1 pid
	shift
	"$PYTHON" "$CR_SOURCE_DIR/tests/objstore/objstore.py" --dir "$OBJ" \
		--access-key "$AK" --secret-key "$SK" --bucket cache \
		--region eu-test-1 --port 0 --port-file "$T_DIR/$name.port" "$@" \
		>/dev/null 2>"$T_DIR/$name.log" &
	pid=$!
	test_when_finished "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for_port_file "$T_DIR/$name.port" "objstore $name" "$T_DIR/$name.log"
	printf -v "ADDR_$name" '127.0.0.1:%s' "$(cat "$T_DIR/$name.port")"
}

NO_CACHE='["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)"]'

start_fakegitlab
start_objstore
add_runner "$RUN_TOKEN"
write_config "$SK"
id=$(cache_job k1 pull-push '["mkdir -p vendor", "echo s3-cached-content > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "saved"

test_case "an expired pre-signed URL: 403 AccessDenied, one line"
extra_store late --clock-offset 100000
OBJ_ADDR=$ADDR_late write_config "$SK"
id=$(cache_job k1 pull "$NO_CACHE")
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from http://$ADDR_late/cache/.* failed: 403 Forbidden (code: AccessDenied, message: Request has expired)" "$T_DIR/trace")" "one expired line, with the store's code and message"
expect_not_contains "$T_DIR/trace" "Retrying" "a 403 is not retried"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"
expect_contains "$T_DIR/late.log" "403 AccessDenied" "the store saw an expired URL"

test_case "503 twice: retried, then restored"
# The first two answers go to the HEADs that choose between the key's two
# FF_HASH_CACHE_KEYS names (t_cache_hash_switch): the GET gets the next two.
extra_store flaky --fail 4
OBJ_ADDR=$ADDR_flaky write_config "$SK"
id=$(cache_job k1 pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "s3-cached-content" "restored after retries"
expect_eq 2 "$(grep -c "^HEAD .*503 SlowDown" "$T_DIR/flaky.log")" "two 503 answers to the HEADs"
expect_eq 2 "$(grep -c "^GET .*503 SlowDown" "$T_DIR/flaky.log")" "two 503 answers to the GET"
expect_not_contains "$T_DIR/trace" "failed:" "no failure line"
expect_eq 2 "$(grep -c "Retrying in 1 s (attempt [23] of 3): 503 Service Unavailable (code: SlowDown" "$T_DIR/trace")" "a plain line per retry"

test_case "503 on every attempt: one line after the retries"
extra_store down --fail 1000
OBJ_ADDR=$ADDR_down write_config "$SK"
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from http://$ADDR_down/cache/.* failed: 503 Service Unavailable" "$T_DIR/trace")" "one download line"
expect_eq 1 "$(grep -c "Uploading cache to http://$ADDR_down/cache/.* failed: 503 Service Unavailable" "$T_DIR/trace")" "one upload line"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"
expect_eq 3 "$(grep -c "^GET .* 503 SlowDown" "$T_DIR/down.log")" "three GET attempts, as gitlab-runner (Retry 2)"
expect_eq 3 "$(grep -c "^PUT .* 503 SlowDown" "$T_DIR/down.log")" "three PUT attempts"

test_case "an unreachable store: one line, the job goes on"
OBJ_ADDR=127.0.0.1:1 write_config "$SK"
id=$(cache_job k1 pull "$NO_CACHE")
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from http://127.0.0.1:1/cache/.* failed: " "$T_DIR/trace")" "one unreachable line"
expect_eq 2 "$(grep -c "Retrying in 1 s (attempt [23] of 3)" "$T_DIR/trace")" "no answer is retried too, as gitlab-runner"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"

t_finish
