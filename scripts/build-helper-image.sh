#!/usr/bin/env bash
# Builds the docker executor's helper image from a crunner binary, without
# a registry or the docker CLI: a rootfs with crunner (/usr/bin/crunner,
# whose artifacts-helper verb does caches and artifacts), git with its
# helpers (git-remote-http for clones over HTTP), bash, dumb-init (the
# kubernetes executor's FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR copies
# /usr/bin/dumb-init from it), a static busybox
# for sh and the usual tools, CA certificates, and every shared library
# these need (from ldd), imported through the Engine API (POST
# /images/create?fromSrc=-).
#
#   scripts/build-helper-image.sh [CRUNNER [IMAGE]]
#
# CRUNNER defaults to build/crunner; IMAGE to crunner-helper:<version>, the
# image the docker executor uses when [runners.docker] helper_image is not
# set.  The image carries the SHA-256 of the binary and this script as a
# label and is rebuilt only when one of them changed.  An ASan build gets
# ASAN_OPTIONS=detect_leaks=0 in the image (LeakSanitizer needs ptrace, which a
# container's seccomp profile may refuse); the runner itself still checks.
set -euo pipefail

DOCKER_SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
HERE=$(cd "$(dirname "$0")/.." && pwd)
CRUNNER=${1:-$HERE/build/crunner}
LABEL=io.crunner.helper.sha256

say() { echo "build-helper-image: $*" >&2; }
# Never exit without saying where (set -e is otherwise silent).
trap 'say "failed (exit $?) at line $LINENO: $BASH_COMMAND"' ERR

api() { # METHOD PATH [CURL-ARGS...]
	local method=$1 path=$2
	shift 2
	curl -sf --max-time 300 --unix-socket "$DOCKER_SOCK" -X "$method" "$@" \
		"http://localhost$path"
}

urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

[ -x "$CRUNNER" ] || { say "no crunner binary at '$CRUNNER'"; exit 1; }
if [ $# -ge 2 ]; then
	IMAGE=$2
else
	IMAGE="crunner-helper:$("$CRUNNER" --version | sed -n '1s/^[^0-9]*\([0-9][^ ]*\).*/\1/p')"
fi
# Two tests may build the same image at once: one builds, the other
# waits and then finds it up to date.
LOCK="${TMPDIR:-/tmp}/crunner-helper-image.$(printf '%s' "$IMAGE" | tr -c 'A-Za-z0-9._-' _).lock"
exec 9>"$LOCK"
flock 9
# The binary and this script: either changing makes a new image.
SUM=$(cat "$CRUNNER" "$0" | sha256sum | cut -c1-64)

# Up to date already?
if have=$(api GET "/images/$(urlenc "$IMAGE")/json" 2>/dev/null) &&
	echo "$have" | grep "\"$LABEL\":\"$SUM\"" >/dev/null; then
	say "$IMAGE is up to date"
	exit 0
fi

BB=/bin/busybox
[ -x "$BB" ] || BB=$(command -v busybox || true)
if [ -z "$BB" ] || ! file -L "$BB" 2>/dev/null | grep 'statically linked' >/dev/null; then
	say "a static busybox is needed (Debian: busybox-static)"
	exit 1
fi
GIT=$(command -v git || true)
[ -n "$GIT" ] || { say "git is needed"; exit 1; }
GIT_CORE=$("$GIT" --exec-path)

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/crunner-helper.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT

# copy_with_libs FILE DEST: the file and the shared libraries it loads.
copy_with_libs() {
	local lib
	mkdir -p "$ROOT$(dirname "$2")"
	cp -L "$1" "$ROOT$2"
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}

mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,tmp,root,etc/ssl/certs,proc,sys,dev}
chmod 1777 "$ROOT/tmp"
cp "$BB" "$ROOT/bin/busybox"
for applet in $("$BB" --list-full 2>/dev/null || "$BB" --list | sed 's|^|bin/|'); do
	[ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
rm -f "$ROOT/bin/bash"
copy_with_libs /bin/bash /bin/bash
copy_with_libs "$CRUNNER" /usr/bin/crunner
# crunner may load libarchive only when it archives (CR_LAZY_LIBARCHIVE)
# and libcurl only when it speaks HTTP (CR_LAZY_CURL), zlib, libpcre2-8 and
# libfyaml on first use (CR_LAZY_ZLIB/PCRE2/FYAML), libzstd for the zipzstd
# cache format (src/archive/zstd_dl.c): ldd does not list them
# then, the helper needs them all the same.
for soname in libarchive.so.13 libcurl.so.4 libz.so.1 libpcre2-8.so.0 libfyaml.so.0 libzstd.so.1; do
	# awk reads all of ldconfig's output: an early exit could kill
	# ldconfig with SIGPIPE, which pipefail turns into a silent exit.
	lib=$(ldconfig -p 2>/dev/null | awk -v n="$soname" '!found && $1 == n && /x86-64|AArch64/ { print $NF; found = 1 }')
	if [ -n "$lib" ]; then
		copy_with_libs "$lib" "$lib"
	else
		say "warning: no $soname found: a lazily linked crunner cannot use it in the helper"
	fi
done
# FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR: the init container copies it
# to the scripts volume, from where the build and helper containers start.
if [ -x /usr/bin/dumb-init ]; then
	copy_with_libs /usr/bin/dumb-init /usr/bin/dumb-init
else
	say "warning: no /usr/bin/dumb-init (Debian: dumb-init): FF_USE_DUMB_INIT_WITH_KUBERNETES_EXECUTOR cannot work with this image"
fi
copy_with_libs "$GIT" /usr/bin/git
# git-core: the builtins are hard links to git; keep them so (cp -a).
mkdir -p "$ROOT$(dirname "$GIT_CORE")"
cp -a "$GIT_CORE" "$ROOT$GIT_CORE"
for f in "$GIT_CORE"/git-remote-http "$GIT_CORE"/git-submodule--helper; do
	[ -e "$f" ] && copy_with_libs "$f" "$f"
done
[ -d /usr/share/git-core/templates ] && mkdir -p "$ROOT/usr/share/git-core" &&
	cp -a /usr/share/git-core/templates "$ROOT/usr/share/git-core/"
cp -L /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/" 2>/dev/null ||
	say "warning: no CA certificates at /etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"

query="fromSrc=-&repo=$(urlenc "${IMAGE%:*}")&tag=$(urlenc "${IMAGE##*:}")"
query+="&changes=$(urlenc "LABEL $LABEL=$SUM")"
query+="&changes=$(urlenc "ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")"
query+="&changes=$(urlenc "ENV GIT_EXEC_PATH=$GIT_CORE")"
if ldd "$CRUNNER" | grep libasan >/dev/null; then
	query+="&changes=$(urlenc "ENV ASAN_OPTIONS=detect_leaks=0")"
fi
say "building $IMAGE from $CRUNNER"
tar -C "$ROOT" -c . | api POST "/images/create?$query" \
	-H 'Content-Type: application/x-tar' --data-binary @- >/dev/null
api GET "/images/$(urlenc "$IMAGE")/json" >/dev/null || { say "cannot import $IMAGE"; exit 1; }
# The image this one replaced lost its tag: remove it unless a container
# still uses it (about 100 MB per rebuild otherwise).
old_id=$(printf '%s' "${have:-}" | sed -n 's/^{"Id":"\([^"]*\)".*/\1/p')
if [ -n "$old_id" ]; then
	api DELETE "/images/$old_id" >/dev/null 2>&1 || true
fi
say "ready: $IMAGE"
