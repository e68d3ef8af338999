"""Validation of created objects as the API server's validation does it
(k8s.io/kubernetes pkg/apis/core/validation): each problem is a field error
whose text and cause reason follow field.Error, and a non-empty list becomes
a 422 Invalid answer."""

import base64
import binascii
import json
import re

from . import schema

DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN_RE = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
QUALIFIED_NAME_RE = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_VALUE_RE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
CONFIG_KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
ENV_NAME_RE = re.compile(r"^[ -<>-~]+$")  # printable ASCII except '='

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case "
             "alphanumeric characters or '-', and must start and end with an "
             "alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
             "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case "
                 "alphanumeric characters, '-' or '.', and must start and end "
                 "with an alphanumeric character (e.g. 'example.com', regex "
                 "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\."
                 "[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
QUALIFIED_MSG = ("name part must consist of alphanumeric characters, '-', "
                 "'_' or '.', and must start and end with an alphanumeric "
                 "character (e.g. 'MyName',  or 'my.name',  or '123-abc', "
                 "regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?"
                 "[A-Za-z0-9]')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of "
                   "alphanumeric characters, '-', '_' or '.', and must start "
                   "and end with an alphanumeric character (e.g. 'MyValue',  "
                   "or 'my_value',  or '12345', regex used for validation is "
                   "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")

REASONS = {
    "Required": "FieldValueRequired", "Invalid": "FieldValueInvalid",
    "Unsupported": "FieldValueNotSupported",
    "Duplicate": "FieldValueDuplicate", "NotFound": "FieldValueNotFound",
    "Forbidden": "FieldValueForbidden", "TooLong": "FieldValueTooLong",
}


class FieldError:
    def __init__(self, kind, field, value=None, detail=""):
        self.kind, self.field, self.value, self.detail = (
            kind, field, value, detail)

    def _value(self):
        if isinstance(self.value, str):
            return json.dumps(self.value)
        return json.dumps(self.value)

    def message(self):
        """The text after "<field>: " in field.Error.Error()."""
        k = self.kind
        if k == "Required":
            text = "Required value"
        elif k == "Invalid":
            text = "Invalid value: " + self._value()
        elif k == "Unsupported":
            text = "Unsupported value: " + self._value()
        elif k == "Duplicate":
            text = "Duplicate value: " + self._value()
        elif k == "NotFound":
            text = "Not found: " + self._value()
        elif k == "Forbidden":
            text = "Forbidden"
        elif k == "TooLong":
            text = "Too long"
        else:
            text = k
        if self.detail:
            text += ": " + self.detail
        return text

    def text(self):
        return "%s: %s" % (self.field, self.message())

    def cause(self):
        return {"reason": REASONS.get(self.kind, "FieldValueInvalid"),
                "message": self.message(), "field": self.field}


def _supported(values):
    return "supported values: " + ", ".join('"%s"' % v for v in values)


def check_dns_label(errs, field, value):
    if len(value) > 63:
        errs.append(FieldError("Invalid", field, value,
                               "must be no more than 63 characters"))
    if not DNS1123_LABEL_RE.match(value):
        errs.append(FieldError("Invalid", field, value, LABEL_MSG))


def check_dns_subdomain(errs, field, value):
    if len(value) > 253:
        errs.append(FieldError("Invalid", field, value,
                               "must be no more than 253 characters"))
    if not DNS1123_SUBDOMAIN_RE.match(value):
        errs.append(FieldError("Invalid", field, value, SUBDOMAIN_MSG))


def check_qualified_name(errs, field, key):
    parts = key.split("/")
    if len(parts) > 2 or not parts[-1]:
        errs.append(FieldError(
            "Invalid", field, key,
            QUALIFIED_MSG + " or an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"))
        return
    name = parts[-1]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errs.append(FieldError("Invalid", field, key,
                                   "prefix part must be non-empty"))
        elif len(prefix) > 253 or not DNS1123_SUBDOMAIN_RE.match(prefix):
            errs.append(FieldError("Invalid", field, key,
                                   "prefix part " + SUBDOMAIN_MSG))
    if len(name) > 63:
        errs.append(FieldError("Invalid", field, key,
                               "name part must be no more than 63 "
                               "characters"))
    if not QUALIFIED_NAME_RE.match(name):
        errs.append(FieldError("Invalid", field, key, QUALIFIED_MSG))


