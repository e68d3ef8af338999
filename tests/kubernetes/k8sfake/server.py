"""The API server's HTTP side: authentication, routing, and the create/
get/list/update/patch/delete verbs of every resource.  Streams (watch, log,
exec, attach) are in streams.py."""

import base64
import copy
import http.server
import json
import urllib.parse
import uuid

from . import schema, selectors, streams, validation
from .admission import quota_violation
from .patch import json_patch, merge_patch
from .resources import RESOURCES, api_resource_list, default
from .util import now, status

NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


class HttpError(Exception):
    def __init__(self, code, body, headers=None):
        super().__init__(body.get("message", ""))
        self.code, self.body, self.headers = code, body, headers or {}


def not_found(resource, name):
    return HttpError(404, status(404, "NotFound", '%s "%s" not found'
                                 % (resource, name),
                                 {"name": name, "kind": resource}))


def bad_request(message):
    return HttpError(400, status(400, "BadRequest", message))


def invalid(kind, name, errs):
    texts = [e.text() for e in errs]
    msg = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    return HttpError(422, status(
        422, "Invalid", '%s "%s" is invalid: %s' % (kind, name, msg),
        {"name": name, "kind": kind,
         "causes": [e.cause() for e in errs]}))


def forbidden(resource, name, message):
    return HttpError(403, status(403, "Forbidden", '%s "%s" is forbidden: %s'
                                 % (resource, name, message),
                                 {"name": name, "kind": resource}))


