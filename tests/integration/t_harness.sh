#!/usr/bin/env bash
# The scenario harness itself: a case that cannot run is reported as a skip
# (exit 77, ctest's SKIP_RETURN_CODE), never as a pass, and is a failure
# under CI=true, where .ci/run provides everything the cases need.
. "$(dirname "$0")/lib.sh"

# run_mini BODY [ENV...]: a throwaway scenario using lib.sh; prints "rc=N"
# then its output.
run_mini() {
	local body=$1 rc=0
	shift
	printf '. %q\n%s\n' "$CR_SOURCE_DIR/tests/integration/lib.sh" "$body" >"$T_DIR/t_mini.sh"
	env "$@" bash "$T_DIR/t_mini.sh" >"$T_DIR/mini.out" 2>&1 || rc=$?
	echo "$rc"
}

test_case "a skipped case makes the scenario a skip"
rc=$(run_mini 'test_case a; skip_case "no widget here"; test_case b; expect_eq 1 1 one; t_finish' CI=)
expect_eq 77 "$rc" "exit status"
expect_contains "$T_DIR/mini.out" "a: no widget here" "the skip is listed with its reason"
expect_not_contains "$T_DIR/mini.out" "all cases passed" "no pass line"

test_case "a skip under CI=true is a failure"
rc=$(run_mini 'test_case a; skip_case "no widget here"; t_finish' CI=true)
expect_eq 1 "$rc" "exit status"
expect_contains "$T_DIR/mini.out" "cannot run under CI=true: no widget here" "the reason"

test_case "skip_scenario ends at once with 77"
rc=$(run_mini 'skip_scenario "no engine"; echo should-not-run' CI=)
expect_eq 77 "$rc" "exit status"
expect_not_contains "$T_DIR/mini.out" "should-not-run" "nothing after the skip"

test_case "a failure after a skip is still a failure"
rc=$(run_mini 'test_case a; skip_case "x"; test_case b; expect_eq 1 2 one; t_finish' CI=)
expect_eq 1 "$rc" "exit status"

test_case "no skip: a pass"
rc=$(run_mini 'test_case a; expect_eq 1 1 one; t_finish' CI=)
expect_eq 0 "$rc" "exit status"
expect_contains "$T_DIR/mini.out" "t_mini: all cases passed" "pass line"

t_finish
