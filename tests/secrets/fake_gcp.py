#!/usr/bin/env python3
"""A strict fake of Google's Security Token Service (token exchange) and
Secret Manager's REST AccessSecretVersion, on one loopback port, for
crunner's job secrets tests (standard library only).

  POST /v1/token  JSON {"audience", "grantType", "requestedTokenType",
                        "scope", "subjectToken", "subjectTokenType"}
      200 {"access_token", "issued_token_type", "token_type": "Bearer",
      "expires_in"} when every member is what Google's STS expects for
      the configured pool and provider and the subject token is the JWT;
      else 400 {"error": "invalid_grant" | "invalid_request",
      "error_description": ...}.
  GET /v1/projects/<p>/secrets/<s>/versions/<v>:access
      with "Authorization: Bearer <issued token>"
      200 {"name", "payload": {"data": base64, "dataCrc32c": "<decimal>"}};
      401 UNAUTHENTICATED, 404 NOT_FOUND ({"error": {"code", "message",
      "status"}}).  A secret with "corrupt": true answers a wrong CRC32C,
      one with "no_payload": true no payload at all.

Config (--config FILE, JSON):
  {"project_number": "1234", "pool": "gitlab", "provider": "gitlab-provider",
   "jwt": "...", "token": "ya29....",
   "secrets": {"db-password": {"versions": {"1": "old", "2": "new"}, "latest": "2"}}}

Every request is appended to --log, one JSON object a line (path,
audience, jwt_ok, token_ok, status), never a secret value.

    fake_gcp.py --config FILE --log FILE [--port 0] [--port-file PATH]
"""

import base64
import json
import re

import fake_common


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


ACCESS = re.compile(r"^/v1/projects/([^/]+)/secrets/([^/]+)/versions/([^/:]+):access$")


class Handler(fake_common.RecordingHandler):
    json_type = "application/json; charset=UTF-8"

    def _rpc_error(self, status, code, message, rec):
        self.reply_json(status, {"error": {"code": status, "message": message, "status": code}}, rec)

    def do_POST(self):
        conf = self.server.conf
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        rec = {"path": self.path}
        if self.path != "/v1/token":
            return self._rpc_error(404, "NOT_FOUND", "no such method", rec)
        try:
            doc = json.loads(body)
        except ValueError:
            return self.reply_json(400, {"error": "invalid_request", "error_description": "bad JSON"}, rec)
        audience = ("//iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/%s/providers/%s"
                    % (conf["project_number"], conf["pool"], conf["provider"]))
        rec.update(audience=doc.get("audience"), jwt_ok=doc.get("subjectToken") == conf["jwt"])
        fixed = {"grantType": "urn:ietf:params:oauth:grant-type:token-exchange",
                 "requestedTokenType": "urn:ietf:params:oauth:token-type:access_token",
                 "scope": "https://www.googleapis.com/auth/cloud-platform",
                 "subjectTokenType": "urn:ietf:params:oauth:token-type:id_token"}
        for k, v in fixed.items():
            if doc.get(k) != v:
                return self.reply_json(400, {"error": "invalid_request",
                                        "error_description": "Invalid value for %s" % k}, rec)
        if doc.get("audience") != audience:
            return self.reply_json(400, {"error": "invalid_grant",
                                    "error_description": "The audience in ID Token [%s] does not match the expected audience."
                                    % doc.get("audience")}, rec)
        if not rec["jwt_ok"]:
            return self.reply_json(400, {"error": "invalid_grant",
                                    "error_description": "Invalid JWT signature."}, rec)
        self.reply_json(200, {"access_token": conf["token"],
                         "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
                         "token_type": "Bearer", "expires_in": 3599}, rec)

    def do_GET(self):
        conf = self.server.conf
        rec = {"path": self.path,
               "token_ok": self.headers.get("Authorization") == "Bearer " + conf["token"]}
        m = ACCESS.match(self.path)
        if not m:
            return self._rpc_error(404, "NOT_FOUND", "no such method", rec)
        if not rec["token_ok"]:
            return self._rpc_error(401, "UNAUTHENTICATED",
                                   "Request had invalid authentication credentials.", rec)
        project, name, version = m.groups()
        s = conf["secrets"].get(name) if project == conf["project_number"] else None
        if s is None:
            return self._rpc_error(404, "NOT_FOUND", "Secret [projects/%s/secrets/%s] not found or has no versions."
                                   % (project, name), rec)
        if version == "latest":
            version = s["latest"]
        if version not in s["versions"]:
            return self._rpc_error(404, "NOT_FOUND", "Secret Version [projects/%s/secrets/%s/versions/%s] not found."
                                   % (project, name, version), rec)
        out = {"name": "projects/%s/secrets/%s/versions/%s" % (project, name, version)}
        if not s.get("no_payload"):
            data = s["versions"][version].encode()
            crc = crc32c(data) ^ (1 if s.get("corrupt") else 0)
            out["payload"] = {"data": base64.b64encode(data).decode(), "dataCrc32c": str(crc)}
        self.reply_json(200, out, rec)



if __name__ == "__main__":
    fake_common.main(Handler, "fake_gcp", __doc__)
