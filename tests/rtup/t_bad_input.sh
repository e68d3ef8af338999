# Bad input: exit 2 or 3, message naming file and line, nothing written.
. "$(dirname "$0")/lib.sh"
cp -r "$RTUP_TESTS/fixtures/F1" "$T/F1" && mkrepo "$T/F1"
versions "$T/versions"
cd "$T"
printf '[repo.r]\npath = "F1"\n[rule.bad]\nruntime = "go"\nfiles = ["*.ps1"]\nregex = "a(b"\n' > bad-regex.toml
out=$("$RTUP" scan -C bad-regex.toml 2>&1); rc=$?
expect_eq "invalid regex exit" 2 "$rc"
expect_has "invalid regex file:line" "bad-regex.toml:6: invalid regex" "$out"
printf '[repo.r]\npath = "F1"\nwave = [\n' > broken.toml
out=$("$RTUP" scan -C broken.toml 2>&1); rc=$?
expect_eq "unparsable manifest exit" 2 "$rc"
expect_has "unparsable manifest names file" "broken.toml:" "$out"
printf '[repo.r]\npath = "F1"\n[rtup]\nversions = "nothere"\n' > nover.toml
out=$("$RTUP" plan -C nover.toml --to go@1.26.5 2>&1); rc=$?
expect_eq "missing release table exit" 2 "$rc"
expect_has "missing release table names file" "nothere/go.tsv:0" "$out"
mkdir -p empty && : > empty/node.tsv
printf '[repo.r]\npath = "F1"\n[rtup]\nversions = "empty"\n' > empty.toml
out=$("$RTUP" versions -C empty.toml node 2>&1); rc=$?
expect_eq "AC5 empty node.tsv exit" 2 "$rc"
expect_has "AC5 empty node.tsv names file" "empty/node.tsv:0: the release table of 'node' is empty" "$out"
printf '[repo.r]\npath = "F1"\n' > ok.toml
# --to is checked against the release table (issue: targets not checked).
out=$("$RTUP" plan -C ok.toml --to go@1.26.9 --now 2026-12-01 2>&1); rc=$?
expect_eq "target not in the table: exit" 2 "$rc"
expect_has "target not in the table: the table and its newest patch" "--to go@1.26.9: no such release in $T/versions/go.tsv (its newest go 1.26 release is 1.26.5)" "$out"
out=$("$RTUP" plan -C ok.toml --to go@1.99 --now 2026-12-01 2>&1); rc=$?
expect_eq "unknown minor: exit" 2 "$rc"
expect_has "unknown minor: message" "--to go@1.99: no go 1.99 release in $T/versions/go.tsv" "$out"
out=$("$RTUP" plan -C ok.toml --to go@1.27.0 --now 2026-12-01 2>&1); rc=$?
expect_eq "unreleased target: exit" 2 "$rc"
expect_has "unreleased target: message" "--to go@1.27.0: released 2027-02-09, after the plan date 2026-12-01 ($T/versions/go.tsv); --allow-unreleased plans for it anyway" "$out"
out=$("$RTUP" plan -C ok.toml --to go@1.27.0 --now 2026-12-01 --allow-unreleased 2>&1); rc=$?
expect_not "--allow-unreleased takes it" "--to go@1.27.0" "$out"
out=$("$RTUP" plan -C ok.toml --to go@1.26 --now 2026-12-01 2>&1); rc=$?
expect_not "a minor with releases is a target" "--to go@1.26" "$out"
out=$("$RTUP" plan -C ok.toml --to go@1.26.5 --now 2026-12-01 2>&1); rc=$?
expect_not "a released patch is a target" "no such release" "$out"
echo junk >> F1/mise.toml
sum=$(sha256sum F1/mise.toml F1/go.mod)
out=$("$RTUP" apply -C ok.toml --to go@1.26.5 2>&1); rc=$?
expect_eq "dirty repository exit" 3 "$rc"
expect_has "dirty repository message names the file" "is dirty ('mise.toml' has changes)" "$out"
expect_eq "dirty: nothing written" "$sum" "$(sha256sum F1/mise.toml F1/go.mod)"
expect_eq "dirty: no branch" "" "$(git -C F1 branch --list 'rtup/*')"
git -C F1 checkout -q mise.toml
"$RTUP" plan -C ok.toml --to go@1.26.5 -o plan.json >/dev/null 2>&1
echo 'golang = "1.0.0"' >> F1/mise.toml; git -C F1 commit -qam drift
out=$("$RTUP" apply -C ok.toml --plan plan.json 2>&1); rc=$?
expect_eq "AC8 changed since plan exit" 3 "$rc"
expect_has "AC8 changed since plan message" "file changed since plan: 'mise.toml'" "$out"
expect_eq "changed since plan: no branch" "" "$(git -C F1 branch --list 'rtup/*')"
# AC11: a rule that matches nothing warns in scan, fails check --strict.
printf '[repo.r]\npath = "F1"\n[rule.silent]\nruntime = "go"\nfiles = ["**/*.ps1"]\nregex = "^nothing ([0-9.]+)$"\n' > silent.toml
out=$("$RTUP" scan -C silent.toml 2>&1 >/dev/null); rc=$?
expect_eq "AC11 silent rule: scan still exits 0" 0 "$rc"
expect_has "AC11 silent rule: scan warns" "silent.toml: warning: rule 'silent' matches nothing" "$out"
out=$("$RTUP" check -C silent.toml --now 2026-08-01 --strict 2>&1); rc=$?
expect_eq "AC11 silent rule: check --strict exit" 1 "$rc"
expect_has "AC11 silent rule: check --strict error" "silent.toml: error: rule 'silent' matches nothing" "$out"
printf '[repo.r]\npath = "F1"\n[rule.g]\nruntime = "go"\nfiles = ["*.ps1"]\nregex = "(a)"\ngroup = 2\n' > group.toml
out=$("$RTUP" scan -C group.toml 2>&1); rc=$?
expect_eq "rule group beyond the regex exit" 2 "$rc"
expect_has "rule group beyond the regex names file:line" "group.toml:6:" "$out"
printf '[repo.r]\npath = "F1"\nrole = ["go.mod:sideways"]\n' > role.toml
out=$("$RTUP" scan -C role.toml 2>&1); rc=$?
expect_eq "unknown role exit" 2 "$rc"
expect_has "unknown role names file:line" "role.toml:3: 'role' entries must be PATH:ROLE" "$out"
printf 'go\t1.26.5\t2026-07-07\tstable\ngo\tbanana\t2026-07-07\tstable\n' > versions/go.tsv
out=$("$RTUP" plan -C ok.toml --to go@1.26.5 2>&1); rc=$?
expect_eq "bad release row exit" 2 "$rc"
expect_has "bad release row names file:line" "versions/go.tsv:2: bad release row" "$out"
expect_eq "bad input: nothing written anywhere" "" "$(git -C F1 status --porcelain; git -C F1 branch --list 'rtup/*')"
# AC8: a file changed between plan -o and apply --plan aborts that
# repository only; the others are applied.
git -C F1 reset -q --hard HEAD~1
versions "$T/versions"
cp -a F1 F1b
printf '[repo.a]\npath = "F1"\n[repo.b]\npath = "F1b"\n' > two.toml
"$RTUP" plan -C two.toml --to go@1.26.5 -o two.json >/dev/null 2>&1
echo 'golang = "1.0.0"' >> F1/mise.toml; git -C F1 commit -qam drift
out=$("$RTUP" apply -C two.toml --plan two.json 2>&1); rc=$?
expect_eq "AC8 two repos, one changed since plan: exit" 3 "$rc"
expect_has "AC8 changed repo aborted" "a: file changed since plan: 'mise.toml'" "$out"
expect_eq "AC8 changed repo: no branch" "" "$(git -C F1 branch --list 'rtup/*')"
expect_has "AC8 the other repo applied" "b: committed on rtup/go-1.26.5" "$out"
expect_eq "AC8 the other repo: one commit" 1 "$(git -C F1b rev-list --count main..rtup/go-1.26.5)"
out=$("$RTUP" apply -C two.toml --plan nothere.json 2>&1); rc=$?
expect_eq "missing plan file" "2:rtup: cannot read plan 'nothere.json': No such file or directory" "$rc:$out"
printf '[rtup]\ndocs = true\n\n[repo.gone]\npath = "nothere"\n' > gone.toml
out=$("$RTUP" check -C gone.toml 2>&1); rc=$?
expect_eq "missing repository: exit and file:line" "2:rtup: gone.toml:4: cannot open repository 'gone' at '$T/nothere': No such file or directory" "$rc:$out"
out=$("$RTUP" frobnicate 2>&1); rc=$?
expect_eq "unknown verb exit" 2 "$rc"
for v in scan check plan apply verify report versions import; do
	"$RTUP" $v --help | grep -q "^usage: rtup $v" && ok "$v --help" || fail "$v --help"
done
finish
