#!/usr/bin/env bash
# The distributed cache on Azure ([runners.cache] Type = "azure") through
# the real binary, against Azurite (Microsoft's storage emulator, installed
# by scripts/install-deps.sh) on loopback over HTTPS with a test CA that
# crunner trusts through SSL_CERT_FILE, reached as gitlab-runner reaches
# it: https://<AccountName>.<StorageDomain>, StorageDomain "localhost:PORT".
# Job 1 saves through a write SAS, an independent Shared Key client reads
# the blob back, job 2 with fresh directories restores through a read SAS;
# a missing blob goes on to the local cache (gitlab-runner's GoCloud
# extractor does); a wrong account key is one warning per transfer and
# the job goes on; a key that is not base64 leaves the local cache only.
. "$(dirname "$0")/lib.sh"

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

start_azurite() {
	local i
	mkdir -p "$T_DIR/azurite"
	AZURITE_ACCOUNTS="$ACCOUNT:$KEY" "$AZURITE_BLOB" --blobHost 127.0.0.1 \
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

start_fakegitlab
start_azurite
azblob create-container "$CONTAINER" || fail "cannot create the container"
add_runner "$RUN_TOKEN"

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

# cache_job KEY POLICY SCRIPT [FALLBACK-KEYS-JSON]
cache_job() {
	enqueue_job '{"runner": "'"$RUN_TOKEN"'", "git_strategy": "none",
  "script": '"$3"',
  "payload": {"cache": [{"key": "'"$1"'", "untracked": false, "paths": ["vendor/"],
     "policy": "'"$2"'", "when": "on_success", "fallback_keys": ['"${4:-}"']}]}}'
}

# run_job ID [keep-cache]: one job with fresh builds (and, unless told,
# fresh local cache) directories; crunner trusts the test CA through
# SSL_CERT_FILE only.
run_job() {
	rm -rf "$T_DIR/builds"
	[ "${2:-}" = keep-cache ] || rm -rf "$T_DIR/cache"
	RUN_RC=0
	SSL_CERT_FILE=$pki/ca.pem timeout 120 "$CRUNNER" run-single \
		--config "$T_DIR/config.toml" --max-builds 1 --check-interval 100ms \
		--trace-interval 200ms >"$T_DIR/run.out" 2>"$T_DIR/run.err" || RUN_RC=$?
	expect_eq 0 "$RUN_RC" "run-single exit code ($(tail -3 "$T_DIR/run.err"))"
	job_trace "$1" "$T_DIR/trace"
	! grep -q "Sanitizer" "$T_DIR/run.err" "$T_DIR/trace" ||
		fail "sanitizer report: $(grep -h -A20 Sanitizer "$T_DIR/run.err" "$T_DIR/trace" | head -40)"
	expect_eq success "$(job_field "$1" 'd["status"]')" "job status ($(tail -c 1500 "$T_DIR/trace"))"
}

BLOB=runner/$SHORT/project
URL=https://$AZ_HOST/$CONTAINER/$BLOB

test_case "job 1 saves the cache to Azurite through a write SAS"
write_config "$KEY"
id=$(cache_job k1 pull-push '["mkdir -p vendor", "echo azure-cached-content > vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Creating cache k1..." "creating notice"
expect_contains "$T_DIR/trace" "Uploading cache.zip to $URL/" "upload notice"
expect_contains "$T_DIR/trace" "Created cache" "created notice"
expect_not_contains "$T_DIR/trace" "sig=" "no signature in the log"
expect_not_contains "$T_DIR/trace" "$KEY" "no key in the log"
name=$(sed -n "s|.*Uploading cache.zip to $URL/\([^ ]*\).*|\1|p" "$T_DIR/trace" | head -1 | tr -d '\r')
case $name in */k1) ;; *) fail "object name does not end in /k1: '$name'" ;; esac
azblob get "$CONTAINER" "$BLOB/$name" "$T_DIR/blob.zip" || fail "the Shared Key client cannot read $BLOB/$name"
unzip -p "$T_DIR/blob.zip" vendor/lib.txt >"$T_DIR/content" || fail "the blob is not the cache zip"
expect_eq azure-cached-content "$(cat "$T_DIR/content")" "archived content"
grep -q '"PUT /cache/runner/[^"]*sp=w[^"]*" 201' "$T_DIR/azurite.log" ||
	fail "Azurite did not log a SAS-signed PUT with 201: $(grep PUT "$T_DIR/azurite.log" | tail -3)"