def generate_name(prefix):
    import random
    if len(prefix) > 58:
        prefix = prefix[:58]
    return prefix + "".join(random.choice(NAME_CHARS) for _ in range(5))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "k8sfake"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.verbose:
            super().log_message(fmt, *args)

    # plumbing -------------------------------------------------------------

    def setup(self):
        super().setup()
        self.server.track(self.connection, True)

    def finish(self):
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def send_response(self, code, message=None):
        super().send_response(code, message)
        self.server.record(self, code)

    def _read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def send_json(self, code, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def send_text(self, code, text, ctype="text/plain; charset=utf-8"):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def begin_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.close_connection = True

    def write_chunk(self, data):
        if not data:
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self):
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # entry ----------------------------------------------------------------

    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        self.url_path = url.path
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        try:
            self.body = self._read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        try:
            self.authenticate()
            self.route()
        except HttpError as e:
            self.send_json(e.code, e.body, e.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def q(self, name, default=None):
        values = self.query.get(name)
        return values[-1] if values else default

    def q_bool(self, name):
        return (self.q(name) or "").lower() in ("true", "1")

    def authenticate(self):
        self.user = None
        auth = self.headers.get("Authorization")
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            if scheme.lower() != "bearer" or token.strip() != self.server.token:
                raise HttpError(401, status(401, "Unauthorized",
                                            "Unauthorized"))
            self.user = "token-user"
        else:
            cert_user = self.server.client_cert_user(self.connection)
            if cert_user:
                self.user = cert_user
        if self.user is None:
            if self.url_path in ("/version", "/healthz", "/livez",
                                 "/readyz"):
                return
            raise HttpError(403, status(
                403, "Forbidden", 'forbidden: User "system:anonymous" cannot '
                '%s path "%s"' % (self.command.lower(), self.url_path)))

    def route(self):
        parts = [urllib.parse.unquote(p) for p in
                 self.url_path.strip("/").split("/") if p != ""]
        m = self.command
        if parts == ["version"]:
            return self.send_json(200, {
                "major": "1", "minor": "31", "gitVersion": "v1.31.0-k8sfake",
                "gitCommit": "0" * 40, "gitTreeState": "clean",
                "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22",
                "compiler": "gc", "platform": "linux/amd64"})
        if parts in (["healthz"], ["livez"], ["readyz"]):
            return self.send_text(200, "ok")
        if parts == ["api"]:
            return self.send_json(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{
                    "clientCIDR": "0.0.0.0/0",
                    "serverAddress": "127.0.0.1:%d" % self.server.port}]})
        if parts == ["apis"]:
            return self.send_json(200, {"kind": "APIGroupList",
                                        "apiVersion": "v1", "groups": []})
        if parts == ["api", "v1"]:
            return self.send_json(200, api_resource_list())
        if len(parts) < 3 or parts[:2] != ["api", "v1"]:
            if parts and parts[0] in ("api", "apis"):
                raise HttpError(404, status(
                    404, "NotFound",
                    "the server could not find the requested resource",
                    {}))
            return self.send_text(404, "404 page not found\n")
        rest = parts[2:]
        watch = False
        if rest[0] == "watch":
            watch, rest = True, rest[1:]
        if self.q_bool("watch"):
            watch = True
        ns = None
        if rest and rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        resource = rest[0] if rest else ""
        if resource not in RESOURCES or (ns is not None and
                                         not RESOURCES[resource]["namespaced"]):
            raise HttpError(404, status(
                404, "NotFound",
                "the server could not find the requested resource", {}))
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        if len(rest) > 3 or (sub and resource != "pods"):
            raise HttpError(404, status(
                404, "NotFound",
                "the server could not find the requested resource", {}))
        if RESOURCES[resource]["namespaced"] and ns is None and name:
            raise HttpError(404, status(
                404, "NotFound",
                "the server could not find the requested resource", {}))
        if sub:
            return self.subresource(m, ns, name, sub)
        if name is None:
            if m in ("GET", "HEAD"):
                if watch:
                    return streams.watch(self, resource, ns)
                return self.list(resource, ns)
            if m == "POST":
                return self.create(resource, ns)
            if m == "DELETE":
                return self.delete_collection(resource, ns)
        else:
            if m in ("GET", "HEAD"):
                if watch:
                    self.query["fieldSelector"] = ["metadata.name=" + name]
                    return streams.watch(self, resource, ns)
                return self.get(resource, ns, name)
            if m == "PUT":
                return self.update(resource, ns, name)
            if m == "PATCH":
                return self.patch(resource, ns, name)
            if m == "DELETE":
                return self.delete(resource, ns, name)
        raise HttpError(405, status(
            405, "MethodNotAllowed",
            "the server does not allow this method on the requested "
            "resource", {}))

    def subresource(self, method, ns, name, sub):
        if sub == "log" and method == "GET":
            return streams.log(self, ns, name)
        if sub in ("exec", "attach") and method in ("GET", "POST"):
            return streams.exec_or_attach(self, ns, name, sub)
        if sub == "status" and method == "GET":
            return self.get("pods", ns, name)
        if sub in ("log", "exec", "attach", "status"):
            raise HttpError(405, status(
                405, "MethodNotAllowed",
                "the server does not allow this method on the requested "
                "resource", {}))
        raise HttpError(404, status(
            404, "NotFound",
            "the server could not find the requested resource", {}))

    # helpers --------------------------------------------------------------

    def require_namespace(self, ns):
        if ns is not None and self.server.store.get(
                "namespaces", None, ns) is None:
            raise not_found("namespaces", ns)

    def parse_json_body(self, kind):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0] \
            .strip().lower()
        if ctype not in ("", "application/json", "*/*"):
            raise HttpError(415, status(
                415, "UnsupportedMediaType",
                'the body of the request was in an unknown format - accepted '
                'media types include: application/json, application/yaml, '
                'application/vnd.kubernetes.protobuf, '
                'application/cbor' if ctype != "application/yaml" else
                "k8sfake: YAML bodies are not supported, send JSON", {}))
        try:
            obj = json.loads(self.body.decode() or "null")
        except (UnicodeDecodeError, ValueError) as e:
            raise bad_request("couldn't get version/kind; json parse error: "
                              "%s" % e)
        if not isinstance(obj, dict):
            raise bad_request("couldn't get version/kind; json parse error: "
                              "json: cannot unmarshal %s into Go value of "
                              "type struct { APIVersion string "
                              "\"json:\\\"apiVersion,omitempty\\\"\"; Kind "
                              "string \"json:\\\"kind,omitempty\\\"\" }"
                              % type(obj).__name__)
        return obj

    def decode(self, resource, obj):
        """Type-checks obj; returns the Warning headers for unknown
        fields (or raises)."""
        r = RESOURCES[resource]
        kind = r["kind"]
        if obj.get("kind") not in (None, "", kind) or \
                obj.get("apiVersion") not in (None, "", "v1"):
            raise bad_request(
                "the API version in the data (%s) does not match the "
                "expected API version (v1)" % obj.get("apiVersion")
                if obj.get("apiVersion") not in (None, "", "v1") else
                "%s in version \"v1\" cannot be handled as a %s: "
                "no kind \"%s\" is registered for version \"v1\""
                % (kind, kind, obj.get("kind")))
        if r["type"] is None:
            return {}
        unknown = []
        try:
            schema.decode(obj, r["type"], unknown)
            if resource == "secrets":
                validation.decode_secret_data(obj)
        except schema.DecodeError as e:
            raise bad_request('%s in version "v1" cannot be handled as a '
                              '%s: %s' % (kind, kind, e))
        mode = self.q("fieldValidation") or self.server.field_validation
        if mode not in ("Strict", "Warn", "Ignore"):
            raise bad_request('fieldValidation parameter unsupported: "%s"'
                              % mode)
        if unknown and mode == "Strict":
            raise bad_request(
                '%s in version "v1" cannot be handled as a %s: strict '
                'decoding error: %s' % (kind, kind, ", ".join(
                    'unknown field "%s"' % u for u in unknown)))
        if unknown and mode == "Warn":
            return {"Warning": ", ".join(
                '299 - "unknown field \\"%s\\""' % u for u in unknown)}
        return {}

    def with_kind(self, resource, obj):
        obj["kind"] = RESOURCES[resource]["kind"]
        obj["apiVersion"] = "v1"
        return obj

    # verbs ----------------------------------------------------------------

    def create(self, resource, ns):
        if resource == "nodes":
            raise HttpError(405, status(405, "MethodNotAllowed",
                                        "the server does not allow this "
                                        "method on the requested resource",
                                        {}))
        r = RESOURCES[resource]
        obj = self.parse_json_body(r["kind"])
        warn = self.decode(resource, obj)
        meta = obj.setdefault("metadata", {})
        if ns is not None and meta.get("namespace") not in (None, "", ns):
            raise bad_request("the namespace of the provided object does not "
                              "match the namespace sent on the request")
        if ns is not None:
            meta["namespace"] = ns
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = generate_name(meta["generateName"])
        name = meta.get("name") or ""
        errs = r["validate"](obj)
        if errs:
            raise invalid(r["kind"], name, errs)
        self.require_namespace(ns)
        if ns is not None:
            nso = self.server.store.get("namespaces", None, ns)
            if nso.get("metadata", {}).get("deletionTimestamp"):
                raise forbidden(resource, name,
                                "unable to create new content in namespace "
                                "%s because it is being terminated" % ns)
        if resource == "pods":
            self.admit_pod(obj, ns, name)
        for k in ("uid", "resourceVersion", "creationTimestamp",
                  "deletionTimestamp", "deletionGracePeriodSeconds",
                  "selfLink"):
            meta.pop(k, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = now()
        if resource == "pods":
            meta["generation"] = 1
        default(resource, obj)
        self.with_kind(resource, obj)
        if "All" in self.query.get("dryRun", []):
            return self.send_json(201, obj, warn)
        if not self.server.store.create(resource, ns, obj):
            raise HttpError(409, status(
                409, "AlreadyExists", '%s "%s" already exists'
                % (resource, name), {"name": name, "kind": resource}))
        if resource == "namespaces":
            self.server.create_default_account(name)
        if resource == "pods":
            self.server.start_pod(ns, name)
        self.send_json(201, obj, warn)

    def admit_pod(self, pod, ns, name):
        spec = pod["spec"]
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") \
            or "default"
        if self.server.store.get("serviceaccounts", ns, sa) is None:
            raise forbidden("pods", name,
                            "error looking up service account %s/%s: "
                            'serviceaccount "%s" not found' % (ns, sa, sa))
        pc = spec.get("priorityClassName")
        if pc and pc not in self.server.priority_classes:
            raise forbidden("pods", name,
                            "no PriorityClass with name %s was found" % pc)
        rc = spec.get("runtimeClassName")
        if rc and rc not in self.server.runtime_classes:
            raise forbidden("pods", name,
                            'pod rejected: RuntimeClass "%s" not found' % rc)
        for qname, hard in self.server.quotas.get(ns, []):
            message = quota_violation(qname, hard, pod, self.server.store.list(
                "pods", ns)[0])
            if message:
                raise forbidden("pods", name, message)

    def get(self, resource, ns, name):
        self.require_namespace(ns) if resource != "namespaces" else None
        obj = self.server.store.get(resource, ns, name)
        if obj is None:
            raise not_found(resource, name)
        self.send_json(200, obj)

    def selected(self, resource, ns):
        try:
            lsel = selectors.parse_labels(self.q("labelSelector"))
            fsel = selectors.parse_fields(
                self.q("fieldSelector"),
                selectors.FIELDS.get(resource, selectors.COMMON_FIELDS))
        except selectors.SelectorError as e:
            raise bad_request(str(e))

        def match(obj):
            return selectors.labels_match(
                lsel, obj["metadata"].get("labels")) and \
                selectors.fields_match(fsel, obj)
        return match

    def list(self, resource, ns):
        match = self.selected(resource, ns)
        items, rv = self.server.store.list(resource, ns)
        items = [i for i in items if match(i)]
        for i in items:
            i.pop("kind", None)
            i.pop("apiVersion", None)
        meta = {"resourceVersion": rv}
        limit = int(self.q("limit") or 0)
        cont = self.q("continue")
        if cont:
            try:
                token = json.loads(base64.b64decode(cont))
                start = int(token["start"])
            except (ValueError, KeyError, TypeError):
                raise bad_request("continue key is not valid: %s" % cont)
            items = items[start:]
        else:
            start = 0
        if limit and len(items) > limit:
            meta["continue"] = base64.b64encode(json.dumps(
                {"rv": rv, "start": start + limit}).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        self.send_json(200, {"kind": RESOURCES[resource]["kind"] + "List",
                             "apiVersion": "v1", "metadata": meta,
                             "items": items})

    def update(self, resource, ns, name):
        r = RESOURCES[resource]
        obj = self.parse_json_body(r["kind"])
        warn = self.decode(resource, obj)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") not in (None, name):
            raise bad_request("the name of the object (%s) does not match "
                              "the name on the URL (%s)"
                              % (meta.get("name"), name))
        if ns is not None and meta.get("namespace") not in (None, "", ns):
            raise bad_request("the namespace of the provided object does not "
                              "match the namespace sent on the request")
        meta["name"] = name
        self.replace(resource, ns, name, obj, warn)

    def replace(self, resource, ns, name, obj, warn):
        r = RESOURCES[resource]
        meta = obj["metadata"]
        if ns is not None:
            meta["namespace"] = ns
        current = self.server.store.get(resource, ns, name)
        if current is None:
            raise not_found(resource, name)
        errs = r["validate"](obj) if r["validate"] else []
        if errs:
            raise invalid(r["kind"], name, errs)
        if not meta.get("resourceVersion"):
            raise invalid(r["kind"], name, [validation.FieldError(
                "Invalid", "metadata.resourceVersion", 0,
                "must be specified for an update")])
        if resource == "pods":
            self.check_pod_update(current, obj)
        for k in ("uid", "creationTimestamp", "deletionTimestamp",
                  "deletionGracePeriodSeconds", "generation"):
            if k in current["metadata"]:
                meta[k] = current["metadata"][k]
        if resource == "pods":
            obj["status"] = current.get("status", {})
        elif resource == "secrets":
            default("secrets", obj)
        self.with_kind(resource, obj)
        want_rv = meta["resourceVersion"]
        conflict = []

        def mutate(cur):
            if cur["metadata"]["resourceVersion"] != want_rv:
                conflict.append(True)
                return False
            cur.clear()
            cur.update(copy.deepcopy(obj))
        new = self.server.store.update(resource, ns, name, mutate)
        if new is None:
            raise not_found(resource, name)
        if conflict:
            raise HttpError(409, status(
                409, "Conflict", 'Operation cannot be fulfilled on %s "%s": '
                'the object has been modified; please apply your changes to '
                'the latest version and try again' % (resource, name),
                {"name": name, "kind": resource}))
        self.send_json(200, new, warn)

    def check_pod_update(self, current, new):
        a, b = copy.deepcopy(current.get("spec")), copy.deepcopy(new.get("spec"))
        for spec in (a, b):
            if not isinstance(spec, dict):
                continue
            spec.pop("activeDeadlineSeconds", None)
            spec.pop("tolerations", None)
            for c in (spec.get("containers") or []) + \
                    (spec.get("initContainers") or []):
                c.pop("image", None)
        if a != b:
            raise invalid("Pod", current["metadata"]["name"], [
                validation.FieldError(
                    "Forbidden", "spec", None,
                    "pod updates may not change fields other than "
                    "`spec.containers[*].image`,"
                    "`spec.initContainers[*].image`,"
                    "`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
                    "additions to existing tolerations),"
                    "`spec.terminationGracePeriodSeconds` (allow it to be "
                    "set to 1 if it was previously negative)")])

    def patch(self, resource, ns, name):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        current = self.server.store.get(resource, ns, name)
        try:
            patch = json.loads(self.body.decode() or "null")
        except ValueError as e:
            raise bad_request("error decoding patch: %s" % e)
        if ctype in ("application/merge-patch+json",
                     "application/strategic-merge-patch+json"):
            if current is None:
                raise not_found(resource, name)
            if not isinstance(patch, dict):
                raise bad_request("json: cannot unmarshal into object")
            new = merge_patch(copy.deepcopy(current), patch)
        elif ctype == "application/json-patch+json":
            if current is None:
                raise not_found(resource, name)
            try:
                new = json_patch(copy.deepcopy(current), patch)
            except (KeyError, IndexError, ValueError, TypeError) as e:
                raise HttpError(422, status(422, "Invalid",
                                            "the server rejected our request "
                                            "due to an error in our request: "
                                            "%s" % e))
        else:
            raise HttpError(415, status(
                415, "UnsupportedMediaType",
                "the body of the request was in an unknown format - accepted "
                "media types include: application/json-patch+json, "
                "application/merge-patch+json, "
                "application/strategic-merge-patch+json", {}))
        warn = self.decode(resource, new)
        if not (patch.get("metadata") or {}).get("resourceVersion") \
                if isinstance(patch, dict) else True:
            new["metadata"]["resourceVersion"] = \
                current["metadata"]["resourceVersion"]
        self.replace(resource, ns, name, new, warn)

    def delete_options(self):
        opts = {}
        if self.body.strip():
            opts = self.parse_json_body("DeleteOptions")
            unknown = []
            try:
                schema.decode(opts, "DeleteOptions", unknown)
            except schema.DecodeError as e:
                raise bad_request(str(e))
            if unknown:
                raise bad_request('strict decoding error: ' + ", ".join(
                    'unknown field "%s"' % u for u in unknown))
            if opts.get("kind") not in (None, "", "DeleteOptions"):
                raise bad_request("the kind of the body (%s) is not "
                                  "DeleteOptions" % opts.get("kind"))
        if self.q("gracePeriodSeconds") is not None:
            try:
                opts["gracePeriodSeconds"] = int(self.q("gracePeriodSeconds"))
            except ValueError:
                raise bad_request('strconv.ParseInt: parsing "%s": invalid '
                                  'syntax' % self.q("gracePeriodSeconds"))
        if self.q("propagationPolicy") is not None:
            opts["propagationPolicy"] = self.q("propagationPolicy")
        pp = opts.get("propagationPolicy")
        if pp is not None and pp not in ("Orphan", "Background", "Foreground"):
            raise invalid("DeleteOptions", "", [validation.FieldError(
                "Unsupported", "propagationPolicy", pp,
                'supported values: "Foreground", "Background", "Orphan", '
                '"nil"')])
        return opts

    def delete(self, resource, ns, name):
        opts = self.delete_options()
        if resource != "namespaces":
            self.require_namespace(ns)
        obj = self.server.store.get(resource, ns, name)
        if obj is None:
            raise not_found(resource, name)
        pre = opts.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != obj["metadata"]["uid"]:
            raise HttpError(409, status(
                409, "Conflict", "Precondition failed: UID in precondition: "
                "%s, UID in object meta: %s" % (pre["uid"],
                                                obj["metadata"]["uid"]),
                {"name": name, "kind": resource}))
        if pre.get("resourceVersion") and \
                pre["resourceVersion"] != obj["metadata"]["resourceVersion"]:
            raise HttpError(409, status(
                409, "Conflict", "Precondition failed: ResourceVersion in "
                "precondition: %s, ResourceVersion in object meta: %s"
                % (pre["resourceVersion"],
                   obj["metadata"]["resourceVersion"]),
                {"name": name, "kind": resource}))
        if "All" in (opts.get("dryRun") or []) + self.query.get("dryRun", []):
            return self.send_json(200, obj)
        if resource == "pods":
            return self.send_json(200, self.server.delete_pod(
                ns, name, opts.get("gracePeriodSeconds")))
        if resource == "namespaces":
            return self.send_json(200, self.server.delete_namespace(name))
        gone = self.server.store.delete(resource, ns, name)
        if gone is None:
            raise not_found(resource, name)
        self.send_json(200, {"kind": "Status", "apiVersion": "v1",
                             "metadata": {}, "status": "Success",
                             "details": {"name": name, "kind": resource,
                                         "uid": gone["metadata"]["uid"]}})

    def delete_collection(self, resource, ns):
        opts = self.delete_options()
        self.require_namespace(ns)
        match = self.selected(resource, ns)
        items, rv = self.server.store.list(resource, ns)
        out = []
        for obj in items:
            if not match(obj):
                continue
            name, ons = obj["metadata"]["name"], obj["metadata"].get(
                "namespace")
            if resource == "pods":
                gone = self.server.delete_pod(ons, name,
                                              opts.get("gracePeriodSeconds"))
            else:
                gone = self.server.store.delete(resource, ons, name)
            if gone is not None:
                gone.pop("kind", None)
                gone.pop("apiVersion", None)
                out.append(gone)
        self.send_json(200, {"kind": RESOURCES[resource]["kind"] + "List",
                             "apiVersion": "v1",
                             "metadata": {"resourceVersion": rv},
                             "items": out})
