out="$WORK/sig.out"
"$CRUNNER" exec --cwd "$WORK" --concurrency 4 --variable LONG=60 --variable SHORT=2 \
	--report-file "$WORK/sig.json" >"$out" 2>&1 &
pid=$!
for _ in $(seq 100); do
	[ "$(grep -c ' > started$' "$out")" = 3 ] && break
	sleep 0.1
done
kill -INT "$pid"
start=$(date +%s)
rc=0
wait "$pid" || rc=$?
took=$(( $(date +%s) - start ))
[ "$rc" = 1 ] && [ "$took" -lt 30 ] || { cat "$out"; echo "rc=$rc took=${took}s"; exit 1; }
for line in ' CANCEL  long' ' CANCEL  by-rule' ' PASS  short'; do
	grep -qxF -- "$line" "$out" || { cat "$out"; echo "missing: $line"; exit 1; }
done
grep -qE '^short +> short done$' "$out" || { cat "$out"; echo "missing: short done"; exit 1; }
! grep -qE '^next +> never' "$out" || { cat "$out"; exit 1; }
