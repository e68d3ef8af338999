"""The streaming endpoints: watch (chunked JSON events), pods/log (docker
logs, optionally followed) and pods/exec and pods/attach over a WebSocket
with the channel sub-protocols of k8s.io/apimachinery's wsstream and
remotecommand (v5/v4/v1 channel.k8s.io and the base64 variants)."""

import base64
import json
import os
import pty
import select
import socket
import struct
import subprocess
import threading
import time
import fcntl
import termios

from . import websocket
from .docker import demux
from .resources import RESOURCES
from .util import status

PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io",
             "v4.base64.channel.k8s.io", "channel.k8s.io",
             "base64.channel.k8s.io", ""]


def _http_error(code, reason, message, details=None):
    from .server import HttpError
    return HttpError(code, status(code, reason, message, details))


# watch ---------------------------------------------------------------------

def watch(h, resource, ns):
    srv = h.server
    if resource != "namespaces" and ns is not None:
        h.require_namespace(ns)
    match = h.selected(resource, ns)
    rv_param = h.q("resourceVersion") or ""
    timeout = h.q("timeoutSeconds")
    deadline = time.time() + int(timeout) if timeout else None
    try:
        start = int(rv_param) if rv_param not in ("", "0") else None
    except ValueError:
        raise _http_error(400, "BadRequest",
                          'resourceVersion: Invalid value: "%s": must be an '
                          'integer' % rv_param)
    kind = RESOURCES[resource]["kind"]
    h.begin_chunked("application/json")
    conn_id = srv.stream_begin(h.connection)

    def send(etype, obj):
        obj = dict(obj)
        if etype != "ERROR":
            obj["kind"], obj["apiVersion"] = kind, "v1"
        h.write_chunk(json.dumps({"type": etype, "object": obj}).encode() +
                      b"\n")

    def expired(rv):
        send("ERROR", status(410, "Expired", "too old resource version: "
                             "%d (%d)" % (rv, srv.store.oldest)))

    try:
        if start is None:
            with srv.store.cond:
                items, rv = srv.store.list(resource, ns)
                last = int(rv)
            for obj in items:
                if match(obj):
                    send("ADDED", obj)
        else:
            last = start
        while not srv.stream_cut(conn_id):
            if deadline and time.time() >= deadline:
                break
            with srv.store.cond:
                events = srv.store.events_after(last, resource, ns)
                if events == []:
                    srv.store.cond.wait(0.5)
                    continue
            if events is None:
                expired(last)
                break
            for rv, _, _, etype, obj in events:
                last = rv
                if match(obj):
                    send(etype, obj)
        h.end_chunked()
    except OSError:
        pass
    finally:
        srv.stream_end(conn_id)


# log -----------------------------------------------------------------------

def pick_container(h, pod, verb):
    """The container the request names, defaulted when the pod has one."""
    spec = pod["spec"]
    names = [c["name"] for c in spec["containers"]]
    inits = [c["name"] for c in spec.get("initContainers") or []]
    name = h.q("container")
    podname = pod["metadata"]["name"]
    if not name:
        ann = (pod["metadata"].get("annotations") or {}).get(
            "kubectl.kubernetes.io/default-container")
        if len(names) == 1:
            return names[0], False
        if ann in names:
            return ann, False
        msg = "a container name must be specified for pod %s, choose one " \
              "of: [%s]" % (podname, " ".join(names))
        if inits and verb == "log":
            msg += " or one of the init containers: [%s]" % " ".join(inits)
        raise _http_error(400, "BadRequest", msg)
    if name in names:
        return name, False
    if name in inits:
        return name, True
    if verb == "log":
        raise _http_error(400, "BadRequest",
                          "container %s is not valid for pod %s"
                          % (name, podname))
    raise _http_error(400, "BadRequest",
                      'container %s is not valid for pod %s' % (name, podname))


def _container_state(pod, name, init):
    key = "initContainerStatuses" if init else "containerStatuses"
    for cs in (pod.get("status") or {}).get(key) or []:
        if cs["name"] == name:
            return cs
    return None


