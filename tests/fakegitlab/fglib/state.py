"""In-memory model of the fake coordinator: config, runners, jobs, faults, request log.

Everything lives in one State object guarded by one re-entrant lock; `cond` (built on the same
lock) wakes long-poll holders and test waiters whenever something changes.
"""

import base64
import collections
import copy
import json
import secrets
import string
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Optional

from . import hostile
from . import payload as payloads

MiB = 1024 * 1024

DEFAULT_CONFIG = {
    # Seconds a jobs/request carrying the current last_update is held (Workhorse long
    # polling, spec §2.3); 0 disables it.
    "long_poll": 0.0,
    # X-GitLab-Trace-Update-Interval on trace PATCH answers. GitLab sends 60, or 3 while
    # somebody watches the log; 3 keeps runner-driven tests fast.
    "trace_update_interval": 3,
    # Stored trace size above which the job is dropped with trace_size_exceeded (§4.2).
    "trace_size_limit": 100 * MiB,
    # Answer 202 to the first N final PUTs that carry a checksum (simulates chunk
    # persistence, §5.2 step 4), even when the trace already matches.
    "final_update_202_rounds": 0,
    # How long (s) a final PUT whose bytesize/checksum does not match the stored trace keeps
    # getting 202 before the server gives up and accepts (GitLab: 5 min).
    "final_update_max_wait": 300.0,
    # Fixed X-GitLab-Trace-Update-Interval for those 202s; None = GitLab's back-off schedule.
    "final_update_interval": None,
    "max_artifact_size": 100 * MiB,
    "artifact_size_limits": {},          # artifact_type -> max bytes
    "artifacts_enabled": True,           # False -> 405 on upload
    "direct_download_redirect": False,   # 302 to /__storage/... on direct_download=true
    "check_features": True,              # drop jobs needing features the runner lacks
    "two_phase_commit": True,            # honour the two_phase_job_commit feature (§2.5)
    "validate_failure_reason": True,     # 400 on failure_reason outside the enum
    "hide_secrets": True,                # overwrite tokens in stored trace chunks with 'x'
    # False: keep only the size and CRC of each trace, not its bytes (benchmarks of GiB
    # logs, where storing and hashing them would make the fake the bottleneck).
    "trace_store": True,
    "registration_tokens": ["GR1348941fakegitlabRegToken"],
    "registration_enabled": True,        # False -> 410 on POST /runners
    "legacy_token_prefix": "glrtr-",     # prefix of tokens handed out by POST /runners
    "token_expires_in": None,            # seconds; sets token_expires_at of new tokens
    "admin_token": "glpat-fakegitlabAdminToken",   # PRIVATE-TOKEN for the admin reset
    "request_body_limit": 32768,         # jobs/request bodies above this get 413 (§2.1)
    "first_job_id": 1000,
    # PRIVATE-TOKENs the repository, release and template endpoints accept (besides
    # admin_token); any other token gets 401 (fglib/repo_api.py).
    "api_tokens": ["glpat-fakegitlabReadToken"],
}

FINAL_STATUSES = ("success", "failed", "canceled")
PROCESSING_STATUSES = ("running", "canceling")

ENDPOINTS = ("register", "verify", "unregister", "unregister_manager", "reset_token",
             "reset_token_admin", "router_discovery", "request", "update", "trace",
             "artifacts_upload", "artifacts_download", "storage",
             "repository_file", "releases", "template", "remote_file")
FAULT_KINDS = ("status", "throttle", "hang", "reset", "close", "slow", "non_json", "cancel",
               "bad_job", "range416", "endless", "slowloris", "header_flood")   # see hostile.py


def now():
    return time.time()


def iso(ts):
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % int(ts % 1 * 1000)


def random_token(prefix, n=20):
    alphabet = string.ascii_letters + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(n))


def crc32_checksum(data):
    return "crc32:%08x" % (zlib.crc32(data) & 0xFFFFFFFF)


