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
# sshd runs as root (it logs users in) and wants /run/sshd, which a
# machine without the sshd service lacks, and checks passwords against
# /etc/shadow.  Neither is touched: when unshare(1) can make a private
# mount namespace, sshd runs in one where /run is a directory of ours (with
# the real Docker socket bound into it) and /etc/shadow a copy with a
# password for root.  Without that, only a machine that has /run/sshd runs
# the scenario, with key logins only.

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
	mkdir -p "$d/run/sshd"
	chmod 755 "$d" "$d/run" "$d/run/sshd"
	ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" -C host || fail "ssh-keygen (host)"
	ssh-keygen -q -t ed25519 -N '' -f "$d/client_ed25519" -C client || fail "ssh-keygen (client)"
	cp "$d/client_ed25519.pub" "$d/authorized_keys"
	SSHD_PORT=$(free_port)
	cat >"$d/sshd_config" <<CFG
Port $SSHD_PORT
ListenAddress 127.0.0.1
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
PermitUserEnvironment no
LogLevel ${SSHD_LOGLEVEL:-VERBOSE}
CFG
	SSHD_PASSWORD=
	if unshare -m true 2>/dev/null; then
		SSHD_PASSWORD=pw-$RANDOM$RANDOM
		local hash
		hash=$(openssl passwd -6 "$SSHD_PASSWORD") || fail "openssl passwd"
		awk -F: -v OFS=: -v h="$hash" '$1 == "root" { $2 = h } { print }' /etc/shadow >"$d/shadow"
		chmod 600 "$d/shadow"
		cat >"$d/ns.sh" <<NS
set -e
mount --make-rprivate / 2>/dev/null || true
if [ -S /run/docker.sock ]; then
	: >"$d/run/docker.sock"
	mount --bind /run/docker.sock "$d/run/docker.sock"
fi
mount --rbind "$d/run" /run
mount --bind "$d/shadow" /etc/shadow
exec "$SSHD_BIN" -D -e -f "$d/sshd_config"
NS
		unshare -m sh "$d/ns.sh" >"$d/sshd.log" 2>&1 &
	else
		"$SSHD_BIN" -D -e -f "$d/sshd_config" >"$d/sshd.log" 2>&1 &
	fi
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
