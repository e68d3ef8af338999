#!/usr/bin/env bash
# Proxy variables are honoured as gitlab-runner honours them: http_proxy and
# HTTP_PROXY (Go reads both), NO_PROXY/no_proxy exempting a host.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

"$PYTHON" "$CR_SOURCE_DIR/tests/proxy/proxy.py" --port-file "$T_DIR/proxy.port" \
	--log "$T_DIR/proxy.log" >"$T_DIR/proxy.out" 2>&1 &
proxy_pid=$!
test_when_finished "kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null"
wait_for_port_file "$T_DIR/proxy.port" proxy "$T_DIR/proxy.out"
PROXY="http://127.0.0.1:$(cat "$T_DIR/proxy.port")"

proxied_job() { # ENV-ASSIGNMENTS...: runs one job with these variables set
	local id
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo via-proxy"]}')
	: >"$T_DIR/proxy.log"
	env -u http_proxy -u HTTP_PROXY -u no_proxy -u NO_PROXY "$@" \
		timeout 60 "$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" \
		--builds-dir "$T_DIR/builds" --check-interval 100ms --max-builds 1 \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" || fail "run-single failed: $(tail -3 "$T_DIR/run.err")"
	expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
}

test_case "http_proxy: every request goes through the proxy"
proxied_job "http_proxy=$PROXY"
expect_contains "$T_DIR/proxy.log" "PROXY POST $FAKE_URL/api/v4/jobs/request" "job request"
expect_contains "$T_DIR/proxy.log" "PROXY PUT $FAKE_URL/api/v4/jobs/" "job update"
expect_contains "$T_DIR/proxy.log" "PROXY PATCH $FAKE_URL/api/v4/jobs/" "trace"

test_case "HTTP_PROXY (upper case, as Go reads it) works too"
proxied_job "HTTP_PROXY=$PROXY"
expect_contains "$T_DIR/proxy.log" "PROXY POST $FAKE_URL/api/v4/jobs/request" "job request"

test_case "NO_PROXY exempts the host"
proxied_job "HTTP_PROXY=$PROXY" "NO_PROXY=127.0.0.1"
[ ! -s "$T_DIR/proxy.log" ] || fail "requests went through the proxy: $(head -3 "$T_DIR/proxy.log")"

echo "t_proxy: all cases passed"
