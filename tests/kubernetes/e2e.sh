#!/usr/bin/env bash
# The kubernetes executor's scenarios against a REAL cluster (the test suite
# runs them against tests/kubernetes/fake_apiserver.py; this script is for
# anyone who has a cluster).  crunner run-single takes jobs from the fake
# GitLab (tests/fakegitlab) and runs them as pods in the cluster that
# $KUBECONFIG (or ~/.kube/config) names, through its current context.
#
#   CRUNNER=build/src/crunner E2E_HELPER_IMAGE=registry.example/crunner-helper:x \
#       tests/kubernetes/e2e.sh
#
# Environment:
#   CRUNNER            the crunner binary (default: the first build*/src/crunner)
#   KUBECONFIG         kubeconfig (default ~/.kube/config); kubectl must work with it
#   E2E_HELPER_IMAGE   crunner's helper image where the cluster can pull it
#                      (required; e.g. `kind load docker-image crunner-helper:test`
#                      and E2E_HELPER_IMAGE=crunner-helper:test)
#   E2E_IMAGE          job image (default busybox:1.36)
#   E2E_SERVICE_IMAGE  service image with busybox httpd (default busybox:1.36)
#   E2E_NAMESPACE      namespace to use (default: crunner-e2e-<random>,
#                      created here and deleted at the end)
#   E2E_PULL_POLICY    pull_policy (default if-not-present)
#   E2E_GITLAB_LISTEN  host:port to expose the fake GitLab on, and
#   E2E_GITLAB_URL     the URL under which both this machine and the pods reach
#                      it (e.g. 0.0.0.0:8093 and http://192.168.49.1:8093):
#                      needed for artifacts and cache (the helper container
#                      uploads them); without them that part is skipped.
#
# Scenarios (as tests/integration/t_kubernetes*.sh on the fake): a job with a
# service (+ artifacts and cache), an image that cannot be pulled, an
# unschedulable pod, the job timeout, cancel mid-job, crunner killed with -9
# and restarted (its leftover pod deleted).  "API server down mid-job" only
# runs against the fake (POST /down on its admin port).
# Exit: 0 all passed, 1 a failure, 77 something needed is missing.

set -u
HERE=$(cd "$(dirname "$0")" && pwd)
export CR_SOURCE_DIR=${CR_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}
if [ -z "${CRUNNER:-}" ]; then
	for c in "$CR_SOURCE_DIR"/build*/src/crunner "$CR_SOURCE_DIR"/build*/crunner; do
		[ -x "$c" ] && CRUNNER=$c && break
	done
fi
export CRUNNER=${CRUNNER:-}
export PYTHON=${PYTHON:-python3}
if [ -z "$CRUNNER" ] || [ ! -x "$CRUNNER" ]; then
	echo "e2e: set CRUNNER to a built crunner binary" >&2
	exit 77
fi
. "$CR_SOURCE_DIR/tests/integration/lib.sh"

command -v kubectl >/dev/null || skip_scenario "kubectl is not installed"
kubectl version >/dev/null 2>&1 || skip_scenario "no cluster: kubectl version fails with KUBECONFIG=${KUBECONFIG:-~/.kube/config}"
[ -n "${E2E_HELPER_IMAGE:-}" ] || skip_scenario "set E2E_HELPER_IMAGE to crunner's helper image as the cluster can pull it"

IMAGE=${E2E_IMAGE:-busybox:1.36}
SERVICE_IMAGE=${E2E_SERVICE_IMAGE:-busybox:1.36}
PULL_POLICY=${E2E_PULL_POLICY:-if-not-present}
RUN_ID=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
TOKEN=glrt-t1_e2e${RUN_ID}Token01
SERVICE_PORT=38472

NS=${E2E_NAMESPACE:-}
if [ -z "$NS" ]; then
	NS=crunner-e2e-$RUN_ID
	kubectl create namespace "$NS" >/dev/null || fail "cannot create namespace $NS"
	test_when_finished "kubectl delete namespace $NS --wait=false >/dev/null 2>&1"
fi
kc() { kubectl -n "$NS" "$@"; }

start_fakegitlab
RUNNER_URL=$FAKE_URL
if [ -n "${E2E_GITLAB_LISTEN:-}" ] && [ -n "${E2E_GITLAB_URL:-}" ]; then
	# The fake GitLab binds loopback only: a small forwarder exposes it.
	"$PYTHON" - "$E2E_GITLAB_LISTEN" "${FAKE_URL#http://}" >"$T_DIR/forward.log" 2>&1 <<'PY' &
