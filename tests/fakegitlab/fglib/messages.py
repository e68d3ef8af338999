"""Request/response values passed between the HTTP plumbing and the endpoint code."""

import json
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import parse_qsl


class BadRequest(Exception):
    """Raised while reading parameters; turned into a 400 answer."""

    def __init__(self, body):
        super().__init__(body)
        self.body = body


@dataclass
class Request:
    method: str
    path: str
    raw_query: str
    query: dict                 # last value wins, like Rack
    headers: object             # email.message.Message: case-insensitive .get()
    body: bytes
    host: str                   # Host header or the server's own host:port
    job_id: Optional[int] = None
    groups: tuple = ()          # regex groups of the matched route

    def header(self, name, default=None):
        return self.headers.get(name, default)

    @property
    def media_type(self):
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    def params(self):
        """Query parameters overlaid with the JSON or urlencoded body, like Grape."""
        out = dict(self.query)
        if not self.body:
            return out
        if self.media_type == "application/x-www-form-urlencoded":
            out.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
            return out
        try:
            data = json.loads(self.body)
        except ValueError:
            raise BadRequest({"message": "400 Bad request - body is not valid JSON"})
        if not isinstance(data, dict):
            raise BadRequest({"message": "400 Bad request - JSON body must be an object"})
        out.update(data)
        return out


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list = field(default_factory=list)   # [(name, value)] besides Content-Type
    content_type: Optional[str] = None
    close: bool = False          # send Connection: close and drop the connection after


def json_response(status, obj, headers=None):
    return Response(status, json.dumps(obj).encode(), list(headers or []), "application/json")


def text_response(status, text, headers=None, content_type="text/plain; charset=utf-8"):
    body = text if isinstance(text, bytes) else text.encode()
    return Response(status, body, list(headers or []), content_type)


def message(status, msg, headers=None):
    """Rails-style error body {"message": ...} (spec §0.5)."""
    return json_response(status, {"message": msg}, headers)


def param_error(msg, headers=None):
    """Grape parameter-validation error body {"error": ...}."""
    return json_response(400, {"error": msg}, headers)


def no_content(headers=None):
    return Response(204, b"", list(headers or []))
