# Shared by tests/integration/t_kubernetes*.sh, sourced after lib.sh: the
# Docker engine with the test images and the helper image
# (tests/docker/env.sh; skipped without an engine), the fake Kubernetes
# API server (tests/kubernetes/fake_apiserver.py: each pod's containers run
# as Docker containers), a config.toml for the kubernetes executor, and
# helpers over the fake's recorded requests.
#
# Set K8S_TEST_PREFIX (three letters) before sourcing: the runner token
# (so the pod labels and the leftover search) is this run's own.  Sourcing
# starts the fake GitLab and adds that runner ($TOKEN) to it.

start_fakegitlab
. "$CR_SOURCE_DIR/tests/docker/env.sh"

BUSYBOX=crunner-test/busybox:latest
SERVICE_IMAGE=crunner-test/service:latest
SERVICE_PORT=38472
SHORT=${K8S_TEST_PREFIX:?}$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
TOKEN=glrt-t1_${SHORT}Token01
K8S_TOKEN=k8s-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
K8S_INSTANCE=$(printf '%s' "$SHORT" | tr 'A-Z' 'a-z')
add_runner "$TOKEN"

# start_k8s [ARGS...]: the fake API server; K8S_URL, K8S_ADMIN, K8S_PID.
start_k8s() {
	local i
	rm -f "$T_DIR/k8s.port" "$T_DIR/k8s.admin"
	"$PYTHON" "$CR_SOURCE_DIR/tests/kubernetes/fake_apiserver.py" \
		--token "$K8S_TOKEN" --port-file "$T_DIR/k8s.port" \
		--admin-port-file "$T_DIR/k8s.admin" \
		--record "$T_DIR/k8s.requests" --instance "$K8S_INSTANCE" \
		--workdir "$T_DIR/k8s-work" "$@" >"$T_DIR/k8s.log" 2>&1 &
	K8S_PID=$!
	test_when_finished "stop_k8s"
	for ((i = 0; i < 150; i++)); do
		[ -s "$T_DIR/k8s.port" ] && [ -s "$T_DIR/k8s.admin" ] && break
		sleep 0.1
	done
	[ -s "$T_DIR/k8s.port" ] || fail "fake API server did not start: $(cat "$T_DIR/k8s.log")"
	K8S_SCHEME=http
	case " $* " in *" --tls-cert "*) K8S_SCHEME=https ;; esac
	K8S_URL="$K8S_SCHEME://127.0.0.1:$(cat "$T_DIR/k8s.port")"
	K8S_ADMIN="http://127.0.0.1:$(cat "$T_DIR/k8s.admin")"
}

# stop_k8s: its pods' containers removed, then the server stopped.
stop_k8s() {
	[ -n "${K8S_PID:-}" ] || return 0
	curl -sS -X POST "$K8S_ADMIN/cleanup" >/dev/null 2>&1
	kill "$K8S_PID" 2>/dev/null
	wait "$K8S_PID" 2>/dev/null
	K8S_PID=
}

# k8s_admin PATH: a GET on the fake's admin port.
k8s_admin() { curl -sS "$K8S_ADMIN$1"; }

# write_config LINES...: a config.toml for the kubernetes executor; a
# "runners.KEY=VALUE" goes to [[runners]], the rest to [runners.kubernetes].
# K8S_CONN (default: host and bearer_token) says how to connect;
# K8S_STRATEGY=exec sets FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY (the
# default, attach, leaves it unset).
write_config() {
	local kv
	{
		cat <<TOML
concurrent = 1
[[runners]]
  name = "k8s-test"
  url = "$FAKE_URL"
  token = "$TOKEN"
  executor = "kubernetes"
TOML
		for kv in "$@"; do
			case $kv in runners.*) echo "  ${kv#runners.}" ;; esac
		done
		echo "  [runners.kubernetes]"
		if [ -n "${K8S_CONN+x}" ]; then
			printf '%s\n' "$K8S_CONN"
		else
			echo "    host = \"$K8S_URL\""
			echo "    bearer_token = \"$K8S_TOKEN\""
		fi
		cat <<TOML
    image = "$BUSYBOX"
    helper_image = "$HELPER_IMAGE"
    pull_policy = "if-not-present"
    poll_interval = 1
TOML
		for kv in "$@"; do
			case $kv in runners.*) ;; *) echo "    $kv" ;; esac
		done
		if [ "${K8S_STRATEGY:-attach}" = exec ]; then
			echo "  [runners.feature_flags]"
			echo "    FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true"
		fi
	} >"$T_DIR/config.toml"
}

