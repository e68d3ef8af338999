#!/usr/bin/env python3
"""One case per row of crunner's flag table (read back from
`crunner register --help`): every flag given on the command line, and
every variable, must end up in the config.toml `crunner register` writes,
at its TOML path with its type.  Rows are grouped by the executor whose
section they fill (register drops the other executors' sections, as
gitlab-runner's askExecutorOptions does); each group is one registration
with all its flags and one with all its variables.

Usage: register_flags_check.py CRUNNER FAKE_URL WORKDIR
Prints one line per failed row and exits 1 if there is any.
"""
import json
import os
import re
import subprocess
import sys
import tomllib
import urllib.request

CRUNNER, FAKE_URL, WORK = sys.argv[1:4]

LINE = re.compile(r"^  (?:-(\w), )?(?:--([\w-]+), )?--([\w-]+)"
                  r"(\[=BOOL\]| \S+)(?: \[(\w+)\])?(?: -> (\S+))?")
KIND = {"[=BOOL]": "bool", " N": "int", " X": "float",
        " DURATION": "duration", " VALUE...": "list", " N...": "intlist",
        " A,B": "csv", " KEY:VALUE...": "map", " KEY:ITEM...": "maplist",
        " KEY[:BOOL]...": "mapbool",
        " KEY:N...": "mapint", " JSON": "json", " VALUE": "string"}
SECTION_EXECUTOR = {"docker": "docker", "machine": "docker+machine",
                    "kubernetes": "kubernetes", "ssh": "ssh",
                    "parallels": "parallels", "virtualbox": "virtualbox",
                    "custom": "custom", "referees": "shell"}
# Keys whose value crunner checks like gitlab-runner's loader would.
SPECIAL = {
    "url": FAKE_URL, "shell": "bash", "env": "A=1",
    "docker-memory": "512m", "docker-memory-swap": "1g",
    "docker-memory-reservation": "256m", "docker-cpus": "1.5",
    "docker-service-memory": "512m", "docker-service-memory-swap": "1g",
    "docker-service-memory-reservation": "256m", "docker-service-cpus": "0.5",
    "docker-allowed-pull-policies": "if-not-present",
    "docker-pull-policy": "always, if-not-present",
    "kubernetes-allowed-pull-policies": "if-not-present",
    "kubernetes-pull-policy": "always, if-not-present",
}


def rows():
    out = subprocess.run([CRUNNER, "register", "--help"], check=True,
                         capture_output=True, text=True).stdout
    out = out.split("Every flag of gitlab-runner's", 1)[1]
    found = []
    for line in out.splitlines():
        m = LINE.match(line)
        if m and m.group(6):
            found.append({"flag": m.group(3), "kind": KIND[m.group(4)],
                          "env": m.group(5), "path": m.group(6)})
    return found


def value(row):
    """The text to give, and what the TOML file must then hold."""
    f, k = row["flag"], row["kind"]
    if f in SPECIAL:
        v = SPECIAL[f]
        return v, ([p.strip() for p in v.split(",")] if k == "csv" else
                   [v] if k == "list" else v)
    return {
        "string": ("s-" + f, "s-" + f),
        "bool": ("true", True),
        "int": ("7", 7),
        "float": ("1.5", 1.5),
        "duration": ("90s", "1m30s"),
        "list": ("l-" + f, ["l-" + f]),
        "intlist": ("7", [7]),
        "csv": ("a, b", ["a", "b"]),
        "map": ("k:v-" + f, {"k": "v-" + f}),
        "mapbool": ("FF_TIMESTAMPS:true", {"FF_TIMESTAMPS": True}),
        "mapint": ("k:3", {"k": 3}),
        "maplist": ("k:i-" + f, {"k": ["i-" + f]}),
        "json": ('[{"ip": "10.0.0.1", "hostnames": ["h1"]}]',
                 [{"ip": "10.0.0.1", "hostnames": ["h1"]}]),
    }[k]


def new_token(n):
    token = "glrt-t1_regflags%06d" % n
    req = urllib.request.Request(FAKE_URL + "/__control/runners",
                                 data=json.dumps({"token": token}).encode(),
                                 headers={"Content-Type": "application/json"},
                                 method="POST")
    urllib.request.urlopen(req).read()
    return token


def lookup(doc, path):
    for part in path.split("."):
        if not isinstance(doc, dict) or part not in doc:
            return KeyError
        doc = doc[part]
    return doc


def matches(have, want):
    if isinstance(want, list) and isinstance(have, list):
        # register appends /cache to docker volumes, as gitlab-runner does.
        return all(w in have for w in want)
    return have == want


def register(n, executor, args, env, name):
    cfg = os.path.join(WORK, "reg%d" % n, "config.toml")
    token = new_token(n)
    base = ["--url", FAKE_URL, "--token", token, "--executor", executor,
            "--name", name]
    if executor.startswith("docker") and "--docker-image" not in args and \
            "DOCKER_IMAGE" not in env:
        base += ["--docker-image", "alpine"]
    full_env = dict(os.environ)
    full_env.update(env)
    r = subprocess.run([CRUNNER, "register", "-n", "-c", cfg] + base + args,
                       env=full_env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=120)
    if r.returncode:
        return None, r.stderr
    # What register wrote loads without a key crunner does not know.
    listed = subprocess.run([CRUNNER, "list", "-c", cfg], capture_output=True,
                            text=True, timeout=60)
    if listed.returncode or "unknown key" in listed.stderr:
        return None, "list: " + listed.stderr
    with open(cfg, "rb") as f:
        doc = tomllib.load(f)
    runner = [x for x in doc["runners"] if x.get("name") == name]
    return (runner[0] if runner else None), r.stderr


def main():
    table = rows()
    groups = {}
    for row in table:
        if row["path"] in ("url", "token", "executor", "name"):
            continue
        top = row["path"].split(".")[0]
        groups.setdefault(SECTION_EXECUTOR.get(top, "shell"), []).append(row)
    failures, cases, n = [], 0, 0
    for executor, members in sorted(groups.items()):
        for how in ("flag", "env"):
            n += 1
            args, env, used = [], {}, []
            for row in members:
                text, _ = value(row)
                if how == "flag":
                    args.append("--%s=%s" % (row["flag"], text))
                    used.append(row)
                elif row["env"]:
                    env[row["env"]] = text
                    used.append(row)
            name = "%s-%s" % (executor, how)
            runner, err = register(n, executor, args, env, name)
            for row in used:
                cases += 1
                _, want = value(row)
                if runner is None:
                    failures.append("%s %s: register failed: %s" % (
                        how, row["flag"], err.strip()[-300:]))
                    continue
                have = lookup(runner, row["path"])
                if row["path"].startswith("referees."):
                    # gitlab-runner's register always drops [runners.referees].
                    if have is not KeyError:
                        failures.append("%s %s: referees written" % (
                            how, row["flag"]))
                    continue
                if not matches(have, want):
                    failures.append("%s %s%s -> %s: want %r, have %r" % (
                        how, "--" if how == "flag" else "$",
                        row["flag"] if how == "flag" else row["env"],
                        row["path"], want,
                        None if have is KeyError else have))
    for f in failures:
        print(f)
    print("%d rows, %d cases, %d failed" % (len(table), cases, len(failures)))
    return 1 if failures or not table else 0


if __name__ == "__main__":
    sys.exit(main())
