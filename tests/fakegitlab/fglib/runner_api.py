"""The /api/v4 endpoints a runner talks to, following /work/shared/spec/gitlab-runner-api.md.

Each handler takes (state, request) and returns a Response. Handlers may block (long poll);
every connection has its own thread.
"""

import math
import re
import secrets
import zlib

from . import multipart, repo_api
from .messages import (BadRequest, Response, json_response, message, no_content,
                       param_error, text_response)
from .payload import ARTIFACT_TYPE_FORMAT, FAILURE_REASONS
from .state import FINAL_STATUSES, PROCESSING_STATUSES, iso, now

LEGACY_SYSTEM_ID = "<legacy>"


def _forbidden(msg="403 Forbidden", job=None):
    headers = [("Job-Status", job.status)] if job is not None else []
    return message(403, msg, headers)


def _truthy(value):
    return str(value).lower() in ("1", "true", "yes", "t", "on")


def _heartbeat(state, runner, p):
    """What Rails keeps from a runner-authenticated call: info and the manager (§1.2, §1.8)."""
    info = p.get("info") if isinstance(p.get("info"), dict) else None
    with state.lock:
        if info is not None:
            runner.info = info
        sid = p.get("system_id") or LEGACY_SYSTEM_ID
        mgr = runner.managers.setdefault(sid, {"info": {}, "created_at": iso(now())})
        if info is not None:
            mgr["info"] = info
        mgr["last_seen"] = iso(now())
    return sid, (info or {}).get("features") or {}


def _runner_from_body(state, req):
    """Common start of runner-authenticated calls: (params, runner) or (None, error)."""
    try:
        p = req.params()
    except BadRequest as e:
        return None, json_response(400, e.body)
    if not p.get("token"):
        return None, param_error("token is missing")
    runner = state.runner_by_token(p["token"])
    if runner is None:
        return None, message(403, "403 Forbidden")
    return p, runner


# -- §1 registration and runner lifecycle ------------------------------------------------

def register(state, req):
    try:
        p = req.params()
    except BadRequest as e:
        return json_response(400, e.body)
    if not p.get("token"):
        return param_error("token is missing")
    if p.get("access_level") not in (None, "not_protected", "ref_protected"):
        return param_error("access_level does not have a valid value")
    if "active" in p and "paused" in p:
        return param_error("active, paused are mutually exclusive")
    mt = p.get("maximum_timeout")
    if mt is not None and not (isinstance(mt, int) or str(mt).isdigit()):
        return param_error("maximum_timeout is invalid")
    cfg = state.config
    if p["token"] not in cfg["registration_tokens"]:
        return message(403, "403 Forbidden")
    if not cfg["registration_enabled"]:
        return json_response(410, {"message": "410 Gone",
                                   "reason": "runner_registration_disallowed"})
    tags = p.get("tag_list") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    paused = (_truthy(p["paused"]) if "paused" in p
              else not _truthy(p["active"]) if "active" in p else False)
    info = p.get("info") if isinstance(p.get("info"), dict) else {}
    runner = state.add_runner(
        token=state.config["legacy_token_prefix"] + secrets.token_urlsafe(15)[:20],
        kind="registered", description=p.get("description") or "", tags=tags,
        run_untagged=_truthy(p.get("run_untagged", True)),
        locked=_truthy(p.get("locked", False)),
        access_level=p.get("access_level") or "not_protected",
        maximum_timeout=int(mt) if mt else None, paused=paused)
    runner.info = {"name": info["name"]} if "name" in info else {}
    return json_response(201, {"id": runner.id, "token": runner.token,
                               "token_expires_at": runner.token_expires_at})


def verify(state, req):
    p, runner = _runner_from_body(state, req)
    if p is None:
        return runner
    if runner.orphaned:
        return message(422, "Runner is orphaned")
    _heartbeat(state, runner, p)
    if runner.legacy_verify:  # very old servers answered the bare text "200"
        return text_response(200, "200")
    return json_response(200, {"id": runner.id, "token": runner.token,
                               "token_expires_at": runner.token_expires_at})


