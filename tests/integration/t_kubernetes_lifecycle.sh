#!/usr/bin/env bash
# The kubernetes executor's pod lifecycle against the fake API server: an
# image that cannot be pulled and a pod that cannot be scheduled fail the
# job with gitlab-runner's reasons in the log; cancel and the job timeout
# stop the job and delete the pod (pod_termination_grace_period_seconds in
# the spec, cleanup_grace_period_seconds on the delete); pods a killed
# crunner left are deleted when it starts again; pod_labels and
# pod_annotations with variables, node_selector.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=klc
. "$(dirname "$0")/k8s_lib.sh"
start_k8s

test_case "an image that cannot be pulled: the job fails with the pull error, the pod is deleted"
write_config 'poll_timeout = 60'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "crunner-test/no-such-image:1"}},
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "image pull failed: " "the reason"
expect_contains "$T_DIR/trace" "crunner-test/no-such-image:1" "the image named"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
expect_pod_deleted "$(last_pod)" none

test_case "an unschedulable pod: the scheduler's reason while waiting, then poll_timeout"
write_config 'poll_timeout = 3' 'cleanup_grace_period_seconds = 5' \
	'[runners.kubernetes.node_selector]' '  "disktype" = "ssd"'
start=$(date +%s)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
elapsed=$(($(date +%s) - start))
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "status is Pending" "the wait lines"
expect_contains "$T_DIR/trace" "Unschedulable: \"0/1 nodes are available" "the scheduler's reason"
expect_contains "$T_DIR/trace" "timed out waiting for pod to start (last phase: Pending)" "the timeout"
expect_eq ssd "$(pod_field 'p["spec"]["nodeSelector"]["disktype"]')" "node selector"
expect_pod_deleted "$(last_pod)" 5
[ "$elapsed" -lt 60 ] || fail "poll_timeout 3 took ${elapsed}s"

for K8S_STRATEGY in attach exec; do
test_case "$K8S_STRATEGY: the job timeout: the script is stopped and the pod deleted"
write_config 'pod_termination_grace_period_seconds = 7' 'cleanup_grace_period_seconds = 0' \
	'[runners.kubernetes.pod_labels]' '  "team" = "t-$CI_PROJECT_ID"' \
	'[runners.kubernetes.pod_annotations]' '  "example.com/job" = "j-$CI_JOB_ID"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "timeout": 15,
  "script": ["echo before-hang", "sleep 300", "echo must-not-finish"]}'
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "before-hang" "the script started"
expect_not_contains "$T_DIR/trace" "must-not-finish" "the script stopped"
expect_eq 7 "$(pod_field 'p["spec"]["terminationGracePeriodSeconds"]')" "termination grace period"
expect_eq t-42 "$(pod_field 'p["metadata"]["labels"]["team"]')" "pod label with a variable"
expect_eq "j-$id" "$(pod_field 'p["metadata"]["annotations"]["example.com/job"]')" "pod annotation with a variable"
expect_pod_deleted "$(last_pod)" 0

test_case "$K8S_STRATEGY: cancel mid-job: the job is canceled and the pod deleted"
write_config 'cleanup_grace_period_seconds = 0'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "script": ["echo started-long-job", "i=0; while [ $i -lt 300 ]; do echo tick; sleep 1; i=$((i+1)); done", "echo must-not-finish"]}')
timeout 150 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms --trace-interval 200ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
run_pid=$!
test_when_finished "kill $run_pid 2>/dev/null"
wait_for_trace "$id" "started-long-job" || fail "the job did not start: $(cat "$T_DIR/run.err")"
fake_control POST "jobs/$id/cancel" >/dev/null || fail "cannot cancel"
rc=0
wait "$run_pid" || rc=$?
check_sanitizer
expect_eq 0 "$rc" "run-single exit code after a cancel ($(tail -3 "$T_DIR/run.err"))"
expect_eq canceled "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "must-not-finish" "script stopped"
if [ "$K8S_STRATEGY" = attach ]; then
	# gitlab-runner's stageCancellationScript, over exec in the build container.
	requests 'r["path"].endswith("/pods/'"$(last_pod)"'/exec") and r["query"].get("container") == ["build"] and "kill -TERM" in " ".join(r["query"].get("command", []))' |
		grep -q . || fail "no stage cancellation script"
fi
expect_pod_deleted "$(last_pod)" 0
done
K8S_STRATEGY=attach

test_case "kill -9 mid-job, restart: the pod it left is deleted"
write_config
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "script": ["echo started-long-job", "sleep 300"]}')
"$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms --trace-interval 200ms >"$T_DIR/run1.out" 2>"$T_DIR/run1.err" &
run_pid=$!
test_when_finished "kill -9 $run_pid 2>/dev/null"
wait_for_trace "$id" "started-long-job" || fail "the job did not start: $(cat "$T_DIR/run1.err")"
kill -9 "$run_pid"
wait "$run_pid" 2>/dev/null
left=$(last_pod)
case " $(pods_left) " in *" $left "*) ;; *) fail "the killed runner left no pod: the test proves nothing" ;; esac
[ -z "$(deleted_with "$left")" ] || fail "pod $left was deleted before the restart"
expect_eq "$(cat "$T_DIR/.runner_system_id")" "$(pod_field 'p["metadata"]["labels"]["crunner/system-id"]')" "the installation's label"
# A pod of the same runner token from another installation (another
# manager sharing the cluster) must survive the cleanup.
other='{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "other-install",
  "labels": {"manager.runner.gitlab.com/id-short": "'"$SHORT"'", "crunner/system-id": "r_000000000000"}},
  "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "'"$BUSYBOX"'",
    "imagePullPolicy": "IfNotPresent", "command": ["sleep", "120"]}]}}'
code=$(printf '%s' "$other" | curl -sS -o "$T_DIR/other.json" -w '%{http_code}' -X POST \
	-H "Authorization: Bearer $K8S_TOKEN" -H 'Content-Type: application/json' \
	--data-binary @- "$K8S_URL/api/v1/namespaces/default/pods")
expect_eq 201 "$code" "the other installation's pod ($(cat "$T_DIR/other.json"))"
# A restarted run-single with nothing to do: it only cleans up.
timeout 60 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms --wait-timeout 1 >"$T_DIR/run.out" 2>"$T_DIR/run.err" || true
check_sanitizer
expect_contains "$T_DIR/run.err" "removed 1 pod(s) left by jobs of an earlier crunner" "the log says so"
sel=$(requests 'r["method"] == "GET" and r["query"].get("labelSelector") == ["manager.runner.gitlab.com/id-short='"$SHORT"',crunner/system-id='"$(cat "$T_DIR/.runner_system_id")"'"]')
[ -n "$sel" ] || fail "no list by label: $(tail -c 1500 "$T_DIR/k8s.requests")"
expect_pod_deleted "$left" none
[ -z "$(deleted_with other-install)" ] || fail "the other installation's pod was deleted"
case " $(pods_left) " in *" other-install "*) ;; *) fail "the other installation's pod is gone: $(pods_left)" ;; esac

t_finish
