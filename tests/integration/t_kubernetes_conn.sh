#!/usr/bin/env bash
# How the kubernetes executor reaches the API server when config.toml has
# no host: a kubeconfig ($KUBECONFIG; [runners.kubernetes] context picks a
# context other than the current one; a CA file relative to the
# kubeconfig, a client certificate and key as data) and the in-cluster
# service account (KUBERNETES_SERVICE_HOST/PORT, the token and CA under
# the service-account root, $CRUNNER_K8S_SA_ROOT here).  The fake API
# server speaks HTTPS only.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || fail "openssl is needed to make test certificates"
K8S_TEST_PREFIX=kcn
. "$(dirname "$0")/k8s_lib.sh"

pki=$T_DIR/kube/pki
make_test_pki "$pki" "k8s test CA" "/CN=crunner/O=system:masters"
start_k8s --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --client-ca "$pki/ca.pem"
case $K8S_URL in https://*) ;; *) fail "the fake is not on https: $K8S_URL" ;; esac
unset KUBERNETES_SERVICE_HOST KUBERNETES_SERVICE_PORT

test_case "kubeconfig: a named context, CA file, client certificate data"
cat >"$T_DIR/kube/config" <<YAML
apiVersion: v1
kind: Config
current-context: broken
clusters:
- name: fake
  cluster:
    server: $K8S_URL
    certificate-authority: pki/ca.pem
- name: nowhere
  cluster:
    server: https://127.0.0.1:1
contexts:
- name: broken
  context: {cluster: nowhere, user: cert}
- name: ci
  context: {cluster: fake, user: cert}
users:
- name: cert
  user:
    client-certificate-data: $(base64 -w0 "$pki/client.pem")
    client-key-data: $(base64 -w0 "$pki/client.key")
YAML
K8S_CONN='    context = "ci"'
write_config 'cleanup_grace_period_seconds = 0'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo via-kubeconfig"]}')
run_k8s KUBECONFIG="$T_DIR/kube/config"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "via-kubeconfig" "the script ran"
# Authenticated by the certificate: no bearer token was sent.
expect_eq "" "$(requests '"Authorization" in r["headers"]')" "requests with a bearer token"
expect_pod_deleted "$(last_pod)" 0

test_case "in-cluster: the service account's token and CA"
sa=$T_DIR/sa/var/run/secrets/kubernetes.io/serviceaccount
mkdir -p "$sa"
printf '%s\n' "$K8S_TOKEN" >"$sa/token"
cp "$pki/ca.pem" "$sa/ca.crt"
K8S_CONN='    namespace = "default"'
write_config 'cleanup_grace_period_seconds = 0'
id=$(enqueue_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo via-service-account"]}')
n_before=$(wc -l <"$T_DIR/k8s.requests")
run_k8s KUBERNETES_SERVICE_HOST=127.0.0.1 KUBERNETES_SERVICE_PORT="$(cat "$T_DIR/k8s.port")" \
	CRUNNER_K8S_SA_ROOT="$T_DIR/sa" KUBECONFIG="$T_DIR/no-such-kubeconfig"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "via-service-account" "the script ran"
tail -n +"$((n_before + 1))" "$T_DIR/k8s.requests" >"$T_DIR/k8s.requests.in-cluster"
bad=$("$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["headers"].get("Authorization") != "Bearer <token>":
        print(r["method"], r["path"], r["headers"].get("Authorization"))' "$T_DIR/k8s.requests.in-cluster")
expect_eq "" "$bad" "requests without the service account's token"
expect_pod_deleted "$(last_pod)" 0

t_finish
