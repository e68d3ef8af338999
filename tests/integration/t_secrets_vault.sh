#!/usr/bin/env bash
# Job secrets from HashiCorp Vault (tests/secrets/fake_vault.py): the fake
# GitLab hands out jobs with `secrets:` (it drops them unless the runner
# announces vault_secrets); crunner logs in with the job's ID token and
# role, in the namespace, reads kv-v2 and kv-v1 secrets, gives the job a
# file variable (default) or the value (file: false), masks every value
# in the log, and fails the job with gitlab-runner's message and failure
# reason when Vault refuses or fails, or the secret is missing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secrets_lib.sh"

JWT="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZS93aWRnZXQifQ.c2lnbmF0dXJl"
DB_PASSWORD_VALUE="db-Pa55w0rd-from-Vault-7f3a"
API_KEY_VALUE="api-key-kv1-91c2e6d4"
SECRETS_FAKE=vault
SECRETS_JWT_VAR=VAULT_ID_TOKEN
# Nothing secret, ever: not in the log, not in crunner's own output.
SECRETS_VALUES=("$DB_PASSWORD_VALUE" "$API_KEY_VALUE" "line-one-Zq81" "line-two-Wk27" "$JWT"
	"hvs.CAESIFakeVaultToken0000000001")
cat >"$T_DIR/vault.json" <<EOF
{"jwt": "$JWT", "roles": ["ci-role"], "auth_path": "gitlab-jwt", "namespace": "team-a",
 "token": "hvs.CAESIFakeVaultToken0000000001",
 "mounts": {
   "secret": {"type": "kv-v2", "data": {
     "ci/db": {"password": "$DB_PASSWORD_VALUE", "user": "app"},
     "ci/forbidden": {"password": "never-read"},
     "ci/multi": {"pem": "line-one-Zq81\nline-two-Wk27\n"},
     "ci/nums": {"port": 5432}}},
   "kv": {"type": "kv-v1", "data": {"ci/api": {"key": "$API_KEY_VALUE"}}}},
 "deny": ["secret/data/ci/forbidden"],
 "fail": ["secret/data/ci/broken"],
 "slow": {"secret/data/ci/slow": 60}}
EOF
start_secrets_fake vault
VAULT_PID=$SECRETS_FAKE_PID
VAULT_URL="http://127.0.0.1:$SECRETS_FAKE_PORT"

start_fakegitlab
add_runner "$RUN_TOKEN"

# vault_secret ENGINE MOUNT PATH FIELD [ROLE]: one secret's "vault" object
# as GitLab sends it (the JWT named by its id_token variable).
vault_secret() {
	printf '{"server": {"url": "%s", "namespace": "team-a", "auth": {"name": "jwt", "path": "gitlab-jwt", "data": {"jwt": "$VAULT_ID_TOKEN", "role": "%s"}}}, "engine": {"name": "%s", "path": "%s"}, "path": "%s", "field": "%s"}' \
		"$VAULT_URL" "${5:-ci-role}" "$1" "$2" "$3" "$4"
}

test_case "kv-v2 as a file variable, kv-v1 as a value, both masked"
db=$(vault_secret kv-v2 secret ci/db password)
api=$(vault_secret kv-v1 kv ci/api key)
expected_hash=$(hash_of "$DB_PASSWORD_VALUE")
run_secrets_job '{"DB_PASSWORD": {"vault": '"$db"'}, "API_KEY": {"vault": '"$api"', "file": false}}' \
	'["test -f \"$DB_PASSWORD\" && echo \"db file exists\"", "echo \"db sha256: $(sha256sum <\"$DB_PASSWORD\" | cut -d\" \" -f1)\"", "echo \"path: $DB_PASSWORD\" >\"$CI_PROJECT_DIR/../path.txt\"", "echo \"api: $API_KEY\"", "echo \"db: $(cat \"$DB_PASSWORD\")\"", "test \"$API_KEY\" = \"'"$API_KEY_VALUE"'\" && echo api-key-matches"]'
