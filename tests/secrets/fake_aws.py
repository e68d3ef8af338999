#!/usr/bin/env python3
"""A strict fake of AWS STS (AssumeRoleWithWebIdentity) and AWS Secrets
Manager (GetSecretValue) on one loopback port, for crunner's job secrets
tests (standard library only).

  POST /  form Action=AssumeRoleWithWebIdentity&RoleArn&RoleSessionName&
          Version=2011-06-15&WebIdentityToken  (unsigned, as the SDK sends it)
      200 AssumeRoleWithWebIdentityResponse with the configured credentials
      when the token and role are the configured ones; else STS's XML
      ErrorResponse: 400 InvalidIdentityToken, 403 AccessDenied,
      400 ValidationError (a session name over 64 characters or empty).
  POST /  X-Amz-Target: secretsmanager.GetSecretValue, JSON 1.1 body
          {"SecretId", "VersionId"?, "VersionStage"?}, SigV4 (service
          secretsmanager, the configured region) with credentials STS gave
          out (and their X-Amz-Security-Token) or the configured static ones
      200 {"ARN", "Name", "SecretString" | "SecretBinary", "VersionId",
      "VersionStages"}; else Secrets Manager's JSON errors:
      400 ResourceNotFoundException, 400 InvalidSignatureException,
      400 UnrecognizedClientException (unknown key or token).

Config (--config FILE, JSON):
  {"region": "eu-west-1", "jwt": "...", "role_arn": "arn:aws:iam::1:role/ci",
   "issue": {"access_key": "ASIA...", "secret_key": "...", "session_token": "..."},
   "static": {"access_key": "AKIA...", "secret_key": "..."},
   "secrets": {"ci/db": {"string": "..."}, "ci/bin": {"binary_b64": "..."},
               "ci/versioned": {"string": "current", "versions": {"v1": "old"},
                                "stages": {"AWSPREVIOUS": "v1"}}}}

Every request is appended to --log, one JSON object a line (action, role,
session, jwt_ok, secret_id, version_id, version_stage, signed_with, status),
never a secret value.

    fake_aws.py --config FILE --log FILE [--port 0] [--port-file PATH]
"""

import hmac
import json
import urllib.parse

import fake_common  # puts tests/pylib on sys.path
import sigv4_header  # noqa: E402


