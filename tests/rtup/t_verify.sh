# Verification (AC9): fake toolchain first on PATH, offline env, failures
# holding the next wave, timeout with process-group kill, the binary
# check, a named job through 'crunner exec', unverifiable jobs.
. "$(dirname "$0")/lib.sh"
CRUNNER=${CRUNNER:?set CRUNNER to the crunner binary}
fixture F1
mkdir -p "$T/next" && printf 'next\n' > "$T/next/README" && mkrepo "$T/next"
versions "$T/versions"
TC=$RTUP_TESTS/fixtures/toolchains
cat > "$T/rtup.toml" <<EOT
[rtup]
toolchains = "$TC"
[repo.runner]
path = "F1"
wave = 1
role = ["/go.mod:exact"]
verify = ["go build ./...", "go vet ./..."]
env = ["GOTOOLCHAIN=local", "GOPROXY=off"]
verify-job = "unit"
binary = "out/app"
[repo.next]
path = "next"
wave = 2
verify = ["true"]
[rule.vagrant-ps1]
runtime = "go"
files = ["scripts/vagrant/**/*.ps1"]
regex = '^\\\$goVersion = "([0-9.]+)"'
EOT
cd "$T"
export FAKE_GO_LOG=$T/go.log
"$RTUP" apply --to go@1.26.5 >apply.out 2>&1; rc=$?
expect_eq "apply exit" 0 "$rc"
expect_has "apply holds wave 2 until wave 1 is verified" "next: held: wave 1 is not verified yet" "$(cat apply.out)"
expect_eq "held repo has no branch" "" "$(git -C next branch --list 'rtup/*')"
out=$("$RTUP" verify --crunner "$CRUNNER" 2>&1); rc=$?
expect_eq "AC9 verify exit" 0 "$rc"
expect_has "AC9 runner verified" "runner: verified" "$out"
expect_has "AC9 held repo not verified" "next: not applied yet" "$out"
wt=$T/.rtup/worktrees/runner
expect_eq "AC9 commands ran with the target toolchain first, offline env" \
"go1.26.5 build ./... GOTOOLCHAIN=local GOPROXY=off PATH0=$TC/go1.26.5/bin
go1.26.5 vet ./... GOTOOLCHAIN=local GOPROXY=off PATH0=$TC/go1.26.5/bin
go1.26.5 test ./... GOTOOLCHAIN=local GOPROXY=off PATH0=$TC/go1.26.5/bin" "$(cat go.log)"
expect_has "AC9 verify-job ran through crunner exec" "unit $ go test ./..." "$(cat .rtup/logs/runner/3.log)"
expect_has "AC9 binary check log" "out/app: go1.26.5" "$(cat .rtup/logs/runner/4.log)"
expect_eq "AC9 logs per command" "1.log 2.log 3.log 4.log" "$(ls .rtup/logs/runner | tr '\n' ' ' | sed 's/ $//')"
out=$("$RTUP" apply --to go@1.26.5 2>&1); rc=$?
expect_has "wave 2 applied once wave 1 verified" "next: current" "$out"
# A failing command: verify-failed(<first failing command>), next wave held.
: > go.log
out=$(FAKE_GO_EXIT=1 "$RTUP" verify --crunner "$CRUNNER" 2>&1); rc=$?
expect_eq "AC9 failing verify exit" 1 "$rc"
expect_has "AC9 first failing command named" "runner: verify-failed(go build ./...)" "$out"
expect_has "AC9 next wave held" "next: held(wave 1 failed)" "$out"
expect_eq "AC9 stops at the first failing command" 1 "$(wc -l < go.log)"
out=$(FAKE_GO_EXIT=1 "$RTUP" verify --crunner "$CRUNNER" --keep-going 2>&1)
expect_has "--keep-going verifies later waves anyway" "next: verified" "$out"
# The binary check compares 'go version out/app' with the target.
out=$(FAKE_GO_BINARY_VERSION=1.26.3 "$RTUP" verify --repo runner --crunner "$CRUNNER" 2>&1); rc=$?
expect_eq "AC9 binary mismatch exit" 1 "$rc"
expect_has "AC9 binary mismatch" "runner: verify-failed(go version out/app: built with out/app: go1.26.3, want go1.26.5)" "$out"
# A failing job is verify-failed(crunner exec JOB).
sed -i 's/^verify = \["go build.*/verify = []/' rtup.toml
out=$(FAKE_GO_EXIT=1 "$RTUP" verify --repo runner --crunner "$CRUNNER" 2>&1)
expect_has "AC9 failing job" "runner: verify-failed(crunner exec unit)" "$out"
# Jobs crunner cannot model are unverifiable, never skipped.
mkdir -p refjob && printf 'unit:\n  script:\n    - !reference [.missing, script]\n' > refjob/.gitlab-ci.yml && mkrepo refjob
mkdir -p nojob && printf 'lint:\n  script:\n    - "true"\n' > nojob/.gitlab-ci.yml && mkrepo nojob
cat >> rtup.toml <<EOT
[repo.refjob]
path = "refjob"
wave = 5
verify-job = "unit"
[repo.nojob]
path = "nojob"
wave = 5
verify-job = "unit"
[repo.slow]
path = "next"
wave = 6
verify = ["sleep 60 & echo \$! > $T/bg.pid; sleep 60"]
EOT
out=$("$RTUP" verify --repo refjob --crunner "$CRUNNER" 2>&1); rc=$?
expect_eq "AC9 unverifiable exit" 1 "$rc"
expect_has "AC9 !reference job unverifiable" "refjob: unverifiable(job unit: crunner: .gitlab-ci.yml:3:" "$out"
out=$("$RTUP" verify --repo nojob --crunner "$CRUNNER" 2>&1)
expect_has "AC9 missing job unverifiable" "nojob: unverifiable(job unit: not in the pipeline)" "$out"
# Timeout: the command and what it started are killed with their group.
start=$(date +%s)
out=$("$RTUP" verify --repo slow --timeout 2 2>&1); rc=$?
took=$(( $(date +%s) - start ))
expect_eq "AC9 timeout exit" 1 "$rc"
expect_has "AC9 timeout reported" "slow: timeout(sleep 60 & echo" "$out"
[ "$took" -lt 15 ] && ok "AC9 timeout took ${took}s" || fail "AC9 timeout took ${took}s"
# gone, or a zombie waiting for init to reap it
alive() { [ -e "/proc/$1" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]; }
bg=$(cat bg.pid 2>/dev/null)
for i in 1 2 3 4 5 6 7 8 9 10; do [ -n "$bg" ] && alive "$bg" && sleep 0.3; done
if [ -n "$bg" ] && ! alive "$bg"; then ok "AC9 background child killed with the group"
else fail "AC9 background child killed with the group" "pid $bg still alive"; [ -n "$bg" ] && kill "$bg" 2>/dev/null; fi
# The built-in re-scan: pins that disagree fail verification.
cp -a "$RTUP_TESTS/fixtures/F6" poly && mkrepo poly
printf '[repo.poly]\npath = "poly"\nwave = 8\n' >> rtup.toml
out=$("$RTUP" verify --repo poly 2>&1); rc=$?
expect_eq "AC9 re-scan finds the drift" "1:poly: verify-failed(re-scan: .tool-versions nodejs 20.10.0 is behind .nvmrc 20.11.0 (line 1))" "$rc:$out"
# A real pipeline's forms (issue 20): verify-job runs a job of a pipeline
# with a spec:inputs header, a local include given inputs, a remote include
# (served on loopback), !reference rules and repeated merge keys.
mkdir -p modern/ci modern/remote
cat > modern/remote/common.yml <<'YML'
.rules:
  default:
    - when: on_success
