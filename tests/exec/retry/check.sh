"$PYTHON" - "$REPORT" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
jobs = {j["name"]: j for j in d["jobs"]}
assert jobs["flaky"]["attempts"] == 3, jobs["flaky"]
assert jobs["not-retried"]["attempts"] == 1, jobs["not-retried"]
assert jobs["by-code"]["attempts"] == 2, jobs["by-code"]
assert jobs["by-code"]["exit_code"] == 7, jobs["by-code"]
assert jobs["timeout"]["failure_reason"] == "job_execution_timeout", jobs["timeout"]
assert d["status"] == "success", d
PY
