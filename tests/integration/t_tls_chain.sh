#!/usr/bin/env bash
# CI_SERVER_TLS_CA_FILE, CI_SERVER_TLS_CERT_FILE and CI_SERVER_TLS_KEY_FILE
# as gitlab-runner gives them to a job (file variables): tls-ca-file's
# content when it is set, else the chain that verified GitLab on the job
# request (server, intermediate, trusted CA), with the lean client and
# with libcurl; FF_RESOLVE_FULL_TLS_CHAIN follows the trusted CA's
# "CA Issuers" URL up to a self-signed root.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || fail "openssl is needed to make test certificates"

# root -> intermediate -> server (127.0.0.1); the server sends itself and
# the intermediate.  The intermediate names where its issuer (the root,
# DER) is served over http: the port is picked before the certificates.
pki=$T_DIR/pki
aia=$T_DIR/aia
mkdir -p "$pki" "$aia"
aia_port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(
	cd "$pki"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=chain test root" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-keyout root.key -out root.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=chain test intermediate" \
		-keyout inter.key -out inter.csr 2>/dev/null
	printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" \
		"authorityInfoAccess=caIssuers;URI:http://127.0.0.1:$aia_port/root.der" >inter.ext
	openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial \
		-days 2 -extfile inter.ext -out inter.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1\n' >server.ext
	openssl x509 -req -in server.csr -CA inter.pem -CAkey inter.key -CAcreateserial \
		-days 2 -extfile server.ext -out server.pem 2>/dev/null
	cat server.pem inter.pem >server-chain.pem
	openssl req -newkey rsa:2048 -nodes -subj "/CN=chain client" \
		-keyout client.key -out client.csr 2>/dev/null
	openssl x509 -req -in client.csr -CA root.pem -CAkey root.key -CAcreateserial \
		-days 2 -out client.pem 2>/dev/null
	openssl x509 -in root.pem -outform DER -out "$aia/root.der"
) || fail "cannot make the test certificates"

# expect_pem OUT FILES...: the files' PEM blocks joined as gitlab-runner
# writes them: one newline between blocks, none after the last.
expect_pem() {
	local out=$1
	shift
	cat "$@" | head -c -1 >"$out"
}
expect_pem "$T_DIR/want-full.pem" "$pki/server.pem" "$pki/inter.pem" "$pki/root.pem"
expect_pem "$T_DIR/want-to-inter.pem" "$pki/server.pem" "$pki/inter.pem"

start_fakegitlab --tls-cert "$pki/server-chain.pem" --tls-key "$pki/server.key"
case $FAKE_URL in https://127.0.0.1:*) ;; *) fail "fake is not on https: $FAKE_URL" ;; esac
add_runner "$RUN_TOKEN"

# The job compares the file CI_SERVER_TLS_CA_FILE names with $1, lists
# the subjects it holds, and uses it (and the client pair) with curl.
ca_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["test -f \"$CI_SERVER_TLS_CA_FILE\" && echo CA-IS-A-FILE",
	    "cmp \"$CI_SERVER_TLS_CA_FILE\" '"$1"' && echo CA-MATCHES",
	    "openssl crl2pkcs7 -nocrl -certfile \"$CI_SERVER_TLS_CA_FILE\" | openssl pkcs7 -print_certs -noout | sed -n \"s/^subject=/SUBJECT: /p\"",
	    "curl -sS --cacert \"$CI_SERVER_TLS_CA_FILE\" -o /dev/null -w \"CURL-%{http_code}\\n\" '"$FAKE_URL"'/api/v4/version || true",
	    "echo CERT=${CI_SERVER_TLS_CERT_FILE:-none} KEY=${CI_SERVER_TLS_KEY_FILE:-none}"]}'
}

# check_ca ID WANT_FILE: the job saw a file with exactly WANT_FILE's bytes.
check_ca() {
	job_trace "$1" "$T_DIR/trace"
	expect_eq success "$(job_field "$1" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
	grep -q CA-IS-A-FILE "$T_DIR/trace" || fail "CI_SERVER_TLS_CA_FILE is not a file: $(tail -c 600 "$T_DIR/trace")"
	grep -q CA-MATCHES "$T_DIR/trace" ||
		fail "CI_SERVER_TLS_CA_FILE differs from $(basename "$2"): $(grep -a SUBJECT "$T_DIR/trace")"
}

test_case "with tls-ca-file: the job gets tls-ca-file's content, FF on or off"
for ff in false true; do
	cat >"$T_DIR/config.toml" <<TOML
[[runners]]
  name = "chain"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  tls-ca-file = "$pki/root.pem"
  [runners.feature_flags]
    FF_RESOLVE_FULL_TLS_CHAIN = $ff
TOML
	id=$(ca_job "$pki/root.pem")
	timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
		--check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" ||
		fail "run-single failed: $(tail -5 "$T_DIR/run.err")"
	check_ca "$id" "$pki/root.pem"
	grep -q 'CURL-[1-9]' "$T_DIR/trace" || fail "curl could not use the CA file: $(grep -a CURL- "$T_DIR/trace")"
	grep -q 'CERT=none KEY=none' "$T_DIR/trace" || fail "client variables set without a client pair"
