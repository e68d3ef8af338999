# Shared by tests/integration/t_docker*.sh, sourced after lib.sh: a Docker
# engine with the local test images (scripts/docker-test-env.sh), the
# helper image built from the crunner under test, and helpers to write a
# config.toml, run one job and look for what a job left behind.
#
# Set DOCKER_TEST_PREFIX (three letters) before sourcing: each run of each
# file has a runner token of its own (the prefix and six random hex
# digits: crunner's short token), because run-single removes the leftovers
# of its token's jobs when it starts, and tests may run side by side (also
# the same file from two build trees).

. "$CR_SOURCE_DIR/tests/docker/env.sh"

SOCK=${DOCKER_SOCK:-/var/run/docker.sock}
BUSYBOX=crunner-test/busybox:latest
BASH_IMAGE=crunner-test/bash:latest
SERVICE_IMAGE=crunner-test/service:latest
SERVICE_PORT=38471
own_runner_token "${DOCKER_TEST_PREFIX:?}"
SHORT_LC=$(printf '%s' "$SHORT" | tr 'A-Z' 'a-z')

start_fakegitlab
add_runner "$TOKEN"

# dapi PATH [CURL-ARGS]: a GET on the engine, the body on stdout.
dapi() {
	local path=$1
	shift
	curl -sS --unix-socket "$SOCK" -G "http://docker$path" "$@"
}

# Job ids restart at 1000 with each fake coordinator: a label filter is
# always the job's and this file's runner.
labels() { # LABEL=VALUE
	printf '"com.gitlab.gitlab-runner.%s","com.gitlab.gitlab-runner.runner.id=%s"' "$1" "$SHORT"
}

# containers_with LABEL=VALUE: ids of every container with that label.
containers_with() {
	dapi /containers/json --data-urlencode all=1 \
		--data-urlencode "filters={\"label\":[$(labels "$1")]}" |
		"$PYTHON" -c 'import json,sys; print(" ".join(c["Id"][:12] for c in json.load(sys.stdin)))'
}
containers_of() { containers_with "job.id=$1"; }

# volumes_with LABEL=VALUE: names of every volume with that label.
volumes_with() {
	dapi /volumes --data-urlencode "filters={\"label\":[$(labels "$1")]}" |
		"$PYTHON" -c 'import json,sys; print(" ".join(v["Name"] for v in json.load(sys.stdin)["Volumes"] or []))'
}

# The engine's container events for this file's runner, recorded as they
# come (the engine keeps only its last events: with tests running side by
# side, asking afterwards may miss some).
curl -sSN --unix-socket "$SOCK" -G "http://docker/events" \
	--data-urlencode "filters={\"type\":[\"container\"],\"event\":[\"create\"],\"label\":[\"com.gitlab.gitlab-runner.runner.id=$SHORT\"]}" \
	>"$T_DIR/events.json" 2>/dev/null &
events_pid=$!
test_when_finished "kill $events_pid 2>/dev/null; wait $events_pid 2>/dev/null"

# created_types_of JOB-ID: the type label of each container the engine
# created for the job, in order ("predefined build build ...").
created_types_of() {
	sleep 0.3
	"$PYTHON" -c '
import json, sys
out = []
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    a = json.loads(line)["Actor"]["Attributes"]
    if a.get("com.gitlab.gitlab-runner.job.id") == sys.argv[2]:
        out.append(a.get("com.gitlab.gitlab-runner.type", "?"))
print(" ".join(out))' "$T_DIR/events.json" "$1"
}

# Whatever this file's runner has at the end goes with the test: the
# volumes kept on purpose (caches, fetch builds) and, after a failed case,
# containers and volumes a killed crunner left.
remove_runner_leftovers() {
	local c v
	for c in $(dapi /containers/json --data-urlencode all=1 \
		--data-urlencode "filters={\"label\":[\"com.gitlab.gitlab-runner.runner.id=$SHORT\"]}" |
		"$PYTHON" -c 'import json,sys; print(" ".join(c["Id"] for c in json.load(sys.stdin)))'); do
		curl -sS --unix-socket "$SOCK" -X DELETE "http://docker/containers/$c?force=1&v=1" >/dev/null
	done
	for v in $(volumes_with managed=true) $(temp_volumes_of); do
		curl -sS --unix-socket "$SOCK" -X DELETE "http://docker/volumes/$v?force=1" >/dev/null
	done
}
test_when_finished remove_runner_leftovers

# The job's own volumes (a job hash before -cache-); kept caches are not.
# By name, not label: a volume the engine made by itself has no labels.
# The files of one runner run their jobs one at a time: any such volume of
# the runner is the job's.
temp_volumes_of() {
	dapi /volumes | "$PYTHON" -c '
import json, re, sys
short = sys.argv[1].lower()
pat = re.compile("^runner-%s-project-[0-9]+-concurrent-[0-9]+-[0-9a-f]{8}-cache-" % re.escape(short))
print(" ".join(v["Name"] for v in json.load(sys.stdin)["Volumes"] or [] if pat.match(v["Name"])))' "$SHORT"
}


expect_nothing_left() { # job-id
	local left
	left=$(containers_of "$1")
	[ -z "$left" ] || fail "containers left for job $1: $left"
	left=$(temp_volumes_of "$1")
	[ -z "${left// /}" ] || fail "volumes left for job $1: $left"
}

# write_config KEY=VALUE...: a config.toml for the docker executor; a
# "runners.KEY=VALUE" goes to [[runners]], the rest to [runners.docker].
write_config() {
	local kv policy='pull_policy = ["if-not-present"]' net='network_mode = "none"'
	{
		cat <<TOML
concurrent = 1
[[runners]]
  name = "docker-test"
  url = "$FAKE_URL"
  token = "$TOKEN"
  executor = "docker"
TOML
		for kv in "$@"; do
			case $kv in runners.*) echo "  ${kv#runners.}" ;; esac
		done
		cat <<TOML
  [runners.docker]
    host = "unix://$SOCK"
    image = "$BUSYBOX"
    helper_image = "$HELPER_IMAGE"
TOML
		for kv in "$@"; do
			case $kv in
			runners.*) ;;
			pull_policy*) policy=$kv ;;
			network_mode*) net=$kv ;;
			*) echo "    $kv" ;;
			esac
		done
		echo "    $policy"
		echo "    $net"
	} >"$T_DIR/config.toml"
}

# run_docker: one job (lib.sh's run_config).
run_docker() { run_config; }

# run_job JSON: queues it, runs it, leaves the trace in $T_DIR/trace and
# the id in $id.
run_job() {
	id=$(enqueue_job "$1")
	run_docker
	job_trace "$id" "$T_DIR/trace"
}
