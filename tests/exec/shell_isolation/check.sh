# The jobs wrote only into their copies.
[ ! -e "$WORK/scratch.txt" ] && [ ! -e "$WORK/kept.txt" ] ||
	{ ls -la "$WORK"; echo "a job wrote into the working tree"; exit 1; }
# Without the option (--no-shell-isolation is the default), jobs share the
# tree: reader sees writer's scratch file and fails its first line.
rc=0
"$CRUNNER" exec --cwd "$WORK" --no-shell-isolation >"$WORK/shared.out" 2>&1 || rc=$?
[ "$rc" = 1 ] && [ -e "$WORK/scratch.txt" ] &&
grep -q '^ FAIL  reader' "$WORK/shared.out" ||
	{ cat "$WORK/shared.out"; echo "shared run: rc=$rc"; exit 1; }
