#!/usr/bin/env bash
# gitlab-runner's register and run-single flags and variables (every row of
# src/cli/runner_flags_table.c): each written to config.toml at its key;
# --template-config; a scripted registration as gitlab-runner's docs write
# it; run-single -r.
. "$(dirname "$0")/lib.sh"

start_fakegitlab

test_case "every flag and every variable lands at its config.toml key"
"$PYTHON" "$(dirname "$0")/register_flags_check.py" "$CRUNNER" "$FAKE_URL" \
	"$T_DIR/rows" >"$T_DIR/rows.out" 2>&1 || fail "$(tail -40 "$T_DIR/rows.out")"
tail -1 "$T_DIR/rows.out"

# cr ARGS...: crunner without a terminal; output in $T_DIR/out, err; RC.
cr() {
	RC=0
	timeout 60 "$CRUNNER" "$@" </dev/null >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
}

# toml_get FILE EXPR: EXPR over the parsed file as d, r for its last runner.
toml_get() {
	"$PYTHON" -c '
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
r = d["runners"][-1] if d.get("runners") else None
print(eval(sys.argv[2]))' "$1" "$2"
}

n_token=0
new_token() { # a glrt- token GitLab knows, in TOKEN
	n_token=$((n_token + 1))
	TOKEN=glrt-t1_regflagsScript$(printf %04d $n_token)
	add_runner "$TOKEN"
}

test_case "gitlab-runner's docs: a template with docker services (CE integration tests)"
cat >"$T_DIR/test-config.template.toml" <<'TOML'
[[runners]]
[runners.docker]
[[runners.docker.services]]
name = "mysql:latest"
[[runners.docker.services]]
name = "redis:latest"

TOML
new_token
CFG=$T_DIR/ce/config.toml
cr register \
	--non-interactive \
	--url "$FAKE_URL" \
	--token "$TOKEN" \
	--template-config "$T_DIR/test-config.template.toml" \
	--description "gitlab-ce-ruby-3.1" \
	--executor "docker" \
	--docker-image ruby:3.1 \
	-c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_contains "$T_DIR/err" "Merging configuration from template file" "template message"
expect_eq gitlab-ce-ruby-3.1 "$(toml_get "$CFG" 'r["name"]')" "name from --description"
expect_eq ruby:3.1 "$(toml_get "$CFG" 'r["docker"]["image"]')" "image"
expect_eq "['mysql:latest', 'redis:latest']" \
	"$(toml_get "$CFG" '[s["name"] for s in r["docker"]["services"]]')" "services from the template"
expect_eq "['/cache']" "$(toml_get "$CFG" 'r["docker"]["volumes"]')" "cache volume added"

test_case "gitlab-runner's docs: a kubernetes template with volumes crunner does not model"
cat >"$T_DIR/k8s.template.toml" <<'TOML'
[[runners]]
  [runners.kubernetes]
  [runners.kubernetes.volumes]
    [[runners.kubernetes.volumes.empty_dir]]
      name = "empty_dir"
      mount_path = "/path/to/empty_dir"
      medium = "Memory"
TOML
new_token
CFG=$T_DIR/k8s/config.toml
cr register --template-config "$T_DIR/k8s.template.toml" --non-interactive \
	--url "$FAKE_URL" --token "$TOKEN" --name test-runner --executor kubernetes \
	--kubernetes-host "http://localhost:9876/" \
	--kubernetes-host_aliases '[{"ip":"192.168.1.100","hostnames":["myservice.local"]},{"ip":"192.168.1.101","hostnames":["otherservice.local"]}]' \
	-c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq kubernetes "$(toml_get "$CFG" 'r["executor"]')" "executor"
expect_eq http://localhost:9876/ "$(toml_get "$CFG" 'r["kubernetes"]["host"]')" "kubernetes host"
expect_eq "[{'name': 'empty_dir', 'mount_path': '/path/to/empty_dir', 'medium': 'Memory'}]" \
	"$(toml_get "$CFG" 'r["kubernetes"]["volumes"]["empty_dir"]')" "template volumes"
expect_eq "['myservice.local'] ['otherservice.local']" \
	"$(toml_get "$CFG" '" ".join(str(a["hostnames"]) for a in r["kubernetes"]["host_aliases"])')" "host aliases from JSON"
expect_eq False "$(toml_get "$CFG" '"docker" in r')" "no docker section for kubernetes"

test_case "template values fill only what flags and variables left unset"
cat >"$T_DIR/prec.template.toml" <<TOML
[[runners]]
  name = "from-template"
  url = "http://127.0.0.1:1/not-used"
  token = "glrt-t1_templateTokenIgnored"
  executor = "docker"
  limit = 5
  output_limit = 0
  environment = ["FROM_TEMPLATE=1"]
  [runners.docker]
    image = "template-image"
    privileged = true
    memory = "256m"
  [runners.cache]
    Type = "s3"
    [runners.cache.s3]
      BucketName = "template-bucket"
