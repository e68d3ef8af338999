#!/usr/bin/env bash
# Installs every Debian package crunner's build, tests and benchmarks need.
# Idempotent: packages already installed are left alone, and apt-get runs
# only when something is missing.  Must run as root (it says how otherwise).
set -euo pipefail

packages=(
	build-essential cmake pkg-config git python3 ca-certificates
	libcurl4-openssl-dev libjansson-dev libfyaml-dev libarchive-dev
	libmicrohttpd-dev libpcre2-dev libcmocka-dev
	clang libclang-rt-dev
	bash procps curl openssl rsync
	docker.io busybox-static
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages are installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root: sudo $0" >&2
	echo "install-deps: or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done"
