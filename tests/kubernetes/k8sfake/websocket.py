"""RFC 6455 server side, written for the exec/attach subresources: the
opening handshake, masked client frames (unmasked ones are a protocol error),
fragmentation, ping/pong and close."""

import base64
import hashlib
import struct
import threading

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


def accept_key(key):
    return base64.b64encode(
        hashlib.sha1((key + GUID).encode()).digest()).decode()


class ProtocolError(Exception):
    pass


class Connection:
    """A server-side WebSocket over a connected socket-like file pair."""

    def __init__(self, rfile, wfile):
        self.rfile, self.wfile = rfile, wfile
        self.wlock = threading.Lock()
        self.closed = False

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.rfile.read(n - len(data))
            if not chunk:
                raise EOFError("connection closed")
            data += chunk
        return data

    def _frame(self):
        b0, b1 = self._read(2)
        fin, opcode = b0 & 0x80, b0 & 0x0F
        if b0 & 0x70:
            raise ProtocolError("reserved bits set")
        masked, length = b1 & 0x80, b1 & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._read(8))[0]
        if not masked:
            raise ProtocolError("client frame not masked")
        mask = self._read(4)
        payload = bytearray(self._read(length))
        for i in range(length):
            payload[i] ^= mask[i % 4]
        return bool(fin), opcode, bytes(payload)

    def receive(self):
        """The next message as (opcode, payload); (OP_CLOSE, payload) when
        the peer closes.  Answers pings itself."""
        parts, first = [], None
        while True:
            fin, opcode, payload = self._frame()
            if opcode == OP_PING:
                self.send(OP_PONG, payload)
                continue
            if opcode == OP_PONG:
                continue
            if opcode == OP_CLOSE:
                return OP_CLOSE, payload
            if opcode == OP_CONT:
                if first is None:
                    raise ProtocolError("continuation without a start")
            else:
                if first is not None:
                    raise ProtocolError("new message inside a fragmented one")
                first = opcode
            parts.append(payload)
            if fin:
                return first, b"".join(parts)

    def send(self, opcode, payload):
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([n])
        elif n < 65536:
            header += bytes([126]) + struct.pack(">H", n)
        else:
            header += bytes([127]) + struct.pack(">Q", n)
        with self.wlock:
            if self.closed:
                return False
            try:
                self.wfile.write(header + payload)
                self.wfile.flush()
                return True
            except OSError:
                self.closed = True
                return False

    def close(self, code=1000, reason=b""):
        ok = self.send(OP_CLOSE, struct.pack(">H", code) + reason)
        with self.wlock:
            self.closed = True
        return ok
