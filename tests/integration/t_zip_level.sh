#!/usr/bin/env bash
# ARTIFACT_COMPRESSION_LEVEL and CACHE_COMPRESSION_LEVEL: with
# FF_USE_FASTZIP on (its default) gitlab-runner's fastzip archiver stores
# the files for "fastest" and deflates at 1, 5, 7 or 9 otherwise; with the
# flag off its legacy archiver ignores the level.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"
CACHE=$T_DIR/cache

# The job's data: compressible text, large enough for levels to differ.
DATA='["seq 1 60000 > data.txt", "mkdir -p vendor", "cp data.txt vendor/data.txt"]'

# vars NAME=VALUE...: the job's "variables" JSON.
vars() {
	local sep="" kv out='"variables": ['

	for kv in "$@"; do
		out+="$sep"'{"key": "'"${kv%%=*}"'", "value": "'"${kv#*=}"'", "public": true, "masked": false}'
		sep=", "
	done
	printf '%s]' "$out"
}

# level_job KEY VARIABLES-JSON: a job uploading data.txt and caching vendor/.
level_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$2"',
  "script": '"$DATA"',
  "payload": {"artifacts": [{"name": "lvl", "paths": ["data.txt"], "when": "on_success",
     "artifact_type": "archive", "artifact_format": "zip"}],
    "cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "push", "when": "on_success", "fallback_keys": []}]}}'
}

# entry ZIP NAME: "<method> <compressed size>" of NAME (0 stored, 8 deflated).
entry() {
	"$PYTHON" - "$1" "$2" <<'PY'
import sys, zipfile
i = zipfile.ZipFile(sys.argv[1]).getinfo(sys.argv[2])
print(i.compress_type, i.compress_size)
PY
}

# deflated LEVEL: the size of the data deflated by zlib at LEVEL (-1: its
# default, libarchive's); the levels give different sizes on this data.
deflated() {
	seq 1 60000 | "$PYTHON" -c '
import sys, zlib
c = zlib.compressobj(int(sys.argv[1]), zlib.DEFLATED, -15)
print(len(c.compress(sys.stdin.buffer.read()) + c.flush()))' "$1"
}

# run_level KEY VARIABLES-JSON: runs the job; sets ART (the artifact's
# entry) and CZ (the cache zip's entry).
run_level() {
	local id zip

	id=$(level_job "$1" "$2")
	run_single --max-builds 1 --cache-dir "$CACHE"
	expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
	job_trace "$id" "$T_DIR/trace"
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
	curl -sS --fail "$FAKE_URL/__control/jobs/$id/artifacts/0" >"$T_DIR/a.zip" ||
		fail "cannot fetch the artifact of job $id"
	zip=$(find "$CACHE" -path "*/$1/cache.zip")
	[ -n "$zip" ] || fail "no cache.zip for $1 under $CACHE"
	ART=$(entry "$T_DIR/a.zip" data.txt)
	CZ=$(entry "$zip" vendor/data.txt)
	expect_eq "$(seq 1 60000)" "$(unzip -p "$zip" vendor/data.txt)" "cache content"
	expect_eq "$(seq 1 60000)" "$(unzip -p "$T_DIR/a.zip" data.txt)" "artifact content"
}

test_case "fastest stores the entries (artifact and cache)"
run_level k-fastest "$(vars ARTIFACT_COMPRESSION_LEVEL=fastest CACHE_COMPRESSION_LEVEL=fastest)"
expect_eq 0 "${ART%% *}" "artifact entry stored ($ART)"
expect_eq 0 "${CZ%% *}" "cache entry stored ($CZ)"
unzip -v "$T_DIR/a.zip" >"$T_DIR/unzip.txt"
expect_contains "$T_DIR/unzip.txt" "Stored" "unzip -v says Stored"

test_case "fast and slowest deflate at zlib levels 1 and 9"
run_level k-fast "$(vars ARTIFACT_COMPRESSION_LEVEL=fast CACHE_COMPRESSION_LEVEL=fast)"
expect_eq "8 $(deflated 1)" "$ART" "fast artifact"
expect_eq "8 $(deflated 1)" "$CZ" "fast cache"
run_level k-slowest "$(vars ARTIFACT_COMPRESSION_LEVEL=slowest CACHE_COMPRESSION_LEVEL=slowest)"
expect_eq "8 $(deflated 9)" "$ART" "slowest artifact"
expect_eq "8 $(deflated 9)" "$CZ" "slowest cache"
run_level k-slow "$(vars ARTIFACT_COMPRESSION_LEVEL=slow CACHE_COMPRESSION_LEVEL=default)"
expect_eq "8 $(deflated 7)" "$ART" "slow artifact"
expect_eq "8 $(deflated 5)" "$CZ" "default cache"

test_case "each variable sets only its own archive"
run_level k-mixed "$(vars ARTIFACT_COMPRESSION_LEVEL=fastest CACHE_COMPRESSION_LEVEL=slowest)"
expect_eq 0 "${ART%% *}" "artifact stored ($ART)"
expect_eq "8 $(deflated 9)" "$CZ" "cache at level 9"

test_case "an unknown level is the default, with gitlab-runner's warning"
run_level k-bogus "$(vars ARTIFACT_COMPRESSION_LEVEL=turbo)"
expect_eq "8 $(deflated 5)" "$ART" "artifact at level 5"
expect_eq "8 $(deflated -1)" "$CZ" "cache without a level: libarchive's"
expect_contains "$T_DIR/trace" 'compression level "turbo" is invalid, falling back to default' "warning"

test_case "FF_USE_FASTZIP=false ignores the levels"
run_level k-legacy "$(vars ARTIFACT_COMPRESSION_LEVEL=fastest CACHE_COMPRESSION_LEVEL=fastest FF_USE_FASTZIP=false)"
expect_eq "8 $(deflated -1)" "$ART" "artifact: libarchive's default"
expect_eq "8 $(deflated -1)" "$CZ" "cache: libarchive's default"