@dataclass
class Runner:
    id: int
    token: str
    kind: str = "created"                 # "created" (glrt-) or "registered" (POST /runners)
    description: str = ""
    tags: list = field(default_factory=list)
    run_untagged: bool = True
    locked: bool = False
    access_level: str = "not_protected"
    maximum_timeout: Optional[int] = None
    paused: bool = False
    orphaned: bool = False                # verify/jobs request answer 422
    legacy_verify: bool = False           # verify answers the text "200" like old servers
    token_obtained_at: float = field(default_factory=now)
    token_expires_at: Optional[str] = None
    info: dict = field(default_factory=dict)        # last `info` seen
    managers: dict = field(default_factory=dict)    # system_id -> {"info", "last_seen"}
    last_update: str = field(default_factory=lambda: secrets.token_hex(16))
    queue: collections.deque = field(default_factory=collections.deque)
    old_tokens: list = field(default_factory=list)

    def to_dict(self):
        return {
            "id": self.id, "token": self.token, "kind": self.kind,
            "description": self.description, "tags": list(self.tags),
            "run_untagged": self.run_untagged, "locked": self.locked,
            "access_level": self.access_level, "maximum_timeout": self.maximum_timeout,
            "paused": self.paused, "orphaned": self.orphaned,
            "legacy_verify": self.legacy_verify,
            "token_obtained_at": iso(self.token_obtained_at),
            "token_expires_at": self.token_expires_at, "info": self.info,
            "managers": copy.deepcopy(self.managers), "last_update": self.last_update,
            "queue": list(self.queue), "old_tokens": list(self.old_tokens),
        }


@dataclass
class Artifact:
    artifact_type: str
    artifact_format: str
    expire_in: Optional[str]
    filename: str
    content_type: str
    data: bytes
    fields: dict = field(default_factory=dict)   # non-file form fields
    storage_key: str = field(default_factory=lambda: secrets.token_hex(12))
    uploaded_at: float = field(default_factory=now)

    def to_dict(self, with_data=False):
        d = {"artifact_type": self.artifact_type, "artifact_format": self.artifact_format,
             "expire_in": self.expire_in, "filename": self.filename,
             "content_type": self.content_type, "size": len(self.data),
             "fields": dict(self.fields), "uploaded_at": iso(self.uploaded_at)}
        if with_data:
            d["data_b64"] = base64.b64encode(self.data).decode()
        return d


