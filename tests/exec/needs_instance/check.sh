# Only the named instances' artifacts are downloaded (each job checks the
# files of its isolated tree).
grep -q 'one-arch ok' "$OUT" && grep -q 'by-deps ok' "$OUT" ||
	{ cat "$OUT"; exit 1; }
"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/list" || exit 1
grep -qE '^one-arch +test +on_success +false +\[build: \[x86_64, linux\], shard 2/2\]$' "$WORK/list" ||
	{ cat "$WORK/list"; exit 1; }
