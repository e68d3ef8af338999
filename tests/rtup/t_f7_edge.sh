# F7 edge cases: CRLF, BOM, no final newline, tabs, comments, quotes, file
# mode (AC3); binary file, out-of-repo symlinks and vendor/ never read (AC1);
# dry run (AC4).
. "$(dirname "$0")/lib.sh"
fixture F7
# A link that leaves the repository to a file that would hold a pin.
printf 'GO_VERSION = 1.0.1\n' > "$T/outside.mk"
ln -s "$T/outside.mk" "$T/F7/outside.mk"
# A link that stays inside: its target is scanned under its own path.
ln -s tools.mk "$T/F7/inside.mk"
git -C "$T/F7" add -A && git -C "$T/F7" commit -qm links
versions "$T/versions"
printf '[repo.edge]\npath = "F7"\n' > "$T/rtup.toml"
cd "$T"
"$RTUP" scan --json > scan.json; golden F7.scan.json scan.json
for p in vendor/ blob/go.mod os-release outside.mk inside.mk; do
	expect_not "AC1 F7 never reads $p" "$p" "$(cat scan.json)"
done
expect_eq "AC1 F7 pin count" 7 "$("$RTUP" scan | wc -l)"
dry_run_clean F7 --to go@1.26.5
mode=$(stat -c %a F7/tools.mk)
"$RTUP" apply --to go@1.26.5 --no-commit >/dev/null 2>&1; rc=$?
expect_eq "AC3 F7 apply exit" 0 "$rc"
(cd F7 && git diff) > got.diff; golden F7.expected.diff got.diff
expect_eq "AC3 CRLF kept" "$(printf 'variables:\r\n  GO_VERSION: "1.26.5" # keep in sync\r\n  GOLANG_VERSION: '"'"'1.26.5'"'"'\r\n\r\nbuild:\r\n  image: golang:1.26.5-alpine3.19\r\n  script:\r\n    - go build ./...\r\n' | od -c)" "$(od -c < F7/.gitlab-ci.yml)"
expect_eq "AC3 no final newline kept" "$(printf '1.26.5' | od -c)" "$(od -c < F7/.go-version)"
expect_eq "AC3 BOM, CRLF and comment kept" "$(printf '\357\273\277[tools]\r\ngo = "1.26.5"   # pinned\r\n' | od -c)" "$(od -c < F7/mise.toml)"
expect_eq "AC3 tabs and comment kept" "$(printf 'golang\t1.26.5\t# tabs\n' | od -c)" "$(od -c < F7/.tool-versions)"
expect_eq "AC3 Makefile tabs kept" "$(printf 'export GO_VERSION\t?=\t1.26.5\t# tabbed\n' | od -c)" "$(od -c < F7/tools.mk)"
expect_eq "AC3 file mode kept" "$mode" "$(stat -c %a F7/tools.mk)"
expect_eq "AC3 inside link is still a link" "tools.mk" "$(readlink F7/inside.mk)"
expect_eq "AC3 vendor untouched" "go 1.26.3" "$(grep '^go ' F7/vendor/x/go.mod)"
git -C F7 commit -qam bumped
"$RTUP" apply --to go@1.26.5 --no-commit >/dev/null 2>&1
expect_eq "AC3 F7 second apply is empty" "" "$(cd F7 && git diff; git status --porcelain)"
expect_eq "AC3 no temp files left" "" "$(find F7 -name '*.rtup-*')"
finish
