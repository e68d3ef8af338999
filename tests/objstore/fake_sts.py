#!/usr/bin/env python3
"""A fake AWS STS for crunner's S3 RoleARN tests (standard library only,
loopback only).

It answers POST / with Action=AssumeRole (query protocol, form body)
when the request carries a valid SigV4 Authorization header (service
"sts") made with --caller-key/--caller-secret (and --caller-token as
X-Amz-Security-Token when given) and names --role-arn.  The answer holds
--access-key, --secret-key and --session-token, expiring after the
DurationSeconds asked for.  Errors are STS's XML ErrorResponse: 403
SignatureDoesNotMatch, InvalidClientTokenId, AccessDenied (another role).
One line per request goes to stderr:
"POST / -> STATUS CODE-or-role action=<policy action> resource=<...>".

With --delay S the first --delay-count N requests (default: all) wait S
seconds before their answer (a slow or hung STS), each announced first
with a "RECV POST /" line.

    fake_sts.py --caller-key AK --caller-secret SK --role-arn ARN
                --access-key RAK --secret-key RSK --session-token TOK
                [--delay S [--delay-count N]] [--port 0] [--port-file PATH]
"""

import argparse
import hmac
import json
import os
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import loopback_http  # noqa: E402
import sigv4_header  # noqa: E402


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _answer(self, status, body, note):
        sys.stderr.write("POST %s -> %d %s\n" % (self.path, status, note))
        sys.stderr.flush()
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status, code, message):
        self._answer(status, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                     "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                     "<RequestId>fake</RequestId></ErrorResponse>" % (code, message), code)

    def _maybe_wait(self):
        cfg = self.server.cfg
        with self.server.lock:
            self.server.delayed += 1
            slow = cfg.delay > 0 and (cfg.delay_count < 0 or self.server.delayed <= cfg.delay_count)
        if slow:
            sys.stderr.write("RECV POST %s\n" % self.path)
            sys.stderr.flush()
            time.sleep(cfg.delay)

    def do_POST(self):
        cfg = self.server.cfg
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._maybe_wait()
        form = dict(urllib.parse.parse_qsl(body.decode()))
        auth = self.headers.get("Authorization", "")
        try:
            algo, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            ak, day, region, service, term = parts["Credential"].split("/")
            names = parts["SignedHeaders"].split(";")
        except ValueError:
            return self._error(403, "MissingAuthenticationToken", "Request is missing Authentication Token")
        if algo != "AWS4-HMAC-SHA256" or service != "sts" or term != "aws4_request":
            return self._error(400, "IncompleteSignature", "bad credential scope")
        if ak != cfg.caller_key:
            return self._error(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        headers = {k.lower(): v for k, v in self.headers.items()}
        if cfg.caller_token and headers.get("x-amz-security-token") != cfg.caller_token:
            return self._error(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        date = headers.get("x-amz-date", "")
        if "host" not in names or "x-amz-date" not in names or date[:8] != day:
            return self._error(400, "IncompleteSignature", "host and x-amz-date must be signed")
        want = sigv4_header.signature(cfg.caller_secret, region, "sts", date, "POST", "/",
                                      headers, names, body)
        if not hmac.compare_digest(want, parts.get("Signature", "")):
            return self._error(403, "SignatureDoesNotMatch",
                               "The request signature we calculated does not match the signature you provided.")
        if form.get("Action") != "AssumeRole" or form.get("Version") != "2011-06-15":
            return self._error(400, "InvalidAction", "Could not find operation %s" % form.get("Action"))
        if form.get("RoleArn") != cfg.role_arn:
            return self._error(403, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s"
                               % (ak, form.get("RoleArn")))
        try:
            policy = json.loads(form["Policy"])
            st = policy["Statement"][0]
            note = "%s action=%s resource=%s statements=%d session=%s" % (
                form["RoleArn"], ",".join(st["Action"]), st["Resource"],
                len(policy["Statement"]), form["RoleSessionName"])
            duration = int(form["DurationSeconds"])
        except (KeyError, ValueError, IndexError):
            return self._error(400, "ValidationError", "bad Policy, RoleSessionName or DurationSeconds")
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + duration))
        self._answer(200, "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
                     "<AssumedRoleUser><Arn>%s/%s</Arn><AssumedRoleId>AROAFAKE:%s</AssumedRoleId></AssumedRoleUser>"
                     "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
                     "<SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>"
                     "</AssumeRoleResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>"
                     "</AssumeRoleResponse>" % (
                         cfg.role_arn, form["RoleSessionName"], form["RoleSessionName"],
                         cfg.access_key, cfg.secret_key, cfg.session_token, expires), note)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("caller-key", "caller-secret", "role-arn", "access-key",
                 "secret-key", "session-token"):
        ap.add_argument("--" + name, required=True)
    ap.add_argument("--caller-token")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--delay-count", type=int, default=-1)
    loopback_http.add_listen_args(ap)
    cfg = ap.parse_args()
    loopback_http.serve(Handler, cfg, "fake STS", delayed=0)


if __name__ == "__main__":
    main()
