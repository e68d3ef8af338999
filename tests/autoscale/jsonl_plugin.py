#!/usr/bin/env python3
"""A JSON-lines instance-group plugin for crunner's tests
(docs/autoscale-plugins.md): one request per line on stdin, one response
per line on stdout, log lines on stderr.  Instances live in a JSON state
file so they survive a crash.  plugin_config knobs: state_file (required),
calls_log, crash_on_call (die on the Nth call, once per state file),
heartbeat_unimplemented, crash_every_call (every process dies on its Nth
call), sshd_cloud (instances are real sshd servers: the fake cloud of
sshd_cloud.py, its knobs there).
"""
import json
import os
import sys

from sshd_cloud import SshdCloud

config = {}
calls = 0
cloud = None


def log(rpc, **args):
    path = config.get("calls_log") or os.environ.get("FAKE_PLUGIN_CALLS_LOG")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps(dict(rpc=rpc, pid=os.getpid(), **args)) + "\n")


def load():
    try:
        with open(config["state_file"]) as f:
            return json.load(f)
    except FileNotFoundError:
        return {"next": 1, "instances": {}}


def save(st):
    with open(config["state_file"] + ".tmp", "w") as f:
        json.dump(st, f)
    os.replace(config["state_file"] + ".tmp", config["state_file"])


def handle(method, params):
    global config, cloud
    if method == "init":
        config = params.get("config") or {}
        log("init", config=params.get("config"),
            settings=params.get("settings"))
        if config.get("sshd_cloud"):
            cloud = SshdCloud(config)
            return dict(cloud.init(), version="1.0")
        return {"id": "jsonl/group", "max_size": 3, "version": "1.0"}
    if cloud:
        return handle_cloud(method, params)
    st = load()
    if method == "update":
        out = [{"id": i, "state": st["instances"][i]} for i in sorted(st["instances"])]
        for i in list(st["instances"]):
            if st["instances"][i] == "creating":
                st["instances"][i] = "running"
            elif st["instances"][i] == "deleted":
                del st["instances"][i]
        save(st)
        return {"instances": out}
    if method == "increase":
        for _ in range(params["delta"]):
            st["instances"]["vm-%d" % st["next"]] = "creating"
            st["next"] += 1
        save(st)
        return {"succeeded": params["delta"]}
    if method == "decrease":
        done = [i for i in params["instance_ids"] if i in st["instances"]]
        for i in done:
            st["instances"][i] = "deleted"
        save(st)
        return {"succeeded": done}
    if method == "connect_info":
        iid = params["instance_id"]
        if iid not in st["instances"]:
            raise KeyError("no instance " + iid)
        return {"id": iid, "internal_addr": "10.0.0.%s" % iid[3:],
                "username": "runner", "password": "secret",
                "protocol": "ssh", "os": "linux", "arch": "arm64"}
    if method == "heartbeat":
        if config.get("heartbeat_unimplemented"):
            raise NotImplementedError()
        return {}
    if method == "shutdown":
        return {}
    raise NotImplementedError()


def handle_cloud(method, params):
    if method == "update":
        return {"instances": [{"id": i, "state": st} for i, st in cloud.update()]}
    if method == "increase":
        return {"succeeded": cloud.increase(params["delta"])}
    if method == "decrease":
        return {"succeeded": cloud.decrease(params["instance_ids"])}
    if method == "connect_info":
        ci = cloud.connect_info(params["instance_id"])
        return dict(ci, key=ci["key"].decode())
    if method == "heartbeat":
        cloud.heartbeat(params["instance_id"])
        return {}
    if method == "shutdown":
        cloud.shutdown()
        return {}
    raise NotImplementedError()


def main():
    global calls
    print(json.dumps({"crunner_instance_group": 1}), flush=True)
    sys.stderr.write("jsonl plugin ready\n")
    sys.stderr.flush()
    for line in sys.stdin:
        req = json.loads(line)
        calls += 1
        marker = config.get("state_file", "") + ".crashed"
        if config.get("crash_every_call") == calls:
            log("crash", during=req["method"])
            os._exit(3)
        if config.get("crash_on_call") == calls and not os.path.exists(marker):
            open(marker, "w").close()
            log("crash", during=req["method"])
            os._exit(3)
        log(req["method"], params=req["params"] if req["method"] != "init" else None)
        try:
            resp = {"id": req["id"], "result": handle(req["method"], req["params"])}
        except NotImplementedError:
            resp = {"id": req["id"], "error": "not implemented",
                    "code": "unimplemented"}
        except KeyError as e:
            resp = {"id": req["id"], "error": str(e)}
        print(json.dumps(resp), flush=True)
        if req["method"] == "shutdown":
            return


if __name__ == "__main__":
    main()
