grep -q 'line three' "$OUT" || { cat "$OUT"; exit 1; }
"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/list" || exit 1
grep -qE '^test +test +always +false +\[build-a, build-b\]$' "$WORK/list" ||
	{ cat "$WORK/list"; exit 1; }
# workflow:rules refuses the pipeline through the referenced rule
"$CRUNNER" exec --cwd "$WORK" --variable ONLY_DOCS=yes >"$WORK/o" 2>"$WORK/e" || exit 1
grep -q 'workflow:rules created no pipeline' "$WORK/e" || { cat "$WORK/e"; exit 1; }
