#!/usr/bin/env bash
# crunner install/uninstall/start/stop/restart/status as gitlab-runner's
# service commands: the systemd unit written (checked line by line), the
# systemctl calls made (a stand-in systemctl on PATH records them), the
# config.toml created when missing, status messages and exit codes, and a
# clear refusal where systemd is not running.
. "$(dirname "$0")/lib.sh"

BIN=$T_DIR/bin
UNITS=$T_DIR/units
mkdir -p "$BIN" "$UNITS"
cat >"$BIN/systemctl" <<'SH'
#!/bin/sh
echo "$*" >>"$SYSTEMCTL_LOG"
case "$1 $2" in
"is-active "*|"--user is-active") cat "$SYSTEMCTL_STATE" 2>/dev/null || echo unknown
	[ "$(cat "$SYSTEMCTL_STATE" 2>/dev/null)" = active ] ;;
"start "*) [ ! -e "$SYSTEMCTL_FAIL" ] || { echo "Job for $2 failed." >&2; exit 1; } ;;
esac
SH
chmod +x "$BIN/systemctl"
export PATH="$BIN:$PATH" SYSTEMCTL_LOG=$T_DIR/systemctl.log \
	SYSTEMCTL_STATE=$T_DIR/state SYSTEMCTL_FAIL=$T_DIR/fail
export CRUNNER_SYSTEMD_UNIT_DIR=$UNITS
PROGRAM=$(readlink -f "$CRUNNER")
id -un >/dev/null

svc() { # crunner VERB ARGS...: output in $T_DIR/out, $T_DIR/err; sets RC
	RC=0
	"$CRUNNER" "$@" >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
}

test_case "install as root needs --user or --init-user"
if [ "$(id -u)" -ne 0 ]; then
	skip_case "not root: the root-only rules cannot be checked"
else
	svc install -c "$T_DIR/etc/config.toml"
	expect_eq 2 "$RC" "exit code"
	expect_contains "$T_DIR/err" "please give the user that will run the crunner service (--user or --init-user)" "message"
	svc install -c "$T_DIR/etc/config.toml" --user a --init-user b
	expect_eq 2 "$RC" "exit code with both"
	[ ! -e "$UNITS/crunner.service" ] || fail "a refused install wrote a unit"
fi

test_case "install: the unit, the systemctl calls, a new config.toml"
[ "$(id -u)" -eq 0 ] && as_user=(--user ci-builds) || as_user=()
(cd "$T_DIR" && "$CRUNNER" install -n gitlab-runner -d "$T_DIR/work dir" \
	-c "$T_DIR/etc/config.toml" "${as_user[@]}") >"$T_DIR/out" 2>"$T_DIR/err" ||
	fail "install: $(cat "$T_DIR/err")"
