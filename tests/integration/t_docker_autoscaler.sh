#!/usr/bin/env bash
# The docker-autoscaler executor (src/executor/docker_tunnel.c): the
# docker executor's whole job -- image, helper container, build
# container, volumes, cleanup -- on an "instance" whose Docker API is
# reached over SSH, here a test sshd on loopback in front of the local
# engine.  The job is driven by tests/docker/autoscaler_driver.c with the
# instance on its command line, so the transport's failures are reached
# without taskscaler (t_autoscale_docker runs it through `crunner run`
# and taskscaler).  Cases: "docker system dial-stdio" (the default) and the
# direct-streamlocal socket forward (FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO
# false, from [runners.feature_flags] and from a job variable), a cancel
# mid-stage, a refused key and a host that does not answer (one sentence,
# a network error: runner_system_failure), and no instance at all (a
# configuration error).  After every job: no container, volume,
# forwarder process or socket directory is left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_require
command -v docker >/dev/null || skip_scenario "no docker CLI (dial-stdio runs it on the instance)"
. "$CR_SOURCE_DIR/tests/docker/env.sh"
DRIVER=$CR_BUILD_DIR/tests/autoscaler_driver
[ -x "$DRIVER" ] || fail "no $DRIVER"
SOCK=/var/run/docker.sock

SSHD_LOGLEVEL=DEBUG1 start_sshd das
SHORT=das$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
TOKEN=glrt-t1_${SHORT}Token01

