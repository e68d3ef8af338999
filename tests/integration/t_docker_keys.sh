#!/usr/bin/env bash
# [runners.docker] keys as gitlab-runner applies them, on a real engine
# (tests/docker/record_proxy.py records the engine's inspect of each
# container before crunner removes it): services_devices gives a service
# the devices of the image patterns its image matches, and not devices;
# volume_driver and volume_driver_ops reach the volume create
# (the local driver's bind options: what the job writes lands in the
# bound dir, the kept cache volume has the options); volume_keep
# removes containers without their anonymous volumes (an image VOLUME
# outlives the job), with gitlab-runner's warning, and without it they go.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dvk
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

. "$CR_SOURCE_DIR/tests/docker/record_lib.sh"
start_record_proxy "$SOCK"

test_case "services_devices: a service gets the devices of the patterns its image matches, not devices"
proxied_config 'network_mode = "host"' 'wait_for_services_timeout = -1' \
	'devices = ["/dev/null:/dev/build-null"]'
cat >>"$T_DIR/config.toml" <<TOML
    [runners.docker.services_devices]
      "crunner-test/service:*" = ["/dev/zero:/dev/svc-zero"]
      "crunner-test/**" = ["/dev/urandom:/dev/svc-random:r"]
      "other/*" = ["/dev/full"]
TOML
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "crunner-test/service", "entrypoint": ["sleep"], "command": ["60"]}]},
  "script": ["test -c /dev/build-null && echo build-has-its-device"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "build-has-its-device" "the build container's device"
expect_eq '[{"CgroupPermissions": "rwm", "PathInContainer": "/dev/svc-zero", "PathOnHost": "/dev/zero"}, {"CgroupPermissions": "r", "PathInContainer": "/dev/svc-random", "PathOnHost": "/dev/urandom"}]' \
	"$(inspected_last "$id" service 'h["Devices"]')" "the service's devices (crunner-test/service:latest matched)"
expect_eq '[{"CgroupPermissions": "rwm", "PathInContainer": "/dev/build-null", "PathOnHost": "/dev/null"}]' \
	"$(inspected_last "$id" build 'h["Devices"]')" "the build container's devices"
expect_nothing_left "$id"

test_case "volume_driver and volume_driver_ops: the job's volumes are the driver's bind of a host dir"
# The local driver's options for a bind: the volumes' data is in VOLSRC.
VOLSRC=$T_DIR/volsrc
mkdir -p "$VOLSRC"
# A cache dir of its own: its kept volume is new (an earlier case made /cache's).
proxied_config 'volume_driver = "local"' 'runners.cache_dir = "/cache-drv"' \
	"volume_driver_ops = { type = \"none\", o = \"bind\", device = \"$VOLSRC\" }"
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "script": ["echo from-the-job > \"$CI_PROJECT_DIR/marker\""]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
[ "$(cat "$VOLSRC/acme/widget/marker" 2>/dev/null)" = from-the-job ] ||
	fail "the build volume is not the driver's bind: $(ls -R "$VOLSRC" | head -20)"
kept=$(volumes_with "job.id=$id" | tr ' ' '\n' | grep -E -- '-concurrent-[0-9]+-cache-' | head -1)
[ -n "$kept" ] || fail "no kept cache volume: $(volumes_with "job.id=$id")"
expect_eq "[\"local\", {\"device\": \"$VOLSRC\", \"o\": \"bind\", \"type\": \"none\"}]" \
	"$(dapi "/volumes/$kept" | "$PYTHON" -c 'import json,sys; v=json.load(sys.stdin); print(json.dumps([v["Driver"], v["Options"]], sort_keys=True))')" \
	"the kept volume as the engine has it"
expect_nothing_left "$id"
# What the job's containers wrote as root in the bound dir goes with it.
rm -rf "$VOLSRC"

# An image with an anonymous volume (gitlab-runner's RemoveVolumes is about those).
VOL_IMAGE=crunner-test/dropin-vol-$SHORT_LC:latest
cid=$(curl -sS --unix-socket "$SOCK" -X POST -H 'Content-Type: application/json' \
	-d '{"Image": "'"$BUSYBOX"'", "Cmd": ["true"], "Labels": {"com.gitlab.gitlab-runner.runner.id": "'"$SHORT"'"}}' \
	"http://docker/containers/create" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
curl -sS --unix-socket "$SOCK" -X POST -G "http://docker/commit" --data-urlencode "container=$cid" \
	--data-urlencode "repo=${VOL_IMAGE%:*}" --data-urlencode tag=latest \
	--data-urlencode "changes=VOLUME /anon" >/dev/null
curl -sS --unix-socket "$SOCK" -X DELETE "http://docker/containers/$cid?force=1" >/dev/null
test_when_finished "curl -sS --unix-socket '$SOCK' -X DELETE 'http://docker/images/$VOL_IMAGE?force=1' >/dev/null"

# anon_volumes JOB-ID: the anonymous /anon volume of each container of the
# job the engine held, as recorded before crunner removed it.
anon_volumes() {
	"$PYTHON" -c '
import json, sys
for line in open(sys.argv[1]):
    c = json.loads(line).get("inspect")
    if c and (c["Config"]["Labels"] or {}).get("com.gitlab.gitlab-runner.job.id") == sys.argv[2]:
        for m in c.get("Mounts") or []:
            if m.get("Destination") == "/anon":
                print(m["Name"])' "$RECORD" "$1"
}
vol_job='{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"image": {"name": "'"$VOL_IMAGE"'"}}, "script": ["echo data > /anon/f && echo wrote"]}'

test_case "volume_keep: containers go, their anonymous volumes stay, with gitlab-runner's warning"
proxied_config 'volume_keep = true'
run_job "$vol_job"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "WARNING: volume_keep is enabled: Docker volumes will not be removed after job completion and may accumulate on disk" "the warning"
anon=$(anon_volumes "$id")
[ -n "$anon" ] || fail "no anonymous volume recorded"
for v in $anon; do
	test_when_finished "curl -sS --unix-socket '$SOCK' -X DELETE 'http://docker/volumes/$v?force=1' >/dev/null"
	dapi "/volumes/$v" | grep -q '"Name"' || fail "anonymous volume $v was removed"
done
expect_eq "" "$(containers_of "$id")" "no container left"

test_case "without volume_keep: the anonymous volumes go with their containers"
proxied_config
run_job "$vol_job"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_not_contains "$T_DIR/trace" "volume_keep is enabled" "no warning"
anon=$(anon_volumes "$id")
[ -n "$anon" ] || fail "no anonymous volume recorded"
for v in $anon; do
	! dapi "/volumes/$v" | grep -q '"Name"' || fail "anonymous volume $v is still there"
done
expect_nothing_left "$id"

echo "ok: $T_NAME"
