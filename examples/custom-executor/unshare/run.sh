#!/usr/bin/env bash
# run_exec of the "unshare" driver: run_exec <script> <stage>.
# Every stage runs in a fresh namespace sandbox (sandbox.sh); files live in
# the job's builds directory, which the sandbox sees at the same path.
set -u

script=${1:?run.sh: script path missing}
stage=${2:?run.sh: stage name missing}

if [ ! -r "$script" ]; then
	echo "run.sh: cannot read the $stage script '$script'" >&2
	exit "$SYSTEM_FAILURE_EXIT_CODE"
fi
# shellcheck source=sandbox.sh
. "$(dirname "$0")/sandbox.sh"

sandbox bash --noprofile --norc "$script"
rc=$?
if [ "$rc" -ne 0 ]; then
	if [ -n "${BUILD_EXIT_CODE_FILE:-}" ]; then
		echo "$rc" >"$BUILD_EXIT_CODE_FILE"
	fi
	exit "$BUILD_FAILURE_EXIT_CODE"
fi
