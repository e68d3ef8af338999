#!/usr/bin/env bash
# The pod spec features of [runners.kubernetes] against the fake API server
# (each pod's containers run as Docker containers): host_path, config_map,
# secret and empty_dir volumes really mounted in the build and service
# containers, the pod and container security contexts (the script runs as
# their user and group), dns_config accepted by the API server's checks.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=kpd
. "$(dirname "$0")/k8s_lib.sh"
start_k8s

# k8s_post PATH JSON: creates an object in the fake as an operator would.
k8s_post() {
	curl -sS -o "$T_DIR/post.out" -w '%{http_code}' -X POST \
		-H "Authorization: Bearer $K8S_TOKEN" \
		-H 'Content-Type: application/json' --data "$2" "$K8S_URL$1"
}

test_case "volumes and security contexts: mounted where gitlab-runner mounts them, the script runs as the configured user"
host_dir=$T_DIR/host-volume
mkdir -p "$host_dir"
chmod 777 "$host_dir"
echo from-the-host >"$host_dir/hello.txt"
expect_eq 201 "$(k8s_post /api/v1/namespaces/default/configmaps \
	'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
	  "data": {"app.conf": "from-the-config-map"}}')" "config map created ($(cat "$T_DIR/post.out"))"
expect_eq 201 "$(k8s_post /api/v1/namespaces/default/secrets \
	'{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tokens"},
	  "data": {"token": "'"$(printf from-the-secret | base64)"'"}}')" "secret created ($(cat "$T_DIR/post.out"))"
write_config 'cleanup_grace_period_seconds = 0' \
	'[runners.kubernetes.pod_security_context]' '  run_as_user = 1000' '  run_as_group = 3000' \
	'[runners.kubernetes.helper_container_security_context]' '  run_as_user = 0' '  run_as_group = 0' \
	'[runners.kubernetes.build_container_security_context]' '  run_as_group = 4000' \
	'  [runners.kubernetes.build_container_security_context.capabilities]' '    drop = ["ALL"]' \
	'[runners.kubernetes.dns_config]' '  nameservers = ["127.0.0.1"]' '  searches = ["ci.example"]' \
	'[[runners.kubernetes.volumes.host_path]]' '  name = "host"' '  mount_path = "/mnt/host"' "  host_path = \"$host_dir\"" \
	'[[runners.kubernetes.volumes.config_map]]' '  name = "settings"' '  mount_path = "/etc/settings"' \
	'  [runners.kubernetes.volumes.config_map.items]' '    "app.conf" = "conf/app.conf"' \
	'[[runners.kubernetes.volumes.secret]]' '  name = "tokens"' '  mount_path = "/run/tokens"' '  read_only = true' \
	'[[runners.kubernetes.volumes.empty_dir]]' '  name = "shared"' '  mount_path = "/shared"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "alias": "web",
     "entrypoint": ["/bin/sh", "-c"],
     "command": ["exec httpd -f -p '"$SERVICE_PORT"' -h /shared"]}]},
  "script": ["echo \"host: $(cat /mnt/host/hello.txt)\"",
     "echo from-the-build > /mnt/host/written.txt",
     "echo \"config map: $(cat /etc/settings/conf/app.conf)\"",
     "echo \"secret: $(cat /run/tokens/token)\"",
     "echo \"ids: $(id -u):$(id -g)\"",
     "echo shared-with-the-service > /shared/index.html",
     "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:'"$SERVICE_PORT"'/ && break; sleep 1; done"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "host: from-the-host" "the host_path volume"
expect_eq from-the-build "$(cat "$host_dir/written.txt" 2>&1)" "written through the host_path volume"
expect_contains "$T_DIR/trace" "config map: from-the-config-map" "the config_map volume and its items"
expect_contains "$T_DIR/trace" "secret: from-the-secret" "the secret volume"
expect_contains "$T_DIR/trace" "ids: 1000:4000" "the pod's user, the build container's group"
expect_contains "$T_DIR/trace" $'\nshared-with-the-service' "the empty_dir shared with the service"
expect_eq "host tokens settings shared repo scripts logs" \
	"$(pod_field '" ".join(v["name"] for v in p["spec"]["volumes"])')" "volumes"
expect_eq '{"runAsGroup": 3000, "runAsUser": 1000}' \
	"$(pod_field 'json.dumps(p["spec"]["securityContext"], sort_keys=True)')" "pod security context"
expect_eq '{"capabilities": {"drop": ["NET_RAW"]}, "runAsGroup": 0, "runAsUser": 0}' \
	"$(pod_field 'json.dumps(p["spec"]["containers"][1]["securityContext"], sort_keys=True)')" "helper security context"
expect_eq '{"nameservers": ["127.0.0.1"], "searches": ["ci.example"]}' \
	"$(pod_field 'json.dumps(p["spec"]["dnsConfig"], sort_keys=True)')" "dns config"
expect_pod_deleted "$(last_pod)" 0
test_case "overwrites: the job's namespace, service account, bearer token, labels and annotations where config.toml allows them"
expect_eq 201 "$(k8s_post /api/v1/namespaces \
	'{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "review-blue"}}')" "namespace created ($(cat "$T_DIR/post.out"))"
expect_eq 201 "$(k8s_post /api/v1/namespaces/review-blue/serviceaccounts \
	'{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "deployer"}}')" "service account created ($(cat "$T_DIR/post.out"))"
# config.toml's token is wrong: only the job's lets crunner in.
K8S_CONN="    host = \"$K8S_URL\"
    bearer_token = \"not-the-token\"
    bearer_token_overwrite_allowed = true"
write_config 'cleanup_grace_period_seconds = 0' \
	'namespace_overwrite_allowed = "^review-"' 'service_account_overwrite_allowed = "deploy"' \
	'pod_labels_overwrite_allowed = ".*"' 'pod_annotations_overwrite_allowed = "owner"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "TEAM", "value": "blue", "public": true},
    {"key": "KUBERNETES_NAMESPACE_OVERWRITE", "value": "review-$TEAM", "public": true},
    {"key": "KUBERNETES_SERVICE_ACCOUNT_OVERWRITE", "value": "deployer", "public": true},
    {"key": "KUBERNETES_BEARER_TOKEN", "value": "'"$K8S_TOKEN"'", "public": false, "masked": true},
    {"key": "KUBERNETES_POD_LABELS_TEAM", "value": "team=$TEAM", "public": true},
    {"key": "KUBERNETES_POD_ANNOTATIONS_1", "value": "example.com/owner=ci", "public": true}],
  "script": ["echo in-review-namespace"]}'