class Handler(fake_common.RecordingHandler):
    extra_headers = (("x-amzn-RequestId", "fake-request-1"),)

    def _sts_error(self, status, code, message, rec):
        self.reply(status, "text/xml",
                   ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                    "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                    "<RequestId>fake-request-1</RequestId></ErrorResponse>" % (code, message)).encode(), rec)

    def _sm_error(self, status, code, message, rec):
        self.reply(status, "application/x-amz-json-1.1",
                   json.dumps({"__type": code, "message": message}).encode(), rec)

    def _sts(self, body, rec):
        conf = self.server.conf
        form = dict(urllib.parse.parse_qsl(body.decode()))
        rec.update(action=form.get("Action"), role=form.get("RoleArn"),
                   session=form.get("RoleSessionName"),
                   jwt_ok=form.get("WebIdentityToken") == conf["jwt"],
                   signed="Authorization" in self.headers)
        if form.get("Action") != "AssumeRoleWithWebIdentity" or form.get("Version") != "2011-06-15":
            return self._sts_error(400, "InvalidAction", "Could not find operation %s" % form.get("Action"), rec)
        session = form.get("RoleSessionName") or ""
        if not session or len(session) > 64:
            return self._sts_error(400, "ValidationError",
                                   "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint", rec)
        if not rec["jwt_ok"]:
            return self._sts_error(400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider", rec)
        if form.get("RoleArn") != conf["role_arn"]:
            return self._sts_error(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", rec)
        issue = conf["issue"]
        self.reply(200, "text/xml", (
                   "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                   "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>project_path:acme/widget"
                   "</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>%s/%s</Arn><AssumedRoleId>AROAFAKE:%s"
                   "</AssumedRoleId></AssumedRoleUser><Credentials><AccessKeyId>%s</AccessKeyId>"
                   "<SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken>"
                   "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
                   "<Audience>sts.amazonaws.com</Audience></AssumeRoleWithWebIdentityResult>"
                   "<ResponseMetadata><RequestId>fake-request-1</RequestId></ResponseMetadata>"
                   "</AssumeRoleWithWebIdentityResponse>" % (
                       conf["role_arn"], session, session, issue["access_key"],
                       issue["secret_key"], issue["session_token"])).encode(), rec)

    def _check_signature(self, body, rec):
        conf = self.server.conf
        headers = {k.lower(): v for k, v in self.headers.items()}
        auth = headers.get("authorization", "")
        try:
            algo, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            ak, day, region, service, term = parts["Credential"].split("/")
            names = parts["SignedHeaders"].split(";")
        except (ValueError, KeyError):
            return "MissingAuthenticationTokenException", "Missing Authentication Token"
        keys = {}
        if "issue" in conf:
            keys[conf["issue"]["access_key"]] = (conf["issue"]["secret_key"], conf["issue"]["session_token"], "sts")
        if "static" in conf:
            keys[conf["static"]["access_key"]] = (conf["static"]["secret_key"],
                                                  conf["static"].get("session_token"), "static")
        if ak not in keys:
            return "UnrecognizedClientException", "The security token included in the request is invalid."
        secret, token, kind = keys[ak]
        if token and headers.get("x-amz-security-token") != token:
            return "UnrecognizedClientException", "The security token included in the request is invalid."
        if (algo != "AWS4-HMAC-SHA256" or service != "secretsmanager" or term != "aws4_request"
                or region != conf["region"]):
            return "InvalidSignatureException", "Credential should be scoped to a valid region and service."
        date = headers.get("x-amz-date", "")
        for must in ("host", "x-amz-date", "x-amz-target", "content-type"):
            if must not in names:
                return "InvalidSignatureException", "%s must be signed" % must
        if token and "x-amz-security-token" not in names:
            return "InvalidSignatureException", "x-amz-security-token must be signed"
        if date[:8] != day:
            return "InvalidSignatureException", "Date in Credential scope does not match"
        want = sigv4_header.signature(secret, region, service, date, "POST", self.path, headers, names, body)
        if not hmac.compare_digest(want, parts.get("Signature", "")):
            return ("InvalidSignatureException",
                    "The request signature we calculated does not match the signature you provided.")
        rec["signed_with"] = kind
        return None

    def _get_secret(self, body, rec):
        conf = self.server.conf
        rec["action"] = "GetSecretValue"
        bad = self._check_signature(body, rec)
        if bad:
            return self._sm_error(400, bad[0], bad[1], rec)
        if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
            return self._sm_error(400, "SerializationException", "bad content type", rec)
        try:
            doc = json.loads(body)
        except ValueError:
            return self._sm_error(400, "SerializationException", "bad JSON", rec)
        rec.update(secret_id=doc.get("SecretId"), version_id=doc.get("VersionId"),
                   version_stage=doc.get("VersionStage"))
        s = conf["secrets"].get(doc.get("SecretId"))
        if s is None:
            return self._sm_error(400, "ResourceNotFoundException",
                                  "Secrets Manager can't find the specified secret.", rec)
        version = doc.get("VersionId")
        if doc.get("VersionStage"):
            version = s.get("stages", {}).get(doc["VersionStage"])
            if version is None and doc["VersionStage"] != "AWSCURRENT":
                return self._sm_error(400, "ResourceNotFoundException",
                                      "Secrets Manager can't find the specified secret value for staging label: %s"
                                      % doc["VersionStage"], rec)
        out = {"ARN": "arn:aws:secretsmanager:%s:1:secret:%s-AbCdEf" % (conf["region"], doc["SecretId"]),
               "Name": doc["SecretId"], "VersionId": version or "current",
               "VersionStages": ["AWSCURRENT"], "CreatedDate": 1.7e9}
        if version and version != "current":
            if version not in s.get("versions", {}):
                return self._sm_error(400, "ResourceNotFoundException",
                                      "Secrets Manager can't find the specified secret value for VersionId: %s"
                                      % version, rec)
            out["SecretString"] = s["versions"][version]
        elif "binary_b64" in s:
            out["SecretBinary"] = s["binary_b64"]
        else:
            out["SecretString"] = s["string"]
        self.reply(200, "application/x-amz-json-1.1", json.dumps(out).encode(), rec)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        rec = {"path": self.path}
        if self.path != "/":
            return self._sm_error(404, "UnknownOperationException", "no such path", rec)
        target = self.headers.get("X-Amz-Target")
        if target == "secretsmanager.GetSecretValue":
            return self._get_secret(body, rec)
        if target is None:
            return self._sts(body, rec)
        return self._sm_error(400, "UnknownOperationException", "unknown target %s" % target, rec)



if __name__ == "__main__":
    fake_common.main(Handler, "fake_aws", __doc__)
