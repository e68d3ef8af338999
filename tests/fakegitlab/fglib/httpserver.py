"""HTTP/1.1 plumbing: request bodies (Content-Length, chunked, Expect: 100-continue),
recording, fault application and response writing with keep-alive."""

import io
import secrets
import socket
import struct
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import control, hostile, runner_api
from .messages import Request, Response, json_response, message

MiB = 1024 * 1024
CONTROL_BODY_LIMIT = 256 * MiB


class FramingError(Exception):
    """The request body is not framed correctly; the connection cannot be reused."""


class _Drop:
    """Returned instead of a Response when a fault drops the connection."""

    def __init__(self, rst):
        self.rst = rst


def _body_limit(cfg):
    """Largest request body read at all; beyond it the answer is 413 without reading.
    Endpoint-specific limits (artifact size, 32 KiB job requests) are checked later."""
    biggest = max([cfg["max_artifact_size"], *cfg["artifact_size_limits"].values()])
    return max(16 * MiB, biggest + MiB)


class FakeHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, fake, family):
        self.address_family = family
        self.fake = fake                      # the FakeGitLab facade (control API target)
        self.state = fake.state
        self.stop_event = threading.Event()
        self.verbose = fake.verbose
        self._conns = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, Handler)

    def process_request(self, request, client_address):
        with self._conns_lock:
            self._conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._conns_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # Clients going away mid-answer (a killed runner, a test timing out, stop()) are
        # normal here; only report real errors.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)) \
                or self.stop_event.is_set():
            return
        super().handle_error(request, client_address)

    def close_connections(self):
        """Unblock handler threads stuck in reads of idle keep-alive connections."""
        with self._conns_lock:
            conns = list(self._conns)
        for sock in conns:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, the second
    # waits for the client's delayed ACK (40 ms) on a kept-alive connection,
    # which would make every answer look 40 ms slow to the runner.
    disable_nagle_algorithm = True
    server_version = "fakegitlab/1.0"
    timeout = 300   # idle keep-alive connections are closed after this

    # -- request reading ---------------------------------------------------------------

    def parse_request(self):
        self._expect_continue = False
        self._continue_sent = False
        return super().parse_request()

    def handle_expect_100(self):
        # The base class answers "100 Continue" at once. Defer it until the body is read, so
        # a request answered without reading its body (413) never invites that body.
        self._expect_continue = True
        return True

    def _send_continue(self):
        if self._expect_continue and not self._continue_sent:
            self._continue_sent = True
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self.wfile.flush()

    def _read_body(self, limit):
        """(body, too_large). When too_large the body is left unread (connection closes)."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self._send_continue()
            return self._read_chunked(limit)
        cl = self.headers.get("Content-Length")
        if cl is None:
            return b"", False
        if not cl.strip().isdigit():
            raise FramingError("bad Content-Length")
        n = int(cl)
        if n > limit:
            return b"", True
        if n == 0:
            return b"", False
        self._send_continue()
        data = self.rfile.read(n)
        if len(data) != n:
            raise FramingError("body shorter than Content-Length")
        return data, False

    def _read_chunked(self, limit):
        chunks, total = [], 0
        while True:
            line = self.rfile.readline(65537)
            if not line.endswith(b"\n"):
                raise FramingError("bad chunk size line")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise FramingError("bad chunk size")
            if size == 0:
                break
            total += size
            if total > limit:
                return b"", True
            data = self.rfile.read(size)
            if len(data) != size or self.rfile.read(2) != b"\r\n":
                raise FramingError("truncated chunk")
            chunks.append(data)
        while True:  # trailer fields, up to the empty line
            line = self.rfile.readline(65537)
            if line in (b"\r\n", b"\n"):
                break
            if not line:
                raise FramingError("truncated trailers")
        return b"".join(chunks), False

    # -- dispatch ----------------------------------------------------------------------

    def _handle(self):
        started = time.monotonic()
        url = urlsplit(self.path)
        path = url.path or "/"
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        state = self.server.state

        if path == "/__control" or path.startswith("/__control/"):
            try:
                body, too_large = self._read_body(CONTROL_BODY_LIMIT)
            except FramingError as e:
                return self._send(message(400, f"400 Bad request - {e}"), close=True)
            if too_large:
                return self._send(message(413, "413 Request Entity Too Large"), close=True)
            return self._send(control.dispatch(self.server.fake, self.command, path, query,
                                               body))

        matched = runner_api.route(self.command, path)
        endpoint, handler, groups, job_id = matched or (None, None, (), None)
        framing_error = None
        try:
            body, too_large = self._read_body(_body_limit(state.config))
        except (FramingError, OSError) as e:
            body, too_large, framing_error = b"", False, str(e)
        # Without trace_store the log is not kept, not even in the request log.
        kept = b"" if endpoint == "trace" and not state.config["trace_store"] else body
        rec = state.record(method=self.command, path=path, raw_query=url.query, query=query,
                           headers=list(self.headers.items()), body=kept, endpoint=endpoint,
                           job_id=job_id)
        if framing_error:
            resp = message(400, f"400 Bad request - {framing_error}")
            resp.close = True
        else:
            req = Request(self.command, path, url.query, query, self.headers, body,
                          self.headers.get("Host") or self._own_host(), job_id, groups)
            try:
                resp = self._dispatch(rec, req, handler, too_large)
            except Exception:  # a bug in the fake must not look like protocol behaviour
                traceback.print_exc(file=sys.stderr)
                rec.fault = "internal_error"
                resp = message(500, "500 Internal Server Error (fakegitlab bug)")
        # Finish the record before answering: a client that asserts right after reading
        # the answer must find it complete.
        with state.lock:
            if isinstance(resp, hostile.Raw):
                rec.status = resp.status
            elif not isinstance(resp, _Drop):
                rec.status = resp.status
                rec.response_headers = list(resp.headers) + (
                    [("Content-Type", resp.content_type)] if resp.content_type else [])
            rec.duration = time.monotonic() - started
            rec.done = True
            state.changed()
        if isinstance(resp, _Drop):
            self._drop(resp.rst)
        elif isinstance(resp, hostile.Raw):
            self.close_connection = True
            resp.write(self)
        else:
            self._send(resp, slow=getattr(resp, "slow_seconds", None))
        if self.server.verbose:
            sys.stderr.write(f"fakegitlab: {self.command} {self.path} -> "
                             f"{rec.status if rec.status else rec.fault}\n")

    def _dispatch(self, rec, req, handler, too_large):
        if handler is None:
            rec.unexpected = True
            return message(404, "404 Not Found")
        if too_large:
            resp = message(413, "413 Request Entity Too Large")
            resp.close = True
            return resp
        state = self.server.state
        fault = state.take_fault(rec.endpoint, req.method, req.job_id)
        if fault is None:
            return handler(state, req)
        rec.fault = fault.kind
        if fault.kind == "status":
            return _fault_response(fault, fault.status,
                                   f"{fault.status} {_reason(fault.status)}")
        if fault.kind == "throttle":
            resp = _fault_response(fault, 429,
                                   "Executing database migrations. Please retry later.")
            if fault.retry_after is not None:
                resp.headers.append(("Retry-After", str(fault.retry_after)))
            if fault.ratelimit_reset is not None:
                reset_at = time.gmtime(time.time() + fault.ratelimit_reset)
                resp.headers.append(("RateLimit-ResetTime",
                                     time.strftime("%a, %d %b %Y %H:%M:%S GMT", reset_at)))
            return resp
        if fault.kind in ("reset", "close"):
            return _Drop(rst=fault.kind == "reset")
        if fault.kind == "hang":
            self.server.stop_event.wait(float(fault.seconds))
            return handler(state, req)
        if fault.kind == "range416":
            return Response(416, b"416", hostile.range416_headers(fault, req),
                            "text/plain; charset=utf-8")
        if fault.kind == "endless":
            return hostile.write_endless(fault)
        resp = handler(state, req)
        if fault.kind == "bad_job":
            return Response(201, hostile.bad_job_body(fault, resp), list(resp.headers),
                            "application/json")
        if fault.kind == "slowloris":
            return hostile.write_slowloris(fault, resp, _encode)
        if fault.kind == "header_flood":
            return hostile.write_header_flood(fault, resp, _encode)
        if fault.kind == "slow":
            resp.slow_seconds = float(fault.seconds)
        elif fault.kind == "non_json":
            resp.content_type = fault.content_type or "text/html; charset=utf-8"
        return resp

    def _own_host(self):
        host, port = self.server.server_address[:2]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    # -- response writing --------------------------------------------------------------

    def _send(self, resp, close=False, slow=None):
        real_wfile = self.wfile
        if slow:
            self.wfile = io.BytesIO()   # capture, then dribble it out below
        try:
            self.send_response(resp.status)
            no_body = resp.status in (204, 304) or resp.status < 200
            if resp.content_type and not no_body:
                self.send_header("Content-Type", resp.content_type)
            for name, value in resp.headers:
                self.send_header(name, value)
            self.send_header("X-Request-Id", secrets.token_hex(16))
            if not no_body:
                self.send_header("Content-Length", str(len(resp.body)))
            if resp.close or close:
                self.send_header("Connection", "close")   # also sets close_connection
            self.end_headers()
            if self.command != "HEAD" and not no_body and resp.body:
                self.wfile.write(resp.body)
        finally:
            if slow:
                data, self.wfile = self.wfile.getvalue(), real_wfile
        if slow:
            pieces = max(1, min(len(data), 20))
            step = -(-len(data) // pieces)
            for i in range(0, len(data), step):
                if self.server.stop_event.wait(slow / pieces):
                    break
                self.wfile.write(data[i:i + step])
                self.wfile.flush()

    def _drop(self, rst):
        """Close the connection without answering; with rst, abort it (SO_LINGER 0)."""
        sock = self.connection
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # The socket only really closes once its file objects are closed too.
            self.rfile.close()
            self.wfile.close()
            sock.close()
        except OSError:
            pass
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()
        self.close_connection = True

    def version_string(self):
        return self.server_version

    def log_request(self, code="-", size="-"):
        pass  # _handle logs one line per request itself (including dropped ones)

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fakegitlab: " + (fmt % args) + "\n")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _handle


def _encode(resp):
    """A Response as the bytes of a whole HTTP/1.1 answer that closes the connection."""
    lines = [f"HTTP/1.1 {resp.status} {_reason(resp.status)}"]
    if resp.content_type:
        lines.append(f"Content-Type: {resp.content_type}")
    lines += [f"{k}: {v}" for k, v in resp.headers]
    lines += [f"Content-Length: {len(resp.body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1") + resp.body


def _reason(status):
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _fault_response(fault, status, default_message):
    headers = [(k, str(v)) for k, v in (fault.headers or {}).items()]
    if fault.body is not None:
        return Response(status, fault.body.encode(), headers,
                        fault.content_type or "application/json")
    resp = json_response(status, {"message": default_message}, headers)
    if fault.content_type:
        resp.content_type = fault.content_type
    return resp