unset K8S_CONN
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" '"Namespace" overwritten with "review-blue"' "namespace overwrite logged"
expect_contains "$T_DIR/trace" '"BearerToken" overwritten with "XXXXXXXX..."' "token overwrite logged, not the token"
expect_contains "$T_DIR/trace" "Using Kubernetes namespace: review-blue" "namespace line"
expect_contains "$T_DIR/trace" "in-review-namespace" "the script ran"
expect_eq "review-blue deployer blue ci" \
	"$(pod_field 'p["metadata"]["namespace"] + " " + p["spec"]["serviceAccountName"] + " " + p["metadata"]["labels"]["team"] + " " + p["metadata"]["annotations"]["example.com/owner"]')" "the pod"
expect_pod_deleted "$(last_pod)" 0

test_case "an overwrite config.toml does not allow fails the job before any pod"
write_config 'namespace_overwrite_allowed = "^review-"'
before=$(pod_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "KUBERNETES_NAMESPACE_OVERWRITE", "value": "kube-system", "public": true}],
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "couldn't prepare overwrites: provided value \"kube-system\" does not match \"^review-\"" "gitlab-runner's reason"
expect_eq "$before" "$(pod_posts)" "no pod created"
test_case "node affinity the node does not satisfy: the scheduler's reason, then poll_timeout"
write_config 'poll_timeout = 3' 'cleanup_grace_period_seconds = 0' \
	'[runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution]' \
	'  [[runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms]]' \
	'    [[runners.kubernetes.affinity.node_affinity.required_during_scheduling_ignored_during_execution.node_selector_terms.match_expressions]]' \
	'      key = "disktype"' '      operator = "In"' '      values = ["ssd"]'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "didn't match Pod's node affinity/selector" "the scheduler's reason"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
expect_eq '{"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "disktype", "operator": "In", "values": ["ssd"]}]}]}}}' \
	"$(pod_field 'json.dumps(p["spec"]["affinity"], sort_keys=True)')" "affinity"
expect_pod_deleted "$(last_pod)" 0
t_finish
