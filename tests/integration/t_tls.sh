#!/usr/bin/env bash
# HTTPS to the coordinator: a private CA given with tls-ca-file or through
# SSL_CERT_FILE / SSL_CERT_DIR, a client certificate and key when the
# server asks for one, and clear one-line errors when the certificate
# cannot be verified.
. "$(dirname "$0")/lib.sh"

# A CA, a server certificate for 127.0.0.1 and a client certificate.
pki=$T_DIR/pki
make_test_pki "$pki" "crunner test CA" "/CN=crunner client"

test_case "https with tls-ca-file: a job runs end to end"
start_fakegitlab --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
case $FAKE_URL in https://127.0.0.1:*) ;; *) fail "fake is not on https: $FAKE_URL" ;; esac
add_runner "$RUN_TOKEN"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo over-tls"]}')
run_single --max-builds 1 --tls-ca-file "$pki/ca.pem"
expect_eq 0 "$RUN_RC" "exit code ($(tail -3 "$T_DIR/run.err"))"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_eq True "$(job_field "$id" 'd["checksum_ok"]')" "checksum"

test_case "the CA file reaches the job as CI_SERVER_TLS_CA_FILE"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["grep -c BEGIN \"$CI_SERVER_TLS_CA_FILE\""]}')
run_single --max-builds 1 --tls-ca-file "$pki/ca.pem"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
grep -q ' 01O 1$' "$T_DIR/trace" || fail "CI_SERVER_TLS_CA_FILE does not hold the CA: $(tail -c 300 "$T_DIR/trace")"

test_case "an unknown CA is a clear one-line error naming the problem"
cat >"$T_DIR/config.toml" <<TOML
[[runners]]
  name = "tls"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
TOML
cp "$T_DIR/config.toml" "$T_DIR/config.before"
rc=0
"$CRUNNER" verify -c "$T_DIR/config.toml" >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
[ "$rc" -ne 0 ] || fail "verify passed without the CA"
grep -qi "certificate" "$T_DIR/err" || fail "the error does not name the certificate: $(cat "$T_DIR/err")"
cmp -s "$T_DIR/config.toml" "$T_DIR/config.before" || fail "config.toml changed"
printf '  tls-ca-file = "%s"\n' "$pki/ca.pem" >>"$T_DIR/config.toml"
"$CRUNNER" verify -c "$T_DIR/config.toml" >"$T_DIR/out" 2>"$T_DIR/err" ||
	fail "verify with tls-ca-file failed: $(cat "$T_DIR/err")"

test_case "SSL_CERT_FILE and SSL_CERT_DIR name the CA, as for Go programs"
cp "$T_DIR/config.before" "$T_DIR/config.toml"
SSL_CERT_FILE=$pki/ca.pem "$CRUNNER" verify -c "$T_DIR/config.toml" >"$T_DIR/out" 2>"$T_DIR/err" ||
	fail "verify with SSL_CERT_FILE failed: $(cat "$T_DIR/err")"
# A file without the CA replaces the system bundle: still refused.
rc=0
SSL_CERT_FILE=$pki/client.pem "$CRUNNER" verify -c "$T_DIR/config.toml" >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
[ "$rc" -ne 0 ] || fail "verify passed with an SSL_CERT_FILE that lacks the CA"
# A directory (with OpenSSL's hash links), one of a colon-separated list.
mkdir -p "$pki/dir"
cp "$pki/ca.pem" "$pki/dir/ca.pem"
openssl rehash "$pki/dir" 2>/dev/null || c_rehash "$pki/dir" >/dev/null 2>&1 ||
	fail "cannot hash $pki/dir"
SSL_CERT_FILE=$pki/client.pem SSL_CERT_DIR=$T_DIR/no-such-dir:$pki/dir \
	"$CRUNNER" verify -c "$T_DIR/config.toml" >"$T_DIR/out" 2>"$T_DIR/err" ||
	fail "verify with SSL_CERT_DIR failed: $(cat "$T_DIR/err")"
# tls-ca-file still wins over SSL_CERT_FILE.
printf '  tls-ca-file = "%s"\n' "$pki/ca.pem" >>"$T_DIR/config.toml"
SSL_CERT_FILE=$pki/client.pem "$CRUNNER" verify -c "$T_DIR/config.toml" >"$T_DIR/out" 2>"$T_DIR/err" ||
	fail "tls-ca-file did not win over SSL_CERT_FILE: $(cat "$T_DIR/err")"

test_case "a server that wants a client certificate: tls-cert-file and tls-key-file"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null
start_fakegitlab --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-client-ca "$pki/ca.pem"
FAKE_CURL_OPTS=(--cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key")
add_runner "$RUN_TOKEN"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo mutual"]}')
run_single --max-builds 1 --tls-ca-file "$pki/ca.pem" \
	--tls-cert-file "$pki/client.pem" --tls-key-file "$pki/client.key"
expect_eq 0 "$RUN_RC" "exit code ($(tail -3 "$T_DIR/run.err"))"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
sed -i "s|^  url = .*|  url = \"$FAKE_URL\"|" "$T_DIR/config.toml"
rc=0
"$CRUNNER" verify -c "$T_DIR/config.toml" >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
[ "$rc" -ne 0 ] || fail "verify passed without a client certificate"
printf '  tls-cert-file = "%s"\n  tls-key-file = "%s"\n' "$pki/client.pem" "$pki/client.key" >>"$T_DIR/config.toml"
"$CRUNNER" verify -c "$T_DIR/config.toml" >"$T_DIR/out" 2>"$T_DIR/err" ||
	fail "verify with a client certificate failed: $(cat "$T_DIR/err")"

echo "t_tls: all cases passed"
