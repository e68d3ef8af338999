#!/usr/bin/env bash
# The kubernetes executor's feature flags and keys against the fake API
# server (each pod's containers run as Docker containers):
# FF_USE_ADVANCED_POD_SPEC_CONFIGURATION with [[runners.kubernetes.pod_spec]]
# patches, FF_KUBERNETES_HONOR_ENTRYPOINT, FF_PRINT_POD_EVENTS,
# print_pod_warning_events, FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR,
# logs_base_dir, scripts_base_dir, container_lifecycle, retry_limits and
# resource_availability_check_max_attempts.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=kff
. "$(dirname "$0")/k8s_lib.sh"
# "quota": a namespace whose quota a 2Gi memory limit exceeds.
start_k8s --namespace quota --quota quota/compute=limits.memory=1Gi

test_case "FF_USE_ADVANCED_POD_SPEC_CONFIGURATION: strategic, json and merge pod_spec patches, in order, in the pod the job runs in"
write_config 'cleanup_grace_period_seconds = 0' \
	'[[runners.kubernetes.pod_spec]]' '  name = "env"' "  patch = '''
      containers:
        - name: build
          env:
            - name: PATCHED
              value: by-strategic-merge
    '''" \
	'[[runners.kubernetes.pod_spec]]' '  name = "more env"' '  patch_type = "json"' \
	"  patch = '[{\"op\": \"add\", \"path\": \"/containers/0/env/-\", \"value\": {\"name\": \"FROM_JSON\", \"value\": \"json-patch\"}}]'" \
	'[[runners.kubernetes.pod_spec]]' '  name = "grace"' '  patch_type = "merge"' \
	"  patch = '{\"terminationGracePeriodSeconds\": 7}'"
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_USE_ADVANCED_POD_SPEC_CONFIGURATION", "value": "true", "public": true}],
  "script": ["echo \"patched: $PATCHED $FROM_JSON\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "WARNING: Advanced Pod Spec configuration enabled, merging the provided PodSpec to the generated one." "gitlab-runner's warning"
expect_contains "$T_DIR/trace" "patched: by-strategic-merge json-patch" "the patched env reached the script"
expect_eq 7 "$(pod_field 'p["spec"]["terminationGracePeriodSeconds"]')" "merge patch"
expect_eq "build helper" "$(pod_field '" ".join(c["name"] for c in p["spec"]["containers"])')" "containers merged by name"
expect_pod_deleted "$(last_pod)" 0

test_case "pod_spec without the flag: not applied"
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "script": ["echo \"patched: [$PATCHED]\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "patched: []" "no patch"
expect_not_contains "$T_DIR/trace" "Advanced Pod Spec" "no warning"

test_case "a pod_spec patch that does not apply fails the job before any pod"
write_config '[[runners.kubernetes.pod_spec]]' '  name = "bad"' '  patch_type = "json"' \
	"  patch = '[{\"op\": \"replace\", \"path\": \"/nope\", \"value\": 1}]'"
before=$(pod_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_USE_ADVANCED_POD_SPEC_CONFIGURATION", "value": "true", "public": true}],
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" 'applying pod_spec "bad" (patch_type json)' "the reason"
expect_eq "$before" "$(pod_posts)" "no pod created"

test_case "FF_KUBERNETES_HONOR_ENTRYPOINT: no container command, the shell as args to the image's entrypoint"
write_config 'cleanup_grace_period_seconds = 0' 'scripts_base_dir = "/var/tmp/"' 'logs_base_dir = "/run"' \
	'[runners.kubernetes.container_lifecycle.pre_stop.exec]' '  command = ["sh", "-c", "echo stopping"]'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_KUBERNETES_HONOR_ENTRYPOINT", "value": "true", "public": true}],
  "script": ["echo ran-through-the-entrypoint"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "ran-through-the-entrypoint" "the script ran"
expect_eq "None None sh sh" "$(pod_field '" ".join([str(c.get("command")) for c in p["spec"]["containers"]] + [c["args"][0] for c in p["spec"]["containers"]])')" "command and args"
expect_eq '{"preStop": {"exec": {"command": ["sh", "-c", "echo stopping"]}}} 2' \
	"$(pod_field 'json.dumps(p["spec"]["containers"][0]["lifecycle"]) + " " + str(len([c for c in p["spec"]["containers"] if c.get("lifecycle")]))')" "container_lifecycle on every container"
# logs_base_dir and scripts_base_dir: prepended, the trailing / cut.
expect_eq "/var/tmp/scripts-42-$id /run/logs-42-$id /builds" "$(pod_field '" ".join(m["mountPath"] for m in p["spec"]["containers"][0]["volumeMounts"])')" "build container mounts"
expect_pod_deleted "$(last_pod)" 0

test_case "FF_PRINT_POD_EVENTS: the pod's events as a table instead of the waiting lines"
write_config 'cleanup_grace_period_seconds = 0'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_PRINT_POD_EVENTS", "value": "true", "public": true}],
  "script": ["echo job-ran"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Subscribing to Kubernetes Pod events..." "subscribing line"
grep -E '^(\S+ \S+ )?Type {3,}Reason {3,}Message' "$T_DIR/trace" >/dev/null || fail "no table header: $(head -c 3000 "$T_DIR/trace")"
grep -E 'Normal {3,}Scheduled {3,}Successfully assigned default/'"$(last_pod)"' to fake-node' "$T_DIR/trace" >/dev/null ||
	fail "no Scheduled event: $(head -c 3000 "$T_DIR/trace")"
grep -E 'Normal {3,}Started {3,}Started container' "$T_DIR/trace" >/dev/null || fail "no Started event"
expect_eq 1 "$(grep -c 'Scheduled   ' "$T_DIR/trace")" "each event once"
expect_not_contains "$T_DIR/trace" "Waiting for pod" "no waiting lines"
[ -n "$(requests 'r["path"] == "/api/v1/namespaces/default/events" and r["query"].get("fieldSelector") == ["involvedObject.name='"$(last_pod)"'"]')" ] ||
	fail "events not asked for by the pod's name: $(requests 'True' | grep events | head -5)"
expect_pod_deleted "$(last_pod)" 0

test_case "print_pod_warning_events (default true): a failed pull's Warning events in the log"
write_config 'poll_timeout = 60' 'cleanup_grace_period_seconds = 0'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "crunner-test/no-such-image:2"}},
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" 'WARNING: Event retrieved from the cluster: Failed to pull image "crunner-test/no-such-image:2"' "the warning event"
expect_contains "$T_DIR/trace" "WARNING: Event retrieved from the cluster: Error: ErrImagePull" "the next one"
[ -n "$(requests 'r["path"].endswith("/events") and r["query"].get("fieldSelector") == ["involvedObject.name='"$(last_pod)"',type=Warning"]')" ] ||
	fail "Warning events not asked for: $(requests 'True' | grep events | head -5)"

test_case "print_pod_warning_events = false: neither the events nor the condition lines"
write_config 'poll_timeout = 3' 'cleanup_grace_period_seconds = 0' 'print_pod_warning_events = false' \
	'[runners.kubernetes.node_selector]' '  "disktype" = "ssd"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Waiting for pod default/$(last_pod)" "the waiting lines"
expect_not_contains "$T_DIR/trace" "Unschedulable" "no condition lines"
expect_not_contains "$T_DIR/trace" "Event retrieved from the cluster" "no events"
for umask_ff in false true; do
test_case "FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR=$umask_ff: who owns what the helper wrote for a build running as 1000"
write_config 'cleanup_grace_period_seconds = 0' \
	'[runners.kubernetes.build_container_security_context]' '  run_as_user = 1000' '  run_as_group = 1000'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR", "value": "'"$umask_ff"'", "public": true}],
  "script": ["echo \"owner: $(stat -c %u:%g $CI_PROJECT_DIR) mode: $(stat -c %a $CI_PROJECT_DIR)\"", "id -u"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
if [ "$umask_ff" = true ]; then
	expect_contains "$T_DIR/trace" "owner: 1000:1000 mode: 755" "the project dir given to the build's user, not world-writable"
	expect_eq "init-build-uid-gid-collector $BUSYBOX 1000" \
		"$(pod_field 'p["spec"]["initContainers"][0]["name"] + " " + p["spec"]["initContainers"][0]["image"] + " " + str(p["spec"]["initContainers"][0]["securityContext"]["runAsUser"])')" "the uid/gid collector"
else
	expect_contains "$T_DIR/trace" "owner: 0:0 mode: 777" "root's, world-writable (umask 0000)"
	expect_eq "False" "$(pod_field '"init-build-uid-gid-collector" in [c["name"] for c in p["spec"].get("initContainers", [])]')" "no uid/gid collector"
fi
expect_pod_deleted "$(last_pod)" 0
done
test_case "retry_limits: an API error holding a configured text is tried again, up to its count"
write_config 'namespace = "quota"' 'memory_limit = "2Gi"' 'helper_memory_limit = "100Mi"' 'retry_backoff_max = 600'
quota_posts() { requests 'r["method"] == "POST" and r["path"] == "/api/v1/namespaces/quota/pods"' | wc -l; }
before=$(quota_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "exceeded quota: compute" "the API server's reason"
# The engine tries a failed preparation three times (each one POST).
expect_eq $((before + 3)) "$(quota_posts)" "not retried by default"
write_config 'namespace = "quota"' 'memory_limit = "2Gi"' 'helper_memory_limit = "100Mi"' 'retry_backoff_max = 600' \
	'retry_limits = { "exceeded quota" = 3 }'
before=$(quota_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq $((before + 9)) "$(quota_posts)" "three attempts in each preparation"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"

test_case "resource_availability_check_max_attempts: a service account that never appears fails the job before any pod"
write_config 'service_account = "not-there"' 'resource_availability_check_max_attempts = 1'
before=$(pod_posts)
start=$(date +%s)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "Timed out while waiting for ServiceAccount/not-there to be present in the cluster" "gitlab-runner's reason"
# A configuration error: the engine does not try the preparation again.
expect_eq 2 "$(requests 'r["method"] == "GET" and r["path"] == "/api/v1/namespaces/default/serviceaccounts/not-there"' | wc -l)" "looked at twice (1 + max_attempts)"
expect_eq "$before" "$(pod_posts)" "no pod created"
[ $(($(date +%s) - start)) -ge 9 ] || fail "did not wait 5 s between looks"

t_finish
