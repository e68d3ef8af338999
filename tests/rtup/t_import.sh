# rtup import: go.dev and endoflife.date JSON into the release table; the
# result is a table the other commands read; bad JSON is exit 2 with
# file:line.
. "$(dirname "$0")/lib.sh"
V=$RTUP_TESTS/fixtures/versions
mkdir -p "$T/F" && printf 'x\n' > "$T/F/x" && mkrepo "$T/F"
printf '[repo.r]\npath = "F"\n' > "$T/rtup.toml"
cd "$T" && mkdir -p versions
"$RTUP" import go-dl "$V/go-dl.json" --runtime go > got-dl.tsv; rc=$?
expect_eq "import go-dl exit" 0 "$rc"
golden versions/go-dl.tsv got-dl.tsv
"$RTUP" import eol "$V/go-eol.json" --runtime go > versions/go.tsv; rc=$?
expect_eq "import eol exit" 0 "$rc"
golden versions/go-eol.tsv versions/go.tsv
out=$("$RTUP" versions go --supported --now 2026-08-01 2>&1)
expect_eq "imported table: supported minors (1.24 has eol=)" "1.25 1.26" "$out"
out=$("$RTUP" versions go --supported --now 2026-01-01 2>&1)
expect_eq "imported table: before 1.24's eol" "1.24 1.25" "$out"
cp got-dl.tsv versions/go.tsv
out=$("$RTUP" versions go 2>&1); rc=$?
expect_eq "go-dl table reads back" "0:1.25.0	-	stable
1.25.7	-	stable
1.26.0	-	stable
1.26.4	-	stable
1.26.5	-	stable
1.27rc1	-	prerelease" "$rc:$out"
printf '[\n {"version": "go1.26.5",\n' > bad.json
out=$("$RTUP" import go-dl bad.json 2>&1); rc=$?
expect_eq "truncated JSON exit" 2 "$rc"
expect_has "truncated JSON names file:line" "bad.json:3:" "$out"
printf '{"version": "go1.26.5"}\n' > obj.json
out=$("$RTUP" import go-dl obj.json 2>&1); rc=$?
expect_eq "wrong shape exit" 2 "$rc"
expect_has "wrong shape message" "obj.json:1: not go-dl-shaped JSON" "$out"
finish
