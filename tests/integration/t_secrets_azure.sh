#!/usr/bin/env bash
# Job secrets from Azure Key Vault (tests/secrets/fake_azure.py: the vault
# and Entra ID's token endpoint on one port, AZURE_AUTHORITY_HOST pointing
# there): the vault's 401 challenge names the resource, the job's JWT is
# the client assertion for a token of <resource>/.default, then the
# secret is read; failures in the SDK's words, runner_system_failure.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secrets_lib.sh"

JWT="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZS93aWRnZXQiLCJhdWQiOiJhenVyZSJ9.c2ln"
TOKEN="eyJ0eXAiOiJKV1QifQ.FakeEntraAccessToken.0001"
TENANT="72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT="0f0e0d0c-0b0a-0908-0706-050403020100"
NEW_VALUE="azure-new-value-4c3d"
OLD_VALUE="azure-old-value-8e7f"
SECRETS_FAKE=azure
SECRETS_JWT_VAR=AZURE_ID_TOKEN
SECRETS_VALUES=("$NEW_VALUE" "$OLD_VALUE" "$JWT" "$TOKEN")
cat >"$T_DIR/azure.json" <<EOF
{"tenant": "$TENANT", "client_id": "$CLIENT", "jwt": "$JWT", "token": "$TOKEN",
 "resource": "http://127.0.0.1",
 "secrets": {"db-password": {"versions": {"v1": "$OLD_VALUE", "v2": "$NEW_VALUE"}, "latest": "v2"},
             "novalue": {"versions": {"v1": "x"}, "latest": "v1", "no_value": true}}}
EOF
start_secrets_fake azure
AZ_URL="http://127.0.0.1:$SECRETS_FAKE_PORT"
export AZURE_AUTHORITY_HOST=$AZ_URL

start_fakegitlab
add_runner "$RUN_TOKEN"

# azure_secret NAME VERSION [CLIENT-ID]: one "azure_key_vault" object as GitLab sends it.
azure_secret() {
	printf '{"name": "%s", "version": "%s", "server": {"url": "%s", "tenant_id": "%s", "client_id": "%s", "jwt": "$AZURE_ID_TOKEN"}}' \
		"$1" "$2" "$AZ_URL" "$TENANT" "${3:-$CLIENT}"
}

test_case "the latest version as a file, an older one as a value"
run_secrets_job '{
  "DB_PASSWORD": {"azure_key_vault": '"$(azure_secret db-password "")"'},
  "OLD": {"azure_key_vault": '"$(azure_secret db-password v1)"', "file": false}}' \
	'["echo \"db sha256: $(sha256sum <\"$DB_PASSWORD\" | cut -d\" \" -f1)\"", "echo \"old: $OLD\""]'
expect_job_success "$id"
expect_contains "$T_DIR/trace" 'Using "azure_key_vault" secret resolver...' "resolver line"
expect_contains "$T_DIR/trace" "db sha256: $(hash_of "$NEW_VALUE")" "latest, as a file"
expect_contains "$T_DIR/trace" "old: [MASKED]" "version v1, masked"
expect_eq "GET /secrets/db-password/ False 401|POST /$TENANT/oauth2/v2.0/token True http://127.0.0.1/.default 200|GET /secrets/db-password/ True 200" \
	"$(secrets_requests '"|".join(" ".join(str(x) for x in ((q["method"], q["path"], q["authorized"], q["status"]) if q["method"] == "GET" else (q["method"], q["path"], q["jwt_ok"], q["scope"], q["status"]))) for q in r[:3])')" \
	"challenge, token, read"

test_case "a missing secret, and one without a value"
run_secrets_job '{"X": {"azure_key_vault": '"$(azure_secret nothing "")"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "ERROR: Job failed (system failure): resolving secrets: getting secret failed: GET $AZ_URL/secrets/nothing/?api-version=7.5: RESPONSE 404: 404 Not Found: ERROR CODE: SecretNotFound: A secret with (name/id) nothing was not found in this key vault." "missing"
run_secrets_job '{"X": {"azure_key_vault": '"$(azure_secret novalue "")"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "resolving secrets: secret not found: X" "no value"

test_case "an application Entra ID does not know"
run_secrets_job '{"X": {"azure_key_vault": '"$(azure_secret db-password "" 11111111-2222-3333-4444-555555555555)"'}}' '["echo SCRIPT-RAN"]'
expect_system_failure "$id" "resolving secrets: getting secret failed: ClientAssertionCredential: Authentication failed: RESPONSE 400 Bad Request: unauthorized_client: AADSTS700016: Application with identifier '11111111-2222-3333-4444-555555555555' was not found in the directory." "bad client"
expect_not_contains "$T_DIR/trace" "Trace ID" "first line of the description only"

t_finish
