#!/usr/bin/env bash
# An idle runner polls POST jobs/request with the lean HTTP/1.1 client
# (src/gitlab/lean_http.c): it has not mapped libcurl until a job comes,
# over http and over https (mbed TLS, loaded for it, verifying the server
# with tls-ca-file, presenting tls-cert-file / tls-key-file).  With a
# proxy variable set, libcurl polls as before.  The poll's headers and
# body are those of the libcurl path.
. "$(dirname "$0")/lib.sh"

grep -q "^CR_LAZY_CURL:BOOL=ON" "$CR_BUILD_DIR/CMakeCache.txt" 2>/dev/null ||
	skip_scenario "built without CR_LAZY_CURL"
command -v openssl >/dev/null || fail "openssl is needed to make test certificates"

# start_run [TOML LINES...]: `crunner run` with one shell runner against
# the fake (debug log in $T_DIR/srv.log), its pid in SRV.
start_run() {
	local cfg=$T_DIR/config.toml line
	cat >"$cfg" <<EOF
concurrent = 1
check_interval = 1
log_level = "debug"
[[runners]]
  name = "lean"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
EOF
	for line in "$@"; do printf '  %s\n' "$line" >>"$cfg"; done
	"$CRUNNER" run --config "$cfg" >"$T_DIR/srv.out" 2>"$T_DIR/srv.log" &
	SRV=$!
	test_when_finished "kill -KILL $SRV 2>/dev/null; wait $SRV 2>/dev/null"
}

stop_run() {
	kill -KILL "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
}

# wait_polls N: until the fake has answered N job requests (20 s at most).
wait_polls() {
	fake_control POST requests/wait "{\"endpoint\": \"request\", \"count\": $1, \"timeout\": 20, \"body\": false}" \
		>/dev/null || fail "fewer than $1 job requests came: $(tail -5 "$T_DIR/srv.log")"
}

# wait_job ID: until the job has finished (60 s at most).
wait_job() {
	local i st
	for ((i = 0; i < 600; i++)); do
		st=$(job_field "$1" 'd["status"]')
		case $st in success | failed) return 0 ;; esac
		sleep 0.1
	done
	fail "job $1 did not finish: $st; $(tail -5 "$T_DIR/srv.log")"
}

maps() { cat "/proc/$SRV/maps"; }

# poll_headers FILE: the header names of the last job request, sorted.
poll_headers() {
	fake_control GET "requests?endpoint=request&body=false" |
		"$PYTHON" -c 'import json,sys; r=json.load(sys.stdin)["requests"][-1]
print("\n".join(sorted(h[0].lower() for h in r["headers"])))' >"$1"
}
# poll_body FILE: the JSON body of the last job request, keys sorted,
# without last_update (the fake's state, which changes between runs).
poll_body() {
	fake_control GET "requests?endpoint=request" |
		"$PYTHON" -c 'import json,sys; r=json.load(sys.stdin)["requests"][-1]["json"]
r.pop("last_update", None); print(json.dumps(r, sort_keys=True))' >"$1"
}

# wait_log TEXT: until the runner's log has TEXT (10 s at most).
wait_log() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q -- "$1" "$T_DIR/srv.log" && return 0
		sleep 0.1
	done
	fail "no '$1' in the runner's log: $(tail -5 "$T_DIR/srv.log")"
}

test_case "an idle runner polls over http without libcurl; the job loads it"
start_fakegitlab
add_runner "$RUN_TOKEN"
start_run
wait_polls 2
maps >"$T_DIR/maps-idle"
expect_contains "$T_DIR/maps-idle" "libc.so" "the runner's mappings"
expect_not_contains "$T_DIR/maps-idle" "libcurl" "libcurl mapped by an idle runner"
expect_not_contains "$T_DIR/maps-idle" "libcrypto" "libcrypto mapped by an idle runner"
grep -q "jobs/request: status 204.*lean HTTP/1.1 client" "$T_DIR/srv.log" ||
	fail "the debug log does not say the lean client polls: $(grep jobs/request "$T_DIR/srv.log" | tail -2)"
poll_headers "$T_DIR/headers-lean"
poll_body "$T_DIR/body-lean"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo lean-hello"]}')
wait_job "$id"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "lean-hello" "the job's output"
maps >"$T_DIR/maps-job"
expect_contains "$T_DIR/maps-job" "libcurl" "libcurl loaded for the job"
stop_run

test_case "with a proxy variable set, libcurl polls (and sends what the lean client sends)"
fake_control DELETE requests >/dev/null || fail "cannot clear the request log"
# no_proxy keeps the fake reachable: only the variable's presence matters.
http_proxy=http://127.0.0.1:9 no_proxy=127.0.0.1 start_run
wait_polls 2
maps >"$T_DIR/maps-proxy"
expect_contains "$T_DIR/maps-proxy" "libcurl" "libcurl mapped with http_proxy set"
expect_contains "$T_DIR/srv.log" "libcurl sends it: http_proxy is set" "why libcurl polls"
poll_headers "$T_DIR/headers-curl"
poll_body "$T_DIR/body-curl"
stop_run
diff -u "$T_DIR/headers-curl" "$T_DIR/headers-lean" >"$T_DIR/headers.diff" ||
	fail "the lean poll's headers differ from libcurl's: $(cat "$T_DIR/headers.diff")"
diff -u "$T_DIR/body-curl" "$T_DIR/body-lean" >"$T_DIR/body.diff" ||
	fail "the lean poll's body differs from libcurl's: $(cat "$T_DIR/body.diff")"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

