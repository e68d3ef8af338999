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
T_SKIPPED=()
FAKE_URL=
FAKE_PID=
FAKE_CURL_OPTS=()

test_when_finished() {
	T_CLEANUPS+=("$1")
}

T_MAIN_PID=$BASHPID

t_cleanup() {
	local i
	# A subshell exiting must not tear down the scenario's servers.
	[ "$BASHPID" = "$T_MAIN_PID" ] || return 0
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

# The exit status ctest reads as "skipped" (SKIP_RETURN_CODE in
# tests/CMakeLists.txt), never as a pass.
T_SKIP_STATUS=77

# skip_case REASON: the current case cannot run on this machine.  Under
# CI=true that is a failure (.ci/run installs and starts what every case
# needs); otherwise the scenario goes on and, when everything else passed,
# ends with T_SKIP_STATUS so ctest lists it as skipped.
skip_case() {
	[ "${CI:-}" = true ] && fail "cannot run under CI=true: $*"
	echo "--- $T_NAME: $T_CASE: SKIPPED: $*"
	T_SKIPPED+=("$T_CASE: $*")
}

# skip_scenario REASON: nothing of this scenario can run here (same rules).
skip_scenario() {
	T_CASE="(whole scenario)"
	skip_case "$@"
	exit "$T_SKIP_STATUS"
}

# t_finish: the scenario's last line; skipped cases turn a pass into a skip.
t_finish() {
	if [ "${#T_SKIPPED[@]}" -gt 0 ]; then
		printf '%s: %d case(s) skipped:\n' "$T_NAME" "${#T_SKIPPED[@]}"
		printf '  %s\n' "${T_SKIPPED[@]}"
		exit "$T_SKIP_STATUS"
	fi
	echo "$T_NAME: all cases passed"
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

# wait_for_port_file FILE WHAT [LOG]: waits (10 s at most) until FILE, a
# server's port file, has content; else "WHAT did not start" (with LOG's
# text) fails the scenario.
wait_for_port_file() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	fail "$2 did not start${3:+: $(cat "$3" 2>/dev/null)}"
}

# Starts the fake coordinator on an ephemeral loopback port; sets FAKE_URL.
start_fakegitlab() {
	local portfile="$T_DIR/fakegitlab.port" i
	# A second fake in one scenario must not be mistaken for the first.
	rm -f "$portfile" "$T_DIR/fakegitlab.log"
	"$PYTHON" "$CR_SOURCE_DIR/tests/fakegitlab/fakegitlab.py" --port 0 \
		--port-file "$portfile" "$@" >"$T_DIR/fakegitlab.log" 2>&1 &
	FAKE_PID=$!
	test_when_finished "kill $FAKE_PID 2>/dev/null; wait $FAKE_PID 2>/dev/null"
	wait_for_port_file "$portfile" fakegitlab "$T_DIR/fakegitlab.log"
	# The URL it prints names the scheme (https with --tls-cert).
	for ((i = 0; i < 100; i++)); do
		FAKE_URL=$(sed -n 's/^fakegitlab listening on //p' "$T_DIR/fakegitlab.log")
		[ -n "$FAKE_URL" ] && break
		sleep 0.05
	done
	[ -n "$FAKE_URL" ] || FAKE_URL="http://127.0.0.1:$(cat "$portfile")"
	FAKE_CURL_OPTS=()
	case $FAKE_URL in https:*) FAKE_CURL_OPTS=(-k) ;; esac
}

# fake_control METHOD PATH [JSON]: calls the control API, prints the answer.
fake_control() {
	local method=$1 path=$2 body=${3:-}
	if [ -n "$body" ]; then
		# Through stdin: a body may be larger than one argument can be.
		printf '%s' "$body" | curl "${FAKE_CURL_OPTS[@]}" -sS --fail-with-body -X "$method" \
			-H 'Content-Type: application/json' --data-binary @- \
			"$FAKE_URL/__control/$path"
	else
		curl "${FAKE_CURL_OPTS[@]}" -sS --fail-with-body -X "$method" "$FAKE_URL/__control/$path"
	fi
}

# own_runner_token PREFIX: a runner token of this run's own in TOKEN, its
# short token (crunner's: the 9 characters after "glrt-t1_") in SHORT: the
# prefix and six random hex digits.  Scenarios that run side by side with
# one Docker engine tell their containers apart by it (the runner.id
# label); job ids start at 1 in every fake.
own_runner_token() {
	SHORT=$1$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	TOKEN=glrt-t1_${SHORT}Token01
}

