#!/usr/bin/env bash
# FF_NETWORK_PER_BUILD against a real Docker engine, asserted on what
# reached it (tests/docker/record_proxy.py records the network's create
# body, the engine's inspect of it and of each container before crunner
# removes them): with the flag and no network_mode, a bridge network named
# CI_BUILD_NETWORK_NAME (gitlab-runner's "runner-<short>-<project>-
# <project runner>-<job>") with the job's labels, EnableIPv6 and the
# network_mtu driver option; the build and helper containers on it as
# "build" and their names, a service as its image name ("/" as "__" and
# as "-") and its aliases, which the job reaches it by; the network gone
# at the end, also after a failed script; enable_ipv6 reaches the engine
# (this one has no IPv6 pool: gitlab-runner's failure); network_mode wins
# over the flag, and without the flag there is no network.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dnw
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

. "$CR_SOURCE_DIR/tests/docker/record_lib.sh"
start_record_proxy "$SOCK"

# This runner's networks, whatever a failed case left.
networks_with() { # LABEL=VALUE
	dapi /networks --data-urlencode "filters={\"label\":[$(labels "$1")]}" |
		"$PYTHON" -c 'import json,sys; print(" ".join(n["Name"] for n in json.load(sys.stdin)))'
}
remove_networks() {
	local n
	for n in $(networks_with managed=true); do
		curl -sS --unix-socket "$SOCK" -X DELETE "http://docker/networks/$n" >/dev/null
	done
}
test_when_finished remove_networks

# net_config KEY=VALUE...: write_config through the proxy, no network_mode
# unless one is given, FF_NETWORK_PER_BUILD on.
net_config() {
	proxied_config 'network_mode = ""' "$@"
	sed -i '/network_mode = ""/d' "$T_DIR/config.toml"
	cat >>"$T_DIR/config.toml" <<TOML
  [runners.feature_flags]
    FF_NETWORK_PER_BUILD = true
TOML
}

# recorded JOB-ID KIND EXPR: EXPR (python, over r) of the last record of
# KIND (network_create, network, inspect:TYPE) for the job: of type build,
# the script's container, not the shell probe that runs before PREPARE.
recorded() {
	"$PYTHON" -c '
import json, sys
job, kind, expr = sys.argv[2], sys.argv[3], sys.argv[4]
L = "com.gitlab.gitlab-runner."
found = None
for line in open(sys.argv[1]):
    rec = json.loads(line)
    if kind.startswith("inspect:"):
        r = rec.get("inspect")
        labels = r and (r["Config"]["Labels"] or {})
        if not r or labels.get(L + "type") != kind[8:]:
            continue
    else:
        r = rec.get(kind)
        labels = r and (r.get("Labels") or {})
    if r and labels.get(L + "job.id") == job:
        found = r
if found is None:
    print("no %s record" % kind)
else:
    r = found
    print(json.dumps(eval(expr), sort_keys=True))' "$RECORD" "$1" "$2" "$3"
}

