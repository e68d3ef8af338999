"""The /__control JSON API: lets shell or C tests drive the fake from another process.

Every call maps onto a FakeGitLab method (fglib/core.py), so both interfaces behave alike.
Errors: 400 {"error": ...} for bad input, 404 {"error": ...} for unknown objects,
408 {"error": "timeout", ...} when a wait expires. These requests are not recorded.
"""

import base64
import json
import re
import threading

from .messages import Response, json_response
from .state import FINAL_STATUSES


class ControlError(Exception):
    def __init__(self, status, msg, extra=None):
        super().__init__(msg)
        self.status, self.msg, self.extra = status, msg, extra or {}


def _body(body):
    if not body:
        return {}
    try:
        data = json.loads(body)
    except ValueError:
        raise ControlError(400, "body is not valid JSON")
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def _flag(query, name, default=False):
    v = query.get(name)
    return default if v is None else v.lower() in ("1", "true", "yes")


def _job_or_404(fg, job_id):
    job = fg.state.job(job_id)
    if job is None:
        raise ControlError(404, f"no job {job_id}")
    return job


def _runner_or_404(fg, ref):
    runner = fg.state.runner_ref(ref)
    if runner is None:
        raise ControlError(404, f"no runner {ref}")
    return runner


REQUEST_FILTERS = ("endpoint", "method", "path", "job_id", "status", "unexpected", "since")


def _request_filters(src):
    out = {k: src[k] for k in REQUEST_FILTERS if src.get(k) not in (None, "")}
    if isinstance(out.get("unexpected"), str):
        out["unexpected"] = out["unexpected"].lower() in ("1", "true", "yes")
    return out


# Each handler: (fg, match, query, data) -> JSON-able object or Response.

def health(fg, m, q, d):
    return {"ok": True, "url": fg.url, "port": fg.port}


def get_config(fg, m, q, d):
    return fg.config()


def set_config(fg, m, q, d):
    return fg.set_config(**d)


def reset(fg, m, q, d):
    fg.reset()
    return {"ok": True}


def shutdown(fg, m, q, d):
    # Answer first; stopping joins the server thread, which must not wait for this one.
    threading.Timer(0.05, fg.stop).start()
    return {"ok": True}


def list_runners(fg, m, q, d):
    return {"runners": [r.to_dict() for r in fg.runners()]}


def add_runner(fg, m, q, d):
    return fg.add_runner(**d).to_dict()


def get_runner(fg, m, q, d):
    return _runner_or_404(fg, m[0]).to_dict()


def update_runner(fg, m, q, d):
    return fg.update_runner(_runner_or_404(fg, m[0]).id, **d).to_dict()


def delete_runner(fg, m, q, d):
    fg.state.delete_runner(_runner_or_404(fg, m[0]))
    return {"ok": True}


def list_jobs(fg, m, q, d):
    with_payload = _flag(q, "payload")
    with fg.state.lock:
        return {"jobs": [j.to_dict(with_payload=with_payload) for j in fg.state.jobs.values()]}


def enqueue_job(fg, m, q, d):
    runner = d.pop("runner", d.pop("runner_token", None))
    return fg.job(fg.enqueue_job(runner, **d)).to_dict()


def get_job(fg, m, q, d):
    job = _job_or_404(fg, m[0])
    with fg.state.lock:
        return job.to_dict(with_artifact_data=_flag(q, "artifact_data"))


def get_trace(fg, m, q, d):
    job = _job_or_404(fg, m[0])
    with fg.state.lock:
        data = bytes(job.raw_trace if _flag(q, "raw") else job.trace)
    return Response(200, data, [], "application/octet-stream")


def cancel_job(fg, m, q, d):
    _job_or_404(fg, m[0])
    return fg.cancel_job(int(m[0]), **d).to_dict()


def set_status(fg, m, q, d):
    _job_or_404(fg, m[0])
    if "status" not in d:
        raise ControlError(400, "status is required")
    return fg.set_job_status(int(m[0]), d["status"], d.get("failure_reason")).to_dict()


def expire_token(fg, m, q, d):
    _job_or_404(fg, m[0])
    return fg.expire_job_token(int(m[0])).to_dict()


def add_artifact(fg, m, q, d):
    _job_or_404(fg, m[0])
    if "data_b64" in d:
        d["data"] = base64.b64decode(d.pop("data_b64"))
    elif isinstance(d.get("data"), str):
        d["data"] = d["data"].encode()
    return fg.add_artifact(int(m[0]), **d).to_dict()


def get_artifact(fg, m, q, d):
    job = _job_or_404(fg, m[0])
    with fg.state.lock:
        idx = int(m[1])
        if idx >= len(job.artifacts):
            raise ControlError(404, f"job {m[0]} has no artifact #{idx}")
        a = job.artifacts[idx]
        return Response(200, a.data, [("X-Artifact-Type", a.artifact_type),
                                      ("X-Artifact-Filename", a.filename)],
                        "application/octet-stream")


