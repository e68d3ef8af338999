#!/usr/bin/env bash
# Sets up a Docker engine and the local test images for the docker executor
# tests, without any registry.  Idempotent: a dockerd that answers on
# $DOCKER_SOCK is used as it is; images already built are kept.
#
#   scripts/docker-test-env.sh          start dockerd if needed, build images
#   scripts/docker-test-env.sh --check  exit 0 when the engine answers
#
# Exit codes: 0 ready; 3 no engine can be started here (no dockerd, not
# root, or it died on start): callers print "skipped: no docker engine";
# anything else is a real failure.
#
# Tests run side by side and each calls this script: one call at a time
# holds $DOCKER_TEST_STATE/setup.lock (flock) while it starts dockerd and
# builds images, so a second call neither starts a second dockerd nor
# takes the first one's half-started daemon for a dead one.
#
# dockerd runs with --bridge=none --iptables=false --ip-masq=false (test
# containers use network_mode host or none), logs to $DOCKER_TEST_STATE/
# dockerd.log, its pid in dockerd.pid, and is left running.
#
# Images (each built only when missing):
#   crunner-test/busybox:latest  Debian's busybox-static, sh only
#   crunner-test/bash:latest     the same plus /bin/bash with its libraries
#   crunner-test/service:latest  the busybox image exposing TCP port 38471
#                                (EXPOSE in its config), serving /www there
#                                with busybox httpd
#   crunner-helper:test          with HELPER_BINARY=<crunner binary> set:
#                                scripts/build-helper-image.sh of it (the
#                                name goes to stderr as "helper image: ...")
set -euo pipefail

DOCKER_SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
STATE=${DOCKER_TEST_STATE:-/tmp/crunner-dockerd}
IMAGES=(crunner-test/busybox:latest crunner-test/bash:latest crunner-test/service:latest)
SERVICE_PORT=38471

say() { echo "docker-test-env: $*" >&2; }

engine_answers() {
	curl -sf --max-time 3 --unix-socket "$DOCKER_SOCK" http://localhost/_ping >/dev/null 2>&1
}

# api METHOD PATH [CURL-ARGS...]: one Engine API call, body on stdout.
api() {
	local method=$1 path=$2
	shift 2
	curl -sf --max-time 120 --unix-socket "$DOCKER_SOCK" -X "$method" "$@" \
		"http://localhost$path"
}

start_dockerd() {
	local i pid
	if ! command -v dockerd >/dev/null 2>&1; then
		say "dockerd is not installed (scripts/install-deps.sh installs docker.io)"
		return 3
	fi
	if [ "$(id -u)" -ne 0 ]; then
		say "not root: cannot start dockerd"
		return 3
	fi
	mkdir -p "$STATE"
	# A dockerd we started earlier that stopped answering: stop it first.
	if [ -s "$STATE/dockerd.pid" ]; then
		pid=$(cat "$STATE/dockerd.pid")
		if kill -0 "$pid" 2>/dev/null && grep -q dockerd "/proc/$pid/cmdline" 2>/dev/null; then
			say "dockerd $pid does not answer; stopping it"
			kill "$pid" 2>/dev/null || true
			for ((i = 0; i < 100; i++)); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
		fi
		rm -f "$STATE/dockerd.pid"
	fi
	say "starting dockerd (log: $STATE/dockerd.log)"
	# 9>&-: the daemon outlives this script and must not hold setup.lock.
	setsid dockerd --host "unix://$DOCKER_SOCK" --bridge=none --iptables=false \
		--ip-masq=false --ip6tables=false --pidfile "$STATE/dockerd.run.pid" \
		>>"$STATE/dockerd.log" 2>&1 </dev/null 9>&- &
	pid=$!
	echo "$pid" >"$STATE/dockerd.pid"
	for ((i = 0; i < 300; i++)); do
		engine_answers && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			say "dockerd exited on start: $(tail -n 5 "$STATE/dockerd.log")"
			rm -f "$STATE/dockerd.pid"
			return 3
		fi
		sleep 0.1
	done
	say "dockerd does not answer after 30 s: $(tail -n 5 "$STATE/dockerd.log")"
	return 3
}

image_exists() {
	api GET "/images/$1/json" >/dev/null 2>&1
}