# A CA, a server certificate for 127.0.0.1 (an IP address name) and
# localhost, a client certificate, and a CA that signed neither.
pki=$T_DIR/pki
mkdir -p "$pki"
(
	cd "$pki"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=crunner lean CA" \
		-keyout ca.key -out ca.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=fake gitlab" \
		-keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile server.ext -out server.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=crunner client" \
		-keyout client.key -out client.csr 2>/dev/null
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -out client.pem 2>/dev/null
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout other.key -out other.pem 2>/dev/null
	# Signed by the CA, but for other names than the fake's.
	printf 'subjectAltName=DNS:gitlab.example.com,IP:127.0.0.2\n' >wrong.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile wrong.ext -out wrong.pem 2>/dev/null
) || fail "cannot make the test certificates"

test_case "https: the idle poll verifies the server with tls-ca-file over mbed TLS, without libcurl"
start_fakegitlab --tls-cert "$pki/server.pem" --tls-key "$pki/server.key"
FAKE_CURL_OPTS=(--cacert "$pki/ca.pem")
case $FAKE_URL in https://127.0.0.1:*) ;; *) fail "fake is not on https: $FAKE_URL" ;; esac
add_runner "$RUN_TOKEN"
start_run "tls-ca-file = \"$pki/ca.pem\""
wait_polls 2
maps >"$T_DIR/maps-tls"
expect_contains "$T_DIR/maps-tls" "libmbedtls" "mbed TLS loaded for the https poll"
expect_not_contains "$T_DIR/maps-tls" "libcurl" "libcurl mapped by an idle https runner"
grep -q "jobs/request: status 204.*lean HTTP/1.1 client" "$T_DIR/srv.log" ||
	fail "no lean https poll in the debug log: $(grep jobs/request "$T_DIR/srv.log" | tail -2)"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo over-lean-tls"]}')
wait_job "$id"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
stop_run

test_case "https by host name: SNI, and the DNS name checked"
saved_url=$FAKE_URL
FAKE_URL=${FAKE_URL/127.0.0.1/localhost}
start_run "tls-ca-file = \"$pki/ca.pem\""
wait_log "localhost:[0-9]*/api/v4/jobs/request: status 204"
grep -q "localhost:[0-9]*/api/v4/jobs/request: status 204.*lean HTTP/1.1 client" "$T_DIR/srv.log" ||
	fail "no lean poll of https://localhost: $(grep jobs/request "$T_DIR/srv.log" | tail -2)"
stop_run
FAKE_URL=$saved_url

test_case "https: a server certificate the CA did not sign is refused, saying so"
start_run "tls-ca-file = \"$pki/other.pem\""
wait_log "asking for a job failed"
grep "asking for a job failed" "$T_DIR/srv.log" | head -1 >"$T_DIR/refused"
expect_contains "$T_DIR/refused" "certificate" "the refusal names the certificate"
maps >"$T_DIR/maps-refused"
expect_not_contains "$T_DIR/maps-refused" "libcurl" "libcurl loaded for a refused poll"
stop_run
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

test_case "https: a certificate for other names is refused, by IP address and by host name"
start_fakegitlab --tls-cert "$pki/wrong.pem" --tls-key "$pki/server.key"
FAKE_CURL_OPTS=(-k)
add_runner "$RUN_TOKEN"
start_run "tls-ca-file = \"$pki/ca.pem\""
wait_log "asking for a job failed"
grep "asking for a job failed" "$T_DIR/srv.log" | head -1 >"$T_DIR/wrong-ip"
expect_contains "$T_DIR/wrong-ip" "does not name 127.0.0.1" "the refusal by IP address"
stop_run
saved_url=$FAKE_URL
FAKE_URL=${FAKE_URL/127.0.0.1/localhost}
start_run "tls-ca-file = \"$pki/ca.pem\""
wait_log "asking for a job failed"
grep "asking for a job failed" "$T_DIR/srv.log" | head -1 >"$T_DIR/wrong-name"
expect_contains "$T_DIR/wrong-name" "not trusted" "the refusal by host name"
stop_run
FAKE_URL=$saved_url
n=$(fake_control GET "requests?endpoint=request&body=false" |
	"$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))')
expect_eq 0 "$n" "job requests that reached a server with the wrong names"
kill "$FAKE_PID"; wait "$FAKE_PID" 2>/dev/null

test_case "https with a client certificate the server requires"
start_fakegitlab --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --tls-client-ca "$pki/ca.pem"
FAKE_CURL_OPTS=(--cacert "$pki/ca.pem" --cert "$pki/client.pem" --key "$pki/client.key")
add_runner "$RUN_TOKEN"
start_run "tls-ca-file = \"$pki/ca.pem\"" "tls-cert-file = \"$pki/client.pem\"" \
	"tls-key-file = \"$pki/client.key\""
wait_polls 2
maps >"$T_DIR/maps-mtls"
expect_not_contains "$T_DIR/maps-mtls" "libcurl" "libcurl mapped by an idle runner with a client certificate"
stop_run
# Without the certificate the server refuses the handshake.
fake_control DELETE requests >/dev/null
start_run "tls-ca-file = \"$pki/ca.pem\""
wait_log "asking for a job failed"
n=$(fake_control GET "requests?endpoint=request&body=false" |
	"$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["requests"]))')
expect_eq 0 "$n" "job requests that reached the fake without a client certificate"
stop_run

t_finish
