# A repository: main has src/a.c, docs/x.md and lib/l.sh; branch feature
# changes lib/l.sh, then src/a.c (its last commit); new.txt is untracked.
repo="$WORK/repo"
git_() { git -C "$repo" -c user.email=t@e -c user.name=t "$@" >/dev/null; }
mkdir -p "$repo/src" "$repo/docs" "$repo/lib" &&
cp "$WORK/.gitlab-ci.yml" "$repo/" &&
echo a >"$repo/src/a.c" && echo x >"$repo/docs/x.md" && echo l >"$repo/lib/l.sh" &&
git_ init -q -b main && git_ add . && git_ commit -q -m one &&
git_ checkout -q -b feature &&
echo l2 >"$repo/lib/l.sh" && git_ commit -q -am two &&
echo a2 >"$repo/src/a.c" && git_ commit -q -am three &&
echo new >"$repo/new.txt" || exit 1
"$CRUNNER" exec --cwd "$repo" --list --variable BASE=main >"$WORK/list" || exit 1
cut -d' ' -f1 "$WORK/list" | tail -n +2 | tr '\n' ' ' >"$WORK/names"
[ "$(cat "$WORK/names")" = "src-changed lib-since-main txt-since-base only-changes " ] ||
	{ cat "$WORK/list"; exit 1; }
# compare_to with a ref git does not know: an error naming the rule.
rc=0
"$CRUNNER" exec --cwd "$repo" --list --variable BASE=nope >"$WORK/o" 2>"$WORK/e" || rc=$?
[ "$rc" = 1 ] &&
grep -qF ".gitlab-ci.yml:30:9: job 'txt-since-base': rules:changes:compare_to 'nope' is not a valid ref" "$WORK/e" ||
	{ cat "$WORK/e"; exit 1; }
# The first commit of a repository: its files are its change.
first="$WORK/first"
mkdir -p "$first/src" && cp "$WORK/.gitlab-ci.yml" "$first/" && echo a >"$first/src/a.c" &&
git -C "$first" init -q -b main && git -C "$first" add . &&
git -C "$first" -c user.email=t@e -c user.name=t commit -q -m one || exit 1
"$CRUNNER" exec --cwd "$first" --list --variable BASE=main >"$WORK/list1" || exit 1
grep -q '^src-changed ' "$WORK/list1" && ! grep -q '^docs-changed ' "$WORK/list1" ||
	{ cat "$WORK/list1"; exit 1; }
