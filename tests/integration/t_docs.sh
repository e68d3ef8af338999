#!/usr/bin/env bash
# crunner(1): groff renders it without a warning, and it holds every verb
# with the very text `crunner VERB --help' prints.
. "$(dirname "$0")/lib.sh"

page=$CR_BUILD_DIR/docs/crunner.1
[ -f "$page" ] || fail "no man page at $page (is the man target built?)"

test_case "groff renders the page without warnings"
groff -man -ww -z "$page" 2>"$T_DIR/groff.err" || fail "groff failed: $(cat "$T_DIR/groff.err")"
[ ! -s "$T_DIR/groff.err" ] || fail "groff warnings: $(head -20 "$T_DIR/groff.err")"

test_case "every verb has a subsection with its --help text"
MANWIDTH=200 man -l "$page" 2>/dev/null | col -b >"$T_DIR/page.txt"
verbs=$("$CRUNNER" --help | sed -n '/^verbs:/,/^$/p' | awk 'NF > 1 {print $1}')
[ -n "$verbs" ] || fail "no verbs in crunner --help"
for verb in $verbs; do
	grep -q "^   $verb$" "$T_DIR/page.txt" || fail "no subsection for $verb"
	"$CRUNNER" "$verb" --help | sed -n 1p >"$T_DIR/usage1"
	expect_contains "$T_DIR/page.txt" "$(cat "$T_DIR/usage1")" "$verb's usage line in the page"
done
expect_contains "$T_DIR/page.txt" "--concurrency N" "an exec option"
expect_contains "$T_DIR/page.txt" "EXIT STATUS" "exit status section"

echo "t_docs: all cases passed"
