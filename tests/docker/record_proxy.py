"""A unix socket in front of the Docker engine's that records what crunner
asks of it, for tests that assert what reaches the engine.

Usage: record_proxy.py LISTEN-PATH ENGINE-PATH RECORD-FILE

Every request is passed on unchanged.  Two kinds are also written to
RECORD-FILE, one JSON object a line:
  {"create": NAME, "body": {...}}  the body of POST /containers/create
  {"inspect": {...}}               GET /containers/ID/json from the engine,
                                   asked just before crunner's DELETE of
                                   that container is passed on
  {"network_create": {...}}        the body of POST /networks/create
  {"network": {...}}               GET /networks/ID from the engine, asked
                                   just before crunner's DELETE of it
  {"exec": ID, "body": {...}}      the body of POST /containers/ID/exec
  {"stop": ID, "query": "..."}     POST /containers/ID/stop
so a test sees both what crunner sent and what the engine made of it
(crunner removes every container it made).  Prints "ready" when
listening."""
import json
import os
import socket
import sys
import threading
import urllib.parse

LISTEN, ENGINE, RECORD = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()


def record(obj):
    with lock, open(RECORD, "a") as f:
        f.write(json.dumps(obj) + "\n")


def engine_get(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(ENGINE)
    s.sendall(("GET %s HTTP/1.0\r\nHost: docker\r\n\r\n" % path).encode())
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n")[0]:
        return None
    return json.loads(body)


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def read_until(sock, buf, marker):
    while marker not in buf:
        data = sock.recv(65536)
        if not data:
            return buf, False
        buf += data
    return buf, True


def requests(client, upstream):
    """Reads crunner's requests one by one; raw pass-through after an
    upgrade or anything this reader does not follow."""
    buf = b""
    try:
        while True:
            buf, ok = read_until(client, buf, b"\r\n\r\n")
            if not ok:
                if buf:
                    upstream.sendall(buf)
                break
            head, _, rest = buf.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target = lines[0].split(" ")[:2]
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            if headers.get("transfer-encoding", "").lower() == "chunked" or \
                    "upgrade" in headers:
                upstream.sendall(buf)
                pump(client, upstream)
                return
            length = int(headers.get("content-length", "0"))
            while len(rest) < length:
                data = client.recv(65536)
                if not data:
                    break
                rest += data
            body, buf = rest[:length], rest[length:]
            url = urllib.parse.urlparse(target)
            path = url.path
            parts = path.split("/")
            if method == "POST" and path.endswith("/containers/create"):
                name = urllib.parse.parse_qs(url.query).get("name", [""])[0]
                record({"create": name, "body": json.loads(body or b"{}")})
            elif method == "DELETE" and len(parts) >= 2 and \
                    parts[-2] == "containers":
                got = engine_get("/containers/%s/json" % parts[-1])
                if got is not None:
                    record({"inspect": got})
            elif method == "POST" and len(parts) >= 3 and \
                    parts[-3] == "containers" and parts[-1] == "exec":
                record({"exec": parts[-2], "body": json.loads(body or b"{}")})
            elif method == "POST" and len(parts) >= 3 and \
                    parts[-3] == "containers" and parts[-1] == "stop":
                record({"stop": parts[-2], "query": url.query})
            elif method == "POST" and path.endswith("/networks/create"):
                record({"network_create": json.loads(body or b"{}")})
            elif method == "DELETE" and len(parts) >= 2 and \
                    parts[-2] == "networks":
                got = engine_get("/networks/%s" % parts[-1])
                if got is not None:
                    record({"network": got})
            upstream.sendall(head + b"\r\n\r\n" + body)
    except OSError:
        pass
    finally:
        try:
            upstream.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main():
    if os.path.exists(LISTEN):
        os.unlink(LISTEN)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(LISTEN)
    srv.listen(64)
    print("ready", flush=True)
    while True:
        client, _ = srv.accept()
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(ENGINE)
        threading.Thread(target=requests, args=(client, upstream),
                         daemon=True).start()
        threading.Thread(target=pump, args=(upstream, client),
                         daemon=True).start()


main()
