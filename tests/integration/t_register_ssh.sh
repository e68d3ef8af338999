#!/usr/bin/env bash
# register with the ssh executor asks what gitlab-runner's askSSHServer()
# and askSSHLogin() ask (commands/register.go): the server address, its
# port, the user, a password and an identity file; the address and the user
# are needed (also without a terminal), the rest may stay empty.
. "$(dirname "$0")/lib.sh"

start_fakegitlab

# toml_get FILE EXPR: EXPR with the last runner as r.
toml_get() {
	"$PYTHON" -c '
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
r = d["runners"][-1] if d.get("runners") else None
print(eval(sys.argv[2]))' "$1" "$2"
}

test_case "interactive register asks the ssh executor's questions"
if ! command -v script >/dev/null; then
	skip_case "no script(1) to give crunner a terminal (util-linux)"
else
	TOK=glrt-t1_registerSsh00001
	add_runner "$TOK"
	CFG=$T_DIR/tty/config.toml
	# URL, token, name, executor, host, port, user, password, identity file.
	printf '%s\n' "$FAKE_URL" "$TOK" sshrunner ssh build.example.com 2222 \
		deploy "" /keys/id_ed25519 |
		timeout 60 script -qec "'$CRUNNER' register -c '$CFG'" /dev/null \
			>"$T_DIR/tty.out" 2>&1 || fail "interactive register: exit code $? ($(tail -5 "$T_DIR/tty.out"))"
	for q in "Enter the SSH server address (for example, my.server.com):" \
		"Enter the SSH server port (for example, 22):" \
		"Enter the SSH user (for example, root):" \
		"Enter the SSH password (for example, docker.io):" \
		"Enter the path to the SSH identity file (for example, /home/user/.ssh/id_rsa):"; do
		expect_contains "$T_DIR/tty.out" "$q" "question"
	done
	expect_eq ssh "$(toml_get "$CFG" 'r["executor"]')" "executor"
	expect_eq build.example.com "$(toml_get "$CFG" 'r["ssh"]["host"]')" "host"
	expect_eq 2222 "$(toml_get "$CFG" 'r["ssh"]["port"]')" "port"
	expect_eq deploy "$(toml_get "$CFG" 'r["ssh"]["user"]')" "user"
	expect_eq None "$(toml_get "$CFG" 'r["ssh"].get("password")')" "no password"
	expect_eq /keys/id_ed25519 "$(toml_get "$CFG" 'r["ssh"]["identity_file"]')" "identity file"
fi

test_case "without a terminal the ssh host is needed"
TOK=glrt-t1_registerSsh00002
add_runner "$TOK"
rc=0
"$CRUNNER" register -c "$T_DIR/n/config.toml" --non-interactive --url "$FAKE_URL" \
	--token "$TOK" --executor ssh --ssh-user deploy >"$T_DIR/n.out" 2>&1 || rc=$?
expect_eq 2 "$rc" "exit code ($(cat "$T_DIR/n.out"))"
expect_contains "$T_DIR/n.out" "the ssh-host needs to be entered: give --ssh-host or \$SSH_HOST" "the missing flag"
[ ! -s "$T_DIR/n/config.toml" ] || fail "a runner was written: $(cat "$T_DIR/n/config.toml")"

test_case "and the ssh user"
rc=0
"$CRUNNER" register -c "$T_DIR/n/config.toml" --non-interactive --url "$FAKE_URL" \
	--token "$TOK" --executor ssh --ssh-host build.example.com >"$T_DIR/n.out" 2>&1 || rc=$?
expect_eq 2 "$rc" "exit code ($(cat "$T_DIR/n.out"))"
expect_contains "$T_DIR/n.out" "the ssh-user needs to be entered: give --ssh-user or \$SSH_USER" "the missing flag"

test_case "with both, unattended registration works"
rc=0
"$CRUNNER" register -c "$T_DIR/n/config.toml" --non-interactive --url "$FAKE_URL" \
	--token "$TOK" --executor ssh --ssh-host build.example.com --ssh-user deploy \
	>"$T_DIR/n.out" 2>&1 || rc=$?
expect_eq 0 "$rc" "exit code ($(cat "$T_DIR/n.out"))"
expect_eq build.example.com "$(toml_get "$T_DIR/n/config.toml" 'r["ssh"]["host"]')" "host"
expect_eq deploy "$(toml_get "$T_DIR/n/config.toml" 'r["ssh"]["user"]')" "user"

t_finish
