#!/usr/bin/env python3
"""A JSON-lines instance group (docs/autoscale-plugins.md) that fakes a cloud
for the taskscaler tests.

plugin_config: {"state": path, "log": path, "addr": "127.0.0.1:port",
"max_size": n, "key_path": a key file sent as "key", "accept": n (most instances one increase accepts; default all),
"user": ..., "password": ...}.  Instances live in the state file, so they
survive the plugin's and the runner's restarts: each is "creating" at the
first update after it was asked for and "running" from then on; decreased ones
are "deleting" once, then gone.  Every call is appended to the log file as
"method arg".
"""
import json
import os
import sys

cfg = {}
state = {"next": 1, "instances": {}}


def load():
    global state
    try:
        with open(cfg["state"]) as f:
            state = json.load(f)
    except (OSError, ValueError):
        pass


def save():
    tmp = cfg["state"] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f)
    os.replace(tmp, cfg["state"])


def log(line):
    with open(cfg["log"], "a") as f:
        f.write(line + "\n")


def reply(rid, result=None, error=None):
    msg = {"id": rid}
    if error is not None:
        msg["error"] = error
    else:
        msg["result"] = result if result is not None else {}
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def main():
    global cfg
    sys.stdout.write('{"crunner_instance_group":1}\n')
    sys.stdout.flush()
    for line in sys.stdin:
        req = json.loads(line)
        rid, method, params = req["id"], req["method"], req.get("params", {})
        if method == "init":
            cfg = params.get("config") or {}
            load()
            log("init %d" % os.getpid())
            reply(rid, {"id": "test/pool", "max_size": cfg.get("max_size", 0)})
            continue
        load()
        if method == "update":
            out = []
            for iid, st in sorted(state["instances"].items()):
                out.append({"id": iid, "state": st})
                if st == "creating":
                    state["instances"][iid] = "running"
                elif st == "deleting":
                    del state["instances"][iid]
            save()
            reply(rid, {"instances": out})
        elif method == "increase":
            n = min(params["delta"], cfg.get("accept", params["delta"]))
            for _ in range(n):
                state["instances"]["i-%d" % state["next"]] = "creating"
                state["next"] += 1
            save()
            log("increase %d %d" % (params["delta"], n))
            reply(rid, {"succeeded": n})
        elif method == "decrease":
            ok = []
            for iid in params["instance_ids"]:
                if iid in state["instances"]:
                    state["instances"][iid] = "deleting"
                    ok.append(iid)
            save()
            log("decrease " + ",".join(params["instance_ids"]))
            reply(rid, {"succeeded": ok})
        elif method == "connect_info":
            iid = params["instance_id"]
            log("connect_info " + iid)
            key = ""
            if cfg.get("key_path"):
                with open(cfg["key_path"]) as f:
                    key = f.read()
            reply(rid, {"id": iid, "internal_addr": cfg.get("addr", ""),
                        "protocol": "ssh", "username": cfg.get("user", ""),
                        "password": cfg.get("password", ""), "key": key})
        elif method == "shutdown":
            log("shutdown")
            reply(rid, {})
        else:
            reply(rid, error="not implemented", )


if __name__ == "__main__":
    main()