expect_job_success "$id"
expect_contains "$T_DIR/trace" "Resolving secrets" "section header"
expect_contains "$T_DIR/trace" "section_start:" "sections"
grep -q "section_start:[0-9]*:resolve_secrets" "$T_DIR/trace" || fail "no resolve_secrets section"
expect_contains "$T_DIR/trace" 'Resolving secret "DB_PASSWORD"...' "per-secret line"
expect_contains "$T_DIR/trace" 'Resolving secret "API_KEY"...' "per-secret line"
expect_contains "$T_DIR/trace" 'Using "vault" secret resolver...' "resolver line"
expect_contains "$T_DIR/trace" "db file exists" "file variable"
expect_contains "$T_DIR/trace" "db sha256: $expected_hash" "file content"
expect_contains "$T_DIR/trace" "api: [MASKED]" "value masked where echoed"
expect_contains "$T_DIR/trace" "db: [MASKED]" "file content masked where echoed"
expect_contains "$T_DIR/trace" "api-key-matches" "value variable"
# resolve_secrets comes before the executor is prepared (spec 8.1).
r_line=$(grep -n "Resolving secrets" "$T_DIR/trace" | head -1 | cut -d: -f1)
p_line=$(grep -n 'Preparing the "shell" executor' "$T_DIR/trace" | head -1 | cut -d: -f1)
[ "$r_line" -lt "$p_line" ] || fail "resolve_secrets after prepare_executor ($r_line, $p_line)"
# The file variable is gone once the job ended.
path=$(sed -n 's/^path: //p' "$T_DIR"/builds/*/*/acme/path.txt 2>/dev/null | head -1)
[ -n "$path" ] || path=$(find "$T_DIR/builds" -name path.txt -exec sed -n 's/^path: //p' {} \; | head -1)
[ -n "$path" ] || fail "the job did not record its file variable's path"
case $path in */DB_PASSWORD) ;; *) fail "file variable path: $path" ;; esac
[ ! -e "$path" ] || fail "the secret's file is still there: $path"
# Vault saw: two logins (one per secret) in the namespace with the JWT and
# role, then the reads with the client token at the engines' paths.
expect_eq 4 "$(secrets_requests 'len(r)')" "vault requests"
expect_eq "PUT auth/gitlab-jwt/login ['jwt', 'role'] ci-role True team-a" \
	"$(secrets_requests '" ".join(str(x) for x in (r[0]["method"], r[0]["path"], r[0]["keys"], r[0]["role"], r[0]["jwt_ok"], r[0]["namespace"]))')" \
	"login request"
expect_eq "GET secret/data/ci/db True team-a" \
	"$(secrets_requests '" ".join(str(x) for x in (r[1]["method"], r[1]["path"], r[1]["token"], r[1]["namespace"]))')" \
	"kv-v2 read"
expect_eq "GET kv/ci/api True" \
	"$(secrets_requests '" ".join(str(x) for x in (r[3]["method"], r[3]["path"], r[3]["token"]))')" \
	"kv-v1 read"
expect_eq "200 200 200 200" "$(secrets_requests '" ".join(str(x["status"]) for x in r)')" "all answered"
expect_eq True "$(fake_control GET "requests?endpoint=request" | "$PYTHON" -c 'import json,sys
print(all(q["json"]["info"]["features"]["vault_secrets"] is True for q in json.load(sys.stdin)["requests"]))')" \
	"vault_secrets announced in every job request"

test_case "a multi-line value is masked line by line and whole"
multi=$(vault_secret kv-v2 secret ci/multi pem)
run_secrets_job '{"PEM": {"vault": '"$multi"', "file": false}}' '["printf \"%s\" \"$PEM\"", "echo; echo end-of-pem"]'
expect_job_success "$id"
expect_contains "$T_DIR/trace" "end-of-pem" "script ran"

test_case "a missing field fails the job (FF_SECRET_RESOLVING_FAILS_IF_MISSING default)"
missing=$(vault_secret kv-v2 secret ci/db no_such_field)
run_secrets_job '{"DB_PASSWORD": {"vault": '"$missing"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure \
	"ERROR: Job failed (system failure): resolving secrets: secret not found: DB_PASSWORD" "missing field"

