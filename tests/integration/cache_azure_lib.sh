# Helpers for the Azure cache scenarios (t_cache_azure*.sh), sourced
# after lib.sh: a test CA and a certificate for <account>.localhost,
# Azurite on loopback over HTTPS (stopped by its PID), a second client
# that signs with the account key itself (tests/azurite/azblob.py), a
# config.toml with an Azure cache, cache jobs, and a run with fresh
# directories in which crunner trusts the CA through SSL_CERT_FILE only.

AZURITE_BLOB=${AZURITE_BLOB:-$CR_SOURCE_DIR/.deps/azurite/node_modules/.bin/azurite-blob}
[ -x "$AZURITE_BLOB" ] || skip_scenario "Azurite is not installed (scripts/install-deps.sh)"
command -v node >/dev/null || skip_scenario "node is not installed (scripts/install-deps.sh)"
command -v openssl >/dev/null || fail "openssl is needed to make test certificates"

ACCOUNT=crunneracct
KEY=$(printf 'crunner-azurite-account-key-0001' | base64)
WRONG_KEY=$(printf 'not-the-account-key-of-crunner!!' | base64)
CONTAINER=cache
SHORT=integrati

pki=$T_DIR/pki
mkdir -p "$pki"
(
	cd "$pki"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=crunner test CA" \
		-keyout ca.key -out ca.pem 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$ACCOUNT.localhost" \
		-keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=DNS:%s.localhost,IP:127.0.0.1\n' "$ACCOUNT" >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
		-days 2 -extfile server.ext -out server.pem 2>/dev/null
) || fail "cannot make the test certificates"

# start_azurite [COMMAND-PREFIX...]: Azurite, run under the prefix if
# one is given (faketime for a clock of its own).
start_azurite() {
	local i
	mkdir -p "$T_DIR/azurite"
	AZURITE_ACCOUNTS="$ACCOUNT:$KEY" "$@" "$AZURITE_BLOB" --blobHost 127.0.0.1 \
		--blobPort 0 --location "$T_DIR/azurite" --cert "$pki/server.pem" \
		--key "$pki/server.key" --disableTelemetry \
		>"$T_DIR/azurite.log" 2>&1 &
	AZ_PID=$!
	test_when_finished "kill $AZ_PID 2>/dev/null; wait $AZ_PID 2>/dev/null"
	for ((i = 0; i < 600; i++)); do
		AZ_PORT=$(sed -n 's|.*successfully listens on https://127.0.0.1:\([0-9]*\).*|\1|p' "$T_DIR/azurite.log")
		[ -n "$AZ_PORT" ] && break
		kill -0 "$AZ_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$AZ_PORT" ] || fail "Azurite did not start: $(tail -20 "$T_DIR/azurite.log")"
	AZ_HOST=$ACCOUNT.localhost:$AZ_PORT
}

azblob() {
	"$PYTHON" "$CR_SOURCE_DIR/tests/azurite/azblob.py" --endpoint "https://$AZ_HOST" \
		--account "$ACCOUNT" --key "$KEY" --ca "$pki/ca.pem" "$@"
}

# start_front NAME FAIL: tests/azurite/faulty_front.py before Azurite,
# answering the first FAIL requests 503 ServerBusy; sets FRONT_<NAME> to
# its port, its log is $T_DIR/NAME.log.
start_front() {
	local name=$1 pid
	"$PYTHON" "$CR_SOURCE_DIR/tests/azurite/faulty_front.py" \
		--upstream-port "$AZ_PORT" --upstream-host "$ACCOUNT.localhost" \
		--ca "$pki/ca.pem" --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
		--fail "$2" --port-file "$T_DIR/$name.port" >/dev/null 2>"$T_DIR/$name.log" &
	pid=$!
	test_when_finished "kill $pid 2>/dev/null; wait $pid 2>/dev/null"
	wait_for_port_file "$T_DIR/$name.port" "faulty_front $name" "$T_DIR/$name.log"
	printf -v "FRONT_$name" '%s' "$(cat "$T_DIR/$name.port")"
}

# write_config ACCOUNT-KEY [CACHE-KEY = VALUE...]: an Azure cache.
write_config() {
	local key=$1 kv
	shift
	{
		cat <<TOML
concurrent = 1
[[runners]]
  name = "azure"
  url = "$FAKE_URL"
  token = "$RUN_TOKEN"
  executor = "shell"
  builds_dir = "$T_DIR/builds"
  cache_dir = "$T_DIR/cache"
  [runners.cache]
    Type = "azure"
TOML
		for kv in "$@"; do
			echo "    $kv"
		done
		cat <<TOML
    [runners.cache.azure]
      AccountName = "$ACCOUNT"
      AccountKey = "$key"
      ContainerName = "$CONTAINER"
      StorageDomain = "localhost:$AZ_PORT"
TOML
	} >"$T_DIR/config.toml"
}

. "$CR_SOURCE_DIR/tests/integration/cache_lib.sh"
CACHE_RUN_ENV=("SSL_CERT_FILE=$pki/ca.pem")

BLOB=runner/$SHORT/project

# start_cache_azure [COMMAND-PREFIX...]: the fake GitLab, Azurite
# (start_azurite COMMAND-PREFIX...) with the cache's container, and the
# runner; URL is where this runner's project caches are.
start_cache_azure() {
	start_fakegitlab
	start_azurite "$@"
	azblob create-container "$CONTAINER" || fail "cannot create the container"
	add_runner "$RUN_TOKEN"
	URL=https://$AZ_HOST/$CONTAINER/$BLOB
}
