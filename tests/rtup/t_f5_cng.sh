# F5 cng-like: unquoted CI value, Dockerfile ARG/ENV/FROM --platform (AC1,
# AC3), dry run (AC4).
. "$(dirname "$0")/lib.sh"
fixture F5
versions "$T/versions"
printf '[repo.cng]\npath = "F5"\nwave = 3\n' > "$T/rtup.toml"
cd "$T"
"$RTUP" scan --json > scan.json; golden F5.scan.json scan.json
expect_has "AC1 ENV GO_URL is derived" '"value": "${GO_VERSION}"' "$(cat scan.json)"
out=$("$RTUP" check --now 2026-08-01 2>&1); rc=$?
expect_eq "F5 consistent but on an unsupported minor" "1:cng: go 1.22.3: lagging(minor EOL)" "$rc:$out"
dry_run_clean F5 --to go@1.26.5
"$RTUP" apply --to go@1.26.5 --no-commit >/dev/null 2>&1; rc=$?
expect_eq "AC3 F5 apply exit" 0 "$rc"
(cd F5 && git diff) > got.diff; golden F5.expected.diff got.diff
expect_has "AC3 unquoted stays unquoted" "  GO_VERSION: 1.26.5" "$(cat F5/ci_files/variables.yml)"
expect_has "AC3 FROM keeps --platform, suffix and AS" "FROM --platform=\$BUILDPLATFORM golang:1.26.5-bookworm AS build" "$(cat F5/builder/Dockerfile)"
expect_has "AC3 ENV reference untouched" 'go${GO_VERSION}.linux-amd64' "$(cat F5/gitlab-go/Dockerfile)"
git -C F5 commit -qam bumped
out=$("$RTUP" check --now 2026-08-01 2>&1); rc=$?
expect_eq "AC2 F5 check after apply exits 0" "0:" "$rc:$out"
"$RTUP" apply --to go@1.26.5 --no-commit >/dev/null 2>&1
expect_eq "AC3 F5 second apply is empty" "" "$(cd F5 && git diff)"
finish
