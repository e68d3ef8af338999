repo="$WORK/repo"
git_() { git -C "$repo" -c user.email=t@e -c user.name=t "$@" >/dev/null; }
mkdir -p "$repo/dist" && cp -a "$WORK/.gitlab-ci.yml" "$WORK/src" "$repo/" &&
echo js >"$repo/dist/app.js" && echo dist/ >"$repo/.gitignore" &&
echo gone >"$repo/gone.md" &&
git_ init -q -b main && git_ add . && git_ commit -q -m one &&
rm "$repo/gone.md" && mkdir -p "$repo/notes" && echo n >"$repo/notes/a.txt" || exit 1
"$CRUNNER" exec --cwd "$repo" --list >"$WORK/list" || exit 1
cut -d' ' -f1 "$WORK/list" | tail -n +2 | tr '\n' ' ' >"$WORK/names"
[ "$(cat "$WORK/names")" = "c-files src-dir untracked " ] || { cat "$WORK/list"; exit 1; }