U=$UNITS/gitlab-runner.service
[ -f "$U" ] || fail "no unit written"
user_args=""
[ "$(id -u)" -eq 0 ] && user_args=' "--user" "ci-builds"'
# The program path is written unquoted, a space as systemd's \x20 (a clone
# may live in a directory whose name has one).
unit_program=${PROGRAM// /\\x20}
printf '%s\n' "[Unit]" "Description=crunner, a GitLab Runner" \
	"ConditionFileIsExecutable=$unit_program" "" "After=network.target" "" "[Service]" \
	"StartLimitInterval=5" "StartLimitBurst=10" \
	"ExecStart=$unit_program \"run\" \"--config\" \"$T_DIR/etc/config.toml\" \"--working-directory\" \"$T_DIR/work dir\" \"--service\" \"gitlab-runner\"$user_args" \
	"Restart=always" "RestartSec=120" "EnvironmentFile=-/etc/sysconfig/gitlab-runner" "" \
	"[Install]" "WantedBy=multi-user.target" >"$T_DIR/want.unit"
diff -u "$T_DIR/want.unit" "$U" >"$T_DIR/unit.diff" || fail "unit differs: $(cat "$T_DIR/unit.diff")"
expect_eq "$(printf 'enable gitlab-runner.service\ndaemon-reload')" "$(cat "$SYSTEMCTL_LOG")" "systemctl calls"
[ -f "$T_DIR/etc/config.toml" ] || fail "no config.toml created"
expect_eq 600 "$(stat -c %a "$T_DIR/etc/config.toml")" "config.toml mode"
expect_contains "$T_DIR/etc/config.toml" "concurrent = 1" "a config.toml crunner reads"
"$CRUNNER" list -c "$T_DIR/etc/config.toml" >/dev/null 2>&1 || fail "crunner cannot read the config it created"

test_case "install again: refused, the unit kept"
cp "$U" "$T_DIR/unit.before"
svc install -n gitlab-runner -c "$T_DIR/etc/config.toml" "${as_user[@]}"
expect_eq 1 "$RC" "exit code"
expect_contains "$T_DIR/err" "the gitlab-runner service is already installed" "message"
cmp -s "$U" "$T_DIR/unit.before" || fail "the unit was changed"

test_case "start, stop, restart call systemctl; a failing start is an error"
: >"$SYSTEMCTL_LOG"
for v in start stop restart; do
	svc "$v" -n gitlab-runner
	expect_eq 0 "$RC" "$v exit code"
done
expect_eq "$(printf 'start gitlab-runner.service\nstop gitlab-runner.service\nrestart gitlab-runner.service')" \
	"$(cat "$SYSTEMCTL_LOG")" "systemctl calls"
touch "$SYSTEMCTL_FAIL"
svc start -n gitlab-runner
expect_eq 1 "$RC" "failing start exit code"
expect_contains "$T_DIR/err" "Job for gitlab-runner.service failed." "systemctl's own message"
expect_contains "$T_DIR/err" "'systemctl start gitlab-runner.service' failed (exit status 1)" "crunner's line"
rm -f "$SYSTEMCTL_FAIL"

test_case "status: running, stopped, unknown, not installed"
echo active >"$SYSTEMCTL_STATE"
svc status -n gitlab-runner
expect_eq 0 "$RC" "running exit code"
expect_eq "gitlab-runner: Service is running" "$(cat "$T_DIR/out")" "running"
echo inactive >"$SYSTEMCTL_STATE"
svc status -n gitlab-runner
expect_eq 1 "$RC" "stopped exit code"
expect_eq "gitlab-runner: Service has stopped" "$(cat "$T_DIR/err")" "stopped"
echo reloading >"$SYSTEMCTL_STATE"
svc status -n gitlab-runner
expect_eq 1 "$RC" "unknown exit code"
expect_contains "$T_DIR/err" "gitlab-runner: Service status unknown (systemctl is-active: reloading)" "unknown"
svc status
expect_eq 1 "$RC" "not installed exit code"
expect_eq "crunner: the service is not installed" "$(cat "$T_DIR/err")" "not installed"

test_case "uninstall: disable, remove, daemon-reload; twice is an error"
: >"$SYSTEMCTL_LOG"
svc uninstall -n gitlab-runner
expect_eq 0 "$RC" "exit code"
[ ! -e "$U" ] || fail "the unit is still there"
expect_eq "$(printf 'disable gitlab-runner.service\ndaemon-reload')" "$(cat "$SYSTEMCTL_LOG")" "systemctl calls"
svc uninstall -n gitlab-runner
expect_eq 1 "$RC" "second uninstall"
expect_contains "$T_DIR/err" "the service is not installed" "message"

test_case "options of install only are refused by the other verbs"
svc start -n gitlab-runner --syslog
expect_eq 2 "$RC" "exit code"

test_case "without systemd: one clear error, nothing written"
if [ -d /run/systemd/system ]; then
	skip_case "systemd runs on this machine"
else
	: >"$SYSTEMCTL_LOG"
	CRUNNER_SYSTEMD_UNIT_DIR= svc install -c "$T_DIR/etc2/config.toml" "${as_user[@]}"
	expect_eq 1 "$RC" "exit code"
	expect_contains "$T_DIR/err" "systemd is not running here (no /run/systemd/system)" "message"
	[ ! -e "$T_DIR/etc2" ] || fail "a config was written"
	[ ! -s "$SYSTEMCTL_LOG" ] || fail "systemctl was called"
fi

t_finish