test_case "a missing path fails the job too (Vault's 404)"
missing=$(vault_secret kv-v2 secret ci/nothing-here password)
run_secrets_job '{"DB_PASSWORD": {"vault": '"$missing"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure \
	"resolving secrets: secret not found: DB_PASSWORD" "missing path"

test_case "FF_SECRET_RESOLVING_FAILS_IF_MISSING=false: an empty variable instead"
run_secrets_job '{"DB_PASSWORD": {"vault": '"$missing"'}}' \
	'["test -f \"$DB_PASSWORD\" && test ! -s \"$DB_PASSWORD\" && echo empty-secret-file"]' \
	', {"key": "FF_SECRET_RESOLVING_FAILS_IF_MISSING", "value": "false", "public": true}'
expect_job_success "$id"
expect_contains "$T_DIR/trace" "empty-secret-file" "empty file variable"

test_case "a path the role may not read: configuration error, Vault's words"
denied=$(vault_secret kv-v2 secret ci/forbidden password)
run_secrets_job '{"DB_PASSWORD": {"vault": '"$denied"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_configuration_error \
	"ERROR: Job failed: resolving secrets: reading secret: reading from Vault: api error: status code 403: 1 error occurred:" \
	"denied"

test_case "an unknown role: the login's 400, configuration error"
badrole=$(vault_secret kv-v2 secret ci/db password nope)
run_secrets_job '{"DB_PASSWORD": {"vault": '"$badrole"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_configuration_error \
	'ERROR: Job failed: resolving secrets: initializing Vault service: preparing authenticated client: authenticating Vault client: writing to Vault: api error: status code 400: role "nope" could not be found' \
	"bad role"
expect_eq 1 "$(secrets_requests 'len(r)')" "one login, no read"

test_case "a JWT Vault does not accept"
run_secrets_job '{"DB_PASSWORD": {"vault": '"$db"'}}' '["echo SCRIPT-RAN"]' \
	', {"key": "VAULT_ID_TOKEN", "value": "eyJub3QiOiJ2YWxpZCJ9", "public": false, "masked": true}'
expect_failed "$id" runner_configuration_error \
	"writing to Vault: api error: status code 400: error validating token: invalid signature" "bad jwt"
expect_eq False "$(secrets_requests 'r[0]["jwt_ok"]')" "the job's last VAULT_ID_TOKEN was sent"

test_case "Vault failing (5xx): external dependency failure, after the client's retries"
broken=$(vault_secret kv-v2 secret ci/broken password)
run_secrets_job '{"DB_PASSWORD": {"vault": '"$broken"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_external_dependency_failure \
	"resolving secrets: reading secret: reading from Vault: api error: status code 500: internal error" "5xx"
expect_eq 3 "$(secrets_requests 'len([x for x in r if x["path"] == "secret/data/ci/broken"])')" "read tried 3 times"

test_case "SECRETS_RETRIEVAL_ATTEMPTS=2: the whole stage once more"
run_secrets_job '{"DB_PASSWORD": {"vault": '"$denied"'}}' '["echo SCRIPT-RAN"]' \
	', {"key": "SECRETS_RETRIEVAL_ATTEMPTS", "value": "2", "public": true}, {"key": "FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY", "value": "false", "public": true}'
expect_failed "$id" runner_configuration_error "status code 403" "retried"
expect_eq 2 "$(grep -c 'Resolving secret "DB_PASSWORD"' "$T_DIR/trace")" "two tries"
expect_eq 2 "$(secrets_requests 'len([x for x in r if x["path"] == "secret/data/ci/forbidden"])')" "two reads"

test_case "Vault unreachable: system failure"
gone=$(vault_secret kv-v2 secret ci/db password | sed "s#$VAULT_URL#http://127.0.0.1:1#")
run_secrets_job '{"DB_PASSWORD": {"vault": '"$gone"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure \
	"ERROR: Job failed (system failure): resolving secrets: initializing Vault service: preparing authenticated client: authenticating Vault client: writing to Vault: " \
	"unreachable"