# json_get JSON-TEXT PYTHON-EXPR: evaluates EXPR with the document as `d`.
json_get() {
	printf '%s' "$1" | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

# add_runner TOKEN: registers a runner token with the fake coordinator.
add_runner() {
	fake_control POST runners "{\"token\": \"$1\"}" >/dev/null ||
		fail "cannot add runner $1"
}

# enqueue_job JSON: queues a job, prints its id.
enqueue_job() {
	local out
	out=$(fake_control POST jobs "$1") || fail "cannot queue job: $out"
	json_get "$out" 'd["id"]'
}

# job_field ID EXPR: a field of the fake's job record (d is the record).
job_field() {
	fake_control GET "jobs/$1" |
		"$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}

# job_trace ID FILE: the log bytes GitLab stored (before it hides tokens).
job_trace() {
	curl "${FAKE_CURL_OPTS[@]}" -sS "$FAKE_URL/__control/jobs/$1/trace?raw=1" >"$2"
}

# run_single ARGS...: crunner run-single against the fake, one job at most,
# output in $T_DIR/run.out and run.err, exit code in RUN_RC.
RUN_TOKEN=glrt-t1_integrationToken01
run_single() {
	RUN_RC=0
	timeout 120 "$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" \
		--builds-dir "$T_DIR/builds" --check-interval 100ms \
		--trace-interval 200ms "$@" >"$T_DIR/run.out" 2>"$T_DIR/run.err" ||
		RUN_RC=$?
}

# check_sanitizer: a sanitizer report in $T_DIR/run.err fails the scenario.
check_sanitizer() {
	! grep -q "Sanitizer" "$T_DIR/run.err" ||
		fail "sanitizer report: $(grep -A20 Sanitizer "$T_DIR/run.err" | head -40)"
}

# run_config [ENV...]: crunner run-single with $T_DIR/config.toml for one
# job, the NAME=VALUE words ENV in its environment, RUN_TIMEOUT seconds at
# most (120 unless set); output in run.out and run.err, exit code in
# RUN_RC; a sanitizer report or an exit code other than 0 fails the scenario.
run_config() {
	RUN_RC=0
	env "$@" timeout "${RUN_TIMEOUT:-120}" "$CRUNNER" run-single --config "$T_DIR/config.toml" \
		--max-builds 1 --check-interval 100ms --trace-interval 200ms \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
	check_sanitizer
	expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
}

# wait_for_trace ID TEXT: waits (up to 20 s) until the job's stored log has TEXT.
wait_for_trace() {
	local i
	for ((i = 0; i < 200; i++)); do
		curl -sS "$FAKE_URL/__control/jobs/$1/trace?raw=1" | grep -q -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

# serve_http DIR: serves DIR over plain HTTP on a loopback port, put in
# HTTP_PORT; the server's log is $T_DIR/http.log; it stops with the scenario.
serve_http() {
	local pid
	"$PYTHON" -m http.server --bind 127.0.0.1 0 --directory "$1" >"$T_DIR/http.log" 2>&1 &
	pid=$!
	test_when_finished "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	HTTP_PORT=
	for _ in $(seq 100); do
		HTTP_PORT=$(grep -o 'port [0-9]*' "$T_DIR/http.log" | awk '{print $2}')
		[ -n "$HTTP_PORT" ] && return 0
		sleep 0.1
	done
	fail "http server did not start: $(cat "$T_DIR/http.log")"
}

# gitc ARGS...: git with a committer identity.
gitc() { git -c user.email=t@example.com -c user.name=tester "$@"; }

# make_upstream BARE-PATH TEXT...: $T_DIR/up, a repository on branch main
# with a commit for each TEXT (README holding it; the messages first,
# second, third), and its bare copy $T_DIR/srv/BARE-PATH, ready to serve
# over dumb HTTP.  Sets srv ($T_DIR/srv) and sha (the last commit).
make_upstream() {
	local bare=$1 n=0 text
	local -a msgs=(first second third)
	shift
	srv=$T_DIR/srv
	mkdir -p "$(dirname "$srv/$bare")"
	gitc init -q -b main "$T_DIR/up"
	for text in "$@"; do
		echo "$text" >"$T_DIR/up/README"
		gitc -C "$T_DIR/up" add README && gitc -C "$T_DIR/up" commit -q -m "${msgs[n]}" ||
			fail "cannot commit to $T_DIR/up"
		n=$((n + 1))
	done
	git clone -q --bare "$T_DIR/up" "$srv/$bare" && git -C "$srv/$bare" update-server-info ||
		fail "cannot make $srv/$bare"
	sha=$(git -C "$T_DIR/up" rev-parse HEAD)
}

# start_git_auth_server DELAY: tests/integration/git_auth_server.py serving
# $srv (make_upstream's), answering only gitlab-ci-token with the password
# in $tokfile ($T_DIR/expected-token, empty until the test writes it) and
# taking DELAY s over each request; its port in auth_port, its log
# $T_DIR/auth.log; it stops with the scenario.
start_git_auth_server() {
	tokfile=$T_DIR/expected-token
	: >"$tokfile"
	"$PYTHON" "$CR_SOURCE_DIR/tests/integration/git_auth_server.py" "$srv" "$tokfile" "$1" \
		>"$T_DIR/auth.port" 2>"$T_DIR/auth.log" &
	auth_pid=$!
	test_when_finished "kill $auth_pid 2>/dev/null; wait $auth_pid 2>/dev/null"
	auth_port=
	for _ in $(seq 100); do
		auth_port=$(awk '/^port /{print $2}' "$T_DIR/auth.port")
		[ -n "$auth_port" ] && break
		sleep 0.1
	done
	[ -n "$auth_port" ] || fail "auth server did not start: $(cat "$T_DIR/auth.log")"
}

# make_test_pki DIR CA-NAME [CLIENT-SUBJECT]: made with the openssl CLI in
# DIR: a CA (ca.pem, ca.key), a server certificate for 127.0.0.1 it signed
# (server.pem, server.key) and, given CLIENT-SUBJECT ("/CN=..."), a client
# certificate (client.pem, client.key).
make_test_pki() {
	command -v openssl >/dev/null || fail "openssl is needed to make test certificates"
	mkdir -p "$1"
	(
		cd "$1" &&
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
			-keyout ca.key -out ca.pem 2>/dev/null &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
			-keyout server.key -out server.csr 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1\n' >server.ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 2 -extfile server.ext -out server.pem 2>/dev/null || exit 1
		[ -n "${3:-}" ] || exit 0
		openssl req -newkey rsa:2048 -nodes -subj "$3" \
			-keyout client.key -out client.csr 2>/dev/null &&
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-days 2 -out client.pem 2>/dev/null
	) || fail "cannot make the test certificates"
}
