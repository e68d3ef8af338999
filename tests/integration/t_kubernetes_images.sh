#!/usr/bin/env bash
# What [runners.kubernetes] allows a job's images to be and do, against the
# fake API server (each pod's containers run as Docker containers):
# allowed_images and allowed_services refuse before any pod is created,
# with gitlab-runner's log lines; the image's kubernetes user runs the
# build container when allowed_users / allowed_groups allow it.
. "$(dirname "$0")/lib.sh"

K8S_TEST_PREFIX=kim
. "$(dirname "$0")/k8s_lib.sh"
start_k8s

test_case "allowed_images: a job image not on the list fails the job before any pod"
write_config 'allowed_images = ["crunner-test/bash:*", "registry.example.com/**"]'
before=$(pod_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "crunner-test/service:latest"}},
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" 'ERROR: The "crunner-test/service:latest" image is not present on list of allowed images:' "gitlab-runner's line"
expect_contains "$T_DIR/trace" "- crunner-test/bash:*" "the list"
expect_contains "$T_DIR/trace" "Please check runner's allowed_images configuration" "the hint"
expect_contains "$T_DIR/trace" "disallowed image" "the reason"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
expect_eq "$before" "$(pod_posts)" "no pod created"

test_case "allowed_images: config.toml's image is allowed whatever the list; allowed_services refuses a service"
write_config 'allowed_images = ["registry.example.com/**"]' 'allowed_services = ["crunner-test/bash:*"]'
before=$(pod_posts)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "alias": "web"}]},
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "ERROR: The \"$SERVICE_IMAGE\" image is not present on list of allowed services:" "gitlab-runner's line"
expect_not_contains "$T_DIR/trace" "list of allowed images" "the build image passed"
expect_eq "$before" "$(pod_posts)" "no pod created"

