#!/usr/bin/env python3
"""Validates a JSON document against a JSON Schema (2020-12), stdlib only.

Covers the keywords rtup's schemas use: type, const, enum, pattern,
minLength, minimum, required, properties, additionalProperties, items,
allOf and local $ref.  Any other keyword is an error, so the schema cannot
silently ask for more than is checked.

usage: validate_schema.py SCHEMA.json DOCUMENT.json
Exit 0 when valid; else 1 with one line per violation (JSON pointer: why).
"""
import json
import re
import sys

ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class Validator:
    def __init__(self, root):
        self.root = root
        self.errors = []

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError("only local $ref is supported: " + ref)
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def err(self, path, msg):
        self.errors.append("%s: %s" % (path or "/", msg))

    def check(self, s, v, path):
        for key in s:
            if key in ANNOTATIONS:
                continue
            fn = getattr(self, "kw_" + key.lstrip("$"), None)
            if fn is None:
                raise ValueError("unsupported keyword %r at %s" % (key, path))
            fn(s[key], s, v, path)

    def kw_ref(self, ref, s, v, path):
        self.check(self.resolve(ref), v, path)

    def kw_type(self, t, s, v, path):
        ts = t if isinstance(t, list) else [t]
        if not any(TYPES[x](v) for x in ts):
            self.err(path, "is %s, want %s" % (type(v).__name__, "|".join(ts)))

    def kw_const(self, c, s, v, path):
        if v != c:
            self.err(path, "is %r, want %r" % (v, c))

    def kw_enum(self, e, s, v, path):
        if v not in e:
            self.err(path, "%r is not one of %r" % (v, e))

    def kw_pattern(self, p, s, v, path):
        if isinstance(v, str) and not re.search(p, v):
            self.err(path, "%r does not match %s" % (v, p))

    def kw_minLength(self, n, s, v, path):
        if isinstance(v, str) and len(v) < n:
            self.err(path, "shorter than %d" % n)

    def kw_minimum(self, n, s, v, path):
        if TYPES["number"](v) and v < n:
            self.err(path, "%r is below %r" % (v, n))

    def kw_required(self, req, s, v, path):
        if isinstance(v, dict):
            for k in req:
                if k not in v:
                    self.err(path, "lacks required %r" % k)

    def kw_properties(self, props, s, v, path):
        if isinstance(v, dict):
            for k, sub in props.items():
                if k in v:
                    self.check(sub, v[k], path + "/" + k)

    def kw_additionalProperties(self, ap, s, v, path):
        if not isinstance(v, dict):
            return
        for k in v:
            if k in s.get("properties", {}):
                continue
            if ap is False:
                self.err(path, "unexpected property %r" % k)
            elif isinstance(ap, dict):
                self.check(ap, v[k], path + "/" + k)

    def kw_items(self, sub, s, v, path):
        if isinstance(v, list):
            for i, x in enumerate(v):
                self.check(sub, x, "%s/%d" % (path, i))

    def kw_allOf(self, subs, s, v, path):
        for sub in subs:
            self.check(sub, v, path)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1]) as f:
        schema = json.load(f)
    with open(argv[2]) as f:
        doc = json.load(f)
    val = Validator(schema)
    val.check(schema, doc, "")
    for e in val.errors:
        print(e)
    return 1 if val.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
