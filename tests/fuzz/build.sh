#!/usr/bin/env bash
# ctest fuzz/build (tests/CMakeLists.txt): builds the libFuzzer targets
# with clang in a build directory of their own.
# build.sh SOURCE_DIR BUILD_DIR CLANG
set -euo pipefail
src=$1 build=$2 clang=$3
cmake -S "$src" -B "$build" -DCMAKE_C_COMPILER="$clang" -DCR_FUZZ=ON \
	-DCR_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" --target fuzzers -j "$(nproc 2>/dev/null || echo 2)" 2>&1 |
	grep -E 'error|warning|Built target fuzz_' || true
for t in $(sed -n 's/^set(CR_FUZZ_TARGETS \(.*\)/\1/p; s/^  *\([a-z_ ]*\))$/\1/p' \
	"$src/tests/fuzz/targets.cmake"); do
	[ -x "$build/tests/fuzz/fuzz_$t" ] || { echo "build: fuzz_$t was not built"; exit 1; }
done
