#!/bin/bash
# rtup scan over a generated 20,000-file synthetic tree (AC12: under 5 s on
# the 2-core machine): prints wall time and peak RSS.  Not part of ctest.
# Nearly every file is one rtup reads: go sources under a custom [rule] (ERE
# on every line), Markdown docs, Dockerfiles, Makefiles, CI files, go.mod,
# package.json (the CI files sit below the root, where rtup only walks them);
# each about 40 lines, so the scanners, not just the walk, are
# measured.  A vendor/ and a testdata/ tree are there to be skipped.
# Usage: bench/rtup_scan.sh [RTUP]   (a Release build: build/rtup/rtup)
set -eu
RTUP=${1:-${RTUP:-build/rtup/rtup}}
T=$(mktemp -d /tmp/rtup-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
R=$T/repo
filler=$(for i in $(seq 1 36); do printf 'line %d of filler text, go 1.%d mentioned in passing\n' "$i" "$i"; done)
for d in $(seq 1 200); do
	p=$R/pkg$d
	mkdir -p "$p/.gitlab/ci" "$p/docs" "$p/mod1" "$p/mod2" "$p/web"
	for f in $(seq 1 40); do printf 'package x\n\n// goVersion = "1.26.3"\n%s\n' "$filler" > "$p/f$f.go"; done
	for f in $(seq 1 20); do printf '# Doc %d\n\nDownload go1.26.3.linux-amd64.tar.gz\n%s\n' "$f" "$filler" > "$p/docs/d$f.md"; done
	for f in $(seq 1 10); do printf 'FROM golang:1.26.3-bookworm AS b\nARG GO_VERSION=1.26.3\n%s\n' "$(echo "$filler" | sed 's/^/# /')" > "$p/Dockerfile.$f"; done
	for f in $(seq 1 10); do printf 'GO_VERSION ?= 1.26\n%s\n' "$(echo "$filler" | sed 's/^/# /')" > "$p/b$f.mk"; done
	for f in $(seq 1 10); do printf 'variables:\n  # renovate: datasource=docker depName=golang allowedVersions=/1\\.26\\..+/\n  GO_VERSION: "1.26.3"\nj:\n  image: golang:$GO_VERSION\n%s\n' "$(echo "$filler" | sed 's/^/# /')" > "$p/.gitlab/ci/c$f.yml"; done
	printf 'module x/%s\n\ngo 1.26.%s\n' "$d" $((d % 6)) > "$p/mod1/go.mod"
	printf 'module y/%s\n\ngo 1.25.0\n\ntoolchain go1.26.3\n' "$d" > "$p/mod2/go.mod"
	for f in $(seq 1 8); do mkdir -p "$p/web/w$f"; printf '{\n  "engines": { "node": ">=20" }\n}\n' > "$p/web/w$f/package.json"; done
done
mkdir -p "$R/vendor/x" "$R/testdata" && cp "$R/pkg1/mod1/go.mod" "$R/vendor/x/" && cp "$R/pkg1/mod1/go.mod" "$R/testdata/"
cat > "$T/rtup.toml" <<'EOT'
[repo.bench]
path = "repo"
[rule.go-src]
runtime = "go"
files = ["**/*.go"]
regex = '^// goVersion = "([0-9.]+)"'
EOT
echo "files: $(find "$R" -type f | wc -l), $(du -sh "$R" | cut -f1)"
cd "$T"
for run in cold warm; do
	[ $run = cold ] && { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true; }
	/usr/bin/time -f "$run: wall %e s, user %U s, sys %S s, peak RSS %M KiB" "$RTUP" scan > pins.txt
done
echo "pins: $(wc -l < pins.txt)"