# A rootfs with busybox's applets as symlinks, and /tmp, /etc/passwd.
make_busybox_rootfs() {
	local dir=$1 bb
	bb=$(command -v busybox || true)
	[ -x /bin/busybox ] && bb=/bin/busybox
	if [ -z "$bb" ] || ! file -L "$bb" 2>/dev/null | grep 'statically linked' >/dev/null; then
		say "busybox-static is not installed (scripts/install-deps.sh installs it)"
		return 1
	fi
	mkdir -p "$dir/bin" "$dir/tmp" "$dir/etc" "$dir/root" "$dir/usr/bin" \
		"$dir/usr/sbin" "$dir/sbin" "$dir/proc" "$dir/sys" "$dir/dev"
	chmod 1777 "$dir/tmp"
	cp "$bb" "$dir/bin/busybox"
	chroot "$dir" /bin/busybox --install -s
	echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
	echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >>"$dir/etc/passwd"
	echo 'root:x:0:' >"$dir/etc/group"
	echo 'nogroup:x:65534:' >>"$dir/etc/group"
}

urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

import_rootfs() { # dir image [image-config-change...]
	local dir=$1 image=$2 query change
	shift 2
	query="fromSrc=-&repo=${image%:*}&tag=${image##*:}"
	for change in "$@"; do
		query+="&changes=$(urlenc "$change")"
	done
	tar -C "$dir" -c . | api POST "/images/create?$query" \
		--data-binary @- -H 'Content-Type: application/x-tar' >/dev/null
	image_exists "$image" || { say "cannot import $image"; return 1; }
}

build_images() {
	local work lib img
	work=$(mktemp -d "${TMPDIR:-/tmp}/crunner-images.XXXXXX")
	# shellcheck disable=SC2064
	trap "rm -rf '$work'" RETURN
	# An image without a shell (a failed import) is rebuilt.
	for img in "${IMAGES[@]}"; do
		if image_exists "$img" && [ "$(api GET "/images/$img/json" |
			sed -n 's/.*"Size":\([0-9]*\).*/\1/p')" = 0 ]; then
			api DELETE "/images/$img?force=1" >/dev/null || true
		fi
	done
	if ! image_exists crunner-test/busybox:latest; then
		say "building crunner-test/busybox:latest"
		make_busybox_rootfs "$work/busybox"
		import_rootfs "$work/busybox" crunner-test/busybox:latest
	fi
	if ! image_exists crunner-test/bash:latest; then
		say "building crunner-test/bash:latest"
		make_busybox_rootfs "$work/bash"
		# busybox's own bash applet is an ash alias: a real bash replaces it.
		rm -f "$work/bash/bin/bash"
		cp /bin/bash "$work/bash/bin/bash"
		for lib in $(ldd /bin/bash | grep -o '/[^ ]*'); do
			mkdir -p "$work/bash$(dirname "$lib")"
			cp -L "$lib" "$work/bash$lib"
		done
		import_rootfs "$work/bash" crunner-test/bash:latest
	fi
	if ! image_exists crunner-test/service:latest; then
		say "building crunner-test/service:latest"
		make_busybox_rootfs "$work/service"
		mkdir -p "$work/service/www"
		echo "service-ok" >"$work/service/www/index.html"
		import_rootfs "$work/service" crunner-test/service:latest \
			"EXPOSE $SERVICE_PORT/tcp" \
			"CMD [\"httpd\", \"-f\", \"-p\", \"$SERVICE_PORT\", \"-h\", \"/www\"]"
	fi
	if [ -n "${HELPER_BINARY:-}" ]; then
		bash "$(dirname "$0")/build-helper-image.sh" "$HELPER_BINARY" crunner-helper:test
		say "helper image: crunner-helper:test"
	fi
}

main() {
	local rc=0
	if [ "${1:-}" = --check ]; then
		engine_answers && return 0
		return 3
	fi
	mkdir -p "$STATE" 2>/dev/null || true
	# A lock file another user made (root's earlier run) cannot be opened:
	# go on without it; only one user can start dockerd anyway.
	if ! { exec 9>>"$STATE/setup.lock"; } 2>/dev/null; then
		say "cannot open $STATE/setup.lock: going on without the lock"
	elif ! flock -w 600 9; then
		say "another docker-test-env.sh holds $STATE/setup.lock for 600 s"
		return 1
	fi
	if ! engine_answers; then
		start_dockerd || return $?
	fi
	build_images || rc=$?
	[ "$rc" -eq 0 ] && say "ready: ${IMAGES[*]}"
	return "$rc"
}

main "$@"