import socket, sys, threading
lhost, lport = sys.argv[1].rsplit(":", 1)
thost, tport = sys.argv[2].rsplit(":", 1)
srv = socket.create_server((lhost, int(lport)), reuse_port=False)
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass
while True:
    c, _ = srv.accept()
    t = socket.create_connection((thost, int(tport)))
    threading.Thread(target=pipe, args=(c, t), daemon=True).start()
    threading.Thread(target=pipe, args=(t, c), daemon=True).start()
PY
	fwd=$!
	test_when_finished "kill $fwd 2>/dev/null"
	RUNNER_URL=$E2E_GITLAB_URL
fi
add_runner "$TOKEN"

# write_config CASE LINES...: config.toml for the kubernetes executor in
# $NS; every pod carries crunner-e2e=<run>-<case>; "runners.X" lines go to
# [[runners]], the rest to [runners.kubernetes] (after the pod label table,
# so a line opening a table comes last).
write_config() {
	local case=$1 kv
	shift
	CASE_LABEL=$RUN_ID-$case
	{
		cat <<TOML
concurrent = 1
[[runners]]
  name = "crunner-e2e"
  url = "$RUNNER_URL"
  token = "$TOKEN"
  executor = "kubernetes"
TOML
		for kv in "$@"; do
			case $kv in runners.*) echo "  ${kv#runners.}" ;; esac
		done
		cat <<TOML
  [runners.kubernetes]
    namespace = "$NS"
    image = "$IMAGE"
    helper_image = "$E2E_HELPER_IMAGE"
    pull_policy = "$PULL_POLICY"
    poll_interval = 1
TOML
		for kv in "$@"; do
			case $kv in runners.* | \[*) ;; *) echo "    $kv" ;; esac
		done
		echo "  [runners.kubernetes.pod_labels]"
		echo "    \"crunner-e2e\" = \"$CASE_LABEL\""
		for kv in "$@"; do
			case $kv in \[*) printf '%s\n' "$kv" ;; esac
		done
		# E2E_STRATEGY=exec: gitlab-runner's legacy exec strategy.
		if [ "${E2E_STRATEGY:-attach}" = exec ]; then
			echo "  [runners.feature_flags]"
			echo "    FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY = true"
		fi
	} >"$T_DIR/config.toml"
}

# A config line that opens a table, with its keys on the same argument:
# "[runners.kubernetes.node_selector]\n  \"disktype\" = \"ssd\"".

run_crunner() { # [extra run-single args...]; RUN_RC
	RUN_RC=0
	timeout 600 "$CRUNNER" run-single --config "$T_DIR/config.toml" \
		--max-builds 1 --check-interval 200ms --trace-interval 500ms "$@" \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
}

run_job() { # JSON: queued, run, trace in $T_DIR/trace, id in $id
	id=$(enqueue_job "$1")
	run_crunner
	expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
	job_trace "$id" "$T_DIR/trace"
}

case_pods() { kc get pods -l "crunner-e2e=$CASE_LABEL" -o name 2>/dev/null; }

# expect_no_pods SECONDS: the case's pods are gone within SECONDS.
expect_no_pods() {
	local i
	for ((i = 0; i < $1 * 2; i++)); do
		[ -z "$(case_pods)" ] && return 0
		sleep 0.5
	done
	fail "pods left after ${1}s: $(case_pods)"
}

job_json() { # SCRIPT-JSON-ARRAY [EXTRA-FIELDS]
	printf '{"runner": "%s", "git_strategy": "none", "script": %s%s}' \
		"$TOKEN" "$1" "${2:+, $2}"
}

test_case "a job with a service: runs in its pod, talks to the service, the pod is deleted"
write_config service 'cleanup_grace_period_seconds = 0'
payload='"payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "alias": "web",
   "entrypoint": ["/bin/sh", "-c"],
   "command": ["echo \"$SVC_GREETING\" > /tmp/index.html && exec httpd -f -p '"$SERVICE_PORT"' -h /tmp"],
   "variables": [{"key": "SVC_GREETING", "value": "hello-from-service", "public": true}]}]'
