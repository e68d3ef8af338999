#!/usr/bin/env bash
# Reading config.toml as gitlab-runner does, through the real binary:
# keys matched ignoring case, $VAR in a runner's token and url, a
# symlinked config.toml written through the link (register, reset-token,
# unregister), and the log settings: -l/--log-level, --log-format
# (runner, text, json), LOG_LEVEL, LOG_FORMAT, RUNNER_DEBUG, with config
# warnings as JSON lines under json.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
TOK1=glrt-t1_cfgReadToken0001
TOK2=glrt-t1_cfgReadToken0002
add_runner "$TOK1"
add_runner "$TOK2"

cr() { # ARGS...: stdout in $T_DIR/out, stderr in $T_DIR/err, code in RC
	RC=0
	timeout 60 "$CRUNNER" "$@" </dev/null >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
}

# every_line_json FILE: each non-empty line is a JSON object with logrus's
# level, msg and time (RFC 3339, UTC).
every_line_json() {
	"$PYTHON" - "$1" <<'PY' || fail "not JSON lines: $(cat "$1")"
import json, re, sys
n = 0
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    d = json.loads(line)
    assert set(("level", "msg", "time")) <= set(d), d
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", d["time"]), d["time"]
    n += 1
assert n > 0, "no lines"
PY
}

test_case "keys in any case, as BurntSushi/toml matches struct fields"
cat >"$T_DIR/case.toml" <<EOF
Concurrent = 2
[[Runners]]
  Name = "cased"
  URL = "$FAKE_URL"
  TOKEN = "$TOK1"
  Executor = "shell"
  [Runners.Cache]
    TYPE = "s3"
    [Runners.Cache.S3]
      bucketname = "b"
EOF
cr list -c "$T_DIR/case.toml"
expect_eq 0 "$RC" "list exit code ($(cat "$T_DIR/err"))"
expect_contains "$T_DIR/out" "cased" "runner listed"
expect_contains "$T_DIR/out" "Executor=shell" "executor read"
expect_not_contains "$T_DIR/err" "unknown key" "no unknown-key warning"
cr verify -c "$T_DIR/case.toml"
expect_eq 0 "$RC" "verify exit code ($(cat "$T_DIR/err"))"
expect_contains "$T_DIR/err" "is valid" "verified with the URL and TOKEN keys"

test_case "\$VAR in a runner's token and url is expanded from the environment"
cat >"$T_DIR/env.toml" <<'EOF'
concurrent = 1
[[runners]]
  name = "from-env"
  url = "${CRT_URL}"
  token = "$CRT_TOKEN"
  executor = "shell"
EOF
CRT_URL=$FAKE_URL CRT_TOKEN=$TOK1 cr verify -c "$T_DIR/env.toml"
expect_eq 0 "$RC" "verify exit code ($(cat "$T_DIR/err"))"
expect_contains "$T_DIR/err" "is valid" "verified with the expanded token"
q=$(fake_control GET "requests?endpoint=verify")
expect_eq "$TOK1" "$(json_get "$q" 'd["requests"][-1]["json"]["token"]')" "token sent"
CRT_URL=$FAKE_URL CRT_TOKEN=glrt-t1_wrongToken000001 cr verify -c "$T_DIR/env.toml"
expect_contains "$T_DIR/err" "is not valid" "another value, another token"

test_case "a symlinked config.toml stays a link: register, reset-token, unregister"
mkdir -p "$T_DIR/real" "$T_DIR/etc"
printf 'concurrent = 3\n' >"$T_DIR/real/config.toml"
ln -s ../real/config.toml "$T_DIR/etc/config.toml"
cr register --non-interactive --url "$FAKE_URL" --token "$TOK2" \
	--executor shell --name linked -c "$T_DIR/etc/config.toml"
expect_eq 0 "$RC" "register exit code ($(cat "$T_DIR/err"))"
[ -L "$T_DIR/etc/config.toml" ] || fail "register replaced the link with a file"
expect_eq ../real/config.toml "$(readlink "$T_DIR/etc/config.toml")" "link target"
expect_contains "$T_DIR/real/config.toml" 'name = "linked"' "runner written to the target"
expect_contains "$T_DIR/real/config.toml" "concurrent = 3" "target's other keys kept"
cr reset-token --name linked -c "$T_DIR/etc/config.toml"
expect_eq 0 "$RC" "reset-token exit code ($(cat "$T_DIR/err"))"
[ -L "$T_DIR/etc/config.toml" ] || fail "reset-token replaced the link"
expect_not_contains "$T_DIR/real/config.toml" "token = \"$TOK2\"" "rotated token in the target"
cr unregister --name linked -c "$T_DIR/etc/config.toml"
expect_eq 0 "$RC" "unregister exit code ($(cat "$T_DIR/err"))"
[ -L "$T_DIR/etc/config.toml" ] || fail "unregister replaced the link"
expect_not_contains "$T_DIR/real/config.toml" 'name = "linked"' "runner removed from the target"

