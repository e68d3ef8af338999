#!/usr/bin/env bash
# `user` (config.toml's global key) and `crunner run --user`: shell-executor
# jobs run as that user, as gitlab-runner's `su -s /bin/bash USER` does:
# its uid, groups and HOME, a builds dir it owns, file variables it can
# read, artifacts archived as it.  Needs root (to create a throwaway user
# and to switch to it): skipped otherwise.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip_scenario "needs root to create a user and switch to it"
command -v useradd >/dev/null || skip_scenario "no useradd"

# A run killed from outside (a ctest timeout) could not remove its user
# (crt<its pid>u): those whose scenario no longer runs go now.
getent passwd | awk -F: '$1 ~ /^crt[0-9]+u$/ && $6 ~ /\/crunner-t_user\./ {print $1}' |
	while read -r u; do
		pid=${u#crt}
		pid=${pid%u}
		kill -0 "$pid" 2>/dev/null && continue
		userdel "$u" 2>/dev/null
		groupdel "crt${pid}g" 2>/dev/null
	done
JU=crt$$u
JG=crt$$g
groupadd -r "$JG" || fail "cannot create group $JG"
test_when_finished "groupdel $JG 2>/dev/null"
useradd -r -M -d "$T_DIR/home" -s /bin/bash -G "$JG" "$JU" ||
	fail "cannot create user $JU"
test_when_finished "userdel $JU 2>/dev/null"
mkdir -p "$T_DIR/home" && chown "$JU" "$T_DIR/home"
# mktemp made the work directory 0700: the job's user must pass through.
chmod 755 "$T_DIR"

start_fakegitlab
add_runner "$RUN_TOKEN"
CFG=$T_DIR/config.toml
LOG=$T_DIR/run.err

write_config() { # GLOBAL-LINES
	cat >"$CFG" <<EOF
concurrent = 1
check_interval = 1
$1

[[runners]]
  name = "user-test"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  cache_dir = "$T_DIR/cache"
EOF
}

# run_job ID [ARGS...]: crunner run until job ID is over, then SIGTERM.
run_job() {
	local id=$1 i pid
	shift
	: >"$LOG"
	"$CRUNNER" run --config "$CFG" --trace-interval 200ms "$@" \
		>"$T_DIR/run.out" 2>"$LOG" &
	pid=$!
	test_when_finished "kill -KILL $pid 2>/dev/null"
	for ((i = 0; i < 300; i++)); do
		case $(job_field "$id" 'd["status"]') in
		success | failed | canceled) break ;;
		esac
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

JOB_SCRIPT='"script": [
   "echo user=$(id -un) group=$(id -gn)",
   "echo groups=$(id -Gn)",
   "echo home=$HOME logname=$LOGNAME",
   "echo built > built.txt",
   "echo owner=$(stat -c %U .) builds_owner=$(stat -c %U \"$CI_BUILDS_DIR\")",
   "echo secret=$(cat \"$SECRET_FILE\") file_owner=$(stat -c %U \"$SECRET_FILE\")"],
  "variables": [{"key": "SECRET_FILE", "value": "s3cr3t", "public": false, "masked": false, "file": true}],
  "payload": {"artifacts": [{"name": "out", "paths": ["built.txt"], "when": "on_success",
     "artifact_type": "archive", "artifact_format": "zip"}]}'

test_case "run --user: the job runs as that user, with its HOME, groups and files"
write_config ""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none", '"$JOB_SCRIPT"'}')
run_job "$id" --user "$JU"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"; tail -c 600 "$LOG"))"
expect_contains "$T_DIR/trace" "user=$JU group=" "id -un"
grep -q "groups=.* $JG" "$T_DIR/trace" || fail "supplementary group $JG missing: $(grep groups= "$T_DIR/trace")"
expect_contains "$T_DIR/trace" "home=$T_DIR/home logname=$JU" "HOME and LOGNAME"
expect_contains "$T_DIR/trace" "owner=$JU builds_owner=$JU" "project and builds dir owner"
expect_contains "$T_DIR/trace" "secret=s3cr3t file_owner=$JU" "file variable"
expect_contains "$T_DIR/trace" 'Uploading artifacts as "archive" to coordinator... 201 Created' "artifact upload"
curl -sS --fail "$FAKE_URL/__control/jobs/$id/artifacts/0" >"$T_DIR/a.zip" || fail "no artifact stored"
expect_eq built "$(unzip -p "$T_DIR/a.zip" built.txt 2>/dev/null || "$PYTHON" -c 'import sys,zipfile; print(zipfile.ZipFile(sys.argv[1]).read("built.txt").decode().strip())' "$T_DIR/a.zip")" "artifact content"
expect_eq "$JU" "$(stat -c %U "$T_DIR/builds")" "builds dir owner on disk"