if [ "$RUNNER_URL" != "$FAKE_URL" ]; then
	payload+=', "artifacts": [{"name": "out", "paths": ["out.txt"], "when": "on_success"}],
   "cache": [{"key": "e2e-cache-'"$RUN_ID"'", "paths": ["cached/"], "policy": "pull-push", "when": "on_success"}]'
fi
payload+='}'
run_job "$(job_json '["echo in-the-build-container", "echo artifact-body > out.txt",
  "mkdir -p cached && echo cached-body > cached/c.txt",
  "for i in $(seq 30); do wget -qO- http://127.0.0.1:'"$SERVICE_PORT"'/ && break; sleep 1; done"]' "$payload")"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "in-the-build-container" "the script ran"
expect_contains "$T_DIR/trace" "hello-from-service" "the job talked to the service"
if [ "$RUNNER_URL" != "$FAKE_URL" ]; then
	expect_contains "$T_DIR/trace" "Created cache" "cache archived"
	expect_eq 1 "$(job_field "$id" 'len(d["artifacts"])')" "artifacts stored"
else
	echo "--- (artifacts and cache not checked: set E2E_GITLAB_LISTEN and E2E_GITLAB_URL)"
fi
expect_no_pods 60

test_case "an image that cannot be pulled: the job fails with the pull error"
write_config pull 'poll_timeout = 120' 'cleanup_grace_period_seconds = 0'
run_job "$(job_json '["echo must-not-run"]' \
	'"payload": {"image": {"name": "registry.invalid/crunner-e2e/none:1"}}')"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "registry.invalid/crunner-e2e/none:1" "the image named"
grep -qE 'ErrImagePull|ImagePullBackOff|image pull failed' "$T_DIR/trace" ||
	fail "no pull error in the log: $(tail -c 1500 "$T_DIR/trace")"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
expect_no_pods 60

test_case "an unschedulable pod: the scheduler's reason, then poll_timeout"
write_config sched 'poll_timeout = 15' 'cleanup_grace_period_seconds = 0' \
	'[runners.kubernetes.node_selector]
    "crunner-e2e/no-such-node" = "x"'
run_job "$(job_json '["echo must-not-run"]')"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Unschedulable" "the scheduler's reason"
expect_contains "$T_DIR/trace" "nodes are available" "the scheduler's message"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
expect_no_pods 60

test_case "the job timeout: the script is stopped, the pod deleted"
write_config timeout 'cleanup_grace_period_seconds = 0'
run_job "$(job_json '["echo before-hang", "sleep 600", "echo must-not-finish"]' '"timeout": 20')"
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "before-hang" "the script started"
expect_not_contains "$T_DIR/trace" "must-not-finish" "the script stopped"
expect_no_pods 60

test_case "cancel mid-job: the job is canceled, the pod deleted"
write_config cancel 'cleanup_grace_period_seconds = 0'
id=$(enqueue_job "$(job_json '["echo started-long-job", "sleep 600", "echo must-not-finish"]')")
run_crunner &
run_pid=$!
test_when_finished "kill $run_pid 2>/dev/null"
for ((i = 0; i < 600; i++)); do
	curl -sS "$FAKE_URL/__control/jobs/$id/trace?raw=1" | grep -q started-long-job && break
	sleep 0.5
done
[ -n "$(case_pods)" ] || fail "no pod while the job runs: $(cat "$T_DIR/run.err")"
fake_control POST "jobs/$id/cancel" '{"graceful": false}' >/dev/null || fail "cannot cancel"
wait "$run_pid"
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
expect_no_pods 60

test_case "crunner killed with -9 mid-job and restarted: the pod it left is deleted"
write_config killed
id=$(enqueue_job "$(job_json '["echo started-long-job", "sleep 600"]')")
"$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 200ms --trace-interval 500ms >"$T_DIR/run1.out" 2>"$T_DIR/run1.err" &
run_pid=$!
test_when_finished "kill -9 $run_pid 2>/dev/null"
for ((i = 0; i < 600; i++)); do
	curl -sS "$FAKE_URL/__control/jobs/$id/trace?raw=1" | grep -q started-long-job && break
	sleep 0.5
done
kill -9 "$run_pid"
wait "$run_pid" 2>/dev/null
[ -n "$(case_pods)" ] || fail "the killed crunner left no pod: the case proves nothing"
run_crunner --wait-timeout 1
expect_no_pods 60

test_case "API server down mid-job"
echo "--- runs against the fake API server only (tests/integration/t_kubernetes*.sh)"

t_finish
