#!/usr/bin/env bash
# crunner exec on the pipelines under tests/exec/<case>/: each case holds
#   .gitlab-ci.yml   the pipeline (plus any files it includes or tests)
#   args             extra command-line arguments (optional, one line)
#   expect           the exact summary lines, in order (optional)
#   rc               the expected exit code (default 0)
#   output           lines that must appear in the output (optional; runs
#                    of spaces count as one, as job names are padded)
#   stderr           lines that must appear on stderr (optional)
#   check.sh         more checks, run with OUT, ERR, REPORT, WORK set
# The case is copied to a scratch directory first (jobs write files), and
# run with --report-file so every case also checks the JSON report.
. "$(dirname "$0")/lib.sh"
# Kept builds dirs and caches go to the scenario's dir, not the home's.
export XDG_CACHE_HOME="$T_DIR/xdg-cache"

CASES="$CR_SOURCE_DIR/tests/exec"
n=0
for dir in "$CASES"/*/; do
	name=$(basename "$dir")
	test_case "exec: $name"
	work="$T_DIR/$name"
	mkdir -p "$work"
	cp -a "$dir/." "$work/"
	args=()
	[ -f "$dir/args" ] && read -r -a args <"$dir/args"
	rc=0
	(cd "$work" && "$CRUNNER" exec --concurrency 4 \
		--report-file "$T_DIR/$name.json" "${args[@]}") \
		>"$T_DIR/$name.out" 2>"$T_DIR/$name.err" || rc=$?
	want_rc=0
	[ -f "$dir/rc" ] && want_rc=$(cat "$dir/rc")
	if [ "$rc" != "$want_rc" ]; then
		cat "$T_DIR/$name.out" "$T_DIR/$name.err" >&2
		fail "exit code: expected $want_rc, got $rc"
	fi
	if [ -f "$dir/expect" ]; then
		grep -E '^ (PASS|WARN|FAIL|SKIP|MANUAL|CANCEL) ' "$T_DIR/$name.out" \
			>"$T_DIR/$name.summary" || true
		if ! diff -u "$dir/expect" "$T_DIR/$name.summary" >"$T_DIR/$name.diff"; then
			cat "$T_DIR/$name.out" "$T_DIR/$name.err" "$T_DIR/$name.diff" >&2
			fail "summary differs (expected vs actual above)"
		fi
	fi
	for kind in output stderr; do
		[ -f "$dir/$kind" ] || continue
		file="$T_DIR/$name.out"
		[ "$kind" = stderr ] && file="$T_DIR/$name.err"
		tr -s ' ' <"$file" >"$file.squeezed"
		while IFS= read -r line; do
			[ -n "$line" ] || continue
			line=$(printf '%s' "$line" | tr -s ' ')
			grep -qF -- "$line" "$file.squeezed" ||
				{ cat "$file" >&2; fail "$kind lacks: $line"; }
		done <"$dir/$kind"
	done
	if [ -f "$dir/check.sh" ]; then
		OUT="$T_DIR/$name.out" ERR="$T_DIR/$name.err" \
		REPORT="$T_DIR/$name.json" WORK="$work" PYTHON="$PYTHON" \
			bash "$dir/check.sh" || fail "check.sh failed"
	fi
	n=$((n + 1))
done
[ "$n" -gt 10 ] || fail "only $n cases found under $CASES"

test_case "exec: the bundled example runs and passes"
work="$T_DIR/example"
cp -a "$CR_SOURCE_DIR/examples" "$work"
rc=0
"$CRUNNER" exec --cwd "$work" >"$T_DIR/example.out" 2>&1 || rc=$?
expect_eq 0 "$rc" "exit code"
expect_contains "$T_DIR/example.out" " WARN  lint  pre_script" "allowed failure"
tr -s ' ' <"$T_DIR/example.out" >"$T_DIR/example.squeezed"
expect_contains "$T_DIR/example.squeezed" "unit: [macos] > testing on macos (2/2)" "matrix"

test_case "exec: --report json alone prints only JSON on stdout"
rc=0
"$CRUNNER" exec --cwd "$work" --report json >"$T_DIR/r.json" 2>"$T_DIR/r.err" || rc=$?
expect_eq 0 "$rc" "exit code"
"$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="success", d' "$T_DIR/r.json" ||
	fail "stdout is not the JSON report: $(head -3 "$T_DIR/r.json")"
expect_contains "$T_DIR/r.err" " PASS  build" "summary on stderr"

test_case "exec: a missing file is an error"
rc=0
"$CRUNNER" exec --cwd "$T_DIR" --file nope.yml >"$T_DIR/o" 2>"$T_DIR/e" || rc=$?
expect_eq 1 "$rc" "exit code"
expect_contains "$T_DIR/e" "cannot open" "message"

test_case "exec: bad flags are usage errors"
rc=0
"$CRUNNER" exec --concurrency 0 >"$T_DIR/o" 2>"$T_DIR/e" || rc=$?
expect_eq 2 "$rc" "exit code"
rc=0
"$CRUNNER" exec --variable NOEQUALS >"$T_DIR/o" 2>"$T_DIR/e" || rc=$?
expect_eq 2 "$rc" "exit code"

echo "t_exec: all cases passed"
