"""A fake cloud for crunner's autoscaler tests whose instances are real
OpenSSH servers on loopback (tests/integration/sshd_serve.sh, each in its
own PID namespace when the machine allows one, so killing an instance ends
its sessions too).  Both test plugins serve it: the go-plugin gRPC one
(fakeplugin.py) and the JSON-lines one (jsonl_plugin.py), when their
plugin_config has "sshd_cloud".

plugin_config:
  sshd_cloud       a directory: the instances' files and cloud.json (the
                   cloud's state: it outlives the plugin and the runner)
  log              every call appended as one line "method args" (init
                   carries the plugin's pid)
  authorized_keys  the public key each instance lets in
  key_path         the private key ConnectInfo hands out
  user             the login name (default root)
  max_size         ProviderInfo.MaxSize (default 0: no limit)

Instances are "creating" until their sshd listens, then "running";
decreased ones are killed and reported "deleting" once, then gone.  An
instance whose server died without a Decrease (a test killed it) stays
"running", as a hung machine does, and fails its heartbeat.

Run as a program: `sshd_cloud.py kill-all DIR` ends every instance of the
cloud (a test's cleanup); `sshd_cloud.py kill DIR ID` ends one, as a
machine that crashes.
"""
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SERVE = os.path.join(HERE, "..", "integration", "sshd_serve.sh")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def end(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    reap(pid)


def reap(pid):
    """Collects an ended server this process started (a plugin restarted
    since did not: its servers are init's)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class SshdCloud:
    def __init__(self, cfg):
        self.cfg = cfg
        self.dir = cfg["sshd_cloud"]
        os.makedirs(self.dir, exist_ok=True)
        self.state_path = os.path.join(self.dir, "cloud.json")

    # -- state, under a file lock (the plugin's calls may overlap) --------
    def _locked(self, fn):
        with open(os.path.join(self.dir, "cloud.lock"), "w") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            try:
                with open(self.state_path) as f:
                    st = json.load(f)
            except FileNotFoundError:
                st = {"next": 1, "instances": {}}
            out = fn(st)
            tmp = self.state_path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(st, f, indent=1)
            os.replace(tmp, self.state_path)
            return out

    def log(self, line):
        if self.cfg.get("log"):
            with open(self.cfg["log"], "a") as f:
                f.write(line + "\n")

    # -- the instance group ---------------------------------------------
    def init(self):
        self.log("init %d" % os.getpid())
        return {"id": "sshd/cloud", "max_size": self.cfg.get("max_size", 0)}

    def _start(self, iid):
        d = os.path.join(self.dir, iid)
        os.makedirs(d, exist_ok=True)
        shutil.copy(self.cfg["authorized_keys"], os.path.join(d, "authorized_keys"))
        port = free_port()
        env = dict(os.environ, SSHD_SERVE_PIDNS="1")
        with open(os.path.join(d, "sshd.log"), "w") as log:
            proc = subprocess.Popen([SERVE, d, str(port)], stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, env=env,
                                    start_new_session=True, close_fds=True)
        with open(os.path.join(d, "instance.pid"), "w") as f:
            f.write("%d\n" % proc.pid)
        return {"state": "creating", "pid": proc.pid, "port": port, "dir": d}

    def increase(self, delta):
        def fn(st):
            for _ in range(delta):
                iid = "i-%d" % st["next"]
                st["next"] += 1
                st["instances"][iid] = self._start(iid)
            return delta
        n = self._locked(fn)
        self.log("increase %d %d" % (delta, n))
        return n

    def update(self):
        def fn(st):
            out = []
            for iid in sorted(st["instances"], key=lambda i: int(i[2:])):
                inst = st["instances"][iid]
                reap(inst["pid"])
                if inst["state"] == "creating":
                    with open(os.path.join(inst["dir"], "sshd.log")) as f:
                        if "Server listening on" in f.read():
                            inst["state"] = "running"
                out.append((iid, inst["state"]))
                if inst["state"] == "deleting":
                    del st["instances"][iid]
            return out
        return self._locked(fn)

    def decrease(self, ids):
        def fn(st):
            done = []
            for iid in ids:
                inst = st["instances"].get(iid)
                if inst and inst["state"] != "deleting":
                    end(inst["pid"])
                    inst["state"] = "deleting"
                    done.append(iid)
            return done
        done = self._locked(fn)
        self.log("decrease " + ",".join(ids))
        return done

    def connect_info(self, iid):
        self.log("connect_info " + iid)
        inst = self._locked(lambda st: st["instances"].get(iid))
        if not inst:
            raise KeyError("no instance " + iid)
        key = b""
        if self.cfg.get("key_path"):
            with open(self.cfg["key_path"], "rb") as f:
                key = f.read()
        return {"id": iid, "internal_addr": "127.0.0.1:%d" % inst["port"],
                "username": self.cfg.get("user", "root"), "key": key,
                "protocol": "ssh", "os": "linux", "arch": "amd64"}

    def heartbeat(self, iid):
        inst = self._locked(lambda st: st["instances"].get(iid))
        if not inst or not alive(inst["pid"]):
            self.log("heartbeat %s dead" % iid)
            raise KeyError("instance %s does not answer" % iid)

    def shutdown(self):
        self.log("shutdown")


def main(argv):
    cloud = SshdCloud({"sshd_cloud": argv[2]})
    if argv[1] == "kill-all":
        def fn(st):
            for inst in st["instances"].values():
                end(inst["pid"])
        cloud._locked(fn)
    elif argv[1] == "kill":
        cloud._locked(lambda st: end(st["instances"][argv[3]]["pid"]))
    else:
        sys.exit("usage: sshd_cloud.py kill-all DIR | kill DIR ID")


if __name__ == "__main__":
    main(sys.argv)
