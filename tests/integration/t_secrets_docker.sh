#!/usr/bin/env bash
# Job secrets with the docker executor: crunner resolves them on its host
# (tests/secrets/fake_vault.py), the file variable is written into the
# build volume by the helper container (never on the host), the job's
# container reads it, and the value is masked where the job prints it.
. "$(dirname "$0")/lib.sh"
# Only start_secrets_fake of it here: tests/docker/lib.sh, sourced after,
# has this scenario's run_job.
. "$(dirname "$0")/secrets_lib.sh"

DOCKER_TEST_PREFIX=dsv
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

JWT="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJkb2NrZXIifQ.c2lnbmF0dXJlLWRvY2tlcg"
VALUE="docker-secret-Value-6e1d"
cat >"$T_DIR/vault.json" <<JSON
{"jwt": "$JWT", "roles": ["ci"], "auth_path": "jwt", "token": "hvs.DockerFakeToken01",
 "mounts": {"secret": {"type": "kv-v2", "data": {"ci/app": {"key": "$VALUE"}}}}}
JSON
SECRETS_FAKE=vault
start_secrets_fake vault
VAULT_URL="http://127.0.0.1:$SECRETS_FAKE_PORT"
SECRET='{"server": {"url": "'"$VAULT_URL"'", "auth": {"name": "jwt", "path": "jwt", "data": {"jwt": "$ID_TOKEN", "role": "ci"}}}, "engine": {"name": "kv-v2", "path": "secret"}, "path": "ci/app", "field": "key"}'

test_case "a file secret and a value secret in a job's container"
HOST_TMP=/builds/acme/widget.tmp/APP_KEY
write_config
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "ID_TOKEN", "value": "'"$JWT"'", "public": false, "masked": true}],
  "payload": {"image": {"name": "'"$BUSYBOX"'"},
    "secrets": {"APP_KEY": {"vault": '"$SECRET"'}, "APP_KEY_VALUE": {"vault": '"$SECRET"', "file": false}}},
  "script": ["test -f \"$APP_KEY\" && echo key-file-in-container", "echo \"key: $(cat \"$APP_KEY\")\"", "echo \"value: $APP_KEY_VALUE\"", "test \"$(cat \"$APP_KEY\")\" = \"$APP_KEY_VALUE\" && echo same-value"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Resolving secrets" "stage"
expect_contains "$T_DIR/trace" "key-file-in-container" "the file in the build volume"
expect_contains "$T_DIR/trace" "key: [MASKED]" "file content masked"
expect_contains "$T_DIR/trace" "value: [MASKED]" "value masked"
expect_contains "$T_DIR/trace" "same-value" "the same secret both ways"
for f in "$T_DIR/trace" "$T_DIR/run.out" "$T_DIR/run.err"; do
	expect_not_contains "$f" "$VALUE" "the secret in $(basename "$f")"
	expect_not_contains "$f" "$JWT" "the JWT in $(basename "$f")"
done
[ ! -e "$HOST_TMP" ] || fail "the file variable was written on the host"
expect_nothing_left "$id"

t_finish
