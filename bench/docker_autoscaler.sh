#!/usr/bin/env bash
# One docker job's wall time (CONFIG, PREPARE, a helper stage, a build
# stage, CLEANUP: tests/docker/autoscaler_driver.c) on the local engine
# with the docker executor, and with the docker-autoscaler executor
# through a test sshd on loopback (dial-stdio, and the socket forward).
# The difference is the SSH transport: a login, a channel per Docker API
# connection (a sshd session per dial-stdio channel), the copying.
#
#   bench/docker_autoscaler.sh BUILD_DIR [REPEAT]
#
# BUILD_DIR holds crunner and tests/autoscaler_driver (a CR_TESTS build).
# Needs root (sshd logs users in), sshd, the docker CLI and the test images
# (scripts/docker-test-env.sh).  Prints the median of REPEAT runs (default
# 5) of each; writes nothing outside its temporary dir.
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/docker_autoscaler.sh BUILD_DIR [REPEAT]}" && pwd)
REPEAT=${2:-5}
export CRUNNER=$BUILD/crunner CR_SOURCE_DIR=$(cd "$(dirname "$0")/.." && pwd)
export PYTHON=${PYTHON:-python3}
set +u
. "$CR_SOURCE_DIR/tests/integration/lib.sh"
. "$CR_SOURCE_DIR/tests/integration/sshd_lib.sh"
set -u
sshd_require
start_sshd bench
SHORT=dab$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
sed -n '/^cat >"\$T_DIR\/payload.json"/,/^JSON/p' \
	"$CR_SOURCE_DIR/tests/integration/t_docker_autoscaler.sh" | sed '1d;$d' >"$T_DIR/payload.json"

config() { # FILE EXECUTOR FLAG-LINE
	cat >"$1" <<TOML
[[runners]]
  name = "bench"
  url = "http://127.0.0.1:1/"
  token = "glrt-t1_${SHORT}Token01"
  executor = "$2"
  [runners.docker]
    image = "crunner-test/busybox:latest"
    helper_image = "crunner-helper:test"
    pull_policy = ["if-not-present"]
  [runners.feature_flags]
    $3
TOML
}
config "$T_DIR/local.toml" docker ""
config "$T_DIR/dial.toml" docker-autoscaler ""
config "$T_DIR/fwd.toml" docker-autoscaler "FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO = false"

one() { # NAME ARGS...: prints the job's wall time in ms
	local name=$1 t0 t1
	shift
	t0=$(date +%s%N)
	"$BUILD/tests/autoscaler_driver" --payload "$T_DIR/payload.json" "$@" >"$T_DIR/$name.out" 2>&1
	t1=$(date +%s%N)
	grep -q "== step_script status=0 err=0" "$T_DIR/$name.out" ||
		fail "$name: the job failed: $(grep '^==' "$T_DIR/$name.out")"
	echo $(((t1 - t0) / 1000000))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

INSTANCE=(--addr "127.0.0.1:$SSHD_PORT" --user root --key "$SSHD_KEY")
for kind in local dial fwd; do
	: >"$T_DIR/$kind.times"
done
for ((i = 0; i < REPEAT; i++)); do
	one local --config "$T_DIR/local.toml" >>"$T_DIR/local.times"
	one dial --config "$T_DIR/dial.toml" "${INSTANCE[@]}" >>"$T_DIR/dial.times"
	one fwd --config "$T_DIR/fwd.toml" "${INSTANCE[@]}" >>"$T_DIR/fwd.times"
done
printf 'docker job, median of %d (ms): local engine %s; over SSH: dial-stdio %s, socket forward %s\n' \
	"$REPEAT" "$(median <"$T_DIR/local.times")" "$(median <"$T_DIR/dial.times")" \
	"$(median <"$T_DIR/fwd.times")"
for kind in local dial fwd; do
	printf '  %s: %s\n' "$kind" "$(tr '\n' ' ' <"$T_DIR/$kind.times")"
done
t_finish >/dev/null
