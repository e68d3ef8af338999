# F1 runner-like: discovery (AC1), check (AC2), plan/git apply (AC4),
# apply --no-commit + idempotence (AC3), branch+worktree apply (AC8), AC11.
. "$(dirname "$0")/lib.sh"
cp -r "$RTUP_TESTS/fixtures/F1" "$T/F1" && mkrepo "$T/F1"
versions "$T/versions"
cat > "$T/rtup.toml" <<'EOT'
[runtime.go]
window = 2
minimum = "raise-to-oldest-supported,patch-zero"
[repo.runner]
path = "F1"
role = ["/go.mod:exact"]
[rule.vagrant-ps1]
runtime = "go"
role = "exact"
files = ["scripts/vagrant/**/*.ps1"]
regex = '^\$goVersion = "([0-9.]+)"'
group = 1
EOT
cd "$T"
out=$("$RTUP" scan 2>&1)
expect_has "AC1 annotation misbound" "annotation-misbound (next pin RUBY_VERSION is not runtime go)" "$out"
expect_has "AC1 floating golang:latest" "test.gitlab-ci.yml:7:17	go	floating	latest" "$out"
expect_has "AC1 derived image" "test.gitlab-ci.yml:2:17	go	derived	\$GO_VERSION" "$out"
expect_has "AC1 derived composite" "go	derived	\${GO_VERSION}" "$out"
expect_has "AC1 minor Makefile" "Makefile.build.mk:1:38	go	minor	1.26" "$out"
expect_has "AC1 root go.mod exact override" "go.mod:3:4	go	exact	1.26.3" "$out"
expect_has "AC1 nested go.mod minimum" "helpers/api/go.mod:3:4	go	minimum	1.26.0" "$out"
expect_has "AC11 rule finds base.ps1" "base.ps1:1:15	go	exact	1.26.3" "$out"
expect_not "AC1 testdata excluded" "testdata" "$out"
"$RTUP" scan --json > scan.json; golden F1.scan.json scan.json
expect_not "AC1 GOTOOLCHAIN never a pin" "GOTOOLCHAIN" "$(cat scan.json)"
out=$("$RTUP" check --now 2026-08-01 2>&1); rc=$?
expect_eq "AC2 check exit" 1 "$rc"
got=$(printf '%s\n' "$out" | grep inconsistent | sed 's/.*inconsistent: \([^ ]*\) .*/\1/' | xargs -n1 basename | sort -u | tr '\n' ' ')
expect_eq "AC2 names exactly" "_index.md agent-config.yml base.ps1 go.mod mise.toml " "$got"
# AC4: dry run has no side effects and git apply accepts it
dry_run_clean F1 --to go@1.26.5
cp F1.plan.diff plan.diff
"$RTUP" plan --to go@1.26.5 --diff > plan2.diff 2>/dev/null
cmp -s plan.diff plan2.diff && ok "plan is deterministic" || fail "plan is deterministic"
# AC8: branch + one commit in a worktree, checkout untouched
head=$(git -C F1 rev-parse HEAD)
out=$("$RTUP" apply --to go@1.26.5 2>&1); rc=$?
expect_eq "AC8 apply exit" 0 "$rc"
expect_has "AC8 committed" "committed on rtup/go-1.26.5" "$out"
expect_eq "AC8 checkout HEAD untouched" "$head" "$(git -C F1 rev-parse HEAD)"
expect_eq "AC8 checkout clean" "" "$(git -C F1 status --porcelain)"
expect_eq "AC8 one commit" 1 "$(git -C F1 rev-list --count main..rtup/go-1.26.5)"
msg=$(git -C F1 log -1 --format=%B rtup/go-1.26.5)
expect_has "AC8 message" "Bump go to 1.26.5" "$msg"
expect_has "AC8 trailer" "Rtup-Plan: " "$msg"
expect_eq "AC8 only planned paths" ".gitlab/duo/agent-config.yml docs/development/_index.md go.mod mise.toml scripts/vagrant/provision/base.ps1 " \
	"$(git -C F1 diff --name-only main rtup/go-1.26.5 | tr '\n' ' ')"
out=$("$RTUP" apply --to go@1.26.5 2>&1); rc=$?
expect_has "AC3/AC8 re-run is a no-op" "already applied" "$out"
expect_eq "AC8 still one commit" 1 "$(git -C F1 rev-list --count main..rtup/go-1.26.5)"
# AC3: --no-commit in place equals the golden diff, second apply is empty
"$RTUP" apply --to go@1.26.5 --no-commit >/dev/null 2>&1
(cd F1 && git diff) > got.diff
if cmp -s got.diff "$RTUP_TESTS/fixtures/F1.expected.diff"; then ok "AC3 golden diff"; else fail "AC3 golden diff" "$(diff "$RTUP_TESTS/fixtures/F1.expected.diff" got.diff | head -20)"; fi
(cd F1 && git add -A && git commit -qm bumped)
"$RTUP" apply --to go@1.26.5 --no-commit >/dev/null 2>&1
expect_eq "AC3 second apply empty" "" "$(cd F1 && git diff)"
out=$("$RTUP" check --now 2026-08-01 2>&1); rc=$?
expect_eq "AC2 check after apply exits 0" 0 "$rc"
finish
