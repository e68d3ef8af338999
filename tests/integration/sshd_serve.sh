#!/bin/sh
# sshd_serve.sh DIR PORT: runs a real OpenSSH server in the foreground on
# 127.0.0.1:PORT for the tests (sshd_lib.sh's start_sshd, and the fake
# cloud of tests/autoscale/sshd_cloud.py whose instances are such servers).
# DIR holds authorized_keys (made by the caller); the host key, sshd_config
# and the server's files are made there.  The log goes to stderr.
#
# sshd runs as root and wants /run/sshd, which a machine without the sshd
# service lacks, and checks passwords against /etc/shadow.  Neither is
# touched: when unshare(1) can make a private mount namespace, sshd runs in
# one where /run is DIR/run (with the real Docker socket bound into it) and,
# when SSHD_SERVE_PASSWORD is set, /etc/shadow a copy with that password for
# root.  Root's shell start-up files are empty files there: the sessions
# (every stage of a job is a login) do not run what a developer put in
# them (a pyenv or conda init costs a second of processor time per shell)
# and do not depend on them.  SSHD_SERVE_PIDNS=1 also gives it its own
# PID namespace, so killing this script's process (it execs unshare,
# which kills its child when it dies) ends the server and every session
# it started, as a machine that goes away would.
set -e
d=$1
port=$2
sshd=${SSHD_BIN:-/usr/sbin/sshd}
mkdir -p "$d/run/sshd"
chmod 755 "$d" "$d/run" "$d/run/sshd"
[ -f "$d/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519" -C host
cat >"$d/sshd_config" <<CFG
Port $port
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
if ! unshare -m true 2>/dev/null; then
	exec "$sshd" -D -e -f "$d/sshd_config"
fi
shadow=
if [ -n "${SSHD_SERVE_PASSWORD:-}" ]; then
	hash=$(openssl passwd -6 "$SSHD_SERVE_PASSWORD")
	awk -F: -v OFS=: -v h="$hash" '$1 == "root" { $2 = h } { print }' /etc/shadow >"$d/shadow"
	chmod 600 "$d/shadow"
	shadow="mount --bind $d/shadow /etc/shadow"
fi
cat >"$d/ns.sh" <<NS
set -e
mount --make-rprivate / 2>/dev/null || true
if [ -S /run/docker.sock ]; then
	: >"$d/run/docker.sock"
	mount --bind /run/docker.sock "$d/run/docker.sock"
fi
mount --rbind "$d/run" /run
$shadow
: >"$d/empty-rc"
for f in /root/.bashrc /root/.profile /root/.bash_profile /root/.bash_login; do
	if [ -f "\$f" ]; then mount --bind "$d/empty-rc" "\$f"; fi
done
exec "$sshd" -D -e -f "$d/sshd_config"
NS
if [ "${SSHD_SERVE_PIDNS:-0}" = 1 ]; then
	exec unshare -m -p --kill-child=SIGKILL sh "$d/ns.sh"
fi
exec unshare -m sh "$d/ns.sh"
