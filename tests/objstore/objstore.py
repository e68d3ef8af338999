#!/usr/bin/env python3
"""A small S3-compatible object server for crunner's distributed-cache tests.

Standard library only; loopback only.  It answers GET, HEAD and PUT on
/<bucket>/<key> (path style), checks every request's AWS Signature Version 4
query-string signature (pre-signed URLs) against the one access key and
secret key it was given, and keeps objects as files under --dir
(<dir>/<bucket>/<key>); GET /<bucket>?location (GetBucketLocation, signed
for --region or for us-east-1) names --region.  Answers follow S3: 403 with SignatureDoesNotMatch,
InvalidAccessKeyId or AccessDenied (expired), 404 NoSuchKey, 200 with an
ETag for PUT.  Headers named in X-Amz-SignedHeaders are signed with the
values the request carries, so a server-side-encryption header that was
signed must arrive unchanged.  One line per request goes to stderr:
"METHOD /path -> STATUS [reason]", a PUT's reason naming the SSE headers
and user metadata it carried ("sse=aws:kms kms-key-id=... meta k=v"), a
GET with "Range: bytes=A-B" answered 206 with its Content-Range and logged
"-> 206 range=A-B" (unless --no-ranges).  An
x-amz-* header the signature does not cover is refused (403 AccessDenied),
as S3 refuses it with a pre-signed URL; metadata is kept under
<dir>/.meta and answered with GET as x-amz-meta-* headers.

    objstore.py --dir DIR --access-key AK --secret-key SK
                [--region us-east-1] [--session-token TOKEN]
                [--clock-offset SECONDS] [--fail N] [--no-ranges]
                [--port 0] [--port-file PATH]

It prints "objstore listening on http://127.0.0.1:PORT" and writes PORT to
--port-file (through a rename) once it accepts connections.
"""

import argparse
import calendar
import hashlib
import hmac
import json
import os
import re
import sys
import tempfile
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import loopback_http  # noqa: E402

MAX_OBJECT = 1 << 30


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _encode(s, safe):
    return urllib.parse.quote(s, safe=safe + "-_.~")


