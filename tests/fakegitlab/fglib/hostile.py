"""Hostile-coordinator faults: answers a broken or malicious GitLab could send.

  bad_job       (request) a 201 job the runner cannot decode; `shape`:
                "truncated" (cut after `cut` bytes, default half: id and token
                stay readable), "array" (the payload inside [ ]), "deep" (a
                member nested `depth` arrays deep, default 200000).  With no
                job queued the 201 carries the shape alone (no id).
  range416      (trace) 416 with an unusable `range`: "missing", "garbage",
                "beyond" (past the end of what was sent).
  endless       a `status` answer (default 201, JSON) whose chunked body
                never ends (until the client leaves or `seconds` pass).
  slowloris     `mode` "bytes": the real answer one byte every `interval`
                seconds; "headers": a status line, then header bytes one by
                one, never ending the headers.  Both stop after `seconds`.
  header_flood  `count` headers (default 100000) of `size` bytes, then the
                real answer.

Raw answers are written by the handler itself and end the connection.
"""

import time

KINDS = ("bad_job", "range416", "endless", "slowloris", "header_flood")
SHAPES = ("truncated", "array", "deep")
RANGES = ("missing", "garbage", "beyond")


class Raw:
    """Returned by a hostile fault instead of a Response: write(handler) answers."""

    def __init__(self, status, write):
        self.status = status
        self.write = write


def validate(fault):
    if fault.kind == "bad_job" and fault.shape not in SHAPES:
        raise ValueError(f"bad_job shape must be one of {SHAPES}")
    if fault.kind == "range416" and fault.range not in RANGES:
        raise ValueError(f"range416 range must be one of {RANGES}")
    if fault.kind == "slowloris" and fault.mode not in ("bytes", "headers"):
        raise ValueError("slowloris mode must be 'bytes' or 'headers'")


def _nested(depth):
    return "[" * depth + "]" * depth


def bad_job_body(fault, resp):
    """The body of a bad_job answer; resp is the real answer (a job or not)."""
    job = resp.body if resp.status == 201 else None
    if fault.shape == "truncated":
        text = job or b'{"allow_git_fetch": true, "job_info": {"name": "cut'
        cut = fault.cut if fault.cut is not None else len(text) // 2
        return text[:cut]
    if fault.shape == "array":
        return b"[" + (job or b"") + b"]"
    # deep: valid JSON, too deep for any sane parser
    if job:
        return job[:-1] + b', "nested": ' + _nested(fault.depth).encode() + b"}"
    return _nested(fault.depth).encode()


def range416_headers(fault, req):
    """Headers of a range416 answer to a PATCH whose Content-Range is start-end."""
    if fault.range == "missing":
        return []
    if fault.range == "garbage":
        return [("Range", "bytes=banana")]
    end = 0
    try:
        end = int(req.headers.get("Content-Range", "0-0").split("-", 1)[1])
    except (IndexError, ValueError):
        pass
    return [("Range", f"0-{end + 1 + 1000000}")]


def _stopped(handler):
    return handler.server.stop_event.is_set()


def write_endless(fault):
    def write(h):
        h.wfile.write(f"HTTP/1.1 {fault.status} Hostile\r\n"
                      "Content-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n".encode())
        chunk = b"[" * 65536
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        deadline = time.monotonic() + fault.seconds
        while time.monotonic() < deadline and not _stopped(h):
            h.wfile.write(frame)
        h.wfile.flush()
    return Raw(fault.status, write)


def write_slowloris(fault, resp, encode):
    def write(h):
        data = (b"HTTP/1.1 200 OK\r\nX-Slow: " + b"s" * 1000000) \
            if fault.mode == "headers" else encode(resp)
        deadline = time.monotonic() + fault.seconds
        for i in range(len(data)):
            if time.monotonic() >= deadline or h.server.stop_event.wait(fault.interval):
                break
            h.wfile.write(data[i:i + 1])
            h.wfile.flush()
    return Raw(resp.status if fault.mode == "bytes" else 200, write)


def write_header_flood(fault, resp, encode):
    def write(h):
        head, _, rest = encode(resp).partition(b"\r\n")
        h.wfile.write(head + b"\r\n")
        line = b"X-Flood: " + b"f" * max(1, fault.size) + b"\r\n"
        for _ in range(fault.count):
            if _stopped(h):
                return
            h.wfile.write(line)
        h.wfile.write(rest)
        h.wfile.flush()
    return Raw(resp.status, write)

