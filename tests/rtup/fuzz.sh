#!/bin/bash
# Long fuzz runs of rtup's scanners with libFuzzer (clang, ASan + UBSan).
# Not part of ctest (ctest runs rtup_fuzz's short smoke instead).
#   tests/rtup/fuzz.sh [SECONDS_PER_SCANNER] [SCANNER...]
# Prints one line per scanner: runs, coverage, corpus, crash or not.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-600}; shift || true
out=${RTUP_FUZZ_DIR:-/tmp/rtup-fuzz}
mkdir -p "$out"
bin=$out/rtup_libfuzzer
# shellcheck disable=SC2046
clang -g -O1 -std=gnu11 -D_GNU_SOURCE -DRTUP_LIBFUZZER \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$src/src" -I"$src/rtup" $(pkg-config --cflags jansson) \
	"$src/tests/rtup/fuzz_scan.c" \
	$(ls "$src"/rtup/*.c | grep -v '/main\.c$') \
	"$src"/src/util/*.c "$src"/src/config/toml*.c \
	$(pkg-config --libs libcurl jansson libfyaml libarchive libmicrohttpd libpcre2-8) -lm \
	-o "$bin"
scanners=("$@")
# Every scanner function once (gowork runs the go.mod scanner: skipped).
[ ${#scanners[@]} -gt 0 ] || mapfile -t scanners < <(grep -o '{ "[a-z-]*", "[^"]*", {' "$src/tests/rtup/fuzz_scan.c" | cut -d'"' -f2 | grep -vx gowork)
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=32}
for s in "${scanners[@]}"; do
	mkdir -p "$out/corpus-$s"
	log=$out/$s.log
	if RTUP_FUZZ_SCANNER=$s RTUP_FUZZ_SEED_DIR="$out/corpus-$s" "$bin" -max_total_time="$secs" -max_len=4096 \
		-artifact_prefix="$out/crash-$s-" "$out/corpus-$s" >"$log" 2>&1; then
		res="no crash"
	else
		res="CRASH (see $log)"
	fi
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	echo "$s: ${secs}s: $res: $last"
done