# run_k8s [ENV...]: run_config with 150 s for the job.
run_k8s() { RUN_TIMEOUT=150 run_config "$@"; }

# run_job JSON: queues it, runs it, leaves the trace in $T_DIR/trace and
# the id in $id.
run_job() {
	id=$(enqueue_job "$1")
	run_k8s
	job_trace "$id" "$T_DIR/trace"
}

# requests EXPR: the recorded requests (one JSON object each, r) for which
# the Python expression is true, as "METHOD PATH" lines.
requests() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    if eval(sys.argv[2]):
        print(r.get("method"), r.get("path"))' "$T_DIR/k8s.requests" "$1"
}

# pod_posts: how many pod creations (POST .../pods) the fake has seen.
pod_posts() { requests 'r["method"] == "POST" and r["path"].endswith("/pods")' | wc -l; }

# pods_left: the pods the fake has that are not being deleted (names).
pods_left() {
	k8s_admin /pods | "$PYTHON" -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(sys.stdin) if not p["deleting"])))'
}

# last_pod: the name of the pod crunner created last (from its POST).
last_pod() {
	"$PYTHON" -c '
import json, sys
name = ""
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["method"] == "POST" and r["path"].endswith("/pods") and r["status"] == 201:
        name = r["body"]["metadata"]["name"]
print(name)' "$T_DIR/k8s.requests"
}

# deleted_with POD: the DELETE body crunner sent for the pod, or nothing.
deleted_with() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["method"] == "DELETE" and r["path"].endswith("/pods/" + sys.argv[2]):
        print(json.dumps(r["body"], sort_keys=True))
        break' "$T_DIR/k8s.requests" "$1"
}

# expect_pod_deleted POD GRACE: crunner deleted it with that grace period
# ("none": no gracePeriodSeconds sent) and the fake has it no more, or
# only as terminating.
expect_pod_deleted() {
	local body left i
	[ -n "$1" ] || fail "no pod was created: $(head -c 1500 "$T_DIR/k8s.requests")"
	body=$(deleted_with "$1")
	[ -n "$body" ] || fail "pod $1 was never deleted"
	case $2 in
	none) case $body in *gracePeriodSeconds*) fail "a grace period was sent: $body" ;; esac ;;
	*) case $body in *"\"gracePeriodSeconds\": $2"[,}]*) ;; *) fail "pod $1 deleted with $body, not gracePeriodSeconds $2" ;; esac ;;
	esac
	for ((i = 0; i < 100; i++)); do
		left=$(pods_left)
		case " $left " in *" $1 "*) sleep 0.2 ;; *) return 0 ;; esac
	done
	fail "pod $1 still exists: $left"
}

# pod_field EXPR: EXPR over the body of crunner's last pod POST (p).
pod_field() {
	"$PYTHON" -c '
import json, sys
p = None
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["method"] == "POST" and r["path"].endswith("/pods"):
        p = r["body"]
print(eval(sys.argv[2]))' "$T_DIR/k8s.requests" "$1"
}

# stream_requests SUB CONTAINER: the exec or attach requests (SUB) crunner
# made to CONTAINER of the last pod, one "METHOD PATH" line each.
stream_requests() {
	requests 'r["path"].endswith("/pods/'"$(last_pod)"'/'"$1"'") and r["query"].get("container") == ["'"$2"'"]'
}
