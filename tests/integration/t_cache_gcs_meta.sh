#!/usr/bin/env bash
# The GCS cache without a key in config.toml (gitlab-runner's metadata
# server identity): the e-mail and token of the GCE metadata server's
# default service account (GCE_METADATA_HOST, a fakegcs.py on loopback),
# the URL signed by the IAM credentials API's signBlob, and UniverseDomain
# naming both hosts (https://storage.localhost:PORT and
# https://iamcredentials.localhost:PORT, one TLS fakegcs.py trusted
# through SSL_CERT_FILE).  Without a metadata server: one line and the
# local cache only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_gcs_lib.sh"

TOKEN=ya29.crunner-test-access-token
pki=$T_DIR/pki
mkdir -p "$pki"
(
	cd "$pki"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=crunner test CA" \
		-keyout ca.key -out ca.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=storage.localhost" \
		-keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=DNS:storage.localhost,DNS:iamcredentials.localhost\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile server.ext -out server.pem 2>/dev/null
) || fail "cannot make the test certificates"

start_fakegitlab
start_fakegcs google --private-key "$keys/sa.pem" --token "$TOKEN" \
	--tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
start_fakegcs metadata --token "$TOKEN"
add_runner "$RUN_TOKEN"
unset STORAGE_EMULATOR_HOST GOOGLE_APPLICATION_CREDENTIALS
export SSL_CERT_FILE=$pki/ca.pem
export GCE_METADATA_HOST=127.0.0.1:$PORT_metadata
URL=https://storage.localhost:$PORT_google/cache/runner/$SHORT/project

test_case "no key: the metadata server's account, signed by signBlob, saves and restores"
write_config -- "UniverseDomain = \"localhost:$PORT_google\""
id=$(cache_job meta-key pull-push '["mkdir -p vendor", "echo signed-by-iam > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Uploading cache.zip to $URL/" "upload notice"
expect_contains "$T_DIR/trace" "Created cache" "created"
expect_contains "$T_DIR/metadata.log" "GET /computeMetadata/v1/instance/service-accounts/default/email -> 200" "e-mail asked"
expect_contains "$T_DIR/metadata.log" "GET /computeMetadata/v1/instance/service-accounts/default/token -> 200" "token asked"
expect_not_contains "$T_DIR/metadata.log" "no Metadata-Flavor" "Metadata-Flavor sent"
expect_contains "$T_DIR/google.log" "POST /v1/projects/-/serviceAccounts/$EMAIL:signBlob -> 200 signed for $EMAIL" "signBlob"
grep -q "^PUT /cache/runner/$SHORT/project/.*/meta-key -> 200" "$T_DIR/google.log" ||
	fail "the signBlob-signed PUT was refused: $(tail -3 "$T_DIR/google.log")"
id=$(cache_job meta-key pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "signed-by-iam" "restored"
expect_not_contains "$T_DIR/trace" "$TOKEN" "no token in the log"

test_case "signBlob refuses the token: one line, the local cache only"
start_fakegcs google2 --private-key "$keys/sa.pem" --token other-token \
	--tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
write_config -- "UniverseDomain = \"localhost:$PORT_google2\""
id=$(cache_job meta-401 pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_job "$id"
expect_eq 2 "$(grep -c "Cannot use the distributed cache: error while generating GCS signed URL (the GCE metadata server.s service account): signing blob: 401 Request had invalid authentication credentials." "$T_DIR/trace")" "one signBlob line per transfer"
expect_contains "$T_DIR/trace" "Created cache" "local cache made"
expect_not_contains "$T_DIR/trace" "Uploading cache.zip" "no upload"

test_case "no metadata server: one line, the local cache only"
export GCE_METADATA_HOST=127.0.0.1:1
write_config -- "UniverseDomain = \"localhost:$PORT_google\""
id=$(cache_job meta-down pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Cannot use the distributed cache: error while resolving GCS credentials: getting email from metadata server: cannot reach http://127.0.0.1:1/computeMetadata/v1/instance/service-accounts/default/email" "metadata line"
expect_contains "$T_DIR/trace" "Created cache" "local cache made"

t_finish
