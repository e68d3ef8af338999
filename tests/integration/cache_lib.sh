# Shared by the remote cache helpers (cache_s3_lib.sh, cache_gcs_lib.sh,
# cache_azure_lib.sh), sourced by them: a job that caches vendor/, and a
# run of one job with fresh directories, so that whatever is restored came
# from the remote store.

# cache_job KEY POLICY SCRIPT [FALLBACK-KEYS-JSON]: the job's id.
cache_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": '"$3"',
  "payload": {"cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "'"$2"'", "when": "on_success", "fallback_keys": ['"${4:-}"']}]}}'
}

# CACHE_RUN_ENV: NAME=VALUE words for crunner's environment in run_job.
CACHE_RUN_ENV=()

# run_job ID [keep-cache]: runs one job with $T_DIR/config.toml, fresh
# builds and (unless keep-cache) fresh local cache directories; it must
# succeed, with no sanitizer report in run.err or its log ($T_DIR/trace).
run_job() {
	rm -rf "$T_DIR/builds"
	[ "${2:-}" = keep-cache ] || rm -rf "$T_DIR/cache"
	RUN_RC=0
	env "${CACHE_RUN_ENV[@]}" timeout 120 "$CRUNNER" run-single --config "$T_DIR/config.toml" \
		--max-builds 1 --check-interval 100ms --trace-interval 200ms \
		>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
	expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
	job_trace "$1" "$T_DIR/trace"
	! grep -q "Sanitizer" "$T_DIR/run.err" "$T_DIR/trace" ||
		fail "sanitizer report: $(grep -h -A20 Sanitizer "$T_DIR/run.err" "$T_DIR/trace" | head -40)"
	expect_eq success "$(job_field "$1" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
}
