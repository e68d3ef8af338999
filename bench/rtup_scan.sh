#!/bin/bash
# rtup scan over a generated 20,000-file synthetic tree: prints wall time
# and peak RSS.  Not part of ctest.  Usage: bench/rtup_scan.sh [RTUP]
set -eu
RTUP=${1:-${RTUP:-build/rtup/rtup}}
T=$(mktemp -d /tmp/rtup-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/repo"
for d in $(seq 1 200); do
	mkdir -p "$T/repo/pkg$d/sub"
	for f in $(seq 1 96); do printf 'package x\n// go 1.26.3\n' > "$T/repo/pkg$d/f$f.go"; done
	printf 'module x/%s\n\ngo 1.26.%s\n' "$d" $((d % 6)) > "$T/repo/pkg$d/sub/go.mod"
	printf 'FROM golang:1.26.3-bookworm\nARG GO_VERSION=1.26.3\n' > "$T/repo/pkg$d/Dockerfile"
	printf 'GO_VERSION ?= 1.26\n' > "$T/repo/pkg$d/build.mk"
	printf 'variables:\n  GO_VERSION: "1.26.3"\n' > "$T/repo/pkg$d/notci.yml"
done
printf '[repo.bench]\npath = "repo"\n' > "$T/rtup.toml"
echo "files: $(find "$T/repo" -type f | wc -l)"
cd "$T"
/usr/bin/time -f 'wall %e s, peak RSS %M KiB' "$RTUP" scan > pins.txt
echo "pins: $(wc -l < pins.txt)"