def unregister(state, req):
    p, runner = _runner_from_body(state, req)
    if p is None:
        return runner
    state.delete_runner(runner)
    return no_content()


def unregister_manager(state, req):
    try:
        p = req.params()
    except BadRequest as e:
        return json_response(400, e.body)
    if not p.get("token"):
        return param_error("token is missing")
    if not p.get("system_id"):
        return param_error("system_id is missing")
    runner = state.runner_by_token(p["token"])
    if runner is None:
        return message(403, "403 Forbidden")
    with state.lock:
        if runner.managers.pop(p["system_id"], None) is None:
            return message(404, "404 Runner manager not found")
    return no_content()


def reset_token(state, req):
    p, runner = _runner_from_body(state, req)
    if p is None:
        return runner
    state.rotate_token(runner)
    return json_response(201, {"token": runner.token,
                               "token_expires_at": runner.token_expires_at})


def reset_token_admin(state, req):
    if req.header("PRIVATE-TOKEN") != state.config["admin_token"]:
        return message(401, "401 Unauthorized")
    runner = state.runner_ref(int(req.groups[0]))
    if runner is None:
        return message(404, "404 Runner Not Found")
    state.rotate_token(runner)
    return json_response(201, {"token": runner.token,
                               "token_expires_at": runner.token_expires_at})


def router_discovery(state, req):
    if state.runner_by_token(req.header("RUNNER-TOKEN")) is None:
        return message(403, "403 Forbidden")
    return message(501, "501 Not Implemented")  # Job Router is never enabled here


# -- §2 job requests ---------------------------------------------------------------------

def request_job(state, req):
    cfg = state.config
    polling = [("Gitlab-Ci-Builds-Polling", "yes")] if cfg["long_poll"] > 0 else []
    if len(req.body) > cfg["request_body_limit"]:
        return message(413, "413 Request Entity Too Large", polling)
    try:
        p = req.params()
    except BadRequest as e:
        return json_response(400, e.body, polling)
    if not p.get("token"):
        return param_error("token is missing", polling)
    last_update = p.get("last_update")

    # Workhorse long polling (§2.3): only JSON bodies with token and last_update are held,
    # and only while the runner's queue value still equals the client's last_update.
    if cfg["long_poll"] > 0 and req.media_type == "application/json" and last_update:
        def current():
            r = state.runner_by_token(p["token"])
            return r.last_update if r is not None else ""

        with state.lock:
            if current() == last_update:
                state.wait_for(lambda: current() != last_update, float(cfg["long_poll"]))
                return no_content(polling)

    runner = state.runner_by_token(p["token"])
    if runner is None:
        return message(403, "403 Forbidden", polling)
    if runner.orphaned:
        return message(422, "Runner is orphaned", polling)
    system_id, features = _heartbeat(state, runner, p)
    with state.lock:
        if runner.paused:
            return no_content(polling + [("X-GitLab-Last-Update", runner.last_update)])
        if last_update and last_update == runner.last_update:
            return no_content(polling + [("X-GitLab-Last-Update", last_update)])
        job = _pick_job(state, runner, features)
        if job is None:
            return no_content(polling + [("X-GitLab-Last-Update", runner.last_update)])
        job.assigned = True
        job.system_id = system_id
        job.features = dict(features)
        job.started_at = now()
        if cfg["two_phase_commit"] and features.get("two_phase_job_commit"):
            job.awaiting_ack = True      # stays pending until PUT state=running (§2.5)
        else:
            job.status = "running"
        state.changed()
        return json_response(201, job.payload, polling)


def _pick_job(state, runner, features):
    while runner.queue:
        job = state.jobs.get(runner.queue.popleft())
        if job is None or job.status != "pending" or job.assigned:
            continue
        missing = [f for f in sorted(job.required_features) if not features.get(f)]
        if missing and state.config["check_features"]:
            job.runner_id = runner.id
            state.finish_job(job, "failed", "runner_unsupported")
            continue
        return job
    return None