test_case "as the user: dependency artifacts extracted, cache saved and restored"
first=$id
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo dep=$(cat built.txt) dep_owner=$(stat -c %U built.txt)",
             "mkdir -p vendor", "echo cached > vendor/lib.txt"],
  "payload": {"dependencies": [{"id": '"$first"', "name": "build"}],
    "cache": [{"key": "ukey", "untracked": false, "paths": ["vendor/"],
      "policy": "pull-push", "when": "on_success"}]}}')
run_job "$id" --user "$JU"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "dep=built dep_owner=$JU" "extracted as the user"
expect_contains "$T_DIR/trace" "Created cache" "cache saved"
zip=$(find "$T_DIR/cache" -path '*/ukey/cache.zip')
[ -n "$zip" ] || fail "no cache.zip under $T_DIR/cache"
expect_eq "$JU" "$(stat -c %U "$zip")" "cache archive owner"
# A fresh project dir, so the cache is what brings vendor/ back.
rm -rf "$T_DIR/builds"
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo restored=$(cat vendor/lib.txt) owner=$(stat -c %U vendor/lib.txt)"],
  "payload": {"cache": [{"key": "ukey", "untracked": false, "paths": ["vendor/"],
      "policy": "pull", "when": "on_success"}]}}')
run_job "$id" --user "$JU"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "restored=cached owner=$JU" "cache restored as the user"

test_case "the global user key in config.toml does the same"
write_config "user = \"$JU\""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo user=$(id -un) home=$HOME"]}')
run_job "$id"
job_trace "$id" "$T_DIR/trace"
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "user=$JU home=$T_DIR/home" "user from config.toml"
expect_not_contains "$LOG" "'user' in the global section has no effect" "no-effect warning"

test_case "run --user wins over the key"
write_config 'user = "root"'
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo user=$(id -un)"]}')
run_job "$id" -u "$JU"
job_trace "$id" "$T_DIR/trace"
expect_contains "$T_DIR/trace" "user=$JU" "--user over the key"

test_case "an unknown user fails the job with a clear line"
write_config ""
id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": ["echo should-not-run"]}')
run_job "$id" --user "nosuchuser$$"
job_trace "$id" "$T_DIR/trace"
expect_eq failed "$(job_field "$id" 'd["status"]')" "job status"
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "no such user 'nosuchuser$$'" "message"
expect_not_contains "$T_DIR/trace" "should-not-run" "script ran"

test_case "not root: another user fails the job, crunner's own user runs as is"
command -v setpriv >/dev/null || skip_case "no setpriv"
if command -v setpriv >/dev/null; then
	chown "$JU" "$T_DIR/builds"
	write_config ""
	chown "$JU" "$CFG"
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["echo should-not-run"]}')
	: >"$LOG"
	chown "$JU" "$LOG"
	setpriv --reuid="$JU" --regid="$JG" --clear-groups env HOME="$T_DIR/home" \
		"$CRUNNER" run --config "$CFG" --user root >"$T_DIR/run.out" 2>"$LOG" &
	pid=$!
	test_when_finished "kill -KILL $pid 2>/dev/null"
	for ((i = 0; i < 300; i++)); do
		case $(job_field "$id" 'd["status"]') in failed | success) break ;; esac
		sleep 0.1
	done
	job_trace "$id" "$T_DIR/trace"
	expect_eq failed "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 600 "$LOG"))"
	expect_contains "$T_DIR/trace" "cannot run the job as user 'root': crunner runs as '$JU', not root" "message"
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
	id=$(enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
	  "script": ["echo user=$(id -un)"]}')
	setpriv --reuid="$JU" --regid="$JG" --clear-groups env HOME="$T_DIR/home" \
		"$CRUNNER" run --config "$CFG" --user "$JU" >"$T_DIR/run.out" 2>"$LOG" &
	pid=$!
	test_when_finished "kill -KILL $pid 2>/dev/null"
	for ((i = 0; i < 300; i++)); do
		case $(job_field "$id" 'd["status"]') in failed | success) break ;; esac
		sleep 0.1
	done
	kill -TERM "$pid"; wait "$pid" 2>/dev/null
	job_trace "$id" "$T_DIR/trace"
	expect_eq success "$(job_field "$id" 'd["status"]')" "own user: job status ($(tail -c 600 "$LOG"))"
	expect_contains "$T_DIR/trace" "user=$JU" "own user"
fi

t_finish
