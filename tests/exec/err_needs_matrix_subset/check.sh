! grep -q " > " "$OUT"
