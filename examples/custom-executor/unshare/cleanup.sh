#!/usr/bin/env bash
# cleanup_exec of the "unshare" driver: removes the builds directory.  The
# namespaces are already gone: each ended with its stage.
set -u

if [ -n "${SANDBOX_BUILDS:-}" ]; then
	rm -rf -- "$SANDBOX_BUILDS"
fi
