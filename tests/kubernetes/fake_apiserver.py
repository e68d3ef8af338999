#!/usr/bin/env python3
"""A fake Kubernetes API server (core/v1) for crunner's kubernetes executor
tests: strict about what the real one checks, and each pod's containers run
for real as Docker containers.  See README.md next to this file.

    fake_apiserver.py --token T --port-file P [--admin-port-file A]
        [--tls-cert C --tls-key K [--client-ca CA]] [--record FILE]
        [--namespace NS]... [--workdir DIR] [--instance ID]
"""

import argparse
import atexit
import os
import signal
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from k8sfake.admin import make_admin  # noqa: E402
from k8sfake.app import FakeApiServer, new_instance_id  # noqa: E402
from k8sfake.docker import Docker  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--token", required=True,
                   help="the bearer token every API request must carry")
    p.add_argument("--token-file",
                   help="the token is this file's first line instead, read "
                   "for each request; an epoch second on its second line "
                   "expires it")
    p.add_argument("--port", type=int, default=0,
                   help="API port on 127.0.0.1 (0: any free port)")
    p.add_argument("--port-file", help="write the API port here")
    p.add_argument("--admin-port", type=int, default=0)
    p.add_argument("--admin-port-file", help="write the admin port here")
    p.add_argument("--admin-token", default="",
                   help="bearer token the admin port requires (default none)")
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate")
    p.add_argument("--tls-key", help="... and this key")
    p.add_argument("--client-ca",
                   help="accept client certificates signed by this CA as an "
                        "authenticated user (HTTPS only)")
    p.add_argument("--record", help="append one JSON line per request")
    p.add_argument("--namespace", action="append", default=[],
                   help="namespace to create at start (default and "
                        "kube-system always exist)")
    p.add_argument("--service-account", action="append", default=[],
                   help="NS/NAME service account to create at start")
    p.add_argument("--priority-class", action="append", default=[])
    p.add_argument("--runtime-class", action="append", default=[])
    p.add_argument("--quota", action="append", default=[],
                   help="NS/NAME=RESOURCE=QTY[,RESOURCE=QTY]: a ResourceQuota "
                        "(pods, cpu, memory, requests.*, limits.*)")
    p.add_argument("--csi-driver", action="append", default=[],
                   help="a CSI driver name whose volumes mount as emptyDir")
    p.add_argument("--node-name", default="fake-node")
    p.add_argument("--node-label", action="append", default=[],
                   help="KEY=VALUE label of the node")
    p.add_argument("--field-validation", default="Strict",
                   choices=["Strict", "Warn", "Ignore"],
                   help="unknown fields when the request has no "
                        "fieldValidation (the real default is Warn; the "
                        "fake rejects them unless told otherwise)")
    p.add_argument("--workdir", help="volumes live here (default: a "
                   "temporary directory removed at exit)")
    p.add_argument("--instance", default=None,
                   help="id in container names and the k8sfake label")
    p.add_argument("--docker", default="docker", help="docker CLI")
    p.add_argument("--pid-file")
    p.add_argument("--verbose", action="store_true")
    opts = p.parse_args(argv)
    if bool(opts.tls_cert) != bool(opts.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if opts.client_ca and not opts.tls_cert:
        p.error("--client-ca needs --tls-cert")
    return opts


def write_file(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv):
    opts = parse_args(argv)
    own_workdir = opts.workdir is None
    if own_workdir:
        opts.workdir = tempfile.mkdtemp(prefix="k8sfake-")
    os.makedirs(opts.workdir, exist_ok=True)
    instance = opts.instance or new_instance_id()
    docker = Docker(opts.docker, instance)
    app = FakeApiServer(opts, docker)
    app.listen()
    admin = make_admin(app, opts.admin_port, opts.admin_token)
    done = threading.Event()
    cleaned = []

    def cleanup():
        if cleaned:
            return
        cleaned.append(True)
        app.stopping = True
        try:
            app.cleanup()
        finally:
            if own_workdir:
                import shutil
                shutil.rmtree(opts.workdir, ignore_errors=True)

    def shutdown():
        cleanup()
        done.set()

    app.shutdown = shutdown
    atexit.register(cleanup)

    def on_signal(signum, frame):
        threading.Thread(target=shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    threading.Thread(target=app.serve_forever, daemon=True).start()
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    if opts.pid_file:
        write_file(opts.pid_file, "%d\n" % os.getpid())
    if opts.admin_port_file:
        write_file(opts.admin_port_file, "%d\n" % admin.server_address[1])
    if opts.port_file:
        write_file(opts.port_file, "%d\n" % app.port)
    print("k8sfake %s: API %s://127.0.0.1:%d admin http://127.0.0.1:%d" % (
        instance, "https" if opts.tls_cert else "http", app.port,
        admin.server_address[1]), flush=True)
    while not done.wait(0.5):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
