#!/usr/bin/env bash
# CACHE_COMPRESSION_FORMAT through the real binary, as gitlab-runner's
# cache-archiver honours it: tarzstd writes a tar in zstd (the file still
# named cache.zip, the object key unchanged), zipzstd a zip of zstd
# (method 93) entries; each is restored by the next job, from the local
# cache and from the S3 object store, the extractor telling the formats
# apart by their first bytes whatever the variable says then.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

start_cache_s3

# var_job KEY POLICY SCRIPT FORMAT [LEVEL]: a cache job with the variables.
var_job() {
	local vars='{"key": "CACHE_COMPRESSION_FORMAT", "value": "'"$4"'", "public": true, "masked": false}'
	[ -z "${5:-}" ] || vars+=', {"key": "CACHE_COMPRESSION_LEVEL", "value": "'"$5"'", "public": true, "masked": false}'
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": ['"$vars"'],
  "script": '"$3"',
  "payload": {"cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "'"$2"'", "when": "on_success", "fallback_keys": []}]}}'
}

# The magic of the file $1: "zstd" or "zip".
magic() {
	case $(head -c 4 "$1" | od -An -tx1 | tr -d ' \n') in
	28b52ffd) echo zstd ;;
	504b0304) echo zip ;;
	*) echo other ;;
	esac
}

# Local cache: run-single keeps the cache directory between the jobs.
run_local() {
	rm -rf "$T_DIR/builds"
	run_single --max-builds 1 --cache-dir "$T_DIR/lcache"
	expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
	job_trace "$1" "$T_DIR/trace"
	expect_eq success "$(job_field "$1" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
}

test_case "local cache, tarzstd: a tar in zstd named cache.zip, restored by the next job"
id=$(var_job lt pull-push '["mkdir -p vendor/sub", "seq 1 3000 > vendor/sub/big.txt", "echo tar-content > vendor/lib.txt", "ln -s lib.txt vendor/link"]' tarzstd)
run_local "$id"
expect_contains "$T_DIR/trace" "Created cache" "created"
f=$(find "$T_DIR/lcache" -path '*/lt/cache.zip')
[ -n "$f" ] || fail "no lt/cache.zip: $(find "$T_DIR/lcache")"
expect_eq zstd "$(magic "$f")" "the archive is zstd"
tar --zstd -tf "$f" >"$T_DIR/list" || fail "GNU tar cannot read it"
expect_contains "$T_DIR/list" "vendor/sub/big.txt" "tar member"
id=$(var_job lt pull '["cat vendor/lib.txt", "readlink vendor/link", "tail -1 vendor/sub/big.txt"]' tarzstd)
run_local "$id"
expect_contains "$T_DIR/trace" "Successfully extracted cache" "extracted"
expect_contains "$T_DIR/trace" "tar-content" "restored file"
expect_contains "$T_DIR/trace" "3000" "restored big file"
grep -q " lib.txt$" "$T_DIR/trace" || fail "link not restored: $(tail -c 800 "$T_DIR/trace")"

test_case "local cache, zipzstd (any case): a zip of zstd entries, restored by the next job"
id=$(var_job lz pull-push '["mkdir -p vendor", "echo zipzstd-content > vendor/lib.txt"]' ZipZstd slowest)
run_local "$id"
f=$(find "$T_DIR/lcache" -path '*/lz/cache.zip')
[ -n "$f" ] || fail "no lz/cache.zip: $(find "$T_DIR/lcache")"
expect_eq zip "$(magic "$f")" "the archive is a zip"
zipinfo -v "$f" >"$T_DIR/zipinfo" 2>&1 || true
expect_contains "$T_DIR/zipinfo" "unknown (93)" "zstd entries (method 93)"
# The next job asks for plain zip: the extractor reads the zstd zip anyway.
id=$(var_job lz pull '["cat vendor/lib.txt"]' zip)
run_local "$id"
expect_contains "$T_DIR/trace" "zipzstd-content" "restored content"

test_case "local cache: a new format rewrites an unchanged tar cache as zip"
id=$(var_job lt pull-push '["true"]' zip)
run_local "$id"
expect_not_contains "$T_DIR/trace" "Archive is up to date!" "the tar was not kept"
expect_eq zip "$(magic "$(find "$T_DIR/lcache" -path '*/lt/cache.zip')")" "rewritten as zip"

test_case "tarzstd takes CACHE_COMPRESSION_LEVEL with FF_USE_FASTZIP off too"
# level_run KEY LEVEL: the size of the tarzstd cache of 60000 lines.
level_run() {
	local vars='{"key": "CACHE_COMPRESSION_FORMAT", "value": "tarzstd", "public": true, "masked": false},
    {"key": "FF_USE_FASTZIP", "value": "false", "public": true, "masked": false}' id
	[ -z "$2" ] || vars+=', {"key": "CACHE_COMPRESSION_LEVEL", "value": "'"$2"'", "public": true, "masked": false}'
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": ['"$vars"'],
  "script": ["mkdir -p vendor", "seq 1 60000 > vendor/data.txt"],
  "payload": {"cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "push", "when": "on_success", "fallback_keys": []}]}}')
	run_local "$id"
	wc -c <"$(find "$T_DIR/lcache" -path "*/$1/cache.zip")"
}
fastest=$(level_run lvl-fastest fastest)
default=$(level_run lvl-default "")
[ "$fastest" -gt "$default" ] ||
	fail "fastest ($fastest bytes) is not larger than the default level ($default bytes)"

for fmt in tarzstd zipzstd; do
	test_case "S3 cache, $fmt: saved to the store under the usual key, restored from it"
	write_config "$SK"
	id=$(var_job "s3-$fmt" pull-push '["mkdir -p vendor", "echo s3-'"$fmt"'-content > vendor/lib.txt"]' "$fmt" fast)
	run_job "$id"
	expect_contains "$T_DIR/trace" "Uploading cache.zip to http://$OBJ_ADDR/cache/runner/$SHORT/project/" "upload notice"
	obj=$(find "$PREFIX" -path "*/s3-$fmt" -type f)
	[ -n "$obj" ] || fail "no object s3-$fmt under $PREFIX: $(find "$OBJ")"
	if [ "$fmt" = tarzstd ]; then
		expect_eq zstd "$(magic "$obj")" "stored object is zstd"
	else
		expect_eq zip "$(magic "$obj")" "stored object is a zip"
	fi
	id=$(var_job "s3-$fmt" pull '["cat vendor/lib.txt"]' "$fmt")
	run_job "$id"
	expect_contains "$T_DIR/trace" "Downloading cache.zip from http://$OBJ_ADDR/" "download notice"
	expect_contains "$T_DIR/trace" "s3-$fmt-content" "restored from the store"
done
