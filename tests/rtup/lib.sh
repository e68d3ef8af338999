# Shared helpers for the rtup golden tests: fixtures are built as git repos
# in a temp directory; every check prints expected and actual on failure.
set -u
RTUP=${RTUP:?set RTUP to the rtup binary}
T=$(mktemp -d /tmp/rtup-test.XXXXXX)
trap 'if [ "$FAILED" = 0 ]; then rm -rf "$T"; else echo "kept $T"; fi' EXIT
PASSED=0 FAILED=0 SKIPPED=0
export GIT_AUTHOR_NAME=rtup GIT_AUTHOR_EMAIL=rtup@test GIT_COMMITTER_NAME=rtup GIT_COMMITTER_EMAIL=rtup@test
export GIT_CONFIG_NOSYSTEM=1 HOME=$T
ok() { PASSED=$((PASSED+1)); echo "ok - $1"; }
# skip REASON: a check that cannot run on this machine.  A failure under
# CI=true (.ci/run provides what every check needs); otherwise finish exits
# 77, which ctest lists as skipped (SKIP_RETURN_CODE), never as passed.
skip() {
	if [ "${CI:-}" = true ]; then fail "$1 (cannot run under CI=true)"; return; fi
	SKIPPED=$((SKIPPED+1)); echo "ok - # SKIP $1"
}
fail() { FAILED=$((FAILED+1)); echo "FAIL - $1"; shift; for l in "$@"; do echo "    $l"; done; }
expect_eq() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "expected: $2" "actual:   $3"; fi; }
expect_has() { case "$3" in *"$2"*) ok "$1";; *) fail "$1" "expected to contain: $2" "actual: $3";; esac; }
expect_not() { case "$3" in *"$2"*) fail "$1" "must not contain: $2" "actual: $3";; *) ok "$1";; esac; }
mkrepo() { # mkrepo DIR: git init + commit of what is there
	git -C "$1" init -q -b main && git -C "$1" add -A && git -C "$1" commit -q -m init
}
# f PATH CONTENT (printf format, so \n and \r work)
f() { mkdir -p "$(dirname "$1")"; printf "$2" > "$1"; }
versions() { # versions DIR: synthetic release tables
	mkdir -p "$1/maps"
	{
		printf '# runtime\tversion\treleased\tflags\n'
		d=2025-02-11; for p in 0 1 2 3 4 5 6 7; do printf 'go\t1.24.%s\t2025-%02d-10\tstable\n' $p $((p+2)); done
		for p in 0 1 2 3 4 5 6 7 8; do printf 'go\t1.25.%s\t2025-%02d-12\tstable\n' $p $((p+8 > 12 ? 12 : p+8)); done
		printf 'go\t1.26.0\t2026-02-10\tstable\n'
		for p in 1 2 3 4; do printf 'go\t1.26.%s\t2026-%02d-05\tstable\n' $p $((p+2)); done
		printf 'go\t1.26.5\t2026-07-07\tstable,security\n'
		printf 'go\t1.27rc1\t2027-01-15\tprerelease\n'
		printf 'go\t1.27.0\t2027-02-09\tstable\n'
		printf 'go\t1.21.0\t2023-08-08\tstable\ngo\t1.21.4\t2023-11-07\tstable\ngo\t1.22.0\t2024-02-06\tstable\ngo\t1.22.1\t2024-03-05\tstable\ngo\t1.20.10\t2023-10-10\tstable\n'
	} > "$1/go.tsv"
	printf 'go-fips\t1.26.0\t2026-02-20\tstable\ngo-fips\t1.26.3\t2026-05-20\tstable\n' > "$1/go-fips.tsv"
	printf 'node\t20.10.0\t2023-11-22\tstable\nnode\t20.11.0\t2024-01-09\tstable\n' > "$1/node.tsv"
	printf '5.49.0\tgo\t1.25.5\n5.50.0\tgo\t1.25.7\n' > "$1/maps/omnibus-builder.tsv"
}
# fixture NAME: copies fixtures/NAME to $T/NAME and makes it a git repo
fixture() { cp -a "$RTUP_TESTS/fixtures/$1" "$T/$1" && mkrepo "$T/$1"; }
# golden NAME FILE: FILE equals fixtures/NAME byte for byte
# (RTUP_UPDATE_GOLDEN=1 rewrites the golden file instead).
golden() {
	if [ "${RTUP_UPDATE_GOLDEN:-0}" = 1 ]; then cp "$2" "$RTUP_TESTS/fixtures/$1"; fi
	if cmp -s "$RTUP_TESTS/fixtures/$1" "$2"; then ok "golden $1"
	else fail "golden $1" "$(diff "$RTUP_TESTS/fixtures/$1" "$2" | head -30)"; fi
}
# snapshot DIR: every file's sha256 and mtime, status, refs, worktrees
snapshot() {
	(cd "$1" && find . -path ./.git -prune -o -type f -printf '%p %T@\n' | sort &&
	 find . -path ./.git -prune -o -type f -print0 | sort -z | xargs -0 sha256sum &&
	 git status --porcelain && git for-each-ref && git worktree list)
}
# dry_run_clean NAME ARGS...: AC4 for one repo: plan --diff applies with
# git apply --check and changes nothing
dry_run_clean() {
	local name=$1; shift
	local before after
	before=$(snapshot "$T/$name")
	"$RTUP" plan "$@" --diff > "$T/$name.plan.diff" 2>"$T/$name.plan.err"
	if [ -s "$T/$name.plan.diff" ]; then
		(cd "$T/$name" && git apply --check "$T/$name.plan.diff" 2>&1) >/dev/null &&
			ok "AC4 $name: plan --diff passes git apply --check" ||
			fail "AC4 $name: plan --diff passes git apply --check" "$(cd "$T/$name" && git apply --check "$T/$name.plan.diff" 2>&1)"
	else
		ok "AC4 $name: plan --diff is empty"
	fi
	after=$(snapshot "$T/$name")
	expect_eq "AC4 $name: no side effects (files, mtimes, status, refs, worktrees)" "$before" "$after"
}
# net_off CMD...: runs CMD in an empty network namespace when this
# machine allows it (AC5), else as it is
if unshare -n true 2>/dev/null; then NET_OFF="unshare -n"; else NET_OFF=""; fi
finish() {
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" = 0 ] || return 1
	[ "$SKIPPED" = 0 ] || exit 77
}
