# B and by-default import A's archive, once each; the others import none.
for job in cleaner no-artifacts-needs no-dependencies; do
	if grep -qE "^$job +imported artifacts" "$OUT"; then
		cat "$OUT"; echo "$job imported artifacts" >&2; exit 1
	fi
done
for job in B by-default; do
	[ "$(grep -cE "^$job +imported artifacts in" "$OUT")" = 1 ] ||
		{ cat "$OUT"; echo "$job: not one import" >&2; exit 1; }
done
