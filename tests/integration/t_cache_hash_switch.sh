#!/usr/bin/env bash
# FF_HASH_CACHE_KEYS switched either way, as gitlab-runner 19's
# compatibility mode: the restore asks with HEAD for the object under the
# key's name in both schemes (hashed and sharded .../<ab>/<hash>, or the
# key itself) and takes the other one when its own is missing or older
# (selectPresignedURL); the archive step renames a local cache file of the
# other name to this one's (tryRenameAlternateFile).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

start_cache_s3
write_config "$SK"

PREFIX=/cache/runner/$SHORT/project
FF_ON='{"key": "FF_HASH_CACHE_KEYS", "value": "true", "public": true, "masked": false}'

# hjob KEY POLICY SCRIPT VARIABLES-JSON
hjob() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "variables": ['"$4"'],
  "script": '"$3"',
  "payload": {"cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "'"$2"'", "when": "on_success", "fallback_keys": []}]}}'
}
hash_of() { printf '%s' "$1" | sha256sum | cut -c1-64; }
save() { # KEY CONTENT VARIABLES-JSON
	id=$(hjob "$1" push '["mkdir -p vendor", "echo '"$2"' > vendor/lib.txt"]' "$3")
	run_job "$id"
	expect_contains "$T_DIR/trace" "Created cache" "created"
}
# The store's log lines since the last mark (it writes at its own offset:
# the file is not truncated under it).
mark() { MARK=$(wc -l <"$T_DIR/objstore.log"); }
since_mark() { tail -n +$((MARK + 1)) "$T_DIR/objstore.log" >"$T_DIR/new.log"; }
restore() { # KEY VARIABLES-JSON [POLICY]
	mark
	id=$(hjob "$1" "${3:-pull}" '["cat vendor/lib.txt"]' "$2")
	run_job "$id"
	since_mark
	expect_contains "$T_DIR/trace" "Successfully extracted cache" "extracted"
}

test_case "saved with the flag off, found with it on (the hashed object missing)"
k=plain-key h=$(hash_of plain-key)
save "$k" off-content ''
restore "$k" "$FF_ON" pull-push
expect_contains "$T_DIR/trace" "Selecting alternate cache URL: primary not available" "the choice"
expect_contains "$T_DIR/trace" "off-content" "restored content"
grep -q "^HEAD $PREFIX/[0-9]*/${h:0:2}/$h -> 404" "$T_DIR/new.log" || fail "no HEAD of the hashed object: $(cat "$T_DIR/new.log")"
grep -q "^HEAD $PREFIX/[0-9]*/$k -> 200" "$T_DIR/new.log" || fail "no HEAD of the unhashed object"
grep -q "^GET $PREFIX/[0-9]*/$k -> 200" "$T_DIR/new.log" || fail "no GET of the unhashed object"
# The job saves under its own scheme: the next restore finds that.
grep -q "^PUT $PREFIX/[0-9]*/${h:0:2}/$h -> 200" "$T_DIR/new.log" || fail "not saved hashed"
restore "$k" "$FF_ON"
expect_contains "$T_DIR/trace" "Selecting primary cache URL" "the hashed object now"
grep -q "^GET $PREFIX/[0-9]*/${h:0:2}/$h -> 200" "$T_DIR/new.log" || fail "no GET of the hashed object"

test_case "saved with the flag on, found with it off"
k=hashed-key h=$(hash_of hashed-key)
save "$k" on-content "$FF_ON"
restore "$k" ''
expect_contains "$T_DIR/trace" "Selecting alternate cache URL: primary not available" "the choice"
expect_contains "$T_DIR/trace" "on-content" "restored content"
grep -q "^GET $PREFIX/[0-9]*/${h:0:2}/$h -> 200" "$T_DIR/new.log" || fail "no GET of the hashed object: $(cat "$T_DIR/new.log")"

test_case "both there: the newer one wins"
k=both-key
save "$k" older-content "$FF_ON"
sleep 1.2	# Last-Modified counts seconds
save "$k" newer-content ''
restore "$k" "$FF_ON"
expect_contains "$T_DIR/trace" "Selecting alternate cache URL: newer timestamp" "the choice"
expect_contains "$T_DIR/trace" "newer-content" "restored content"
restore "$k" ''
expect_contains "$T_DIR/trace" "Selecting primary cache URL" "the unhashed one is newer"
expect_contains "$T_DIR/trace" "newer-content" "restored content"

test_case "a key sanitising changes has no unhashed name: no alternate with the flag on"
# Without an alternate gitlab-runner asks for no HEAD either: one GET.
mark
id=$(hjob 'a/../raw key ' pull '["ls vendor 2>/dev/null || echo no-vendor"]' "$FF_ON")
run_job "$id"
since_mark
expect_eq 0 "$(grep -c '^HEAD' "$T_DIR/new.log")" "HEAD requests ($(cat "$T_DIR/new.log"))"
expect_eq 1 "$(grep -c '^GET' "$T_DIR/new.log")" "GET requests"
expect_not_contains "$T_DIR/trace" "Selecting" "a choice"

test_case "the local cache: the archive step renames the other scheme's file"
k=local-key h=$(hash_of local-key)
cat >"$T_DIR/local.toml" <<TOML
concurrent = 1
[[runners]]
  name = "local"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/lbuilds"
  cache_dir = "$T_DIR/lcache"
TOML
run_local() {
	timeout 120 "$CRUNNER" run-single --config "$T_DIR/local.toml" --max-builds 1 \
		--check-interval 100ms --trace-interval 200ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" ||
		fail "run-single: $(tail -3 "$T_DIR/run.err")"
	job_trace "$1" "$T_DIR/trace"
	expect_eq success "$(job_field "$1" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
}
id=$(hjob "$k" push '["mkdir -p vendor", "echo local-content > vendor/lib.txt"]' '')
run_local "$id"
plain=$(find "$T_DIR/lcache" -path "*/$k/cache.zip")
[ -n "$plain" ] || fail "no $k/cache.zip: $(find "$T_DIR/lcache")"
id=$(hjob "$k" push '["ls vendor"]' "$FF_ON")
run_local "$id"
expect_contains "$T_DIR/trace" "Renamed alternate cache file to primary" "the rename"
[ ! -e "$plain" ] || fail "$plain is still there"
hashed=$(find "$T_DIR/lcache" -path "*/$h/cache.zip")
[ -n "$hashed" ] || fail "no $h/cache.zip: $(find "$T_DIR/lcache")"
expect_eq local-content "$(unzip -p "$hashed" vendor/lib.txt)" "the renamed archive"
# And back: the flag off takes the hashed file again.
id=$(hjob "$k" push '["ls vendor"]' '')
run_local "$id"
expect_contains "$T_DIR/trace" "Renamed alternate cache file to primary" "the rename back"
[ -e "$plain" ] || fail "no $k/cache.zip after switching back"

t_finish