@dataclass
class Job:
    id: int
    token: str
    runner_id: Optional[int]
    payload: dict
    status: str = "pending"
    assigned: bool = False            # handed out by jobs/request
    awaiting_ack: bool = False        # two-phase commit: assigned, waiting for PUT running
    system_id: Optional[str] = None
    features: dict = field(default_factory=dict)      # info.features of the taking request
    required_features: set = field(default_factory=set)
    trace: bytearray = field(default_factory=bytearray)      # as stored (secrets hidden)
    raw_trace: bytearray = field(default_factory=bytearray)  # as received
    patches: int = 0                  # successful (202) trace PATCHes
    trace_size: int = 0               # bytes received (also with trace_store false)
    trace_crc: int = 0                # running zlib.crc32 of the bytes received
    debug_trace: bool = False
    updates: list = field(default_factory=list)        # every PUT body (parsed JSON)
    final_state: Optional[str] = None  # state of the accepted final update
    checksum: Optional[str] = None     # as reported by the runner
    bytesize: Optional[int] = None     # as reported by the runner
    checksum_ok: Optional[bool] = None
    failure_reason: Optional[str] = None
    exit_code: Optional[int] = None
    pending_final_since: Optional[float] = None
    final_202_count: int = 0
    cancel_after_patches: Optional[int] = None
    cancel_graceful: Optional[bool] = None
    token_expired: bool = False
    artifacts: list = field(default_factory=list)
    created_at: float = field(default_factory=now)
    started_at: Optional[float] = None
    finished_at: Optional[float] = None

    @property
    def state(self):
        return self.status

    @property
    def trace_text(self):
        return self.trace.decode("utf-8", "replace")

    @property
    def trace_checksum(self):
        return "crc32:%08x" % (self.trace_crc & 0xFFFFFFFF)

    def archive(self):
        """The downloadable archive (last upload of type archive), or None."""
        for a in reversed(self.artifacts):
            if a.artifact_type == "archive":
                return a
        return None

    def to_dict(self, with_payload=True, with_artifact_data=False):
        d = {
            "id": self.id, "token": self.token, "runner_id": self.runner_id,
            "status": self.status, "assigned": self.assigned,
            "awaiting_ack": self.awaiting_ack, "system_id": self.system_id,
            "features": dict(self.features),
            "required_features": sorted(self.required_features),
            "trace": self.trace.decode("utf-8", "replace"),
            "trace_b64": base64.b64encode(bytes(self.trace)).decode(),
            "trace_size": self.trace_size, "trace_checksum": self.trace_checksum,
            "patches": self.patches, "debug_trace": self.debug_trace,
            "updates": copy.deepcopy(self.updates), "final_state": self.final_state,
            "checksum": self.checksum, "bytesize": self.bytesize,
            "checksum_ok": self.checksum_ok, "failure_reason": self.failure_reason,
            "exit_code": self.exit_code, "token_expired": self.token_expired,
            "artifacts": [a.to_dict(with_artifact_data) for a in self.artifacts],
            "created_at": iso(self.created_at), "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
        }
        if with_payload:
            d["payload"] = copy.deepcopy(self.payload)
        return d


@dataclass
class Fault:
    id: int
    endpoint: str                     # an ENDPOINTS name or "*"
    kind: str                         # a FAULT_KINDS name
    times: Optional[int] = 1          # None = every matching request
    skip: int = 0                     # let this many matching requests through first
    job_id: Optional[int] = None
    method: Optional[str] = None
    status: int = 500                 # kind "status"
    body: Optional[str] = None        # kind "status"/"throttle": response body
    headers: dict = field(default_factory=dict)
    content_type: Optional[str] = None
    seconds: float = 1.0              # hang: delay; slow: total time to dribble the body
    retry_after: Optional[int] = 1    # throttle: Retry-After seconds
    ratelimit_reset: Optional[float] = None   # throttle: RateLimit-ResetTime in N seconds
    after: int = 1                    # cancel: after this many trace patches of the job
    graceful: Optional[bool] = None   # cancel: canceling (True) / canceled (False) / auto
    shape: str = "truncated"          # bad_job: truncated / array / deep
    cut: Optional[int] = None         # bad_job truncated: bytes kept (default half)
    depth: int = 200000               # bad_job deep: nesting
    range: str = "missing"            # range416: missing / garbage / beyond
    mode: str = "bytes"               # slowloris: bytes / headers
    interval: float = 1.0             # slowloris: seconds between bytes
    count: int = 100000               # header_flood: headers
    size: int = 100                   # header_flood: bytes per header value
    hits: int = 0                     # times it fired
    seen: int = 0                     # matching requests seen

    def to_dict(self):
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class RequestRecord:
    seq: int
    time: float
    method: str
    path: str
    raw_query: str
    query: dict
    headers: list                     # [(name, value)] as received
    body: bytes = b""
    endpoint: Optional[str] = None
    job_id: Optional[int] = None
    status: Optional[int] = None      # None while in flight or when dropped by a fault
    unexpected: bool = False
    fault: Optional[str] = None
    response_headers: list = field(default_factory=list)
    duration: Optional[float] = None
    done: bool = False

    def header(self, name, default=None):
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return default

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    def to_dict(self, with_body=True):
        d = {"seq": self.seq, "time": self.time, "method": self.method, "path": self.path,
             "raw_query": self.raw_query, "query": dict(self.query),
             "headers": [list(h) for h in self.headers], "body_size": len(self.body),
             "endpoint": self.endpoint, "job_id": self.job_id, "status": self.status,
             "unexpected": self.unexpected, "fault": self.fault,
             "response_headers": [list(h) for h in self.response_headers],
             "duration": self.duration, "done": self.done}
        if with_body:
            d["body_b64"] = base64.b64encode(self.body).decode()
            try:
                d["body_text"] = self.body.decode("utf-8")
            except UnicodeDecodeError:
                d["body_text"] = None
            d["json"] = self.json()
        return d

    def matches(self, endpoint=None, method=None, path=None, job_id=None, status=None,
                unexpected=None, since=None):
        return ((endpoint is None or self.endpoint == endpoint)
                and (method is None or self.method == method.upper())
                and (path is None or self.path.startswith(path))
                and (job_id is None or self.job_id == int(job_id))
                and (status is None or self.status == int(status))
                and (unexpected is None or self.unexpected == bool(unexpected))
                and (since is None or self.seq > int(since)))


