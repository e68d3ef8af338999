# B and by-default download A's archive, once each; the others never ask.
for job in cleaner no-artifacts-needs no-dependencies; do
	if grep -q "^$job > Downloading artifacts" "$OUT"; then
		cat "$OUT"; echo "$job downloaded artifacts" >&2; exit 1
	fi
done
for job in B by-default; do
	[ "$(grep -c "^$job > Downloading artifacts for" "$OUT")" = 1 ] ||
		{ cat "$OUT"; echo "$job: not one download" >&2; exit 1; }
done
