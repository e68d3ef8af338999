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

# inspected JOB-ID TYPE EXPR: EXPR (python, over h = HostConfig) of the
# first container of that type label the engine held for the job.
inspected() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    c = r.get("inspect")
    if not c:
        continue
    l = c["Config"]["Labels"] or {}
    if l.get("com.gitlab.gitlab-runner.job.id") == sys.argv[2] and \
       l.get("com.gitlab.gitlab-runner.type") == sys.argv[3]:
        h = c["HostConfig"]
        print(json.dumps(eval(sys.argv[4]), sort_keys=True))
        break
else:
    print("no %s container recorded" % sys.argv[3])' "$RECORD" "$1" "$2" "$3"
}
