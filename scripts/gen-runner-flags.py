#!/usr/bin/env python3
"""Writes src/cli/runner_flags_table.c: every flag and environment variable
of gitlab-runner's `register` and `run-single`, with where each value goes
in config.toml.

gitlab-runner derives these from struct tags (golang-cli-helpers): a field
with a `long:"x"` (and optionally `short:"y"`) tag is a flag; the names of
the enclosing `namespace:"..."` structs are joined with "-" in front of it;
an `env:"X"` tag is its variable, and an env tag starting with "@" is
prefixed with the namespaces joined with "_" (upper case).  Embedded
structs add their fields; other structs and pointers to structs add theirs
only with a namespace tag.  The TOML path comes from the `toml:"..."` tags
(the field name when there is none; embedded structs are inlined).

Run once per gitlab-runner release and commit the output:

    scripts/gen-runner-flags.py /path/to/gitlab-runner.git [REV] \
        > src/cli/runner_flags_table.c

The first argument is a git directory (bare or not) of gitlab-runner.
"""
import re
import subprocess
import sys

SOURCES = [
    "common/config.go",
    "cache/cacheconfig/cacheconfig.go",
    "referees/referees.go",
    "commands/register.go",
    "commands/single.go",
    "common/config/runner/monitoring.go",
    "common/spec/spec.go",
]

# Types whose UnmarshalFlag gitlab-runner defines (common/config.go).
UNMARSHAL_KINDS = {
    ("common", "StringOrArray"): "RF_CSV",
    ("common", "KubernetesHostAliasesFlag"): "RF_JSON",
}


def git_show(gitdir, rev, path):
    return subprocess.run(["git", "--git-dir", gitdir, "show",
                           "%s:%s" % (rev, path)], check=True,
                          capture_output=True, text=True).stdout


def strip_comment(line):
    """A line without its // comment (backquoted tags may hold //)."""
    out, inq, inb = [], False, False
    i = 0
    while i < len(line):
        c = line[i]
        if c == "`" and not inq:
            inb = not inb
        elif c == '"' and not inb:
            inq = not inq
        elif c == "/" and not inq and not inb and line[i:i + 2] == "//":
            break
        out.append(c)
        i += 1
    return "".join(out)


def parse_tags(tag):
    return dict(re.findall(r'(\w+):"((?:[^"\\]|\\.)*)"', tag or ""))


class Field:
    def __init__(self, name, typ, tags, embedded):
        self.name, self.typ, self.tags, self.embedded = \
            name, typ, tags, embedded


def parse_package(text, types):
    pkg = re.search(r"^package (\w+)", text, re.M).group(1)
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = strip_comment(lines[i])
        m = re.match(r"^type (\w+) struct \{\s*$", line)
        if m:
            fields, i = [], i + 1
            while not re.match(r"^\}", lines[i]):
                fl = strip_comment(lines[i]).strip()
                i += 1
                if not fl:
                    continue
                tm = re.search(r"`([^`]*)`\s*$", fl)
                tag = tm.group(1) if tm else ""
                body = fl[:tm.start()].strip() if tm else fl
                parts = body.split(None, 1)
                if len(parts) == 1:
                    name = parts[0].lstrip("*").split(".")[-1]
                    fields.append(Field(name, parts[0], parse_tags(tag),
                                        True))
                else:
                    for n in parts[0].rstrip(",").split(","):
                        if n.strip():
                            fields.append(Field(n.strip(), parts[1].strip(),
                                                parse_tags(tag), False))
            types[(pkg, m.group(1))] = ("struct", fields)
        elif line.startswith("type ("):
            # A group of named types: "Name X" or "Name = X".
            i += 1
            while not lines[i].startswith(")"):
                add_named(pkg, strip_comment(lines[i]).strip(), types)
                i += 1
        elif line.startswith("type "):
            add_named(pkg, line[5:].strip(), types)
        i += 1
    return pkg


def add_named(pkg, decl, types):
    m = re.match(r"^(\w+)\s+(?:=\s*)?(\S.*)$", decl)
    if m and not re.match(r"^(interface|func|struct)\b", m.group(2)):
        types.setdefault((pkg, m.group(1)), ("alias", m.group(2).strip()))


PKG_OF_ALIAS = {"common": "common", "cacheconfig": "cacheconfig",
                "referees": "referees", "runner": "runner", "spec": "spec"}


def resolve(pkg, typ, types):
    """(pkg, name) of a named type defined in the sources, or None."""
    t = typ.lstrip("*")
    if "." in t:
        p, n = t.split(".", 1)
        key = (PKG_OF_ALIAS.get(p, p), n)
    else:
        key = (pkg, t)
    return key if key in types else None


