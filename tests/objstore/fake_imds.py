#!/usr/bin/env python3
"""A fake EC2 instance metadata service (IMDSv2) for crunner's cache tests.

Standard library only; loopback only.  PUT /latest/api/token with
X-aws-ec2-metadata-token-ttl-seconds hands out a session token; every GET
must carry it in X-aws-ec2-metadata-token (401 otherwise, as the real
service does).  /latest/meta-data/iam/security-credentials/ names one
role, and .../<role> gives its credentials (AccessKeyId, SecretAccessKey,
Token, Expiration --lifetime seconds from the request).  One line per
request goes to stderr: "METHOD /path -> STATUS [detail]".

    fake_imds.py --access-key AK --secret-key SK --session-token TOK
                 [--role NAME] [--lifetime 3600] [--port 0] [--port-file P]
"""

import argparse
import json
import os
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import loopback_http  # noqa: E402

CREDS = "/latest/meta-data/iam/security-credentials/"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _answer(self, status, body, detail=""):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        sys.stderr.write("%s %s -> %d%s\n" % (self.command, self.path, status,
                                              " " + detail if detail else ""))
        sys.stderr.flush()

    def do_PUT(self):
        cfg = self.server.cfg
        n = int(self.headers.get("Content-Length", "0") or 0)
        if n:
            self.rfile.read(n)
        if self.path != "/latest/api/token":
            self._answer(404, "not found")
            return
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
        if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            self._answer(400, "bad ttl", "ttl=%r" % ttl)
            return
        token = secrets.token_hex(16)
        self.server.tokens.add(token)
        self._answer(200, token, "ttl=%s" % ttl)

    def do_GET(self):
        cfg = self.server.cfg
        if self.headers.get("X-aws-ec2-metadata-token") not in self.server.tokens:
            self._answer(401, "", "no session token")
            return
        if self.path == CREDS:
            self._answer(200, cfg.role + "\n", "token ok")
        elif self.path == CREDS + cfg.role:
            exp = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                time.gmtime(time.time() + cfg.lifetime))
            self._answer(200, json.dumps({
                "Code": "Success", "Type": "AWS-HMAC",
                "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "AccessKeyId": cfg.access_key,
                "SecretAccessKey": cfg.secret_key,
                "Token": cfg.session_token, "Expiration": exp}),
                "token ok")
        else:
            self._answer(404, "not found")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--session-token", required=True)
    ap.add_argument("--role", default="crunner-cache-role")
    ap.add_argument("--lifetime", type=int, default=3600)
    loopback_http.add_listen_args(ap)
    cfg = ap.parse_args()
    loopback_http.serve(Handler, cfg, "fake_imds", tokens=set())


if __name__ == "__main__":
    main()
