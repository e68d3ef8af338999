#!/usr/bin/env bash
# FF_SCRIPT_SECTIONS (a job variable or [runners.feature_flags]): a
# multi-line command is announced in the trace by a collapsed section
# named after its list and index, as gitlab-runner's writeMultilineCommand;
# without it the first line is echoed with "# collapsed multi-line command".
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

SCRIPT='"script": ["echo single", "echo first-line\necho second-line"]'
FF='"variables": [{"key": "FF_SCRIPT_SECTIONS", "value": "true", "public": true, "masked": false}]'

test_case "default: the multi-line command's first line is echoed"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$SCRIPT"'}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "echo first-line # collapsed multi-line command" "echo"
expect_not_contains "$T_DIR/trace" "section_script_step_" "section"

test_case "FF_SCRIPT_SECTIONS: a collapsed section holds the whole command"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$FF"', '"$SCRIPT"'}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace.ts"
# Without FF_TIMESTAMPS' "<time> 01O " prefixes.
sed -E 's/^[0-9T:.-]+Z [0-9a-f]{2}O[ +]//' "$T_DIR/trace.ts" >"$T_DIR/trace"
expect_not_contains "$T_DIR/trace" "collapsed multi-line command" "first-line echo"
grep -qE $'^section_start:[0-9]+:section_script_step_1\\[hide_duration=true,collapsed=true\\]\r\e\\[0K\e\\[32;1m\\$ echo first-line$' "$T_DIR/trace" ||
	fail "no section_start line for the command: $(cat -A "$T_DIR/trace")"
grep -qE $'^echo second-line\e\\[0;m$' "$T_DIR/trace" ||
	fail "the section header is not the whole command"
grep -qE $'^section_end:[0-9]+:section_script_step_1\r\e\\[0K$' "$T_DIR/trace" ||
	fail "no section_end line"
# The section is empty: the command's output comes after it.
expect_eq "second-line" "$(grep -A2 -a '^section_end:[0-9]*:section_script_step_1' "$T_DIR/trace" | sed -n 3p | tr -d '\r')" "output after the section"
expect_not_contains "$T_DIR/trace" "section_script_step_0" "a one-line command's section"
expect_contains "$T_DIR/trace" "$ echo single" "one-line echo"

echo "t_script_sections: all cases passed"
