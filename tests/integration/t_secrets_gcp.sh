#!/usr/bin/env bash
# Job secrets from Google Cloud Secret Manager (tests/secrets/fake_gcp.py,
# STS and Secret Manager on one port, reached through CRUNNER_GCP_STS_URL
# and CRUNNER_GCP_SECRET_MANAGER_URL): the job's JWT is exchanged for an
# access token with the workload identity pool's audience, the version is
# read and its CRC32C checked; failures in gitlab-runner's words.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secrets_lib.sh"

JWT="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZS93aWRnZXQiLCJhdWQiOiJnY3AifQ.c2ln"
TOKEN="ya29.FakeGoogleAccessToken-0001"
NEW_VALUE="gcp-new-secret-value-e5f6"
OLD_VALUE="gcp-old-secret-value-a1b2"
SECRETS_FAKE=gcp
SECRETS_JWT_VAR=GCP_ID_TOKEN
SECRETS_VALUES=("$NEW_VALUE" "$OLD_VALUE" "$JWT" "$TOKEN")
cat >"$T_DIR/gcp.json" <<EOF
{"project_number": "1234567890", "pool": "gitlab-pool", "provider": "gitlab-provider",
 "jwt": "$JWT", "token": "$TOKEN",
 "secrets": {
   "db-password": {"versions": {"1": "$OLD_VALUE", "2": "$NEW_VALUE"}, "latest": "2"},
   "corrupt": {"versions": {"1": "x-corrupt-value"}, "latest": "1", "corrupt": true},
   "empty": {"versions": {"1": "x"}, "latest": "1", "no_payload": true}}}
EOF
start_secrets_fake gcp
export CRUNNER_GCP_STS_URL="http://127.0.0.1:$SECRETS_FAKE_PORT"
export CRUNNER_GCP_SECRET_MANAGER_URL=$CRUNNER_GCP_STS_URL

start_fakegitlab
add_runner "$RUN_TOKEN"

# gcp_secret NAME VERSION [POOL]: one "gcp_secret_manager" object as GitLab sends it.
gcp_secret() {
	printf '{"name": "%s", "version": "%s", "server": {"project_number": "1234567890", "workload_identity_federation_pool_id": "%s", "workload_identity_federation_provider_id": "gitlab-provider", "jwt": "$GCP_ID_TOKEN"}}' \
		"$1" "$2" "${3:-gitlab-pool}"
}

test_case "latest as a file, a version by number and by resource name"
run_secrets_job '{
  "DB_PASSWORD": {"gcp_secret_manager": '"$(gcp_secret db-password latest)"'},
  "OLD": {"gcp_secret_manager": '"$(gcp_secret db-password 1)"', "file": false},
  "BY_NAME": {"gcp_secret_manager": '"$(gcp_secret projects/1234567890/secrets/db-password 2)"', "file": false}}' \
	'["echo \"db sha256: $(sha256sum <\"$DB_PASSWORD\" | cut -d\" \" -f1)\"", "echo \"old sha256: $(printf %s \"$OLD\" | sha256sum | cut -d\" \" -f1)\"", "echo \"by-name: $BY_NAME\""]'
expect_job_success "$id"
expect_contains "$T_DIR/trace" 'Using "gcp_secret_manager" secret resolver...' "resolver line"
expect_contains "$T_DIR/trace" "db sha256: $(hash_of "$NEW_VALUE")" "latest, as a file"
expect_contains "$T_DIR/trace" "old sha256: $(hash_of "$OLD_VALUE")" "version 1"
expect_contains "$T_DIR/trace" "by-name: [MASKED]" "resource name, masked"
expect_eq 6 "$(secrets_requests 'len(r)')" "one exchange and one read per secret"
expect_eq "/v1/token True //iam.googleapis.com/projects/1234567890/locations/global/workloadIdentityPools/gitlab-pool/providers/gitlab-provider" \
	"$(secrets_requests '" ".join(str(x) for x in (r[0]["path"], r[0]["jwt_ok"], r[0]["audience"]))')" "exchange"
expect_eq "/v1/projects/1234567890/secrets/db-password/versions/latest:access True 200" \
	"$(secrets_requests '" ".join(str(x) for x in (r[1]["path"], r[1]["token_ok"], r[1]["status"]))')" "read"

test_case "a missing secret: gRPC's NotFound"
run_secrets_job '{"X": {"gcp_secret_manager": '"$(gcp_secret nothing latest)"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "ERROR: Job failed (system failure): resolving secrets: failed to get secret: rpc error: code = NotFound desc = Secret [projects/1234567890/secrets/nothing] not found or has no versions." "missing"

test_case "a pool STS does not know"
run_secrets_job '{"X": {"gcp_secret_manager": '"$(gcp_secret db-password latest other-pool)"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" 'resolving secrets: failed to exchange sts token: googleapi: got HTTP response code 400 with body: {"error": "invalid_grant"' "bad audience"
expect_eq 1 "$(secrets_requests 'len(r)')" "no read after a refused exchange"

test_case "a corrupt payload, and none at all"
run_secrets_job '{"X": {"gcp_secret_manager": '"$(gcp_secret corrupt latest)"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "resolving secrets: data corruption detected" "crc"
run_secrets_job '{"X": {"gcp_secret_manager": '"$(gcp_secret empty latest)"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "resolving secrets: secret not found: X" "no payload"
run_secrets_job '{"X": {"gcp_secret_manager": '"$(gcp_secret empty latest)"', "file": false}}' \
	'["echo \"x=[$X]\""]' ', {"key": "FF_SECRET_RESOLVING_FAILS_IF_MISSING", "value": "false", "public": true}'
expect_eq success "$(job_field "$id" 'd["status"]')" "no payload, flag off: job status"
expect_contains "$T_DIR/trace" "x=[]" "empty value"

t_finish