def log(h, ns, name):
    srv = h.server
    h.require_namespace(ns)
    pod = srv.store.get("pods", ns, name)
    if pod is None:
        from .server import not_found
        raise not_found("pods", name)
    cname, init = pick_container(h, pod, "log")
    if h.q("sinceTime") and h.q("sinceSeconds"):
        raise _http_error(422, "Invalid",
                          'PodLogOptions "" is invalid: sinceSeconds: '
                          'Forbidden: at most one of `sinceTime` or '
                          '`sinceSeconds` may be specified')
    cs = _container_state(pod, cname, init)
    cid = srv.container_id(ns, name, cname)
    state = (cs or {}).get("state") or {}
    if h.q_bool("previous"):
        raise _http_error(400, "BadRequest",
                          'previous terminated container "%s" in pod "%s" '
                          'not found' % (cname, name))
    if cid is None or "waiting" in state:
        reason = (state.get("waiting") or {}).get("reason",
                                                   "ContainerCreating")
        if reason in ("ErrImagePull", "ImagePullBackOff"):
            detail = "trying and failing to pull image"
        elif reason == "ErrImageNeverPull":
            detail = "image can't be pulled"
        else:
            detail = reason
        raise _http_error(400, "BadRequest",
                          'container "%s" in pod "%s" is waiting to start: '
                          '%s' % (cname, name, detail))
    since = h.q("sinceTime")
    if h.q("sinceSeconds"):
        since = "%ss" % int(h.q("sinceSeconds"))
    cmd = srv.docker.logs_cmd(cid, h.q_bool("follow"), h.q_bool("timestamps"),
                              since)
    if h.q("tailLines"):
        cmd.insert(-1, "--tail")
        cmd.insert(-1, str(int(h.q("tailLines"))))
    limit = int(h.q("limitBytes") or 0)
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if not h.q_bool("follow"):
        data = proc.stdout.read()
        proc.wait()
        if limit:
            data = data[:limit]
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
        return
    h.begin_chunked("text/plain")
    conn_id = srv.stream_begin(h.connection)
    sent = 0
    try:
        while True:
            r, _, _ = select.select([proc.stdout], [], [], 0.5)
            if srv.stream_cut(conn_id):
                break
            if not r:
                continue
            data = os.read(proc.stdout.fileno(), 65536)
            if not data:
                break
            if limit:
                data = data[:max(0, limit - sent)]
            h.write_chunk(data)
            sent += len(data)
            if limit and sent >= limit:
                break
        h.end_chunked()
    except OSError:
        pass
    finally:
        srv.stream_end(conn_id)
        if proc.poll() is None:
            proc.kill()
        proc.wait()


# exec and attach -----------------------------------------------------------

class ChannelConn:
    """The channel framing over a WebSocket: byte 0 of each binary message
    is the channel (base64 protocols: an ASCII digit, then base64 text)."""

    def __init__(self, ws, protocol):
        self.ws, self.protocol = ws, protocol
        self.base64 = "base64" in protocol

    def send(self, channel, data):
        if self.base64:
            return self.ws.send(websocket.OP_TEXT, str(channel).encode() +
                                base64.b64encode(data))
        return self.ws.send(websocket.OP_BINARY, bytes([channel]) + data)

    def receive(self):
        """(channel, data) or None when the peer closed."""
        while True:
            try:
                op, payload = self.ws.receive()
            except (EOFError, OSError, websocket.ProtocolError):
                return None
            if op == websocket.OP_CLOSE:
                return None
            if not payload:
                continue
            if self.base64:
                return payload[0] - ord("0"), base64.b64decode(payload[1:])
            return payload[0], payload[1:]


