#!/usr/bin/env bash
# prepare_exec of the "local" driver: creates the job's directories.
# stdout and stderr go to the job log.
set -eu

if ! mkdir -p "$LOCAL_DRIVER_BUILDS"; then
	echo "cannot create $LOCAL_DRIVER_BUILDS" >&2
	exit "$SYSTEM_FAILURE_EXIT_CODE"
fi
echo "Local environment ready in $LOCAL_DRIVER_BUILDS"
