# Helpers for the GCS cache scenarios (t_cache_gcs*.sh), sourced after
# lib.sh: a throwaway service-account key made with the openssl CLI, the
# GCS stand-in (tests/gcs/fakegcs.py) that verifies V2 signatures with
# its public half, a config.toml with a GCS cache, cache jobs, and a run
# with fresh directories so that whatever is restored came from the store.

command -v openssl >/dev/null || fail "openssl is needed to make the test keys"

EMAIL=cache-signer@crunner-test.iam.gserviceaccount.com
SHORT=integrati
OBJ=$T_DIR/objects
keys=$T_DIR/keys
mkdir -p "$keys"
(
	cd "$keys"
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.pem 2>/dev/null &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out wrong.pem 2>/dev/null &&
	openssl pkey -in sa.pem -pubout -out sa.pub 2>/dev/null
) || fail "cannot make the test keys"
MODULUS=$(openssl rsa -pubin -in "$keys/sa.pub" -noout -modulus | sed 's/^Modulus=//')
[ -n "$MODULUS" ] || fail "no modulus"

# sa_json KEYFILE OUT [TYPE]: a service account credentials file.
sa_json() {
	"$PYTHON" - "$1" "$2" "${3:-service_account}" "$EMAIL" <<'PY'
import json, sys
key, out, typ, email = sys.argv[1:5]
with open(out, "w") as f:
    json.dump({"type": typ, "project_id": "crunner-test", "private_key_id": "k1",
               "private_key": open(key).read(), "client_email": email}, f)
PY
}

# start_fakegcs NAME [ARGS...]: a fakegcs.py on loopback; sets PORT_<NAME>.
start_fakegcs() {
	local name=$1 pid
	shift
	"$PYTHON" "$CR_SOURCE_DIR/tests/gcs/fakegcs.py" --dir "$OBJ" --bucket cache \
		--access-id "$EMAIL" --modulus "$MODULUS" --port 0 \
		--port-file "$T_DIR/$name.port" "$@" \
		>/dev/null 2>"$T_DIR/$name.log" &
	pid=$!
	test_when_finished "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for_port_file "$T_DIR/$name.port" "fakegcs $name" "$T_DIR/$name.log"
	printf -v "PORT_$name" '%s' "$(cat "$T_DIR/$name.port")"
}

# write_config [CACHE-KEY = VALUE...] -- [GCS-KEY = VALUE...]: a GCS cache.
write_config() {
	local kv in_gcs=0
	{
		cat <<TOML
concurrent = 1
[[runners]]
  name = "gcs"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  cache_dir = "$T_DIR/cache"
  [runners.cache]
    Type = "gcs"
TOML
		for kv in "$@"; do
			if [ "$kv" = -- ]; then
				printf '    [runners.cache.gcs]\n      BucketName = "cache"\n'
				in_gcs=1
				continue
			fi
			if [ $in_gcs = 1 ]; then echo "      $kv"; else echo "    $kv"; fi
		done
		[ $in_gcs = 1 ] || printf '    [runners.cache.gcs]\n      BucketName = "cache"\n'
	} >"$T_DIR/config.toml"
}

# key_config KEYFILE: AccessID and the PEM as a TOML multi-line string.
key_config() {
	printf 'AccessID = "%s"\n' "$EMAIL"
	printf 'PrivateKey = """\n%s"""\n' "$(cat "$1")"
}

. "$CR_SOURCE_DIR/tests/integration/cache_lib.sh"
