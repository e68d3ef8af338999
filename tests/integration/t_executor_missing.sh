#!/usr/bin/env bash
# A runner whose executor crunner does not have (virtualbox), or a typo
# (dokcer), is loaded and reported by list and verify, but crunner run
# never asks GitLab for its jobs (gitlab-runner marks such a runner
# unhealthy); the other runners of the file keep running.  Keys crunner
# reads but does not act on are one "has no effect" warning each.
. "$(dirname "$0")/lib.sh"

TOK_OK=glrt-t1_ShellRunner001
TOK_K8S=glrt-t1_KubeRunner0001
TOK_TYPO=glrt-t1_TypoRunner0001
CFG=$T_DIR/config.toml
LOG=$T_DIR/run.err

start_fakegitlab
for t in "$TOK_OK" "$TOK_K8S" "$TOK_TYPO"; do add_runner "$t"; done

cat >"$CFG" <<EOF
concurrent = 3
check_interval = 1
log_level = "debug"

[[runners]]
  name = "k8s"
  url = "$FAKE_URL"
  token = "$TOK_K8S"
  executor = "virtualbox"
  [runners.virtualbox]
    base_name = "ci"

[[runners]]
  name = "typo"
  url = "$FAKE_URL"
  token = "$TOK_TYPO"
  executor = "dokcer"

[[runners]]
  name = "ok"
  url = "$FAKE_URL"
  token = "$TOK_OK"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  proxy_exec = true
EOF

# job_requests TOKEN: how many job requests the fake got with TOKEN.
job_requests() {
	fake_control GET "requests?endpoint=request" |
		"$PYTHON" -c 'import json,sys
print(sum(1 for q in json.load(sys.stdin)["requests"] if (q.get("json") or {}).get("token") == sys.argv[1]))' "$1"
}

test_case "list shows every runner and says which ones never ask for jobs"
"$CRUNNER" list --config "$CFG" >"$T_DIR/list.out" 2>"$T_DIR/list.err" ||
	fail "list failed: $(cat "$T_DIR/list.err")"
expect_contains "$T_DIR/list.out" "Executor=virtualbox Token=KubeRunne" "the virtualbox runner is listed"
expect_contains "$T_DIR/list.out" "Executor=dokcer Token=TypoRunne" "the typo runner is listed"
expect_contains "$T_DIR/list.out" "Executor=shell Token=ShellRunn" "the shell runner is listed"
expect_contains "$T_DIR/list.err" 'runner KubeRunne (k8s): executor "virtualbox" is not available in crunner: it does not ask GitLab for jobs' "list: virtualbox"
expect_contains "$T_DIR/list.err" 'runner TypoRunne (typo): executor "dokcer" is not available in crunner' "list: typo"
expect_not_contains "$T_DIR/list.err" "ShellRunn" "list: the shell runner is fine"
expect_contains "$T_DIR/list.err" "config.toml:17: 'executor' in [[runners]] is \"dokcer\", not one of shell, docker" "the typo's file:line"
expect_contains "$T_DIR/list.err" "config.toml:10: 'virtualbox' in [[runners]] has no effect in crunner" "the virtualbox section"
expect_contains "$T_DIR/list.err" "config.toml:25: 'proxy_exec' in [[runners]] has no effect in crunner" "a key with no effect"
n=$(grep -c "has no effect in crunner" "$T_DIR/list.err")
expect_eq 2 "$n" "one warning per key with no effect"

test_case "verify checks every runner and says which ones never ask for jobs"
"$CRUNNER" verify --config "$CFG" >"$T_DIR/verify.out" 2>"$T_DIR/verify.err" ||
	fail "verify failed: $(cat "$T_DIR/verify.err")"
expect_contains "$T_DIR/verify.err" 'runner KubeRunne (k8s): executor "virtualbox" is not available in crunner' "verify: virtualbox"
expect_contains "$T_DIR/verify.err" 'runner TypoRunne (typo): executor "dokcer" is not available in crunner' "verify: typo"
expect_contains "$T_DIR/verify.err" "is valid runner=KubeRunne" "verify still asks GitLab about it"
expect_contains "$T_DIR/verify.err" "is valid runner=ShellRunn" "verify: the shell runner"

test_case "run: the shell runner takes its job, the others never ask"
fake_control DELETE requests >/dev/null
id_k8s=$(enqueue_job "{\"runner\": \"$TOK_K8S\", \"script\": [\"echo k8s\"]}")
id_typo=$(enqueue_job "{\"runner\": \"$TOK_TYPO\", \"script\": [\"echo typo\"]}")
id_ok=$(enqueue_job "{\"runner\": \"$TOK_OK\", \"git_strategy\": \"none\", \"script\": [\"echo shell-ran\"]}")
"$CRUNNER" run --config "$CFG" >"$T_DIR/run.out" 2>"$LOG" &
RUN_PID=$!
test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
fake_control POST "jobs/$id_ok/wait" '{"timeout": 30}' >/dev/null ||
	fail "the shell runner's job did not finish: $(tail -20 "$LOG")"
expect_eq success "$(job_field "$id_ok" 'd["status"]')" "the shell runner's job"
# Three more feed rounds (check_interval 1 s, three entries).
sleep 3.5
kill -TERM "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
n_ok=$(job_requests "$TOK_OK")
[ "$n_ok" -ge 2 ] || fail "the shell runner asked $n_ok times (want >= 2)"
expect_eq 0 "$(job_requests "$TOK_K8S")" "job requests of the virtualbox runner"
expect_eq 0 "$(job_requests "$TOK_TYPO")" "job requests of the typo runner"
expect_eq pending "$(job_field "$id_k8s" 'd["status"]')" "the virtualbox runner's job is left to a runner that can run it"
expect_eq pending "$(job_field "$id_typo" 'd["status"]')" "the typo runner's job"
expect_contains "$LOG" 'runner KubeRunne (k8s): executor "virtualbox" is not available in crunner; not asking GitLab for jobs for this runner' "run logs it"
expect_contains "$LOG" 'runner TypoRunne (typo): executor "dokcer" is not available in crunner' "run logs the typo"
n=$(grep -c 'not available in crunner' "$LOG")
expect_eq 2 "$n" "said once per runner"

test_case "run-single: a runner without an executor in crunner stops at once"
rc=0
timeout 30 "$CRUNNER" run-single --config "$CFG" --name k8s >"$T_DIR/single.out" 2>"$T_DIR/single.err" || rc=$?
[ "$rc" -ne 0 ] || fail "run-single exited 0"
expect_contains "$T_DIR/single.err" 'executor "virtualbox" is not available in crunner' "run-single's message"

echo "t_executor_missing: all cases passed"
