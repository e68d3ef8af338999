# Helpers for the S3 cache scenarios (t_cache_s3*.sh), sourced after
# lib.sh: the object store (tests/objstore/objstore.py) with one key pair,
# a config.toml with an S3 cache, cache jobs, and a run with fresh
# directories so that whatever is restored came from the store.

AK=AKIACRUNNERTEST0001
SK=crunner/objstore+secret/key0001
# gitlab-runner's short token: the first 9 characters after the glrt-t1_ prefix.
SHORT=integrati
OBJ=$T_DIR/objects
# Where the store keeps this runner's project caches (its non-shared layout).
PREFIX=$OBJ/cache/runner/$SHORT/project

start_objstore() {
	local portfile="$T_DIR/objstore.port"
	"$PYTHON" "$CR_SOURCE_DIR/tests/objstore/objstore.py" --dir "$OBJ" \
		--access-key "$AK" --secret-key "$SK" --bucket cache \
		--region eu-test-1 --port 0 --port-file "$portfile" \
		>"$T_DIR/objstore.out" 2>"$T_DIR/objstore.log" &
	OBJ_PID=$!
	test_when_finished "kill $OBJ_PID 2>/dev/null; wait $OBJ_PID 2>/dev/null"
	wait_for_port_file "$portfile" objstore "$T_DIR/objstore.log"
	OBJ_ADDR=127.0.0.1:$(cat "$portfile")
}


# start_cache_s3: the fake GitLab, the object store and the runner.
start_cache_s3() {
	start_fakegitlab
	start_objstore
	add_runner "$RUN_TOKEN"
}

# The RoleARN scenarios (t_cache_s3_role.sh, t_cache_offload.sh): a store
# that knows only the role's keys, which a fake STS gives for AK/SK.
ROLE=arn:aws:iam::123456789012:role/crunner-cache
ROLE_AK=ASIACRUNNERROLE00001
ROLE_SK=role/session+secret/key
ROLE_TOKEN=IQoJb3JpZ2luX2VjEROLE-session-token/crunner+test==

# start_role_store: objstore.py on $OBJ with the role's keys only (port in
# $T_DIR/store.port; start_role_sts waits for it).
start_role_store() {
	"$PYTHON" "$CR_SOURCE_DIR/tests/objstore/objstore.py" --dir "$OBJ" \
		--access-key "$ROLE_AK" --secret-key "$ROLE_SK" --session-token "$ROLE_TOKEN" \
		--bucket cache --region eu-test-1 --port 0 --port-file "$T_DIR/store.port" \
		>/dev/null 2>"$T_DIR/store.log" &
	STORE_PID=$!
	test_when_finished "kill $STORE_PID 2>/dev/null; wait $STORE_PID 2>/dev/null"
}

# start_role_sts [ARGS...]: a fake STS (fake_sts.py ARGS...) that answers
# AssumeRole signed with AK/SK with the role's keys; waits for it and the
# role store, then points AWS_ENDPOINT_URL_STS at it.
start_role_sts() {
	rm -f "$T_DIR/sts.port"
	"$PYTHON" "$CR_SOURCE_DIR/tests/objstore/fake_sts.py" --caller-key "$AK" \
		--caller-secret "$SK" --role-arn "$ROLE" --access-key "$ROLE_AK" \
		--secret-key "$ROLE_SK" --session-token "$ROLE_TOKEN" "$@" --port 0 \
		--port-file "$T_DIR/sts.port" >/dev/null 2>"$T_DIR/sts.log" &
	STS_PID=$!
	test_when_finished "kill $STS_PID 2>/dev/null; wait $STS_PID 2>/dev/null"
	wait_for_port_file "$T_DIR/store.port" "the role's store" "$T_DIR/store.log"
	wait_for_port_file "$T_DIR/sts.port" STS "$T_DIR/sts.log"
	export AWS_ENDPOINT_URL_STS=http://127.0.0.1:$(cat "$T_DIR/sts.port")
}

# write_config SECRET [CACHE-KEY = VALUE...]: config.toml with an S3 cache.
write_config() {
	local secret=$1 kv
	shift
	{
		cat <<TOML
concurrent = 1
[[runners]]
  name = "s3"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  cache_dir = "$T_DIR/cache"
  [runners.cache]
    Type = "s3"
TOML
		for kv in "$@"; do
			echo "    $kv"
		done
		cat <<TOML
    [runners.cache.s3]
      ServerAddress = "$OBJ_ADDR"
      AccessKey = "$AK"
      SecretKey = "$secret"
      BucketName = "cache"
      BucketLocation = "${BUCKET_LOCATION-eu-test-1}"
      Insecure = true
TOML
	} >"$T_DIR/config.toml"
}

. "$CR_SOURCE_DIR/tests/integration/cache_lib.sh"

