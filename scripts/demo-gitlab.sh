#!/usr/bin/env bash
# Server mode in one command: builds crunner, then runs one job end to end
# against the fake GitLab coordinator: the coordinator queues a job,
# `crunner run-single` takes it, runs it with the shell executor, streams
# the log back and reports the result.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCR_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
crunner=$root/build/crunner
"$crunner" --version
echo

work=$(mktemp -d "${TMPDIR:-/tmp}/crunner-demo.XXXXXX")
fake_pid=
cleanup() {
	[ -n "$fake_pid" ] && kill "$fake_pid" 2>/dev/null && wait "$fake_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

python3 tests/fakegitlab/fakegitlab.py --port 0 --port-file "$work/port" \
	>"$work/fakegitlab.log" 2>&1 &
fake_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$work/port")"
token=glrt-t1_demoRunnerToken0001

control() { curl -sS --fail-with-body -X POST -H 'Content-Type: application/json' \
	--data-binary "$2" "$url/__control/$1"; }
control runners "{\"token\": \"$token\", \"description\": \"demo\"}" >/dev/null
job=$(control jobs "{\"runner\": \"$token\", \"name\": \"demo\", \"git_strategy\": \"none\",
  \"variables\": [{\"key\": \"GREETING\", \"value\": \"hello from crunner\", \"public\": true, \"masked\": false},
                  {\"key\": \"API_SECRET\", \"value\": \"s3cr3t-Value-99\", \"public\": false, \"masked\": true}],
  \"script\": [\"echo \\\"\$GREETING\\\"\", \"uname -sm\", \"echo the secret is \$API_SECRET\", \"seq 1 3\"],
  \"after_script\": [\"echo job status: \$CI_JOB_STATUS\"]}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

echo "fake GitLab on $url queued job $job; running crunner run-single:"
"$crunner" run-single --url "$url" --token "$token" --name demo \
	--max-builds 1 --builds-dir "$work/builds" --trace-interval 1s

echo
echo "--- the job log as GitLab received it:"
curl -sS "$url/__control/jobs/$job/trace?raw=1"
echo "---"
curl -sS "$url/__control/jobs/$job" | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("job %d: %s, %d bytes of log, checksum %s (%s)" % (j["id"], j["status"],
      j["bytesize"], j["checksum"], "matches" if j["checksum_ok"] else "MISMATCH"))
sys.exit(0 if j["status"] == "success" and j["checksum_ok"] else 1)'
