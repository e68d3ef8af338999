"$CRUNNER" exec --cwd "$WORK" --manual gate >"$WORK/again" 2>&1 || { cat "$WORK/again"; exit 1; }
for line in ' PASS  gate' ' PASS  after' ' PASS  always'; do
	grep -qxF -- "$line" "$WORK/again" || { cat "$WORK/again"; exit 1; }
done