# Whatever a failed case left behind goes with the scenario.
remove_leftovers() {
	local ids
	ids=$(docker ps -aq --filter "label=com.gitlab.gitlab-runner.runner.id=$SHORT")
	[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1
	ids=$(docker volume ls -q --filter "label=com.gitlab.gitlab-runner.runner.id=$SHORT")
	[ -z "$ids" ] || docker volume rm -f $ids >/dev/null 2>&1
}
test_when_finished remove_leftovers

cat >"$T_DIR/payload.json" <<'JSON'
{"id": 1001, "token": "job-token-1001",
 "job_info": {"id": 1001, "name": "as", "stage": "test", "project_id": 77, "project_name": "project"},
 "git_info": {"repo_url": "http://127.0.0.1:1/group/project.git", "ref": "main", "sha": "0123456789abcdef0123456789abcdef01234567", "before_sha": "0000000000000000000000000000000000000000", "ref_type": "branch"},
 "runner_info": {"timeout": 600},
 "variables": [], "steps": [{"name": "script", "script": ["true"], "when": "on_success"}]}
JSON

# write_config FILE [FEATURE-FLAG-LINE]
write_config() {
	cat >"$1" <<TOML
concurrent = 1
[[runners]]
  name = "das"
  url = "http://127.0.0.1:1/"
  token = "$TOKEN"
  executor = "docker-autoscaler"
  [runners.docker]
    image = "crunner-test/busybox:latest"
    helper_image = "$HELPER_IMAGE"
    pull_policy = ["if-not-present"]
  [runners.feature_flags]
    $2
TOML
}

# drive NAME ARGS...: one job; its report in $T_DIR/NAME.out.
drive() {
	local name=$1
	shift
	mkdir -p "$T_DIR/tmp-$name"
	"$DRIVER" --payload "$T_DIR/payload.json" --tmp-dir "$T_DIR/tmp-$name" "$@" \
		>"$T_DIR/$name.out" 2>"$T_DIR/$name.err" ||
		fail "driver failed: $(cat "$T_DIR/$name.err")"
}

# nothing_left NAME: no container, volume, forwarder or socket dir.
nothing_left() {
	local name=$1 left
	expect_contains "$T_DIR/$name.out" "== children 0" "no child process left"
	left=$(docker ps -aq --filter "label=com.gitlab.gitlab-runner.runner.id=$SHORT")
	expect_eq "" "$left" "containers left on the instance"
	# The cache volume (runner-...-concurrent-0-cache-<md5>) is kept on
	# purpose; the job's own (<that>-<8 hex>-cache-<md5>) must be gone.
	left=$(docker volume ls -q --filter "label=com.gitlab.gitlab-runner.runner.id=$SHORT" |
		grep -E -- '-concurrent-[0-9]+-[0-9a-f]{8}-cache-' || true)
	expect_eq "" "$left" "the job's own volumes left on the instance"
	left=$(ls -A "$T_DIR/tmp-$name")
	expect_eq "" "$left" "files left in the job's temp dir"
}

# job_ok NAME: every step of the job ended well.
job_ok() {
	local f=$T_DIR/$1.out
	expect_contains "$f" "Dialing instance i-driver..." "dial line"
	expect_contains "$f" "Instance i-driver connected" "connected line"
	expect_contains "$f" "Using Docker executor with image crunner-test/busybox:latest" "image line"
	for s in config prepare_hook get_sources step_script cleanup_hook; do
		expect_contains "$f" "== $s status=0 err=0" "step $s ($(grep '^== ' "$f" | tr '\n' ' '))"
	done
	expect_contains "$f" "helper-stage-ran" "the helper container's output"
	expect_contains "$f" "build-stage-ran" "the build container's output"
	# A stream packet left in libssh's buffer waited for the next
	# keepalive (30 s) before the stall fix: each container run took 30 s.
	for s in get_sources step_script; do
		ms=$(sed -n "s/^== $s ms=//p" "$f")
		[ "${ms:-99999}" -lt 25000 ] || fail "$s took ${ms} ms: a forwarded stream waited for a keepalive"
	done
}

INSTANCE=(--addr "127.0.0.1:$SSHD_PORT" --user root --key "$SSHD_KEY")

test_case "dial-stdio (the default): the whole job on the instance"
write_config "$T_DIR/dial.toml" ""
lines_before=$(wc -l <"$SSHD_DIR/sshd.log")
drive dial --config "$T_DIR/dial.toml" "${INSTANCE[@]}" \
	--build-script 'echo build-stage-ran in $(cat /etc/hostname)'
job_ok dial
tail -n +"$((lines_before + 1))" "$SSHD_DIR/sshd.log" >"$T_DIR/dial.sshd"
# (sshd at DEBUG1 logs the request, not the command line.)
expect_contains "$T_DIR/dial.sshd" "req exec" "sshd ran a command (dial-stdio)"
expect_not_contains "$T_DIR/dial.sshd" "direct-streamlocal" "no socket forward"
expect_eq 1 "$(grep -c 'Accepted publickey for root' "$T_DIR/dial.sshd")" "one SSH login for the job"
nothing_left dial

test_case "FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO=false: a socket forward to the daemon's socket"
write_config "$T_DIR/fwd.toml" "FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO = false"
lines_before=$(wc -l <"$SSHD_DIR/sshd.log")
drive fwd --config "$T_DIR/fwd.toml" "${INSTANCE[@]}"
job_ok fwd
tail -n +"$((lines_before + 1))" "$SSHD_DIR/sshd.log" >"$T_DIR/fwd.sshd"
expect_contains "$T_DIR/fwd.sshd" "direct-streamlocal" "sshd forwarded a socket"
expect_not_contains "$T_DIR/fwd.sshd" "req exec" "no command (dial-stdio)"
nothing_left fwd

test_case "the job's variable turns the flag off too; a cancel mid-stage still cleans up"
write_config "$T_DIR/cancel.toml" ""
lines_before=$(wc -l <"$SSHD_DIR/sshd.log")
drive cancel --config "$T_DIR/cancel.toml" "${INSTANCE[@]}" \
	--var FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO=false \
	--build-script 'echo build-stage-ran; sleep 300' --cancel-ms 4000
f=$T_DIR/cancel.out
expect_contains "$f" "build-stage-ran" "the stage started"
expect_contains "$f" "== step_script cancelling" "the cancel came"
expect_contains "$f" "== step_script status=" "the stage ended"
grep -q "== step_script status=.* err=canceled" "$f" || fail "the stage did not end as cancelled: $(grep '^== ' "$f")"
expect_contains "$f" "== cleanup_hook status=0 err=0" "cleanup after the cancel"
tail -n +"$((lines_before + 1))" "$SSHD_DIR/sshd.log" >"$T_DIR/cancel.sshd"
expect_contains "$T_DIR/cancel.sshd" "direct-streamlocal" "the job's variable chose the socket forward"
expect_not_contains "$T_DIR/cancel.sshd" "req exec" "no command (dial-stdio)"
nothing_left cancel

test_case "a refused key: one sentence, a network error (runner_system_failure), nothing left"
ssh-keygen -q -t ed25519 -N '' -f "$T_DIR/other_key" -C other || fail "ssh-keygen"
drive badkey --config "$T_DIR/dial.toml" --addr "127.0.0.1:$SSHD_PORT" --user root --key "$T_DIR/other_key"
f=$T_DIR/badkey.out
expect_contains "$f" "== config status=0 err=network error" "CONFIG failed as a network error"
expect_contains "$f" "== config error: connecting to instance i-driver: ssh: " "the sentence"
grep "== config error:" "$f" | grep -qi "auth\|denied\|refused" || fail "the sentence does not say the login was refused: $(grep '^== config error' "$f")"
expect_not_contains "$f" "Instance i-driver connected" "no connected line"
nothing_left badkey

test_case "a host that does not answer: one sentence naming it, a network error"
port=$(free_port)
drive down --config "$T_DIR/dial.toml" --addr "127.0.0.1:$port" --user root --key "$SSHD_KEY"
f=$T_DIR/down.out
expect_contains "$f" "== config status=0 err=network error" "CONFIG failed as a network error"
expect_contains "$f" "== config error: connecting to instance i-driver: ssh: cannot connect to root@127.0.0.1:$port" "the sentence"
nothing_left down

test_case "docker-autoscaler without an instance: a configuration error"
drive none --config "$T_DIR/dial.toml"
f=$T_DIR/none.out
expect_contains "$f" "== prepare err=refused by the runner's configuration" "prepare refused"
expect_contains "$f" "no instance was acquired for this job" "the sentence"

t_finish
