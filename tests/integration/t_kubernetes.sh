#!/usr/bin/env bash
# The kubernetes executor against the fake API server (each pod's
# containers run as Docker containers): a job's pod as gitlab-runner
# builds it, its scripts run through attach (the default) or exec
# (FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY), a service reached on
# loopback, artifacts and cache through the helper container, and the pod
# deleted.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=kex
. "$(dirname "$0")/k8s_lib.sh"
start_k8s

for K8S_STRATEGY in attach exec; do
test_case "$K8S_STRATEGY: a job with a service, artifacts and cache: runs in its pod, the pod is deleted"
write_config 'cleanup_grace_period_seconds = 0'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "JOB_WORD", "value": "from-the-job", "public": true}],
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "alias": "web",
     "entrypoint": ["/bin/sh", "-c"],
     "command": ["echo \"$SVC_GREETING $JOB_WORD\" > /tmp/index.html && exec httpd -f -p '"$SERVICE_PORT"' -h /tmp"],
     "variables": [{"key": "SVC_GREETING", "value": "hello-from-service", "public": true}]}],
   "artifacts": [{"name": "out", "paths": ["out.txt"], "when": "on_success"}],
   "cache": [{"key": "k8s-cache", "paths": ["cached/"], "policy": "pull-push", "when": "on_success"}]},
  "script": ["echo in-the-build-container-$JOB_WORD", "echo artifact-body > out.txt",
     "mkdir -p cached && echo cached-body > cached/c.txt",
     "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:'"$SERVICE_PORT"'/ && break; sleep 1; done"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Using Kubernetes executor with image $BUSYBOX ..." "executor line"
expect_contains "$T_DIR/trace" "in-the-build-container-from-the-job" "the script ran"
expect_contains "$T_DIR/trace" "hello-from-service from-the-job" "the job talked to the service"
expect_contains "$T_DIR/trace" "Created cache" "cache archived"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "archive" to coordinator... 201 Created' "artifact upload"
expect_eq 1 "$(job_field "$id" 'len(d["artifacts"])')" "artifacts stored"
case $(last_pod) in runner-$SHORT-project-42-concurrent-0-????????) ;;
*) fail "pod name $(last_pod) is not gitlab-runner's" ;; esac
expect_eq "build helper web" "$(pod_field '" ".join(c["name"] for c in p["spec"]["containers"])')" "containers"
expect_eq "runner-$SHORT-project-42-concurrent-0" "$(pod_field 'p["metadata"]["labels"]["pod"]')" "pod label"
expect_eq "$SHORT" "$(pod_field 'p["metadata"]["labels"]["manager.runner.gitlab.com/id-short"]')" "manager label"
expect_eq "$id" "$(pod_field 'p["metadata"]["annotations"]["job.runner.gitlab.com/id"]')" "job id annotation"
expect_eq "$HELPER_IMAGE IfNotPresent" "$(pod_field 'p["spec"]["containers"][1]["image"] + " " + p["spec"]["containers"][1]["imagePullPolicy"]')" "helper image"
if [ "$K8S_STRATEGY" = attach ]; then
	expect_eq "repo scripts logs" "$(pod_field '" ".join(v["name"] for v in p["spec"]["volumes"])')" "emptyDir volumes"
	expect_eq "/scripts-42-$id /logs-42-$id /builds" "$(pod_field '" ".join(m["mountPath"] for m in p["spec"]["containers"][0]["volumeMounts"])')" "build container mounts"
	# gitlab-runner's runWithAttach: each stage's script saved over exec,
	# started over attach (the user's in build, the rest in helper), the
	# log read in helper.
	[ -n "$(stream_requests attach build)" ] || fail "no attach to the build container: $(requests 'True' | tail -20)"
	[ -n "$(stream_requests attach helper)" ] || fail "no attach to the helper container"
	expect_contains "$T_DIR/k8s.requests" "tail" "the log read in the helper container"
	expect_not_contains "$T_DIR/trace" "command_exit_code" "the status lines are not in the trace"
else
	expect_eq "repo scripts" "$(pod_field '" ".join(v["name"] for v in p["spec"]["volumes"])')" "emptyDir volumes"
	[ -z "$(stream_requests attach build)$(stream_requests attach helper)" ] || fail "attach with the legacy strategy"
fi
expect_pod_deleted "$(last_pod)" 0
done
t_finish
