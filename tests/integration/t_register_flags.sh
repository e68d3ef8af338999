#!/usr/bin/env bash
# gitlab-runner's register and run-single flags and variables (every row of
# src/cli/runner_flags_table.c): each written to config.toml at its key;
# --template-config; a scripted registration as gitlab-runner's docs write
# it; run-single -r.
. "$(dirname "$0")/lib.sh"

start_fakegitlab

test_case "every flag and every variable lands at its config.toml key"
"$PYTHON" "$(dirname "$0")/register_flags_check.py" "$CRUNNER" "$FAKE_URL" \
	"$T_DIR/rows" >"$T_DIR/rows.out" 2>&1 || fail "$(tail -40 "$T_DIR/rows.out")"
tail -1 "$T_DIR/rows.out"

t_finish