# -- job authentication (§4.2 step 1) ----------------------------------------------------

def _authenticate_job(state, req, token, allow_awaiting_ack=False):
    """(job, None) when the job token is valid for a processing job, else (None, answer)."""
    job = state.job(req.job_id)
    if job is None or not token or token != job.token:
        return None, _forbidden()
    if job.token_expired and job.status not in FINAL_STATUSES:
        state.finish_job(job, "failed", "job_token_expired")
    if job.token_expired:
        return None, _forbidden("403 Forbidden - Job token has expired", job)
    if job.status not in PROCESSING_STATUSES and not (allow_awaiting_ack and job.awaiting_ack):
        return None, _forbidden("403 Forbidden - Job is not processing on runner", job)
    return job, None


def _job_token(req, p=None):
    return (p or {}).get("token") or req.query.get("token") or req.header("JOB-TOKEN")


# -- §4 trace ----------------------------------------------------------------------------

def _ruby_to_i(text):
    m = re.match(r"\s*([+-]?\d+)", text)
    return int(m.group(1)) if m else 0


def _hide_secrets(chunk, secrets_list):
    for s in secrets_list:
        if s:
            chunk = chunk.replace(s.encode(), b"x" * len(s.encode()))
    return chunk


def append_trace(state, req):
    job, err = _authenticate_job(state, req, _job_token(req))
    if err:
        return err
    content_range = req.header("Content-Range")
    if content_range is None:
        return message(400, "400 Missing header Content-Range")
    # Only the start counts; the server derives the end from the body size (§4.2 step 3).
    start = _ruby_to_i(content_range.split("-")[0])
    cfg = state.config
    with state.lock:
        if start + len(req.body) > cfg["trace_size_limit"]:
            state.finish_job(job, "failed", "trace_size_exceeded")
            return message(403, "403 Forbidden - Trace size exceeded")
        if start != job.trace_size:
            return message(416, "416 Range Not Satisfiable",
                           [("Range", f"0-{job.trace_size}")])
        if start == 0 and req.body and _truthy(req.query.get("debug_trace", "false")):
            job.debug_trace = True
        if cfg["trace_store"]:
            chunk = req.body
            if cfg["hide_secrets"]:
                runner = state.runners.get(job.runner_id)
                chunk = _hide_secrets(chunk, [job.token, runner.token if runner else None])
            job.raw_trace += req.body
            job.trace += chunk
        job.trace_size += len(req.body)
        job.trace_crc = zlib.crc32(req.body, job.trace_crc)
        job.patches += 1
        state.apply_cancel_faults(job)
        state.changed()
        return Response(202, b"", [
            ("Job-Status", job.status), ("Range", f"0-{job.trace_size}"),
            ("X-GitLab-Trace-Update-Interval", str(cfg["trace_update_interval"]))])


# -- §5 job updates ----------------------------------------------------------------------

def backoff_seconds(age):
    """GitLab's back-off for unfinished final updates (§5.2): 1 s up to 3 s, then the power
    of two below age/2 (4-7 s -> 2, 8-15 s -> 4, ...), capped at 64 s."""
    if age < 4:
        return 1
    return min(64, 2 ** (int(math.log2(age)) - 1))


def _validate_update(p, cfg):
    if p.get("state") is not None and p["state"] not in ("pending", "running", "success",
                                                         "failed"):
        return "state does not have a valid value"
    fr = p.get("failure_reason")
    if fr is not None and cfg["validate_failure_reason"] and fr not in FAILURE_REASONS:
        return "failure_reason does not have a valid value"
    ec = p.get("exit_code")
    if ec is not None and not (isinstance(ec, int) and not isinstance(ec, bool)
                               or isinstance(ec, str) and re.fullmatch(r"-?\d+", ec)):
        return "exit_code is invalid"
    out = p.get("output")
    if out is not None:
        if not isinstance(out, dict):
            return "output is invalid"
        if "bytesize" in out and not isinstance(out["bytesize"], int):
            return "output[bytesize] is invalid"
        if "checksum" in out and not isinstance(out["checksum"], str):
            return "output[checksum] is invalid"
    return None


