# A fleet of F1-F6 in waves: one branch and one commit per changed
# repository, checkouts untouched (AC8), waves held until verified (3.8),
# the report and its schema (AC10).
. "$(dirname "$0")/lib.sh"
CRUNNER=${CRUNNER:?set CRUNNER to the crunner binary}
PYTHON=${PYTHON:-python3}
SCHEMA=${RTUP_SCHEMA_DIR:-$RTUP_TESTS/../../schema}/report-v1.json
for n in F1 F2 F3 F4 F5 F6; do fixture $n; done
mkdir -p "$T/cur" && printf 'variables:\n  GO_VERSION: "1.26.5"\n' > "$T/cur/.gitlab-ci.yml" && mkrepo "$T/cur"
versions "$T/versions"
cat > "$T/rtup.toml" <<EOT
[rtup]
toolchains = "$RTUP_TESTS/fixtures/toolchains"
message = "Bump %runtime% to %version%\n\nChangelog: changed"
[runtime.go]
window = 2
minimum = "raise-to-oldest-supported,patch-zero"
[repo.runner]
path = "F1"
wave = 1
role = ["/go.mod:exact"]
verify = ["go build ./..."]
env = ["GOTOOLCHAIN=local", "GOPROXY=off"]
[repo.shell]
path = "F2"
wave = 2
[repo.gitaly]
path = "F3"
wave = 2
[repo.current]
path = "cur"
wave = 2
[repo.omnibus]
path = "F4"
wave = 3
indirect = ["gitlab-ci-config/variables.yml:BUILDER_IMAGE_REVISION go via omnibus-builder"]
[repo.cng]
path = "F5"
wave = 3
[repo.poly]
path = "F6"
wave = 4
[rule.vagrant-ps1]
runtime = "go"
files = ["scripts/vagrant/**/*.ps1"]
regex = '^\\\$goVersion = "([0-9.]+)"'
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
repos="F1 F2 F3 F4 F5 F6 cur"
checkouts() { # HEAD, index, status, every file's hash and mtime
	for r in $repos; do
		echo "== $r"; git -C $r rev-parse HEAD; git -C $r ls-files -s --debug | sha256sum
		git -C $r status --porcelain --ignored
		(cd $r && find . -path ./.git -prune -o -type f -printf '%p %T@ ' -exec sha256sum {} \;)
	done
}
before=$(checkouts)
"$RTUP" plan --to go@1.26.5 -o plan.json > /dev/null 2>&1
planned() { "$PYTHON" -c 'import json,sys; d=json.load(open("plan.json")); print(" ".join(sorted(f["path"] for r in d["repos"] if r["repo"]==sys.argv[1] for f in r["files"])))' "$1"; }
out=$("$RTUP" apply --to go@1.26.5 2>&1); rc=$?
expect_eq "wave 1 apply exit" 0 "$rc"
expect_has "wave 1 committed" "runner: committed on rtup/go-1.26.5" "$out"
expect_has "wave 2 held" "shell: held: wave 1 is not verified yet" "$out"
expect_has "wave 4 held" "poly: held: wave 1 is not verified yet" "$out"
"$RTUP" verify --crunner "$CRUNNER" > /dev/null 2>&1
out=$("$RTUP" apply --to go@1.26.5 2>&1); rc=$?
expect_has "wave 1 already applied" "runner: rtup/go-1.26.5 already applied" "$out"
expect_has "wave 2 shell" "shell: committed on rtup/go-1.26.5" "$out"
expect_has "wave 2 gitaly" "gitaly: committed on rtup/go-1.26.5" "$out"
expect_has "wave 2 current repo" "current: current" "$out"
expect_has "wave 3 held" "omnibus: held: wave 2 is not verified yet" "$out"
out=$("$RTUP" verify --crunner "$CRUNNER" 2>&1); rc=$?
expect_eq "wave 2 verified" "0" "$rc"
out=$("$RTUP" apply --to go@1.26.5 2>&1); rc=$?
expect_eq "wave 3 apply exit (blocked)" 1 "$rc"
expect_has "wave 3 omnibus blocked" "omnibus: blocked: no omnibus-builder revision provides go 1.26.5" "$out"
expect_has "wave 3 cng" "cng: committed on rtup/go-1.26.5" "$out"
expect_has "wave 4 held by the blocked wave" "poly: held: wave 3 is not verified yet" "$out"
# AC8: exactly one commit on one branch in each changed repo, none elsewhere.
for r in runner:F1 shell:F2 gitaly:F3 cng:F5; do
	name=${r%%:*} dir=${r#*:}
	expect_eq "AC8 $name: one commit on rtup/go-1.26.5" 1 "$(git -C $dir rev-list --count main..rtup/go-1.26.5)"
	expect_eq "AC8 $name: only planned paths" "$(planned $name)" "$(git -C $dir diff --name-only main rtup/go-1.26.5 | sort | tr '\n' ' ' | sed 's/ $//')"
	msg=$(git -C $dir log -1 --format=%B rtup/go-1.26.5)
	expect_has "AC8 $name: message" "$(printf 'Bump go to 1.26.5\n\nChangelog: changed')" "$msg"
	expect_has "AC8 $name: trailer" "Rtup-Plan: " "$msg"
done
for d in cur F4 F6; do
	expect_eq "AC8 $d: no branch" "" "$(git -C $d branch --list 'rtup/*')"
done
expect_eq "AC8 checkouts' HEAD, index and working tree unchanged" "$before" "$(checkouts)"
# AC10: the report after this partial run.
"$RTUP" report --now 2026-08-01 --json report.json --md report.md; rc=$?
expect_eq "AC10 report exit (blocked, inconsistent)" 1 "$rc"
out=$("$PYTHON" "$RTUP_TESTS/validate_schema.py" "$SCHEMA" report.json 2>&1) && ok "AC10 report validates against schema/report-v1.json" || fail "AC10 report validates against schema/report-v1.json" "$out"
rows=$("$PYTHON" -c 'import json; d=json.load(open("report.json")); [print(r["repo"], r["runtime"], r["before"]["exact"], r["after"]["exact"], r["status"], r["verify"], sep="|") for r in d["rows"]]')
expect_eq "AC10 rows: before/after and status per repo" "runner|go|1.26.5|1.26.5|updated|verified
runner|ruby|4.0.6|4.0.6|current|verified
shell|go|1.23|1.26|updated|verified
gitaly|go|1.21|1.26|updated|verified
current|go|1.26.5|1.26.5|current|verified
omnibus|go|None|None|blocked(no omnibus-builder revision provides go 1.26.5)|not-run
cng|go|1.22.3|1.26.5|updated|not-run
poly|node|20.11.0|20.11.0|inconsistent|not-run
poly|python|3.12.1|3.12.1|current|not-run
poly|ruby|3.3.0|3.3.0|current|not-run" "$rows"
j=$(cat report.json)
expect_eq "report names the pin behind 'inconsistent' and keeps its lag beside it (node 20 ended 2026-04-30)" \
	"inconsistent|lagging(minor EOL)|['.tool-versions nodejs 20.10.0 is behind .nvmrc 20.11.0 (line 1)']" \
	"$("$PYTHON" -c 'import json; d=json.load(open("report.json")); r=[r for r in d["rows"] if r["repo"]=="poly" and r["runtime"]=="node"][0]; print(r["status"], r.get("lag"), r.get("reasons"), sep="|")')"
expect_eq "report: derived pins with the value they resolve to (none for a !reference)" \
	"runner:\${GO_VERSION}=1.26.5 shell:\${GO_VERSION}=1.26 gitaly:\${GO_VERSION}=None cng:\${GO_VERSION}=1.26.5" \
	"$("$PYTHON" -c 'import json; d=json.load(open("report.json")); print(" ".join("%s:%s=%s" % (r["repo"], x["value"], x.get("resolved")) for r in d["rows"] for x in r["derived"] if x["value"] == "${GO_VERSION}"))')"
expect_has "markdown: the lag beside the status" "| poly | 4 | node | 20.11.0 | 20.11.0 | inconsistent, lagging(minor EOL) |" "$(cat report.md)"
expect_has "markdown: why inconsistent" "- poly node: .tool-versions nodejs 20.10.0 is behind .nvmrc 20.11.0 (line 1)" "$(cat report.md)"
expect_has "markdown: a derived pin's resolved value" "- cng: derived \`gitlab-go/Dockerfile:4\` \`\${GO_VERSION}\` = 1.26.5" "$(cat report.md)"
expect_has "AC10 floating pin listed" '"value": "latest"' "$j"
expect_has "AC10 mis-bound annotation listed" '"note": "annotation-misbound (next pin RUBY_VERSION is not runtime go)"' "$j"
expect_has "AC10 FIPS lag" '"lag: go-fips 1.26.3 < go 1.26.5"' "$j"
expect_has "AC10 minimum before/after" "$("$PYTHON" -c 'import json; d=json.load(open("report.json")); r=[r for r in d["rows"] if r["repo"]=="shell"][0]; print(r["before"]["minimum"], r["after"]["minimum"], r["before"]["window"], r["after"]["window"])')" "1.22 1.25.0 ['1.22', '1.23'] ['1.25', '1.26']"
expect_eq "AC10 wave progress" "1:1:1:1 2:3:2:3 3:2:1:0 4:1:0:0" "$("$PYTHON" -c 'import json; d=json.load(open("report.json")); print(" ".join("%d:%d:%d:%d" % (w["wave"], w["repos"], w["updated"], w["verified"]) for w in d["waves"]))')"
expect_eq "AC10 markdown: one table row per JSON row" 10 "$(grep -c '^| [a-z]* | [0-9]* | ' report.md)"
expect_has "AC10 markdown row" "| omnibus | 3 | go | - | - | blocked(no omnibus-builder revision provides go 1.26.5) | not-run | - | - |" "$(cat report.md)"
expect_has "AC10 markdown before -> after of minimum and window" "| shell | 2 | go | 1.23 | 1.26 | updated | verified | 1.22 → 1.25.0 | 1.22, 1.23 → 1.25, 1.26 |" "$(cat report.md)"
"$RTUP" report --now 2026-08-01 --json report2.json >/dev/null 2>&1
cmp -s report.json report2.json && ok "AC10 report is deterministic" || fail "AC10 report is deterministic"
out=$("$RTUP" report --now 2026-08-01 --repo current 2>&1); rc=$?
expect_eq "AC10 exit 0 when no row lags, is inconsistent, blocked or failed" 0 "$rc"
sed 's/"status": "current"/"status": "frobbed"/' report.json > bad.json
"$PYTHON" "$RTUP_TESTS/validate_schema.py" "$SCHEMA" bad.json > bad.out 2>&1 && fail "schema rejects an unknown status" || expect_has "schema rejects an unknown status" "'frobbed' does not match" "$(cat bad.out)"
# A failed verification shows in the report and makes it exit 1.
FAKE_GO_EXIT=1 "$RTUP" verify --repo runner --crunner "$CRUNNER" >/dev/null 2>&1
out=$("$RTUP" report --now 2026-08-01 --repo runner --md - 2>&1); rc=$?
expect_eq "AC10 verify-failed exit" 1 "$rc"
expect_has "AC10 verify-failed row" "| runner | 1 | go | 1.26.5 | 1.26.5 | verify-failed(go build ./...) |" "$out"
finish
