#!/usr/bin/env python3
"""A small Google Cloud Storage stand-in for crunner's GCS cache tests.

Standard library only (plus the openssl CLI for signBlob); loopback only.
One process can play three parts, chosen by the request path:

  /<bucket>/<object>   GET, HEAD, PUT through V2 signed URLs: the
      signature (RSA-SHA256, PKCS#1 v1.5) is verified with the service
      account's public key (--modulus, --exponent) over the V2 string to
      sign rebuilt from the request; objects live under --dir.  Answers
      as GCS does, with its XML error bodies: 400 ExpiredToken past
      Expires, 403 SignatureDoesNotMatch, 403 AccessDenied for another
      GoogleAccessId, 404 NoSuchKey, 400 EntityTooLarge outside
      X-Goog-Content-Length-Range.
  /computeMetadata/v1/instance/service-accounts/default/{email,token}
      the GCE metadata server (needs "Metadata-Flavor: Google").
  /v1/projects/-/serviceAccounts/<email>:signBlob   the IAM credentials
      API: needs "Authorization: Bearer <--token>", signs the payload
      with --private-key through `openssl dgst -sha256 -sign`.

--clock-offset S runs the storage clock S seconds ahead (expired URLs);
--fail N answers the first N storage requests 503 (retries).
One line per request goes to stderr: "METHOD /path -> STATUS [reason]".
Listens on --port (0: any) and writes the port to --port-file once it
accepts connections; --tls-cert/--tls-key make it HTTPS.
"""

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import loopback_http  # noqa: E402

SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
META = "/computeMetadata/v1/instance/service-accounts/default/"


def pkcs1_sha256_verify(n, e, message, signature):
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    return em == b"\x00\x01" + b"\xff" * (k - 3 - len(t)) + b"\x00" + t


