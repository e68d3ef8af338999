#!/usr/bin/env bash
# CI smoke for one libFuzzer target (ctest fuzz/TARGET, tests/CMakeLists.txt):
# smoke.sh BUILD_DIR TARGET SECONDS.  Replays regressions/TARGET/, then
# fuzzes for SECONDS from the seeds in a scratch corpus (the source tree
# is never written).  A failure prints the finding's path and bytes.
set -euo pipefail
build=$1 target=$2 secs=$3
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/tests/fuzz/fuzz_$target
findings=$build/fuzz-findings/$target
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$findings"

shopt -s nullglob
regs=("$here/regressions/$target"/*)
shopt -u nullglob
if [ ${#regs[@]} -gt 0 ]; then
	"$bin" -timeout=10 "${regs[@]}" >"$work/replay.log" 2>&1 || {
		tail -40 "$work/replay.log"
		echo "smoke: $target: a regression input fails"
		exit 1
	}
fi
dict=()
[ -f "$here/$target.dict" ] && dict=(-dict="$here/$target.dict")
if ! "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$findings/" "${dict[@]}" \
	"$work" "$here/corpus/$target" >"$work/fuzz.log" 2>&1; then
	tail -60 "$work/fuzz.log"
	for f in "$findings"/*-*; do
		echo "smoke: $target: finding $f:"
		od -c "$f" | head -20
	done
	echo "smoke: $target: FAILED"
	exit 1
fi
echo "smoke: $target: ${#regs[@]} regression input(s) pass;" \
	"$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log") runs in ${secs} s, no finding"
