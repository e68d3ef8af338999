# No silent partial updates (issue 20 item 1): after a plan, every line that
# names a moved runtime and a version it moves away from outside every pin,
# and every runtime variable used but defined by no pin, is listed as
# "not updated: file:line: why"; plan --strict fails on any.
. "$(dirname "$0")/lib.sh"
versions "$T/versions" && rm "$T/versions/go-fips.tsv"  # no follower lag lines here
cd "$T"
mkdir -p R/ci
printf 'golang 1.25.8\n' > R/.tool-versions
printf 'Build it with Go 1.25.8 or newer.\nThe unrelated 1.25.8 release notes.\nA google 1.25.8 mention.\n' > R/README.md
printf '.versions:\n  go_default: "1.25"\n  go_next: "1.26"\n\ntest:\n  parallel:\n    matrix:\n      - GO_VERSION: !reference [.versions, go_default]\n' > R/ci/versions.yml
printf 'build:\n\t$(MAKE) GOVER=${GO_VERSION} all\n' > R/Makefile
printf '$goVersion = "1.25.8"\n' > R/setup.ps1
mkrepo R
printf '[repo.r]\npath = "R"\n' > rtup.toml

out=$("$RTUP" plan --to go@1.26.5 --now 2026-08-01 2>&1); rc=$?
expect_eq "plan: the moved pin, then each place left behind, with why" "0:r: .tool-versions:1: -> 1.26.5
r: not updated: Makefile:2: uses GO_VERSION, which no scanned file defines
r: not updated: README.md:1: mentions go 1.25.8, which no pin rule covers
r: not updated: ci/versions.yml:2: mentions go 1.25, which no pin rule covers
r: not updated: ci/versions.yml:8: GO_VERSION comes from a !reference that no pin rule covers
r: not updated: setup.ps1:1: mentions go 1.25.8, which no pin rule covers" "$rc:$out"
out=$("$RTUP" plan --to go@1.26.5 --now 2026-08-01 --strict 2>&1); rc=$?
expect_eq "plan --strict: any not-updated place fails the run" 1 "$rc"
out=$("$RTUP" plan --to go@1.26.5 --now 2026-08-01 --diff 2>/dev/null)
expect_has "plan --diff: the diff on stdout stays clean" "+golang 1.26.5" "$out"
expect_not "plan --diff: not-updated lines go to stderr" "not updated" "$out"

# A rule that covers the CI block and the script moves them, and the lines
# are no longer listed.
cat >> rtup.toml <<'TOML'
[rule.ci-versions]
runtime = "go"
role = "minor"
files = ["ci/versions.yml"]
regex = 'go_default: "([0-9.]+)"'
group = 1
[rule.ps1]
runtime = "go"
role = "exact"
files = ["*.ps1"]
regex = '^\$goVersion = "([0-9.]+)"'
group = 1
TOML
out=$("$RTUP" plan --to go@1.26.5 --now 2026-08-01 2>&1); rc=$?
expect_has "plan: the rule moves the CI block" "r: ci/versions.yml:2: -> 1.26" "$out"
expect_not "plan: a covered line is not listed" "ci/versions.yml:2: mentions" "$out"
expect_not "plan: the script under a rule is not listed" "setup.ps1:1: mentions" "$out"
expect_has "plan: the README line is still listed" "r: not updated: README.md:1: mentions go 1.25.8" "$out"
# Nothing moves: nothing is listed (the runtime is current).
git -C R commit -qam rules >/dev/null 2>&1
out=$("$RTUP" plan --to go@1.25.8 --now 2026-08-01 2>&1); rc=$?
expect_not "plan: a runtime the plan does not move lists nothing" "not updated" "$out"
finish
