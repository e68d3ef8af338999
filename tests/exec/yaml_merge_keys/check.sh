grep -q 'values common-a extra-b later-c' "$OUT" &&
grep -q 'second definition' "$OUT" && ! grep -q 'echo first' "$OUT" ||
	{ cat "$OUT"; exit 1; }
