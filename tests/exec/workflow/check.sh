! grep -q PASS "$OUT"
