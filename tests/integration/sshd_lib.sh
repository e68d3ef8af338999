# A real OpenSSH server for a scenario (sourced after lib.sh):
#   start_sshd NAME
# starts /usr/sbin/sshd on a loopback port with host and client keys made
# for it in $T_DIR/sshd-NAME, and sets
#   SSHD_PORT, SSHD_DIR, SSHD_PID, SSHD_KEY (the client's private key, in
#   authorized_keys), SSHD_KNOWN_HOSTS (the host key as "[127.0.0.1]:PORT"),
#   SSHD_PASSWORD (root's password inside the server; empty when the
#   server could not be given one: password cases then skip).
# The server stops with the scenario (by its PID).  Its log is
# $SSHD_DIR/sshd.log, at LogLevel $SSHD_LOGLEVEL (default VERBOSE).
#
# The server is sshd_serve.sh's (which says how it leaves the machine's
# /run and /etc/shadow alone).  Without a mount namespace, only a machine
# that has /run/sshd runs the scenario, with key logins only.

SSHD_BIN=${SSHD_BIN:-/usr/sbin/sshd}

# sshd_require: skips the whole scenario unless a server can be started.
sshd_require() {
	[ -x "$SSHD_BIN" ] || skip_scenario "no $SSHD_BIN (openssh-server)"
	command -v ssh-keygen >/dev/null || skip_scenario "no ssh-keygen"
	[ "$(id -u)" = 0 ] || skip_scenario "sshd needs root to log users in"
	if ! unshare -m true 2>/dev/null && [ ! -d /run/sshd ]; then
		skip_scenario "no /run/sshd and no mount namespace to make one in"
	fi
}

free_port() {
	"$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_sshd() {
	local name=$1 d i
	d=$T_DIR/sshd-$name
	mkdir -p "$d"
	ssh-keygen -q -t ed25519 -N '' -f "$d/client_ed25519" -C client || fail "ssh-keygen (client)"
	cp "$d/client_ed25519.pub" "$d/authorized_keys"
	SSHD_PORT=$(free_port)
	SSHD_PASSWORD=
	unshare -m true 2>/dev/null && SSHD_PASSWORD=pw-$RANDOM$RANDOM
	SSHD_BIN=$SSHD_BIN SSHD_SERVE_PASSWORD=$SSHD_PASSWORD "$CR_SOURCE_DIR/tests/integration/sshd_serve.sh" \
		"$d" "$SSHD_PORT" >"$d/sshd.log" 2>&1 &
	SSHD_PID=$!
	test_when_finished "kill $SSHD_PID 2>/dev/null; wait $SSHD_PID 2>/dev/null"
	for ((i = 0; i < 100; i++)); do
		grep -q "Server listening on" "$d/sshd.log" && break
		kill -0 "$SSHD_PID" 2>/dev/null || fail "sshd did not start: $(cat "$d/sshd.log")"
		sleep 0.05
	done
	grep -q "Server listening on" "$d/sshd.log" || fail "sshd did not start: $(cat "$d/sshd.log")"
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1-2 "$d/host_ed25519.pub")" >"$d/known_hosts"
	SSHD_DIR=$d
	SSHD_KEY=$d/client_ed25519
	SSHD_KNOWN_HOSTS=$d/known_hosts
}
