"$PYTHON" - "$REPORT" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["status"] == "failed"
ok, bad = d["jobs"]
assert (ok["name"], ok["stage"], ok["status"], ok["exit_code"]) == ("ok", "a", "success", 0), ok
assert (bad["name"], bad["stage"], bad["status"], bad["exit_code"]) == ("bad", "b", "failed", 5), bad
assert bad["failure_reason"] == "script_failure"
assert isinstance(ok["duration_ms"], int) and isinstance(d["duration_ms"], int)
PY
