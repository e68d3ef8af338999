#!/usr/bin/env bash
# Job secrets from AWS Secrets Manager (tests/secrets/fake_aws.py, STS and
# Secrets Manager on one port, reached through AWS_ENDPOINT_URL_STS and
# AWS_ENDPOINT_URL_SECRETS_MANAGER): the job's JWT and role ARN go to
# AssumeRoleWithWebIdentity, whose credentials sign GetSecretValue
# (SigV4 checked by the fake); SecretString, a field of it, a version,
# SecretBinary; failures with the SDK's words as runner_system_failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secrets_lib.sh"

JWT="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZS93aWRnZXQiLCJhdWQiOiJzdHMifQ.c2ln"
ROLE="arn:aws:iam::123456789012:role/gitlab-ci"
DB_JSON_PASSWORD="aws-db-Pa55-7c1e90"
WHOLE_VALUE="whole-secret-string-5b2f"
OLD_VALUE="old-version-value-3d4e"
BIN_B64=$(printf 'binary\001secret-9a8b' | base64 -w0)
SECRETS_FAKE=aws
SECRETS_JWT_VAR=AWS_ID_TOKEN
SECRETS_VALUES=("$DB_JSON_PASSWORD" "$WHOLE_VALUE" "$OLD_VALUE" "$BIN_B64" "$JWT"
	"issuedSecretKey/abc+def" "IQoJb3JpZ2luX2VjEFakeSessionToken==" "staticSecretKey/xyz")
cat >"$T_DIR/aws.json" <<EOF
{"region": "eu-west-1", "jwt": "$JWT", "role_arn": "$ROLE",
 "issue": {"access_key": "ASIAFAKEISSUED000001", "secret_key": "issuedSecretKey/abc+def",
           "session_token": "IQoJb3JpZ2luX2VjEFakeSessionToken=="},
 "static": {"access_key": "AKIAFAKESTATIC000001", "secret_key": "staticSecretKey/xyz"},
 "secrets": {
   "ci/db": {"string": "{\"username\": \"app\", \"password\": \"$DB_JSON_PASSWORD\", \"port\": 5432, \"ratio\": 100000000, \"tls\": true, \"nested\": {\"a\": 1}}"},
   "ci/whole": {"string": "$WHOLE_VALUE", "versions": {"v-old": "$OLD_VALUE"}, "stages": {"AWSPREVIOUS": "v-old"}},
   "ci/bin": {"binary_b64": "$BIN_B64"}}}
EOF
start_secrets_fake aws
export AWS_ENDPOINT_URL_STS="http://127.0.0.1:$SECRETS_FAKE_PORT"
export AWS_ENDPOINT_URL_SECRETS_MANAGER=$AWS_ENDPOINT_URL_STS
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

start_fakegitlab
add_runner "$RUN_TOKEN"

# aws_secret SECRET-ID [EXTRA-MEMBERS]: one "aws_secrets_manager" object as
# GitLab sends it (region and role on the server, the JWT by name).
aws_secret() {
	printf '{"secret_id": "%s"%s, "server": {"region": "eu-west-1", "role_arn": "%s", "jwt": "$AWS_ID_TOKEN"}}' \
		"$1" "${2:-}" "$ROLE"
}

test_case "a field of a JSON secret (file), the whole string, a version, a binary"
run_secrets_job '{
  "DB_PASSWORD": {"aws_secrets_manager": '"$(aws_secret ci/db ', "field": "password"')"'},
  "DB_PORT": {"aws_secrets_manager": '"$(aws_secret ci/db ', "field": "port"')"', "file": false},
  "DB_RATIO": {"aws_secrets_manager": '"$(aws_secret ci/db ', "field": "ratio"')"', "file": false},
  "DB_TLS": {"aws_secrets_manager": '"$(aws_secret ci/db ', "field": "tls"')"', "file": false},
  "WHOLE": {"aws_secrets_manager": '"$(aws_secret ci/whole)"', "file": false},
  "OLD": {"aws_secrets_manager": '"$(aws_secret ci/whole ', "version_stage": "AWSPREVIOUS"')"', "file": false},
  "BIN": {"aws_secrets_manager": '"$(aws_secret ci/bin)"', "file": false}}' \
	'["echo \"db sha256: $(sha256sum <\"$DB_PASSWORD\" | cut -d\" \" -f1)\"", "echo \"port=$DB_PORT ratio=$DB_RATIO tls=$DB_TLS\"", "echo \"whole sha256: $(printf %s \"$WHOLE\" | sha256sum | cut -d\" \" -f1)\"", "echo \"old sha256: $(printf %s \"$OLD\" | sha256sum | cut -d\" \" -f1)\"", "echo \"bin sha256: $(printf %s \"$BIN\" | sha256sum | cut -d\" \" -f1)\"", "echo \"echoed: $WHOLE\""]'
