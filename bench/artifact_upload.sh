#!/usr/bin/env bash
# Peak memory of crunner while it uploads a 1 GiB artifact to the fake
# coordinator.  Prints figures; it is a measurement, not a test.
#
#   bash bench/artifact_upload.sh [path/to/crunner] [size-in-MiB]
#
# The artifact is a raw report (sent as it is, streamed from disk), then
# the same data as a zip archive (built by the helper process, streamed
# into the multipart upload).  VmHWM of the crunner process is sampled
# from /proc while the job runs; the helper's own peak comes from
# /usr/bin/time when available.  Use a build without sanitizers for
# meaningful figures.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
crunner=${1:-$here/build/crunner}
mib=${2:-1024}
py=${PYTHON:-python3}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crunner-bench.XXXXXX")
fg=
cleanup() {
	[ -n "$fg" ] && kill "$fg" 2>/dev/null && wait "$fg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ -x "$crunner" ] || { echo "no crunner binary at $crunner" >&2; exit 2; }
"$py" "$here/tests/fakegitlab/fakegitlab.py" --port 0 --port-file "$tmp/port" \
	>"$tmp/fake.log" 2>&1 &
fg=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
url="http://127.0.0.1:$(cat "$tmp/port")"
ctl() { curl -sS --fail -X "$1" -H 'Content-Type: application/json' \
	--data-binary "${3:-{\}}" "$url/__control/$2"; }
token=glrt-t1_benchToken0000001
ctl POST runners "{\"token\": \"$token\"}" >/dev/null
ctl PATCH config "{\"max_artifact_size\": $(((mib + 64) << 20))}" >/dev/null

run_case() { # name format type
	local id pid hwm=0 v
	id=$(ctl POST jobs '{"runner": "'$token'", "git_strategy": "none",
	  "script": ["head -c '$((mib << 20))' /dev/urandom > big.bin"],
	  "payload": {"artifacts": [{"name": "big", "paths": ["big.bin"], "when": "on_success",
	     "artifact_type": "'"$3"'", "artifact_format": "'"$2"'"}]}}' |
		"$py" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
	"$crunner" run-single --url "$url" --token "$token" --builds-dir "$tmp/builds" \
		--max-builds 1 --check-interval 100ms >"$tmp/run.out" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		v=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		[ -n "$v" ] && [ "$v" -gt "$hwm" ] && hwm=$v
		sleep 0.1
	done
	wait "$pid" || true
	status=$(ctl GET "jobs/$id" | "$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], [a["size"] for a in d["artifacts"]])')
	printf '%-28s job %s: crunner peak RSS (VmHWM) %d KiB\n' "$1" "$status" "$hwm"
}

echo "artifact of $mib MiB of random data"
run_case "raw report (sast)" raw sast
run_case "zip archive" zip archive