def check_labels(errs, field, labels):
    for key, value in (labels or {}).items():
        check_qualified_name(errs, field, key)
        value = value or ""
        if len(value) > 63:
            errs.append(FieldError("Invalid", "%s" % field, value,
                                   "must be no more than 63 characters"))
        if not LABEL_VALUE_RE.match(value):
            errs.append(FieldError("Invalid", field, value, LABEL_VALUE_MSG))


def check_annotations(errs, field, annotations):
    total = 0
    for key, value in (annotations or {}).items():
        check_qualified_name(errs, field, key.lower())
        total += len(key) + len(value or "")
    if total > 256 * 1024:
        errs.append(FieldError("TooLong", field, "",
                               "may not be more than 262144 bytes"))


def check_meta(errs, meta, name_check):
    """metadata of a namespaced object whose name follows name_check."""
    name = meta.get("name") or ""
    if not name and not meta.get("generateName"):
        errs.append(FieldError("Required", "metadata.name", None,
                               "name or generateName is required"))
    elif name:
        name_check(errs, "metadata.name", name)
    check_labels(errs, "metadata.labels", meta.get("labels"))
    check_annotations(errs, "metadata.annotations", meta.get("annotations"))


def _quantity_map(errs, field, res, key):
    out = {}
    for name, q in (res.get(key) or {}).items():
        value = schema.parse_quantity(q)
        if "/" not in name and name not in (
                "cpu", "memory", "ephemeral-storage", "storage", "pods") \
                and not name.startswith("hugepages-"):
            errs.append(FieldError("Invalid", "%s.%s[%s]" % (field, key, name),
                                   name, "must be a standard resource type "
                                   "or fully qualified"))
        if value is not None and value < 0:
            errs.append(FieldError("Invalid", "%s.%s[%s]" % (field, key, name),
                                   q, "must be greater than or equal to 0"))
        out[name] = (value, q)
    return out


def check_resources(errs, field, res):
    if not res:
        return
    limits = _quantity_map(errs, field, res, "limits")
    requests = _quantity_map(errs, field, res, "requests")
    for name, (value, raw) in requests.items():
        if name in limits and value is not None and limits[name][0] is not None \
                and value > limits[name][0]:
            errs.append(FieldError(
                "Invalid", "%s.requests" % field, raw,
                "must be less than or equal to %s limit of %s"
                % (name, limits[name][1])))


