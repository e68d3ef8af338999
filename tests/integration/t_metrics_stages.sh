#!/usr/bin/env bash
# FF_EXPORT_HIGH_CARDINALITY_METRICS, as gitlab-runner's buildsHelper:
# each build stage of a job that has the flag on (a job variable, or the
# entry's [runners.feature_flags]) is observed in
# gitlab_runner_job_stage_duration_seconds{runner,runner_name,stage,
# system_id} (buckets 1 3 10 30 60 120 300 900 1800 3600); jobs without it
# add nothing, and without any such job the family is absent.
. "$(dirname "$0")/lib.sh"

TOK_A=glrt-t1_AlphaRunner001
TOK_B=glrt-t1_BetaRunner0001
CFG=$T_DIR/config.toml
LOG=$T_DIR/run.err

start_fakegitlab
add_runner "$TOK_A"
add_runner "$TOK_B"
cat >"$CFG" <<EOF
concurrent = 2
check_interval = 1
listen_address = "127.0.0.1:0"

[[runners]]
  name = "alpha"
  url = "$FAKE_URL"
  token = "$TOK_A"
  executor = "shell"
  builds_dir = "$T_DIR/builds"

[[runners]]
  name = "beta"
  url = "$FAKE_URL"
  token = "$TOK_B"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  [runners.feature_flags]
    FF_EXPORT_HIGH_CARDINALITY_METRICS = true
EOF

"$CRUNNER" run --config "$CFG" --trace-interval 200ms >"$T_DIR/run.out" 2>"$LOG" &
RUN_PID=$!
test_when_finished "kill -KILL $RUN_PID 2>/dev/null"
for ((i = 0; i < 100; i++)); do
	grep -q 'metrics server listening on' "$LOG" && break
	sleep 0.1
done
METRICS="http://$(grep -o 'metrics server listening on [0-9.:]*' "$LOG" | head -1 | sed 's/.* on //')"
[ "$METRICS" != "http://" ] || fail "no metrics address in the log: $(cat "$LOG")"

scrape() { curl -sS --fail "$METRICS/metrics" >"$T_DIR/metrics" || fail "cannot scrape"; }

# series: "runner_name stage le=LE count" for every _bucket sample, then
# "runner_name stage sum S" and "runner_name stage count N"; checks the
# labels and that the family's TYPE line comes first.
series() {
	"$PYTHON" - "$T_DIR/metrics" <<'PY'
import re, sys
name = "gitlab_runner_job_stage_duration_seconds"
head = False
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line == "# TYPE %s histogram" % name:
        head = True
    m = re.match(r'^(%s)_(bucket|sum|count)\{(.*)\} (\S+)$' % name, line)
    if not m:
        continue
    if not head:
        sys.exit("no TYPE line before " + line)
    labels = dict(re.findall(r'([a-z_]+)="([^"]*)"', m[3]))
    keys = sorted(k for k in labels if k != "le")
    if keys != ["runner", "runner_name", "stage", "system_id"]:
        sys.exit("labels: %s" % line)
    if not labels["system_id"]:
        sys.exit("empty system_id: " + line)
    if m[2] == "bucket":
        print(labels["runner_name"], labels["stage"], "le=" + labels["le"], m[4])
    else:
        print(labels["runner_name"], labels["stage"], m[2], m[4])
PY
}

wait_done() { # ID
	local st=
	for ((i = 0; i < 300; i++)); do
		st=$(job_field "$1" 'd["status"]')
		case "$st" in success | failed | canceled) return 0 ;; esac
		sleep 0.1
	done
	fail "job $1 did not finish ($st): $(tail -20 "$LOG")"
}

job() { # TOKEN VARIABLES-JSON
	enqueue_job '{"runner": "'"$1"'", "git_strategy": "none", "variables": '"$2"',
	  "script": ["sleep 1.3"]}'
}

test_case "no job yet: no family"
scrape
grep -q job_stage_duration "$T_DIR/metrics" && fail "family present: $(grep job_stage "$T_DIR/metrics")"
grep -q '^gitlab_runner_jobs{' "$T_DIR/metrics" || fail "not a metrics page: $(head "$T_DIR/metrics")"

test_case "a job without the flag: still no family"
id=$(job "$TOK_A" '[]')
wait_done "$id"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
scrape
grep -q job_stage_duration "$T_DIR/metrics" && fail "family present: $(grep job_stage "$T_DIR/metrics")"

test_case "the flag as a job variable: that entry's stages"
id=$(job "$TOK_A" '[{"key": "FF_EXPORT_HIGH_CARDINALITY_METRICS", "value": "true", "public": true, "masked": false}]')
wait_done "$id"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
scrape
series >"$T_DIR/series" || fail "bad exposition: $(cat "$T_DIR/series")"
grep -q "^alpha step_script count 1$" "$T_DIR/series" || fail "step_script: $(cat "$T_DIR/series")"
grep -q "^alpha step_script le=1 0$" "$T_DIR/series" || fail "1.3 s is not <= 1: $(cat "$T_DIR/series")"
grep -q "^alpha step_script le=3 1$" "$T_DIR/series" || fail "1.3 s is <= 3: $(cat "$T_DIR/series")"
grep -q "^alpha step_script le=+Inf 1$" "$T_DIR/series" || fail "+Inf: $(cat "$T_DIR/series")"
sum=$(awk '$1 == "alpha" && $2 == "step_script" && $3 == "sum" {print $4}' "$T_DIR/series")
"$PYTHON" -c "import sys; sys.exit(not (1.3 <= float('$sum') < 10))" || fail "step_script sum $sum"
grep -q "^alpha prepare_executor count 1$" "$T_DIR/series" || fail "prepare_executor: $(cat "$T_DIR/series")"
grep -q "^alpha prepare_script count 1$" "$T_DIR/series" || fail "prepare_script: $(cat "$T_DIR/series")"
grep -q "^beta " "$T_DIR/series" && fail "beta has series: $(cat "$T_DIR/series")"
for le in 1 3 10 30 60 120 300 900 1800 3600 +Inf; do
	grep -q "^alpha step_script le=$le " "$T_DIR/series" || fail "no le=$le bucket"
done

test_case "the flag in [runners.feature_flags]: that entry's jobs"
id=$(job "$TOK_B" '[]')
wait_done "$id"
scrape
series >"$T_DIR/series" || fail "bad exposition: $(cat "$T_DIR/series")"
grep -q "^beta step_script count 1$" "$T_DIR/series" || fail "beta: $(cat "$T_DIR/series")"
grep -q "^alpha step_script count 1$" "$T_DIR/series" || fail "alpha changed: $(cat "$T_DIR/series")"
id=$(job "$TOK_B" '[]')
wait_done "$id"
scrape
series >"$T_DIR/series"
grep -q "^beta step_script count 2$" "$T_DIR/series" || fail "beta's second job: $(cat "$T_DIR/series")"

t_finish
