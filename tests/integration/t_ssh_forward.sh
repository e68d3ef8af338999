#!/usr/bin/env bash
# SSH tunnels to a remote Docker daemon (crunner ssh-helper forward, on
# src/ssh/sshc_forward.c): a local unix socket whose connections reach the
# remote /var/run/docker.sock through a real sshd, by
# direct-streamlocal@openssh.com and by "docker system dial-stdio"; the
# Docker API answers GET /_ping through both.  Also: a wrong remote socket
# is refused per connection while the tunnel stays up, and SIGTERM ends the
# forwarder and removes its socket; and "ssh-helper exec" with a private
# key held in memory (as fleeting hands one over), its exit status and
# output streams, and keepalives on an idle connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sshd_lib.sh"

sshd_require
[ -S /var/run/docker.sock ] || skip_scenario "no Docker daemon socket at /var/run/docker.sock"
curl -sS --max-time 10 --unix-socket /var/run/docker.sock http://docker/_ping >/dev/null 2>&1 ||
	skip_scenario "the Docker daemon does not answer at /var/run/docker.sock"
SSHD_LOGLEVEL=DEBUG1 start_sshd fwd

# start_forward NAME ARGS...: a forwarder on $T_DIR/NAME.sock; FWD_PID.
start_forward() {
	local name=$1 i
	shift
	"$CRUNNER" ssh-helper forward --host 127.0.0.1 --port "$SSHD_PORT" \
		--identity-file "$SSHD_KEY" --known-hosts-file "$SSHD_KNOWN_HOSTS" \
		--listen "$T_DIR/$name.sock" "$@" >"$T_DIR/$name.out" 2>"$T_DIR/$name.err" &
	FWD_PID=$!
	test_when_finished "kill $FWD_PID 2>/dev/null; wait $FWD_PID 2>/dev/null"
	for ((i = 0; i < 600; i++)); do
		grep -q "listening on" "$T_DIR/$name.out" && return 0
		kill -0 "$FWD_PID" 2>/dev/null || fail "the forwarder exited: $(cat "$T_DIR/$name.err")"
		sleep 0.1
	done
	fail "the forwarder did not listen: $(cat "$T_DIR/$name.err")"
}

stop_forward() { # NAME
	kill "$FWD_PID"
	local rc=0
	wait "$FWD_PID" || rc=$?
	expect_eq 0 "$rc" "forwarder exit status after SIGTERM ($(cat "$T_DIR/$1.err"))"
	[ ! -e "$T_DIR/$1.sock" ] || fail "the socket $T_DIR/$1.sock is still there"
}

test_case "direct-streamlocal: GET /_ping and /version through sshd"
start_forward local
out=$(curl -sS --max-time 60 --unix-socket "$T_DIR/local.sock" http://docker/_ping) ||
	fail "curl through the tunnel failed: $(cat "$T_DIR/local.err")"
expect_eq OK "$out" "/_ping through the tunnel"
# A second request on a new connection, with a body of some size.
curl -sS --max-time 60 --unix-socket "$T_DIR/local.sock" http://docker/version >"$T_DIR/version.json" ||
	fail "second request failed"
expect_eq "$(curl -sS --unix-socket /var/run/docker.sock http://docker/version | json_get "$(cat)" 'd["ApiVersion"]')" \
	"$(json_get "$(cat "$T_DIR/version.json")" 'd["ApiVersion"]')" "ApiVersion through the tunnel"
grep -q "Accepted publickey for root" "$SSHD_DIR/sshd.log" || fail "sshd saw no login"
stop_forward local

test_case "a remote socket that does not exist: that connection closes, the tunnel stays"
start_forward bad --remote /nonexistent/docker.sock
! curl -sS --max-time 60 --unix-socket "$T_DIR/bad.sock" http://docker/_ping >/dev/null 2>&1 ||
	fail "a request through a tunnel to nowhere succeeded"
expect_contains "$T_DIR/bad.err" "refused a connection to its unix socket /nonexistent/docker.sock" "error"
kill -0 "$FWD_PID" 2>/dev/null || fail "the forwarder died with the refused connection"
stop_forward bad

test_case "docker system dial-stdio: GET /_ping through sshd"
if command -v docker >/dev/null; then
	start_forward dial --dial-stdio
	out=$(curl -sS --max-time 60 --unix-socket "$T_DIR/dial.sock" http://docker/_ping) ||
		fail "curl through dial-stdio failed: $(cat "$T_DIR/dial.err")"
	expect_eq OK "$out" "/_ping through dial-stdio"
	stop_forward dial
else
	skip_case "no docker CLI for dial-stdio"
fi

test_case "exec: a private key in memory, exit status, stdout and stderr apart, keepalives"
rc=0
CRUNNER_SSH_PRIVATE_KEY=$(cat "$SSHD_KEY") "$CRUNNER" ssh-helper exec --host 127.0.0.1 \
	--port "$SSHD_PORT" --known-hosts-file "$SSHD_KNOWN_HOSTS" --keepalive 1 \
	-- 'echo out-line; echo err-line >&2; sleep 3; exit 7' \
	>"$T_DIR/exec.out" 2>"$T_DIR/exec.err" || rc=$?
expect_eq 7 "$rc" "exit status ($(cat "$T_DIR/exec.err"))"
expect_eq out-line "$(cat "$T_DIR/exec.out")" "stdout"
# (sshd at LogLevel DEBUG1 sends debug lines of its own on stderr too.)
expect_contains "$T_DIR/exec.err" "err-line" "stderr"
expect_not_contains "$T_DIR/exec.err" "out-line" "stdout kept out of stderr"
expect_contains "$SSHD_DIR/sshd.log" "rtype keepalive@openssh.com" "a keepalive during the idle 3 s"

t_finish