def check_env(errs, field, env):
    for i, var in enumerate(env or []):
        f = "%s[%d]" % (field, i)
        name = var.get("name") or ""
        if not name:
            errs.append(FieldError("Required", f + ".name"))
        elif not ENV_NAME_RE.match(name):
            errs.append(FieldError(
                "Invalid", f + ".name", name,
                "a valid environment variable name must consist only of "
                "printable ASCII characters other than '='"))
        src = var.get("valueFrom")
        if src:
            if var.get("value"):
                errs.append(FieldError(
                    "Invalid", f + ".valueFrom", "",
                    "may not be specified when `value` is not empty"))
            kinds = [k for k in ("fieldRef", "resourceFieldRef",
                                 "configMapKeyRef", "secretKeyRef") if src.get(k)]
            if len(kinds) != 1:
                errs.append(FieldError(
                    "Invalid", f + ".valueFrom", "",
                    "may not have more than one field specified at a time"
                    if kinds else "must specify one of: `fieldRef`, "
                    "`resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
            for k in ("configMapKeyRef", "secretKeyRef"):
                ref = src.get(k)
                if ref is not None:
                    if not ref.get("key"):
                        errs.append(FieldError(
                            "Required", "%s.valueFrom.%s.key" % (f, k)))
                    if not ref.get("name"):
                        errs.append(FieldError(
                            "Required", "%s.valueFrom.%s.name" % (f, k)))


def check_container(errs, field, c, volumes, names, init):
    name = c.get("name") or ""
    if not name:
        errs.append(FieldError("Required", field + ".name"))
    else:
        check_dns_label(errs, field + ".name", name)
        if name in names:
            errs.append(FieldError("Duplicate", field + ".name", name))
        names.add(name)
    if not c.get("image"):
        errs.append(FieldError("Required", field + ".image"))
    elif c["image"] != c["image"].strip():
        errs.append(FieldError("Invalid", field + ".image", c["image"],
                               "must not have leading or trailing "
                               "whitespace"))
    policy = c.get("imagePullPolicy")
    if policy is not None and policy not in ("Always", "IfNotPresent", "Never"):
        errs.append(FieldError("Unsupported", field + ".imagePullPolicy",
                               policy, _supported(
                                   ["Always", "IfNotPresent", "Never"])))
    check_env(errs, field + ".env", c.get("env"))
    check_resources(errs, field + ".resources", c.get("resources"))
    mounts = set()
    for i, m in enumerate(c.get("volumeMounts") or []):
        f = "%s.volumeMounts[%d]" % (field, i)
        if not m.get("name"):
            errs.append(FieldError("Required", f + ".name"))
        elif m["name"] not in volumes:
            errs.append(FieldError("NotFound", f + ".name", m["name"]))
        path = m.get("mountPath") or ""
        if not path:
            errs.append(FieldError("Required", f + ".mountPath"))
        elif path in mounts:
            errs.append(FieldError("Invalid", f + ".mountPath", path,
                                   "must be unique"))
        mounts.add(path)
        sub = m.get("subPath") or ""
        if sub.startswith("/") or ".." in sub.split("/"):
            errs.append(FieldError("Invalid", f + ".subPath", sub,
                                   "must be a relative path without '..'"))
    ports = set()
    for i, p in enumerate(c.get("ports") or []):
        f = "%s.ports[%d]" % (field, i)
        port = p.get("containerPort")
        if port is None:
            errs.append(FieldError("Required", f + ".containerPort"))
        elif not 1 <= port <= 65535:
            errs.append(FieldError("Invalid", f + ".containerPort", port,
                                   "must be between 1 and 65535, inclusive"))
        proto = p.get("protocol", "TCP")
        if proto not in ("TCP", "UDP", "SCTP"):
            errs.append(FieldError("Unsupported", f + ".protocol", proto,
                                   _supported(["SCTP", "TCP", "UDP"])))
        if p.get("name"):
            if len(p["name"]) > 15 or not re.match(
                    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", p["name"]):
                errs.append(FieldError(
                    "Invalid", f + ".name", p["name"],
                    "must be no more than 15 characters and an IANA_SVC_NAME"))
        if (port, proto) in ports:
            pass  # duplicate container ports are only a warning
        ports.add((port, proto))
    if init and any(c.get(k) for k in ("readinessProbe", "livenessProbe",
                                       "startupProbe", "lifecycle")) \
            and c.get("restartPolicy") != "Always":
        errs.append(FieldError("Forbidden", field + ".readinessProbe", None,
                               "may not be set for init containers"))
    sc = c.get("securityContext") or {}
    if sc.get("privileged") and sc.get("allowPrivilegeEscalation") is False:
        errs.append(FieldError(
            "Invalid", field + ".securityContext", sc,
            "cannot set `allowPrivilegeEscalation` to false and `privileged` "
            "to true"))
    if c.get("stdinOnce") and not c.get("stdin"):
        pass  # allowed, stdinOnce has no effect without stdin


VOLUME_SOURCES = ("hostPath", "emptyDir", "secret", "configMap",
                  "persistentVolumeClaim", "csi", "projected", "downwardAPI",
                  "ephemeral", "nfs", "image")


def check_volumes(errs, volumes):
    names = set()
    for i, v in enumerate(volumes or []):
        f = "spec.volumes[%d]" % i
        name = v.get("name") or ""
        if not name:
            errs.append(FieldError("Required", f + ".name"))
        else:
            check_dns_label(errs, f + ".name", name)
            if name in names:
                errs.append(FieldError("Duplicate", f + ".name", name))
            names.add(name)
        sources = [k for k in VOLUME_SOURCES if v.get(k) is not None]
        if not sources:
            errs.append(FieldError("Required", f, None,
                                   "must specify a volume type"))
        elif len(sources) > 1:
            errs.append(FieldError("Forbidden", f + "." + sources[1], None,
                                   "may not specify more than 1 volume type"))
        hp = v.get("hostPath")
        if hp is not None:
            if not hp.get("path"):
                errs.append(FieldError("Required", f + ".hostPath.path"))
            types = ("", "DirectoryOrCreate", "Directory", "FileOrCreate",
                     "File", "Socket", "CharDevice", "BlockDevice")
            if hp.get("type", "") not in types:
                errs.append(FieldError("Unsupported", f + ".hostPath.type",
                                       hp["type"], _supported(types[1:])))
        if v.get("secret") is not None and not v["secret"].get("secretName"):
            errs.append(FieldError("Required", f + ".secret.secretName"))
        if v.get("configMap") is not None and not v["configMap"].get("name"):
            errs.append(FieldError("Required", f + ".configMap.name"))
        pvc = v.get("persistentVolumeClaim")
        if pvc is not None and not pvc.get("claimName"):
            errs.append(FieldError("Required",
                                   f + ".persistentVolumeClaim.claimName"))
        if v.get("csi") is not None and not v["csi"].get("driver"):
            errs.append(FieldError("Required", f + ".csi.driver"))
        for src in ("secret", "configMap"):
            for j, item in enumerate((v.get(src) or {}).get("items") or []):
                g = "%s.%s.items[%d]" % (f, src, j)
                if not item.get("key"):
                    errs.append(FieldError("Required", g + ".key"))
                p = item.get("path") or ""
                if not p:
                    errs.append(FieldError("Required", g + ".path"))
                elif p.startswith("/") or ".." in p.split("/"):
                    errs.append(FieldError("Invalid", g + ".path", p,
                                           "must be a relative path without "
                                           "'..'"))
    return names


def validate_pod(pod):
    errs = []
    meta = pod.get("metadata") or {}
    check_meta(errs, meta, check_dns_subdomain)
    spec = pod.get("spec")
    if spec is None:
        errs.append(FieldError("Required", "spec"))
        return errs
    volumes = check_volumes(errs, spec.get("volumes"))
    names = set()
    containers = spec.get("containers") or []
    if not containers:
        errs.append(FieldError("Required", "spec.containers"))
    for i, c in enumerate(spec.get("initContainers") or []):
        check_container(errs, "spec.initContainers[%d]" % i, c, volumes,
                        names, True)
    for i, c in enumerate(containers):
        check_container(errs, "spec.containers[%d]" % i, c, volumes, names,
                        False)
    rp = spec.get("restartPolicy")
    if rp is not None and rp not in ("Always", "OnFailure", "Never"):
        errs.append(FieldError("Unsupported", "spec.restartPolicy", rp,
                               _supported(["Always", "OnFailure", "Never"])))
    dp = spec.get("dnsPolicy")
    dns_policies = ["ClusterFirstWithHostNet", "ClusterFirst", "Default",
                    "None"]
    if dp is not None and dp not in dns_policies:
        errs.append(FieldError("Unsupported", "spec.dnsPolicy", dp,
                               _supported(dns_policies)))
    if dp == "None" and not (spec.get("dnsConfig") or {}).get("nameservers"):
        errs.append(FieldError(
            "Required", "spec.dnsConfig", None,
            "must provide `dnsConfig` when `dnsPolicy` is None"))
    for key in ("terminationGracePeriodSeconds",):
        if spec.get(key) is not None and spec[key] < 0:
            errs.append(FieldError("Invalid", "spec." + key, spec[key],
                                   "must be greater than or equal to 0"))
    if spec.get("activeDeadlineSeconds") is not None and \
            spec["activeDeadlineSeconds"] <= 0:
        errs.append(FieldError("Invalid", "spec.activeDeadlineSeconds",
                               spec["activeDeadlineSeconds"],
                               "must be between 1 and 2147483647, inclusive"))
    for key, value in (spec.get("nodeSelector") or {}).items():
        check_qualified_name(errs, "spec.nodeSelector", key)
        if not LABEL_VALUE_RE.match(value or "") or len(value or "") > 63:
            errs.append(FieldError("Invalid", "spec.nodeSelector", value,
                                   LABEL_VALUE_MSG))
    for i, t in enumerate(spec.get("tolerations") or []):
        f = "spec.tolerations[%d]" % i
        op = t.get("operator", "Equal")
        if op not in ("Equal", "Exists"):
            errs.append(FieldError("Unsupported", f + ".operator", op,
                                   _supported(["Equal", "Exists"])))
        if op == "Exists" and t.get("value"):
            errs.append(FieldError("Invalid", f + ".operator", t.get("value"),
                                   "value must be empty when `operator` is "
                                   "'Exists'"))
        if not t.get("key") and op != "Exists":
            errs.append(FieldError("Invalid", f + ".operator", op,
                                   "operator must be Exists when `key` is "
                                   "empty, which means \"match all values "
                                   "and all keys\""))
        eff = t.get("effect")
        if eff and eff not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.append(FieldError("Unsupported", f + ".effect", eff,
                                   _supported(["NoSchedule",
                                               "PreferNoSchedule",
                                               "NoExecute"])))
        if t.get("tolerationSeconds") is not None and eff != "NoExecute":
            errs.append(FieldError("Invalid", f + ".effect", eff,
                                   "effect must be 'NoExecute' when "
                                   "`tolerationSeconds` is set"))
    for i, h in enumerate(spec.get("hostAliases") or []):
        f = "spec.hostAliases[%d]" % i
        if not re.match(r"^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+:[0-9a-fA-F:]*$",
                        h.get("ip") or ""):
            errs.append(FieldError("Invalid", f + ".ip", h.get("ip", ""),
                                   "must be a valid IP address"))
        for j, host in enumerate(h.get("hostnames") or []):
            check_dns_subdomain(errs, "%s.hostnames[%d]" % (f, j), host)
    for i, s in enumerate(spec.get("imagePullSecrets") or []):
        if not s.get("name"):
            errs.append(FieldError("Required",
                                   "spec.imagePullSecrets[%d].name" % i))
    if spec.get("serviceAccountName"):
        check_dns_subdomain(errs, "spec.serviceAccountName",
                            spec["serviceAccountName"])
    sc = spec.get("securityContext") or {}
    fsp = sc.get("fsGroupChangePolicy")
    if fsp is not None and fsp not in ("OnRootMismatch", "Always"):
        errs.append(FieldError("Unsupported",
                               "spec.securityContext.fsGroupChangePolicy", fsp,
                               _supported(["OnRootMismatch", "Always"])))
    if spec.get("hostNetwork") is False:
        pass
    return errs


def validate_secret(obj):
    errs = []
    check_meta(errs, obj.get("metadata") or {}, check_dns_subdomain)
    for key, value in (obj.get("data") or {}).items():
        if not CONFIG_KEY_RE.match(key):
            errs.append(FieldError("Invalid", "data[%s]" % key, key,
                                   "a valid config key must consist of "
                                   "alphanumeric characters, '-', '_' or '.' "
                                   "(e.g. 'key.name',  or 'KEY_NAME',  or "
                                   "'key-name', regex used for validation is "
                                   "'[-._a-zA-Z0-9]+')"))
    stype = obj.get("type") or "Opaque"
    data = obj.get("data") or {}
    for dtype, key in (("kubernetes.io/dockerconfigjson", ".dockerconfigjson"),
                       ("kubernetes.io/dockercfg", ".dockercfg")):
        if stype != dtype:
            continue
        if key not in data:
            errs.append(FieldError("Required", "data[%s]" % key))
            continue
        # Its content must be a JSON object (json.Unmarshal into a map).
        try:
            parsed = json.loads(base64.b64decode(data[key] or ""))
        except (ValueError, binascii.Error) as e:
            parsed = e
        if not isinstance(parsed, dict):
            errs.append(FieldError("Invalid", "data[%s]" % key,
                                   "<secret contents redacted>",
                                   "not a JSON object: %s" % parsed))
    if stype == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in data:
                errs.append(FieldError("Required", "data[%s]" % key))
    size = sum(len(base64.b64decode(v or "")) for v in data.values())
    if size > 1024 * 1024:
        errs.append(FieldError("TooLong", "data", "",
                               "may not be more than 1048576 bytes"))
    return errs


def decode_secret_data(obj):
    """[]byte fields decode base64 (a JSON decode error otherwise)."""
    for key, value in (obj.get("data") or {}).items():
        try:
            base64.b64decode(value or "", validate=True)
        except (binascii.Error, ValueError):
            raise schema.DecodeError(
                "illegal base64 data at input byte %d" % _bad_b64_at(value))


def _bad_b64_at(value):
    for i, ch in enumerate(value):
        if not (ch.isalnum() or ch in "+/="):
            return i
    return len(value)


def validate_configmap(obj):
    errs = []
    check_meta(errs, obj.get("metadata") or {}, check_dns_subdomain)
    for field in ("data", "binaryData"):
        for key in (obj.get(field) or {}):
            if not CONFIG_KEY_RE.match(key):
                errs.append(FieldError("Invalid", "%s[%s]" % (field, key), key,
                                       "a valid config key must consist of "
                                       "alphanumeric characters, '-', '_' or "
                                       "'.'"))
    both = set(obj.get("data") or {}) & set(obj.get("binaryData") or {})
    for key in both:
        errs.append(FieldError("Invalid", "data[%s]" % key, key,
                               "duplicate of key present in binaryData"))
    return errs


def validate_service(obj):
    errs = []
    check_meta(errs, obj.get("metadata") or {}, check_dns_label)
    spec = obj.get("spec") or {}
    stype = spec.get("type", "ClusterIP")
    types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    if stype not in types:
        errs.append(FieldError("Unsupported", "spec.type", stype,
                               _supported(types)))
    ports = spec.get("ports") or []
    if not ports and stype != "ExternalName" and \
            spec.get("clusterIP") != "None":
        errs.append(FieldError("Required", "spec.ports"))
    names = set()
    for i, p in enumerate(ports):
        f = "spec.ports[%d]" % i
        if len(ports) > 1 and not p.get("name"):
            errs.append(FieldError("Required", f + ".name"))
        if p.get("name"):
            if p["name"] in names:
                errs.append(FieldError("Duplicate", f + ".name", p["name"]))
            names.add(p["name"])
        port = p.get("port")
        if port is None:
            errs.append(FieldError("Required", f + ".port"))
        elif not 1 <= port <= 65535:
            errs.append(FieldError("Invalid", f + ".port", port,
                                   "must be between 1 and 65535, inclusive"))
    for key, value in (spec.get("selector") or {}).items():
        check_qualified_name(errs, "spec.selector", key)
    return errs


def validate_namespace(obj):
    errs = []
    meta = obj.get("metadata") or {}
    if not meta.get("name") and not meta.get("generateName"):
        errs.append(FieldError("Required", "metadata.name", None,
                               "name or generateName is required"))
    elif meta.get("name"):
        check_dns_label(errs, "metadata.name", meta["name"])
    check_labels(errs, "metadata.labels", meta.get("labels"))
    return errs


def validate_simple(obj):
    errs = []
    check_meta(errs, obj.get("metadata") or {}, check_dns_subdomain)
    return errs
