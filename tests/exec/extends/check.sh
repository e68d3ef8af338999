! grep -q 'from-art' "$OUT" || { cat "$OUT"; exit 1; }
