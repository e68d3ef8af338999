#!/usr/bin/env bash
# Runner lifecycle against the fake coordinator: register (glrt- token and
# legacy registration token), verify (--delete), unregister (--name,
# --all-runners), reset-token, list; and bad input, after which config.toml
# must be byte for byte what it was.  No verb may print a full token.
. "$(dirname "$0")/lib.sh"

start_fakegitlab
fake_control PATCH config '{"token_expires_in": 7200}' >/dev/null ||
	fail "cannot set token_expires_in"

CFG_DIR=$T_DIR/etc/crunner
CFG=$CFG_DIR/config.toml
REG_TOKEN=GR1348941fakegitlabRegToken
PAT=glpat-fakegitlabAdminToken
# Every secret a verb might leak; checked against all output at the end.
SECRETS=("$REG_TOKEN" "$PAT")
: >"$T_DIR/all-output"

# cr ARGS...: runs crunner without a terminal; stdout in $T_DIR/out,
# stderr in $T_DIR/err, exit code in RC.
cr() {
	RC=0
	timeout 60 "$CRUNNER" "$@" </dev/null >"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
	cat "$T_DIR/out" "$T_DIR/err" >>"$T_DIR/all-output"
}

# toml_get FILE EXPR: EXPR over the parsed file as d, r(NAME) for a runner.
toml_get() {
	"$PYTHON" -c '
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
def r(name):
    m = [x for x in d.get("runners", []) if x.get("name") == name]
    return m[0] if m else None
print(eval(sys.argv[2]))' "$1" "$2"
}

runner_names() {
	toml_get "$CFG" '" ".join(x["name"] for x in d.get("runners", []))'
}

# last_request ENDPOINT EXPR: EXPR over the newest such request (d).
last_request() {
	local out
	out=$(fake_control GET "requests?endpoint=$1") || fail "cannot read requests"
	json_get "$out" "(lambda d: $2)(d['requests'][-1])"
}

count_requests() {
	local out
	out=$(fake_control GET "requests?endpoint=$1") || fail "cannot read requests"
	json_get "$out" 'len(d["requests"])'
}

new_glrt_runner() { # TOKEN: created in "GitLab's UI"; prints its id
	local out
	out=$(fake_control POST runners "{\"token\": \"$1\"}") || fail "cannot add runner $1"
	SECRETS+=("$1")
	json_get "$out" 'd["id"]'
}

expect_unchanged() { # SAVED-COPY what
	cmp -s "$1" "$CFG" || fail "$2: config.toml changed: $(diff "$1" "$CFG" | head -20)"
}

expect_one_line_error() { # what
	[ "$(wc -l <"$T_DIR/err")" -eq 1 ] ||
		fail "$1: expected one line on stderr, got: $(cat "$T_DIR/err")"
}

