# Sourced by the docker scenarios: a Docker engine with the local test
# images and the helper image built from the crunner under test
# (scripts/docker-test-env.sh; its log, with "helper image: NAME", is
# $T_DIR/docker-env.log; the name is put in HELPER_IMAGE).  Without an
# engine the scenario is skipped (skip_scenario: a failure under CI=true,
# exit 77 for ctest otherwise).
env_rc=0
HELPER_BINARY=$CRUNNER bash "$CR_SOURCE_DIR/scripts/docker-test-env.sh" \
	>"$T_DIR/docker-env.log" 2>&1 || env_rc=$?
if [ "$env_rc" -eq 3 ]; then
	skip_scenario "no docker engine ($(tail -n 1 "$T_DIR/docker-env.log"))"
fi
[ "$env_rc" -eq 0 ] || fail "docker-test-env.sh failed ($env_rc): $(cat "$T_DIR/docker-env.log")"
HELPER_IMAGE=$(sed -n 's/.*helper image: //p' "$T_DIR/docker-env.log" | tail -1)
[ -n "$HELPER_IMAGE" ] || fail "no helper image: $(cat "$T_DIR/docker-env.log")"
