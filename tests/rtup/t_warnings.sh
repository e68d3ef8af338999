# Pins a plan leaves as they are although they read wrong afterwards
# (issue 20 item 7): each is one warning naming file:line, never an edit.
. "$(dirname "$0")/lib.sh"
versions "$T/versions"
cd "$T"
mkdir -p R && printf 'golang 1.26.5 1.20.10\n' > R/.tool-versions &&
	printf 'module example.com/r\n\ngo 1.21.0\n\ntoolchain go1.21.0\n' > R/go.mod && mkrepo R
printf '[repo.r]\npath = "R"\nrole = ["/go.mod:exact"]\n[runtime.go]\ntoolchain = "keep"\n' > rtup.toml

out=$("$RTUP" check --now 2026-08-01 2>&1)
expect_has "check: a fallback on an ended line is a warning with file:line" \
	"r: .tool-versions:1: warning: fallback golang 1.20.10: go 1.20 has ended" "$out"
out=$("$RTUP" check --now 2023-09-01 2>&1)
expect_not "check: no warning while the fallback's line is supported (1.22 not out)" "fallback golang" "$out"

out=$("$RTUP" plan --to go@1.25.8 --now 2026-08-01 2>&1)
expect_has "plan: toolchain kept below the new go line is named" \
	'r: go.mod:5: warning: toolchain go1.21.0 stays below the new go 1.25.8 line (toolchain = "keep")' "$out"
out=$("$RTUP" plan --to go@1.25.8 --now 2026-08-01 --diff 2>/dev/null)
expect_not "plan: the toolchain line is not edited under keep" "-toolchain go1.21.0" "$out"
expect_has "plan: the go line is" "+go 1.25.8" "$out"

out=$("$RTUP" plan --to go@1.26.5 --now 2026-08-01 2>&1)
expect_has "plan: the first entry already current leaves the ended fallback: warned" \
	"r: .tool-versions:1: warning: fallback golang 1.20.10: go 1.20 has ended" "$out"

# Once the fallback shifts off (the first entry moves, the old first becomes
# the fallback) there is nothing to warn about.
printf 'golang 1.26.4 1.20.10\n' > R/.tool-versions && git -C R commit -qam older
out=$("$RTUP" plan --to go@1.26.5 --now 2026-08-01 2>&1)
expect_not "plan: a shifted-out fallback is not warned" "fallback golang" "$out"
# A toolchain at or above the go line is fine under keep.
printf 'module example.com/r\n\ngo 1.21.0\n\ntoolchain go1.26.5\n' > R/go.mod && git -C R commit -qam tc
out=$("$RTUP" plan --to go@1.25.8 --now 2026-08-01 2>&1)
expect_not "plan: a toolchain above the new go line is not warned" "stays below" "$out"
finish