TOML
new_token
CFG=$T_DIR/prec/config.toml
RC=0
TEMPLATE_CONFIG_FILE=$T_DIR/prec.template.toml CI_SERVER_URL=$FAKE_URL \
	DOCKER_MEMORY=1g timeout 60 "$CRUNNER" register -n --token "$TOKEN" \
	--executor docker --docker-image flag-image --cache-s3-bucket-name flag-bucket \
	--output-limit 8192 -c "$CFG" </dev/null >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq "$FAKE_URL" "$(toml_get "$CFG" 'r["url"]')" "url from the variable, not the template"
expect_eq "$TOKEN" "$(toml_get "$CFG" 'r["token"]')" "the template's token is dropped"
expect_eq "$(hostname)" "$(toml_get "$CFG" 'r["name"]')" "the host name is set before the template, as gitlab-runner's"
expect_eq 5 "$(toml_get "$CFG" 'r["limit"]')" "limit from the template"
expect_eq 8192 "$(toml_get "$CFG" 'r["output_limit"]')" "output_limit from the flag"
expect_eq "['FROM_TEMPLATE=1']" "$(toml_get "$CFG" 'r["environment"]')" "environment from the template"
expect_eq flag-image "$(toml_get "$CFG" 'r["docker"]["image"]')" "image from the flag"
expect_eq True "$(toml_get "$CFG" 'r["docker"]["privileged"]')" "privileged from the template"
expect_eq 1g "$(toml_get "$CFG" 'r["docker"]["memory"]')" "memory from the variable"
expect_eq s3 "$(toml_get "$CFG" 'r["cache"]["Type"]')" "cache type from the template"
expect_eq flag-bucket "$(toml_get "$CFG" 'r["cache"]["s3"]["BucketName"]')" "bucket from the flag"

test_case "a template with two runners, or a bad value, is refused before GitLab is asked"
printf '[[runners]]\nname = "a"\n[[runners]]\nname = "b"\n' >"$T_DIR/two.toml"
new_token
cr register -n --url "$FAKE_URL" --token "$TOKEN" --executor shell \
	--template-config "$T_DIR/two.toml" -c "$T_DIR/two/config.toml"
expect_eq 2 "$RC" "exit code"
expect_contains "$T_DIR/err" "exactly one [[runners]] entry" "message"
printf '[[runners]]\nlimit = "many"\n' >"$T_DIR/bad.toml"
cr register -n --url "$FAKE_URL" --token "$TOKEN" --executor shell \
	--template-config "$T_DIR/bad.toml" -c "$T_DIR/two/config.toml"
expect_eq 2 "$RC" "exit code for a bad value"
expect_contains "$T_DIR/err" "bad.toml:2" "file:line of the bad value"
[ ! -e "$T_DIR/two/config.toml" ] || fail "config.toml written after a refused template"

test_case "gitlab-runner's docs: legacy registration with many flags"
CFG=$T_DIR/legacy/config.toml
cr register \
	--non-interactive \
	--url "$FAKE_URL" \
	--registration-token "GR1348941fakegitlabRegToken" \
	--executor "docker" \
	--docker-image alpine:latest \
	--description "docker-runner" \
	--maintenance-note "Free-form maintainer notes about this runner" \
	--tag-list "docker,aws" \
	--run-untagged="true" \
	--locked="false" \
	--access-level="not_protected" \
	--docker-pull-policy "if-not-present" \
	--docker-volumes /srv/a:/a --docker-volumes /srv/b:/b \
	--docker-sysctls net.ipv4.ip_forward:1 \
	--env A=1 --env B=2 \
	--feature-flags FF_TIMESTAMPS \
	--cache-type s3 --cache-s3-bucket-name runner-cache \
	--cache-s3-authentication_type=iam \
	-c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq docker-runner "$(toml_get "$CFG" 'r["name"]')" "name"
expect_eq "['if-not-present']" "$(toml_get "$CFG" 'r["docker"]["pull_policy"]')" "pull_policy"
expect_eq "['/srv/a:/a', '/srv/b:/b', '/cache']" "$(toml_get "$CFG" 'r["docker"]["volumes"]')" "repeated volumes"
expect_eq "{'net.ipv4.ip_forward': '1'}" "$(toml_get "$CFG" 'r["docker"]["sysctls"]')" "sysctls key:value"
expect_eq "['A=1', 'B=2']" "$(toml_get "$CFG" 'r["environment"]')" "environment"
expect_eq True "$(toml_get "$CFG" 'r["feature_flags"]["FF_TIMESTAMPS"]')" "feature flag without a value is true"
expect_eq iam "$(toml_get "$CFG" 'r["cache"]["s3"]["AuthenticationType"]')" "s3 authentication type"
cr list -c "$CFG"
expect_not_contains "$T_DIR/err" "unknown key" "the written file loads cleanly"

