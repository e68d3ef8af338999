! grep -qE '^(overrides|no-default|some-default) +> default-before' "$OUT" &&
! grep -qE '^no-default +> default-after' "$OUT" ||
	{ cat "$OUT"; exit 1; }
"$PYTHON" - "$REPORT" <<'PY'
import json, sys
jobs = {j["name"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
assert jobs["flaky"]["attempts"] == 2, jobs["flaky"]
assert jobs["no-default"]["attempts"] == 1, jobs["no-default"]
assert "never-job" not in jobs, jobs
PY
