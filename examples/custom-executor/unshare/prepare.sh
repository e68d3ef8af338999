#!/usr/bin/env bash
# prepare_exec of the "unshare" driver: checks that namespaces can be
# created here and makes the builds directory.
set -u

if ! command -v unshare >/dev/null 2>&1; then
	echo "unshare (util-linux) is not installed" >&2
	exit "$SYSTEM_FAILURE_EXIT_CODE"
fi
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh"
if ! sandbox true; then
	echo "cannot create namespaces on this host (try as root, or enable user namespaces)" >&2
	exit "$SYSTEM_FAILURE_EXIT_CODE"
fi
mkdir -p "$SANDBOX_BUILDS" || exit "$SYSTEM_FAILURE_EXIT_CODE"
echo "Sandbox ready: namespaces ${SANDBOX_NAMESPACES}"
