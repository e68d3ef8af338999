"""FakeGitLab: the Python control interface (the /__control API maps onto it)."""

import copy
import socket
import ssl
import threading

from . import repo_api
from .httpserver import FakeHTTPServer
from .state import FINAL_STATUSES, State

LOOPBACK_HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1"}


class FakeGitLab:
    """A fake GitLab coordinator on a loopback port.

    Getters return copies (snapshots) of the internal records, so values do not change
    under the caller's feet; ask again to see progress.
    """

    def __init__(self, host="127.0.0.1", port=0, config=None, long_poll=None, verbose=False,
                 seed=None, tls=None):
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"fakegitlab only listens on loopback, not {host!r}")
        self.host = LOOPBACK_HOSTS[host]
        self._requested_port = int(port)
        cfg = dict(config or {})
        if long_poll is not None:
            cfg["long_poll"] = float(long_poll)
        self.state = State(cfg)
        self.verbose = verbose
        # Runners/jobs/faults created at start and again after reset():
        # {"runners": [add_runner kwargs], "jobs": [enqueue_job kwargs incl. "runner"],
        #  "faults": [inject_fault kwargs]}.
        self.seed = seed or {}
        # HTTPS: {"cert": PEM, "key": PEM, "client_ca": PEM or None (then no
        # client certificate is asked for)}.
        self.tls = tls
        self.server = None
        self._thread = None
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.server = FakeHTTPServer((self.host, self._requested_port), self, family)
        if self.tls:
            self.server.socket = self._tls_context().wrap_socket(self.server.socket,
                                                                 server_side=True)
        self.state.base_url = self.url
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        name="fakegitlab", daemon=True)
        self._thread.start()
        self._apply_seed()
        return self

    def _tls_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.tls["cert"], self.tls["key"])
        if self.tls.get("client_ca"):
            ctx.load_verify_locations(self.tls["client_ca"])
            ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def stop(self):
        with self._stop_lock:
            if self.server is None or self._stopped.is_set():
                return
            with self.state.lock:
                self.state.stopping = True
                self.state.changed()          # release long polls and waiters
            self.server.stop_event.set()      # release hangs and slow writers
            self.server.shutdown()
            self.server.close_connections()
            self.server.server_close()
            self._thread.join(5)
            self._stopped.set()

    def wait(self, timeout=None):
        """Block until stop() (e.g. via POST /__control/shutdown); True if stopped."""
        return self._stopped.wait(timeout)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self.server.server_address[1] if self.server else None

    @property
    def url(self):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    @property
    def api_url(self):
        return self.url + "/api/v4"

    def _apply_seed(self):
        for r in self.seed.get("runners", []):
            self.add_runner(**r)
        for j in self.seed.get("jobs", []):
            j = dict(j)
            self.enqueue_job(j.pop("runner", None), **j)
        for p in self.seed.get("projects", []):
            self.add_project(**p)
        for name, content in self.seed.get("templates", {}).items():
            self.add_template(name, content)
        for path, content in self.seed.get("remote_files", {}).items():
            self.add_remote_file(path, content)
        for f in self.seed.get("faults", []):
            f = dict(f)
            self.inject_fault(f.pop("endpoint"), f.pop("kind"), **f)

    # -- config ------------------------------------------------------------------------

    def config(self):
        with self.state.lock:
            return copy.deepcopy(self.state.config)

    def set_config(self, **values):
        self.state.update_config(values)
        return self.config()

    def reset(self):
        """Back to the start state: startup config, seeded objects, empty logs."""
        self.state.reset()
        self._apply_seed()

    # -- runners -----------------------------------------------------------------------

    def add_runner(self, token=None, **attrs):
        """Create a runner. token defaults to a new glrt- token; tokens starting with glrt-
        are "created in the UI" runners (register via verify), others behave as obtained by
        legacy registration. attrs: id, description, tags, paused, orphaned, legacy_verify,
        token_expires_at, run_untagged, locked, access_level, maximum_timeout."""
        with self.state.lock:
            return copy.deepcopy(self.state.add_runner(token, **attrs))

    def runner(self, ref):
        """Runner by id or (current) token, or None."""
        with self.state.lock:
            r = self.state.runner_ref(ref)
            return copy.deepcopy(r) if r else None

    def runners(self):
        with self.state.lock:
            return [copy.deepcopy(r) for r in self.state.runners.values()]

    def update_runner(self, ref, **attrs):
        with self.state.lock:
            r = self.state.runner_ref(ref)
            if r is None:
                raise KeyError(f"no runner {ref}")
            for k, v in attrs.items():
                if k in ("id", "token", "queue", "managers", "last_update") or not hasattr(r, k):
                    raise KeyError(f"runner attribute {k!r} cannot be set")
                setattr(r, k, v)
            self.state.changed()
            return copy.deepcopy(r)

    def delete_runner(self, ref):
        with self.state.lock:
            r = self.state.runner_ref(ref)
            if r is not None:
                self.state.delete_runner(r)
            return r is not None

    # -- jobs --------------------------------------------------------------------------

    def enqueue_job(self, runner, payload=None, merge=True, queue=True,
                    required_features=None, status="pending", **builder_args):
        """Create a job for `runner` (id or token) and return its id.

        payload: overrides deep-merged into the default payload (lists replace, the string
        "__delete__" removes a key), or with merge=False the complete payload as is.
        builder_args (with merge=True): script, after_script, variables (dict or list,
        appended), timeout, git_strategy, name, stage, ref, sha, depth, project_path,
        project_id, pipeline_id, template ("default" or "example").
        queue=False / status="success" make a job that is never handed out, e.g. as a
        dependency holding artifacts (see add_artifact).
        required_features: features the runner must announce (default: derived from the
        payload like GitLab does); missing ones get the job dropped as runner_unsupported.
        """
        with self.state.lock:
            r = None
            if runner is not None:
                r = self.state.runner_ref(runner)
                if r is None:
                    raise KeyError(f"no runner {runner}")
            job = self.state.create_job(r, payload, merge, queue, required_features, status,
                                        **builder_args)
            return job.id

    def job(self, job_id):
        """Snapshot of a job (attributes: status/state, trace, raw_trace, checksum,
        bytesize, checksum_ok, failure_reason, exit_code, updates, artifacts, ...)."""
        with self.state.lock:
            j = self.state.job(job_id)
            return copy.deepcopy(j) if j else None

    def jobs(self):
        with self.state.lock:
            return [copy.deepcopy(j) for j in self.state.jobs.values()]

    def cancel_job(self, job_id, graceful=None, after_patches=None):
        """Cancel a job now or, with after_patches=K, right after its K-th accepted trace
        PATCH (that PATCH's answer already carries the new Job-Status). graceful: True ->
        canceling, False -> canceled, None -> as GitLab decides from cancel_gracefully."""
        with self.state.lock:
            job = self._job(job_id)
            if after_patches is not None:
                job.cancel_after_patches = int(after_patches)
                job.cancel_graceful = graceful
                if job.patches >= job.cancel_after_patches:
                    self.state.apply_cancel_faults(job)
            else:
                self.state.cancel_job(job, graceful)
            return copy.deepcopy(job)

    def expire_job_token(self, job_id):
        """Make the job token expire: the next job call gets 403 and the job is dropped
        with job_token_expired."""
        with self.state.lock:
            job = self._job(job_id)
            job.token_expired = True
            return copy.deepcopy(job)

    def set_job_status(self, job_id, status, failure_reason=None):
        """Force a job status (e.g. 'failed' to make the runner abort)."""
        with self.state.lock:
            job = self._job(job_id)
            if status in FINAL_STATUSES:
                self.state.finish_job(job, status, failure_reason)
            else:
                job.status = status
                self.state.changed()
            return copy.deepcopy(job)

    def add_artifact(self, job_id, data, filename="artifacts.zip", artifact_type="archive",
                     artifact_format=None, expire_in=None,
                     content_type="application/octet-stream"):
        """Attach an artifact to a job, e.g. a dependency archive for download tests."""
        with self.state.lock:
            a = self.state.add_artifact(self._job(job_id), data, filename, artifact_type,
                                        artifact_format, expire_in, content_type)
            return copy.deepcopy(a)

    def wait_for_job(self, job_id, status=FINAL_STATUSES, timeout=10.0):
        """Wait until the job's status is in `status` (str or list); TimeoutError if not."""
        wanted = (status,) if isinstance(status, str) else tuple(status)
        ok = self.state.wait_for(lambda: self._job(job_id).status in wanted, timeout)
        if not ok:
            raise TimeoutError(f"job {job_id} not in {wanted} after {timeout}s "
                               f"(status {self._job(job_id).status})")
        return self.job(job_id)

    def _job(self, job_id):
        job = self.state.job(job_id)
        if job is None:
            raise KeyError(f"no job {job_id}")
        return job

    # -- repositories, templates, remote files (remote includes) ------------------------

    def add_project(self, path, files=None, private=False, default_branch="main",
                    releases=None, id=None):
        """A project for the repository files and releases APIs. files: {ref: {path: text}};
        releases: [{"tag_name", "released_at"?, "upcoming_release"?}]; private: only
        readable with a valid PRIVATE-TOKEN (config api_tokens)."""
        with self.state.lock:
            return repo_api.add_project(self.state, path, files, private, default_branch,
                                        releases, id)

    def add_template(self, name, content):
        """A CI template served at /api/v4/templates/gitlab_ci_ymls/<name>."""
        with self.state.lock:
            self.state.templates[name] = content

    def add_remote_file(self, path, content):
        """A file served at /remote/<path> (any web server, no token)."""
        with self.state.lock:
            self.state.remote_files[path] = content

    # -- request log -------------------------------------------------------------------

    def requests(self, **filters):
        """Recorded runner-API requests, oldest first. Filters: endpoint, method, path
        (prefix), job_id, status, unexpected, since (sequence number)."""
        with self.state.lock:
            return [copy.copy(r) for r in self.state.find_requests(**filters)]

    def unexpected_requests(self):
        return self.requests(unexpected=True)

    def clear_requests(self):
        with self.state.lock:
            self.state.requests.clear()

    def wait_for_requests(self, count=1, timeout=10.0, **filters):
        """Wait until at least `count` answered requests match; returns them."""
        def found():
            rs = [r for r in self.state.find_requests(**filters) if r.done]
            return rs if len(rs) >= count else None
        rs = self.state.wait_for(found, timeout)
        if rs is None:
            raise TimeoutError(f"fewer than {count} requests matching {filters}")
        return [copy.copy(r) for r in rs]

    # -- faults ------------------------------------------------------------------------

    def inject_fault(self, endpoint, kind, **params):
        """Make `endpoint` (a name such as "request", "trace", "update", or "*") misbehave.

        kind: "status" (answer `status`, default 500), "throttle" (429 + Retry-After),
        "hang" (wait `seconds`, then answer normally), "reset" (drop with TCP RST),
        "close" (drop with FIN, no answer), "slow" (dribble the answer over `seconds`),
        "non_json" (normal answer with a wrong Content-Type), "cancel" (trace only: cancel
        the job after its `after`-th PATCH; `graceful` as in cancel_job).
        Common params: times (default 1, None = always), skip (let N matches pass first),
        job_id, method; status/body/headers/content_type; seconds; retry_after,
        ratelimit_reset.
        """
        with self.state.lock:
            return copy.copy(self.state.add_fault(endpoint, kind, **params))

    def faults(self):
        with self.state.lock:
            return [copy.copy(f) for f in self.state.faults]

    def clear_faults(self, fault_id=None):
        """Remove one fault (True if it existed) or all of them."""
        with self.state.lock:
            before = len(self.state.faults)
            self.state.faults = [f for f in self.state.faults
                                 if fault_id is not None and f.id != fault_id]
            return len(self.state.faults) < before
