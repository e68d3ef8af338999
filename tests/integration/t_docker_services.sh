#!/usr/bin/env bash
# The docker executor's services against a real Docker engine, with
# network_mode host (no bridge here): a service started from the job's
# services: with its entrypoint, command and variables and the job's
# variables, waited for on the TCP port its image exposes (127.0.0.1) and
# reached by the job on loopback; a service that never listens is a
# warning with its logs after wait_for_services_timeout, not a failure;
# the job's timeout stops the wait; allowed_services refuses what is not
# listed; no container is left.
. "$(dirname "$0")/lib.sh"

DOCKER_TEST_PREFIX=dse
. "$CR_SOURCE_DIR/tests/docker/lib.sh"

test_case "a service with entrypoint, command and variables, reached on loopback"
write_config 'network_mode = "host"'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "variables": [{"key": "JOB_LEVEL", "value": "from-the-job", "public": true}],
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "alias": "web",
     "entrypoint": ["/bin/sh", "-c"],
     "command": ["echo \"$SVC_GREETING $JOB_LEVEL\" > /www/index.html && exec httpd -f -p '"$SERVICE_PORT"' -h /www"],
     "variables": [{"key": "SVC_GREETING", "value": "hello-from-service", "public": true}]}]},
  "script": ["wget -qO- http://127.0.0.1:'"$SERVICE_PORT"'/"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Starting service crunner-test/service:latest ..." "service start line"
expect_contains "$T_DIR/trace" "Waiting for services to be up and running (timeout 30 seconds)..." "wait line"
expect_not_contains "$T_DIR/trace" "probably didn't start properly" "no warning"
expect_contains "$T_DIR/trace" "hello-from-service from-the-job" "the job talked to the service"
types=$(created_types_of "$id")
case " $types " in *" service "*) ;; *) fail "no service container among '$types'" ;; esac
expect_nothing_left "$id"

test_case "a service of [[runners.docker.services]] with its environment"
write_config 'network_mode = "host"'
cat >>"$T_DIR/config.toml" <<TOML
    [[runners.docker.services]]
      name = "$SERVICE_IMAGE"
      alias = "cfgsvc"
      entrypoint = ["/bin/sh", "-c"]
      command = ["echo \"\$CFG_WORD\" > /www/index.html && exec httpd -f -p $SERVICE_PORT -h /www"]
      environment = ["CFG_WORD=from-config-service"]
TOML
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "script": ["wget -qO- http://127.0.0.1:'"$SERVICE_PORT"'/"]}'
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "from-config-service" "the job talked to the config's service"
expect_nothing_left "$id"

test_case "a service that never listens: gitlab-runner's warning with its logs"
write_config 'network_mode = "host"' 'wait_for_services_timeout = 2'
start=$(date +%s)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "entrypoint": ["/bin/sh", "-c"],
     "command": ["echo svc-log-line; exec sleep 60"]}]},
  "script": ["echo job-ran-anyway"]}'
elapsed=$(($(date +%s) - start))
expect_eq success "$(job_field "$id" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
expect_contains "$T_DIR/trace" "Waiting for services to be up and running (timeout 2 seconds)..." "wait line"
expect_contains "$T_DIR/trace" "*** WARNING: Service runner-" "warning"
expect_contains "$T_DIR/trace" "-crunner-test__service-0 probably didn't start properly." "service named"
expect_contains "$T_DIR/trace" "svc-log-line" "its logs"
expect_contains "$T_DIR/trace" "job-ran-anyway" "the job ran"
[ "$elapsed" -lt 30 ] || fail "the job took ${elapsed}s: the service's sleep was waited for"
expect_nothing_left "$id"

test_case "the job's timeout during the wait for a service: stopped at once, nothing left"
write_config 'network_mode = "host"' 'wait_for_services_timeout = 120'
start=$(date +%s)
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none", "timeout": 3,
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'", "entrypoint": ["sleep"], "command": ["120"]}]},
  "script": ["echo must-not-run"]}'
elapsed=$(($(date +%s) - start))
expect_eq job_execution_timeout "$(job_field "$id" 'd["failure_reason"]')" "failure reason ($(tail -c 800 "$T_DIR/trace"))"
expect_not_contains "$T_DIR/trace" "must-not-run" "no script ran"
[ "$elapsed" -lt 30 ] || fail "the timeout took ${elapsed}s"
expect_nothing_left "$id"

test_case "allowed_services: a service not listed fails the job before anything runs"
write_config 'network_mode = "host"' 'allowed_services = ["registry.example.com/*"]'
run_job '{"runner": "'"$TOKEN"'", "git_strategy": "none",
  "payload": {"services": [{"name": "'"$SERVICE_IMAGE"'"}]}, "script": ["echo must-not-run"]}'
expect_eq runner_system_failure "$(job_field "$id" 'd["failure_reason"]')" "failure reason"
expect_contains "$T_DIR/trace" "is not present on list of allowed services" "allowed_services line"
expect_not_contains "$T_DIR/trace" "must-not-run" "no stage ran"
expect_nothing_left "$id"

echo "ok: $T_NAME"