def update_job(state, req):
    try:
        p = req.params()
    except BadRequest as e:
        return json_response(400, e.body)
    if not p.get("token"):
        return param_error("token is missing")
    problem = _validate_update(p, state.config)
    if problem:
        return param_error(problem)
    job, err = _authenticate_job(state, req, _job_token(req, p), allow_awaiting_ack=True)
    if err:
        return err
    cfg = state.config
    st = p.get("state")
    with state.lock:
        job.updates.append({k: v for k, v in p.items()})

        def answer(status, extra=()):
            return text_response(status, str(status), [("Job-Status", job.status), *extra])

        if job.awaiting_ack:   # two-phase commit (§2.5, §5.2 step 2)
            if st == "pending":
                return answer(200)
            if st != "running":
                return message(400, "400 Bad request - job is waiting for acceptance",
                               [("Job-Status", job.status)])
            job.awaiting_ack = False
            job.status = "running"
            state.changed()
        if st == "running":
            return answer(200)
        if st not in ("success", "failed"):
            return message(400, "400 Bad request - invalid state", [("Job-Status", job.status)])

        output = p.get("output") or {}
        checksum = output.get("checksum") or p.get("checksum")
        if checksum:
            # §5.2 step 4: wait (202) until the stored trace matches what the runner says
            # it sent, bounded by final_update_max_wait; optionally force N extra rounds.
            job.checksum, job.bytesize = checksum, output.get("bytesize")
            if job.pending_final_since is None:
                job.pending_final_since = now()
            complete = (checksum == job.trace_checksum
                        and (job.bytesize is None or job.bytesize == job.trace_size))
            age = now() - job.pending_final_since
            if (job.final_202_count < cfg["final_update_202_rounds"]
                    or (not complete and age < cfg["final_update_max_wait"])):
                job.final_202_count += 1
                interval = cfg["final_update_interval"] or backoff_seconds(age)
                return answer(202, [("X-GitLab-Trace-Update-Interval", str(interval))])
            job.checksum_ok = complete
        job.final_state = st
        if p.get("exit_code") is not None:
            job.exit_code = int(p["exit_code"])
        if job.status == "canceling":   # whatever the runner reports, it ends canceled
            state.finish_job(job, "canceled")
        elif st == "success":
            state.finish_job(job, "success")
        else:
            state.finish_job(job, "failed", p.get("failure_reason") or "unknown_failure")
        return answer(200)


# -- §6 artifacts ------------------------------------------------------------------------

def upload_artifacts(state, req):
    parts, parse_error = None, None
    try:
        parts = multipart.parse(req.body, req.header("Content-Type"))
    except multipart.MultipartError as e:
        parse_error = str(e)
    fields = {p.name: p.data.decode("utf-8", "replace")
              for p in parts or [] if p.filename is None}
    job, err = _authenticate_job(state, req, _job_token(req, fields))
    if err:
        return err
    cfg = state.config
    if not cfg["artifacts_enabled"]:
        return message(405, "405 Method Not Allowed")
    if parse_error:
        return message(400, "400 Bad request - " + parse_error)
    files = [p for p in parts if p.filename is not None]
    if any(f.name != "file" for f in files):
        return message(400, "400 Bad request - invalid form field")
    if len(files) > 1:
        return message(400, "400 Bad request - more than one file")
    if not files:
        return param_error("file is missing")

    def opt(name):
        return req.query.get(name) or fields.get(name) or None

    atype = opt("artifact_type") or "archive"
    afmt = opt("artifact_format") or "zip"
    if atype not in ARTIFACT_TYPE_FORMAT:
        return param_error("artifact_type does not have a valid value")
    if afmt not in ("zip", "gzip", "raw"):
        return param_error("artifact_format does not have a valid value")
    if ARTIFACT_TYPE_FORMAT[atype] != afmt:
        return message(400, f"400 Bad request - invalid artifact format {afmt!r} "
                            f"for type {atype!r}")
    limit = cfg["artifact_size_limits"].get(atype, cfg["max_artifact_size"])
    if len(files[0].data) > limit:
        return message(413, "413 Request Entity Too Large")
    state.add_artifact(job, files[0].data, files[0].filename, atype, afmt, opt("expire_in"),
                       files[0].content_type,
                       {k: v for k, v in fields.items() if k != "token"})
    return text_response(201, "201")


