#!/usr/bin/env bash
# Builds crunner with AddressSanitizer + UndefinedBehaviorSanitizer in
# build-test/ and runs every test (unit, TOML conformance, fake coordinator,
# integration) under ctest.  Extra arguments go to ctest (e.g. -R toml).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${CR_TEST_BUILD_DIR:-build-test}
jobs=$(nproc 2>/dev/null || echo 2)
# Most tests spend their time waiting (on sshd logins, Docker, the fake
# servers, a job's own sleeps and timeouts), not computing: ctest runs one
# more than there are cores (CR_TEST_JOBS overrides; twice the cores made
# the timing-sensitive scenarios flaky on a loaded 2-core machine).
test_jobs=${CR_TEST_JOBS:-$((jobs + 1))}

# The optimiser sees warnings a debug build does not: the release build must
# be clean too (-Werror), so build it first, without tests.
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DCR_TESTS=OFF >/dev/null
cmake --build build-release -j "$jobs" >/dev/null

cmake -S . -B "$build" -DCR_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$build" -j "$jobs"

# Leak checks stay on; abort on the first sanitizer report so ctest sees it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# The docker and kubernetes scenarios share one Docker engine and its test
# images: start and build them once, before ctest starts those scenarios side
# by side (each still calls scripts/docker-test-env.sh, which then finds all
# ready).  Without an engine here the scenarios say why themselves.
env_rc=0
HELPER_BINARY=$(cd "$build" && pwd)/crunner bash scripts/docker-test-env.sh || env_rc=$?
[ "$env_rc" -eq 0 ] || echo "test.sh: scripts/docker-test-env.sh exited $env_rc (the docker scenarios report it)" >&2

cd "$build"
rc=0
ctest --output-on-failure -j "$test_jobs" "$@" || rc=$?

# Figures some tests print (the TOML conformance count) for the record.
grep -h '^toml-test [0-9.]*: ' Testing/Temporary/LastTest*.log 2>/dev/null | sort -u || true
exit $rc
