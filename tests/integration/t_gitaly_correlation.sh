#!/usr/bin/env bash
# FF_USE_GITALY_CORRELATION_ID (on by default), as gitlab-runner's
# setupExternalGitConfig: get_sources prints "Gitaly correlation ID: X",
# X being the job request's correlation ID (GitLab's X-Request-Id answer),
# and git sends it to the repository server in X-Gitaly-Correlation-ID;
# FF_USE_GIT_BUNDLE_URIS (on by default) sets transfer.bundleURI in the
# same job-private config.  Off, neither.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
add_runner "$RUN_TOKEN"

make_upstream widget.git hello

# A dumb-HTTP git server that logs each request's path and the
# X-Gitaly-Correlation-ID header ("-" when absent).
"$PYTHON" - "$T_DIR/srv" "$T_DIR/git-http.log" >"$T_DIR/git-http.out" 2>&1 <<'PY' &
import functools, http.server, sys
root, log = sys.argv[1], sys.argv[2]
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        with open(log, "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("X-Gitaly-Correlation-ID", "-")))
        super().do_GET()
    def log_message(self, *a):
        pass
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(H, directory=root))
print("port", srv.server_address[1], flush=True)
srv.serve_forever()
PY
pid=$!
test_when_finished "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
for _ in $(seq 100); do
	port=$(awk '/^port/ {print $2}' "$T_DIR/git-http.out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || fail "the git server did not start: $(cat "$T_DIR/git-http.out")"

git_job() { # VARIABLES-JSON
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "clone",
	  "ref": "main", "sha": "'"$sha"'", "project_path": "acme/widget",
	  "variables": '"$1"',
	  "payload": {"git_info": {"repo_url": "http://gitlab-ci-token:JOBTOKEN@127.0.0.1:'"$port"'/widget.git",
	     "depth": 0, "refspecs": ["+refs/heads/main:refs/remotes/origin/main"]}},
	  "script": ["cat README", "echo \"bundleURI=$(git config transfer.bundleURI)\""]}'
}

test_case "default: the notice, the header on every git request, transfer.bundleURI"
: >"$T_DIR/git-http.log"
id=$(git_job '[]')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
cid=$(grep -o 'Gitaly correlation ID: [A-Za-z0-9_-]*' "$T_DIR/trace" | awk '{print $4}')
[ -n "$cid" ] || fail "no correlation ID notice: $(head -40 "$T_DIR/trace")"
expect_eq 32 "${#cid}" "the ID's length (GitLab's X-Request-Id here)"
grep -q '/widget.git/info/refs' "$T_DIR/git-http.log" || fail "git asked nothing: $(cat "$T_DIR/git-http.log")"
expect_eq "$cid" "$(awk '{print $2}' "$T_DIR/git-http.log" | sort -u)" "the header on every request"
expect_contains "$T_DIR/trace" "bundleURI=true" "transfer.bundleURI set"
expect_not_contains "$T_DIR/trace" "JOBTOKEN" "token nowhere"

test_case "FF_USE_GITALY_CORRELATION_ID=false, FF_USE_GIT_BUNDLE_URIS=false: neither"
: >"$T_DIR/git-http.log"
id=$(git_job '[{"key": "FF_USE_GITALY_CORRELATION_ID", "value": "false", "public": true, "masked": false},
  {"key": "FF_USE_GIT_BUNDLE_URIS", "value": "false", "public": true, "masked": false}]')
run_single --max-builds 1
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_not_contains "$T_DIR/trace" "Gitaly correlation ID" "no notice"
expect_eq "-" "$(awk '{print $2}' "$T_DIR/git-http.log" | sort -u)" "no header"
expect_not_contains "$T_DIR/trace" "bundleURI=true" "transfer.bundleURI unset"

t_finish
