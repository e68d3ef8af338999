"""The container runtime of the fake node: the docker CLI for create, start,
wait, logs, exec and removal, and the Engine API socket for attach (the CLI's
`docker attach` never ends on end of input while the container runs)."""

import json
import os
import socket
import subprocess
import urllib.parse


class Docker:
    def __init__(self, binary, instance):
        self.binary = binary
        self.instance = instance

    def cmd(self, *args):
        return [self.binary] + list(args)

    def run(self, *args, timeout=120):
        return subprocess.run(self.cmd(*args), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)

    def available(self):
        try:
            return self.run("version", "--format", "{{.Server.Version}}",
                            timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            return False

    def image_id(self, image):
        """The local image's id, None when the image is not present."""
        r = self.run("image", "inspect", "--format", "{{.Id}}", image)
        return r.stdout.strip() if r.returncode == 0 else None

    def create_start(self, name, args):
        """docker create -i + docker start, for stdinOnce containers:
        docker's StdinOnce closes the container's stdin when the first
        attach session's stdin ends, as the kubelet does."""
        r = self.run("create", "--pull", "never", "--name", name, *args)
        if r.returncode != 0:
            return None, r.stderr.strip()
        cid = r.stdout.strip()
        r = self.run("start", cid)
        return cid, (None if r.returncode == 0 else r.stderr.strip())

    def run_detached(self, name, args):
        """docker run -d (never pulling): (container id, error).  The id is
        None when no container was created; error is None when it started.
        (`docker create -i` would set StdinOnce, closing the container's
        stdin after the first attach; `run -d -i` keeps it open as the
        kubelet does for stdin without stdinOnce.)"""
        r = self.run("run", "-d", "--pull", "never", "--name", name, *args)
        if r.returncode == 0:
            return r.stdout.strip(), None
        err = r.stderr.strip()
        q = self.run("inspect", "--format", "{{.Id}}", name)
        return (q.stdout.strip() if q.returncode == 0 else None), err

    def wait(self, cid):
        """Blocks until the container stops; its state (docker inspect)."""
        subprocess.run(self.cmd("wait", cid), stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self.state(cid)

    def state(self, cid):
        r = self.run("inspect", "--format", "{{json .State}}", cid)
        if r.returncode != 0:
            return None
        return json.loads(r.stdout)

    def stop(self, cid, grace):
        self.run("stop", "-t", str(int(grace)), cid, timeout=int(grace) + 60)

    def remove(self, cid):
        self.run("rm", "-f", "-v", cid)

    def containers(self):
        """Every container of this instance, running or not."""
        r = self.run("ps", "-a", "--filter", "label=k8sfake=" + self.instance,
                     "--format", "{{json .}}")
        out = []
        for line in r.stdout.splitlines():
            c = json.loads(line)
            labels = dict(kv.split("=", 1) for kv in
                          (c.get("Labels") or "").split(",") if "=" in kv)
            out.append({"id": c.get("ID"), "name": c.get("Names"),
                        "image": c.get("Image"), "state": c.get("State"),
                        "status": c.get("Status"),
                        "pod": labels.get("k8sfake.pod", ""),
                        "container": labels.get("k8sfake.container", "")})
        return out

    def remove_all(self):
        ids = [c["id"] for c in self.containers()]
        if ids:
            self.run("rm", "-f", "-v", *ids)
        return len(ids)

    def logs_cmd(self, cid, follow, timestamps, since):
        args = ["logs"]
        if follow:
            args.append("--follow")
        if timestamps:
            args.append("--timestamps")
        if since:
            args += ["--since", since]
        return self.cmd(*args, cid)

    def exec_cmd(self, cid, command, stdin, tty):
        args = ["exec"]
        if stdin:
            args.append("-i")
        if tty:
            args.append("-t")
        return self.cmd(*args, cid, *command)

    def socket_path(self):
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if not host.startswith("unix://"):
            return None
        return host[len("unix://"):]

    def attach(self, cid, stdin, stdout, stderr):
        """A hijacked Engine API attach stream (socket, bytes already read
        past the response head)."""
        path = self.socket_path()
        if path is None:
            raise OSError("attach needs DOCKER_HOST=unix://...")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        query = urllib.parse.urlencode({
            "stream": 1, "stdin": int(stdin), "stdout": int(stdout),
            "stderr": int(stderr)})
        s.sendall(("POST /containers/%s/attach?%s HTTP/1.1\r\n"
                   "Host: docker\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n"
                   "Content-Length: 0\r\n\r\n" % (cid, query)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise OSError("docker closed the attach request")
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0].split()
        if len(status) < 2 or status[1] not in (b"101", b"200"):
            s.close()
            raise OSError("docker attach: " + head.decode(errors="replace"))
        return s, rest


def demux(buf):
    """Splits docker's multiplexed stream: ([(stream, data)], rest)."""
    out = []
    while len(buf) >= 8:
        size = int.from_bytes(buf[4:8], "big")
        if len(buf) < 8 + size:
            break
        out.append((buf[0], buf[8:8 + size]))
        buf = buf[8 + size:]
    return out, buf