test_case "job 2 restores it through a read SAS"
id=$(cache_job k1 pull '["cat vendor/lib.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Checking cache for k1..." "checking notice"
expect_contains "$T_DIR/trace" "Downloading cache.zip from $URL/" "download notice"
expect_contains "$T_DIR/trace" "Successfully extracted cache" "extracted"
expect_contains "$T_DIR/trace" "azure-cached-content" "restored content"
grep -q '"GET /cache/runner/[^"]*sp=r[^"]*" 200' "$T_DIR/azurite.log" ||
	fail "Azurite did not log a SAS-signed GET with 200: $(grep GET "$T_DIR/azurite.log" | tail -3)"

test_case "a missing blob: the local cache is used if there is one, else the fallback key"
# Made with the local cache only (no Type), then read with Azure: 404.
sed '/Type = "azure"/d' "$T_DIR/config.toml" >"$T_DIR/config.local"
mv "$T_DIR/config.toml" "$T_DIR/config.azure"
cp "$T_DIR/config.local" "$T_DIR/config.toml"
id=$(cache_job local-only pull-push '["mkdir -p vendor", "echo from-local-cache > vendor/lib.txt"]')
run_job "$id"
cp "$T_DIR/config.azure" "$T_DIR/config.toml"
id=$(cache_job local-only pull '["cat vendor/lib.txt"]')
run_job "$id" keep-cache
expect_contains "$T_DIR/trace" "No cache at $URL/" "404 warning"
expect_contains "$T_DIR/trace" "Successfully extracted cache" "local cache extracted"
expect_contains "$T_DIR/trace" "from-local-cache" "local content"
id=$(cache_job no-such-key pull '["cat vendor/lib.txt"]' '"k1"')
run_job "$id"
expect_contains "$T_DIR/trace" "No cache at $URL/" "404 warning"
expect_contains "$T_DIR/trace" "Failed to extract cache" "no local cache either"
expect_contains "$T_DIR/trace" "Checking cache for k1..." "fallback key"
expect_contains "$T_DIR/trace" "azure-cached-content" "restored from the fallback"

test_case "a wrong account key: one warning per transfer, the job goes on"
write_config "$WRONG_KEY"
cp "$T_DIR/blob.zip" "$T_DIR/blob.before"
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from $URL/.* failed: 403" "$T_DIR/trace")" "one download warning"
expect_contains "$T_DIR/trace" "Failed to extract cache" "restore warning"
expect_contains "$T_DIR/trace" "RESULT-none" "script ran without the cache"
expect_eq 1 "$(grep -c "Uploading cache to $URL/.* failed: 403" "$T_DIR/trace")" "one upload warning"
expect_contains "$T_DIR/trace" "Failed to create cache" "archive warning"
grep -q 'AuthorizationFailure\|AuthenticationFailed\| 403' "$T_DIR/azurite.log" ||
	fail "Azurite did not refuse the signature: $(tail -3 "$T_DIR/azurite.log")"
azblob get "$CONTAINER" "$BLOB/$name" "$T_DIR/blob.after" || fail "blob gone"
cmp -s "$T_DIR/blob.before" "$T_DIR/blob.after" || fail "the blob changed under a wrong key"

test_case "an account key that is not base64: one warning, the local cache still works"
write_config "not base64!"
id=$(cache_job bad-key pull-push '["mkdir -p vendor", "echo l > vendor/l.txt"]')
run_job "$id"
expect_contains "$T_DIR/trace" "Cannot use the distributed cache: creating Azure signature: the account key is not base64" "key warning"
expect_contains "$T_DIR/trace" "Created cache" "local cache made"
expect_not_contains "$T_DIR/trace" "Uploading cache.zip" "no upload"

t_finish
