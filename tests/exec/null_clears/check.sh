"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/list" || exit 1
# one instance, stage order (no needs), so it waits for both builds
grep -qE '^single +test +on_success +false *$' "$WORK/list" ||
	{ cat "$WORK/list"; exit 1; }
grep -q 'default before' "$OUT" && ! grep -q 'base before' "$OUT" ||
	{ cat "$OUT"; exit 1; }