test_case "a per-build network: its name, labels and MTU; the service reached by its aliases"
net_config 'network_mtu = 1400'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "alias": "web, www",
     "entrypoint": ["/bin/sh", "-c"],
     "command": ["mkdir -p /www && echo served-over-the-build-network > /www/index.html && exec httpd -f -p '"$SERVICE_PORT"' -h /www"]}]},
  "script": ["echo net=$CI_BUILD_NETWORK_NAME",
             "wget -qO- http://web:'"$SERVICE_PORT"'/",
             "wget -qO- http://www:'"$SERVICE_PORT"'/ >/dev/null && echo www-too",
             "wget -qO- http://crunner-test__service:'"$SERVICE_PORT"'/ >/dev/null && echo by-image-name",
             "wget -qO- http://crunner-test-service:'"$SERVICE_PORT"'/ >/dev/null && echo by-rfc-name"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "served-over-the-build-network" "the job reached the service by its alias"
expect_contains "$T_DIR/trace" "www-too" "its second alias"
expect_contains "$T_DIR/trace" "by-image-name" "its image name"
expect_contains "$T_DIR/trace" "by-rfc-name" "its RFC 1123 name"
expect_not_contains "$T_DIR/trace" "probably didn't start properly" "the service was seen ready"
L=com.gitlab.gitlab-runner
want="runner-$SHORT_LC-$(recorded "$id" network_create "r['Labels']['$L.project.id']" | tr -d '"')-$(recorded "$id" network_create "r['Labels']['$L.project.runner_id']" | tr -d '"')-$id"
expect_contains "$T_DIR/trace" "net=$want" "CI_BUILD_NETWORK_NAME"
expect_eq "[\"$want\", false, {\"com.docker.network.driver.mtu\": \"1400\"}, \"true\", \"$SHORT\", null]" \
	"$(recorded "$id" network_create "[r['Name'], r['EnableIPv6'], r['Options'], r['Labels']['$L.managed'], r['Labels']['$L.runner.id'], r['Labels'].get('$L.type')]")" \
	"the network's create body"
expect_eq "[\"$want\", \"bridge\", \"1400\"]" \
	"$(recorded "$id" network "[r['Name'], r['Driver'], r['Options'].get('com.docker.network.driver.mtu')]")" \
	"the network as the engine had it"
expect_eq "[\"$want\", true, true]" \
	"$(recorded "$id" inspect:build "[r['HostConfig']['NetworkMode'], 'build' in r['NetworkSettings']['Networks']['$want']['Aliases'], r['Name'][1:] in r['NetworkSettings']['Networks']['$want']['Aliases']]")" \
	"the build container on it as build and its name"
expect_eq "[\"$want\", true]" \
	"$(recorded "$id" inspect:predefined "[r['HostConfig']['NetworkMode'], 'build' in r['NetworkSettings']['Networks']['$want']['Aliases']]")" \
	"the helper on it"
expect_eq "[\"$want\", true]" \
	"$(recorded "$id" inspect:service "[r['HostConfig']['NetworkMode'], set(['crunner-test__service', 'crunner-test-service', 'web', 'www']) <= set(r['NetworkSettings']['Networks']['$want']['Aliases'])]")" \
	"the service on it with its aliases"
expect_eq "" "$(networks_with "job.id=$id")" "the network is gone"
expect_nothing_left "$id"

test_case "a failed script: the network is removed too"
net_config
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo on=$CI_BUILD_NETWORK_NAME", "exit 3"]}'
expect_eq script_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "on=runner-$SHORT_LC-" "the job ran on the network"
[ "$(recorded "$id" network "r['Name']")" != "no network record" ] || fail "the network was not removed by crunner"
expect_eq "" "$(networks_with "job.id=$id")" "the network is gone"
expect_nothing_left "$id"

test_case "enable_ipv6: EnableIPv6 reaches the engine, whose refusal fails the job"
net_config 'enable_ipv6 = true'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo must-not-run"]}'
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_contains "$T_DIR/trace" "cannot create the build network 'runner-$SHORT_LC-" "crunner's sentence"
expect_contains "$T_DIR/trace" "IPv6 address pool" "the engine's reason"
expect_eq true "$(recorded "$id" network_create "r['EnableIPv6']")" "EnableIPv6 sent"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
expect_eq "" "$(networks_with "job.id=$id")" "no network"
expect_nothing_left "$id"

test_case "network_mode wins over the flag; no flag, no network"
net_config 'network_mode = "host"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo name=[$CI_BUILD_NETWORK_NAME]"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_eq "no network_create record" "$(recorded "$id" network_create "r")" "no network created"
expect_eq '"host"' "$(recorded "$id" inspect:build "r['HostConfig']['NetworkMode']")" "the build container on the host network"
proxied_config
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "script": ["echo name=[$CI_BUILD_NETWORK_NAME]"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 800 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "name=[]" "no CI_BUILD_NETWORK_NAME without the flag"
expect_eq "no network_create record" "$(recorded "$id" network_create "r")" "no network without the flag"
expect_nothing_left "$id"

echo "ok: $T_NAME"
