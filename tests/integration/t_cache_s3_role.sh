#!/usr/bin/env bash
# The S3 cache's RoleARN through the real binary: crunner asks a fake STS
# (tests/objstore/fake_sts.py, reached through AWS_ENDPOINT_URL_STS) for
# the role's credentials with a SigV4-signed AssumeRole under the
# runner's access keys, with gitlab-runner's one-object session policy,
# and signs the cache URLs with them; the object store knows only the
# role's keys.  Credentials are kept per object and direction, so a
# second job in the same process asks STS nothing new.  A refused
# AssumeRole or an unreachable STS is one line and the local cache only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

start_fakegitlab
start_role_store
start_role_sts
OBJ_ADDR=127.0.0.1:$(cat "$T_DIR/store.port")
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
add_runner "$RUN_TOKEN"

# run_jobs N ID...: one run-single for N builds, then each job's status.
run_jobs() {
	local n=$1 id
	shift
	rm -rf "$T_DIR/builds" "$T_DIR/cache"
	RUN_RC=0
	timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" \
		--max-builds "$n" --check-interval 100ms --trace-interval 200ms \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
	expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
	for id in "$@"; do
		job_trace "$id" "$T_DIR/trace.$id"
		! grep -q "Sanitizer" "$T_DIR/run.err" "$T_DIR/trace.$id" ||
			fail "sanitizer report: $(grep -h -A20 Sanitizer "$T_DIR/run.err" "$T_DIR/trace.$id" | head -40)"
		expect_eq success "$(job_field "$id" 'd["status"]')" "job $id status"
	done
}

test_case "RoleARN: the role's credentials save and restore, asked once per object and direction"
write_config "$SK"
printf '      RoleARN = "%s"\n' "$ROLE" >>"$T_DIR/config.toml"
id1=$(cache_job role-key pull-push '["mkdir -p vendor", "echo via-assumed-role > vendor/lib.txt"]')
id2=$(cache_job role-key pull '["cat vendor/lib.txt"]')
run_jobs 2 "$id1" "$id2"
expect_contains "$T_DIR/trace.$id1" "Created cache" "created"
expect_contains "$T_DIR/trace.$id2" "via-assumed-role" "restored with the role's credentials"
expect_not_contains "$T_DIR/trace.$id1" "$ROLE_TOKEN" "no token in the log"
grep -q "^PUT /cache/runner/$SHORT/project/.*/role-key -> 200" "$T_DIR/store.log" ||
	fail "the role-signed PUT was refused: $(tail -3 "$T_DIR/store.log")"
expect_eq 1 "$(grep -c " -> 200 $ROLE action=s3:GetObject resource=arn:aws:s3:::cache/runner/$SHORT/project/[0-9]*/role-key statements=1 session=gitlab-runner-cache-upload-" "$T_DIR/sts.log")" "one AssumeRole for downloads"
expect_eq 1 "$(grep -c " -> 200 $ROLE action=s3:PutObject resource=arn:aws:s3:::cache/runner/$SHORT/project/[0-9]*/role-key statements=1 " "$T_DIR/sts.log")" "one AssumeRole for uploads"
# Downloads, uploads, and the downloads of the key's other FF_HASH_CACHE_KEYS
# name (another object: t_cache_hash_switch).
expect_eq 3 "$(grep -c "^POST / -> " "$T_DIR/sts.log")" "the second job reused the credentials"

test_case "DisableAssumeRoleCredentialsCaching: every transfer asks STS anew"
write_config "$SK"
printf '      RoleARN = "%s"\n      DisableAssumeRoleCredentialsCaching = true\n' "$ROLE" >>"$T_DIR/config.toml"
before=$(grep -c "^POST / -> " "$T_DIR/sts.log")
id1=$(cache_job nocache-key pull-push '["mkdir -p vendor", "echo fresh-creds > vendor/lib.txt"]')
id2=$(cache_job nocache-key pull '["cat vendor/lib.txt"]')
run_jobs 2 "$id1" "$id2"
expect_contains "$T_DIR/trace.$id2" "fresh-creds" "restored"
expect_not_contains "$T_DIR/run.err" "DisableAssumeRoleCredentialsCaching' in [runners.cache.s3] has no effect" "no no-effect warning"
# Each URL signed is one AssumeRole: per job a GET and a HEAD URL for the
# key's name and for its other FF_HASH_CACHE_KEYS name, and the first job's
# PUT: 9, where the cached run above needed 3 for the same two jobs.
expect_eq 9 "$(( $(grep -c "^POST / -> " "$T_DIR/sts.log") - before ))" "one AssumeRole per URL"
expect_eq 4 "$(grep -c " -> 200 $ROLE action=s3:GetObject resource=arn:aws:s3:::cache/runner/$SHORT/project/[0-9]*/nocache-key " "$T_DIR/sts.log")" "the same object and direction asked again"

test_case "UploadRoleARN: only uploads assume the role"
write_config "$SK"
printf '      UploadRoleARN = "%s"\n' "$ROLE" >>"$T_DIR/config.toml"
id=$(cache_job upload-role pull-push '["mkdir -p vendor", "echo x > vendor/lib.txt"]')
run_jobs 1 "$id"
expect_contains "$T_DIR/trace.$id" "Created cache" "uploaded"
expect_contains "$T_DIR/sts.log" "action=s3:PutObject resource=arn:aws:s3:::cache/runner/$SHORT/project/42/upload-role" "upload role"
expect_not_contains "$T_DIR/sts.log" "action=s3:GetObject resource=arn:aws:s3:::cache/runner/$SHORT/project/42/upload-role" "downloads use the runner's keys"
expect_contains "$T_DIR/store.log" "InvalidAccessKeyId" "the download went with the runner's own key"

test_case "AssumeRole refused (wrong caller secret): one line per transfer, the local cache only"
write_config "not-the-secret"
printf '      RoleARN = "%s"\n' "$ROLE" >>"$T_DIR/config.toml"
id=$(cache_job role-bad pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_jobs 1 "$id"
expect_eq 2 "$(grep -c "Cannot use the distributed cache: failed to assume role $ROLE: 403 SignatureDoesNotMatch: The request signature we calculated does not match" "$T_DIR/trace.$id")" "one line per transfer"
expect_contains "$T_DIR/trace.$id" "Created cache" "local cache made"
expect_not_contains "$T_DIR/trace.$id" "Uploading cache.zip" "no upload"

test_case "STS unreachable: one line, the local cache only"
export AWS_ENDPOINT_URL_STS=http://127.0.0.1:1
write_config "$SK"
printf '      RoleARN = "%s"\n' "$ROLE" >>"$T_DIR/config.toml"
id=$(cache_job role-down pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_jobs 1 "$id"
expect_contains "$T_DIR/trace.$id" "Cannot use the distributed cache: failed to assume role $ROLE: cannot reach STS at http://127.0.0.1:1/" "STS line"
expect_contains "$T_DIR/trace.$id" "Created cache" "local cache made"

t_finish
