#!/usr/bin/env python3
"""A strict fake HashiCorp Vault for crunner's job secrets tests (standard
library only, loopback only).

It answers, as Vault's HTTP API does:
  PUT|POST /v1/auth/<auth_path>/login  {"jwt": ..., "role": ...}
      200 {"auth": {"client_token": ...}} when the JWT is the one set and
      the role is known; else 400 {"errors": ["missing role"]},
      400 {"errors": ["role \\"x\\" could not be found"]} or
      400 {"errors": ["error validating token: invalid signature"]}.
  GET /v1/<mount>/data/<path>   (a kv-v2 mount)
      200 {"data": {"data": {...}, "metadata": {...}}}
  GET /v1/<mount>/<path>        (a kv-v1 or generic mount)
      200 {"data": {...}}
  A read without the client token, or of a denied path, is 403
  {"errors": ["permission denied"]}; an unknown path 404 {"errors": []}.
  With a namespace configured every request must carry it in
  X-Vault-Namespace (else 403, as a token of another namespace gets);
  without one the header must be absent or empty.  A path listed in
  "fail" answers 500 {"errors": ["internal error"]}; one in "slow" answers
  only after that many seconds (a client that hangs up meanwhile is fine).

OpenBao's inline auth (GitLab's secrets manager): a read without a token
but with X-Vault-Inline-Auth-Path (the login path) and
X-Vault-Inline-Auth-Parameter-* headers (base64url, unpadded, of
{"key": ..., "value": ...}) is authenticated as that login would be; a
failing one answers the login's error with X-Vault-Inline-Auth-Failed.

Config (--config FILE, JSON):
  {"jwt": "...", "roles": ["ci"], "auth_path": "jwt", "namespace": "ns",
   "token": "hvs.x",
   "mounts": {"secret": {"type": "kv-v2", "data": {"ci/db": {"password": "..."}}},
              "kv": {"type": "kv-v1", "data": {"api": {"key": "..."}}}},
   "deny": ["secret/ci/forbidden"], "fail": ["auth/jwt/login"],
   "slow": {"secret/data/ci/slow": 30}}

Every request is appended to --log (one JSON object a line: method, path,
namespace (or null), token (whether the right one came), role, jwt_ok,
status), never a secret value.

    fake_vault.py --config FILE --log FILE [--port 0] [--port-file PATH]
                  [--tls-cert PEM --tls-key PEM]
"""

import base64
import json
import time

import fake_common


