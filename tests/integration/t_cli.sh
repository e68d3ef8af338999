#!/usr/bin/env bash
# The command line itself: --help on every verb, --version, bad input.
. "$(dirname "$0")/lib.sh"

test_case "--version prints version, git revision and build date"
"$CRUNNER" --version >"$T_DIR/out" 2>&1 || fail "exit code $?"
expect_contains "$T_DIR/out" "crunner 0." "version line"
grep -qE '^git revision: [0-9a-f]{7,}|^git revision: unknown' "$T_DIR/out" || fail "no git revision: $(cat "$T_DIR/out")"
grep -qE '^build date: +[0-9]{4}-[0-9]{2}-[0-9]{2}T' "$T_DIR/out" || fail "no build date: $(cat "$T_DIR/out")"

test_case "--help lists the verbs"
"$CRUNNER" --help >"$T_DIR/help" || fail "exit code $?"
expect_contains "$T_DIR/help" "usage: crunner" "usage line"
verbs=$(sed -n '/^verbs:/,/^$/p' "$T_DIR/help" | awk 'NF>1 {print $1}')
[ -n "$verbs" ] || fail "no verbs listed in --help"

test_case "every verb answers --help, -h and 'help VERB'"
for v in $verbs; do
	"$CRUNNER" "$v" --help >"$T_DIR/vh" 2>&1 || fail "$v --help: exit code $?"
	expect_contains "$T_DIR/vh" "usage: crunner $v" "$v --help"
	"$CRUNNER" "$v" -h >"$T_DIR/vh2" 2>&1 || fail "$v -h: exit code $?"
	cmp -s "$T_DIR/vh" "$T_DIR/vh2" || fail "$v -h differs from --help"
	"$CRUNNER" help "$v" >"$T_DIR/vh3" 2>&1 || fail "help $v: exit code $?"
	cmp -s "$T_DIR/vh" "$T_DIR/vh3" || fail "help $v differs from --help"
done

test_case "an unknown verb is a usage error"
rc=0
"$CRUNNER" frobnicate >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
expect_eq 2 "$rc" "exit code"
expect_contains "$T_DIR/err" "'frobnicate' is not a crunner verb" "message"

test_case "an unknown global option is a usage error"
rc=0
"$CRUNNER" --no-such-option >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
expect_eq 2 "$rc" "exit code"

test_case "a bad log level is named"
rc=0
"$CRUNNER" --log-level loud list >"$T_DIR/out" 2>"$T_DIR/err" || rc=$?
expect_eq 2 "$rc" "exit code"
expect_contains "$T_DIR/err" "unknown log level 'loud'" "message"

echo "t_cli: all cases passed"
