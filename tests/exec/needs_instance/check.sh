# Only the named instances' artifacts are downloaded.
grep -q 'one-arch ok' "$OUT" && grep -q 'by-deps ok' "$OUT" &&
[ "$(grep -c '^one-arch.*Downloading artifacts for ' "$OUT")" = 2 ] &&
grep -q '^one-arch.*Downloading artifacts for build: \[x86_64, linux\]' "$OUT" &&
grep -q '^one-arch.*Downloading artifacts for shard 2/2' "$OUT" &&
[ "$(grep -c '^by-deps.*Downloading artifacts for ' "$OUT")" = 1 ] &&
grep -q '^by-deps.*Downloading artifacts for build: \[arm64, linux\]' "$OUT" ||
	{ cat "$OUT"; exit 1; }
"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/list" || exit 1
grep -qE '^one-arch +test +on_success +false +\[build: \[x86_64, linux\], shard 2/2\]$' "$WORK/list" ||
	{ cat "$WORK/list"; exit 1; }