expect_job_success "$id"
expect_contains "$T_DIR/trace" 'Using "aws_secrets_manager" secret resolver...' "resolver line"
expect_contains "$T_DIR/trace" "db sha256: $(hash_of "$DB_JSON_PASSWORD")" "field as a file"
# Numbers as Go's fmt prints a float64: 100000000 is 1e+08.
expect_contains "$T_DIR/trace" "port=[MASKED] ratio=[MASKED] tls=[MASKED]" "masked"
expect_contains "$T_DIR/trace" "whole sha256: $(hash_of "$WHOLE_VALUE")" "the whole string"
expect_contains "$T_DIR/trace" "old sha256: $(hash_of "$OLD_VALUE")" "a version stage"
expect_contains "$T_DIR/trace" "bin sha256: $(hash_of "$BIN_B64")" "SecretBinary as base64"
expect_contains "$T_DIR/trace" "echoed: [MASKED]" "masked where echoed"
expect_eq 14 "$(secrets_requests 'len(r)')" "one STS and one read per secret"
expect_eq "AssumeRoleWithWebIdentity $ROLE True False 200" \
	"$(secrets_requests '" ".join(str(x) for x in (r[0]["action"], r[0]["role"], r[0]["jwt_ok"], r[0]["signed"], r[0]["status"]))')" \
	"STS request"
# The default RoleSessionName: ${CI_JOB_ID}-${CI_PROJECT_ID}-${CI_SERVER_HOST}.
expect_eq "$id-42-127.0.0.1" "$(secrets_requests 'r[0]["session"]')" "session name"
expect_eq "GetSecretValue ci/db sts 200" \
	"$(secrets_requests '" ".join(str(x) for x in (r[1]["action"], r[1]["secret_id"], r[1]["signed_with"], r[1]["status"]))')" \
	"signed read"
expect_eq "AWSPREVIOUS" "$(secrets_requests '[x for x in r if x.get("version_stage")][0]["version_stage"]')" "version stage sent"

test_case "Go's formatting of numbers in a field"
run_secrets_job '{"R": {"aws_secrets_manager": '"$(aws_secret ci/db ', "field": "ratio"')"', "file": false}}' \
	'["test \"$R\" = 1e+08 && echo ratio-is-go-formatted"]'
expect_contains "$T_DIR/trace" "ratio-is-go-formatted" "1e+08"

test_case "a missing secret: the SDK's error, a system failure"
run_secrets_job '{"X": {"aws_secrets_manager": '"$(aws_secret ci/nothing)"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "ERROR: Job failed (system failure): resolving secrets: operation error Secrets Manager: GetSecretValue, https response error StatusCode: 400, RequestID: fake-request-1, ResourceNotFoundException: Secrets Manager can't find the specified secret." "missing"

test_case "a missing field, a field that is an object"
run_secrets_job '{"X": {"aws_secrets_manager": '"$(aws_secret ci/db ', "field": "nope"')"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "resolving secrets: key 'nope' not found in AWS Secrets Manager response for secret 'ci/db'" "missing field"
run_secrets_job '{"X": {"aws_secrets_manager": '"$(aws_secret ci/db ', "field": "nested"')"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "resolving secrets: key 'nested' in aws secrets manager response for secret 'ci/db' is not a string, number or boolean" "object field"

test_case "a JWT STS refuses"
run_secrets_job '{"X": {"aws_secrets_manager": '"$(aws_secret ci/db)"'}}' '["echo SCRIPT-RAN"]' \
	', {"key": "AWS_ID_TOKEN", "value": "eyJub3QiOiJ2YWxpZCJ9", "public": false, "masked": true}'
expect_system_failure "$id" "operation error STS: AssumeRoleWithWebIdentity, https response error StatusCode: 400, RequestID: fake-request-1, InvalidIdentityToken: Couldn't retrieve verification key from your identity provider" "bad jwt"
expect_eq 1 "$(secrets_requests 'len(r)')" "no read after a refused STS call"

test_case "a JWT without a role ARN"
run_secrets_job '{"X": {"aws_secrets_manager": {"secret_id": "ci/db", "server": {"region": "eu-west-1", "jwt": "$AWS_ID_TOKEN"}}}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "resolving secrets: Role ARN is required when using JWT for AWS authentication" "no role"
expect_eq 0 "$(secrets_requests 'len(r)')" "nothing sent"

test_case "no role and no JWT: crunner's own AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY sign"
id=$(secrets_job '{"W": {"aws_secrets_manager": {"secret_id": "ci/whole", "region": "eu-west-1"}, "file": false}}' \
	'["test -n \"$W\" && echo got-whole"]')
AWS_ACCESS_KEY_ID=AKIAFAKESTATIC000001 AWS_SECRET_ACCESS_KEY=staticSecretKey/xyz run_job "$id"
expect_job_success "$id"
expect_contains "$T_DIR/trace" "got-whole" "value"
expect_eq "static" "$(secrets_requests 'r[0]["signed_with"]')" "signed with the environment's key"

t_finish
