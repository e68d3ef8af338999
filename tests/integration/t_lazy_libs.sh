#!/usr/bin/env bash
# libcurl and libmicrohttpd are loaded when they are first needed
# (CR_LAZY_CURL, CR_LAZY_MHD): a local `crunner exec` never maps them,
# run-single and the metrics listener still work, loading them on demand.
# libnghttp2 (CR_LAZY_NGHTTP2) waits for a fleeting plugin's gRPC
# connection: t_autoscale_plugin drives that path.  zlib, libpcre2-8 and
# libfyaml (CR_LAZY_ZLIB, CR_LAZY_PCRE2, CR_LAZY_FYAML) are loaded by what
# uses them, so an idle `crunner run` maps libc and libjansson only.
. "$(dirname "$0")/lib.sh"

lazy() { # OPTION: whether the build under test has it on
	grep -q "^$1:BOOL=ON" "$CR_BUILD_DIR/CMakeCache.txt" 2>/dev/null
}
if ! lazy CR_LAZY_CURL || ! lazy CR_LAZY_MHD; then
	skip_scenario "built without CR_LAZY_CURL / CR_LAZY_MHD"
fi

# LD_DEBUG=libs COMMAND...: what the dynamic loader loaded, in $T_DIR/ld.*
loaded_libs() {
	rm -f "$T_DIR"/ld.*
	LD_DEBUG=libs LD_DEBUG_OUTPUT="$T_DIR/ld" "$@"
}

test_case "the binary does not list libcurl or libmicrohttpd as needed"
if command -v readelf >/dev/null; then
	readelf -d "$CRUNNER" >"$T_DIR/dyn" || fail "readelf: exit code $?"
	expect_contains "$T_DIR/dyn" "libc.so" "a NEEDED entry"
	expect_not_contains "$T_DIR/dyn" "libcurl" "libcurl in DT_NEEDED"
	expect_not_contains "$T_DIR/dyn" "libmicrohttpd" "libmicrohttpd in DT_NEEDED"
	expect_not_contains "$T_DIR/dyn" "libcrypto" "libcrypto in DT_NEEDED (GCS signing loads it)"
	expect_not_contains "$T_DIR/dyn" "libssh" "libssh in DT_NEEDED (the first SSH session loads it)"
	if lazy CR_LAZY_NGHTTP2; then
		expect_not_contains "$T_DIR/dyn" "libnghttp2" "libnghttp2 in DT_NEEDED (the first fleeting plugin connection loads it)"
	fi
	if lazy CR_LAZY_LIBARCHIVE; then
		# libzstd only for writing a zipzstd cache (src/archive/zstd_dl.c).
		expect_not_contains "$T_DIR/dyn" "libarchive" "libarchive in DT_NEEDED"
		expect_not_contains "$T_DIR/dyn" "libzstd" "libzstd in DT_NEEDED"
	fi
	if lazy CR_LAZY_ZLIB && lazy CR_LAZY_PCRE2 && lazy CR_LAZY_FYAML; then
		expect_not_contains "$T_DIR/dyn" "libz.so" "zlib in DT_NEEDED"
		expect_not_contains "$T_DIR/dyn" "libpcre2" "libpcre2-8 in DT_NEEDED"
		expect_not_contains "$T_DIR/dyn" "libfyaml" "libfyaml in DT_NEEDED"
		# An optimised build inlines the two ceil() calls (manager, autoscaler);
		# -O0 calls libm's.
		case $(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$CR_BUILD_DIR/CMakeCache.txt") in
		Release | RelWithDebInfo | MinSizeRel)
			expect_not_contains "$T_DIR/dyn" "libm.so" "libm in DT_NEEDED (nothing of crunner's own needs it)"
			;;
		esac
	fi
else
	skip_case "no readelf"
fi

test_case "exec of a local shell pipeline loads neither"
proj="$T_DIR/proj"
mkdir -p "$proj"
cat >"$proj/.gitlab-ci.yml" <<'EOF'
build:
  script: [echo built]
EOF
git -C "$proj" init -q -b main
(cd "$proj" && loaded_libs "$CRUNNER" exec --list >"$T_DIR/list" 2>"$T_DIR/err") ||
	fail "exec --list: exit code $?: $(cat "$T_DIR/err")"
expect_contains "$T_DIR/list" "build" "listed job"
cat "$T_DIR"/ld.* >"$T_DIR/ld-list"
expect_contains "$T_DIR/ld-list" "libc.so.6" "the loader's log"
expect_not_contains "$T_DIR/ld-list" "libcurl" "libcurl loaded by exec --list"
expect_not_contains "$T_DIR/ld-list" "libmicrohttpd" "libmicrohttpd loaded by exec --list"
if lazy CR_LAZY_NGHTTP2; then
	expect_not_contains "$T_DIR/ld-list" "libnghttp2" "libnghttp2 loaded by exec --list"
fi
(cd "$proj" && loaded_libs "$CRUNNER" exec >"$T_DIR/run" 2>&1) ||
	fail "exec: exit code $?: $(cat "$T_DIR/run")"
