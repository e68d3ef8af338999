#!/usr/bin/env bash
# An expired Azure SAS, against Azurite whose clock runs two days ahead
# (faketime): every SAS crunner signs for the job's timeout has expired
# there, so Azurite refuses the download and the upload with 403; each
# is one line with Azurite's error code, neither is retried, and the job
# goes on without the remote cache.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cache_azure_lib.sh"

command -v faketime >/dev/null || skip_scenario "faketime is not installed (scripts/install-deps.sh)"

start_cache_azure env FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -m -f +2d

test_case "an expired SAS: one 403 line each way, not retried, the job goes on"
write_config "$KEY"
id=$(cache_job k1 pull-push '["echo RESULT-$(test -e vendor/lib.txt && echo restored || echo none)", "mkdir -p vendor", "echo new > vendor/lib.txt"]')
run_job "$id"
expect_eq 1 "$(grep -c "Downloading cache from $URL/.* failed: 403 Forbidden (code: AuthorizationFailure" "$T_DIR/trace")" "one download line"
expect_eq 1 "$(grep -c "Uploading cache to $URL/.* failed: 403 Forbidden (code: AuthorizationFailure" "$T_DIR/trace")" "one upload line"
expect_not_contains "$T_DIR/trace" "Retrying" "a 403 is not retried"
expect_contains "$T_DIR/trace" "RESULT-none" "nothing restored"
expect_contains "$T_DIR/trace" "Failed to create cache" "archive warning"
# Azurite's access log: each refused request came after its SAS's se=.
expired=$("$PYTHON" - "$T_DIR/azurite.log" <<'PY'
import re, sys, urllib.parse
from datetime import datetime
n = 0
for line in open(sys.argv[1]):
    m = re.search(r'\[([^]]+)\] "(GET|PUT) [^ ]*[?&]se=([^& ]+)[^"]*" 403', line)
    if not m:
        continue
    at = datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z")
    se = datetime.strptime(urllib.parse.unquote(m.group(3)), "%Y-%m-%dT%H:%M:%S%z")
    n += at > se
print(n)
PY
)
expect_eq 2 "$expired" "Azurite refused two requests that came after their SAS expiry"

t_finish
