#!/usr/bin/env bash
# crunner exec: caches kept in --cache-dir from one run to the next
# (key, key:files, key:files_commits, fallback_keys, policy) and
# --git-clone (jobs see the committed HEAD, not the working tree).
. "$(dirname "$0")/lib.sh"
# Kept builds dirs and caches go to the scenario's dir, not the home's.
export XDG_CACHE_HOME="$T_DIR/xdg-cache"

W="$T_DIR/proj"
CACHE="$T_DIR/cache"
mkdir -p "$W"
cd "$W" || fail "cd"
git init -q . && git config user.email t@example.com && git config user.name t
cat >.gitlab-ci.yml <<'EOF'
stages: [build, test]

build:
  stage: build
  cache:
    - key: deps
      paths: [vendor/]
    - key:
        files: [lock.txt]
        prefix: $CI_JOB_NAME
      paths: [by-files/]
    - key:
        files_commits: [lock.txt]
      paths: [by-commits/]
  script:
    - if [ -f vendor/v.txt ]; then echo "restored $(cat vendor/v.txt)"; else echo fresh; mkdir -p vendor && echo one >vendor/v.txt; fi
    - mkdir -p by-files by-commits && echo f >by-files/f && echo c >by-commits/c

reader:
  stage: test
  cache:
    key: missing-key
    fallback_keys: [deps]
    policy: pull
    paths: [vendor/]
  script:
    - rm -rf vendor
    - echo reader-saw-nothing
EOF
echo "lock 1" >lock.txt
echo committed >committed.txt
git add . && git commit -qm init || fail "git commit"

test_case "exec cache: first run saves"
"$CRUNNER" exec --cache-dir "$CACHE" >"$T_DIR/run1.out" 2>&1 ||
	{ cat "$T_DIR/run1.out" >&2; fail "first run failed"; }
tr -s ' ' <"$T_DIR/run1.out" >"$T_DIR/run1.sq"
expect_contains "$T_DIR/run1.sq" "build > fresh" "first run starts cold"
expect_contains "$T_DIR/run1.sq" "build exported cache 'deps' in" "cache saved"
find "$CACHE" -path '*/deps/cache.zip' | grep -q . || fail "no deps/cache.zip under $CACHE"

test_case "exec cache: key:files is prefix-sha1(blob ids), files_commits index-sha1(commit ids)"
blob=$(git hash-object lock.txt)
want=build-$(printf %s "$blob" | sha1sum | cut -c1-40)
expect_contains "$T_DIR/run1.sq" "build exported cache '$want' in" "key:files key"
commit=$(git log -1 --format=%H -- lock.txt)
want=2-$(printf %s "$commit" | sha1sum | cut -c1-40)
expect_contains "$T_DIR/run1.sq" "build exported cache '$want' in" "key:files_commits key"

test_case "exec cache: a second run restores; fallback_keys; policy pull"
rm -rf vendor by-files by-commits
"$CRUNNER" exec --cache-dir "$CACHE" >"$T_DIR/run2.out" 2>&1 ||
	{ cat "$T_DIR/run2.out" >&2; fail "second run failed"; }
tr -s ' ' <"$T_DIR/run2.out" >"$T_DIR/run2.sq"
expect_contains "$T_DIR/run2.sq" "build > restored one" "second run restores"
expect_contains "$T_DIR/run2.sq" "reader imported cache 'deps' in" "fallback key used"
expect_not_contains "$T_DIR/run2.sq" "reader exported cache" "policy pull"
find "$CACHE" -path '*/missing-key/*' | grep -q . && fail "policy pull saved a cache"

test_case "exec cache: an uncommitted edit changes the key:files key"
echo "lock 2" >lock.txt
blob=$(git hash-object lock.txt)
want=build-$(printf %s "$blob" | sha1sum | cut -c1-40)
"$CRUNNER" exec --cache-dir "$CACHE" build >"$T_DIR/run3.out" 2>&1 ||
	{ cat "$T_DIR/run3.out" >&2; fail "third run failed"; }