.common:
  variables:
    FROM_REMOTE: "yes"
YML
python3 - "$T/modern/remote" "$T/http.port" > http.log 2>&1 <<'PY' &
import functools, http.server, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
s = http.server.HTTPServer(("127.0.0.1", 0), h)
open(sys.argv[2], "w").write(str(s.server_port))
s.serve_forever()
PY
HTTP_PID=$!
for i in $(seq 50); do [ -s http.port ] && break; sleep 0.1; done
cat > modern/.gitlab-ci.yml <<YML
spec:
  inputs:
    greeting:
      default: hello
---
include:
  - local: ci/unit.yml
    inputs:
      job_name: unit
  - remote: http://127.0.0.1:$(cat http.port)/common.yml
.a: &a
  variables:
    MODE: verify
.b: &b
  before_script:
    - echo "\$[[ inputs.greeting ]] from the header"
.both:
  <<: *a
  <<: *b
YML
cat > modern/ci/unit.yml <<'YML'
spec:
  inputs:
    job_name:
---
"$[[ inputs.job_name ]]":
  extends: [.common, .both]
  rules:
    - !reference [.rules, default]
  script:
    - go test ./...
    - echo "remote=$FROM_REMOTE mode=$MODE"
YML
printf 'module example.com/modern\n\ngo 1.26.5\n' > modern/go.mod
mkrepo modern
printf '[repo.modern]\npath = "modern"\nwave = 9\nverify-job = "unit"\n' >> rtup.toml
out=$(XDG_CACHE_HOME=$T/xdg "$RTUP" verify --repo modern --to go@1.26.5 --crunner "$CRUNNER" 2>&1); rc=$?
expect_eq "verify-job on a pipeline with spec:inputs, remote include, !reference rules, repeated <<:" "0:modern: verified" "$rc:$out"
log=$(cat .rtup/logs/modern/*.log 2>/dev/null)
expect_has "the job's script ran" "unit $ go test ./..." "$log"
expect_has "the remote include and the repeated merge keys reached the job" "remote=yes mode=verify" "$log"
expect_has "the header's input reached the job" "hello from the header" "$log"
kill "$HTTP_PID" 2>/dev/null; wait "$HTTP_PID" 2>/dev/null
# Offline: verify commands run in an empty network namespace (only lo).
cat >> rtup.toml <<'EOT'
[repo.net]
path = "next"
wave = 7
offline = true
verify = ["test $(grep -c : /proc/net/dev) = 1", "go build ./..."]
EOT
if [ -n "$NET_OFF" ]; then
	: > go.log
	out=$("$RTUP" verify --repo net --to go@1.26.5 2>&1); rc=$?
	expect_eq "AC9 offline: only a loopback device inside" "0:net: verified" "$rc:$out"
	expect_has "AC9 offline: toolchain still first on PATH" "go1.26.5 build ./..." "$(cat go.log)"
	sed -i 's/^offline = true/offline = false/' rtup.toml
	out=$("$RTUP" verify --repo net 2>&1)
	expect_has "AC9 offline = false sees the host's network" "net: verify-failed(test " "$out"
else
	skip "offline verify: unshare -n is not permitted here"
fi
finish
