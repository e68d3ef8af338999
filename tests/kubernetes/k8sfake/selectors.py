"""Label and field selectors as the API server parses them
(k8s.io/apimachinery/pkg/labels and pkg/fields)."""

import re


class SelectorError(Exception):
    pass


_KEY = r"[A-Za-z0-9./_-]+"
_VALUE = r"[A-Za-z0-9._-]*"


def _split_top(text):
    """Splits on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def parse_labels(text):
    """A list of (key, op, values); raises SelectorError."""
    reqs = []
    if not text or not text.strip():
        return reqs
    for part in _split_top(text):
        part = part.strip()
        m = re.match(r"^(%s)\s+(in|notin)\s+\(([^)]*)\)$" % _KEY, part)
        if m:
            values = [v.strip() for v in m.group(3).split(",")]
            if m.group(2) == "in" and (not values or values == [""]):
                raise SelectorError(
                    "unable to parse requirement: for 'in', 'notin' "
                    "operators, values set can't be empty")
            reqs.append((m.group(1), m.group(2), values))
            continue
        m = re.match(r"^(%s)\s*(==|!=|=)\s*(%s)$" % (_KEY, _VALUE), part)
        if m:
            op = "=" if m.group(2) in ("=", "==") else "!="
            reqs.append((m.group(1), op, [m.group(3)]))
            continue
        m = re.match(r"^(!?)\s*(%s)$" % _KEY, part)
        if m:
            reqs.append((m.group(2), "!" if m.group(1) else "exists", []))
            continue
        raise SelectorError("unable to parse requirement: found '%s', "
                            "expected: identifier, '!', '=', '==', '!=', "
                            "'in', 'notin'" % part)
    return reqs


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, values in reqs:
        have = labels.get(key)
        if op == "=" and have != values[0]:
            return False
        if op == "!=" and have == values[0]:
            return False
        if op == "in" and have not in values:
            return False
        if op == "notin" and have in values:
            return False
        if op == "exists" and key not in labels:
            return False
        if op == "!" and key in labels:
            return False
    return True


def parse_fields(text, allowed):
    """A list of (field, op, value); unknown fields raise SelectorError."""
    reqs = []
    if not text or not text.strip():
        return reqs
    for part in text.split(","):
        m = re.match(r"^([^=!]+)(==|!=|=)(.*)$", part.strip())
        if not m:
            raise SelectorError("invalid selector: '%s'; can't understand "
                                "'%s'" % (text, part))
        field = m.group(1).strip()
        if field not in allowed:
            raise SelectorError('field label not supported: %s' % field)
        reqs.append((field, "!=" if m.group(2) == "!=" else "=",
                     m.group(3).strip()))
    return reqs


def _get(obj, path):
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict):
            return ""
        cur = cur.get(part)
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return "" if cur is None else str(cur)


def fields_match(reqs, obj):
    for field, op, value in reqs:
        if field == "source":
            have = _get(obj, "source.component")
        else:
            have = _get(obj, field)
        if (op == "=") != (have == value):
            return False
    return True


COMMON_FIELDS = {"metadata.name", "metadata.namespace"}
FIELDS = {
    "pods": COMMON_FIELDS | {
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
        "spec.serviceAccountName", "spec.hostNetwork", "status.phase",
        "status.podIP", "status.nominatedNodeName"},
    "events": COMMON_FIELDS | {
        "involvedObject.kind", "involvedObject.namespace",
        "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion",
        "involvedObject.fieldPath", "reason", "reportingComponent", "source",
        "type"},
    "secrets": COMMON_FIELDS | {"type"},
    "namespaces": COMMON_FIELDS | {"status.phase"},
}
