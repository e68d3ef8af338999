# Sourced by the "unshare" driver: sandbox CMD... runs CMD in fresh mount,
# PID, UTS and IPC namespaces (and a user namespace mapping us to root
# when we are not root), with its own /proc and hostname.  It is PID 1
# there: when it ends, the kernel kills whatever it left behind, and
# --kill-child makes a signal to unshare reach it too.
# UNSHARE_NET=1 adds an empty network namespace (loopback only).

SANDBOX_NAMESPACES="mount pid uts ipc"
sandbox_args=(--mount --pid --uts --ipc --fork --kill-child --mount-proc)
if [ "$(id -u)" -ne 0 ]; then
	sandbox_args+=(--user --map-root-user)
	SANDBOX_NAMESPACES+=" user"
fi
if [ "${UNSHARE_NET:-0}" = 1 ]; then
	sandbox_args+=(--net)
	SANDBOX_NAMESPACES+=" net"
fi

sandbox() {
	unshare "${sandbox_args[@]}" -- /bin/sh -c '
		hostname "${SANDBOX_HOSTNAME:-crunner-sandbox}" 2>/dev/null
		exec "$@"' sandbox "$@"
}
