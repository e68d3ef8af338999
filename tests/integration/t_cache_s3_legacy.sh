#!/usr/bin/env bash
# FF_USE_LEGACY_S3_CACHE_ADAPTER: gitlab-runner's legacy S3 adapter
# (cache/s3, minio-go) knows ServerSideEncryption "S3" and "KMS" only
# (anything else is no header) and no RoleARN (no STS: the URLs are signed
# with the access keys), where the default adapter (cache/s3v2) also takes
# "AES256" and asks STS for the role's credentials.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_s3_lib.sh"

start_cache_s3

LEGACY='{"key": "FF_USE_LEGACY_S3_CACHE_ADAPTER", "value": "true", "public": true, "masked": false}'

# ljob KEY VARIABLES-JSON: saves vendor/ under KEY
ljob() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "variables": ['"$2"'],
  "script": ["mkdir -p vendor", "echo legacy > vendor/lib.txt"],
  "payload": {"cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "push", "when": "on_success", "fallback_keys": []}]}}'
}
put_line() { grep "^PUT /cache/runner/$SHORT/project/[0-9]*/$1 " "$T_DIR/objstore.log"; }

test_case "ServerSideEncryption AES256: the default adapter sends it, the legacy one does not know it"
s3_config() { # LINE: config.toml with LINE in [runners.cache.s3]
	write_config "$SK"
	printf '      %s\n' "$1" >>"$T_DIR/config.toml"
}
s3_config 'ServerSideEncryption = "AES256"'
run_job "$(ljob sse-default '')"
put_line sse-default | grep -q -- "-> 200 .*sse=AES256" || fail "default: $(put_line sse-default)"
run_job "$(ljob sse-legacy "$LEGACY")"
put_line sse-legacy | grep -q -- "-> 200" || fail "legacy: no PUT: $(cat "$T_DIR/objstore.log")"
put_line sse-legacy | grep -q "sse=" && fail "legacy sent an SSE header: $(put_line sse-legacy)"

test_case "ServerSideEncryption S3: both adapters send AES256"
s3_config 'ServerSideEncryption = "s3"'
run_job "$(ljob sse-s3 "$LEGACY")"
put_line sse-s3 | grep -q -- "-> 200 .*sse=AES256" || fail "legacy: $(put_line sse-s3)"

test_case "RoleARN: the default adapter needs STS, the legacy one signs with the access keys"
# No STS answers here: the default adapter's upload cannot be signed.
export AWS_ENDPOINT_URL_STS=http://127.0.0.1:9
s3_config 'UploadRoleARN = "arn:aws:iam::123456789012:role/crunner-cache"'
run_job "$(ljob role-default '')"
[ -z "$(put_line role-default)" ] || fail "default adapter uploaded without STS: $(put_line role-default)"
run_job "$(ljob role-legacy "$LEGACY")"
put_line role-legacy | grep -q -- "-> 200" || fail "legacy: no PUT: $(cat "$T_DIR/objstore.log")"
[ -n "$(find "$OBJ" -path '*/role-legacy' -type f)" ] || fail "legacy: no object"
unset AWS_ENDPOINT_URL_STS

t_finish
