# --report json carries each job's coverage (null when nothing matched).
"$PYTHON" - "$REPORT" <<'PY' || exit 1
import json, sys
jobs = {j["name"]: j for j in json.load(open(sys.argv[1]))["jobs"]}
assert jobs["unit"]["coverage"] == "78.46", jobs["unit"]
assert jobs["groups"]["coverage"] == "91.30", jobs["groups"]
assert jobs["none"]["coverage"] is None, jobs["none"]
PY
