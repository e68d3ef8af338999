"""What the job-secrets fakes (fake_aws.py, fake_azure.py, fake_gcp.py,
fake_vault.py) share: a handler that logs each request as one JSON line
to --log before it answers, and the command line every one of them takes
(--config FILE --log FILE and loopback_http's --port, --port-file and,
with tls, --tls-cert/--tls-key).  Standard library only.

    import fake_common   # the fakes' own directory is on sys.path
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import loopback_http  # noqa: E402


class RecordingHandler(BaseHTTPRequestHandler):
    """Answers through reply()/reply_json(), which append the request's
    record (with its status) to the server's --log first."""

    protocol_version = "HTTP/1.1"
    json_type = "application/json"	# Content-Type of reply_json()
    extra_headers = ()			# sent with every answer

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, ctype, data, rec, headers=()):
        rec["status"] = status
        with self.server.lock:
            with open(self.server.cfg.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in tuple(self.extra_headers) + tuple(headers):
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass	# a client that gave up (a slow answer, a cancel)

    def reply_json(self, status, doc, rec, headers=()):
        self.reply(status, self.json_type, json.dumps(doc).encode(), rec, headers)


def main(handler, name, doc, tls=False):
    """Parses the fake's command line, reads --config and serves."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--log", required=True)
    loopback_http.add_listen_args(ap, tls=tls)
    cfg = ap.parse_args()
    with open(cfg.config) as f:
        conf = json.load(f)
    loopback_http.serve(handler, cfg, name, conf=conf)
