#!/usr/bin/env bash
# FF_USE_PARALLEL_ARTIFACT_TRANSFER as gitlab-runner's DownloadArtifacts
# does it: a direct download redirected to object storage is probed with
# "Range: bytes=0-0", and an archive over one chunk (16 MiB, fixed) is
# fetched in Range GETs of 16 MiB, 16 at a time, each written at its
# offset.  Off, one stream.  Both the in-process download (shell executor)
# and the artifacts helper's (executors whose stages are scripts).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/artifacts_dep_lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"
fake_control PATCH config '{"direct_download_redirect": true}' >/dev/null

# A stored (uncompressed) zip of 17 MiB + 1000 bytes of random data: two
# chunks, the second short.
"$PYTHON" - "$T_DIR/dep.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_STORED) as z:
    z.writestr("dist/blob", os.urandom(17 * 1024 * 1024 + 1000))
PY
size=$(stat -c %s "$T_DIR/dep.zip")
sum=$(unzip -p "$T_DIR/dep.zip" dist/blob | sha256sum | cut -c1-64)
add_dependency "$T_DIR/dep.zip"

# ranges: the Range header of each object storage request ("-": none),
# one a line, sorted.
ranges() {
	json_get "$(fake_control GET "requests?endpoint=storage&body=0")" \
		'"\n".join(sorted(next((v for k, v in r["headers"] if k.lower() == "range"), "-") for r in d["requests"]))'
}
statuses() {
	json_get "$(fake_control GET "requests?endpoint=storage&body=0")" \
		'" ".join(sorted(str(r["status"]) for r in d["requests"]))'
}
want_ranges=$(printf '%s\n' "bytes=0-0" "bytes=0-16777215" "bytes=16777216-$((size - 1))" | sort)

CMD='"sha256sum dist/blob"'
FF_ON='[{"key": "FF_USE_PARALLEL_ARTIFACT_TRANSFER", "value": "true", "public": true, "masked": false}]'

test_case "flag on: a probe, then the archive in two Range GETs"
fake_control DELETE requests >/dev/null
id=$(dep_job_with "$FF_ON" "$CMD")
run_dep_job "$id"
expect_contains "$T_DIR/trace" "Downloading artifacts from coordinator... ok  id=$dep responseStatus=206 Partial Content" "parallel download"
expect_contains "$T_DIR/trace" "$sum  dist/blob" "the archive's content"
expect_eq "$want_ranges" "$(ranges)" "the ranges asked"
expect_eq "206 206 206" "$(statuses)" "the answers"

test_case "flag off: one stream"
fake_control DELETE requests >/dev/null
id=$(dep_job_with '[]' "$CMD")
run_dep_job "$id"
expect_contains "$T_DIR/trace" "$sum  dist/blob" "the archive's content"
expect_eq "-" "$(ranges)" "the ranges asked"

test_case "flag on, FF_USE_DIRECT_DOWNLOAD off: no redirect, nothing in parallel"
fake_control DELETE requests >/dev/null
id=$(dep_job_with '[{"key": "FF_USE_PARALLEL_ARTIFACT_TRANSFER", "value": "true", "public": true, "masked": false},
  {"key": "FF_USE_DIRECT_DOWNLOAD", "value": "false", "public": true, "masked": false}]' "$CMD")
run_dep_job "$id"
expect_contains "$T_DIR/trace" "$sum  dist/blob" "the archive's content"
expect_eq "" "$(ranges)" "object storage requests"

test_case "the artifacts helper: --parallel reads it in Range GETs, without it one stream"
add_requesting_job
expect_helper_extracted() {
	expect_eq "$sum" "$(sha256sum <"$T_DIR/helper/dist/blob" | cut -c1-64)" "extracted by the helper"
}
fake_control DELETE requests >/dev/null
helper_download --parallel
expect_helper_extracted
expect_contains "$T_DIR/helper.out" "responseStatus=206 Partial Content" "parallel download"
expect_eq "$want_ranges" "$(ranges)" "the helper's ranges"
fake_control DELETE requests >/dev/null
helper_download
expect_helper_extracted
expect_eq "-" "$(ranges)" "the helper without --parallel"

t_finish
