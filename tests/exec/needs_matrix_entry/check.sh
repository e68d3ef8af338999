# deploy needs the one instance its entry names.
"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/list" || exit 1
grep -qE '^deploy +deploy +on_success +false +\[build: \[gcp\]\]$' "$WORK/list" ||
	{ cat "$WORK/list"; exit 1; }
