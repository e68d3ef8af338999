! grep -q '>' "$OUT"
