# GITLAB_USER_* come from the repository's git config (the login is the
# e-mail's local part, as gitlab-ci-local's); --variable overrides GITLAB_CI.
repo="$WORK/repo"
mkdir -p "$repo" && cp "$WORK/.gitlab-ci.yml" "$repo/" &&
git -C "$repo" init -q -b main &&
git -C "$repo" config user.email jane.doe@example.org &&
git -C "$repo" config user.name "Jane Doe" &&
git -C "$repo" add . && git -C "$repo" commit -q -m init || exit 1
"$CRUNNER" exec --cwd "$repo" >"$WORK/run.out" 2>&1 || { cat "$WORK/run.out"; exit 1; }
grep -qF "login=jane.doe email=jane.doe@example.org name=Jane Doe ci=false" "$WORK/run.out" ||
	{ cat "$WORK/run.out"; echo "GITLAB_USER_* or GITLAB_CI wrong"; exit 1; }
"$CRUNNER" exec --cwd "$repo" --variable GITLAB_CI=true >"$WORK/run.out" 2>&1 || { cat "$WORK/run.out"; exit 1; }
grep -qF "login=jane.doe email=jane.doe@example.org name=Jane Doe ci=true" "$WORK/run.out" ||
	{ cat "$WORK/run.out"; echo "--variable GITLAB_CI=true not honoured"; exit 1; }