def download_artifacts(state, req):
    token = req.query.get("token") or req.header("JOB-TOKEN")
    if not token:
        return message(401, "401 Unauthorized")
    with state.lock:
        requester = next((j for j in state.jobs.values() if j.token == token), None)
        if requester is None or requester.status not in PROCESSING_STATUSES:
            return message(403, "403 Forbidden")
        target = state.jobs.get(req.job_id)
        archive = target.archive() if target is not None else None
        if archive is None:
            return message(404, "404 Not Found")
        if _truthy(req.query.get("direct_download", "false")) and \
                state.config["direct_download_redirect"]:
            location = (f"http://{req.host}/__storage/{archive.storage_key}"
                        f"?X-Amz-Expires=600&X-Amz-Signature={secrets.token_hex(16)}")
            return Response(302, b"", [("Location", location)], "text/html")
        return Response(200, archive.data,
                        [("Content-Disposition", f'attachment; filename="{archive.filename}"')],
                        "application/octet-stream")


def storage_object(state, req):
    """The 'object storage' behind a direct-download redirect: no job token needed."""
    archive = state.artifact_by_key(req.groups[0])
    if archive is None:
        return text_response(404, '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>'
                             'NoSuchKey</Code><Message>The specified key does not exist.'
                             '</Message></Error>', content_type="application/xml")
    rng = re.fullmatch(r"bytes=(\d+)-(\d*)", req.header("Range") or "")
    size = len(archive.data)
    if rng and int(rng.group(1)) < size:
        first = int(rng.group(1))
        last = min(int(rng.group(2)), size - 1) if rng.group(2) else size - 1
        return Response(206, archive.data[first:last + 1],
                        [("Content-Range", f"bytes {first}-{last}/{size}")],
                        "application/octet-stream")
    return Response(200, archive.data, [], "application/octet-stream")


# (method, path regex, endpoint name, handler, whether group 1 is a job id)
ROUTES = [
    ("POST", r"/api/v4/runners", "register", register, False),
    ("DELETE", r"/api/v4/runners", "unregister", unregister, False),
    ("POST", r"/api/v4/runners/verify", "verify", verify, False),
    ("DELETE", r"/api/v4/runners/managers", "unregister_manager", unregister_manager, False),
    ("POST", r"/api/v4/runners/reset_authentication_token", "reset_token", reset_token, False),
    ("POST", r"/api/v4/runners/(\d+)/reset_authentication_token", "reset_token_admin",
     reset_token_admin, False),
    ("GET", r"/api/v4/runners/router/discovery", "router_discovery", router_discovery, False),
    ("POST", r"/api/v4/jobs/request", "request", request_job, False),
    ("PUT", r"/api/v4/jobs/(\d+)", "update", update_job, True),
    ("PATCH", r"/api/v4/jobs/(\d+)/trace", "trace", append_trace, True),
    ("POST", r"/api/v4/jobs/(\d+)/artifacts", "artifacts_upload", upload_artifacts, True),
    ("GET", r"/api/v4/jobs/(\d+)/artifacts", "artifacts_download", download_artifacts, True),
    ("GET", r"/__storage/([0-9a-f]+)", "storage", storage_object, False),
]
ROUTES += repo_api.ROUTES
_COMPILED = [(m, re.compile(p + r"/?\Z"), n, h, j) for m, p, n, h, j in ROUTES]


def route(method, path):
    """(endpoint name, handler, groups, job id) for a request, or None if unexpected."""
    for m, rx, name, handler, has_job in _COMPILED:
        mo = rx.match(path)
        if mo and m == method:
            return name, handler, mo.groups(), int(mo.group(1)) if has_job else None
    return None
