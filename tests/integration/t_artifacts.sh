#!/usr/bin/env bash
# Artifacts through the real binary and the fake coordinator: uploads
# (fields, contents, when, reports, 413) and dependency downloads (with a
# redirect to object storage, zip-slip and symlink entries refused).
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

# artifact_bytes JOB N FILE: the N-th artifact the fake stored for JOB.
artifact_bytes() {
	curl -sS --fail "$FAKE_URL/__control/jobs/$1/artifacts/$2" >"$3" ||
		fail "cannot fetch artifact $2 of job $1"
}

# zip_listing FILE: "name:content" per file entry, sorted.
zip_listing() {
	"$PYTHON" - "$1" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in sorted(z.infolist(), key=lambda i: i.filename):
    if i.is_dir():
        print(i.filename)
    else:
        print("%s:%s" % (i.filename, z.read(i).decode().strip()))
PY
}

test_case "archive and junit report uploaded with the right fields and contents"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["mkdir -p out/sub", "echo one > out/a.txt", "echo two > out/sub/b.txt",
             "echo skip > out/skip.log", "printf \"<testsuite/>\" > junit.xml"],
  "payload": {"artifacts": [
    {"name": "my-art", "untracked": false, "paths": ["out/"], "exclude": ["out/*.log"],
     "when": "on_success", "expire_in": "1 week", "artifact_type": "archive", "artifact_format": "zip"},
    {"name": "junit.xml", "paths": ["junit.xml"], "when": "always", "expire_in": null,
     "artifact_type": "junit", "artifact_format": "gzip"}]}}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Uploading artifacts for successful job" "stage header"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "archive" to coordinator... 201 Created' "archive upload line"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "junit" to coordinator... 201 Created' "junit upload line"
expect_eq 2 "$(job_field "$id" 'len(d["artifacts"])')" "number of artifacts"
expect_eq "archive zip 1 week my-art.zip" \
	"$(job_field "$id" '" ".join([d["artifacts"][0][k] for k in ("artifact_type", "artifact_format", "expire_in", "filename")])')" \
	"archive fields"
expect_eq "junit gzip junit.xml.gz" \
	"$(job_field "$id" '" ".join([d["artifacts"][1][k] for k in ("artifact_type", "artifact_format", "filename")])')" \
	"report fields"
artifact_bytes "$id" 0 "$T_DIR/a.zip"
expect_eq "$(printf 'out/\nout/a.txt:one\nout/sub/\nout/sub/b.txt:two')" "$(zip_listing "$T_DIR/a.zip")" "zip contents"
artifact_bytes "$id" 1 "$T_DIR/r.gz"
expect_eq "<testsuite/>" "$(gzip -dc "$T_DIR/r.gz")" "junit report content"
q=$(fake_control GET "requests?endpoint=artifacts_upload&job_id=$id&body=0")
expect_eq "artifact_format=zip&artifact_type=archive&expire_in=1+week" \
	"$(json_get "$q" 'd["requests"][0]["raw_query"]')" "upload query string"

test_case "when: on_failure uploads on a failing job only"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo log > build.log", "exit 3"],
  "payload": {"artifacts": [
    {"name": "failure-logs", "paths": ["build.log"], "when": "on_failure", "artifact_type": "archive", "artifact_format": "zip"},
    {"name": "success-only", "paths": ["build.log"], "when": "on_success", "artifact_type": "archive", "artifact_format": "zip"}]}}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq 3 "$(job_field "$id" 'd["exit_code"]')" "exit code of the script"
expect_contains "$T_DIR/trace" "Uploading artifacts for failed job" "failure stage header"
expect_not_contains "$T_DIR/trace" "Uploading artifacts for successful job" "success stage"
expect_eq "failure-logs.zip" "$(job_field "$id" '",".join(a["filename"] for a in d["artifacts"])')" "uploaded artifacts"

test_case "413: too large fails the job with a clear line"
fake_control PATCH config '{"max_artifact_size": 100}' >/dev/null
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["head -c 20000 /dev/urandom > big.bin"],
  "payload": {"artifacts": [{"name": "big", "paths": ["big.bin"], "when": "on_success",
     "artifact_type": "archive", "artifact_format": "zip"}]}}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
fake_control PATCH config '{"max_artifact_size": 104857600}' >/dev/null
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "archive" to coordinator... too large archive' "413 line"
expect_contains "$T_DIR/trace" "413 Request Entity Too Large" "status in the line"
expect_contains "$T_DIR/trace" "ERROR: Job failed: exit status 1" "footer"

# make_zip FILE SPEC...: a zip with "name=content" files and "name->target" links.
make_zip() {
	"$PYTHON" - "$@" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    for spec in sys.argv[2:]:
        if "->" in spec:
            name, target = spec.split("->", 1)
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (0o120777 << 16)
            z.writestr(info, target)
        else:
            name, content = spec.split("=", 1)
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (0o100755 << 16)
            z.writestr(info, content + "\n")
PY
}

