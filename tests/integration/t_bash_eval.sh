#!/usr/bin/env bash
# Server mode: the stage scripts eval their body as gitlab-runner 19.1+
# does, in a subshell that traps TERM again, unless FF_USE_LEGACY_BASH_EVAL
# (a job variable) asks for the old ": | eval" pipeline.  CI_DEBUG_TRACE's
# xtrace shows which form ran.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

DEBUG='{"key": "CI_DEBUG_TRACE", "value": "true", "public": true, "masked": false}'
SCRIPT='"script": ["echo in-body", "read -r line || echo stdin-empty"]'

test_case "default: the body runs in a subshell that traps TERM"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": ['"$DEBUG"'], '"$SCRIPT"'}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "in-body" "the body's output"
expect_contains "$T_DIR/trace" "stdin-empty" "an empty stdin"
expect_contains "$T_DIR/trace" "+ trap 'exit 1' TERM" "the subshell's trap, traced"
grep -q '^[^+]*+ :$' "$T_DIR/trace" && fail "the legacy ': |' ran: $(grep -n '+ :' "$T_DIR/trace")"

test_case "FF_USE_LEGACY_BASH_EVAL: the ': | eval' pipeline"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "variables": ['"$DEBUG"', {"key": "FF_USE_LEGACY_BASH_EVAL", "value": "true", "public": true, "masked": false}],
  '"$SCRIPT"'}')
run_single --max-builds 1
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "in-body" "the body's output"
expect_contains "$T_DIR/trace" "stdin-empty" "an empty stdin"
grep -q '+ :$' "$T_DIR/trace" || fail "no traced ':' of the pipeline: $(head -c 3000 "$T_DIR/trace")"
expect_not_contains "$T_DIR/trace" "+ trap 'exit 1' TERM" "the subshell's trap"

t_finish