def xml_error(code, message, details=""):
    body = "<?xml version='1.0' encoding='UTF-8'?><Error><Code>%s</Code><Message>%s</Message>" % (code, message)
    if details:
        body += "<Details>%s</Details>" % details
    return (body + "</Error>").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _log(self, status, reason=""):
        path = urllib.parse.urlsplit(self.path).path
        sys.stderr.write("%s %s -> %d%s\n" % (self.command, path, status,
                                              " " + reason if reason else ""))
        sys.stderr.flush()

    def _answer(self, status, body=b"", ctype="application/xml", reason=""):
        self._log(status, reason)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _drain(self):
        n = int(self.headers.get("Content-Length") or 0)
        while n > 0:
            chunk = self.rfile.read(min(n, 65536))
            if not chunk:
                break
            n -= len(chunk)

    # --- the metadata server and the IAM credentials API ---

    def _metadata(self, what):
        cfg = self.server.cfg
        if self.headers.get("Metadata-Flavor") != "Google":
            return self._answer(403, b"Missing Metadata-Flavor:Google header.",
                                "text/plain", "no Metadata-Flavor")
        if what == "email" and cfg.access_id:
            return self._answer(200, cfg.access_id.encode(), "text/plain")
        if what == "token" and cfg.token:
            body = json.dumps({"access_token": cfg.token, "expires_in": 3599,
                               "token_type": "Bearer"}).encode()
            return self._answer(200, body, "application/json")
        return self._answer(404, b"not found", "text/plain")

    def _sign_blob(self, path):
        cfg = self.server.cfg
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        if self.headers.get("Authorization") != "Bearer %s" % cfg.token:
            err = {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                             "status": "UNAUTHENTICATED"}}
            return self._answer(401, json.dumps(err).encode(), "application/json", "bad token")
        email = urllib.parse.unquote(path.split("/serviceAccounts/", 1)[1].rsplit(":", 1)[0])
        if email != cfg.access_id or not cfg.private_key:
            err = {"error": {"code": 403, "message": "Permission 'iam.serviceAccounts.signBlob' denied",
                             "status": "PERMISSION_DENIED"}}
            return self._answer(403, json.dumps(err).encode(), "application/json", "not " + email)
        payload = base64.b64decode(json.loads(body)["payload"])
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", cfg.private_key],
                             input=payload, capture_output=True, check=True).stdout
        answer = {"keyId": "fake-key-1", "signedBlob": base64.b64encode(sig).decode()}
        return self._answer(200, json.dumps(answer).encode(), "application/json",
                            "signed for " + email)

    # --- storage ---

    def _object_file(self, path):
        parts = path.lstrip("/").split("/", 1)
        if len(parts) != 2 or parts[0] != self.server.cfg.bucket or not parts[1]:
            return None
        name = urllib.parse.unquote(parts[1])
        if ".." in name.split("/"):
            return None
        return os.path.join(self.server.cfg.dir, parts[0], name)

    def _check(self):
        """None when the signed URL holds, else the answer was sent."""
        cfg = self.server.cfg
        with self.server.lock:
            if self.server.fail_left > 0:
                self.server.fail_left -= 1
                self._drain()
                self._answer(503, xml_error("ServiceUnavailable", "Service Unavailable. Please retry."),
                             reason="injected")
                return False
        split = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(split.query)
        try:
            access_id = q["GoogleAccessId"][0]
            expires = int(q["Expires"][0])
            signature = base64.b64decode(q["Signature"][0], validate=True)
        except (KeyError, ValueError):
            self._drain()
            self._answer(403, xml_error("AccessDenied", "Access denied.",
                                        "Anonymous caller does not have storage.objects access."),
                         reason="not signed")
            return False
        now = int(time.time()) + cfg.clock_offset
        if now > expires:
            self._drain()
            stamp = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(expires))
            self._answer(400, xml_error("ExpiredToken", "The provided token has expired.",
                                        "Request signature expired at: " + stamp),
                         reason="ExpiredToken")
            return False
        ext = {}
        for name in self.headers.keys():
            lname = name.lower()
            if lname.startswith("x-goog-") and lname not in ("x-goog-encryption-key", "x-goog-encryption-key-sha256"):
                ext[lname] = ",".join(v.strip() for v in self.headers.get_all(name))
        sts = "%s\n%s\n%s\n%d\n" % (self.command, self.headers.get("Content-MD5", ""),
                                    self.headers.get("Content-Type", ""), expires)
        sts += "".join("%s:%s\n" % (k, ext[k]) for k in sorted(ext))
        sts += split.path
        if access_id != cfg.access_id:
            self._drain()
            self._answer(403, xml_error("AccessDenied", "Access denied.",
                                        "%s does not have storage.objects access." % access_id),
                         reason="AccessDenied " + access_id)
            return False
        if not pkcs1_sha256_verify(cfg.n, cfg.e, sts.encode(), signature):
            self._drain()
            self._answer(403, xml_error("SignatureDoesNotMatch",
                                        "The request signature we calculated does not match the signature you provided. Check your Google secret key and signing method.",
                                        "<StringToSign>%s</StringToSign>" % sts.replace("&", "&amp;").replace("<", "&lt;")),
                         reason="SignatureDoesNotMatch")
            return False
        return True

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith(META):
            return self._metadata(path[len(META):])
        if not self._check():
            return
        f = self._object_file(path)
        if not f or not os.path.isfile(f):
            return self._answer(404, xml_error("NoSuchKey", "The specified key does not exist."),
                                reason="NoSuchKey")
        size = os.path.getsize(f)
        self._log(200, "%d bytes" % size)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        with open(f, "rb") as src:
            while True:
                chunk = src.read(65536)
                if not chunk:
                    break
                self.wfile.write(chunk)

    do_HEAD = do_GET

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/v1/projects/-/serviceAccounts/") and path.endswith(":signBlob"):
            return self._sign_blob(path)
        self._drain()
        return self._answer(404, b"not found", "text/plain")

    def do_PUT(self):
        if not self._check():
            return
        f = self._object_file(urllib.parse.urlsplit(self.path).path)
        length = self.headers.get("Content-Length")
        if not f or length is None:
            self._drain()
            return self._answer(400, xml_error("InvalidArgument", "Invalid argument."),
                                reason="bad object or no length")
        length = int(length)
        rng = self.headers.get("X-Goog-Content-Length-Range")
        if rng:
            lo, hi = (int(x) for x in rng.split(","))
            if not lo <= length <= hi:
                self._drain()
                return self._answer(400, xml_error("EntityTooLarge",
                                                   "Your proposed upload exceeds the maximum allowed object size."),
                                    reason="EntityTooLarge")
        os.makedirs(os.path.dirname(f), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(f))
        left = length
        with os.fdopen(fd, "wb") as out:
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                out.write(chunk)
                left -= len(chunk)
        if left:
            os.unlink(tmp)
            return self._answer(400, xml_error("IncompleteBody", "Incomplete body."), reason="short body")
        os.replace(tmp, f)
        meta = sorted((k.lower()[len("x-goog-meta-"):], v.strip())
                      for k, v in self.headers.items()
                      if k.lower().startswith("x-goog-meta-"))
        self._answer(200, b"", "text/plain",
                     "%d bytes%s%s" % (length, " range=" + rng if rng else "",
                                       "".join(" meta %s=%s" % kv for kv in meta)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", default=None)
    ap.add_argument("--bucket", default="cache")
    ap.add_argument("--access-id", default="")
    ap.add_argument("--modulus", default="", help="service account key modulus, hex")
    ap.add_argument("--exponent", type=int, default=65537)
    ap.add_argument("--private-key", help="PEM for signBlob")
    ap.add_argument("--token", default="", help="the metadata server's access token")
    ap.add_argument("--clock-offset", type=int, default=0)
    ap.add_argument("--fail", type=int, default=0)
    loopback_http.add_listen_args(ap, tls=True)
    cfg = ap.parse_args()
    cfg.n = int(cfg.modulus, 16) if cfg.modulus else 0
    cfg.e = cfg.exponent
    loopback_http.serve(Handler, cfg, "fakegcs", fail_left=cfg.fail)


if __name__ == "__main__":
    main()