def signature(secret, region, method, path, query, headers):
    """The SigV4 signature of a pre-signed request: query without
    X-Amz-Signature, path decoded, headers a mapping of the request's
    headers by lower-case name (those X-Amz-SignedHeaders names are
    signed, host among them)."""
    canonical_query = "&".join(
        "%s=%s" % (_encode(k, ""), _encode(v, ""))
        for k, v in sorted(query))
    q = dict(query)
    date = q["X-Amz-Date"]
    names = q.get("X-Amz-SignedHeaders", "host").split(";")
    canonical_headers = "".join(
        "%s:%s\n" % (n, " ".join(headers.get(n, "").split()))
        for n in names)
    scope = "%s/%s/s3/aws4_request" % (date[:8], region)
    creq = "\n".join([method, _encode(path, "/"), canonical_query,
                      canonical_headers, ";".join(names),
                      "UNSIGNED-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    key = _hmac(("AWS4" + secret).encode(), date[:8])
    for part in (region, "s3", "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "objstore"

    def log_message(self, fmt, *args):
        pass

    def _log(self, status, reason=""):
        sys.stderr.write("%s %s -> %d%s\n" % (
            self.command, urllib.parse.urlsplit(self.path).path, status,
            " " + reason if reason else ""))
        sys.stderr.flush()

    def _error(self, status, code, message, body_left=0):
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s"
                "</Code><Message>%s</Message></Error>\n" % (code, message)).encode()
        self._drain(body_left)
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self._log(status, code)

    def _drain(self, n):
        while n > 0:
            chunk = self.rfile.read(min(n, 65536))
            if not chunk:
                break
            n -= len(chunk)

    def _check(self, body_left=0):
        """The object path, or None after an error answer."""
        cfg = self.server.cfg
        with self.server.lock:
            if self.server.fail_left > 0:
                self.server.fail_left -= 1
                self._error(503, "SlowDown", "Please reduce your request rate.",
                            body_left)
                return None
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qsl(url.query, keep_blank_values=True)
        q = dict(query)
        if q.get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" or \
                "X-Amz-Signature" not in q:
            self._error(403, "AccessDenied", "pre-signed URL expected",
                        body_left)
            return None
        cred = q.get("X-Amz-Credential", "").split("/")
        bucket_only = urllib.parse.unquote(url.path).strip("/")
        # GetBucketLocation: GET /<bucket>?location, which S3 answers signed
        # for us-east-1 (the global endpoint) whatever the bucket's region.
        location = self.command == "GET" and "location" in q and \
            bucket_only and "/" not in bucket_only
        region = "us-east-1" if location and len(cred) == 5 and \
            cred[2] == "us-east-1" else cfg.region
        if len(cred) != 5 or cred[0] != cfg.access_key:
            self._error(403, "InvalidAccessKeyId", "unknown access key",
                        body_left)
            return None
        if cred[2] != region or cred[3] != "s3" or \
                cred[4] != "aws4_request":
            self._error(400, "AuthorizationQueryParametersError",
                        "bad credential scope", body_left)
            return None
        if "host" not in q.get("X-Amz-SignedHeaders", "").split(";"):
            self._error(400, "AuthorizationQueryParametersError",
                        "host must be signed", body_left)
            return None
        try:
            date = time.strptime(q["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
            start = calendar.timegm(date)
            expires = int(q["X-Amz-Expires"])
        except (KeyError, ValueError):
            self._error(400, "AuthorizationQueryParametersError",
                        "bad date or expiry", body_left)
            return None
        if cred[1] != q["X-Amz-Date"][:8] or not 1 <= expires <= 604800:
            self._error(400, "AuthorizationQueryParametersError",
                        "bad date or expiry", body_left)
            return None
        if cfg.session_token is not None and \
                q.get("X-Amz-Security-Token") != cfg.session_token:
            self._error(403, "InvalidToken",
                        "The provided token is malformed or otherwise invalid.",
                        body_left)
            return None
        now = time.time() + cfg.clock_offset
        if now > start + expires or now < start - 900:
            self._error(403, "AccessDenied", "Request has expired", body_left)
            return None
        path = urllib.parse.unquote(url.path)
        names = q.get("X-Amz-SignedHeaders", "").split(";")
        if names != sorted(names):
            self._error(400, "AuthorizationQueryParametersError",
                        "signed headers not sorted", body_left)
            return None
        headers = {k.lower(): v for k, v in self.headers.items()}
        headers["host"] = headers.get("host", "").strip().lower()
        unsigned = sorted(k for k in headers
                          if k.startswith("x-amz-") and k not in names)
        if unsigned:
            self._error(403, "AccessDenied",
                        "There were headers present in the request which "
                        "were not signed: %s" % ", ".join(unsigned), body_left)
            return None
        want = signature(cfg.secret_key, region, self.command, path,
                         [(k, v) for k, v in query if k != "X-Amz-Signature"],
                         headers)
        if not hmac.compare_digest(want, q["X-Amz-Signature"]):
            self._error(403, "SignatureDoesNotMatch",
                        "The request signature we calculated does not match "
                        "the signature you provided.", body_left)
            return None
        if location:
            if bucket_only != cfg.bucket:
                self._error(404, "NoSuchBucket", "no such bucket", body_left)
                return None
            return ""
        parts = path.lstrip("/").split("/", 1)
        if len(parts) != 2 or not parts[1] or \
                any(p in ("", ".", "..") for p in parts[1].split("/")):
            self._error(400, "InvalidRequest", "bad object path", body_left)
            return None
        if parts[0] != cfg.bucket:
            self._error(404, "NoSuchBucket", "no such bucket", body_left)
            return None
        self.meta_path = os.path.join(cfg.dir, ".meta", parts[0],
                                      *parts[1].split("/")) + ".json"
        return os.path.join(cfg.dir, parts[0], *parts[1].split("/"))

    def do_GET(self):
        path = self._check()
        if path is None:
            return
        if path == "":
            # S3 names us-east-1 with an empty constraint.
            region = "" if self.server.cfg.region == "us-east-1" else \
                self.server.cfg.region
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint '
                    'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s'
                    '</LocationConstraint>' % region).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self._log(200, "location " + (region or '""'))
            return
        if not os.path.isfile(path):
            self._error(404, "NoSuchKey",
                        "The specified key does not exist.")
            return
        st = os.stat(path)
        first, last = 0, st.st_size - 1
        rng = None if self.server.cfg.no_ranges else \
            re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if rng and int(rng.group(1)) < st.st_size:
            first = int(rng.group(1))
            if rng.group(2):
                last = min(int(rng.group(2)), st.st_size - 1)
        elif rng:
            rng = None
        self.send_response(206 if rng else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(last - first + 1))
        if rng:
            self.send_header("Content-Range",
                             "bytes %d-%d/%d" % (first, last, st.st_size))
        self.send_header("ETag", '"%x-%x"' % (st.st_mtime_ns, st.st_size))
        if os.path.isfile(self.meta_path):
            with open(self.meta_path) as f:
                for name, value in sorted(json.load(f).items()):
                    self.send_header("x-amz-meta-" + name, value)
        self.send_header("Last-Modified",
                         time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                                       time.gmtime(st.st_mtime)))
        self.end_headers()
        if self.command != "HEAD":
            with open(path, "rb") as f:
                f.seek(first)
                left = last - first + 1
                while left > 0:
                    chunk = f.read(min(65536, left))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    left -= len(chunk)
        if rng:
            self._log(206, "range=%d-%d" % (first, last))
        else:
            self._log(200)

    do_HEAD = do_GET

    def _body_chunks(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    chunk = self.rfile.read(min(left, 65536))
                    if not chunk:
                        raise ValueError("short chunk")
                    left -= len(chunk)
                    yield chunk
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    raise ValueError("short body")
                left -= len(chunk)
                yield chunk

    def do_PUT(self):
        length = int(self.headers.get("Content-Length", "0") or 0)
        chunked = self.headers.get("Transfer-Encoding", "").lower() == "chunked"
        path = self._check(0 if chunked else length)
        if path is None:
            if chunked:
                self.close_connection = True
            return
        if length > MAX_OBJECT:
            self._error(400, "EntityTooLarge", "too large", length)
            return
        if self.headers.get("Expect", "").lower() == "100-continue":
            self.send_response_only(100)
            self.end_headers()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".put-")
        total = 0
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in self._body_chunks():
                    total += len(chunk)
                    f.write(chunk)
            os.replace(tmp, path)
        except Exception:
            os.unlink(tmp)
            raise
        # User metadata (x-amz-meta-*), kept beside the objects and
        # answered with GET as S3 does.
        meta = {k.lower()[len("x-amz-meta-"):]: v.strip()
                for k, v in self.headers.items()
                if k.lower().startswith("x-amz-meta-")}
        os.makedirs(os.path.dirname(self.meta_path), exist_ok=True)
        with open(self.meta_path, "w") as f:
            json.dump(meta, f)
        self.send_response(200)
        self.send_header("ETag", '"%x"' % total)
        self.send_header("Content-Length", "0")
        self.end_headers()
        sse = self.headers.get("x-amz-server-side-encryption")
        kms = self.headers.get("x-amz-server-side-encryption-aws-kms-key-id")
        self._log(200, "%d bytes%s%s%s" % (
            total, " sse=%s" % sse if sse else "",
            " kms-key-id=%s" % kms if kms else "",
            "".join(" meta %s=%s" % kv for kv in sorted(meta.items()))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True)
    ap.add_argument("--access-key", required=True)
    ap.add_argument("--secret-key", required=True)
    ap.add_argument("--bucket", default="cache")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--session-token",
                    help="require this X-Amz-Security-Token (IAM credentials)")
    ap.add_argument("--clock-offset", type=int, default=0,
                    help="run the store's clock this many seconds ahead")
    ap.add_argument("--no-ranges", action="store_true",
                    help="answer a Range GET with the whole object (200)")
    ap.add_argument("--fail", type=int, default=0,
                    help="answer the first N requests 503 SlowDown")
    loopback_http.add_listen_args(ap)
    cfg = ap.parse_args()
    loopback_http.serve(Handler, cfg, "objstore", fail_left=cfg.fail)


if __name__ == "__main__":
    main()
