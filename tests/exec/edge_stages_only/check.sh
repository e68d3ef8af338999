! grep -q 'never' "$OUT" || { cat "$OUT"; exit 1; }