expect_contains "$T_DIR/run" "built" "the job's output"
cat "$T_DIR"/ld.* >"$T_DIR/ld-exec"
expect_not_contains "$T_DIR/ld-exec" "libcurl" "libcurl loaded by exec"
if lazy CR_LAZY_FYAML; then
	expect_contains "$T_DIR/ld-exec" "libfyaml.so.0" "libfyaml loaded to read .gitlab-ci.yml"
fi
if lazy CR_LAZY_NGHTTP2; then
	expect_not_contains "$T_DIR/ld-exec" "libnghttp2" "libnghttp2 loaded by exec"
fi

test_case "run-single loads libcurl when it asks GitLab for a job"
start_fakegitlab
add_runner "$RUN_TOKEN"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo lazy-hello"]}')
RUN_RC=0
loaded_libs timeout 120 "$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" \
	--builds-dir "$T_DIR/builds" --check-interval 100ms --max-builds 1 \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
expect_eq 0 "$RUN_RC" "run-single exit code"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "lazy-hello" "the job's output in GitLab's log"
cat "$T_DIR"/ld.* >"$T_DIR/ld-run"
expect_contains "$T_DIR/ld-run" "libcurl.so.4" "libcurl loaded on demand"
if lazy CR_LAZY_ZLIB; then
	# For the job log's checksum (job/crc32.c).
	expect_contains "$T_DIR/ld-run" "libz.so.1" "zlib loaded on demand"
	expect_eq True "$(job_field "$id" 'd["checksum_ok"]')" "the log's checksum"
fi

test_case "crunner run serves metrics, loading libmicrohttpd on demand"
cfg="$T_DIR/config.toml"
cat >"$cfg" <<EOF
concurrent = 1
check_interval = 1
listen_address = "127.0.0.1:0"
log_level = "info"
EOF
rm -f "$T_DIR"/ld.*
LD_DEBUG=libs LD_DEBUG_OUTPUT="$T_DIR/ld" "$CRUNNER" run --config "$cfg" \
	>"$T_DIR/srv.out" 2>"$T_DIR/srv.log" &
srv=$!
test_when_finished "kill -KILL $srv 2>/dev/null; wait $srv 2>/dev/null"
for ((i = 0; i < 100; i++)); do
	grep -q 'metrics server listening on' "$T_DIR/srv.log" && break
	sleep 0.1
done
addr=$(grep -o 'metrics server listening on [0-9.:]*' "$T_DIR/srv.log" | head -1 | sed 's/.* on //')
[ -n "$addr" ] || fail "no metrics address in the log: $(cat "$T_DIR/srv.log")"
curl -sS --fail "http://$addr/metrics" >"$T_DIR/metrics" || fail "cannot scrape http://$addr/metrics"
expect_contains "$T_DIR/metrics" "gitlab_runner_" "a metric"
cat "$T_DIR"/ld.* >"$T_DIR/ld-srv"
expect_contains "$T_DIR/ld-srv" "libmicrohttpd.so.12" "libmicrohttpd loaded on demand"

test_case "an idle crunner run maps libc and libjansson, nothing more"
if ! lazy CR_LAZY_ZLIB || ! lazy CR_LAZY_PCRE2 || ! lazy CR_LAZY_FYAML; then
	skip_case "built without CR_LAZY_ZLIB / CR_LAZY_PCRE2 / CR_LAZY_FYAML"
else
	cat >"$cfg" <<EOF
concurrent = 1
check_interval = 1
log_level = "info"
[[runners]]
  name = "idle"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
EOF
	fake_control DELETE requests >/dev/null || fail "cannot clear the request log"
	"$CRUNNER" run --config "$cfg" >"$T_DIR/idle.out" 2>"$T_DIR/idle.log" &
	idle=$!
	test_when_finished "kill -KILL $idle 2>/dev/null; wait $idle 2>/dev/null"
	fake_control POST requests/wait '{"endpoint": "request", "count": 2, "timeout": 20, "body": false}' \
		>/dev/null || fail "the idle runner did not poll twice: $(tail -5 "$T_DIR/idle.log")"
	# The shared objects mapped, by name up to ".so", less the dynamic
	# loader and, in a sanitized build, the sanitizer runtimes and what
	# they need.
	sanitized=
	readelf -d "$CRUNNER" 2>/dev/null | grep -q 'libasan\|libubsan' && sanitized=1
	awk '$6 ~ /\.so/ { n = split($6, p, "/"); sub(/\.so.*/, "", p[n]); print p[n] }' \
		"/proc/$idle/maps" | sort -u | grep -v '^ld-linux' |
		if [ -n "$sanitized" ]; then grep -Ev '^lib(asan|ubsan|stdc\+\+|gcc_s|m)$'; else cat; fi \
			>"$T_DIR/idle-libs"
	printf '%s\n' libc libjansson >"$T_DIR/idle-want"
	diff -u "$T_DIR/idle-want" "$T_DIR/idle-libs" >"$T_DIR/idle.diff" ||
		fail "an idle runner maps other libraries: $(cat "$T_DIR/idle.diff")"
	kill -KILL "$idle" 2>/dev/null
	wait "$idle" 2>/dev/null
fi

t_finish