test_case "a secret without a provider is skipped"
run_secrets_job '{"NOTHING": {"file": false}, "DB_PASSWORD": {"vault": '"$db"'}}' '["echo \"db: $(cat \"$DB_PASSWORD\")\"", "echo \"nothing: [${NOTHING-unset}]\""]'
expect_job_success "$id"
expect_contains "$T_DIR/trace" "WARNING: Not resolved: no resolver that can handle the secret" "skipped"
expect_contains "$T_DIR/trace" "nothing: [unset]" "no variable for it"
expect_contains "$T_DIR/trace" "db: [MASKED]" "the other secret resolved"

test_case "a runner stopped (SIGTERM) while Vault is slow ends the job at once"
slow=$(vault_secret kv-v2 secret ci/slow password)
id=$(secrets_job '{"DB_PASSWORD": {"vault": '"$slow"'}}' '["echo SCRIPT-RAN"]')
: >"$T_DIR/vault.log"
start=$(date +%s)
"$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" --builds-dir "$T_DIR/builds" \
	--check-interval 100ms --trace-interval 200ms --max-builds 1 >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
runner=$!
test_when_finished "kill $runner 2>/dev/null; wait $runner 2>/dev/null"
wait_for_trace "$id" 'Using "vault" secret resolver' || fail "no resolver line"
sleep 0.5	# the read under way (the fake logs a request when it answers)
kill -TERM "$runner"
wait "$runner"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "stopping took $(( $(date +%s) - start )) s"
job_trace "$id" "$T_DIR/trace"
expect_no_sanitizer
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_eq runner_interrupted "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_not_contains "$T_DIR/trace" "SCRIPT-RAN" "the script did not run"
expect_not_contains "$T_DIR/trace" 'Preparing the "shell" executor' "no executor"

test_case "a Vault on https with a private CA: VAULT_CACERT, as gitlab-runner's Vault client reads it"
pki=$T_DIR/pki
make_test_pki "$pki" "crunner vault test CA"
start_secrets_fake vault-tls --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
tls_db=$(vault_secret kv-v2 secret ci/db password | sed "s#$VAULT_URL#https://127.0.0.1:$SECRETS_FAKE_PORT#")
id=$(secrets_job '{"DB_PASSWORD": {"vault": '"$tls_db"', "file": false}}' '["test -n \"$DB_PASSWORD\" && echo got-it-over-tls"]')
VAULT_CACERT=$pki/ca.pem run_job "$id"
expect_job_success "$id"
expect_contains "$T_DIR/trace" "got-it-over-tls" "resolved over https"
run_secrets_job '{"DB_PASSWORD": {"vault": '"$tls_db"', "file": false}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure \
	"resolving secrets: initializing Vault service: preparing authenticated client: authenticating Vault client: writing to Vault: " \
	"without VAULT_CACERT the private CA is not trusted"

# gitlab_secret ENGINE MOUNT PATH FIELD [ROLE] [JWT]: GitLab's secrets
# manager as Rails sends it: literal JWT and role, inline auth, no namespace.
gitlab_secret() {
	printf '{"server": {"url": "%s", "inline_auth": {"path": "auth/gitlab-jwt/login", "jwt": "%s", "role": "%s"}}, "engine": {"name": "%s", "path": "%s"}, "path": "%s", "field": "%s"}' \
		"$VAULT_URL" "${6-$JWT}" "${5:-ci-role}" "$1" "$2" "$3" "$4"
}

test_case "GitLab's secrets manager: OpenBao inline auth on the read, no login"
# The fake's namespace is team-a; GitLab's secrets live outside one here.
sed -i 's/"namespace": "team-a",//' "$T_DIR/vault.json"
kill "$VAULT_PID"; wait "$VAULT_PID" 2>/dev/null
"$PYTHON" "$CR_SOURCE_DIR/tests/secrets/fake_vault.py" --config "$T_DIR/vault.json" \
	--log "$T_DIR/vault.log" --port "$(cat "$T_DIR/vault.port")" >"$T_DIR/vault.out" 2>&1 &
