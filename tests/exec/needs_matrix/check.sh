# The instances each job needs, as --list shows them; rspec downloads
# from its one instance only, per-provider (artifacts: false) nothing.
"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/list" || exit 1
grep -qE '^rspec +test +on_success +false +\[build: \[aws, app1\]\]$' "$WORK/list" &&
grep -qE '^two +test +on_success +false +\[build: \[aws, monitoring\], build: \[aws, app1\]\]$' "$WORK/list" &&
grep -qE '^per-provider: \[aws\] +test +on_success +false +\[build: \[aws, app1\]\]$' "$WORK/list" &&
grep -qE '^per-provider: \[gcp\] +test +on_success +false +\[build: \[gcp, app1\]\]$' "$WORK/list" ||
	{ cat "$WORK/list"; exit 1; }
[ "$(grep -cE '^rspec +imported artifacts in' "$OUT")" = 1 ] &&
! grep -q '^per-provider.*imported artifacts' "$OUT" ||
	{ cat "$OUT"; exit 1; }
