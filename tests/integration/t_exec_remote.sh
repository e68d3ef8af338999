#!/usr/bin/env bash
# crunner exec with remote includes (remote, project, template, component)
# against the fake GitLab, which serves tests/exec_remote/server: the job
# sets they give, the token header, the include cache with --offline, and
# one clear error for each way a fetch fails.
. "$(dirname "$0")/lib.sh"
export XDG_CACHE_HOME="$T_DIR/xdg-cache"
unset CRUNNER_GITLAB_TOKEN GITLAB_TOKEN
TOKEN=glpat-fakegitlabReadToken

start_fakegitlab --content-dir "$CR_SOURCE_DIR/tests/exec_remote/server"
FQDN=${FAKE_URL#http://}

# new_project NAME: an empty project directory; prints its path.
new_project() {
	mkdir -p "$T_DIR/$1"
	echo "$T_DIR/$1"
}

# run_exec DIR ARGS...: crunner exec in DIR; output in $T_DIR/out, err, RC.
run_exec() {
	local dir=$1
	shift
	RC=0
	(cd "$dir" && timeout 60 "$CRUNNER" exec --cache-dir "$T_DIR/cache" "$@") \
		>"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
}

# jobs_listed: the job names of a --list output, sorted, one line.
jobs_listed() {
	awk 'NR > 1 { print $1 }' "$T_DIR/out" | sort | tr '\n' ' '
}

# requests ENDPOINT: the fake's log of one endpoint, as JSON.
requests() {
	fake_control GET "requests?endpoint=$1"
}

count_requests() {
	json_get "$(requests "$1")" 'len(d["requests"])'
}

test_case "every include form gives GitLab's job set"
p=$(new_project forms)
sum=$("$PYTHON" -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).decode())' \
	"$CR_SOURCE_DIR/tests/exec_remote/server/remote/common.yml")
cat >"$p/.gitlab-ci.yml" <<YML
include:
  - '$FAKE_URL/remote/plain.yml'
  - remote: \$CI_SERVER_URL/remote/common.yml
    integrity: sha256-$sum
  - project: Group/Tools
    file: [ci/build.yml, /ci/lint.yml]
  - project: group/tools
    ref: v2
    file: ci/build.yml
  - template: Demo.gitlab-ci.yml
  - component: \$CI_SERVER_FQDN/group/components/build@~latest
  - component: $FQDN/group/components/deploy@1
  - component: $FQDN/group/components/build@1.0.0
stages: [build, test, deploy]
own-job:
  script: echo own
YML
cat >"$p/from-remote.yml" <<'YML'
local-from-remote:
  script: echo the remote file included this local file
YML
run_exec "$p" --list --gitlab-url "$FAKE_URL"
[ "$RC" = 0 ] || fail "exit $RC: $(cat "$T_DIR/err")"
expect_eq "build-1.0.0 build-1.1.0 deploy-1.1.0 local-from-remote own-job plain-remote-job remote-job shared-1.1.0 template-job tools-build tools-build-v2 tools-lint tools-nested " \
	"$(jobs_listed)" "job set"
# ~latest is the highest semantic version, not the newest release (0.9.0)
# nor a pre-release (2.0.0-rc1); "1" is the highest 1.x.
paths=$(json_get "$(requests repository_file)" '" ".join(sorted(set(r["path"] + "?" + r["raw_query"] for r in d["requests"])))')
for want in "group%2Fcomponents/repository/files/templates%2Fbuild.yml/raw?ref=1.1.0" \
	"group%2Fcomponents/repository/files/templates%2Fdeploy%2Ftemplate.yml/raw?ref=1.1.0" \
	"group%2Ftools/repository/files/ci%2Fnested.yml/raw?ref=HEAD" \
	"group%2Ftools/repository/files/ci%2Flint.yml/raw?ref=HEAD"; do
	case " $paths " in *"$want "*) ;; *) fail "no request for $want in: $paths" ;; esac
done

test_case "the token goes to the GitLab API only, as PRIVATE-TOKEN, and is never printed"
fake_control DELETE requests >/dev/null
p=$(new_project private)
cat >"$p/.gitlab-ci.yml" <<YML
include:
  - project: group/private
    file: ci/secret.yml
  - remote: $FAKE_URL/remote/plain.yml
