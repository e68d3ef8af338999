# Shared helpers for integration scenarios (sourced by t_*.sh).
#
# Each scenario: `. "$(dirname "$0")/lib.sh"`, then test_case "title" and
# commands; a failed check calls fail, which prints expected and actual,
# keeps the scenario's work directory and logs, and exits non-zero.
# ctest passes CRUNNER (the binary), CR_SOURCE_DIR and PYTHON.

set -u

: "${CRUNNER:?CRUNNER must name the crunner binary}"
: "${CR_SOURCE_DIR:?CR_SOURCE_DIR must name the source tree}"
PYTHON=${PYTHON:-python3}

T_NAME=$(basename "$0" .sh)
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/crunner-$T_NAME.XXXXXX")
T_CASE="(setup)"
T_CLEANUPS=()
T_FAILED=0
FAKE_URL=
FAKE_PID=

test_when_finished() {
	T_CLEANUPS+=("$1")
}

t_cleanup() {
	local i
	for ((i = ${#T_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${T_CLEANUPS[$i]}" || true
	done
	if [ "$T_FAILED" -eq 0 ]; then
		rm -rf "$T_DIR"
	else
		echo "kept work directory and logs: $T_DIR" >&2
	fi
}
trap t_cleanup EXIT

test_case() {
	T_CASE=$1
	echo "--- $T_NAME: $T_CASE"
}

fail() {
	T_FAILED=1
	echo "FAIL: $T_NAME: $T_CASE: $*" >&2
	if [ -n "$FAKE_PID" ] && [ -f "$T_DIR/fakegitlab.log" ]; then
		echo "--- fakegitlab log (tail)" >&2
		tail -n 20 "$T_DIR/fakegitlab.log" >&2
	fi
	exit 1
}

expect_eq() { # expected actual what
	[ "$1" = "$2" ] || fail "$3: expected '$1', got '$2'"
}

expect_contains() { # haystack-file needle what
	grep -qF -- "$2" "$1" || fail "$3: '$2' not found in $1: $(head -c 2000 "$1")"
}

expect_not_contains() { # haystack-file needle what
	! grep -qF -- "$2" "$1" || fail "$3: '$2' unexpectedly found in $1"
}

# Starts the fake coordinator on an ephemeral loopback port; sets FAKE_URL.
start_fakegitlab() {
	local portfile="$T_DIR/fakegitlab.port" i
	"$PYTHON" "$CR_SOURCE_DIR/tests/fakegitlab/fakegitlab.py" --port 0 \
		--port-file "$portfile" "$@" >"$T_DIR/fakegitlab.log" 2>&1 &
	FAKE_PID=$!
	test_when_finished "kill $FAKE_PID 2>/dev/null; wait $FAKE_PID 2>/dev/null"
	for ((i = 0; i < 100; i++)); do
		[ -s "$portfile" ] && break
		sleep 0.1
	done
	[ -s "$portfile" ] || fail "fakegitlab did not start: $(cat "$T_DIR/fakegitlab.log")"
	FAKE_URL="http://127.0.0.1:$(cat "$portfile")"
}

# fake_control METHOD PATH [JSON]: calls the control API, prints the answer.
fake_control() {
	local method=$1 path=$2 body=${3:-}
	if [ -n "$body" ]; then
		curl -sS --fail-with-body -X "$method" -H 'Content-Type: application/json' \
			--data-binary "$body" "$FAKE_URL/__control/$path"
	else
		curl -sS --fail-with-body -X "$method" "$FAKE_URL/__control/$path"
	fi
}

# json_get JSON-TEXT PYTHON-EXPR: evaluates EXPR with the document as `d`.
json_get() {
	"$PYTHON" -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
