#!/usr/bin/env bash
# cleanup_exec of the "local" driver: removes the job's builds directory.
# Always called, also after a failure, a timeout or a cancel; its output
# goes to crunner's log (stdout at debug, stderr at warn level).
set -u

if [ -n "${LOCAL_DRIVER_BUILDS:-}" ]; then
	rm -rf -- "$LOCAL_DRIVER_BUILDS"
fi
echo "removed ${LOCAL_DRIVER_BUILDS:-nothing}"