YML
run_exec "$p" --list --gitlab-url "$FAKE_URL"
expect_eq 1 "$RC" "exit code without a token"
expect_contains "$T_DIR/err" ".gitlab-ci.yml:2:5: include project 'group/private' file 'ci/secret.yml': cannot fetch $FAKE_URL/api/v4/projects/group%2Fprivate/repository/files/ci%2Fsecret.yml/raw?ref=HEAD: HTTP 404: 404 Project Not Found" "404 message"
expect_contains "$T_DIR/err" "give a token (--gitlab-token, \$CRUNNER_GITLAB_TOKEN or \$GITLAB_TOKEN)" "hint"
for how in env-crunner env-gitlab flag; do
	fake_control DELETE requests >/dev/null
	case $how in
	env-crunner) CRUNNER_GITLAB_TOKEN=$TOKEN run_exec "$p" --list --gitlab-url "$FAKE_URL" ;;
	env-gitlab) GITLAB_TOKEN=$TOKEN run_exec "$p" --list --gitlab-url "$FAKE_URL" ;;
	flag) GITLAB_TOKEN=wrong run_exec "$p" --list --gitlab-url "$FAKE_URL" --gitlab-token "$TOKEN" ;;
	esac
	[ "$RC" = 0 ] || fail "$how: exit $RC: $(cat "$T_DIR/err")"
	expect_eq "plain-remote-job secret-job " "$(jobs_listed)" "$how: job set"
	sent=$(json_get "$(requests repository_file)" '[v for r in d["requests"] for k, v in r["headers"] if k.lower() == "private-token"]')
	expect_eq "['$TOKEN']" "$sent" "$how: token header"
	sent=$(json_get "$(requests remote_file)" '[k for r in d["requests"] for k, v in r["headers"] if k.lower() == "private-token"]')
	expect_eq "[]" "$sent" "$how: no token to a remote URL"
done
run_exec "$p" --list --gitlab-url "$FAKE_URL" --gitlab-token glpat-notTheRightOne
expect_eq 1 "$RC" "exit code with a wrong token"
expect_contains "$T_DIR/err" "HTTP 401: 401 Unauthorized; the token was refused" "401 message"
expect_not_contains "$T_DIR/err" "glpat-notTheRightOne" "token printed"
expect_not_contains "$T_DIR/out" "glpat-notTheRightOne" "token printed"

test_case "a missing file, a server error and a timeout are one clear error each"
p=$(new_project errors)
cat >"$p/.gitlab-ci.yml" <<YML
job:
  script: echo
include:
  - project: group/tools
    ref: main
    file: ci/nope.yml
YML
run_exec "$p" --list --gitlab-url "$FAKE_URL"
expect_eq 1 "$RC" "exit code"
expect_eq 1 "$(wc -l <"$T_DIR/err")" "one line"
expect_contains "$T_DIR/err" ".gitlab-ci.yml:4:5: include project 'group/tools' file 'ci/nope.yml': cannot fetch $FAKE_URL/api/v4/projects/group%2Ftools/repository/files/ci%2Fnope.yml/raw?ref=main: HTTP 404: 404 File Not Found" "404"
cat >"$p/.gitlab-ci.yml" <<YML
job:
  script: echo
include: $FAKE_URL/remote/plain.yml
YML
fake_control POST faults '{"endpoint": "remote_file", "kind": "status", "status": 502}' >/dev/null
run_exec "$p" --list --gitlab-url "$FAKE_URL"
expect_eq 1 "$RC" "exit code on 502"
expect_contains "$T_DIR/err" ".gitlab-ci.yml:3:10: include remote '$FAKE_URL/remote/plain.yml': cannot fetch $FAKE_URL/remote/plain.yml: HTTP 502" "502"
expect_contains "$T_DIR/err" "or run with --offline to use the files fetched before" "offline hint"
fake_control POST faults '{"endpoint": "remote_file", "kind": "hang", "seconds": 8}' >/dev/null
start=$(date +%s)
run_exec "$p" --list --gitlab-url "$FAKE_URL" --include-timeout 1
took=$(($(date +%s) - start))
expect_eq 1 "$RC" "exit code on a timeout"
expect_contains "$T_DIR/err" "cannot fetch $FAKE_URL/remote/plain.yml: no answer: " "timeout"
[ "$took" -lt 6 ] || fail "the 1 s timeout took ${took} s"
fake_control DELETE faults >/dev/null
run_exec "$p" --list --gitlab-url "$FAKE_URL"
[ "$RC" = 0 ] || fail "exit $RC after the faults: $(cat "$T_DIR/err")"

test_case "a remote URL may redirect, as GitLab follows; the API is never followed"
p=$(new_project redirect)
cat >"$p/.gitlab-ci.yml" <<YML
include:
  - remote: $FAKE_URL/remote/moved/plain.yml
YML
fake_control POST faults "{\"endpoint\": \"remote_file\", \"kind\": \"status\", \"status\": 302, \"body\": \"\", \"headers\": {\"Location\": \"$FAKE_URL/remote/plain.yml\"}}" >/dev/null
fake_control DELETE requests >/dev/null
run_exec "$p" --list --gitlab-url "$FAKE_URL"
[ "$RC" = 0 ] || fail "exit $RC: $(cat "$T_DIR/err")"
expect_eq "plain-remote-job " "$(jobs_listed)" "job set"
expect_eq "['/remote/moved/plain.yml', '/remote/plain.yml']" \
	"$(json_get "$(requests remote_file)" '[r["path"] for r in d["requests"]]')" "requests"