# dep_job ZIPFILE: a finished job holding ZIPFILE as its archive; prints its id.
dep_job() {
	local out dep b64
	out=$(fake_control POST jobs '{"runner": null, "queue": false, "status": "success", "name": "build"}') ||
		fail "cannot create dependency job"
	dep=$(json_get "$out" 'd["id"]')
	b64=$(base64 -w0 "$1")
	fake_control POST "jobs/$dep/artifacts" '{"data_b64": "'"$b64"'", "filename": "artifacts.zip"}' >/dev/null ||
		fail "cannot attach artifact"
	echo "$dep"
}

test_case "dependencies downloaded and extracted before the script"
make_zip "$T_DIR/dep.zip" "dist/app.sh=echo from-dependency" "dist/readme.txt=hello"
dep=$(dep_job "$T_DIR/dep.zip")
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["sh dist/app.sh", "cat dist/readme.txt", "stat -c %a dist/app.sh"],
  "payload": {"dependencies": [{"id": '"$dep"', "name": "build"}]}}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Downloading artifacts for build ($dep)..." "download notice"
expect_contains "$T_DIR/trace" "Downloading artifacts from coordinator... ok" "download ok"
expect_contains "$T_DIR/trace" "from-dependency" "extracted script ran"
expect_contains "$T_DIR/trace" "755" "mode kept"

test_case "ARTIFACT_DOWNLOAD_ATTEMPTS=2: a failed download is tried again after the 5 s back-off"
fake_control POST faults '{"endpoint": "artifacts_download", "kind": "status", "status": 502, "times": 5}' >/dev/null ||
	fail "cannot inject the fault"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["cat dist/readme.txt"],
  "variables": [{"key": "ARTIFACT_DOWNLOAD_ATTEMPTS", "value": "2", "public": true, "masked": false}],
  "payload": {"dependencies": [{"id": '"$dep"', "name": "build"}]}}')
started=$(date +%s%N)
run_single --max-builds 1
took_ms=$(( ($(date +%s%N) - started) / 1000000 ))
fake_control DELETE faults >/dev/null
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Downloading artifacts from coordinator... error" "first try failed"
expect_contains "$T_DIR/trace" "Retrying in 5s..." "back-off line"
expect_contains "$T_DIR/trace" "Downloading artifacts from coordinator... ok" "second try"
[ "$took_ms" -ge 5000 ] || fail "the retry came after ${took_ms} ms, before the 5 s back-off"

test_case "dependency download follows the redirect to object storage"
fake_control PATCH config '{"direct_download_redirect": true}' >/dev/null
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["cat dist/readme.txt"],
  "payload": {"dependencies": [{"id": '"$dep"', "name": "build"}]}}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
fake_control PATCH config '{"direct_download_redirect": false}' >/dev/null
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "hello" "extracted through the redirect"
q=$(fake_control GET "requests?endpoint=storage&body=0")
expect_eq 1 "$(json_get "$q" 'len(d["requests"])')" "storage requests"
expect_eq "[]" "$(json_get "$q" '[h for h in d["requests"][0]["headers"] if h[0].lower() == "job-token"]')" "no job token sent to storage"

test_case "zip-slip and symlink entries are refused"
make_zip "$T_DIR/evil.zip" "../../../../escaped-$$.txt=evil" "link->/etc" "uplink->../../../.." "good.txt=fine"
dep=$(dep_job "$T_DIR/evil.zip")
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["cat good.txt", "ls -la"],
  "payload": {"dependencies": [{"id": '"$dep"', "name": "build"}]}}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "path leaves the target directory, refusing to extract it" "zip-slip refused"
expect_contains "$T_DIR/trace" "link to an absolute path, refusing to extract it" "absolute link refused"
expect_contains "$T_DIR/trace" "link pointing outside the target directory, refusing to extract it" "escaping link refused"
expect_contains "$T_DIR/trace" "fine" "the good entry"
found=$(find "$T_DIR" / -maxdepth 6 -name "escaped-$$.txt" 2>/dev/null | head -1)
expect_eq "" "$found" "escaped file"

test_case "a missing dependency archive fails the job before the script"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo script-ran"],
  "payload": {"dependencies": [{"id": 999999, "name": "gone",
     "artifacts_file": {"filename": "artifacts.zip", "size": 10}}]}}')
run_single --max-builds 1
expect_eq 0 "$RUN_RC" "crunner exit code ($(tail -c 600 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_not_contains "$T_DIR/trace" "script-ran" "script skipped"
expect_contains "$T_DIR/trace" "Downloading artifacts for gone (999999) failed" "failure line"
