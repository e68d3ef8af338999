# Sourced by the scenarios that check what the Docker engine was asked for
# (after lib.sh): start_record_proxy ENGINE-SOCKET puts
# tests/docker/record_proxy.py in front of the engine at $PROXY_SOCK and
# records every request and the engine's view of each container in
# $RECORD; inspected reads that record.

# start_record_proxy ENGINE-SOCKET: the proxy, stopped with the test.
start_record_proxy() {
	PROXY_SOCK=$T_DIR/engine.sock
	RECORD=$T_DIR/record.jsonl
	: >"$RECORD"
	"$PYTHON" "$CR_SOURCE_DIR/tests/docker/record_proxy.py" "$PROXY_SOCK" "$1" \
		"$RECORD" >"$T_DIR/proxy.log" 2>&1 &
	proxy_pid=$!
	test_when_finished "kill $proxy_pid 2>/dev/null; wait $proxy_pid 2>/dev/null"
	for _ in $(seq 50); do [ -S "$PROXY_SOCK" ] && break; sleep 0.1; done
	[ -S "$PROXY_SOCK" ] || fail "the recording proxy did not start: $(cat "$T_DIR/proxy.log")"
}

# proxied_config KEY=VALUE...: write_config (tests/docker/lib.sh), the
# engine reached through the proxy.
proxied_config() {
	write_config "$@"
	sed -i "s|host = \"unix://$SOCK\"|host = \"unix://$PROXY_SOCK\"|" "$T_DIR/config.toml"
}

# inspected JOB-ID TYPE EXPR: EXPR (python, over h = HostConfig) of the
# first container of that type label the engine held for the job;
# inspected_last: of the last one.
inspected() { record_inspect first "$@"; }
inspected_last() { record_inspect last "$@"; }

# record_inspect first|last JOB-ID TYPE EXPR: what inspected and
# inspected_last print.
record_inspect() {
	"$PYTHON" -c '
import json, sys
which, job, kind, expr = sys.argv[2:6]
found = None
for line in open(sys.argv[1]):
    c = json.loads(line).get("inspect")
    if not c:
        continue
    l = c["Config"]["Labels"] or {}
    if l.get("com.gitlab.gitlab-runner.job.id") == job and \
       l.get("com.gitlab.gitlab-runner.type") == kind:
        found = c
        if which == "first":
            break
if found is None:
    print("no %s container recorded" % kind)
else:
    h = found["HostConfig"]
    print(json.dumps(eval(expr), sort_keys=True))' "$RECORD" "$1" "$2" "$3" "$4"
}