def wait_job(fg, m, q, d):
    _job_or_404(fg, m[0])
    status = d.get("status", list(FINAL_STATUSES))
    try:
        return fg.wait_for_job(int(m[0]), status, float(d.get("timeout", 10))).to_dict()
    except TimeoutError:
        raise ControlError(408, "timeout", {"job": fg.job(int(m[0])).to_dict()})


def add_project(fg, m, q, d):
    return fg.add_project(**d)


def add_template(fg, m, q, d):
    fg.add_template(d["name"], d["content"])
    return {"ok": True}


def add_remote_file(fg, m, q, d):
    fg.add_remote_file(d["path"], d["content"])
    return {"ok": True}


def list_requests(fg, m, q, d):
    with_body = _flag(q, "body", True)
    return {"requests": [r.to_dict(with_body) for r in fg.requests(**_request_filters(q))]}


def clear_requests(fg, m, q, d):
    fg.clear_requests()
    return {"ok": True}


def wait_requests(fg, m, q, d):
    filters = _request_filters(d)
    count, timeout = int(d.get("count", 1)), float(d.get("timeout", 10))
    try:
        found = fg.wait_for_requests(count, timeout, **filters)
    except TimeoutError:
        raise ControlError(408, "timeout", {"requests": [
            r.to_dict(d.get("body", True)) for r in fg.requests(**filters)]})
    return {"requests": [r.to_dict(d.get("body", True)) for r in found]}


def list_faults(fg, m, q, d):
    with fg.state.lock:
        return {"faults": [f.to_dict() for f in fg.state.faults]}


def add_fault(fg, m, q, d):
    if "endpoint" not in d or "kind" not in d:
        raise ControlError(400, "endpoint and kind are required")
    return fg.inject_fault(d.pop("endpoint"), d.pop("kind"), **d).to_dict()


def clear_faults(fg, m, q, d):
    fg.clear_faults()
    return {"ok": True}


def delete_fault(fg, m, q, d):
    if not fg.clear_faults(int(m[0])):
        raise ControlError(404, f"no fault {m[0]}")
    return {"ok": True}


_RUNNER = r"([^/]+)"
_ID = r"(\d+)"
ROUTES = [
    ("GET", r"/health", health),
    ("GET", r"/config", get_config),
    ("PATCH", r"/config", set_config),
    ("POST", r"/config", set_config),
    ("POST", r"/reset", reset),
    ("POST", r"/shutdown", shutdown),
    ("GET", r"/runners", list_runners),
    ("POST", r"/runners", add_runner),
    ("GET", r"/runners/" + _RUNNER, get_runner),
    ("PATCH", r"/runners/" + _RUNNER, update_runner),
    ("DELETE", r"/runners/" + _RUNNER, delete_runner),
    ("GET", r"/jobs", list_jobs),
    ("POST", r"/jobs", enqueue_job),
    ("GET", r"/jobs/" + _ID, get_job),
    ("GET", r"/jobs/" + _ID + r"/trace", get_trace),
    ("POST", r"/jobs/" + _ID + r"/cancel", cancel_job),
    ("POST", r"/jobs/" + _ID + r"/expire_token", expire_token),
    ("POST", r"/jobs/" + _ID + r"/status", set_status),
    ("POST", r"/jobs/" + _ID + r"/artifacts", add_artifact),
    ("GET", r"/jobs/" + _ID + r"/artifacts/" + _ID, get_artifact),
    ("POST", r"/jobs/" + _ID + r"/wait", wait_job),
    ("POST", r"/projects", add_project),
    ("POST", r"/templates", add_template),
    ("POST", r"/remote_files", add_remote_file),
    ("GET", r"/requests", list_requests),
    ("DELETE", r"/requests", clear_requests),
    ("POST", r"/requests/wait", wait_requests),
    ("GET", r"/faults", list_faults),
    ("POST", r"/faults", add_fault),
    ("DELETE", r"/faults", clear_faults),
    ("DELETE", r"/faults/" + _ID, delete_fault),
]
_COMPILED = [(meth, re.compile("/__control" + p + r"/?\Z"), h) for meth, p, h in ROUTES]


def dispatch(fg, method, path, query, body):
    """Answer one /__control request."""
    try:
        for meth, rx, handler in _COMPILED:
            mo = rx.match(path)
            if mo and meth == method:
                result = handler(fg, mo.groups(), query, _body(body))
                if isinstance(result, Response):
                    return result
                return json_response(200, result)
        raise ControlError(404, f"no control endpoint {method} {path}")
    except ControlError as e:
        return json_response(e.status, {"error": e.msg, **e.extra})
    except (KeyError, ValueError, TypeError) as e:
        return json_response(400, {"error": f"{type(e).__name__}: {e}"})
