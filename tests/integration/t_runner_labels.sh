#!/usr/bin/env bash
# labels, global and [runners.labels]: gitlab-runner sends the global ones
# with the runner's over them (ComputedLabels) in the "info" of its job
# requests, job updates and verify calls (network/gitlab.go getRunnerInfo);
# a key or value outside its rules stops config.toml from loading.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

write_config() {
	cat >"$T_DIR/config.toml" <<TOML
concurrent = 1
[labels]
  team = "ci"
  env = "dev"
[[runners]]
  name = "labelled"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  [runners.labels]
    env = "$1"
TOML
}

# labels_of ENDPOINT: the info.labels of every request to ENDPOINT, one
# JSON object a line.
labels_of() {
	fake_control GET "requests?endpoint=$1" | "$PYTHON" -c 'import json,sys
for r in json.load(sys.stdin)["requests"]:
    b = json.loads(r.get("body_text") or "{}")
    print(json.dumps(b.get("info", {}).get("labels"), sort_keys=True))'
}

test_case "the computed labels go in the info of job requests and job updates"
write_config prod
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo hi"]}')
RUN_RC=0
timeout 60 "$CRUNNER" run-single --config "$T_DIR/config.toml" --max-builds 1 \
	--check-interval 100ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
want='{"env": "prod", "team": "ci"}'
labels_of request | sort -u >"$T_DIR/request.labels"
expect_eq "$want" "$(cat "$T_DIR/request.labels")" "job request labels"
labels_of update | sort -u >"$T_DIR/update.labels"
expect_eq "$want" "$(cat "$T_DIR/update.labels")" "job update labels"
expect_not_contains "$T_DIR/run.err" "has no effect" "a no-effect warning"

test_case "verify sends them too"
fake_control DELETE requests >/dev/null
rc=0
"$CRUNNER" verify --config "$T_DIR/config.toml" >"$T_DIR/verify.out" 2>&1 || rc=$?
expect_eq 0 "$rc" "verify exit code ($(cat "$T_DIR/verify.out"))"
expect_eq "$want" "$(labels_of verify | sort -u)" "verify labels"

test_case "a label value outside gitlab-runner's rules stops the config from loading"
write_config "not allowed"
rc=0
"$CRUNNER" verify --config "$T_DIR/config.toml" >"$T_DIR/verify.out" 2>&1 || rc=$?
[ "$rc" -ne 0 ] || fail "verify accepted the config: $(cat "$T_DIR/verify.out")"
expect_contains "$T_DIR/verify.out" "invalid config: validating runner labelled: validating labels: invalid label value, doesn't match \"^[a-zA-Z0-9._-]{1,256}\$\": not allowed" "the reason"

t_finish
