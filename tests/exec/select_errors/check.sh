grep -q "broken-rules" "$ERR" || { cat "$ERR"; exit 1; }
# without names the pipeline is refused, as GitLab refuses it
rc=0
"$CRUNNER" exec --cwd "$WORK" --list >"$WORK/o" 2>"$WORK/e" || rc=$?
[ "$rc" = 1 ] && grep -q "unknown keyword 'scirpt'" "$WORK/e" ||
	{ cat "$WORK/e"; exit 1; }
# a named job that needs a broken one is refused with that job's error
cat >>"$WORK/.gitlab-ci.yml" <<'YML'
uses-broken:
  stage: test
  needs: [broken-keyword]
  script: echo never
YML
rc=0
"$CRUNNER" exec --cwd "$WORK" uses-broken >"$WORK/o" 2>"$WORK/e" || rc=$?
[ "$rc" = 1 ] && grep -q "crunner: .*unknown keyword 'scirpt'" "$WORK/e" ||
	{ cat "$WORK/e"; exit 1; }