test_case "allowed_users / allowed_groups: the image's kubernetes user runs the script"
write_config 'cleanup_grace_period_seconds = 0' 'allowed_images = ["crunner-test/*"]' \
	'allowed_users = ["1000"]' 'allowed_groups = ["3000"]' 'automount_service_account_token = false' \
	'pod_memory_limit = "1Gi"' 'pod_memory_limit_overwrite_max_allowed = "2Gi"' \
	'[runners.kubernetes.init_permissions_container_security_context]' '  run_as_user = 0'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "KUBERNETES_POD_MEMORY_LIMIT", "value": "1536Mi", "public": true}],
  "payload": {"image": {"name": "'"$BUSYBOX"'", "executor_opts": {"kubernetes": {"user": "1000:3000"}}}},
  "script": ["echo \"ids: $(id -u):$(id -g)\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "ids: 1000:3000" "the job's user and group"
expect_eq 'init-permissions 0 false' "$(pod_field '" ".join(str(x).lower() for x in (p["spec"]["initContainers"][0]["name"], p["spec"]["initContainers"][0]["securityContext"]["runAsUser"], p["spec"]["automountServiceAccountToken"]))')" "the init container, the token not mounted"
expect_eq '{"limits": {"memory": "1536Mi"}}' "$(pod_field 'json.dumps(p["spec"]["resources"])')" "pod-level resources, overwritten"
expect_eq '1000 3000' "$(pod_field 'str(p["spec"]["containers"][0]["securityContext"]["runAsUser"]) + " " + str(p["spec"]["containers"][0]["securityContext"]["runAsGroup"])')" "build security context"
expect_pod_deleted "$(last_pod)" 0

test_case "allowed_users: a user not on the list is ignored with gitlab-runner's warning"
write_config 'cleanup_grace_period_seconds = 0' 'allowed_users = ["1000"]'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$BUSYBOX"'", "executor_opts": {"kubernetes": {"user": "0"}}}},
  "script": ["echo \"uid: $(id -u)\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "WARNING: Error parsing 'uid' from image options for container \"build\", using the configured security context: validating UID: user \"0\" is not in the allowed list: [1000]" "the warning"
expect_eq "" "$(pod_field 'str(p["spec"]["containers"][0]["securityContext"].get("runAsUser", ""))')" "no runAsUser"
expect_pod_deleted "$(last_pod)" 0

test_case "registry credentials: a kubernetes.io/dockercfg Secret before the pod, in its imagePullSecrets, owned by it and gone with it"
curl -sS -o "$T_DIR/post.out" -X POST -H "Authorization: Bearer $K8S_TOKEN" -H 'Content-Type: application/json' \
	--data '{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "regcred"}, "type": "Opaque", "data": {}}' \
	"$K8S_URL/api/v1/namespaces/default/secrets"
write_config 'cleanup_grace_period_seconds = 0' 'image_pull_secrets = ["regcred"]'
auth=$(printf 'admin:s3cr3t' | base64)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "DOCKER_AUTH_CONFIG", "value": "{\"auths\": {\"registry.example.com\": {\"auth\": \"'"$auth"'\"}}}", "public": false}],
  "payload": {"credentials": [{"type": "registry", "url": "ghcr.io", "username": "bot", "password": "ghcr-pass"}]},
  "script": ["echo with-credentials"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 2000 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "with-credentials" "the script ran"
"$PYTHON" - "$T_DIR/k8s.requests" >"$T_DIR/secret.check" <<'PY'
import base64, json, sys
reqs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
posts = [(i, r) for i, r in enumerate(reqs) if r["method"] == "POST"
         and r["path"] == "/api/v1/namespaces/default/secrets"
         and r["body"]["metadata"]["name"] != "regcred"]
pods = [(i, r) for i, r in enumerate(reqs) if r["method"] == "POST"
        and r["path"].endswith("/pods")]
si, s = posts[-1]
pi, p = pods[-1]
name = s["body"]["metadata"]["name"]
print("order", "secret-first" if si < pi else "pod-first")
print("status", s["status"])
print("type", s["body"]["type"])
print("name", name.startswith(p["body"]["metadata"]["name"][:-8]))
print("cfg", base64.b64decode(s["body"]["data"][".dockercfg"]).decode())
print("pullsecrets", " ".join(x["name"] == name and "CRED" or x["name"]
                              for x in p["body"]["spec"]["imagePullSecrets"]))
puts = [r for r in reqs if r["method"] == "PUT" and r["path"].endswith("/secrets/" + name)]
refs = puts[-1]["body"]["metadata"]["ownerReferences"] if puts else []
print("owner", puts and puts[-1]["status"], json.dumps([[x["kind"], x["name"] == p["body"]["metadata"]["name"], bool(x["uid"])] for x in refs]))
print("secret", name)
PY
expect_contains "$T_DIR/secret.check" "order secret-first" "the Secret before the pod"
expect_contains "$T_DIR/secret.check" "status 201" "the fake accepted it"
expect_contains "$T_DIR/secret.check" "type kubernetes.io/dockercfg" "its type"
expect_contains "$T_DIR/secret.check" "name True" "named as the pod is"
expect_contains "$T_DIR/secret.check" 'cfg {"ghcr.io":{"username":"bot","password":"ghcr-pass","serveraddress":"ghcr.io"},"registry.example.com":{"username":"admin","password":"s3cr3t","serveraddress":"registry.example.com"}}' "its .dockercfg"
expect_contains "$T_DIR/secret.check" "pullsecrets regcred CRED" "the pod's imagePullSecrets"
expect_contains "$T_DIR/secret.check" 'owner 200 [["Pod", true, true]]' "owned by the pod"
secret=$(sed -n 's/^secret //p' "$T_DIR/secret.check")
for ((i = 0; i < 50; i++)); do
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $K8S_TOKEN" \
		"$K8S_URL/api/v1/namespaces/default/secrets/$secret")
	[ "$code" = 404 ] && break
	sleep 0.2
done
expect_eq 404 "$code" "the Secret went with the pod"
expect_not_contains "$T_DIR/trace" "s3cr3t" "no password in the log"

test_case "registry credentials: a pod that is never created leaves no Secret"
write_config 'cleanup_grace_period_seconds = 0' 'dns_policy = "none"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"credentials": [{"type": "registry", "url": "ghcr.io", "username": "bot", "password": "ghcr-pass"}]},
  "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "cannot create the pod" "the pod was refused ($(tail -c 1000 "$T_DIR/trace"))"

# Each try of the preparation makes one and deletes it.
made=$(requests 'r["method"] == "POST" and r["path"].endswith("/secrets") and r["status"] == 201 and r["body"]["metadata"]["name"] != "regcred"' | wc -l)
deleted=$(requests 'r["method"] == "DELETE" and "/secrets/" in r["path"] and r["status"] == 200' | wc -l)
expect_eq "$((made - 1))" "$deleted" "crunner deleted each Secret it made here (made $made, the first one went with its pod)"
expect_eq "" "$(curl -sS -H "Authorization: Bearer $K8S_TOKEN" "$K8S_URL/api/v1/namespaces/default/secrets" |
	"$PYTHON" -c 'import json,sys; print(" ".join(s["metadata"]["name"] for s in json.load(sys.stdin)["items"] if s["metadata"]["name"] != "regcred"))')" "no Secret left"

t_finish
