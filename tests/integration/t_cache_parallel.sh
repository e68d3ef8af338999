#!/usr/bin/env bash
# FF_USE_PARALLEL_CACHE_TRANSFER as gitlab-runner's cache-extractor does
# it (tryPresignedParallelDownload): a GET with "Range: bytes=0-0" probes
# the object, and one larger than CACHE_CHUNK_SIZE is fetched in
# CACHE_CONCURRENCY parallel Range GETs; the archive is byte-identical to
# the stored object.  Off, with CACHE_CONCURRENCY 1, or for an object of one
# chunk at most, one plain GET.  A negative CACHE_CONCURRENCY fails the
# extraction (validateCacheTransferTuning).  Against tests/objstore, which
# logs each ranged answer ("-> 206 range=A-B").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

start_cache_s3
write_config "$SK"

var() { # KEY VALUE: one job variable, JSON
	printf '{"key": "%s", "value": "%s", "public": true, "masked": false}' "$1" "$2"
}

# par_job POLICY SCRIPT VARIABLES-JSON
par_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "variables": ['"$3"'],
  "script": '"$2"',
  "payload": {"cache": [{"key": "big", "untracked": false, "paths": ["vendor/"],
     "policy": "'"$1"'", "when": "on_success", "fallback_keys": []}]}}'
}

# restore VARIABLES-JSON: a pull job with fresh directories; the store's
# log then holds only its requests.
# The store's log lines since the last mark (it writes at its own offset:
# the file is not truncated under it), into new.log.
mark() { MARK=$(wc -l <"$T_DIR/objstore.log"); }
since_mark() { tail -n +$((MARK + 1)) "$T_DIR/objstore.log" >"$T_DIR/new.log"; }
restore() {
	mark
	id=$(par_job pull '["sha256sum vendor/blob"]' "$1")
	run_job "$id"
	since_mark
	expect_contains "$T_DIR/trace" "Successfully extracted cache" "extracted"
	expect_contains "$T_DIR/trace" "$sum  vendor/blob" "restored content"
	local_zip=$(find "$T_DIR/cache" -path '*/big/cache.zip')
	cmp "$local_zip" "$obj" || fail "the downloaded archive differs from the object"
}

test_case "the cache is saved (incompressible, about 300 kB)"
id=$(par_job pull-push '["mkdir -p vendor", "head -c 300000 /dev/urandom > vendor/blob", "sha256sum vendor/blob"]' '')
run_job "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
sum=$(grep -o '[0-9a-f]\{64\}  vendor/blob' "$T_DIR/trace" | head -1 | cut -c1-64)
[ -n "$sum" ] || fail "no checksum in the trace"
obj=$(find "$PREFIX" -path '*/big' -type f)
[ -n "$obj" ] || fail "no object: $(find "$OBJ" -type f)"
size=$(stat -c %s "$obj")
[ "$size" -gt 300000 ] || fail "object of $size bytes"

test_case "flag on, 64 KiB chunks: a probe, then every chunk as a Range GET"
restore "$(var FF_USE_PARALLEL_CACHE_TRANSFER true), $(var CACHE_CHUNK_SIZE 65536), $(var CACHE_CONCURRENCY 3)"
expect_contains "$T_DIR/trace" "Downloading cache.zip from http://$OBJ_ADDR/cache/runner/$SHORT/project/" "download line"
expect_contains "$T_DIR/trace" "(parallel)" "parallel download"
expect_eq 0 "$(grep -c -- '^GET .* -> 200$' "$T_DIR/new.log")" "plain GETs ($(cat "$T_DIR/new.log"))"
expect_eq 1 "$(grep -c -- '-> 206 range=0-0$' "$T_DIR/new.log")" "the probe"
want=$(( (size + 65535) / 65536 ))
expect_eq "$want" "$(grep -c -- '-> 206 range=[0-9]*-[0-9]*$' "$T_DIR/new.log" | awk '{print $1 - 1}')" "chunk requests"
# Every chunk, once, as gitlab-runner cuts them.
for ((off = 0; off < size; off += 65536)); do
	last=$(( off + 65535 < size - 1 ? off + 65535 : size - 1 ))
	grep -q -- "-> 206 range=$off-$last\$" "$T_DIR/new.log" || fail "no chunk $off-$last: $(cat "$T_DIR/new.log")"
done

test_case "flag on, the default 16 MiB chunk: the object is one chunk, one plain GET"
restore "$(var FF_USE_PARALLEL_CACHE_TRANSFER true)"
expect_not_contains "$T_DIR/trace" "(parallel)" "parallel download"
expect_eq 1 "$(grep -c -- '-> 206 range=0-0$' "$T_DIR/new.log")" "the probe"
expect_eq 1 "$(grep -c -- '^GET .* -> 200$' "$T_DIR/new.log")" "one plain GET"

test_case "flag on, CACHE_CONCURRENCY 1: no probe, one plain GET"
restore "$(var FF_USE_PARALLEL_CACHE_TRANSFER true), $(var CACHE_CHUNK_SIZE 65536), $(var CACHE_CONCURRENCY 1)"
expect_eq 0 "$(grep -c -- '-> 206' "$T_DIR/new.log")" "ranged requests"
expect_eq 1 "$(grep -c -- '^GET .* -> 200$' "$T_DIR/new.log")" "one plain GET"

test_case "flag off: the chunk settings do nothing"
restore "$(var CACHE_CHUNK_SIZE 65536), $(var CACHE_CONCURRENCY 3)"
expect_not_contains "$T_DIR/trace" "(parallel)" "parallel download"
expect_eq 0 "$(grep -c -- '-> 206' "$T_DIR/new.log")" "ranged requests"

test_case "flag on, a negative CACHE_CONCURRENCY: the extraction fails"
id=$(par_job pull '["ls vendor 2>/dev/null || echo no-vendor"]' "$(var FF_USE_PARALLEL_CACHE_TRANSFER true), $(var CACHE_CONCURRENCY -1)")
run_job "$id"
expect_contains "$T_DIR/trace" "invalid cache concurrency -1" "the warning"
expect_contains "$T_DIR/trace" "Failed to extract cache" "failed"
expect_contains "$T_DIR/trace" "no-vendor" "nothing restored"

t_finish
