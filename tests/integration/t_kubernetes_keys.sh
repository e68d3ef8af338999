#!/usr/bin/env bash
# The kubernetes executor's later keys and flags against the fake API
# server (each pod's containers run as Docker containers):
# FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR with both strategies, and
# node_selector_overwrite_allowed / node_tolerations_overwrite_allowed with
# the job's KUBERNETES_NODE_SELECTOR_* / KUBERNETES_NODE_TOLERATIONS_*, and
# namespace_per_job, and FF_PRINT_POD_EVENTS' events while the job runs.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=kky
. "$(dirname "$0")/k8s_lib.sh"
start_k8s --node-label disktype=ssd
# Debian's dumb-init (in the helper image) is linked against glibc: the
# build image must have its loader, as crunner-test/bash has.
BASH_IMAGE=crunner-test/bash:latest

for K8S_STRATEGY in attach exec; do
test_case "$K8S_STRATEGY: FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR: the build container's PID 1 is the dumb-init init-permissions copied"
write_config 'cleanup_grace_period_seconds = 0'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR", "value": "true", "public": true}],
  "payload": {"image": {"name": "'"$BASH_IMAGE"'"}},
  "script": ["echo \"pid1: $(tr \"\\0\" \" \" </proc/1/cmdline | cut -c1-60)\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "pid1: /scripts-42-$id/dumb-init -- sh -c" "dumb-init is PID 1 of the build container"
expect_eq "/scripts-42-$id/dumb-init -- sh" "$(pod_field '" ".join(p["spec"]["containers"][0]["command"][:3])')" "build command"
expect_eq "/scripts-42-$id/dumb-init -- sh" "$(pod_field '" ".join(p["spec"]["containers"][1]["command"][:3])')" "helper command"
expect_eq "init-permissions $HELPER_IMAGE" "$(pod_field 'p["spec"]["initContainers"][0]["name"] + " " + p["spec"]["initContainers"][0]["image"]')" "the init container"
expect_eq "cp /usr/bin/dumb-init /scripts-42-$id" "$(pod_field 'p["spec"]["initContainers"][0]["command"][2].split(";\n")[-1]')" "it copies dumb-init"
expect_pod_deleted "$(last_pod)" 0
done
K8S_STRATEGY=attach

test_case "without the flag: the shell is PID 1, no dumb-init"
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BASH_IMAGE"'"}},
  "script": ["echo \"pid1: $(tr \"\\0\" \" \" </proc/1/cmdline | cut -c1-60)\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
# k8s_detect_shell execs the image's bash.
expect_contains "$T_DIR/trace" "pid1: /bin/bash" "the shell is PID 1"
expect_not_contains "$T_DIR/trace" "dumb-init" "no dumb-init"

test_case "node_selector_overwrite_allowed: the job's KUBERNETES_NODE_SELECTOR_* replaces config.toml's value; tolerations merged"
write_config 'cleanup_grace_period_seconds = 0' 'node_selector_overwrite_allowed = "^disktype=(ssd|nvme)$"' \
	'node_tolerations_overwrite_allowed = "^gpu"' \
	'[runners.kubernetes.node_selector]' '  "disktype" = "hdd"' \
	'[runners.kubernetes.node_tolerations]' '  "gpu=true" = "NoSchedule"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "KUBERNETES_NODE_SELECTOR_DISK", "value": "disktype=ssd", "public": true},
    {"key": "KUBERNETES_NODE_TOLERATIONS_GPU", "value": "gpu=true:NoExecute", "public": true},
    {"key": "KUBERNETES_NODE_TOLERATIONS_GPU2", "value": "gpu-shared", "public": true}],
  "script": ["echo scheduled-on-the-ssd-node"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "scheduled-on-the-ssd-node" "the pod was scheduled"
expect_contains "$T_DIR/trace" '"NodeSelector" "disktype" overwritten with "ssd"' "gitlab-runner's line"
expect_contains "$T_DIR/trace" '"NodeTolerations" "gpu=true" overwritten with "NoExecute"' "the toleration's line"
expect_eq '{"disktype": "ssd"}' "$(pod_field 'json.dumps(p["spec"]["nodeSelector"])')" "nodeSelector"
expect_eq '[{"effect": "NoExecute", "key": "gpu", "operator": "Equal", "value": "true"}, {"key": "gpu-shared", "operator": "Exists"}]' \
	"$(pod_field 'json.dumps(p["spec"]["tolerations"], sort_keys=True)')" "tolerations"
expect_pod_deleted "$(last_pod)" 0

test_case "a KUBERNETES_NODE_SELECTOR_* value the expression refuses fails the job before any pod"
before=$(pod_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "KUBERNETES_NODE_SELECTOR_DISK", "value": "disktype=tape", "public": true}],
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" 'provided value "disktype=tape" does not match "^disktype=(ssd|nvme)$"' "gitlab-runner's reason"
expect_eq "$before" "$(pod_posts)" "no pod created"

