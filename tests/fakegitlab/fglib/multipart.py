"""Minimal multipart/form-data parser (RFC 7578) for artifact uploads.

The whole body is already in memory (the server reads it before dispatching), so this works
on bytes; it is strict about the framing because a runner that gets it wrong should see 400.
"""

from dataclasses import dataclass, field
from urllib.parse import unquote


class MultipartError(ValueError):
    pass


@dataclass
class Part:
    name: str
    filename: object  # str, or None for a plain form field
    headers: dict = field(default_factory=dict)  # lower-cased names
    data: bytes = b""

    @property
    def content_type(self):
        return self.headers.get("content-type", "text/plain" if self.filename is None
                                else "application/octet-stream")


def parse_header_params(value):
    """Split 'type; a=b; c="d"' into ('type', {'a': 'b', 'c': 'd'}).

    Quoted strings may contain ';' and backslash escapes; RFC 5987 'name*=UTF-8''x%20y'
    values are decoded and take precedence over the plain form.
    """
    items, cur, quoted, escaped = [], [], False, False
    for ch in value:
        if escaped:
            cur.append(ch)
            escaped = False
        elif quoted and ch == "\\":
            cur.append(ch)
            escaped = True
        elif ch == '"':
            cur.append(ch)
            quoted = not quoted
        elif ch == ";" and not quoted:
            items.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    items.append("".join(cur))
    main = items[0].strip().lower()
    params, extended = {}, {}
    for item in items[1:]:
        if "=" not in item:
            continue
        k, v = item.split("=", 1)
        k, v = k.strip().lower(), v.strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1]
            out, i = [], 0
            while i < len(v):
                if v[i] == "\\" and i + 1 < len(v):
                    i += 1
                out.append(v[i])
                i += 1
            v = "".join(out)
        if k.endswith("*"):
            charset, _, rest = v.partition("'")
            _lang, _, encoded = rest.partition("'")
            extended[k[:-1]] = unquote(encoded, encoding=charset or "utf-8", errors="replace")
        else:
            params[k] = v
    params.update(extended)
    return main, params


def boundary_from_content_type(content_type):
    main, params = parse_header_params(content_type or "")
    if main != "multipart/form-data":
        raise MultipartError("Content-Type is not multipart/form-data")
    boundary = params.get("boundary", "")
    if not boundary or len(boundary) > 70:
        raise MultipartError("missing or invalid multipart boundary")
    return boundary


def parse(body, content_type):
    """Parse a multipart/form-data body into a list of Part objects."""
    delim = b"--" + boundary_from_content_type(content_type).encode("latin-1")
    # The first delimiter may start the body or follow a preamble ending in CRLF.
    if body.startswith(delim):
        pos = len(delim)
    else:
        idx = body.find(b"\r\n" + delim)
        if idx < 0:
            raise MultipartError("multipart boundary not found")
        pos = idx + 2 + len(delim)
    parts = []
    while True:
        if body.startswith(b"--", pos):
            return parts  # close delimiter; anything after is epilogue
        # Transport padding (spaces/tabs) may follow a delimiter before its CRLF.
        while pos < len(body) and body[pos] in b" \t":
            pos += 1
        if not body.startswith(b"\r\n", pos):
            raise MultipartError("malformed multipart delimiter line")
        pos += 2
        if body.startswith(b"\r\n", pos):  # a part with no header lines at all
            header_block, data_start = b"", pos + 2
        else:
            head_end = body.find(b"\r\n\r\n", pos)
            if head_end < 0:
                raise MultipartError("unterminated part headers")
            header_block, data_start = body[pos:head_end], head_end + 4
        headers = {}
        for line in header_block.split(b"\r\n") if header_block else []:
            if b":" not in line:
                raise MultipartError("malformed part header")
            k, v = line.split(b":", 1)
            headers[k.decode("latin-1").strip().lower()] = v.decode("utf-8", "replace").strip()
        next_delim = body.find(b"\r\n" + delim, data_start)
        if next_delim < 0:
            raise MultipartError("missing closing multipart boundary")
        disp, params = parse_header_params(headers.get("content-disposition", ""))
        if disp != "form-data" or "name" not in params:
            raise MultipartError("part without Content-Disposition: form-data; name=...")
        parts.append(Part(params["name"], params.get("filename"), headers,
                          body[data_start:next_delim]))
        pos = next_delim + 2 + len(delim)


def encode(fields=(), files=(), boundary="fakegitlab-boundary-7d3f0c2a"):
    """Build a multipart body (used by the tests and handy for scripted clients).

    fields: iterable of (name, value); files: iterable of (name, filename, bytes[, ctype]).
    Returns (content_type, body).
    """
    out = []
    for name, value in fields:
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                   .encode() + (value if isinstance(value, bytes) else str(value).encode())
                   + b"\r\n")
    for f in files:
        name, filename, data = f[:3]
        ctype = f[3] if len(f) > 3 else "application/octet-stream"
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                   f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'.encode()
                   + data + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(out)
