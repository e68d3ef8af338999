# F4 omnibus-like: indirect pins through a map, blocked pins (AC6);
# GOTOOLCHAIN => 'local' is not a pin (AC1); dry run (AC4).
. "$(dirname "$0")/lib.sh"
fixture F4
versions "$T/versions"
cat > "$T/rtup.toml" <<'EOT'
[repo.omnibus]
path = "F4"
wave = 3
indirect = ["gitlab-ci-config/variables.yml:BUILDER_IMAGE_REVISION go via omnibus-builder"]
EOT
cd "$T"
"$RTUP" scan --json > scan.json; golden F4.scan.json scan.json
expect_not "AC1 GOTOOLCHAIN is not a pin" "GOTOOLCHAIN" "$(cat scan.json)"
expect_not "AC1 gitaly.rb has no pin" "gitaly.rb" "$(cat scan.json)"
dry_run_clean F4 --to go@1.25.7
out=$("$RTUP" apply --to go@1.25.7 --no-commit 2>&1); rc=$?
expect_eq "AC6 go@1.25.7 exit" 0 "$rc"
(cd F4 && git diff) > got.diff; golden F4.expected.diff got.diff
expect_has "AC6 revision 5.50.0 provides go 1.25.7" 'BUILDER_IMAGE_REVISION: "5.50.0"' "$(cat F4/gitlab-ci-config/variables.yml)"
git -C F4 checkout -q .
before=$(snapshot F4)
out=$("$RTUP" apply --to go@1.25.8 --no-commit 2>&1); rc=$?
expect_eq "AC6 go@1.25.8 exit" 1 "$rc"
expect_has "AC6 blocked" "blocked: no omnibus-builder revision provides go 1.25.8" "$out"
expect_eq "AC6 blocked pin untouched" "$before" "$(snapshot F4)"
out=$("$RTUP" plan --to go@1.25.5 2>&1); rc=$?
expect_eq "AC6 go@1.25.5: already on 5.49.0, nothing to do" "0:" "$rc:$out"
rm versions/maps/omnibus-builder.tsv
out=$("$RTUP" plan --to go@1.25.7 2>&1); rc=$?
expect_eq "AC6 missing map exit" 2 "$rc"
expect_has "AC6 missing map names the file" "versions/maps/omnibus-builder.tsv:0: cannot read map" "$out"
printf '5.49.0\tgo\n' > versions/maps/omnibus-builder.tsv
out=$("$RTUP" plan --to go@1.25.7 2>&1); rc=$?
expect_eq "AC6 bad map row exit" 2 "$rc"
expect_has "AC6 bad map row names file:line" "omnibus-builder.tsv:1: bad map row" "$out"
finish
