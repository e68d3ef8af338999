#!/usr/bin/env bash
# Installs every Debian package crunner's build, tests and benchmarks need,
# then the npm packages of the test emulators (Azurite, Microsoft's Azure
# Storage emulator, for tests/integration/t_cache_azure.sh) into
# .deps/ in the source tree.  Idempotent: packages already installed are
# left alone, and apt-get and npm run only when something is missing.
# apt-get must run as root (it says how otherwise).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
# The Azurite release the tests are written against.
azurite_version=3.37.0
azurite_dir=$root/.deps/azurite

packages=(
	build-essential cmake pkg-config git python3 ca-certificates
	libcurl4-openssl-dev libjansson-dev libfyaml-dev libarchive-dev
	libmicrohttpd-dev libpcre2-dev libcmocka-dev
	clang libclang-rt-dev
	bash procps curl openssl rsync
	docker.io busybox-static dumb-init
	libssh-dev openssh-server
	libnghttp2-dev python3-grpcio python3-protobuf
	libssl-dev libmbedtls-dev
	faketime
	libzstd-dev
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
# Node and npm for Azurite: Debian's nodejs and npm, unless a node and npm
# are already there (another nodejs build ships npm inside its package).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	for p in nodejs npm; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages are installed"
elif [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "install-deps: run as root: sudo $0" >&2
	echo "install-deps: or: sudo apt-get install -y ${missing[*]}" >&2
	exit 1
else
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -x "$azurite_dir/node_modules/.bin/azurite-blob" ] &&
	grep -q "\"version\": \"$azurite_version\"" "$azurite_dir/node_modules/azurite/package.json"; then
	echo "install-deps: azurite $azurite_version is installed in $azurite_dir"
else
	echo "install-deps: installing azurite $azurite_version into $azurite_dir"
	mkdir -p "$azurite_dir"
	npm install --prefix "$azurite_dir" --no-audit --no-fund --no-save \
		--loglevel=error "azurite@$azurite_version"
fi
echo "install-deps: done"