test_case "namespace_per_job: the job runs in ci-job-<id>, made before the pod and deleted after it"
write_config 'cleanup_grace_period_seconds = 0' 'namespace = "quota"' 'namespace_overwrite_allowed = ".*"' \
	'namespace_per_job = true'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "KUBERNETES_NAMESPACE_OVERWRITE", "value": "elsewhere", "public": true}],
  "script": ["echo in-its-own-namespace"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Using Kubernetes namespace: ci-job-$id" "the namespace line"
expect_contains "$T_DIR/trace" "in-its-own-namespace" "the script ran"
expect_eq "ci-job-$id" "$(pod_field 'p["metadata"]["namespace"]')" "the pod's namespace"
order=$(requests '(r["path"] == "/api/v1/namespaces" and r["method"] == "POST" and r["body"]["metadata"]["name"] == "ci-job-'"$id"'") or r["path"] in ("/api/v1/namespaces/ci-job-'"$id"'", "/api/v1/namespaces/ci-job-'"$id"'/pods", "/api/v1/namespaces/ci-job-'"$id"'/pods/'"$(last_pod)"'") and r["method"] in ("POST", "DELETE")' |
	awk '{print $1}' | tr '\n' ' ')
expect_eq "POST POST DELETE DELETE " "$order" "namespace made, pod made, pod deleted, namespace deleted"
expect_pod_deleted "$(last_pod)" 0
for ((i = 0; i < 50; i++)); do
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K8S_TOKEN" "$K8S_URL/api/v1/namespaces/ci-job-$id")
	[ "$code" = 404 ] && break
	sleep 0.2
done
expect_eq 404 "$code" "the namespace is gone"
test_case "FF_PRINT_POD_EVENTS: an event that comes while the script runs is in the table before the stage ends"
write_config 'cleanup_grace_period_seconds = 0'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_PRINT_POD_EVENTS", "value": "true", "public": true}],
  "script": ["echo script-started", "sleep 8", "echo script-done"]}')
timeout 150 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 --check-interval 100ms \
	--trace-interval 200ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
run_pid=$!
for ((i = 0; i < 300; i++)); do
	job_trace "$id" "$T_DIR/trace"
	grep -q "script-started" "$T_DIR/trace" && break
	sleep 0.2
done
grep -q "script-started" "$T_DIR/trace" || fail "the script did not start: $(tail -c 2000 "$T_DIR/trace")"
pod=$(last_pod)
code=$(curl -s -o "$T_DIR/event.out" -w '%{http_code}' -X POST -H "Authorization: Bearer $K8S_TOKEN" \
	-H 'Content-Type: application/json' "$K8S_URL/api/v1/namespaces/default/events" \
	-d '{"apiVersion": "v1", "kind": "Event", "metadata": {"name": "'"$pod"'.midjob"},
	     "involvedObject": {"kind": "Pod", "namespace": "default", "name": "'"$pod"'"},
	     "type": "Warning", "reason": "MidJob", "message": "something happened while the script ran", "count": 1,
	     "lastTimestamp": "'"$(date -u +%Y-%m-%dT%H:%M:%SZ)"'"}')
expect_eq 201 "$code" "event posted ($(cat "$T_DIR/event.out"))"
RUN_RC=0
wait "$run_pid" || RUN_RC=$?
check_sanitizer
expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
grep -E 'Warning {3,}MidJob {3,}something happened while the script ran' "$T_DIR/trace" >/dev/null ||
	fail "the event is not in the table: $(tail -c 3000 "$T_DIR/trace")"
# In the step_script section, before the script's end.
awk '/MidJob/ { ev = NR } /script-done/ && !/echo/ { done = NR } END { exit !(ev && done && ev < done) }' "$T_DIR/trace" ||
	fail "the event did not come while the script ran: $(tail -c 3000 "$T_DIR/trace")"
expect_eq 1 "$(grep -c 'MidJob' "$T_DIR/trace")" "printed once"
expect_pod_deleted "$pod" 0
t_finish
