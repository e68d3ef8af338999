#!/usr/bin/env bash
# A kubeconfig exec credential plugin's token kept fresh during a job, as
# client-go does: the plugin runs again once the credential is past its
# expirationTimestamp, and when the API server answers 401.  The fake API
# server reads the one token it accepts from a file (--token-file), which
# the plugin rotates, with an expiry second.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=kcr
. "$(dirname "$0")/k8s_lib.sh"
CRED=$T_DIR/cred
mkdir -p "$CRED" "$T_DIR/kube"
echo "$K8S_TOKEN" >"$CRED/current"
start_k8s --token-file "$CRED/current"

# The plugin: counts its runs; "expire" mode makes a new token that the
# server accepts for 4 s (and no older one); "static" mode prints the
# server's current token, without an expiry.
cat >"$CRED/plugin.sh" <<'SH'
#!/bin/sh
n=$(($(cat "$CRED_DIR/runs" 2>/dev/null || echo 0) + 1))
echo "$n" >"$CRED_DIR/runs"
if [ "$CRED_MODE" = expire ]; then
	tok="tok-$n-$$"
	exp=$(($(date +%s) + 4))
	printf '%s\n%s\n' "$tok" "$exp" >"$CRED_DIR/current.new"
	mv "$CRED_DIR/current.new" "$CRED_DIR/current"
	printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}\n' \
		"$tok" "$(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ)"
else
	printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}\n' \
		"$(head -1 "$CRED_DIR/current")"
fi
SH
chmod +x "$CRED/plugin.sh"
kubeconfig() { # MODE
	cat >"$T_DIR/kube/config" <<YAML
apiVersion: v1
kind: Config
current-context: fake
clusters:
- name: fake
  cluster:
    server: $K8S_URL
contexts:
- name: fake
  context: {cluster: fake, user: plugin}
users:
- name: plugin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: $CRED/plugin.sh
      env:
      - {name: CRED_DIR, value: $CRED}
      - {name: CRED_MODE, value: $1}
YAML
}
K8S_CONN='    poll_timeout = 60'
unauthorized() { requests 'r["status"] == 401' | wc -l; }

test_case "an expiring credential: the plugin runs again before a request would send an expired token"
kubeconfig expire
rm -f "$CRED/runs"
write_config 'cleanup_grace_period_seconds = 0'
before=$(unauthorized)
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo token-start", "sleep 9", "echo token-end"]}')
run_k8s KUBECONFIG="$T_DIR/kube/config"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "token-end" "the script ran to its end"
runs=$(cat "$CRED/runs")
[ "$runs" -ge 3 ] || fail "the plugin ran $runs times in a job of 9 s with a 4 s credential"
expect_eq "$before" "$(unauthorized)" "no request was refused (the token was renewed before it expired)"
expect_pod_deleted "$(last_pod)" 0

test_case "a refused credential (401): the plugin runs again and the request is sent once more"
kubeconfig static
rm -f "$CRED/runs"
echo "static-1" >"$CRED/current"
before=$(unauthorized)
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo rotate-now", "sleep 6", "echo after-rotation"]}')
KUBECONFIG="$T_DIR/kube/config" timeout 150 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 --check-interval 100ms \
	--trace-interval 200ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" &
run_pid=$!
test_when_finished "kill $run_pid 2>/dev/null"
for ((i = 0; i < 300; i++)); do
	job_trace "$id" "$T_DIR/trace"
	grep -q "^.*rotate-now$" "$T_DIR/trace" && break
	sleep 0.2
done
# The server rotates its token: the one crunner holds is refused from now.
echo "static-2" >"$CRED/current"
RUN_RC=0
wait "$run_pid" || RUN_RC=$?
check_sanitizer
expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "after-rotation" "the script ran to its end"
[ "$(unauthorized)" -gt "$before" ] || fail "no request was refused: the rotation was not seen"
[ "$(cat "$CRED/runs")" -ge 2 ] || fail "the plugin did not run again after the 401"
expect_pod_deleted "$(last_pod)" 0
t_finish
