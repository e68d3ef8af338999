name=$(basename "$WORK")
grep -q 'short=Hello$' "$OUT" &&
grep -q "env=production replicas=3 where=in $name\$" "$OUT" &&
grep -q 'step-one$' "$OUT" && grep -q 'step-two$' "$OUT" &&
grep -q 'in \$CI_PROJECT_NAME$' "$OUT" &&
grep -q 'tags=\["a", "b", "c"\]"' "$OUT" || { cat "$OUT"; exit 1; }
"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/list" || exit 1
grep -qE '^main +test ' "$WORK/list" &&
grep -qE '^deploy-app +deploy +on_success +true' "$WORK/list" ||
	{ cat "$WORK/list"; exit 1; }