def _handshake(h):
    """Checks the upgrade request and answers 101; the ChannelConn."""
    if h.headers.get("Upgrade", "").lower() != "websocket":
        if h.headers.get("Upgrade", "").lower().startswith("spdy"):
            raise _http_error(400, "BadRequest",
                              "k8sfake: SPDY is not supported, use a "
                              "WebSocket (v5.channel.k8s.io)")
        raise _http_error(400, "BadRequest", "Upgrade request required")
    if h.command != "GET":
        raise _http_error(400, "BadRequest",
                          "websocket: the client is not using the websocket "
                          "protocol: 'GET' method required")
    key = h.headers.get("Sec-WebSocket-Key")
    if not key or h.headers.get("Sec-WebSocket-Version") != "13" or \
            "upgrade" not in h.headers.get("Connection", "").lower():
        raise _http_error(400, "BadRequest",
                          "websocket: the client is not using the websocket "
                          "protocol")
    offered = [p.strip() for p in
               (h.headers.get("Sec-WebSocket-Protocol") or "").split(",")
               if p.strip()] or [""]
    chosen = next((p for p in offered if p in PROTOCOLS), None)
    if chosen is None:
        raise _http_error(403, "Forbidden",
                          "requested protocol(s) are not supported: %s; "
                          "supports %s" % (offered, PROTOCOLS[:-1]))
    h.send_response(101, "Switching Protocols")
    h.send_header("Upgrade", "websocket")
    h.send_header("Connection", "Upgrade")
    h.send_header("Sec-WebSocket-Accept", websocket.accept_key(key))
    if chosen:
        h.send_header("Sec-WebSocket-Protocol", chosen)
    h.end_headers()
    h.wfile.flush()
    h.close_connection = True
    return ChannelConn(websocket.Connection(h.rfile, h.wfile), chosen)


def _status_frame(conn, code, command):
    """The error channel's last message for exit code `code`."""
    versioned = conn.protocol.startswith("v4") or \
        conn.protocol.startswith("v5")
    if code == 0:
        if versioned:
            conn.send(3, json.dumps({"metadata": {},
                                     "status": "Success"}).encode())
        return
    msg = "command terminated with non-zero exit code: error executing " \
          "command [%s], exit code %d" % (" ".join(command), code)
    if versioned:
        conn.send(3, json.dumps({
            "metadata": {}, "status": "Failure", "message": msg,
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode",
                                    "message": str(code)}]}}).encode())
    else:
        conn.send(3, msg.encode())


def exec_or_attach(h, ns, name, sub):
    srv = h.server
    h.require_namespace(ns)
    pod = srv.store.get("pods", ns, name)
    if pod is None:
        from .server import not_found
        raise not_found("pods", name)
    phase = (pod.get("status") or {}).get("phase")
    if phase in ("Succeeded", "Failed"):
        raise _http_error(400, "BadRequest",
                          "cannot %s into a container in a completed pod; "
                          "current phase is %s"
                          % ("exec" if sub == "exec" else "attach", phase))
    cname, init = pick_container(h, pod, sub)
    stdin, stdout = h.q_bool("stdin"), h.q_bool("stdout")
    stderr, tty = h.q_bool("stderr"), h.q_bool("tty")
    if "stdout" not in h.query and sub == "exec":
        stdout = True  # PodExecOptions' default
    if "stderr" not in h.query and sub == "exec":
        stderr = True
    command = h.query.get("command", [])
    if sub == "exec" and not command:
        raise _http_error(400, "BadRequest",
                          "you must specify at least 1 command")
    if not (stdin or stdout or stderr):
        raise _http_error(400, "BadRequest",
                          "you must specify at least 1 of stdin, stdout, "
                          "stderr")
    if tty and stderr:
        stderr = False  # a TTY merges stderr into stdout
    cs = _container_state(pod, cname, init)
    cid = srv.container_id(ns, name, cname)
    if cid is None or "running" not in ((cs or {}).get("state") or {}):
        raise _http_error(400, "BadRequest",
                          'unable to upgrade connection: container not found '
                          '("%s")' % cname)
    conn = _handshake(h)
    conn_id = srv.stream_begin(h.connection)
    try:
        if sub == "exec":
            _run_exec(srv, conn, conn_id, cid, command, stdin, stdout, stderr,
                      tty)
        else:
            _run_attach(srv, conn, conn_id, cid, pod, cname, stdin, stdout,
                        stderr, tty)
    finally:
        srv.stream_end(conn_id)
        conn.ws.close()


def _pump(fd, channel, conn, enabled):
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            return
        if not data:
            return
        if enabled:
            conn.send(channel, data)


def _reader(conn, on_stdin, on_close_stdin, on_resize, on_gone):
    """Dispatches the client's messages until it closes the socket."""
    while True:
        msg = conn.receive()
        if msg is None:
            on_gone()
            return
        channel, data = msg
        if channel == 0:
            on_stdin(data)
        elif channel == 4:
            on_resize(data)
        elif channel == 255 and conn.protocol.startswith("v5"):
            if data and data[0] == 0:
                on_close_stdin()


