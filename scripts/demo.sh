#!/usr/bin/env bash
# The README's first command (after install-deps): builds crunner, prints its
# version, then runs the bundled example pipeline (examples/.gitlab-ci.yml)
# locally with `crunner exec`, no GitLab needed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCR_TESTS=OFF >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
"$root/build/crunner" --version
echo
cd examples
exec "$root/build/crunner" exec
