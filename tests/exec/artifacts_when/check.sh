# passes succeeded: its on_failure artifacts are never uploaded, so
# collect has nothing of it to download.
if grep -q '^passes > Uploading artifacts' "$OUT" ||
   grep -q '^collect > Downloading artifacts for passes' "$OUT"; then
	cat "$OUT"; exit 1
fi