def value_kind(pkg, typ, types):
    t = typ.lstrip("*")
    key = resolve(pkg, t, types)
    if key in UNMARSHAL_KINDS:
        return UNMARSHAL_KINDS[key]
    if key and types[key][0] == "alias":
        return value_kind(key[0], types[key][1], types)
    if key and types[key][0] == "struct":
        return "RF_IGNORED"
    if t == "time.Duration":
        return "RF_DURATION"
    if t in ("string", "api.Capability", "api.ProcMountType"):
        return "RF_STRING"
    if re.match(r"^u?int(8|16|32|64)?$", t):
        return "RF_INT"
    if t.startswith("float"):
        return "RF_FLOAT"
    if t == "bool":
        return "RF_BOOL"
    if t.startswith("[]"):
        elem = value_kind(pkg, t[2:], types)
        return {"RF_STRING": "RF_LIST", "RF_INT": "RF_INT_LIST"}.get(
            elem, "RF_IGNORED")
    m = re.match(r"^map\[string\](.*)$", t)
    if m:
        elem = m.group(1)
        if elem.startswith("[]"):
            return "RF_MAP_LIST"
        return {"RF_STRING": "RF_MAP", "RF_BOOL": "RF_MAP_BOOL",
                "RF_INT": "RF_MAP_INT"}.get(value_kind(pkg, elem, types),
                                             "RF_IGNORED")
    return "RF_IGNORED"


def toml_key(f):
    tag = f.tags.get("toml")
    if tag is None:
        return f.name
    name = tag.split(",")[0]
    if name == "-":
        return None
    return name or f.name


def walk(pkg, sname, types, ns, toml, out):
    """Appends the flags of struct (pkg, sname); toml is the TOML path
    prefix (a list), or None outside config.toml (command options)."""
    kind, fields = types[(pkg, sname)]
    assert kind == "struct"
    for f in fields:
        key = resolve(pkg, f.typ, types)
        is_ptr = f.typ.startswith("*")
        is_struct = key is not None and types[key][0] == "struct"
        sub_toml = None
        if toml is not None or key == ("common", "RunnerConfig"):
            base = toml if toml is not None else []
            if f.embedded and "toml" not in f.tags:
                sub_toml = base
            else:
                k = toml_key(f)
                sub_toml = None if k is None else base + [k]
        if is_struct:
            ns_tag = f.tags.get("namespace")
            if ns_tag:
                walk(key[0], key[1], types, ns + [ns_tag], sub_toml, out)
            elif f.embedded and not is_ptr:
                walk(key[0], key[1], types, ns, sub_toml, out)
            continue
        names = []
        if f.tags.get("short"):
            names.append("-".join(ns + [f.tags["short"]]))
        if f.tags.get("long"):
            names.append("-".join(ns + [f.tags["long"]]))
        if not names:
            continue
        env = f.tags.get("env", "")
        if env.startswith("@"):
            env = "_".join(n.upper().replace("-", "_") for n in ns) + \
                "_" + env[1:]
        out.append({
            "names": names,
            "env": env,
            "kind": value_kind(pkg, f.typ, types),
            "toml": sub_toml if toml is not None or
            key == ("common", "RunnerConfig") else None,
            "group": "-".join(ns),
            "field": f.name,
        })


def c_str(s):
    if s is None:
        return "NULL"
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    gitdir = sys.argv[1]
    rev = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    commit = subprocess.run(["git", "--git-dir", gitdir, "rev-parse", rev],
                            check=True, capture_output=True,
                            text=True).stdout.strip()
    types = {}
    for path in SOURCES:
        parse_package(git_show(gitdir, rev, path), types)

    rows = {}
    order = []
    for cmd, bit in (("RegisterCommand", "RF_REGISTER"),
                     ("RunSingleCommand", "RF_RUN_SINGLE")):
        out = []
        walk("commands", cmd, types, [], None, out)
        for r in out:
            # A row per flag name: the same key in both commands shares it.
            ident = (tuple(r["names"]), r["env"],
                     ".".join(r["toml"]) if r["toml"] is not None else
                     r["field"])
            if ident not in rows:
                r["cmds"] = []
                rows[ident] = r
                order.append(ident)
            rows[ident]["cmds"].append(bit)

    print("/*")
    print(" * Generated by scripts/gen-runner-flags.py from gitlab-runner %s:"
          % commit[:12])
    print(" * do not edit.  Every flag and variable of gitlab-runner's register and")
    print(" * run-single (struct tags of common/config.go, cache/cacheconfig,")
    print(" * referees, commands/register.go and commands/single.go), with the")
    print(" * TOML path below [[runners]] its value goes to (NULL: an option of")
    print(" * the command itself).")
    print(" */")
    print('#include "cli/runner_flags.h"')
    print('#include "util/banned.h"')
    print()
    print("const struct runner_flag runner_flags[] = {")
    for ident in order:
        r = rows[ident]
        names = r["names"]
        short = "0"
        longs = [n for n in names if len(n) > 1]
        shorts = [n for n in names if len(n) == 1]
        if shorts:
            short = "'%s'" % shorts[0]
        flag = longs[-1]
        alias = longs[0] if len(longs) > 1 else None
        toml = ".".join(r["toml"]) if r["toml"] is not None else None
        field = None if toml is not None else r["field"]
        print("\t{ %s, %s, %s, %s, %s, %s, %s, %s, %s }," % (
            c_str(flag), c_str(alias), short, c_str(r["env"] or None),
            c_str(toml), c_str(field), r["kind"], c_str(r["group"]),
            " | ".join(r["cmds"])))
    print("};")
    print("const size_t runner_flags_nr = sizeof(runner_flags) / "
          "sizeof(runner_flags[0]);")


if __name__ == "__main__":
    main()