done

# run_chain_job FF WANT [ENV...]: a job without tls-ca-file, the root
# trusted through SSL_CERT_FILE (or what ENV says).
# chain_runner FF: the [[runners]] entry of those jobs, without tls-ca-file.
chain_runner() {
	cat <<TOML
[[runners]]
  name = "chain"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  [runners.feature_flags]
    FF_RESOLVE_FULL_TLS_CHAIN = $1
TOML
}

run_chain_job() {
	local ff=$1 want=$2
	shift 2
	chain_runner "$ff" >"$T_DIR/config.toml"
	id=$(ca_job "$want")
	env -u SSL_CERT_DIR "$@" timeout 120 "$CRUNNER" --debug run-single --config "$T_DIR/config.toml" \
		--max-builds 1 --check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" ||
		fail "run-single failed: $(tail -5 "$T_DIR/run.err")"
	check_ca "$id" "$want"
}

test_case "without tls-ca-file (lean client): server, intermediate, root"
run_chain_job false "$T_DIR/want-full.pem" SSL_CERT_FILE="$pki/root.pem"
grep -q 'jobs/request.*lean HTTP/1.1 client' "$T_DIR/run.err" ||
	fail "the job request did not go through the lean client: $(grep -a jobs/request "$T_DIR/run.err" | tail -2)"
grep -q 'CURL-[1-9]' "$T_DIR/trace" || fail "curl could not use the CA file: $(grep -a CURL- "$T_DIR/trace")"

test_case "without tls-ca-file (libcurl): the same chain"
run_chain_job false "$T_DIR/want-full.pem" SSL_CERT_FILE="$pki/root.pem" CRUNNER_LEAN_HTTP=0
grep -q 'jobs/request.*libcurl' "$T_DIR/run.err" ||
	fail "the job request did not go through libcurl: $(grep -a jobs/request "$T_DIR/run.err" | tail -2)"

test_case "the client certificate and key reach the job as files"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["cmp \"$CI_SERVER_TLS_CERT_FILE\" '"$pki/client.pem"' && echo CERT-MATCHES",
    "cmp \"$CI_SERVER_TLS_KEY_FILE\" '"$pki/client.key"' && echo KEY-MATCHES"]}')
run_single --max-builds 1 --tls-ca-file "$pki/root.pem" \
	--tls-cert-file "$pki/client.pem" --tls-key-file "$pki/client.key"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$T_DIR/trace"))"
grep -q CERT-MATCHES "$T_DIR/trace" || fail "CI_SERVER_TLS_CERT_FILE: $(tail -c 600 "$T_DIR/trace")"
grep -q KEY-MATCHES "$T_DIR/trace" || fail "CI_SERVER_TLS_KEY_FILE: $(tail -c 600 "$T_DIR/trace")"

test_case "the trusted CA is an intermediate: the chain ends there with the flag off"
run_chain_job false "$T_DIR/want-to-inter.pem" SSL_CERT_FILE="$pki/inter.pem"
grep -q 'CURL-[1-9]' "$T_DIR/trace" || fail "curl could not use the CA file: $(grep -a CURL- "$T_DIR/trace")"

test_case "FF_RESOLVE_FULL_TLS_CHAIN fetches the root from the intermediate's CA Issuers URL"
"$PYTHON" -u -m http.server "$aia_port" --bind 127.0.0.1 --directory "$aia" \
	>"$T_DIR/aia.log" 2>&1 &
aia_pid=$!
test_when_finished "kill $aia_pid 2>/dev/null; wait $aia_pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do
	curl -sf -o /dev/null "http://127.0.0.1:$aia_port/root.der" && break
	sleep 0.1
done
run_chain_job true "$T_DIR/want-full.pem" SSL_CERT_FILE="$pki/inter.pem"
grep -q 'GET /root.der' "$T_DIR/aia.log" || fail "the root was not fetched: $(cat "$T_DIR/aia.log")"
run_chain_job true "$T_DIR/want-full.pem" SSL_CERT_FILE="$pki/inter.pem" CRUNNER_LEAN_HTTP=0

test_case "FF_RESOLVE_FULL_TLS_CHAIN: an issuer that cannot be fetched leaves the job without a CA file"
kill "$aia_pid"
wait "$aia_pid" 2>/dev/null
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo CA=${CI_SERVER_TLS_CA_FILE:-none}"]}')
env -u SSL_CERT_DIR SSL_CERT_FILE="$pki/inter.pem" timeout 120 "$CRUNNER" run-single \
	--config "$T_DIR/config.toml" --max-builds 1 --check-interval 100ms \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" || fail "run-single failed: $(tail -5 "$T_DIR/run.err")"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
grep -q 'CA=none' "$T_DIR/trace" || fail "the job has a CA file: $(tail -c 300 "$T_DIR/trace")"
grep -q "couldn't build CA Chain" "$T_DIR/run.err" || fail "no error logged: $(tail -5 "$T_DIR/run.err")"

