#!/usr/bin/env bash
# run_exec of the "local" driver: run_exec <script> <stage>.
# Runs the stage's script on this host.  A failing script is a build
# failure; its own exit code goes to BUILD_EXIT_CODE_FILE so the job log
# and GitLab show it.
set -u

script=${1:?run.sh: script path missing}
stage=${2:?run.sh: stage name missing}

if [ ! -r "$script" ]; then
	echo "run.sh: cannot read the $stage script '$script'" >&2
	exit "$SYSTEM_FAILURE_EXIT_CODE"
fi

bash --noprofile --norc "$script"
rc=$?
if [ "$rc" -ne 0 ]; then
	if [ -n "${BUILD_EXIT_CODE_FILE:-}" ]; then
		echo "$rc" >"$BUILD_EXIT_CODE_FILE"
	fi
	exit "$BUILD_FAILURE_EXIT_CODE"
fi
