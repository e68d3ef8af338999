#!/usr/bin/env python3
"""An HTTPS front for Azurite that fails on purpose, for crunner's tests.

Standard library only; loopback only.  It serves HTTPS with the test
certificate and passes each request on to Azurite (HTTPS on 127.0.0.1,
checked against --ca for --upstream-host), except the first --fail ones,
which it answers 503 with Azure's XML error body (code ServerBusy), as a
storage account under load does.  The Host header goes on unchanged, so
Azurite still finds the account in it, and a SAS signs no host or port.
One line per request goes to stderr: "METHOD /path -> STATUS [note]".

    faulty_front.py --upstream-port P --upstream-host ACCOUNT.localhost
                    --ca CA.pem --tls-cert C --tls-key K [--fail N]
                    [--port 0] [--port-file PATH]
"""

import argparse
import http.client
import os
import socket
import ssl
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import loopback_http  # noqa: E402

HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade"}
BUSY = (b'<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code>'
        b'<Message>The server is currently unable to receive requests. '
        b'Please retry your request.</Message></Error>')


class Upstream(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with the certificate checked for self.host."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _log(self, status, note=""):
        path = urllib.parse.urlsplit(self.path).path
        sys.stderr.write("%s %s -> %d%s\n" % (self.command, path, status,
                                               " " + note if note else ""))
        sys.stderr.flush()

    def _answer(self, status, headers, body):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        srv = self.server
        with srv.lock:
            fail = srv.fail_left > 0
            if fail:
                srv.fail_left -= 1
        if fail:
            self._log(503, "ServerBusy (injected)")
            self._answer(503, [("Content-Type", "application/xml"),
                               ("x-ms-error-code", "ServerBusy")], BUSY)
            return
        cfg = srv.cfg
        ctx = ssl.create_default_context(cafile=cfg.ca)
        conn = Upstream(cfg.upstream_host, cfg.upstream_port, context=ctx,
                        timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP}
        conn.request(self.command, self.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        self._log(resp.status)
        self._answer(resp.status, resp.getheaders(), data)

    do_GET = do_PUT = do_HEAD = do_DELETE = _handle


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--upstream-port", type=int, required=True)
    ap.add_argument("--upstream-host", required=True,
                    help="the name Azurite's certificate carries")
    ap.add_argument("--ca", required=True)
    ap.add_argument("--fail", type=int, default=0,
                    help="answer the first N requests 503 ServerBusy")
    loopback_http.add_listen_args(ap, tls=True)
    cfg = ap.parse_args()
    loopback_http.serve(Handler, cfg, "faulty_front", fail_left=cfg.fail)


if __name__ == "__main__":
    main()
