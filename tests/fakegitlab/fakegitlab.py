#!/usr/bin/env python3
"""Fake GitLab coordinator for crunner's tests (Python 3 standard library only).

Implements the server side of the runner API described in
/work/shared/spec/gitlab-runner-api.md, records every request and injects faults.
See README.md in this directory for the Python API, the /__control HTTP API and the CLI.

    python3 tests/fakegitlab/fakegitlab.py [--port 0] [--host 127.0.0.1]
        [--port-file PATH] [--config JSON-FILE] [--long-poll SECONDS] [--verbose]
        [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]] [--content-dir DIR]
"""

import argparse
import json
import os
import signal
import ssl
import threading
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fglib import multipart, payload  # noqa: E402  (re-exported for tests)
from fglib.core import FakeGitLab  # noqa: E402
from fglib.payload import FAILURE_REASONS, build_payload  # noqa: E402
from fglib.state import DEFAULT_CONFIG, FINAL_STATUSES, crc32_checksum  # noqa: E402

__all__ = ["FakeGitLab", "build_payload", "crc32_checksum", "multipart", "payload",
           "FAILURE_REASONS", "DEFAULT_CONFIG", "FINAL_STATUSES", "main"]

SEED_KEYS = ("runners", "jobs", "faults", "projects", "templates", "remote_files")


def load_config_file(path):
    """A JSON object: config keys (see DEFAULT_CONFIG) plus optional seed lists
    "runners", "jobs" and "faults" (keyword arguments of add_runner/enqueue_job/
    inject_fault; jobs name their runner with "runner")."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    seed = {k: data.pop(k) for k in SEED_KEYS if k in data}
    return data, seed


def _write_port_file(path, port):
    # Write then rename, so a script polling for the file never reads it half-written.
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Fake GitLab coordinator for crunner tests")
    ap.add_argument("--host", default="127.0.0.1",
                    help="loopback address to bind: 127.0.0.1 (default) or ::1")
    ap.add_argument("--port", type=int, default=0, help="port (default 0: ephemeral)")
    ap.add_argument("--port-file", help="write the chosen port to this file")
    ap.add_argument("--config", help="JSON file with config values and seed objects")
    ap.add_argument("--long-poll", type=float, default=None,
                    help="hold job requests up to SECONDS (Workhorse long polling)")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    ap.add_argument("--content-dir", help="seed projects, templates and remote files from "
                    "this tree (see fglib/repo_api.py load_content_dir)")
    ap.add_argument("--tls-cert", help="serve HTTPS with this PEM certificate (chain)")
    ap.add_argument("--tls-key", help="the certificate's PEM private key")
    ap.add_argument("--tls-client-ca", help="require client certificates signed by this CA")
    args = ap.parse_args(argv)

    config, seed = load_config_file(args.config) if args.config else ({}, {})
    if args.content_dir:
        from fglib.repo_api import load_content_dir
        for k, v in load_content_dir(args.content_dir).items():
            if isinstance(v, list):
                seed[k] = list(seed.get(k, [])) + v
            else:
                seed[k] = {**seed.get(k, {}), **v}
    try:
        tls = None
        if args.tls_cert:
            tls = {"cert": args.tls_cert, "key": args.tls_key or args.tls_cert,
                   "client_ca": args.tls_client_ca}
        fake = FakeGitLab(args.host, args.port, config, args.long_poll, args.verbose, seed,
                          tls)
        fake.start()
    except (ValueError, KeyError, OSError, ssl.SSLError) as e:
        print(f"fakegitlab: {e}", file=sys.stderr)
        return 2

    def on_signal(signum, frame):
        # stop() joins the server thread; never block inside the signal handler.
        threading.Thread(target=fake.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.port_file:
        _write_port_file(args.port_file, fake.port)
    print(f"fakegitlab listening on {fake.url}", flush=True)
    while not fake.wait(0.5):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