class Handler(fake_common.RecordingHandler):
    def _inline_auth(self, rec):
        """None when the request has no inline auth, else (status, errors)."""
        conf = self.server.conf
        path = self.headers.get("X-Vault-Inline-Auth-Path")
        if path is None:
            return None
        params = {}
        for name, value in self.headers.items():
            if name.lower().startswith("x-vault-inline-auth-parameter-"):
                try:
                    doc = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
                except ValueError:
                    return 400, ["invalid inline auth parameter"]
                params[doc["key"]] = doc["value"]
        rec.update(inline_path=path, role=params.get("role"), jwt_ok=params.get("jwt") == conf["jwt"],
                   inline_keys=sorted(params))
        if path != "auth/%s/login" % conf.get("auth_path", "jwt"):
            return 400, ["no handler for route \"%s\". route entry not found." % path]
        if not params.get("role"):
            return 400, ["missing role"]
        if params["role"] not in conf.get("roles", []):
            return 400, ["role \"%s\" could not be found" % params["role"]]
        if not rec["jwt_ok"]:
            return 400, ["error validating token: invalid signature"]
        return 200, None

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _api_path(self):
        path = self.path.split("?", 1)[0]
        if not path.startswith("/v1/"):
            return None
        return path[len("/v1/"):]

    def _namespace_ok(self, conf):
        want = conf.get("namespace") or ""
        have = self.headers.get("X-Vault-Namespace") or ""
        return want == have

    def _record(self, api_path):
        conf = self.server.conf
        return {"method": self.command, "path": api_path,
                "namespace": self.headers.get("X-Vault-Namespace"),
                "token": self.headers.get("X-Vault-Token") == conf.get("token"),
                "vault_request": self.headers.get("X-Vault-Request")}

    def _login(self, api_path):
        conf = self.server.conf
        rec = self._record(api_path)
        body = self._body()
        if api_path in conf.get("fail", []):
            return self.reply_json(500, {"errors": ["internal error"]}, rec)
        try:
            doc = json.loads(body or b"{}")
        except ValueError:
            return self.reply_json(400, {"errors": ["failed to parse JSON input"]}, rec)
        if not isinstance(doc, dict):
            return self.reply_json(400, {"errors": ["failed to parse JSON input"]}, rec)
        rec["keys"] = sorted(doc)
        rec["role"] = doc.get("role")
        rec["jwt_ok"] = doc.get("jwt") == conf["jwt"]
        if not self._namespace_ok(conf):
            return self.reply_json(400, {"errors": ["no handler for route \"%s\". route entry not found." % api_path]}, rec)
        if not doc.get("role"):
            return self.reply_json(400, {"errors": ["missing role"]}, rec)
        if doc["role"] not in conf.get("roles", []):
            return self.reply_json(400, {"errors": ["role \"%s\" could not be found" % doc["role"]]}, rec)
        if not rec["jwt_ok"]:
            return self.reply_json(400, {"errors": ["error validating token: invalid signature"]}, rec)
        return self.reply_json(200, {
            "request_id": "7b1c5a2e-0000-4000-8000-000000000001", "lease_id": "",
            "renewable": False, "lease_duration": 0, "data": None, "wrap_info": None,
            "warnings": None,
            "auth": {"client_token": conf["token"], "accessor": "acc", "policies": ["default", "ci"],
                     "token_policies": ["default", "ci"], "metadata": {"role": doc["role"]},
                     "lease_duration": 3600, "renewable": True, "entity_id": "e",
                     "token_type": "service", "orphan": True}}, rec)

    def _read(self, api_path):
        conf = self.server.conf
        rec = self._record(api_path)
        time.sleep(conf.get("slow", {}).get(api_path, 0))
        if api_path in conf.get("fail", []):
            return self.reply_json(500, {"errors": ["internal error"]}, rec)
        inline = self._inline_auth(rec)
        if inline is not None and inline[0] != 200:
            return self.reply_json(inline[0], {"errors": inline[1]}, rec,
                                [("X-Vault-Inline-Auth-Failed", "true")])
        if inline is not None:
            rec["token"] = True
        if not rec["token"] or not self._namespace_ok(conf):
            return self.reply_json(403, {"errors": ["permission denied"]}, rec)
        if api_path in conf.get("deny", []):
            return self.reply_json(403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]}, rec)
        mount, _, rest = api_path.partition("/")
        m = conf.get("mounts", {}).get(mount)
        if m is None:
            return self.reply_json(403, {"errors": ["permission denied"]}, rec)
        if m["type"] == "kv-v2":
            if not rest.startswith("data/"):
                return self.reply_json(404, {"errors": []}, rec)
            secret = m["data"].get(rest[len("data/"):])
            if secret is None:
                return self.reply_json(404, {"errors": []}, rec)
            return self.reply_json(200, {
                "request_id": "r", "lease_id": "", "renewable": False, "lease_duration": 0,
                "data": {"data": secret, "metadata": {"created_time": "2026-01-01T00:00:00Z",
                                                      "deletion_time": "", "destroyed": False,
                                                      "version": 1}}}, rec)
        secret = m["data"].get(rest)
        if secret is None:
            return self.reply_json(404, {"errors": []}, rec)
        return self.reply_json(200, {"request_id": "r", "lease_id": "", "renewable": False,
                                  "lease_duration": 2764800, "data": secret}, rec)

    def _route(self):
        api_path = self._api_path()
        conf = self.server.conf
        login = "auth/%s/login" % conf.get("auth_path", "jwt")
        if api_path is None:
            self._body()
            return self.reply_json(404, {"errors": []}, {"method": self.command, "path": self.path})
        if self.command in ("PUT", "POST"):
            if api_path == login:
                return self._login(api_path)
            self._body()
            return self.reply_json(405, {"errors": ["unsupported operation"]}, self._record(api_path))
        if self.command == "GET":
            return self._read(api_path)
        return self.reply_json(405, {"errors": ["unsupported operation"]}, self._record(api_path))

    do_GET = do_PUT = do_POST = do_DELETE = _route



if __name__ == "__main__":
    fake_common.main(Handler, "fake_vault", __doc__, tls=True)