test_case "a dangling link: the file is made where the link points"
ln -s ../made/config.toml "$T_DIR/etc/dangling.toml"
add_runner glrt-t1_cfgReadToken0003
cr register --non-interactive --url "$FAKE_URL" --token glrt-t1_cfgReadToken0003 \
	--executor shell --name dangling -c "$T_DIR/etc/dangling.toml"
expect_eq 0 "$RC" "register exit code ($(cat "$T_DIR/err"))"
[ -L "$T_DIR/etc/dangling.toml" ] || fail "the link was replaced"
expect_contains "$T_DIR/made/config.toml" 'name = "dangling"' "target created"

printf 'concurrent = 1\ncolour = "blue"\n' >"$T_DIR/warn.toml"

test_case "--log-format json: config warnings are JSON lines with logrus's fields"
cr --log-format json list -c "$T_DIR/warn.toml"
expect_eq 0 "$RC" "exit code"
grep '"level"' "$T_DIR/err" >"$T_DIR/json" || fail "no JSON line: $(cat "$T_DIR/err")"
every_line_json "$T_DIR/json"
expect_contains "$T_DIR/json" '"level":"warning","msg":"'"$T_DIR"'/warn.toml:2: unknown key '"'colour'"' in the global section (ignored)"' "warning as JSON"
expect_not_contains "$T_DIR/err" "crunner: warning:" "plain warning line"

test_case "LOG_FORMAT=json does the same; the flag wins over the variable"
LOG_FORMAT=json cr list -c "$T_DIR/warn.toml"
grep -q '^{"level":"warning"' "$T_DIR/err" || fail "LOG_FORMAT ignored: $(cat "$T_DIR/err")"
LOG_FORMAT=json cr --log-format runner list -c "$T_DIR/warn.toml"
expect_contains "$T_DIR/err" "crunner: warning: $T_DIR/warn.toml:2" "flag over variable"

test_case "--log-format text: logrus's key=value line"
cr --log-format text list -c "$T_DIR/warn.toml"
grep -Eq '^time="[0-9T:.-]+Z" level=warning msg=".*warn.toml:2: unknown key .colour.' "$T_DIR/err" ||
	fail "not a logrus text line: $(cat "$T_DIR/err")"

test_case "-l / LOG_LEVEL: warnings hidden at error level; RUNNER_DEBUG wins"
cr -l error --log-format json list -c "$T_DIR/warn.toml"
expect_not_contains "$T_DIR/err" "colour" "warning at -l error"
LOG_LEVEL=error LOG_FORMAT=json cr list -c "$T_DIR/warn.toml"
expect_not_contains "$T_DIR/err" "colour" "warning at LOG_LEVEL=error"
RUNNER_DEBUG=true LOG_LEVEL=error LOG_FORMAT=json cr list -c "$T_DIR/warn.toml"
expect_contains "$T_DIR/err" "colour" "RUNNER_DEBUG over LOG_LEVEL"
LOG_LEVEL=loud cr list -c "$T_DIR/warn.toml"
expect_eq 2 "$RC" "bad LOG_LEVEL exit code"
expect_contains "$T_DIR/err" "unknown log level 'loud' in LOG_LEVEL" "bad LOG_LEVEL message"
cr --log-level bogus list -c "$T_DIR/warn.toml"
expect_eq 2 "$RC" "bad --log-level exit code"
RUNNER_DEBUG=maybe cr list -c "$T_DIR/warn.toml"
expect_eq 2 "$RC" "bad RUNNER_DEBUG exit code"

test_case "run: LOG_LEVEL=debug beats config.toml's log_level; JSON through the run"
cat >"$T_DIR/run.toml" <<EOF
concurrent = 1
check_interval = 1
log_level = "error"
log_format = "runner"
[[runners]]
  name = "r"
  url = "$FAKE_URL"
  token = "$TOK1"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
EOF
LOG_LEVEL=debug LOG_FORMAT=json timeout 60 "$CRUNNER" run -c "$T_DIR/run.toml" \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" &
pid=$!
test_when_finished "kill -KILL $pid 2>/dev/null"
for ((i = 0; i < 100; i++)); do
	grep -q '"level":"debug"' "$T_DIR/run.err" && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid" 2>/dev/null
grep -q '"level":"debug"' "$T_DIR/run.err" || fail "no debug line: $(head -c 1500 "$T_DIR/run.err")"
every_line_json "$T_DIR/run.err"

t_finish
