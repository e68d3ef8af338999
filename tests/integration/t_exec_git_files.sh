#!/usr/bin/env bash
# crunner exec reads a plain repository's fresh commit and the user's
# identity from git's files (src/local/git_files.c) instead of starting
# git: the predefined variables must be exactly what git says.  Each
# repository shape is run twice: as it is, and with GIT_CONFIG_COUNT=0
# (harmless to git, but it sends crunner to git); a git wrapper first on
# PATH logs what crunner started.
. "$(dirname "$0")/lib.sh"

real_git=$(command -v git) || skip_scenario "no git"
mkdir -p "$T_DIR/bin"
cat >"$T_DIR/bin/git" <<WRAP
#!/bin/sh
echo "git \$*" >>"$T_DIR/git.log"
exec "$real_git" "\$@"
WRAP
chmod +x "$T_DIR/bin/git"
export HOME="$T_DIR/home" XDG_CONFIG_HOME= GIT_CONFIG_NOSYSTEM=1
mkdir -p "$HOME"
git config --global user.name "Ann  Example"
git config --global user.email ann@example.com

PIPELINE='show:
  script:
    - env | grep -E "^(CI_COMMIT_|GITLAB_USER_|CI_DEFAULT_BRANCH|CI_PROJECT_)" | sort
'

# vars REPO [ENV...]: the variables the job printed, in $T_DIR/vars.
vars() {
	local repo=$1
	shift
	: >"$T_DIR/git.log"
	(cd "$repo" && env "$@" PATH="$T_DIR/bin:$PATH" "$CRUNNER" exec >"$T_DIR/out" 2>&1) ||
		fail "exec: exit code $?: $(cat "$T_DIR/out")"
	sed -n 's/^show > //p' "$T_DIR/out" >"$T_DIR/vars"
	grep -q '^CI_COMMIT_SHA=' "$T_DIR/vars" || fail "no variables: $(cat "$T_DIR/out")"
}

# same REPO FAST: files and git agree; FAST says whether git stayed unused.
same() {
	vars "$1"
	cp "$T_DIR/vars" "$T_DIR/vars.files"
	if [ "$2" = fast ]; then
		[ ! -s "$T_DIR/git.log" ] || fail "git was started: $(cat "$T_DIR/git.log")"
	else
		grep -q '^git log' "$T_DIR/git.log" || fail "git log not asked: $(cat "$T_DIR/git.log")"
	fi
	vars "$1" GIT_CONFIG_COUNT=0
	grep -q '^git log' "$T_DIR/git.log" || fail "the git run did not ask git"
	diff -u "$T_DIR/vars" "$T_DIR/vars.files" >"$T_DIR/diff" ||
		fail "files and git disagree: $(cat "$T_DIR/diff")"
}

commit() { # REPO MESSAGE [DATE]
	GIT_AUTHOR_DATE="${3:-2026-03-04T05:06:07+05:30}" \
	GIT_COMMITTER_DATE="${3:-2026-03-04T05:06:07+05:30}" \
		git -C "$1" commit -q --allow-empty -m "$2"
}

repo="$T_DIR/repo"
mkdir -p "$repo"
git -C "$repo" init -q -b trunk
printf '%s' "$PIPELINE" >"$repo/.gitlab-ci.yml"
git -C "$repo" remote add origin git@gitlab.example.com:group/sub/proj.git
git -C "$repo" add .gitlab-ci.yml

test_case "a root commit on a branch, in a timezone east of UTC"
commit "$repo" "first line

body line one
body line two

"
same "$repo" fast
expect_contains "$T_DIR/vars" "CI_COMMIT_BRANCH=trunk" "branch"
expect_contains "$T_DIR/vars" "CI_COMMIT_TIMESTAMP=2026-03-04T05:06:07+05:30" "timestamp"
expect_contains "$T_DIR/vars" "GITLAB_USER_NAME=Ann  Example" "user name"
expect_contains "$T_DIR/vars" "CI_COMMIT_AUTHOR=Ann  Example <ann@example.com>" "author"

test_case "a merge commit (two parents), west of UTC"
git -C "$repo" checkout -q -b side
commit "$repo" "on side" "2026-03-05T01:02:03-08:00"
git -C "$repo" checkout -q trunk
commit "$repo" "on trunk" "2026-03-05T02:02:03-08:00"
GIT_AUTHOR_DATE=2026-03-06T00:00:00-03:30 GIT_COMMITTER_DATE=2026-03-06T00:00:00-03:30 \
	git -C "$repo" merge -q --no-ff -m "merge side" side
same "$repo" fast
expect_contains "$T_DIR/vars" "CI_COMMIT_TITLE=merge side" "title"

test_case "packed objects: git is asked, and agrees"
git -C "$repo" gc -q
same "$repo" git

test_case "a detached HEAD: git is asked"
commit "$repo" "loose again"
git -C "$repo" checkout -q --detach HEAD
same "$repo" git

test_case "user.name with a comment: git is asked"
git -C "$repo" checkout -q trunk
printf '[user]\n\tname = Bob # not part of it\n' >>"$HOME/.gitconfig"
same "$repo" git
expect_contains "$T_DIR/vars" "GITLAB_USER_NAME=Bob" "user name as git reads it"

t_finish