cat >"$p/.gitlab-ci.yml" <<YML
include:
  - project: group/tools
    file: ci/lint.yml
YML
fake_control POST faults "{\"endpoint\": \"repository_file\", \"kind\": \"status\", \"status\": 302, \"body\": \"\", \"headers\": {\"Location\": \"$FAKE_URL/remote/plain.yml\"}}" >/dev/null
run_exec "$p" --list --gitlab-url "$FAKE_URL" --gitlab-token "$TOKEN"
expect_eq 1 "$RC" "a redirected API request"
expect_contains "$T_DIR/err" "HTTP 302" "message"
fake_control DELETE faults >/dev/null

test_case "a second run with --offline reads the cache and asks no server"
fake_control DELETE requests >/dev/null
run_exec "$T_DIR/forms" --list --offline --gitlab-url "$FAKE_URL"
[ "$RC" = 0 ] || fail "exit $RC: $(cat "$T_DIR/err")"
expect_eq "build-1.0.0 build-1.1.0 deploy-1.1.0 local-from-remote own-job plain-remote-job remote-job shared-1.1.0 template-job tools-build tools-build-v2 tools-lint tools-nested " \
	"$(jobs_listed)" "job set from the cache"
expect_eq 0 "$(json_get "$(fake_control GET requests)" 'len(d["requests"])')" "requests while offline"
ls "$T_DIR/cache/includes/" | grep -q '\.yml$' || fail "no cached files under --cache-dir/includes"
[ "$(stat -c %a "$(ls -d "$T_DIR"/cache/includes/*.yml | head -1)")" = 600 ] || fail "cached file mode"
RC=0
(cd "$T_DIR/forms" && "$CRUNNER" exec --list --offline --gitlab-url "$FAKE_URL" \
	--cache-dir "$T_DIR/empty-cache") >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
expect_eq 1 "$RC" "offline with an empty cache"
expect_contains "$T_DIR/err" "cannot fetch $FAKE_URL/remote/plain.yml: not in the include cache $T_DIR/empty-cache/includes/" "cache miss"
expect_contains "$T_DIR/err" "; run once without --offline to fetch it" "cache miss hint"

test_case "include cycles stop at GitLab's 150 includes"
p=$(new_project cycle)
cat >"$p/.gitlab-ci.yml" <<'YML'
include: $CI_SERVER_URL/remote/cycle-a.yml
job:
  script: echo
YML
run_exec "$p" --list --gitlab-url "$FAKE_URL"
expect_eq 1 "$RC" "exit code"
expect_contains "$T_DIR/err" "maximum of 150 nested includes are allowed (is there an include cycle?)" "limit"
expect_eq 150 "$(count_requests remote_file)" "files fetched before the limit"

test_case "150 included files are allowed, 151 are not"
p=$(new_project count)
{
	echo "include:"
	for i in $(seq 150); do echo "  - local: inc/$i.yml"; done
	echo "job:"
	echo "  script: echo"
} >"$p/.gitlab-ci.yml"
mkdir -p "$p/inc"
for i in $(seq 151); do printf 'job-%s:\n  script: echo\n' "$i" >"$p/inc/$i.yml"; done
run_exec "$p" --list
[ "$RC" = 0 ] || fail "150 includes: exit $RC: $(cat "$T_DIR/err")"
sed -i 's/^  - local: inc\/150.yml$/  - local: inc\/150.yml\n  - local: inc\/151.yml/' "$p/.gitlab-ci.yml"
run_exec "$p" --list
expect_eq 1 "$RC" "151 includes"
expect_contains "$T_DIR/err" "maximum of 150 nested includes are allowed" "limit"

test_case "include rules leave a remote include out before anything is fetched"
fake_control DELETE requests >/dev/null
p=$(new_project rules)
cat >"$p/.gitlab-ci.yml" <<YML
include:
  - project: group/tools
    file: ci/lint.yml
    rules:
      - if: \$WITH_LINT == "yes"
job:
  script: echo
YML
run_exec "$p" --list --gitlab-url "$FAKE_URL"
[ "$RC" = 0 ] || fail "exit $RC: $(cat "$T_DIR/err")"
expect_eq "job " "$(jobs_listed)" "without the variable"
expect_eq 0 "$(count_requests repository_file)" "fetches"
run_exec "$p" --list --gitlab-url "$FAKE_URL" --variable WITH_LINT=yes
expect_eq "job tools-lint " "$(jobs_listed)" "with the variable"

test_case "the instance comes from the origin remote"
p=$(new_project origin)
git -C "$p" init -q
git -C "$p" remote add origin "$FAKE_URL/me/app.git"
cat >"$p/.gitlab-ci.yml" <<'YML'
include:
  - template: Demo.gitlab-ci.yml
YML
run_exec "$p" --list
[ "$RC" = 0 ] || fail "exit $RC: $(cat "$T_DIR/err")"
expect_eq "template-job " "$(jobs_listed)" "job set"
cat >>"$p/.gitlab-ci.yml" <<'YML'
server:
  stage: test
  script: echo "server=$CI_SERVER_URL fqdn=$CI_SERVER_FQDN api=$CI_API_V4_URL"
YML
run_exec "$p" --executor shell server
[ "$RC" = 0 ] || fail "exit $RC: $(cat "$T_DIR/out" "$T_DIR/err")"
expect_contains "$T_DIR/out" "server=$FAKE_URL fqdn=$FQDN api=$FAKE_URL/api/v4" "CI_SERVER_* of the origin's server"
git -C "$p" remote set-url origin /some/local/path.git
run_exec "$p" --list
expect_eq 1 "$RC" "a local origin"
expect_contains "$T_DIR/err" ".gitlab-ci.yml:2:5: include template 'Demo.gitlab-ci.yml': cannot tell which GitLab server to ask: the origin remote '/some/local/path.git' does not name a GitLab server; give it with --gitlab-url" "message"
git -C "$p" remote remove origin
run_exec "$p" --list
expect_contains "$T_DIR/err" "cannot tell which GitLab server to ask: the repository has no origin remote; give it with --gitlab-url" "no origin"

test_case "a mirror's origin on github.com names no instance; a component address names its own"
git -C "$p" remote add origin https://github.com/me/app.git
run_exec "$p" --list --offline
expect_eq 1 "$RC" "a github.com origin"
expect_contains "$T_DIR/err" "include template 'Demo.gitlab-ci.yml': cannot tell which GitLab server to ask: the origin remote is on github.com, which is not a GitLab server (a mirror?); give it with --gitlab-url" "message"
cat >"$p/.gitlab-ci.yml" <<'YML'
include:
  - component: gitlab.example.org/group/components/build@1.0.0
YML
# --offline: the cache is asked for the address's instance, no server is.
run_exec "$p" --list --offline
expect_eq 1 "$RC" "nothing cached"
expect_contains "$T_DIR/err" "include component 'gitlab.example.org/group/components/build@1.0.0': cannot fetch https://gitlab.example.org/api/v4/projects/group%2Fcomponents/repository/files/templates%2Fbuild%2Ftemplate.yml/raw?ref=1.0.0: not in the include cache" "the component's instance"
git -C "$p" remote remove origin

test_case "malformed includes are refused with GitLab's reasons"
p=$(new_project malformed)
check_error() { # YAML-entry expected-text
	printf 'job:\n  script: echo\ninclude:\n  - %s\n' "$1" >"$p/.gitlab-ci.yml"
	run_exec "$p" --list --gitlab-url "$FAKE_URL"
	expect_eq 1 "$RC" "exit code for $1"
	expect_contains "$T_DIR/err" "$2" "message for $1"
}
check_error "remote: $FAKE_URL/remote/plain.txt" "included file \`$FAKE_URL/remote/plain.txt\` does not have YAML extension!"
check_error "remote: ftp://example.com/a.yml" "remote file \`ftp://example.com/a.yml\` does not have a valid address!"
check_error "template: Demo.yml" "template file \`Demo.yml\` is not a valid location!"
check_error "{project: group/tools}" "include project 'group/tools': must specify the file where to fetch the config from"
check_error "{remote: $FAKE_URL/remote/plain.yml, template: Demo.gitlab-ci.yml}" "each include must use only one of:"
check_error "{remote: $FAKE_URL/remote/plain.yml, bogus: 1}" "include: unknown keyword 'bogus'"
check_error "component: gitlab.example.com/group/components/build@1.0.0" "component 'gitlab.example.com/group/components/build@1.0.0' - the component path is not supported"
check_error "component: $FQDN/group/components/nope@1.0.0" "include component '$FQDN/group/components/nope@1.0.0': cannot fetch $FAKE_URL/api/v4/projects/group%2Fcomponents/repository/files/templates%2Fnope%2Ftemplate.yml/raw?ref=1.0.0: HTTP 404: 404 File Not Found"
check_error "component: $FQDN/group/tools/x@~latest" "The ~latest version reference needs a release with a semantic version"
check_error "{artifact: generated.yml, job: gen}" "crunner exec does not have"
check_error "{remote: $FAKE_URL/remote/plain.yml, integrity: sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=}" \
	"include remote '$FAKE_URL/remote/plain.yml': the file does not match its integrity: it is sha256-TFrgaHRBD0M/7RznffwLQ0LEsG0UlvaR2CdAZfeAlY4=, integrity says sha256-AAAA"

echo "t_exec_remote: all cases passed"
