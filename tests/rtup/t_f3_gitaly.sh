# F3 gitaly-like: lists and windows (AC7), discovery through [rule]s
# (AC1, AC11), dry run (AC4).
. "$(dirname "$0")/lib.sh"
fixture F3
versions "$T/versions"
cat > "$T/rtup.toml" <<'EOT'
[runtime.go]
window = 2
minimum = "raise-to-oldest-supported,patch-zero"
toolchain = "forbid"
[repo.gitaly]
path = "F3"
[rule.go-default]
runtime = "go"
role = "minor"
files = [".gitlab-ci.yml"]
regex = '^ +go_default: "([0-9.]+)"'
[rule.go-supported]
runtime = "go"
role = "window"
files = [".gitlab-ci.yml"]
regex = '^ +go_supported: \[(.*)\]'
EOT
cd "$T"
"$RTUP" scan --json > scan.json; golden F3.scan.json scan.json
dry_run_clean F3 --to go@1.22.1
out=$("$RTUP" apply --to go@1.22.1 --no-commit 2>&1); rc=$?
expect_eq "AC7 apply exit (toolchain finding)" 1 "$rc"
expect_has "AC7 toolchain line reported" "tools/delve/go.mod:5: toolchain directive present (policy forbid)" "$out"
(cd F3 && git diff) > got.diff; golden F3.expected.diff got.diff
expect_eq "AC7 .tool-versions: new default first, previous default second" "golang 1.22.1 1.21.4" "$(cat F3/.tool-versions)"
expect_has "AC7 go_supported rotated" 'go_supported: [ "1.21", "1.22" ]' "$(cat F3/.gitlab-ci.yml)"
expect_has "AC7 go_default" 'go_default: "1.22"' "$(cat F3/.gitlab-ci.yml)"
gomods=$(cd F3 && find . -name go.mod | sort)
expect_eq "AC7 12 go.mod files" 12 "$(echo "$gomods" | wc -l)"
expect_eq "AC7 every go.mod says go 1.21.0" "12" "$(cd F3 && grep -lx 'go 1.21.0' $gomods | wc -l)"
expect_has "AC7 toolchain line kept without --fix-toolchain" "toolchain go1.21.0" "$(cat F3/tools/delve/go.mod)"
"$RTUP" apply --to go@1.22.1 --no-commit >/dev/null 2>&1
(cd F3 && git diff) > got2.diff
cmp -s got.diff got2.diff && ok "AC7 second apply changes nothing" || fail "AC7 second apply changes nothing" "$(diff got.diff got2.diff)"
git -C F3 checkout -q .
out=$("$RTUP" apply --to go@1.22.1 --no-commit --fix-toolchain 2>&1); rc=$?
expect_eq "AC7 --fix-toolchain exit" 0 "$rc"
expect_not "AC7 --fix-toolchain removes the line" "toolchain" "$(cat F3/tools/delve/go.mod)"
expect_eq "AC7 only that line goes" "$(printf 'module gitlab.com/gitlab-org/gitaly/tools/delve\n\ngo 1.21.0\n\nrequire example.com/delve v0.7.0')" "$(cat F3/tools/delve/go.mod)"
git -C F3 commit -qam bumped
out=$("$RTUP" check --now 2026-08-01 2>&1); rc=$?
expect_not "AC2 F3 no inconsistency after apply" "inconsistent" "$out"
# Go before 1.21 rejects three-part go lines: warned when the window still
# tests one.
mkdir -p old && printf 'module old\n\ngo 1.19\n' > old/go.mod &&
	printf 'test:\n  parallel:\n    matrix:\n      - GO_VERSION: ["1.19", "1.20"]\n' > old/.gitlab-ci.yml && mkrepo old
printf '[runtime.go]\nwindow = 3\nminimum = "raise-to-oldest-supported,patch-zero"\n[repo.old]\npath = "old"\n' > old.toml
out=$("$RTUP" plan -C old.toml --to go@1.21.4 2>&1)
expect_has "window keeps pre-1.21 go: warned" "window still tests go 1.20, which rejects a three-part go line" "$out"
finish