test_case "a variable gives one list element, before the flags' ones"
new_token
CFG=$T_DIR/order/config.toml
RC=0
DOCKER_VOLUMES=/from/env timeout 60 "$CRUNNER" register -n --url "$FAKE_URL" \
	--token "$TOKEN" --executor docker --docker-image x \
	--docker-volumes /from/flag -c "$CFG" </dev/null >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq "['/from/env', '/from/flag', '/cache']" "$(toml_get "$CFG" 'r["docker"]["volumes"]')" "volumes"

test_case "bad flags: unknown, a bad number, a bad duration"
cr register -n --url "$FAKE_URL" --token "$TOKEN" --executor shell --no-such-flag x -c "$T_DIR/bad/config.toml"
expect_eq 2 "$RC" "exit code for an unknown flag"
expect_contains "$T_DIR/err" "unknown option '--no-such-flag'" "message"
cr register -n --url "$FAKE_URL" --token "$TOKEN" --executor shell --limit lots -c "$T_DIR/bad/config.toml"
expect_eq 2 "$RC" "exit code for a bad number"
expect_contains "$T_DIR/err" "--limit needs a whole number, not 'lots'" "message"
cr register -n --url "$FAKE_URL" --token "$TOKEN" --executor shell --prepare-timeout soon -c "$T_DIR/bad/config.toml"
expect_eq 2 "$RC" "exit code for a bad duration"
expect_contains "$T_DIR/err" "--prepare-timeout needs a duration" "message"
[ ! -e "$T_DIR/bad/config.toml" ] || fail "config.toml written after bad flags"

test_case "run-single takes the same runner flags as register"
"$CRUNNER" register --help | sed -n '/^Every flag/,$p' | grep -- ' -> ' | sed 's/ \*$//' >"$T_DIR/reg.rows"
"$CRUNNER" run-single --help | sed -n '/^Every flag/,$p' | grep -- ' -> ' | sed 's/ \*$//' >"$T_DIR/single.rows"
[ "$(wc -l <"$T_DIR/reg.rows")" -gt 300 ] || fail "register --help lists $(wc -l <"$T_DIR/reg.rows") keys"
cmp -s "$T_DIR/reg.rows" "$T_DIR/single.rows" || fail "run-single's keys differ: $(diff "$T_DIR/reg.rows" "$T_DIR/single.rows" | head)"
expect_contains "$T_DIR/single.rows" "--kubernetes-namespace VALUE [KUBERNETES_NAMESPACE] -> kubernetes.namespace" "a kubernetes row"

test_case "run-single -r NAME runs that runner of config.toml; flags and variables set the job's runner"
add_runner "$RUN_TOKEN"
SCFG=$T_DIR/single/config.toml
mkdir -p "$T_DIR/single"
cat >"$SCFG" <<TOML
[[runners]]
  name = "other"
  url = "http://127.0.0.1:1"
  token = "glrt-t1_otherRunnerToken01"
  executor = "shell"
[[runners]]
  name = "picked"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/single-builds"
  environment = ["PICKED=yes"]
TOML
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo picked=$PICKED"]}')
RC=0
timeout 120 "$CRUNNER" run-single -c "$SCFG" -r picked --max-builds 1 --check-interval 100ms \
	--url http://127.0.0.1:1 >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RC=$?
expect_eq 0 "$RC" "exit code ($(tail -3 "$T_DIR/run.err"))"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "picked=yes" "the picked runner's environment"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", "script": ["echo from=$FROM_FLAG/$FROM_ENV"]}')
RC=0
RUNNER_ENV=FROM_ENV=variable RUNNER_BUILDS_DIR=$T_DIR/single-builds2 \
	timeout 120 "$CRUNNER" run-single --url "$FAKE_URL" --token "$RUN_TOKEN" \
	--env FROM_FLAG=flag --max-builds 1 --check-interval 100ms \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" || RC=$?
expect_eq 0 "$RC" "exit code ($(tail -3 "$T_DIR/run.err"))"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "from=flag/variable" "--env and \$RUNNER_ENV"
[ -d "$T_DIR/single-builds2" ] || fail "\$RUNNER_BUILDS_DIR not used"
cr run-single -c "$SCFG" -r nosuch
expect_eq 3 "$RC" "exit code for an unknown runner"
expect_contains "$T_DIR/err" "no runner named 'nosuch'" "message"

t_finish
