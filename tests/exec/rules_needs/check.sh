# The needs the rules chose, as --list shows them; and the DAG: tests and
# none finish before the slow build, keeps after it.
list() {
	"$CRUNNER" exec --cwd "$WORK" --list "$@" >"$WORK/list" || exit 1
}
list --variable TARGET=prod
grep -qE '^tests +test +on_success +false +\[build-prod\]$' "$WORK/list" &&
grep -qE '^none +test +on_success +false +\[\]$' "$WORK/list" &&
grep -qE '^keeps +test +on_success +false +\[slow\]$' "$WORK/list" ||
	{ cat "$WORK/list"; exit 1; }
list --variable TARGET=dev
grep -qE '^tests +test +on_success +false +\[build-dev\]$' "$WORK/list" &&
! grep -qE '^none ' "$WORK/list" || { cat "$WORK/list"; exit 1; }
head -3 "$WORK/order.log" | grep -qx tests &&
tail -2 "$WORK/order.log" | tr '\n' ' ' | grep -qx 'slow keeps ' ||
	{ cat "$WORK/order.log"; exit 1; }
