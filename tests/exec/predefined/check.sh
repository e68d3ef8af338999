repo="$WORK/repo"
git_() { git -C "$repo" -c user.email=t@e -c user.name=t "$@" >/dev/null; }
mkdir -p "$repo" && cp "$WORK/.gitlab-ci.yml" "$repo/" &&
git_ init -q -b main && git_ add . &&
git_ commit -q -m "Add the feature" -m "With a body." &&
git_ remote add origin git@gitlab.example.com:group/sub/proj.git &&
git_ update-ref refs/remotes/origin/trunk HEAD &&
git_ symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/trunk &&
git_ checkout -q -b Feature/X-1 || exit 1
sha=$(git -C "$repo" rev-parse HEAD)
expect() {
	grep -qxF "job > $1" "$WORK/run.out" || { cat "$WORK/run.out"; echo "missing: $1"; exit 1; }
}
"$CRUNNER" exec --cwd "$repo" >"$WORK/run.out" 2>&1 || { cat "$WORK/run.out"; exit 1; }
expect "sha=$sha short=${sha:0:8}"
expect "branch=Feature/X-1 tag=unset"
expect "ref=Feature/X-1 slug=feature-x-1"
expect "title=Add the feature"
expect "default=trunk"
expect "project=proj path=group/sub/proj ns=group/sub"
expect "job=job stage=build source=push"
# The same when git itself is asked (GIT_CONFIG_COUNT turns off the
# reading of .git's files), with packed refs.
git_ pack-refs --all || exit 1
"$CRUNNER" exec --cwd "$repo" >"$WORK/files.out" 2>&1 &&
GIT_CONFIG_COUNT=0 "$CRUNNER" exec --cwd "$repo" >"$WORK/git.out" 2>&1 &&
diff <(grep -v ' finished in ' "$WORK/files.out") \
	<(grep -v ' finished in ' "$WORK/git.out") >&2 || exit 1
# A detached HEAD on a tag: the tag is the ref.
git_ tag v1.2 && git_ checkout -q --detach || exit 1
"$CRUNNER" exec --cwd "$repo" >"$WORK/run.out" 2>&1 || { cat "$WORK/run.out"; exit 1; }
expect "branch=unset tag=v1.2"
expect "ref=v1.2 slug=v1-2"
