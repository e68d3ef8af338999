"$PYTHON" - "$REPORT" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["duration_ms"] < 60000, d
PY
