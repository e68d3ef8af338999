"""A minimal Kubernetes API client for the fake's tests and e2e helpers:
JSON requests over http.client and an RFC 6455 client for the exec/attach
channel protocols (Python standard library only)."""

import base64
import http.client
import json
import os
import socket
import ssl
import struct
import urllib.parse


class Api:
    def __init__(self, port, token, tls_ca=None, client_cert=None):
        self.port, self.token = port, token
        self.tls_ca, self.client_cert = tls_ca, client_cert

    def _conn(self, timeout=30):
        if self.tls_ca:
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            if self.client_cert:
                ctx.load_cert_chain(*self.client_cert)
            return http.client.HTTPSConnection("127.0.0.1", self.port,
                                               context=ctx, timeout=timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port,
                                          timeout=timeout)

    def request(self, method, path, body=None, token=True, headers=None,
                raw=False):
        """(status, parsed JSON or text, response headers)."""
        conn = self._conn()
        hdrs = dict(headers or {})
        if token is True and self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        elif isinstance(token, str):
            hdrs["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = body if isinstance(body, (bytes, str)) else \
                json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        text = resp.read()
        conn.close()
        ctype = resp.getheader("Content-Type") or ""
        if not raw and ctype.startswith("application/json"):
            return resp.status, json.loads(text), resp
        return resp.status, text.decode(errors="replace"), resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def stream(self, path, timeout=30):
        """An open streaming response (watch, follow logs)."""
        conn = self._conn(timeout)
        conn.request("GET", path,
                     headers={"Authorization": "Bearer " + self.token})
        return conn, conn.getresponse()

    def websocket(self, path, protocols):
        """Opens a WebSocket; (WsClient, chosen protocol) or raises
        HandshakeError with the HTTP answer."""
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        if self.tls_ca:
            ctx = ssl.create_default_context(cafile=self.tls_ca)
            sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
        key = base64.b64encode(os.urandom(16)).decode()
        req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
               "Upgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
               "Authorization: Bearer %s\r\n" % (path, self.port, key,
                                                 self.token))
        if protocols:
            req += "Sec-WebSocket-Protocol: %s\r\n" % ", ".join(protocols)
        sock.sendall((req + "\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(1)
            if not chunk:
                break
            head += chunk
        lines = head.decode().split("\r\n")
        code = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if code != 101:
            n = int(headers.get("content-length", "0"))
            body = b""
            while len(body) < n:
                body += sock.recv(n - len(body))
            sock.close()
            raise HandshakeError(code, body.decode(errors="replace"))
        import hashlib
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()
        ).digest()).decode()
        if headers.get("sec-websocket-accept") != want:
            raise HandshakeError(code, "bad Sec-WebSocket-Accept")
        return WsClient(sock), headers.get("sec-websocket-protocol", "")


class HandshakeError(Exception):
    def __init__(self, code, body):
        super().__init__("%d %s" % (code, body))
        self.code, self.body = code, body


class WsClient:
    def __init__(self, sock):
        self.sock = sock

    def send(self, payload, opcode=2):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send_channel(self, channel, data):
        self.send(bytes([channel]) + data)

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def receive(self):
        """(opcode, payload); opcode 8 is close."""
        b0, b1 = self._read(2)
        if b1 & 0x80:
            raise AssertionError("server frames must not be masked")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8))[0]
        return b0 & 0x0F, self._read(n)

    def collect(self, base64_protocol=False):
        """Reads until the server closes: {channel: bytes}."""
        out = {}
        while True:
            try:
                op, payload = self.receive()
            except (EOFError, OSError):
                break
            if op == 8:
                break
            if not payload:
                continue
            if base64_protocol:
                ch, data = payload[0] - ord("0"), base64.b64decode(payload[1:])
            else:
                ch, data = payload[0], payload[1:]
            out[ch] = out.get(ch, b"") + data
        self.sock.close()
        return out

    def close(self):
        try:
            self.send(struct.pack(">H", 1000), opcode=8)
        except OSError:
            pass
        self.sock.close()


def exec_path(ns, pod, command, container=None, stdin=False, stdout=True,
              stderr=True, tty=False, sub="exec"):
    q = [("command", c) for c in command] if command else []
    if container:
        q.append(("container", container))
    q += [("stdin", str(stdin).lower()), ("stdout", str(stdout).lower()),
          ("stderr", str(stderr).lower()), ("tty", str(tty).lower())]
    return "/api/v1/namespaces/%s/pods/%s/%s?%s" % (
        ns, pod, sub, urllib.parse.urlencode(q))
