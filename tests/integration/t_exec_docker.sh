#!/usr/bin/env bash
# crunner exec with a Docker engine: a job with image: runs in a container
# of that image (the working tree, the builds dir and the cache bound at
# their own paths), the others on the shell executor; artifacts and caches
# pass between the two; --executor shell keeps image: jobs on this host;
# without an engine image: is ignored with a note.
. "$(dirname "$0")/lib.sh"
export XDG_CACHE_HOME="$T_DIR/xdg-cache"

. "$CR_SOURCE_DIR/tests/docker/env.sh"
# exec uses the default helper image, crunner-helper:<version>: made from
# the crunner under test (rebuilt only when the binary changed).
bash "$CR_SOURCE_DIR/scripts/build-helper-image.sh" "$CRUNNER" \
	>"$T_DIR/helper.log" 2>&1 || fail "helper image: $(cat "$T_DIR/helper.log")"

W="$T_DIR/proj"
mkdir -p "$W"
# On this host only: nothing binds $T_DIR itself into a container.  Each
# check is a command of its own: as in gitlab-runner, a failing command in
# an && list does not fail the job (bash's errexit).
MARK=$T_DIR/host-marker
touch "$MARK"
cd "$W" || fail "cd"
git init -q . && git config user.email t@example.com && git config user.name t
cat >.gitlab-ci.yml <<YAML
stages: [build, test]

build:
  stage: build
  image: crunner-test/busybox:latest
  cache:
    key: deps
    paths: [vendor/]
  script:
    - test ! -e $MARK
    - echo "in a container"
    - echo "project=\$CI_PROJECT_DIR pwd=\$PWD"
    - mkdir -p out vendor && echo built-in-container > out/app.txt
    - if [ -f vendor/v.txt ]; then echo "cache restored"; else echo cached > vendor/v.txt; fi
  artifacts:
    paths: [out/]

host-test:
  stage: test
  script:
    - test -e $MARK
    - echo "on the host"
    - cat out/app.txt

image-test:
  stage: test
  image:
    name: crunner-test/bash:latest
    pull_policy: [if-not-present]
  script:
    - test ! -e $MARK
    - echo "bash image \$BASH_VERSION"
    - cat out/app.txt
YAML
git add . && git commit -qm init

test_case "image: jobs in containers, the others on the host, artifacts between them"
rc=0
"$CRUNNER" exec >"$T_DIR/out" 2>&1 || rc=$?
expect_eq 0 "$rc" "exit code ($(tail -30 "$T_DIR/out"))"
# Job names are padded to the longest: one space is enough here.
tr -s ' ' <"$T_DIR/out" >"$T_DIR/out.sq"
expect_contains "$T_DIR/out.sq" "build Using Docker executor with image crunner-test/busybox:latest" "docker executor for build"
expect_contains "$T_DIR/out.sq" "build > in a container" "build ran in a container"
expect_contains "$T_DIR/out.sq" "build > project=$W pwd=" "the working tree as CI_PROJECT_DIR"
expect_contains "$T_DIR/out.sq" "host-test > on the host" "host-test on the shell executor"
expect_contains "$T_DIR/out.sq" "host-test > built-in-container" "artifact from the container, on the host"
expect_contains "$T_DIR/out.sq" "image-test > bash image" "bash image"
expect_contains "$T_DIR/out.sq" "image-test > built-in-container" "artifact into another container"
expect_eq built-in-container "$(cat "$W/out/app.txt")" "the file in the working tree"
expect_contains "$T_DIR/out" " PASS  build" "summary"

test_case "the cache made in a container is restored in the next run"
rm -rf "$W/vendor"
"$CRUNNER" exec build >"$T_DIR/out" 2>&1 || fail "second run: $(tail -30 "$T_DIR/out")"
expect_contains "$T_DIR/out" "build > cache restored" "cache restored"

test_case "no container is left behind"
all=$(curl -sS --unix-socket /var/run/docker.sock -G http://docker/containers/json \
	--data-urlencode all=1 \
	--data-urlencode 'filters={"label":["com.gitlab.gitlab-runner.runner.id=local-exe"]}' |
	"$PYTHON" -c 'import json,sys; print(" ".join(c["Names"][0] for c in json.load(sys.stdin)))') ||
	fail "cannot list containers"
vols=$(curl -sS --unix-socket /var/run/docker.sock -G http://docker/volumes \
	--data-urlencode 'filters={"label":["com.gitlab.gitlab-runner.runner.id=local-exe"]}' |
	"$PYTHON" -c 'import json,sys; print(" ".join(v["Name"] for v in json.load(sys.stdin)["Volumes"] or []))') ||
	fail "cannot list volumes"
expect_eq "" "$vols" "exec's volumes after the run"
expect_eq "" "$all" "exec's containers after the run"

test_case "--executor shell keeps image: jobs on this host"
rc=0
"$CRUNNER" exec --executor shell build >"$T_DIR/out" 2>&1 || rc=$?
expect_eq 1 "$rc" "exit code (the container check fails on the host)"
expect_not_contains "$T_DIR/out" "Using Docker executor" "no docker"

test_case "without a Docker engine image: is ignored with a note"
rc=0
DOCKER_HOST=unix://$T_DIR/no-such.sock "$CRUNNER" exec host-test >"$T_DIR/out" 2>&1 || rc=$?
expect_eq 0 "$rc" "exit code ($(tail -20 "$T_DIR/out"))"
DOCKER_HOST=unix://$T_DIR/no-such.sock "$CRUNNER" exec --list >/dev/null 2>&1 || true
cat >"$T_DIR/img.yml" <<'YAML'
only-image:
  image: crunner-test/busybox:latest
  script: [echo ran anyway]
YAML
DOCKER_HOST=unix://$T_DIR/no-such.sock "$CRUNNER" exec --file "$T_DIR/img.yml" >"$T_DIR/out" 2>&1 || rc=$?
expect_contains "$T_DIR/out" "only-image image: ignored, the job runs on the shell executor: no Docker engine at $T_DIR/no-such.sock" "note"
expect_contains "$T_DIR/out" "only-image > ran anyway" "ran on the host"

test_case "a bad image: is refused before anything runs, with file:line"
cat >"$T_DIR/bad.yml" <<'YAML'
job:
  image:
    name: crunner-test/busybox:latest
    pull_policy: sometimes
  script: [echo NEVER-RAN]
YAML
rc=0
"$CRUNNER" exec --file "$T_DIR/bad.yml" >"$T_DIR/out" 2>&1 || rc=$?
expect_eq 1 "$rc" "exit code"
expect_contains "$T_DIR/out" "bad.yml:4:" "file:line"
expect_contains "$T_DIR/out" "unknown pull policy 'sometimes'" "message"
expect_not_contains "$T_DIR/out" "NEVER-RAN" "nothing ran"

echo "t_exec_docker: all cases passed"