class State:
    def __init__(self, config=None):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.stopping = False
        self.base_url = "http://127.0.0.1"
        self.initial_config = dict(config or {})
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------

    def reset(self, config=None):
        with self.lock:
            self.config = copy.deepcopy(DEFAULT_CONFIG)
            self.update_config(self.initial_config if config is None else config)
            self.runners = {}          # id -> Runner
            self.tokens = {}           # current runner token -> runner id
            self.jobs = {}             # id -> Job
            self.faults = []
            self.requests = []
            self.projects = {}         # lower-case full path -> project (fglib/repo_api.py)
            self.templates = {}        # CI template key -> content
            self.remote_files = {}     # path under /remote/ -> content
            self.next_runner_id = 1
            self.next_job_id = int(self.config["first_job_id"])
            self.next_fault_id = 1
            self.next_seq = 1
            self.cond.notify_all()

    def update_config(self, values):
        with self.lock:
            for k, v in (values or {}).items():
                if k not in DEFAULT_CONFIG:
                    raise KeyError(f"unknown config key {k!r}")
                self.config[k] = v
            self.cond.notify_all()

    def changed(self):
        """Wake everybody waiting on cond (long polls, waiters)."""
        with self.lock:
            self.cond.notify_all()

    # -- runners -----------------------------------------------------------------------

    def token_expiry(self):
        secs = self.config["token_expires_in"]
        return iso(now() + float(secs)) if secs else None

    def add_runner(self, token=None, kind=None, **attrs):
        with self.lock:
            if token is None:
                token = random_token("glrt-t1_")
            if token in self.tokens:
                raise ValueError(f"runner token {token!r} already exists")
            if kind is None:
                kind = "created" if token.startswith("glrt-") else "registered"
            if "id" in attrs:
                rid = int(attrs.pop("id"))
                if rid in self.runners:
                    raise ValueError(f"runner id {rid} already exists")
            else:
                rid = self.next_runner_id
            self.next_runner_id = max(self.next_runner_id, rid + 1)
            if "token_expires_at" not in attrs:
                attrs["token_expires_at"] = self.token_expiry()
            r = Runner(id=rid, token=token, kind=kind)
            for k, v in attrs.items():
                if not hasattr(r, k) or k in ("queue", "managers", "info", "last_update"):
                    raise KeyError(f"unknown runner attribute {k!r}")
                setattr(r, k, v)
            self.runners[rid] = r
            self.tokens[token] = rid
            return r

    def runner_by_token(self, token):
        with self.lock:
            rid = self.tokens.get(token) if isinstance(token, str) else None
            return self.runners.get(rid) if rid is not None else None

    def runner_ref(self, ref):
        """A runner by id (int or digits) or token."""
        with self.lock:
            if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
                return self.runners.get(int(ref))
            return self.runner_by_token(ref)

    def delete_runner(self, runner):
        with self.lock:
            self.runners.pop(runner.id, None)
            self.tokens.pop(runner.token, None)
            self.cond.notify_all()

    def rotate_token(self, runner):
        with self.lock:
            prefix = next((p for p in ("glrt-t1_", "glrt-t2_", "glrt-t3_", "glrt-", "glrtr-")
                           if runner.token.startswith(p)), "")
            self.tokens.pop(runner.token, None)
            runner.old_tokens.append(runner.token)
            runner.token = random_token(prefix)
            runner.token_obtained_at = now()
            runner.token_expires_at = self.token_expiry()
            self.tokens[runner.token] = runner.id
            return runner

    def tick(self, runner):
        """A job this runner could take appeared: change its queue value (§2.3)."""
        with self.lock:
            runner.last_update = secrets.token_hex(16)
            self.cond.notify_all()

    # -- jobs --------------------------------------------------------------------------

    def create_job(self, runner=None, payload=None, merge=True, queue=True,
                   required_features=None, status="pending", **builder_args):
        """Create a job; with queue=True it waits in `runner`'s queue for jobs/request.

        payload: overrides deep-merged into the default payload (merge=True) or the
        complete payload used as is (merge=False; id/token are taken from it if present).
        """
        with self.lock:
            job_id = self.next_job_id
            if not merge and payload and "id" in payload:
                job_id = int(payload["id"])
            if job_id in self.jobs:
                raise ValueError(f"job id {job_id} already exists")
            self.next_job_id = max(self.next_job_id, job_id) + 1
            token = (payload or {}).get("token") if not merge else None
            token = token or random_token("glcbt-")
            if merge:
                if runner is not None:
                    builder_args.setdefault("runner_id", runner.id)
                    builder_args.setdefault("runner_description", runner.description)
                    builder_args.setdefault("runner_tags", runner.tags)
                body = payloads.build_payload(job_id, token, self.base_url, **builder_args)
                body = payloads.deep_merge(body, payload or {})
            else:
                if builder_args:
                    raise TypeError("builder arguments need merge=True")
                body = copy.deepcopy(payload or {})
                body.setdefault("id", job_id)
                body.setdefault("token", token)
            self._fill_dependencies(body)
            job = Job(id=job_id, token=token, runner_id=runner.id if runner else None,
                      payload=body, status=status)
            job.required_features = (set(required_features) if required_features is not None
                                     else payloads.required_features(body))
            if status in FINAL_STATUSES:
                job.finished_at = now()
            self.jobs[job_id] = job
            if queue and runner is not None and status == "pending":
                runner.queue.append(job_id)
                self.tick(runner)
            return job

    def _fill_dependencies(self, body):
        """Complete dependencies[] like current servers: the running job's own token and
        artifacts_file of dependency jobs that have an archive here (§3.11)."""
        for dep in body.get("dependencies") or []:
            if not isinstance(dep, dict):
                continue
            dep.setdefault("token", body.get("token"))
            other = self.jobs.get(dep.get("id"))
            if other is not None:
                dep.setdefault("name", (other.payload.get("job_info") or {}).get("name"))
                archive = other.archive()
                if archive is not None:
                    dep.setdefault("artifacts_file", {"filename": archive.filename,
                                                      "size": len(archive.data)})

    def job(self, job_id):
        with self.lock:
            return self.jobs.get(int(job_id))

    def finish_job(self, job, status, failure_reason=None):
        with self.lock:
            job.status = status
            job.awaiting_ack = False
            if status == "failed" and failure_reason:
                job.failure_reason = failure_reason
            job.finished_at = now()
            self.cond.notify_all()

    def cancel_job(self, job, graceful=None):
        """Cancel like GitLab (§5.5): running jobs go to canceling when their runner
        announced cancel_gracefully (or graceful=True), otherwise straight to canceled."""
        with self.lock:
            if job.status in FINAL_STATUSES:
                return job
            if job.status == "running" or (job.status == "canceling" and graceful is False):
                if graceful is None:
                    graceful = bool(job.features.get("cancel_gracefully"))
                if graceful:
                    job.status = "canceling"
                    self.cond.notify_all()
                    return job
            self.finish_job(job, "canceled")
            return job

    def add_artifact(self, job, data, filename="artifacts.zip", artifact_type="archive",
                     artifact_format=None, expire_in=None,
                     content_type="application/octet-stream", fields=None):
        with self.lock:
            fmt = artifact_format or payloads.ARTIFACT_TYPE_FORMAT.get(artifact_type, "zip")
            a = Artifact(artifact_type, fmt, expire_in, filename, content_type, bytes(data),
                         dict(fields or {}))
            job.artifacts.append(a)
            self.cond.notify_all()
            return a

    def artifact_by_key(self, key):
        with self.lock:
            for job in self.jobs.values():
                for a in job.artifacts:
                    if a.storage_key == key:
                        return a
            return None

    # -- faults ------------------------------------------------------------------------

    def add_fault(self, endpoint, kind, **params):
        with self.lock:
            if endpoint != "*" and endpoint not in ENDPOINTS:
                raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS} or '*'")
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; one of {FAULT_KINDS}")
            if kind == "cancel" and endpoint not in ("trace", "*"):
                raise ValueError("cancel faults apply to the trace endpoint")
            f = Fault(id=self.next_fault_id, endpoint=endpoint, kind=kind)
            for k, v in params.items():
                if k in ("id", "endpoint", "kind", "hits", "seen") or not hasattr(f, k):
                    raise KeyError(f"unknown fault parameter {k!r}")
                setattr(f, k, v)
            if f.method:
                f.method = f.method.upper()
            if kind == "endless" and "status" not in params:
                f.status = 201
            if kind == "range416" and endpoint != "trace":
                raise ValueError("range416 faults apply to the trace endpoint")
            hostile.validate(f)
            self.next_fault_id += 1
            self.faults.append(f)
            return f

    def take_fault(self, endpoint, method, job_id):
        """The first active request fault matching this request, consumed; None if none
        fires. ("cancel" faults are not request faults: see apply_cancel_faults.)"""
        with self.lock:
            for f in self.faults:
                if f.kind == "cancel":
                    continue
                if f.endpoint not in ("*", endpoint):
                    continue
                if f.method and f.method != method:
                    continue
                if f.job_id is not None and f.job_id != job_id:
                    continue
                if f.times is not None and f.hits >= f.times:
                    continue
                f.seen += 1
                if f.seen <= f.skip:
                    continue
                f.hits += 1
                return f
            return None

    def apply_cancel_faults(self, job):
        """Called after each accepted trace PATCH: cancel mid-run when asked to (§5.5)."""
        with self.lock:
            if job.cancel_after_patches is not None and job.patches >= job.cancel_after_patches:
                job.cancel_after_patches = None
                self.cancel_job(job, job.cancel_graceful)
            for f in self.faults:
                if (f.kind == "cancel" and (f.job_id is None or f.job_id == job.id)
                        and (f.times is None or f.hits < f.times) and job.patches >= f.after):
                    f.hits += 1
                    self.cancel_job(job, f.graceful)

    # -- request log -------------------------------------------------------------------

    def record(self, **kw):
        with self.lock:
            rec = RequestRecord(seq=self.next_seq, time=now(), **kw)
            self.next_seq += 1
            self.requests.append(rec)
            return rec

    def find_requests(self, **filters):
        with self.lock:
            return [r for r in self.requests if r.matches(**filters)]

    def wait_for(self, predicate, timeout):
        """Wait until predicate() (called under the lock) is truthy; returns its value."""
        deadline = now() + timeout
        with self.lock:
            while True:
                value = predicate()
                if value or self.stopping:
                    return value
                left = deadline - now()
                if left <= 0:
                    return value
                self.cond.wait(min(left, 0.5))