def _resize(fd):
    def apply(data):
        try:
            size = json.loads(data)
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack(
                "HHHH", int(size.get("Height", 24)),
                int(size.get("Width", 80)), 0, 0))
        except (ValueError, OSError, AttributeError):
            pass
    return apply


def _run_exec(srv, conn, conn_id, cid, command, stdin, stdout, stderr, tty):
    if tty:
        master, slave = pty.openpty()
        proc = subprocess.Popen(srv.docker.exec_cmd(cid, command, True, True),
                                stdin=slave, stdout=slave, stderr=slave,
                                close_fds=True)
        os.close(slave)
        out_fds = [(master, 1, stdout)]
        in_fd = master
        resize = _resize(master)
    else:
        proc = subprocess.Popen(
            srv.docker.exec_cmd(cid, command, stdin, False),
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out_fds = [(proc.stdout.fileno(), 1, stdout),
                   (proc.stderr.fileno(), 2, stderr)]
        in_fd = proc.stdin.fileno() if stdin else None
        resize = _resize(None)
    stdin_open = [in_fd is not None]
    lock = threading.Lock()

    def write_stdin(data):
        with lock:
            if stdin_open[0]:
                try:
                    os.write(in_fd, data)
                except OSError:
                    pass

    def close_stdin():
        with lock:
            if stdin_open[0] and not tty:
                stdin_open[0] = False
                proc.stdin.close()
            elif tty and stdin_open[0]:
                os.write(in_fd, b"\x04")

    def gone():
        if proc.poll() is None:
            proc.kill()

    threading.Thread(target=_reader, daemon=True,
                     args=(conn, write_stdin, close_stdin, resize,
                           gone)).start()
    pumps = [threading.Thread(target=_pump, args=(fd, ch, conn, on),
                              daemon=True) for fd, ch, on in out_fds]
    for t in pumps:
        t.start()
    while proc.poll() is None:
        if srv.stream_cut(conn_id):
            proc.kill()
        time.sleep(0.05)
    for t in pumps:
        t.join(timeout=5)
    if tty:
        os.close(master)
    _status_frame(conn, proc.returncode, command)


def _run_attach(srv, conn, conn_id, cid, pod, cname, stdin, stdout, stderr,
                tty):
    spec = next(c for c in pod["spec"]["containers"] +
                (pod["spec"].get("initContainers") or [])
                if c["name"] == cname)
    if stdin and not spec.get("stdin"):
        conn.send(3, json.dumps(status(
            400, "BadRequest", "stdin is not enabled for this "
            "container")).encode() if conn.protocol[:2] in ("v4", "v5")
            else b"stdin is not enabled for this container")
        return
    sock, rest = srv.docker.attach(cid, stdin, stdout, stderr)
    done = threading.Event()
    closing = [False]

    def write_stdin(data):
        try:
            sock.sendall(data)
        except OSError:
            pass

    def close_stdin():
        # The session's stdin ends.  The container's stdin stays open for
        # the next attach, unless stdinOnce (docker's StdinOnce closes it
        # on this half-close).
        closing[0] = True
        if spec.get("stdinOnce"):
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def gone():
        done.set()

    threading.Thread(target=_reader, daemon=True,
                     args=(conn, write_stdin, close_stdin, lambda d: None,
                           gone)).start()
    raw = bool(spec.get("tty"))
    buf = rest
    sock.settimeout(0.2)
    while not done.is_set() and not srv.stream_cut(conn_id):
        if buf:
            if raw:
                if stdout:
                    conn.send(1, buf)
                buf = b""
            else:
                frames, buf = demux(buf)
                for stream, data in frames:
                    if (stream == 1 and stdout) or (stream == 2 and stderr):
                        conn.send(stream, data)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            if closing[0] and not stdout and not stderr:
                break
            continue
        except OSError:
            break
        if not data:
            break
        buf += data
    sock.close()
    if conn.protocol[:2] in ("v4", "v5"):
        conn.send(3, json.dumps({"metadata": {},
                                 "status": "Success"}).encode())