expect_contains "$T_DIR/run3.out" "build exported cache '$want' in" "key follows content"
git checkout -q lock.txt

test_case "exec --git-clone: the committed HEAD, not the working tree"
cat >clone.yml <<'EOF'
job:
  script:
    - test -f committed.txt
    - test ! -e uncommitted.txt
    - echo "lock is $(cat lock.txt)"
    - echo from-job >written-by-job.txt
EOF
git add clone.yml && git commit -qm clone
echo "not committed" >uncommitted.txt
echo "lock edited" >lock.txt
"$CRUNNER" exec --file clone.yml --git-clone >"$T_DIR/clone.out" 2>&1 ||
	{ cat "$T_DIR/clone.out" >&2; fail "--git-clone run failed"; }
expect_contains "$T_DIR/clone.out" "job > lock is lock 1" "clone has the committed content"
[ -e written-by-job.txt ] && fail "the job wrote into the working tree"
ls "${TMPDIR:-/tmp}" | grep -q "^crunner-clone-" &&
	ls -d "${TMPDIR:-/tmp}"/crunner-clone-* | while read -r d; do
		[ -e "$d/proj/written-by-job.txt" ] && fail "clone left behind: $d"
	done

test_case "exec without --git-clone: the working tree as it is"
"$CRUNNER" exec --file clone.yml >"$T_DIR/tree.out" 2>&1 &&
	fail "the uncommitted file should have made the job fail"
expect_contains "$T_DIR/tree.out" " FAIL  job" "working tree has the uncommitted file"

test_case "exec --git-clone outside a git repository"
mkdir -p "$T_DIR/nogit" && cp clone.yml "$T_DIR/nogit/.gitlab-ci.yml"
(cd "$T_DIR/nogit" && GIT_CEILING_DIRECTORIES="$T_DIR" "$CRUNNER" exec --git-clone) \
	>"$T_DIR/nogit.out" 2>&1 && fail "--git-clone without git should fail"
expect_contains "$T_DIR/nogit.out" "is not a git repository" "clear error"

test_case "exec keeps its builds dir: made once, locked per run, a busy one sends the next run to a temp dir"
proj="$T_DIR/kept"
mkdir -p "$proj" && cat >"$proj/.gitlab-ci.yml" <<'YML'
job:
  script:
    - echo "${WAIT:+waiting}"
    - sleep ${WAIT:-0}
    - echo done > out.txt
  artifacts:
    paths: [out.txt]
YML
"$CRUNNER" exec --cwd "$proj" >"$T_DIR/kept1.out" 2>&1 ||
	{ cat "$T_DIR/kept1.out" >&2; fail "first run failed"; }
builds=$(ls -d "$XDG_CACHE_HOME"/crunner/exec/builds/kept-* 2>/dev/null)
[ -n "$builds" ] && [ -f "$builds/.lock" ] || fail "no kept builds dir under $XDG_CACHE_HOME"
link=$(find "$builds" -type l | head -1)
expect_eq "$proj" "$(readlink "$link")" "the slot links to the project"
[ -e "$builds/artifacts" ] && fail "the run's artifact store was left behind"
# An earlier run's store (a crash) is not this run's.
mkdir -p "$builds/artifacts/1" && echo stale >"$builds/artifacts/1/archive"
"$CRUNNER" exec --cwd "$proj" --variable WAIT=3 >"$T_DIR/kept2.out" 2>&1 &
busy=$!
for _ in $(seq 50); do
	grep -q '^job > waiting' "$T_DIR/kept2.out" && break
	sleep 0.1
done
"$CRUNNER" exec --cwd "$proj" >"$T_DIR/kept3.out" 2>&1 ||
	{ cat "$T_DIR/kept3.out" >&2; fail "a run beside a busy one failed"; }
expect_contains "$T_DIR/kept3.out" " PASS  job" "ran in a temp builds dir"
wait "$busy" || { cat "$T_DIR/kept2.out" >&2; fail "the busy run failed"; }
[ -e "$builds/artifacts" ] && fail "stale or new artifacts left in the kept builds dir"
true
