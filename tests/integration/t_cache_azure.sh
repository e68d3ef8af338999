#!/usr/bin/env bash
# The distributed cache on Azure ([runners.cache] Type = "azure") through
# the real binary, against Azurite (Microsoft's storage emulator, installed
# by scripts/install-deps.sh) on loopback over HTTPS with a test CA that
# crunner trusts through SSL_CERT_FILE, reached as gitlab-runner reaches
# it: https://<AccountName>.<StorageDomain>, StorageDomain "localhost:PORT".
# Job 1 saves through a write SAS, an independent Shared Key client reads
# the blob back, job 2 with fresh directories restores through a read SAS;
# a missing blob goes on to the local cache (gitlab-runner's GoCloud
# extractor does), else to the fallback key.  t_cache_azure_keys.sh: wrong
# and malformed account keys.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_azure_lib.sh"

start_cache_azure

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
# gitlab-runner's metadata, kept by Azurite as blob metadata.
expect_eq "cachekey: k1" "$(azblob meta "$CONTAINER" "$BLOB/$name")" "blob metadata"

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

t_finish