test_case "FF_RESOLVE_FULL_TLS_CHAIN: a slow CA Issuers server holds up only its own job"
# The issuer fetch runs off the loop thread (util/offload.h): while it
# waits, the same `crunner run` takes, runs and reports another runner's
# job; the first job then starts with the whole chain.
AIA_DELAY=8
"$PYTHON" -u - "$aia_port" "$aia" "$AIA_DELAY" >"$T_DIR/slow-aia.log" 2>&1 <<'PY' &
import functools, http.server, sys, time
class Slow(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        print("RECV", self.path, flush=True)
        time.sleep(float(sys.argv[3]))
        super().do_GET()
        print("SENT", self.path, flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])),
    functools.partial(Slow, directory=sys.argv[2])).serve_forever()
PY
slow_aia_pid=$!
test_when_finished "kill $slow_aia_pid 2>/dev/null; wait $slow_aia_pid 2>/dev/null"
OTHER_TOKEN=glrt-t1_integrationToken02
add_runner "$OTHER_TOKEN"
{
	printf 'concurrent = 2\ncheck_interval = 1\n'
	chain_runner true
	cat <<TOML
[[runners]]
  name = "other"
  url = "$FAKE_URL"
  token = "$OTHER_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds-other"
TOML
} >"$T_DIR/config.toml"
slow=$(ca_job "$T_DIR/want-full.pem")
env -u SSL_CERT_DIR SSL_CERT_FILE="$pki/inter.pem" "$CRUNNER" run \
	--config "$T_DIR/config.toml" >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
run_pid=$!
test_when_finished "kill -KILL $run_pid 2>/dev/null"
for ((i = 0; i < 300; i++)); do
	grep -q '^RECV /root.der' "$T_DIR/slow-aia.log" && break
	sleep 0.1
done
grep -q '^RECV /root.der' "$T_DIR/slow-aia.log" || fail "the issuer was never fetched: $(tail -5 "$T_DIR/run.err")"
quick=$(enqueue_job '{"runner": "'"$OTHER_TOKEN"'", "git_strategy": "none", "script": ["echo quick-job-ran"]}')
for ((i = 0; i < (AIA_DELAY - 3) * 10; i++)); do
	[ "$(job_field "$quick" 'd["status"]')" = success ] && break
	sleep 0.1
done
expect_eq success "$(job_field "$quick" 'd["status"]')" "the other runner's job while the issuer fetch waits"
grep -q '^SENT /root.der' "$T_DIR/slow-aia.log" && fail "the issuer was already sent: the test proves nothing"
for ((i = 0; i < 300; i++)); do
	[ "$(job_field "$slow" 'd["status"]')" = success ] && break
	sleep 0.1
done
check_ca "$slow" "$T_DIR/want-full.pem"
kill -TERM "$run_pid"
wait "$run_pid" 2>/dev/null
! grep -q Sanitizer "$T_DIR/run.err" || fail "sanitizer report: $(grep -A20 Sanitizer "$T_DIR/run.err" | head -30)"

test_case "git over https: get_sources trusts the repository's host with the CA file, and so can the job"
make_upstream widget.git hello-over-tls
# A dumb-HTTP git server over https with the same chain as the fake.
"$PYTHON" - "$T_DIR/srv" "$pki/server-chain.pem" "$pki/server.key" >"$T_DIR/git-https.out" 2>&1 <<'PY' &
import functools, http.server, ssl, sys
root, cert, key = sys.argv[1:4]
class H(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=root))
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print("port", srv.server_address[1], flush=True)
srv.serve_forever()
PY
git_pid=$!
test_when_finished "kill $git_pid 2>/dev/null; wait $git_pid 2>/dev/null"
for _ in $(seq 100); do
	git_port=$(awk '/^port/ {print $2}' "$T_DIR/git-https.out")
	[ -n "$git_port" ] && break
	sleep 0.1
done
[ -n "$git_port" ] || fail "the git server did not start: $(cat "$T_DIR/git-https.out")"
repo=https://127.0.0.1:$git_port/widget.git
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "clone",
  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget",
  "payload": {"git_info": {"repo_url": "https://gitlab-ci-token:JOBTOKEN@127.0.0.1:'"$git_port"'/widget.git",
     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
  "script": ["cat README",
    "git -c http.sslCAInfo=\"$CI_SERVER_TLS_CA_FILE\" clone -q '"$repo"' again && cat again/README | sed s/^/AGAIN-/"]}')
# Only the CA file can make git trust the server: no SSL_CERT_* for it.
env -u SSL_CERT_FILE -u SSL_CERT_DIR -u GIT_SSL_CAINFO timeout 120 "$CRUNNER" run-single \
	--url "$FAKE_URL" --token "$RUN_TOKEN" --builds-dir "$T_DIR/builds" \
	--check-interval 100ms --max-builds 1 --tls-ca-file "$pki/root.pem" \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" || fail "run-single failed: $(tail -5 "$T_DIR/run.err")"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
grep -q '^.*hello-over-tls' "$T_DIR/trace" || fail "get_sources did not clone: $(tail -c 800 "$T_DIR/trace")"
grep -q 'AGAIN-hello-over-tls' "$T_DIR/trace" || fail "the job's clone failed: $(tail -c 800 "$T_DIR/trace")"
