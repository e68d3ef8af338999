#!/usr/bin/env python3
"""A strict fake of Azure Key Vault (GET secret, with its 401 challenge)
and of Microsoft Entra ID's token endpoint (client assertion), on one
loopback port, for crunner's job secrets tests (standard library only).

  GET /secrets/<name>/<version>?api-version=7.5
      without Authorization: 401, WWW-Authenticate: Bearer
      authorization="<authority>/<tenant>", resource="<resource>";
      with the issued token: 200 {"value", "id", "attributes"};
      404 {"error": {"code": "SecretNotFound", "message"}};
      401 {"error": {"code": "Unauthorized", "message"}} for another token.
      A secret with "no_value": true answers 200 without "value".
  POST /<tenant>/oauth2/v2.0/token  form client_assertion, client_assertion_type
      (jwt-bearer), client_id, grant_type=client_credentials,
      scope=<resource>/.default
      200 {"token_type": "Bearer", "expires_in", "access_token"};
      else 400 {"error", "error_description"} as Entra ID words it.

Config (--config FILE, JSON):
  {"tenant": "...", "client_id": "...", "jwt": "...", "token": "...",
   "resource": "http://127.0.0.1",
   "secrets": {"db": {"versions": {"v1": "old", "v2": "new"}, "latest": "v2"}}}

Every request is appended to --log (path, method, authorized, jwt_ok,
scope, status), never a secret value.

    fake_azure.py --config FILE --log FILE [--port 0] [--port-file PATH]
"""

import json
import re
import urllib.parse

import fake_common

SECRET = re.compile(r"^/secrets/([^/]+)/([^/]*)$")


class Handler(fake_common.RecordingHandler):
    json_type = "application/json; charset=utf-8"

    def do_GET(self):
        conf = self.server.conf
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        auth = self.headers.get("Authorization")
        rec = {"method": "GET", "path": url.path, "authorized": auth is not None}
        m = SECRET.match(url.path)
        if not m or query.get("api-version") != "7.5":
            return self.reply_json(400, {"error": {"code": "BadParameter", "message": "bad path or api-version"}}, rec)
        if auth is None:
            host = self.headers.get("Host")
            challenge = 'Bearer authorization="%s/%s", resource="%s"' % (
                "http://%s" % host, conf["tenant"], conf["resource"])
            return self.reply_json(401, {"error": {"code": "Unauthorized",
                                              "message": "AKV10000: Request is missing a Bearer or PoP token."}},
                              rec, [("WWW-Authenticate", challenge)])
        if auth != "Bearer " + conf["token"]:
            return self.reply_json(401, {"error": {"code": "Unauthorized",
                                              "message": "AKV10032: Invalid issuer."}}, rec)
        name, version = m.groups()
        s = conf["secrets"].get(name)
        version = version or (s or {}).get("latest")
        if s is None or version not in s["versions"]:
            return self.reply_json(404, {"error": {"code": "SecretNotFound",
                                              "message": "A secret with (name/id) %s was not found in this key vault." % name}},
                              rec)
        out = {"id": "%s/secrets/%s/%s" % (conf["resource"], name, version),
               "attributes": {"enabled": True, "created": 1700000000, "updated": 1700000000,
                              "recoveryLevel": "Recoverable+Purgeable"}}
        if not s.get("no_value"):
            out["value"] = s["versions"][version]
        self.reply_json(200, out, rec)

    def do_POST(self):
        conf = self.server.conf
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        form = dict(urllib.parse.parse_qsl(body.decode()))
        rec = {"method": "POST", "path": self.path, "jwt_ok": form.get("client_assertion") == conf["jwt"],
               "scope": form.get("scope"), "client_id": form.get("client_id")}
        if self.path != "/%s/oauth2/v2.0/token" % conf["tenant"]:
            return self.reply_json(400, {"error": "invalid_request",
                                    "error_description": "AADSTS90002: Tenant not found.\r\nTrace ID: fake"}, rec)
        if (form.get("grant_type") != "client_credentials" or form.get("client_assertion_type")
                != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"):
            return self.reply_json(400, {"error": "invalid_request",
                                    "error_description": "AADSTS900144: bad grant.\r\nTrace ID: fake"}, rec)
        if form.get("client_id") != conf["client_id"]:
            return self.reply_json(400, {"error": "unauthorized_client",
                                    "error_description": "AADSTS700016: Application with identifier '%s' was not found in the directory.\r\nTrace ID: fake"
                                    % form.get("client_id")}, rec)
        if form.get("scope") != conf["resource"].rstrip("/") + "/.default":
            return self.reply_json(400, {"error": "invalid_scope",
                                    "error_description": "AADSTS70011: The provided value for the input parameter 'scope' is not valid.\r\nTrace ID: fake"}, rec)
        if not rec["jwt_ok"]:
            return self.reply_json(400, {"error": "invalid_client",
                                    "error_description": "AADSTS700211: No matching federated identity record found for presented assertion issuer.\r\nTrace ID: fake"}, rec)
        self.reply_json(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                         "access_token": conf["token"]}, rec)



if __name__ == "__main__":
    fake_common.main(Handler, "fake_azure", __doc__)