closed_port() {
	"$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

TOK1=glrt-t1_lifecycleToken0001
TOK2=glrt-t1_lifecycleToken0002

test_case "register with a glrt- token creates config.toml and the system ID"
id1=$(new_glrt_runner "$TOK1")
[ ! -e "$CFG_DIR" ] || fail "$CFG_DIR exists before the test"
before=$(date +%s)
cr register --non-interactive --url "$FAKE_URL" --token "$TOK1" \
	--executor shell --name first -c "$CFG"
after=$(date +%s)
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_contains "$T_DIR/err" "Verifying runner... is valid" "verify message"
expect_contains "$T_DIR/err" "Runner registered successfully" "success message"
expect_contains "$T_DIR/err" "$CFG" "config path in the message"
expect_eq 600 "$(stat -c %a "$CFG")" "config.toml mode"
expect_eq 700 "$(stat -c %a "$CFG_DIR")" "created directory mode"
[ -f "$CFG_DIR/.runner_system_id" ] || fail ".runner_system_id not created"
sid=$(tr -d '\n' <"$CFG_DIR/.runner_system_id")
[[ $sid =~ ^[sr]_[0-9a-zA-Z]{12}$ ]] || fail "bad system ID '$sid'"
expect_eq "first" "$(runner_names)" "runners in config.toml"
expect_eq "$id1" "$(toml_get "$CFG" 'r("first")["id"]')" "id from verify"
expect_eq "$TOK1" "$(toml_get "$CFG" 'r("first")["token"]')" "token"
expect_eq "$FAKE_URL" "$(toml_get "$CFG" 'r("first")["url"]')" "url"
expect_eq shell "$(toml_get "$CFG" 'r("first")["executor"]')" "executor"
obtained=$(toml_get "$CFG" 'int(r("first")["token_obtained_at"].timestamp())')
[ "$obtained" -ge "$before" ] && [ "$obtained" -le "$after" ] ||
	fail "token_obtained_at $obtained not in [$before, $after]"
expires=$(toml_get "$CFG" 'int(r("first")["token_expires_at"].timestamp())')
fake_expires=$(fake_control GET "runners/$id1" |
	"$PYTHON" -c 'import json,sys,datetime; d=json.load(sys.stdin); print(int(datetime.datetime.fromisoformat(d["token_expires_at"].replace("Z","+00:00")).timestamp()))')
expect_eq "$fake_expires" "$expires" "token_expires_at from GitLab"
expect_eq "$sid" "$(last_request verify 'd["json"]["system_id"]')" "system_id sent to verify"
expect_eq "$TOK1" "$(last_request verify 'd["json"]["token"]')" "token sent to verify"
expect_eq True "$(last_request verify '"features" in d["json"]["info"]')" "info sent to verify"
expect_eq 0 "$(count_requests register)" "POST runners calls"
expect_eq True "$(fake_control GET "runners/$id1" | "$PYTHON" -c 'import json,sys; print(sys.argv[1] in json.load(sys.stdin)["managers"])' "$sid")" \
	"GitLab knows this host's runner manager"

test_case "a second registration reuses the system ID and keeps the first runner"
id2=$(new_glrt_runner "$TOK2")
cr register -n -u "$FAKE_URL" -t "$TOK2" --executor shell --name second \
	--env A=1 --env B=two --limit 2 --builds-dir /tmp/b -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq "$sid" "$(tr -d '\n' <"$CFG_DIR/.runner_system_id")" "system ID file"
expect_eq "$sid" "$(last_request verify 'd["json"]["system_id"]')" "system_id sent"
expect_eq "first second" "$(runner_names)" "runners in config.toml"
expect_eq "['A=1', 'B=two']" "$(toml_get "$CFG" 'r("second")["environment"]')" "environment"
expect_eq 2 "$(toml_get "$CFG" 'r("second")["limit"]')" "limit"
expect_eq /tmp/b "$(toml_get "$CFG" 'r("second")["builds_dir"]')" "builds_dir"
expect_contains "$T_DIR/err" "larger than the global concurrent limit" "limit warning"

test_case "register with a legacy registration token sends the runner settings"
cr register -n -u "$FAKE_URL" -r "$REG_TOKEN" --name legacy --tag-list "a, b" \
	--locked=false --access-level ref_protected --maximum-timeout 600 \
	--paused --maintenance-note "rack 4" --executor shell -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_contains "$T_DIR/err" "Registering runner... succeeded" "message"
expect_eq "$REG_TOKEN" "$(last_request register 'd["json"]["token"]')" "registration token sent"
expect_eq legacy "$(last_request register 'd["json"]["description"]')" "description"
expect_eq "a, b" "$(last_request register 'd["json"]["tag_list"]')" "tag_list"
expect_eq False "$(last_request register 'd["json"]["run_untagged"]')" "run_untagged"
expect_eq False "$(last_request register 'd["json"]["locked"]')" "locked"
expect_eq ref_protected "$(last_request register 'd["json"]["access_level"]')" "access_level"
expect_eq 600 "$(last_request register 'd["json"]["maximum_timeout"]')" "maximum_timeout"
expect_eq True "$(last_request register 'd["json"]["paused"]')" "paused"
expect_eq "rack 4" "$(last_request register 'd["json"]["maintenance_note"]')" "maintenance_note"
expect_eq crunner "$(last_request register 'd["json"]["info"]["name"]')" "info.name"
legacy_tok=$(toml_get "$CFG" 'r("legacy")["token"]')
SECRETS+=("$legacy_tok")
legacy_id=$(toml_get "$CFG" 'r("legacy")["id"]')
expect_eq "$legacy_tok" "$(fake_control GET "runners/$legacy_id" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["token"])')" \
	"stored token is the one GitLab handed out"
[[ $legacy_tok == glrtr-* ]] || fail "legacy token '$legacy_tok' lacks glrtr-"
expect_eq "['a', 'b']" "$(fake_control GET "runners/$legacy_id" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["tags"])')" \
	"tags GitLab stored"

test_case "legacy registration defaults: run_untagged without tags, locked"
cr register -n -u "$FAKE_URL" -r "$REG_TOKEN" --name legacy2 --executor shell -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq True "$(last_request register 'd["json"]["run_untagged"]')" "run_untagged"
expect_eq True "$(last_request register 'd["json"]["locked"]')" "locked"
expect_eq False "$(last_request register 'd["json"]["paused"]')" "paused"
expect_eq False "$(last_request register '"tag_list" in d["json"]')" "no tag_list"
SECRETS+=("$(toml_get "$CFG" 'r("legacy2")["token"]')")

test_case "gitlab-runner's environment variables, overridden by flags"
ENVCFG=$T_DIR/env/config.toml
RC=0
timeout 60 env CI_SERVER_URL="$FAKE_URL" REGISTRATION_TOKEN="$REG_TOKEN" \
	RUNNER_NAME=fromenv RUNNER_EXECUTOR=shell RUNNER_TAG_LIST=x,y \
	REGISTER_LOCKED=false REGISTER_PAUSED=true REGISTER_NON_INTERACTIVE=true \
	RUNNER_BUILDS_DIR=/tmp/envbuilds \
	"$CRUNNER" register --paused=false -c "$ENVCFG" </dev/null \
	>"$T_DIR/out" 2>"$T_DIR/err" || RC=$?
cat "$T_DIR/out" "$T_DIR/err" >>"$T_DIR/all-output"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq fromenv "$(toml_get "$ENVCFG" 'd["runners"][0]["name"]')" "RUNNER_NAME"
expect_eq /tmp/envbuilds "$(toml_get "$ENVCFG" 'd["runners"][0]["builds_dir"]')" "RUNNER_BUILDS_DIR"
expect_eq x,y "$(last_request register 'd["json"]["tag_list"]')" "RUNNER_TAG_LIST"
expect_eq False "$(last_request register 'd["json"]["locked"]')" "REGISTER_LOCKED"
expect_eq False "$(last_request register 'd["json"]["paused"]')" "--paused=false over REGISTER_PAUSED"
SECRETS+=("$(toml_get "$ENVCFG" 'd["runners"][0]["token"]')")

test_case "a failure after GitLab took the runner takes it back (unless --leave-runner)"
TOK7=glrt-t1_lifecycleToken0007
new_glrt_runner "$TOK7" >/dev/null
# Nothing can be created below /proc: verifying works, saving fails.
NOSAVE=/proc/crunner-lifecycle-test/config.toml
n=$(count_requests unregister_manager)
cr register -n -u "$FAKE_URL" -t "$TOK7" --executor shell -c "$NOSAVE"
expect_eq 1 "$RC" "exit code"
expect_contains "$T_DIR/err" "cannot create directory" "why saving failed"
expect_eq $((n + 1)) "$(count_requests unregister_manager)" "DELETE runners/managers calls"
expect_eq "$(last_request verify 'd["json"]["system_id"]')" \
	"$(last_request unregister_manager 'd["json"]["system_id"]')" "the manager verify created"
expect_eq 204 "$(last_request unregister_manager 'd["status"]')" "GitLab's answer"
cr register -n -u "$FAKE_URL" -t "$TOK7" --executor shell --leave-runner -c "$NOSAVE"
expect_eq 1 "$RC" "exit code with --leave-runner"
expect_eq $((n + 1)) "$(count_requests unregister_manager)" "no unregister with --leave-runner"

test_case "glrt- tokens refuse the settings GitLab owns"
cp "$CFG" "$T_DIR/saved"
n=$(count_requests verify)
SECRETS+=(glrt-t1_settingsToken0001)
cr register -n -u "$FAKE_URL" -t glrt-t1_settingsToken0001 --tag-list x \
	--executor shell -c "$CFG"
expect_eq 2 "$RC" "exit code"
expect_one_line_error "settings with a glrt- token"
expect_contains "$T_DIR/err" "cannot be used with a runner authentication token" "message"
expect_eq "$n" "$(count_requests verify)" "no call to GitLab"
expect_unchanged "$T_DIR/saved" "refused settings"

test_case "register into an existing config keeps other runners and unknown keys"
OTHER=$T_DIR/other/config.toml
mkdir -p "$T_DIR/other"
keeper_port=$(closed_port)
cat >"$OTHER" <<EOF
concurrent = 4
my_custom_global = "keep-me"

[[runners]]
  name = "keeper"
  url = "http://127.0.0.1:$keeper_port"
  token = "glrt-t1_keeperTokenAbcdef"
  executor = "shell"
  my_runner_extra = 42
EOF
chmod 644 "$OTHER"
SECRETS+=(glrt-t1_keeperTokenAbcdef)
TOK3=glrt-t1_lifecycleToken0003
new_glrt_runner "$TOK3" >/dev/null
cr register -n -u "$FAKE_URL" -t "$TOK3" --executor shell --name added -c "$OTHER"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_contains "$T_DIR/err" "unknown key" "warning about the unknown keys"
expect_eq "keeper added" "$(toml_get "$OTHER" '" ".join(x["name"] for x in d["runners"])')" "runners"
expect_eq keep-me "$(toml_get "$OTHER" 'd["my_custom_global"]')" "unknown global key"
expect_eq 42 "$(toml_get "$OTHER" 'd["runners"][0]["my_runner_extra"]')" "unknown runner key"
expect_eq 4 "$(toml_get "$OTHER" 'd["concurrent"]')" "concurrent"
expect_eq glrt-t1_keeperTokenAbcdef "$(toml_get "$OTHER" 'd["runners"][0]["token"]')" "other token"
expect_eq 600 "$(stat -c %a "$OTHER")" "mode after writing"
[ -f "$T_DIR/other/.runner_system_id" ] || fail "no system ID beside the other config"

test_case "verify: every runner valid"
cp "$CFG" "$T_DIR/saved"
cr verify -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq 4 "$(grep -c 'Verifying runner... is' "$T_DIR/err")" "one line per runner"
expect_contains "$T_DIR/err" "is valid" "glrt- runner"
expect_contains "$T_DIR/err" "is alive" "legacy runner"
expect_unchanged "$T_DIR/saved" "verify"

test_case "verify --name checks only that runner"
n=$(count_requests verify)
cr verify --name second -c "$CFG"
expect_eq 0 "$RC" "exit code"
expect_eq $((n + 1)) "$(count_requests verify)" "verify calls"
expect_eq "$TOK2" "$(last_request verify 'd["json"]["token"]')" "token sent"
cr verify --name nosuch -c "$CFG"
expect_eq 1 "$RC" "exit code for no match"
expect_contains "$T_DIR/err" "no runner matches" "message"

test_case "verify: a runner deleted in GitLab fails, --delete removes it"
fake_control DELETE "runners/$legacy_id" >/dev/null || fail "cannot delete runner"
cp "$CFG" "$T_DIR/saved"
cr verify -c "$CFG"
expect_eq 1 "$RC" "exit code"
expect_contains "$T_DIR/err" "Verifying runner... is removed" "gitlab-runner's words"
expect_contains "$T_DIR/err" "failed to verify runners" "summary"
expect_unchanged "$T_DIR/saved" "verify without --delete"
cr verify --delete -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_contains "$T_DIR/err" "Updated $CFG" "message"
expect_eq "first second legacy2" "$(runner_names)" "runners left"
expect_eq 600 "$(stat -c %a "$CFG")" "mode"

test_case "verify: unreachable GitLab fails, and --delete keeps the runner"
port=$(closed_port)
cat >"$T_DIR/unreach.toml" <<EOF
[[runners]]
  name = "far"
  url = "http://127.0.0.1:$port"
  token = "glrt-t1_farAwayToken000001"
  executor = "shell"
EOF
SECRETS+=(glrt-t1_farAwayToken000001)
cp "$T_DIR/unreach.toml" "$T_DIR/unreach.saved"
cr verify --delete -c "$T_DIR/unreach.toml"
expect_eq 1 "$RC" "exit code"
expect_contains "$T_DIR/err" "Verifying runner... failed" "message"
cmp -s "$T_DIR/unreach.saved" "$T_DIR/unreach.toml" || fail "config changed"

test_case "reset-token rotates the token in config.toml"
old_obtained=$(toml_get "$CFG" 'int(r("second")["token_obtained_at"].timestamp())')
sleep 1
cr reset-token --name second -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
new_tok=$(toml_get "$CFG" 'r("second")["token"]')
SECRETS+=("$new_tok")
[ "$new_tok" != "$TOK2" ] || fail "token unchanged"
expect_eq "$new_tok" "$(fake_control GET "runners/$id2" | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["token"])')" \
	"stored token is GitLab's new one"
expect_eq "$TOK2" "$(last_request reset_token 'd["json"]["token"]')" "old token sent"
new_obtained=$(toml_get "$CFG" 'int(r("second")["token_obtained_at"].timestamp())')
[ "$new_obtained" -gt "$old_obtained" ] || fail "token_obtained_at not updated"
expect_eq "$(fake_control GET "runners/$id2" | "$PYTHON" -c 'import json,sys,datetime; d=json.load(sys.stdin); print(int(datetime.datetime.fromisoformat(d["token_expires_at"].replace("Z","+00:00")).timestamp()))')" \
	"$(toml_get "$CFG" 'int(r("second")["token_expires_at"].timestamp())')" "token_expires_at"
expect_eq "first second legacy2" "$(runner_names)" "runners"
cr verify --name second -c "$CFG"
expect_eq 0 "$RC" "the new token verifies"

test_case "reset-token --url --id --pat uses the admin endpoint"
tok_before=$(toml_get "$CFG" 'r("first")["token"]')
cr reset-token --url "$FAKE_URL" --id "$id1" --pat "$PAT" -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq "$PAT" "$(last_request reset_token_admin 'dict(d["headers"]).get("PRIVATE-TOKEN") or dict(d["headers"]).get("Private-Token")')" \
	"PRIVATE-TOKEN header"
tok_after=$(toml_get "$CFG" 'r("first")["token"]')
SECRETS+=("$tok_after")
[ "$tok_after" != "$tok_before" ] || fail "token unchanged"

test_case "reset-token with a refused token keeps config.toml"
cp "$CFG" "$T_DIR/saved"
cr reset-token --url "$FAKE_URL" --id "$id1" --pat glpat-wrongwrongwrong -c "$CFG"
expect_eq 1 "$RC" "exit code"
expect_one_line_error "refused PAT"
expect_contains "$T_DIR/err" "401" "status"
expect_unchanged "$T_DIR/saved" "refused reset"
cr reset-token --name nosuch -c "$CFG"
expect_eq 1 "$RC" "exit code for an unknown name"
expect_contains "$T_DIR/err" "no runner named 'nosuch'" "message"
expect_unchanged "$T_DIR/saved" "unknown name"

test_case "list shows the runners with short tokens"
cr list -c "$CFG"
expect_eq 0 "$RC" "exit code"
for n in first second legacy2; do
	expect_contains "$T_DIR/out" "$n" "runner $n listed"
done
expect_contains "$T_DIR/out" "Token=$(printf %s "$tok_after" | sed 's/^glrt-t1_//' | cut -c1-9)" "short token"

test_case "unregister a glrt- runner by name removes only this host's manager"
tok_first=$(toml_get "$CFG" 'r("first")["token"]')
cr unregister --name first -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq "DELETE" "$(last_request unregister_manager 'd["method"]')" "DELETE runners/managers"
expect_eq "$sid" "$(last_request unregister_manager 'd["json"]["system_id"]')" "system_id sent"
expect_eq "$tok_first" "$(last_request unregister_manager 'd["json"]["token"]')" "token sent"
expect_eq 204 "$(last_request unregister_manager 'd["status"]')" "GitLab's answer"
expect_eq "second legacy2" "$(runner_names)" "runners left"
expect_eq False "$(fake_control GET "runners/$id1" | "$PYTHON" -c 'import json,sys; print(sys.argv[1] in json.load(sys.stdin)["managers"])' "$sid")" \
	"manager removed in GitLab"
fake_control GET "runners/$id1" >/dev/null || fail "the runner itself must stay in GitLab"

test_case "unregister a legacy runner by name deletes it"
legacy2_id=$(toml_get "$CFG" 'r("legacy2")["id"]')
cr unregister --name legacy2 -c "$CFG"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq DELETE "$(last_request unregister 'd["method"]')" "DELETE runners"
expect_eq 204 "$(last_request unregister 'd["status"]')" "GitLab's answer"
expect_eq second "$(runner_names)" "runners left"
! fake_control GET "runners/$legacy2_id" >/dev/null 2>&1 || fail "runner still in GitLab"

test_case "unregister an unknown name fails and keeps config.toml"
cp "$CFG" "$T_DIR/saved"
cr unregister --name nosuch -c "$CFG"
expect_eq 1 "$RC" "exit code"
expect_one_line_error "unknown name"
expect_contains "$T_DIR/err" "no runner named 'nosuch'" "message"
expect_unchanged "$T_DIR/saved" "unknown name"

test_case "unregister refused by GitLab keeps config.toml"
fake_control DELETE "runners/$id2" >/dev/null || fail "cannot delete runner"
cr unregister --name second -c "$CFG"
expect_eq 1 "$RC" "exit code"
expect_one_line_error "refused unregister"
expect_contains "$T_DIR/err" "403" "status in the message"
expect_unchanged "$T_DIR/saved" "refused unregister"

test_case "unregister --all-runners"
cr unregister --all-runners -c "$OTHER"
# keeper points at a closed port: it fails and stays.
expect_eq 1 "$RC" "exit code"
expect_eq keeper "$(toml_get "$OTHER" '" ".join(x["name"] for x in d["runners"])')" "the failed runner stays"
expect_eq "$TOK3" "$(last_request unregister_manager 'd["json"]["token"]')" "added runner unregistered"
cfg3=$T_DIR/all/config.toml
for t in glrt-t1_lifecycleToken0004 glrt-t1_lifecycleToken0005; do
	new_glrt_runner "$t" >/dev/null
	cr register -n -u "$FAKE_URL" -t "$t" --executor shell --name "n-$t" -c "$cfg3"
	expect_eq 0 "$RC" "register $t"
done
cr register -n -u "$FAKE_URL" -r "$REG_TOKEN" --name legacy3 --executor shell -c "$cfg3"
expect_eq 0 "$RC" "register legacy3"
SECRETS+=("$(toml_get "$cfg3" 'd["runners"][2]["token"]')")
n_mgr=$(count_requests unregister_manager)
n_del=$(count_requests unregister)
cr unregister --all-runners -c "$cfg3"
expect_eq 0 "$RC" "exit code ($(cat "$T_DIR/err"))"
expect_eq $((n_mgr + 2)) "$(count_requests unregister_manager)" "DELETE runners/managers calls"
expect_eq $((n_del + 1)) "$(count_requests unregister)" "DELETE runners calls"
expect_eq 0 "$(toml_get "$cfg3" 'len(d.get("runners", []))')" "runners left"

test_case "bad input: unreachable GitLab"
port=$(closed_port)
cp "$CFG" "$T_DIR/saved"
cr register -n -u "http://127.0.0.1:$port" -t glrt-t1_unreachable0001 --executor shell -c "$CFG"
SECRETS+=(glrt-t1_unreachable0001)
expect_eq 1 "$RC" "exit code"
expect_one_line_error "unreachable"
expect_contains "$T_DIR/err" "127.0.0.1:$port" "URL in the message"
expect_unchanged "$T_DIR/saved" "unreachable"

test_case "bad input: a token GitLab refuses"
cr register -n -u "$FAKE_URL" -t glrt-t1_unknownToken0001 --executor shell -c "$CFG"
SECRETS+=(glrt-t1_unknownToken0001)
expect_eq 1 "$RC" "exit code"
expect_one_line_error "refused token"
expect_contains "$T_DIR/err" "403" "status"
expect_unchanged "$T_DIR/saved" "refused token"
cr register -n -u "$FAKE_URL" -r GR1348941wrongRegToken --executor shell -c "$CFG"
SECRETS+=(GR1348941wrongRegToken)
expect_eq 1 "$RC" "exit code for a refused registration token"
expect_contains "$T_DIR/err" "check the registration token" "hint"
expect_unchanged "$T_DIR/saved" "refused registration token"

test_case "bad input: missing values without a terminal"
cr register -c "$CFG"
expect_eq 2 "$RC" "exit code"
expect_one_line_error "missing URL"
expect_contains "$T_DIR/err" "the url needs to be entered" "message"
cr register -u "$FAKE_URL" -t "$TOK1" -c "$CFG"
expect_eq 2 "$RC" "exit code without executor"
expect_contains "$T_DIR/err" "executor" "message"
cr register -n -u "$FAKE_URL" -t "$TOK1" --executor docker -c "$CFG"
expect_eq 2 "$RC" "exit code without docker image"
cr register -n -u "ftp://x" -t "$TOK1" --executor shell -c "$CFG"
expect_eq 2 "$RC" "exit code for a bad URL"
cr register -n -u "$FAKE_URL" -t "$TOK1" --executor shell --locked=maybe -c "$CFG"
expect_eq 2 "$RC" "exit code for a bad boolean"
expect_unchanged "$T_DIR/saved" "missing values"

test_case "bad input: malformed config.toml"
BAD=$T_DIR/bad/config.toml
mkdir -p "$T_DIR/bad"
printf '[[runners]]\nname = "x"\nlimit = "many"\n' >"$BAD"
cp "$BAD" "$T_DIR/bad.saved"
for args in "register -n -u $FAKE_URL -t $TOK1 --executor shell" "verify" \
	"unregister --name x" "reset-token --name x" "list"; do
	# shellcheck disable=SC2086
	cr $args -c "$BAD"
	expect_eq 3 "$RC" "exit code of $args"
	expect_one_line_error "$args"
	expect_contains "$T_DIR/err" "config.toml:3" "file:line in the message of $args"
	cmp -s "$T_DIR/bad.saved" "$BAD" || fail "$args changed the malformed file"
done

test_case "interactive register on a terminal"
if ! command -v script >/dev/null; then
	skip_case "no script(1) to give crunner a terminal (util-linux)"
else
	TOK6=glrt-t1_lifecycleToken0006
	new_glrt_runner "$TOK6" >/dev/null
	ICFG=$T_DIR/tty/config.toml
	printf '%s\n' "$FAKE_URL" "$TOK6" ttyname shell |
		timeout 60 script -qec "'$CRUNNER' register -c '$ICFG'" /dev/null \
			>"$T_DIR/tty.out" 2>&1 || fail "interactive register: exit code $?"
	expect_contains "$T_DIR/tty.out" "Enter the GitLab instance URL (for example, https://gitlab.com/):" "URL question"
	expect_contains "$T_DIR/tty.out" "Enter the registration token:" "token question"
	expect_contains "$T_DIR/tty.out" "Enter a name for the runner." "name question"
	expect_contains "$T_DIR/tty.out" "Enter an executor: shell" "executor question"
	expect_eq ttyname "$(toml_get "$ICFG" 'd["runners"][0]["name"]')" "name answered"
	expect_eq "$TOK6" "$(toml_get "$ICFG" 'd["runners"][0]["token"]')" "token answered"
	# The terminal echoes the typed token once; crunner must not add any.
	expect_eq 1 "$(grep -o -F -- "$TOK6" "$T_DIR/tty.out" | wc -l)" \
		"copies of the token in the terminal output"
fi

test_case "no verb printed a full token"
for s in "${SECRETS[@]}"; do
	[ -n "$s" ] || continue
	expect_not_contains "$T_DIR/all-output" "$s" "output of every verb"
done

test_case "every lifecycle verb answers --help"
for v in register verify unregister reset-token; do
	cr "$v" --help
	expect_eq 0 "$RC" "$v --help"
	expect_contains "$T_DIR/out" "usage: crunner $v" "$v usage"
done

t_finish
