#!/usr/bin/python3
"""A fake fleeting plugin for crunner's tests: go-plugin's handshake and
gRPC services (health, controller, stdio) plus the fleeting InstanceGroup
service of crunner's interim schema, read at start from
src/autoscale/fleeting.proto (no generated code: messages are encoded by
the small codec below).  Needs Debian's python3-grpcio (/usr/bin/python3).

Instances are records in a JSON state file, so they survive a crash of the
plugin as a cloud's instances would.  Knobs, in plugin_config:
  state_file        where instances live (required)
  calls_log         every call is appended here as one JSON line
  max_size          ProviderInfo.MaxSize
  crash_on_call     die (exit 3) on the Nth fleeting call, before answering,
                    once per state file
  ignore_shutdown   GRPCController/Shutdown does nothing
  spawn_child       start `sleep 300` in the plugin's process group
  heartbeat_unimplemented
  stdout_spam_kb    Init first writes that many KiB of lines to stdout (far
                    more than a pipe holds): the host must keep reading
  sshd_cloud        instead of records, instances are real sshd servers:
                    the fake cloud of sshd_cloud.py (its knobs there)
and in the environment (read before any config exists):
  FAKE_PLUGIN_HANDSHAKE  normal | core2 | netrpc | garbage | silent-exit
                         | sleep
  FAKE_PLUGIN_REFLECTION 1 (default): serve grpc.reflection.v1 with the
                         schema's descriptors, as go-plugin servers do; 0: not
  FAKE_PLUGIN_RENUMBER   add this to every field number of the schema
  FAKE_PLUGIN_PACKAGE    serve the service under this package instead
  FAKE_PLUGIN_RENAME     Message.field=new_name: rename one field
  FAKE_PLUGIN_NETWORK    unix (default) or tcp (127.0.0.1, as on Windows)
(the last two make a plugin whose schema differs from crunner's interim
one: only reflection lets the host talk to it).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from concurrent import futures

import grpc

from sshd_cloud import SshdCloud

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO = os.path.join(HERE, "..", "..", "src", "autoscale", "fleeting.proto")


def load_schema(path):
    text = open(path).read()
    package = re.search(r"^package\s+([\w.]+);", text, re.M).group(1)
    cookie = re.search(r"magic-cookie:\s*(\S+)=(\S+)", text)
    service = re.search(r"service\s+(\w+)\s*\{(.*?)\n\}", text, re.S)
    methods = re.findall(r"rpc\s+(\w+)\((\w+)\)\s+returns\s+\((\w+)\)",
                         service.group(2))
    messages = {}
    for name, body in re.findall(r"message\s+(\w+)\s*\{(.*?)\}", text, re.S):
        fields = {}
        for rep, ftype, fname, num in re.findall(
                r"(repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+);", body):
            fields[fname] = (int(num), ftype, bool(rep))
        messages[name] = fields
    return package, service.group(1), methods, messages, cookie.groups()


PACKAGE, SERVICE, METHODS, MESSAGES, COOKIE = load_schema(PROTO)
PACKAGE = os.environ.get("FAKE_PLUGIN_PACKAGE") or PACKAGE
_OFFSET = int(os.environ.get("FAKE_PLUGIN_RENUMBER") or 0)
MESSAGES = {m: {f: (num + _OFFSET, t, rep) for f, (num, t, rep) in fields.items()}
            for m, fields in MESSAGES.items()}
FULL_SERVICE = PACKAGE + "." + SERVICE
if os.environ.get("FAKE_PLUGIN_RENAME"):
    _old, _new = os.environ["FAKE_PLUGIN_RENAME"].split("=")
    _msg, _field = _old.split(".")
    MESSAGES[_msg][_new] = MESSAGES[_msg].pop(_field)
SCALARS = {"string", "bytes", "int64", "int32", "bool", "uint32", "uint64"}


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def encode(msg, values):
    out = bytearray()
    for fname, (num, ftype, rep) in MESSAGES[msg].items():
        if fname not in values or values[fname] is None:
            continue
        items = values[fname] if rep else [values[fname]]
        for v in items:
            if ftype in ("string", "bytes") or ftype not in SCALARS:
                if ftype == "string":
                    data = v.encode()
                elif ftype == "bytes":
                    data = v if isinstance(v, bytes) else v.encode()
                else:
                    data = encode(ftype, v)
                if not data and not rep and ftype in SCALARS:
                    continue
                out += varint(num << 3 | 2) + varint(len(data)) + data
            else:
                iv = int(v)
                if iv:
                    out += varint(num << 3) + varint(iv)
    return bytes(out)


def read_varint(data, i):
    shift = v = 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def decode(msg, data):
    by_num = {num: (fname, ftype, rep)
              for fname, (num, ftype, rep) in MESSAGES[msg].items()}
    out = {fname: [] for fname, (_, _, rep) in MESSAGES[msg].items() if rep}
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(data, i)
        elif wire == 2:
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        else:
            raise ValueError("unexpected wire type %d" % wire)
        if num not in by_num:
            continue
        fname, ftype, rep = by_num[num]
        if ftype == "string":
            v = v.decode()
        elif ftype == "bool":
            v = bool(v)
        elif ftype not in SCALARS:
            v = decode(ftype, v)
        if rep:
            out[fname].append(v)
        else:
            out[fname] = v
    return out


def file_descriptor():
    """The schema as a serialized google.protobuf.FileDescriptorProto."""
    from google.protobuf import descriptor_pb2
    types = {"string": 9, "bytes": 12, "int64": 3, "int32": 5, "bool": 8,
             "uint32": 13, "uint64": 4}
    fd = descriptor_pb2.FileDescriptorProto(
        name="fleeting.proto", package=PACKAGE, syntax="proto3")
    for name, fields in MESSAGES.items():
        m = fd.message_type.add(name=name)
        for fname, (num, ftype, rep) in fields.items():
            f = m.field.add(name=fname, number=num, label=3 if rep else 1)
            if ftype in types:
                f.type = types[ftype]
            else:
                f.type = 11
                f.type_name = ".%s.%s" % (PACKAGE, ftype)
    svc = fd.service.add(name=SERVICE)
    for name, req, resp in METHODS:
        svc.method.add(name=name, input_type=".%s.%s" % (PACKAGE, req),
                       output_type=".%s.%s" % (PACKAGE, resp))
    return fd.SerializeToString()


def raw_fields(data):
    """(number, value) pairs of a message, values as bytes or int."""
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        if key & 7 == 0:
            v, i = read_varint(data, i)
        else:
            n, i = read_varint(data, i)
            v, i = data[i:i + n], i + n
        yield key >> 3, v


def ld(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


SERVICES = ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
            "plugin.GRPCController", "plugin.GRPCStdio", FULL_SERVICE]


def reflection_handler(plugin):
    # grpc/reflection/v1/reflection.proto: request 4 file_containing_symbol,
    # 7 list_services; response 2 original_request, 4 file_descriptor_response,
    # 6 list_services_response, 7 error_response
    def info(requests, context):
        for req in requests:
            fields = dict(raw_fields(req))
            plugin.log("Reflection", request={str(k): v.decode() for k, v in fields.items()
                                              if isinstance(v, bytes)})
            out = ld(2, req)
            if 7 in fields:
                out += ld(6, b"".join(ld(1, ld(1, s.encode())) for s in SERVICES))
            elif fields.get(4, b"").decode() == FULL_SERVICE:
                out += ld(4, ld(1, file_descriptor()))
            else:
                out += ld(7, varint(1 << 3) + varint(5) + ld(2, b"symbol not found"))
            yield out
    return grpc.stream_stream_rpc_method_handler(info)


class Plugin:
    def __init__(self, server):
        self.server = server
        self.lock = threading.Lock()
        self.config = {}
        self.settings = {}
        self.calls = 0
        self.cloud = None

    # -- state and logs -------------------------------------------------
    def log(self, rpc, **args):
        path = self.config.get("calls_log") or os.environ.get("FAKE_PLUGIN_CALLS_LOG")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(dict(rpc=rpc, pid=os.getpid(), **args)) + "\n")

    def load(self):
        try:
            with open(self.config["state_file"]) as f:
                return json.load(f)
        except FileNotFoundError:
            return {"next": 1, "instances": {}}

    def save(self, st):
        tmp = self.config["state_file"] + ".tmp"
        with open(tmp, "w") as f:
            json.dump(st, f)
        os.replace(tmp, self.config["state_file"])

    def counted(self, rpc):
        self.calls += 1
        n = self.config.get("crash_on_call")
        marker = self.config.get("state_file", "") + ".crashed"
        if n and self.calls == n and not os.path.exists(marker):
            open(marker, "w").close()
            self.log("crash", during=rpc)
            os._exit(3)

    # -- fleeting service ----------------------------------------------
    def Init(self, req):
        self.config = json.loads(req.get("config", b"null") or b"null") or {}
        self.settings = req.get("settings", {})
        self.log("Init", config=req.get("config", b"").decode(),
                 key=self.settings.get("key", b"").decode(),
                 username=self.settings.get("username", ""))
        self.counted("Init")
        if self.config.get("sshd_cloud"):
            self.cloud = SshdCloud(self.config)
            info = self.cloud.init()
            return dict(info, version="0.1.0")
        spam = self.config.get("stdout_spam_kb", 0)
        if spam:
            line = ("spam " * 20)[:99] + "\n"
            for i in range(spam * 1024 // 100):
                sys.stdout.write(line)
            sys.stdout.write("spam done\n")
            sys.stdout.flush()
        if self.config.get("spawn_child"):
            child = subprocess.Popen(["sleep", "300"])
            self.log("child", child_pid=child.pid)
        return {"id": "fake/group", "max_size": self.config.get("max_size", 0),
                "version": "0.1.0"}

    def Update(self, req):
        self.counted("Update")
        if self.cloud:
            return {"instances": [{"id": i, "state": st}
                                  for i, st in self.cloud.update()]}
        with self.lock:
            st = self.load()
            out = []
            for iid in sorted(st["instances"]):
                inst = st["instances"][iid]
                out.append({"id": iid, "state": inst["state"]})
                # creating -> running and deleted -> gone, one poll later
                if inst["state"] == "creating":
                    inst["state"] = "running"
                elif inst["state"] == "deleted":
                    del st["instances"][iid]
            self.save(st)
        self.log("Update", instances=out)
        return {"instances": out}

    def Increase(self, req):
        self.counted("Increase")
        delta = req.get("delta", 0)
        if self.cloud:
            return {"succeeded": self.cloud.increase(delta)}
        with self.lock:
            st = self.load()
            for _ in range(delta):
                iid = "i-%04d" % st["next"]
                st["instances"][iid] = {"state": "creating", "n": st["next"]}
                st["next"] += 1
            self.save(st)
        self.log("Increase", delta=delta)
        return {"succeeded": delta}

    def Decrease(self, req):
        self.counted("Decrease")
        ids = req.get("instance_ids", [])
        if self.cloud:
            return {"succeeded": self.cloud.decrease(ids)}
        done = []
        with self.lock:
            st = self.load()
            for iid in ids:
                if iid in st["instances"]:
                    st["instances"][iid]["state"] = "deleted"
                    done.append(iid)
            self.save(st)
        self.log("Decrease", ids=ids)
        return {"succeeded": done}

    def ConnectInfo(self, req):
        self.counted("ConnectInfo")
        iid = req.get("instance_id", "")
        if self.cloud:
            ci = self.cloud.connect_info(iid)
            return {"id": iid, "internal_addr": ci["internal_addr"],
                    "connector_config": {
                        "os": ci["os"], "arch": ci["arch"],
                        "protocol": ci["protocol"], "username": ci["username"],
                        "key": ci["key"]}}
        inst = self.load()["instances"].get(iid)
        self.log("ConnectInfo", id=iid)
        if not inst:
            raise KeyError("no instance " + iid)
        n = inst["n"]
        return {"id": iid, "internal_addr": "127.0.1.%d:2222" % n,
                "external_addr": "127.0.2.%d:2222" % n,
                "connector_config": {
                    "os": "linux", "arch": "amd64", "protocol": "ssh",
                    "username": self.settings.get("username") or "root",
                    "key": self.settings.get("key", b""),
                    "protocol_port": 2222}}

    def Heartbeat(self, req):
        self.counted("Heartbeat")
        self.log("Heartbeat", id=req.get("instance_id", ""))
        if self.config.get("heartbeat_unimplemented"):
            raise NotImplementedError()
        if self.cloud:
            self.cloud.heartbeat(req.get("instance_id", ""))
            return {}
        if req.get("instance_id") not in self.load()["instances"]:
            raise KeyError("instance is gone")
        return {}

    def Shutdown(self, req):
        self.log("Shutdown")
        if self.cloud:
            self.cloud.shutdown()
        return {}


def fleeting_handler(plugin, method, req_type, resp_type):
    def handle(raw, context):
        try:
            return encode(resp_type, getattr(plugin, method)(decode(req_type, raw)))
        except NotImplementedError:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, "not implemented")
        except KeyError as e:
            context.abort(grpc.StatusCode.UNKNOWN, str(e))
    return grpc.unary_unary_rpc_method_handler(handle)


def go_plugin_handlers(plugin):
    def health(raw, context):
        plugin.log("Health", request=raw.hex())
        return b"\x08\x01"   # status: SERVING

    def controller_shutdown(raw, context):
        plugin.log("ControllerShutdown")
        if not plugin.config.get("ignore_shutdown"):
            def stop():
                time.sleep(0.1)
                plugin.server.stop(0)
                os._exit(0)
            threading.Thread(target=stop, daemon=True).start()
        return b""

    def stdio(raw, context):
        plugin.log("StreamStdio")
        # channel STDOUT (1), data: as go-plugin forwards the plugin's stdout
        yield b"\x08\x01\x12" + bytes([len(b"fakeplugin stdout hello\n")]) + \
            b"fakeplugin stdout hello\n"
        while context.is_active():
            time.sleep(0.1)

    return {
        "grpc.health.v1.Health": {
            "Check": grpc.unary_unary_rpc_method_handler(health)},
        "plugin.GRPCController": {
            "Shutdown": grpc.unary_unary_rpc_method_handler(controller_shutdown)},
        "plugin.GRPCStdio": {
            "StreamStdio": grpc.unary_stream_rpc_method_handler(stdio)},
    }


def main():
    mode = os.environ.get("FAKE_PLUGIN_HANDSHAKE", "normal")
    key, value = COOKIE
    if os.environ.get(key) != value:
        sys.stderr.write("This binary is a plugin. These are not meant to be "
                         "executed directly. Please execute the program that "
                         "consumes these plugins, which will load any plugins "
                         "automatically\n")
        sys.exit(1)
    if os.environ.get("FAKE_PLUGIN_CALLS_LOG"):
        with open(os.environ["FAKE_PLUGIN_CALLS_LOG"], "a") as f:
            f.write(json.dumps({"rpc": "exec", "pid": os.getpid(), "mode": mode}) + "\n")
    if mode == "silent-exit":
        sys.stderr.write("fake plugin giving up before the handshake\n")
        sys.exit(2)
    if mode == "sleep":
        time.sleep(60)
        sys.exit(0)
    sock_dir = os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or tempfile.gettempdir()
    path = os.path.join(sock_dir, "plugin%d" % os.getpid())
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    plugin = Plugin(server)
    plugin.log("start", pgid=os.getpgid(0), sid=os.getsid(0),
               env={k: v for k, v in os.environ.items()
                    if k.startswith("PLUGIN_") or k == key})
    handlers = [grpc.method_handlers_generic_handler(svc, m)
                for svc, m in go_plugin_handlers(plugin).items()]
    if os.environ.get("FAKE_PLUGIN_REFLECTION", "1") != "0":
        handlers.append(grpc.method_handlers_generic_handler(
            "grpc.reflection.v1.ServerReflection",
            {"ServerReflectionInfo": reflection_handler(plugin)}))
    handlers.append(grpc.method_handlers_generic_handler(
        FULL_SERVICE,
        {name: fleeting_handler(plugin, name, req, resp)
         for name, req, resp in METHODS}))
    server.add_generic_rpc_handlers(handlers)
    network = os.environ.get("FAKE_PLUGIN_NETWORK", "unix")
    if network == "tcp":
        path = "127.0.0.1:%d" % server.add_insecure_port("127.0.0.1:0")
    else:
        server.add_insecure_port("unix:" + path)
    server.start()
    line = {"normal": "1|1|%s|%s|grpc" % (network, path),
            "core2": "2|1|unix|%s|grpc" % path,
            "netrpc": "1|1|unix|%s|netrpc" % path,
            "garbage": "hello there"}[mode]
    sys.stderr.write('{"@level":"debug","@message":"plugin address",'
                     '"network":"unix","address":"%s"}\n' % path)
    sys.stderr.flush()
    print(line, flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
