# F2 shell-like: discovery (AC1), check (AC2), dry run (AC4), offline policy
# resolution (AC5), the minimum policy and toolchain handling (AC3).
. "$(dirname "$0")/lib.sh"
fixture F2
versions "$T/versions"
manifest() { # manifest EXTRA-RUNTIME-LINES
	cat > "$T/rtup.toml" <<EOT
[runtime.go]
window = 2
minimum = "raise-to-oldest-supported,patch-zero"
toolchain = "forbid"
$1
[repo.shell]
path = "F2"
EOT
}
manifest ""
cd "$T"
"$RTUP" scan --json > scan.json; golden F2.scan.json scan.json
out=$("$RTUP" check --now 2026-08-01 2>&1); rc=$?
expect_eq "AC2 F2 check exit" 1 "$rc"
expect_has "AC2 F2 .tool-versions ahead of CI" "inconsistent: .tool-versions 1.24.0 is ahead of CI 1.23" "$out"
expect_has "AC2 F2 toolchain forbidden" "go.mod:5: toolchain directive present (policy forbid)" "$out"
expect_has "F2 on an unsupported minor" "go 1.23: lagging(minor EOL)" "$out"
dry_run_clean F2 --to go@1.26.5

# AC5: offline (empty network namespace), policy-driven, deterministic.
out=$($NET_OFF "$RTUP" versions go --supported --now 2026-08-01 2>&1)
expect_eq "AC5 supported minors at 2026-08-01" "1.25 1.26" "$out"
$NET_OFF "$RTUP" plan --policy --now 2026-08-01 --diff > policy.diff 2> policy.err; rc=$?
expect_eq "AC5 plan --policy exit (toolchain finding)" 1 "$rc"
expect_has "AC5 CI keeps minor shape" '+  GO_VERSION: "1.26"' "$(cat policy.diff)"
expect_has "AC5 matrix rotated" '+      - GO_VERSION: ["1.25", "1.26"]' "$(cat policy.diff)"
expect_has "AC5 .tool-versions exact" "+golang 1.26.5" "$(cat policy.diff)"
expect_has "AC5 go.mod minimum oldest supported, patch zero" "+go 1.25.0" "$(cat policy.diff)"
expect_has "AC5 go-fips lags go" "lag: go-fips 1.26.3 < go 1.26.5" "$(cat policy.err)"
$NET_OFF "$RTUP" plan --policy --now 2026-08-01 --diff > policy2.diff 2> policy2.err
cmp -s policy.diff policy2.diff && cmp -s policy.err policy2.err && ok "AC5 same command twice: byte-identical" || fail "AC5 same command twice: byte-identical"
(cd F2 && git apply --check ../policy.diff) && ok "AC5 policy diff applies" || fail "AC5 policy diff applies"
manifest 'max = "1.26.3"'
out=$($NET_OFF "$RTUP" plan --policy --now 2026-08-01 2>&1)
expect_has "AC5 max caps the target" "shell: .tool-versions:1: -> 1.26.3" "$out"
expect_has "AC5 held by max reported" "go: target 1.26.5 held by max 1.26.3" "$out"
manifest 'soak-days = 60'
out=$($NET_OFF "$RTUP" plan --policy --now 2027-03-11 2>&1)
expect_has "AC5 soak: 30 days after 1.27.0 the target stays on 1.26" "shell: .tool-versions:1: -> 1.26.5" "$out"
out=$($NET_OFF "$RTUP" plan --policy --now 2027-04-11 2>&1)
expect_has "AC5 soak: 61 days after 1.27.0 the target is 1.27" "shell: .tool-versions:1: -> 1.27.0" "$out"
manifest ""

# AC3: the minimum policy turns go 1.22 into go 1.25.0; the toolchain line
# is reported and kept without --fix-toolchain.
out=$("$RTUP" apply --to go@1.26.5 --no-commit 2>&1); rc=$?
expect_eq "AC3 F2 apply exit (toolchain finding)" 1 "$rc"
(cd F2 && git diff) > got.diff; golden F2.expected.diff got.diff
expect_has "AC3 F2 toolchain reported" "toolchain directive present (policy forbid)" "$out"
out=$("$RTUP" check --now 2026-08-01 2>&1); rc=$?
expect_eq "AC2 F2 check after apply: only the toolchain line" "shell: go.mod:5: toolchain directive present (policy forbid)" "$out"
git -C F2 checkout -q .
"$RTUP" apply --to go@1.26.5 --no-commit --fix-toolchain >/dev/null 2>&1
expect_not "AC3 F2 --fix-toolchain deletes the line" "toolchain" "$(cat F2/go.mod)"
expect_eq "AC3 F2 --fix-toolchain keeps the rest" "$(printf 'module gitlab.com/gitlab-org/gitlab-shell/v14\n\ngo 1.25.0\n\nrequire (\n\tgithub.com/x/y v1.0.0\n)')" "$(cat F2/go.mod)"
git -C F2 commit -qam bumped
out=$("$RTUP" check --now 2026-08-01 2>&1); rc=$?
expect_eq "AC2 F2 check after apply exits 0" "0:" "$rc:$out"
"$RTUP" apply --to go@1.26.5 --no-commit --fix-toolchain >/dev/null 2>&1
expect_eq "AC3 F2 second apply is empty" "" "$(cd F2 && git diff)"
# AC5: adoption deadline: 250 days after 1.27.0, a repo on 1.26 lags.
manifest 'adopt-deadline-days = 240'
out=$($NET_OFF "$RTUP" check --now 2027-10-17 2>&1); rc=$?
expect_eq "AC5 adopt deadline exit" 1 "$rc"
expect_has "AC5 adopt deadline lagging(minor)" "go 1.26: lagging(minor)" "$out"
out=$($NET_OFF "$RTUP" check --now 2027-09-01 2>&1); rc=$?
expect_eq "AC5 before the deadline: no lag" "0:" "$rc:$out"
finish
