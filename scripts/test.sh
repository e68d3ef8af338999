#!/usr/bin/env bash
# Builds crunner with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-test/ and runs every test (unit, TOML conformance, fake coordinator,
# integration) under ctest.  Extra arguments go to ctest (e.g. -R toml).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${CR_TEST_BUILD_DIR:-build-test}
jobs=$(nproc 2>/dev/null || echo 2)
# Most tests spend their time waiting (on sshd logins, Docker, the fake
# servers, a job's own sleeps and timeouts), not computing: ctest runs
# twice as many as there are cores (CR_TEST_JOBS overrides).
test_jobs=${CR_TEST_JOBS:-$((jobs * 2))}

cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCR_TESTS=OFF >/dev/null
cmake -S . -B "$build" -DCR_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j "$jobs"

# The optimiser sees warnings a debug build does not: the release build must
# be clean too (-Werror).  It is built while the tests run, on the
# processor time their waiting leaves (not niced: on a machine shared with
# other work a niced build starved and outlasted the tests); its failure
# fails this script.
release_log=$(cd "$build" && pwd)/release-build.log
cmake --build build-release -j "$jobs" >"$release_log" 2>&1 &
release_pid=$!

# Leak checks stay on; abort on the first sanitizer report so ctest sees it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$build"
rc=0
ctest --output-on-failure -j "$test_jobs" "$@" || rc=$?

if ! wait "$release_pid"; then
	grep -E -B2 -A8 'error|warning' "$release_log" | head -80 || tail -40 "$release_log"
	echo "test.sh: the release build (build-release) failed; its log: $release_log" >&2
	rc=1
fi

# Figures some tests print (the TOML conformance count) for the record.
grep -h '^toml-test [0-9.]*: ' Testing/Temporary/LastTest*.log 2>/dev/null | sort -u || true
exit $rc
