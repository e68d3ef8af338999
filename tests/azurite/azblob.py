#!/usr/bin/env python3
"""A second, independent Azure Blob client for crunner's cache tests.

Standard library only.  It signs with the account key itself (Shared Key
authorization, not a SAS), so what it reads back proves that crunner's
SAS-signed upload really reached the emulator, and the container it
creates is there before the first job runs.

    azblob.py --endpoint https://ACCOUNT.localhost:PORT --account ACCOUNT
              --key BASE64 --ca CA.pem create-container NAME
    azblob.py ... get CONTAINER BLOB OUTFILE   (exit 3 when it is absent)
    azblob.py ... meta CONTAINER BLOB          (its metadata, "name: value"
                                                lines, names in lower case)

ACCOUNT.localhost is reached on 127.0.0.1 (the system resolver need not
know *.localhost); TLS checks the certificate against --ca and the name.
"""

import argparse
import base64
import email.utils
import hashlib
import hmac
import http.client
import socket
import ssl
import sys
import urllib.parse

VERSION = "2021-08-06"


class LoopbackHTTPS(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with the certificate checked for self.host."""

    def connect(self):
        sock = socket.create_connection(("127.0.0.1", self.port),
                                        self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def shared_key(account, key, method, path, query, headers):
    """The SharedKey Authorization header value (version 2015-02-21 on)."""
    names = ["Content-Encoding", "Content-Language", "Content-Length",
             "Content-MD5", "Content-Type", "Date", "If-Modified-Since",
             "If-Match", "If-None-Match", "If-Unmodified-Since", "Range"]
    lower = {k.lower(): v for k, v in headers.items()}
    fields = [method]
    for n in names:
        v = lower.get(n.lower(), "")
        fields.append("" if n == "Content-Length" and v == "0" else v)
    canon_headers = "".join(
        "%s:%s\n" % (k, lower[k].strip())
        for k in sorted(lower) if k.startswith("x-ms-"))
    resource = "/%s%s" % (account, path)
    for k, v in sorted((k.lower(), v) for k, v in query):
        resource += "\n%s:%s" % (k, v)
    sts = "\n".join(fields) + "\n" + canon_headers + resource
    mac = hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256)
    return "SharedKey %s:%s" % (account, base64.b64encode(mac.digest()).decode())


def request(args, method, path, query=(), with_headers=False):
    url = urllib.parse.urlsplit(args.endpoint)
    ctx = ssl.create_default_context(cafile=args.ca)
    conn = LoopbackHTTPS(url.hostname, url.port, context=ctx, timeout=30)
    headers = {"x-ms-date": email.utils.formatdate(usegmt=True),
               "x-ms-version": VERSION, "Content-Length": "0"}
    headers["Authorization"] = shared_key(args.account, args.key, method,
                                          path, query, headers)
    target = urllib.parse.quote(path)
    if query:
        target += "?" + urllib.parse.urlencode(list(query))
    conn.request(method, target, headers=headers)
    resp = conn.getresponse()
    body = resp.read()
    return resp.status, resp.getheaders() if with_headers else body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--account", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("op", choices=["create-container", "get", "meta"])
    ap.add_argument("names", nargs="+")
    args = ap.parse_args()
    if args.op == "create-container":
        status, body = request(args, "PUT", "/" + args.names[0],
                               [("restype", "container")])
        if status not in (201, 409):
            sys.exit("create-container: %d %s" % (status, body[:300]))
        return
    if args.op == "meta":
        container, blob = args.names
        status, headers = request(args, "HEAD", "/%s/%s" % (container, blob),
                                  with_headers=True)
        if status != 200:
            sys.exit("meta: %d" % status)
        for name, value in sorted(headers):
            if name.lower().startswith("x-ms-meta-"):
                print("%s: %s" % (name.lower()[len("x-ms-meta-"):], value))
        return
    container, blob, out = args.names
    status, body = request(args, "GET", "/%s/%s" % (container, blob))
    if status == 404:
        sys.exit(3)
    if status != 200:
        sys.exit("get: %d %s" % (status, body[:300]))
    with open(out, "wb") as f:
        f.write(body)


if __name__ == "__main__":
    main()
