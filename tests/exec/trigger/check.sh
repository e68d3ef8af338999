"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/list" || exit 1
grep -qE '^downstream +deploy +on_success' "$WORK/list" &&
grep -qE '^after +test +on_success +false +\[downstream\]$' "$WORK/list" &&
! grep -q '^child' "$WORK/list" || { cat "$WORK/list"; exit 1; }
# a rule keeps the child pipeline's trigger job
"$CRUNNER" exec --cwd "$WORK" --list --variable NO_CHILD=1 >"$WORK/list2" || exit 1
grep -qE '^child +deploy +on_success +false +\[build\]$' "$WORK/list2" ||
	{ cat "$WORK/list2"; exit 1; }
python3 - "$REPORT" <<'PY' || exit 1
import json, sys
jobs = {j["name"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
assert jobs["downstream"]["status"] == "skipped", jobs["downstream"]
assert jobs["after"]["status"] == "success", jobs["after"]
PY
