want() {
	grep -qxE -- "$1" "$OUT" || { cat "$OUT"; echo "no line matches: $1"; exit 1; }
}
want 'short       starting shell \(test\)'
want 'short       \$ echo "printed by short"'
want 'short       > printed by short'
want 'short       \$ echo "\$ not a command, printed"'
want 'short       > \$ not a command, printed'
want 'short       finished in [0-9.]+ (ms|s)'
want 'longer-name \$ echo before'
want 'longer-name > before'
want 'longer-name \$ exit 3'
want 'longer-name \$ echo "in after_script"'
want 'longer-name > in after_script'
want 'longer-name finished in [0-9.]+ (ms|s)  WARN 3'
want 'fails       finished in [0-9.]+ (ms|s)  FAIL 4'
# crunner's preamble and its "Job failed" lines are not shown.
! grep -qE 'Running with crunner|Job failed|Job succeeded|Running after script' "$OUT" ||
	{ cat "$OUT"; exit 1; }