VAULT_PID=$!
test_when_finished "kill $VAULT_PID 2>/dev/null; wait $VAULT_PID 2>/dev/null"
for _ in $(seq 50); do
	curl -s -o /dev/null "$VAULT_URL/v1/sys/health" && break
	sleep 0.1
done
run_secrets_job '{"GL_DB": {"gitlab_secrets_manager": '"$(gitlab_secret kv-v2 secret ci/db password)"'},
  "GL_API": {"gitlab_secrets_manager": '"$(gitlab_secret kv-v1 kv ci/api key)"', "file": false}}' \
	'["echo \"db sha256: $(sha256sum <\"$GL_DB\" | cut -d\" \" -f1)\"", "echo \"api: $GL_API\""]'
expect_job_success "$id"
expect_contains "$T_DIR/trace" 'Using "gitlab_secrets_manager" secret resolver...' "resolver line"
expect_contains "$T_DIR/trace" "db sha256: $(hash_of "$DB_PASSWORD_VALUE")" "file"
expect_contains "$T_DIR/trace" "api: [MASKED]" "value masked"
expect_eq "GET secret/data/ci/db auth/gitlab-jwt/login ['jwt', 'role'] ci-role True None 200|GET kv/ci/api auth/gitlab-jwt/login ['jwt', 'role'] ci-role True None 200" \
	"$(secrets_requests '"|".join(" ".join(str(x) for x in (q["method"], q["path"], q.get("inline_path"), q.get("inline_keys"), q.get("role"), q.get("jwt_ok"), q["namespace"], q["status"])) for q in r)')" \
	"two inline-auth reads, no login request"

test_case "GitLab's secrets manager: a refused role, a missing field, a field of another type"
run_secrets_job '{"X": {"gitlab_secrets_manager": '"$(gitlab_secret kv-v2 secret ci/db password nope)"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure \
	'ERROR: Job failed (system failure): resolving secrets: getting secret: get secret data: reading from Vault: api error: status code 400: role "nope" could not be found' "refused role"
run_secrets_job '{"X": {"gitlab_secrets_manager": '"$(gitlab_secret kv-v2 secret ci/db nothing)"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure 'resolving secrets: getting secret: field "nothing" not found in secret' "missing field"
run_secrets_job '{"X": {"gitlab_secrets_manager": '"$(gitlab_secret kv-v2 secret ci/nums port)"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure 'resolving secrets: getting secret: field "port" has invalid type json.Number (expected string)' "number field"
run_secrets_job '{"X": {"gitlab_secrets_manager": '"$(gitlab_secret kv-v2 secret ci/nothing-here password)"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure 'resolving secrets: secret not found: X' "missing secret"
run_secrets_job '{"X": {"gitlab_secrets_manager": '"$(gitlab_secret kv-v2 secret ci/db password ci-role '')"'}}' '["echo SCRIPT-RAN"]'
expect_failed "$id" runner_system_failure 'resolving secrets: creating vault client: configuring inline auth: inline auth JWT is required' "no jwt"
expect_eq 0 "$(secrets_requests 'len(r)')" "nothing sent without a JWT"

test_case "crunner exec says it does not resolve secrets, and runs the job"
mkdir -p "$T_DIR/local"
cat >"$T_DIR/local/.gitlab-ci.yml" <<'EOF'
deploy:
  id_tokens:
    VAULT_ID_TOKEN:
      aud: https://vault.example.com
  secrets:
    DB_PASSWORD:
      vault: production/db/password@secret
  script:
    - 'echo "db: [${DB_PASSWORD-unset}]"'
EOF
rc=0
"$CRUNNER" exec --cwd "$T_DIR/local" >"$T_DIR/local.out" 2>&1 || rc=$?
expect_eq 0 "$rc" "exit code ($(tail -c 1000 "$T_DIR/local.out"))"
expect_contains "$T_DIR/local.out" "warning: crunner exec does not resolve secrets: the job runs without those variables" "warning"
expect_eq 1 "$(grep -c 'does not resolve secrets' "$T_DIR/local.out")" "one warning line"
expect_contains "$T_DIR/local.out" "db: [unset]" "no variable"

t_finish
