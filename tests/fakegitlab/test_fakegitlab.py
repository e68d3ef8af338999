"""Tests of the fake GitLab coordinator.

Run from the repository root:  python3 -m unittest tests/fakegitlab/test_fakegitlab.py -v
or from this directory:        python3 -m unittest test_fakegitlab
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from fakegitlab import FAILURE_REASONS, FakeGitLab, crc32_checksum, multipart  # noqa: E402
from fglib.runner_api import backoff_seconds  # noqa: E402

FEATURE_KEYS = [
    "variables", "image", "services", "artifacts", "cache", "fallback_cache_keys", "shared",
    "upload_multiple_artifacts", "upload_raw_artifacts", "session", "terminal", "refspecs",
    "masking", "proxy", "raw_variables", "artifacts_exclude", "multi_build_steps",
    "trace_reset", "trace_checksum", "trace_size", "vault_secrets", "cancelable",
    "return_exit_code", "service_variables", "service_multiple_aliases",
    "image_executor_opts", "service_executor_opts", "cancel_gracefully",
    "native_steps_integration", "two_phase_job_commit", "job_inputs"]
SHELL_FEATURES = {"variables", "artifacts", "cache", "fallback_cache_keys", "shared",
                  "upload_multiple_artifacts", "upload_raw_artifacts", "refspecs", "masking",
                  "raw_variables", "artifacts_exclude", "multi_build_steps", "trace_reset",
                  "trace_checksum", "trace_size", "cancelable", "return_exit_code"}
RUNNER_TOKEN = "glrt-t1_AbCdEfGhIjKlMnOpQrSt"
SYSTEM_ID = "s_2f0c9a1b7e44"


def info(**features):
    f = {k: k in SHELL_FEATURES for k in FEATURE_KEYS}
    f.update(features)
    return {"name": "crunner", "version": "0.1.0", "revision": "abcdef12", "platform": "linux",
            "architecture": "amd64", "executor": "shell", "shell": "bash", "features": f,
            "config": {"gpus": ""}}


class Resp:
    def __init__(self, r, body):
        self.status, self.headers, self.body = r.status, r.headers, body

    def header(self, name):
        return self.headers.get(name)

    @property
    def json(self):
        return json.loads(self.body)


class Base(unittest.TestCase):
    config = {}

    def setUp(self):
        self.fake = FakeGitLab(config=self.config).start()
        self.addCleanup(self.fake.stop)
        self.conn = http.client.HTTPConnection("127.0.0.1", self.fake.port, timeout=10)
        self.addCleanup(self.conn.close)

    def call(self, method, path, json_body=None, body=None, headers=None):
        headers = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        return Resp(r, r.read())

    def add_runner(self, token=RUNNER_TOKEN, **kw):
        return self.fake.add_runner(token, **kw)

    def request_job(self, token=RUNNER_TOKEN, last_update=None, **features):
        body = {"token": token, "system_id": SYSTEM_ID, "info": info(**features)}
        if last_update:
            body["last_update"] = last_update
        return self.call("POST", "/api/v4/jobs/request", body,
                         headers={"Accept": "application/json"})

    def start_job(self, **enqueue):
        """A runner plus one running job: returns (job_id, job_token)."""
        if self.fake.runner(RUNNER_TOKEN) is None:
            self.add_runner()
        job_id = self.fake.enqueue_job(RUNNER_TOKEN, **enqueue)
        r = self.request_job(cancel_gracefully=True)
        self.assertEqual(r.status, 201)
        return job_id, r.json["token"]

    def patch(self, job_id, token, start, data, content_range=True, query="?debug_trace=false"):
        headers = {"JOB-TOKEN": token, "Content-Type": "text/plain"}
        if content_range:
            headers["Content-Range"] = f"{start}-{start + len(data) - 1}"
        return self.call("PATCH", f"/api/v4/jobs/{job_id}/trace{query}", body=data,
                         headers=headers)

    def put(self, job_id, token, state, trace=None, **extra):
        body = {"info": info(), "token": token, "state": state, "output": {}, **extra}
        if trace is not None:
            body["output"] = {"checksum": crc32_checksum(trace), "bytesize": len(trace)}
        return self.call("PUT", f"/api/v4/jobs/{job_id}", body, headers={"JOB-TOKEN": token})


class TestLifecycle(Base):
    def test_legacy_registration(self):
        self.fake.set_config(token_expires_in=3600)
        r = self.call("POST", "/api/v4/runners", {
            "token": "GR1348941fakegitlabRegToken", "description": "ci box",
            "tag_list": "linux, shell", "run_untagged": False, "locked": True,
            "access_level": "ref_protected", "maximum_timeout": 600, "paused": False,
            "info": {"name": "crunner", "version": "0.1"}})
        self.assertEqual(r.status, 201)
        self.assertEqual(set(r.json), {"id", "token", "token_expires_at"})
        self.assertTrue(r.json["token"].startswith("glrtr-"))
        self.assertRegex(r.json["token_expires_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        runner = self.fake.runner(r.json["id"])
        self.assertEqual((runner.kind, runner.tags, runner.description, runner.maximum_timeout),
                         ("registered", ["linux", "shell"], "ci box", 600))
        self.assertEqual(runner.info, {"name": "crunner"})
        v = self.call("POST", "/api/v4/runners/verify", {"token": r.json["token"]})
        self.assertEqual((v.status, v.json["id"]), (200, r.json["id"]))

    def test_registration_errors(self):
        self.assertEqual(self.call("POST", "/api/v4/runners", {}).json,
                         {"error": "token is missing"})
        self.assertEqual(self.call("POST", "/api/v4/runners", {"token": "nope"}).status, 403)
        r = self.call("POST", "/api/v4/runners", {"token": "GR1348941fakegitlabRegToken",
                                                   "access_level": "everything"})
        self.assertEqual(r.status, 400)
        self.fake.set_config(registration_enabled=False)
        r = self.call("POST", "/api/v4/runners", {"token": "GR1348941fakegitlabRegToken"})
        self.assertEqual((r.status, r.json["reason"]), (410, "runner_registration_disallowed"))

    def test_verify_created_runner(self):
        runner = self.add_runner(token_expires_at="2030-01-01T00:00:00.000Z")
        r = self.call("POST", "/api/v4/runners/verify",
                      {"token": RUNNER_TOKEN, "system_id": SYSTEM_ID, "info": info()})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertEqual(r.json, {"id": runner.id, "token": RUNNER_TOKEN,
                                  "token_expires_at": "2030-01-01T00:00:00.000Z"})
        self.assertIn(SYSTEM_ID, self.fake.runner(RUNNER_TOKEN).managers)
        self.assertEqual(self.call("POST", "/api/v4/runners/verify",
                                   {"token": "glrt-unknown"}).status, 403)
        self.fake.update_runner(RUNNER_TOKEN, legacy_verify=True)
        r = self.call("POST", "/api/v4/runners/verify", {"token": RUNNER_TOKEN})
        self.assertEqual((r.status, r.body), (200, b"200"))
        self.assertTrue(r.header("Content-Type").startswith("text/plain"))
        self.fake.update_runner(RUNNER_TOKEN, orphaned=True)
        self.assertEqual(self.call("POST", "/api/v4/runners/verify",
                                   {"token": RUNNER_TOKEN}).status, 422)

    def test_unregister(self):
        self.add_runner()
        r = self.call("DELETE", "/api/v4/runners", {"token": RUNNER_TOKEN})
        self.assertEqual((r.status, r.body, r.header("Content-Length")), (204, b"", None))
        self.assertIsNone(self.fake.runner(RUNNER_TOKEN))
        self.assertEqual(self.call("POST", "/api/v4/runners/verify",
                                   {"token": RUNNER_TOKEN}).status, 403)
        self.assertEqual(self.call("DELETE", "/api/v4/runners",
                                   {"token": RUNNER_TOKEN}).status, 403)

    def test_unregister_manager(self):
        self.add_runner()
        self.call("POST", "/api/v4/runners/verify", {"token": RUNNER_TOKEN,
                                                     "system_id": SYSTEM_ID})
        body = {"token": RUNNER_TOKEN, "system_id": SYSTEM_ID}
        self.assertEqual(self.call("DELETE", "/api/v4/runners/managers", body).status, 204)
        r = self.call("DELETE", "/api/v4/runners/managers", body)
        self.assertEqual((r.status, r.json["message"]), (404, "404 Runner manager not found"))
        self.assertEqual(self.call("DELETE", "/api/v4/runners/managers",
                                   {"token": RUNNER_TOKEN}).status, 400)
        self.assertEqual(self.call("DELETE", "/api/v4/runners/managers",
                                   {"token": "x", "system_id": SYSTEM_ID}).status, 403)
        self.assertIsNotNone(self.fake.runner(RUNNER_TOKEN))

    def test_reset_token(self):
        runner = self.add_runner()
        r = self.call("POST", "/api/v4/runners/reset_authentication_token",
                      {"token": RUNNER_TOKEN})
        self.assertEqual(r.status, 201)
        self.assertEqual(set(r.json), {"token", "token_expires_at"})
        new = r.json["token"]
        self.assertTrue(new.startswith("glrt-t1_") and new != RUNNER_TOKEN)
        verify = lambda t: self.call("POST", "/api/v4/runners/verify", {"token": t}).status
        self.assertEqual((verify(RUNNER_TOKEN), verify(new)), (403, 200))
        path = f"/api/v4/runners/{runner.id}/reset_authentication_token"
        self.assertEqual(self.call("POST", path).status, 401)
        r = self.call("POST", path, headers={"PRIVATE-TOKEN": "glpat-fakegitlabAdminToken"})
        self.assertEqual(r.status, 201)
        self.assertEqual((verify(new), verify(r.json["token"])), (403, 200))
        self.assertEqual(self.call("POST", "/api/v4/runners/999/reset_authentication_token",
                                   headers={"PRIVATE-TOKEN": "glpat-fakegitlabAdminToken"}
                                   ).status, 404)

    def test_router_discovery(self):
        self.add_runner()
        path = "/api/v4/runners/router/discovery"
        self.assertEqual(self.call("GET", path, headers={"RUNNER-TOKEN": "x"}).status, 403)
        self.assertEqual(self.call("GET", path, headers={"RUNNER-TOKEN": RUNNER_TOKEN}).status,
                         501)


class TestJobRequest(Base):
    def test_unknown_token_and_bad_bodies(self):
        self.assertEqual(self.request_job("glrt-nobody").status, 403)
        self.assertEqual(self.call("POST", "/api/v4/jobs/request", {"info": {}}).status, 400)
        big = {"token": RUNNER_TOKEN, "info": info(), "pad": "x" * 40000}
        self.assertEqual(self.call("POST", "/api/v4/jobs/request", big).status, 413)
        self.assertEqual(self.call("POST", "/api/v4/jobs/request", body=b"{nope",
                                   headers={"Content-Type": "application/json"}).status, 400)

    def test_last_update_and_job_assignment(self):
        self.add_runner()
        r = self.request_job()
        self.assertEqual((r.status, r.body), (204, b""))
        lu = r.header("X-GitLab-Last-Update")
        self.assertRegex(lu, r"^[0-9a-f]{32}$")
        self.assertIsNone(r.header("Gitlab-Ci-Builds-Polling"))
        r = self.request_job(last_update=lu)
        self.assertEqual((r.status, r.header("X-GitLab-Last-Update")), (204, lu))
        job_id = self.fake.enqueue_job(RUNNER_TOKEN, script=["make test"])
        self.assertEqual(self.fake.job(job_id).status, "pending")
        r = self.request_job(last_update=lu)
        self.assertEqual(r.status, 201)
        self.assertEqual(r.header("Content-Type"), "application/json")
        self.assertIsNone(r.header("X-GitLab-Last-Update"))
        self.assertEqual(r.json["id"], job_id)
        self.assertTrue(r.json["token"].startswith("glcbt-"))
        self.assertEqual(r.json["steps"][0]["script"], ["make test"])
        job = self.fake.job(job_id)
        self.assertEqual((job.status, job.state, job.system_id), ("running", "running", SYSTEM_ID))
        r = self.request_job(last_update=lu)
        self.assertEqual(r.status, 204)
        self.assertNotEqual(r.header("X-GitLab-Last-Update"), lu)
        self.assertEqual(self.fake.unexpected_requests(), [])

    def test_paused_runner(self):
        self.add_runner(paused=True)
        self.fake.enqueue_job(RUNNER_TOKEN)
        r = self.request_job()
        self.assertEqual(r.status, 204)
        self.assertIsNotNone(r.header("X-GitLab-Last-Update"))

    def test_default_payload_is_complete(self):
        self.add_runner(description="box", tags=["linux"])
        job_id = self.fake.enqueue_job(RUNNER_TOKEN, variables={"FOO": "bar"}, timeout=120,
                                       payload={"allow_git_fetch": False,
                                                "git_info": {"depth": 3},
                                                "hooks": "__delete__"})
        p = self.request_job().json
        for key in ("id", "token", "allow_git_fetch", "job_info", "git_info", "runner_info",
                    "variables", "steps", "image", "services", "artifacts", "cache",
                    "credentials", "features", "dependencies"):
            self.assertIn(key, p)
        self.assertNotIn("hooks", p)
        self.assertEqual((p["allow_git_fetch"], p["git_info"]["depth"]), (False, 3))
        self.assertEqual(p["git_info"]["ref"], "main")
        self.assertEqual(p["runner_info"]["timeout"], 120)
        self.assertIn(f"gitlab-ci-token:{p['token']}@127.0.0.1:{self.fake.port}/",
                      p["git_info"]["repo_url"])
        v = {x["key"]: x for x in p["variables"]}
        self.assertEqual(v["CI_JOB_TOKEN"], {"key": "CI_JOB_TOKEN", "value": p["token"],
                                             "public": False, "masked": True})
        self.assertFalse(v["CI_REPOSITORY_URL"]["public"])
        self.assertEqual(v["CI_JOB_ID"]["value"], str(job_id))
        self.assertEqual(v["CI_SERVER_URL"]["value"], self.fake.url)
        self.assertEqual(v["CI_RUNNER_TAGS"]["value"], '["linux"]')
        self.assertEqual(p["variables"][-1]["key"], "FOO")
        self.assertEqual(p["features"]["failure_reasons"], FAILURE_REASONS)
        self.assertTrue(p["features"]["trace_sections"])
        self.assertEqual(p["steps"][0]["name"], "script")
        ex = self.fake.job(self.fake.enqueue_job(RUNNER_TOKEN, template="example")).payload
        self.assertEqual(ex["image"]["name"], "golang:1.22")
        self.assertEqual(len(ex["artifacts"]), 2)
        raw = {"id": 77, "token": "glcbt-verbatim", "steps": []}
        self.assertEqual(self.fake.job(self.fake.enqueue_job(RUNNER_TOKEN, raw, merge=False))
                         .payload, raw)

    def test_unsupported_features_drop_job(self):
        self.add_runner()
        job_id = self.fake.enqueue_job(RUNNER_TOKEN, template="example")
        r = self.request_job(upload_multiple_artifacts=False)
        self.assertEqual(r.status, 204)
        job = self.fake.job(job_id)
        self.assertEqual((job.status, job.failure_reason), ("failed", "runner_unsupported"))
        job_id = self.fake.enqueue_job(RUNNER_TOKEN, template="example")
        self.assertEqual(self.request_job().json["id"], job_id)

    def test_two_phase_commit(self):
        self.add_runner()
        job_id = self.fake.enqueue_job(RUNNER_TOKEN)
        tok = self.request_job(two_phase_job_commit=True).json["token"]
        job = self.fake.job(job_id)
        self.assertEqual((job.status, job.awaiting_ack), ("pending", True))
        r = self.patch(job_id, tok, 0, b"x")
        self.assertEqual((r.status, r.header("Job-Status")), (403, "pending"))
        self.assertEqual(self.put(job_id, tok, "pending").status, 200)
        self.assertEqual(self.put(job_id, tok, "success").status, 400)
        r = self.put(job_id, tok, "running")
        self.assertEqual((r.status, r.header("Job-Status")), (200, "running"))
        self.assertFalse(self.fake.job(job_id).awaiting_ack)


class TestLongPoll(Base):
    config = {"long_poll": 1.2}

    def test_long_poll(self):
        self.add_runner()
        r = self.request_job()     # no last_update: straight to "Rails"
        self.assertEqual((r.status, r.header("Gitlab-Ci-Builds-Polling")), (204, "yes"))
        lu = r.header("X-GitLab-Last-Update")

        t0 = time.monotonic()
        r = self.request_job(last_update=lu)     # nothing changes: held, then 204
        self.assertGreaterEqual(time.monotonic() - t0, 1.1)
        self.assertEqual((r.status, r.header("Gitlab-Ci-Builds-Polling")), (204, "yes"))
        self.assertIsNone(r.header("X-GitLab-Last-Update"))

        timer = threading.Timer(0.3, self.fake.enqueue_job, (RUNNER_TOKEN,))
        timer.start()
        t0 = time.monotonic()
        r = self.request_job(last_update=lu)     # released early by the new job
        timer.join()
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(r.status, 204)
        t0 = time.monotonic()
        r = self.request_job(last_update=lu)     # now differs: answered at once, with job
        self.assertLess(time.monotonic() - t0, 0.5)
        self.assertEqual(r.status, 201)

    def test_stop_releases_held_request(self):
        self.add_runner()
        lu = self.request_job().header("X-GitLab-Last-Update")
        threading.Timer(0.2, self.fake.stop).start()
        t0 = time.monotonic()
        try:
            self.request_job(last_update=lu)
        except (ConnectionError, http.client.HTTPException):
            pass
        self.assertLess(time.monotonic() - t0, 1.0)


class TestTrace(Base):
    def test_append_ranges_and_errors(self):
        job_id, tok = self.start_job()
        r = self.patch(job_id, tok, 0, b"hello")
        self.assertEqual(r.status, 202)
        self.assertEqual((r.header("Range"), r.header("Job-Status"),
                          r.header("X-GitLab-Trace-Update-Interval")), ("0-5", "running", "3"))
        for start in (0, 3, 7):
            r = self.patch(job_id, tok, start, b"again")
            self.assertEqual((r.status, r.header("Range")), (416, "0-5"))
        r = self.patch(job_id, tok, 5, b" world")
        self.assertEqual((r.status, r.header("Range")), (202, "0-11"))
        r = self.patch(job_id, tok, 11, b"!", content_range=False)
        self.assertEqual((r.status, r.json["message"]), (400, "400 Missing header Content-Range"))
        r = self.patch(job_id, "glcbt-wrong", 11, b"!")
        self.assertEqual((r.status, r.header("Job-Status")), (403, None))
        self.assertEqual(self.patch(99999, tok, 0, b"!").status, 403)
        r = self.call("PATCH", f"/api/v4/jobs/{job_id}/trace?token={tok}", body=b"!",
                      headers={"Content-Range": "11-11"})
        self.assertEqual(r.status, 202)
        job = self.fake.job(job_id)
        self.assertEqual((bytes(job.trace), job.patches, job.debug_trace),
                         (b"hello world!", 3, False))
        self.assertEqual(job.trace_checksum, crc32_checksum(b"hello world!"))

    def test_debug_trace_and_hidden_secrets(self):
        job_id, tok = self.start_job()
        data = f"token={tok} runner={RUNNER_TOKEN}\n".encode()
        self.assertEqual(self.patch(job_id, tok, 0, data, query="?debug_trace=true").status,
                         202)
        job = self.fake.job(job_id)
        self.assertTrue(job.debug_trace)
        self.assertEqual(bytes(job.raw_trace), data)
        self.assertEqual(len(job.trace), len(data))
        self.assertNotIn(tok.encode(), bytes(job.trace))
        self.assertNotIn(RUNNER_TOKEN.encode(), bytes(job.trace))

    def test_trace_not_stored(self):
        self.fake.set_config(trace_store=False)
        job_id, tok = self.start_job()
        self.assertEqual(self.patch(job_id, tok, 0, b"hello ").status, 202)
        self.assertEqual(self.patch(job_id, tok, 0, b"again").status, 416)
        self.assertEqual(self.patch(job_id, tok, 6, b"world").status, 202)
        job = self.fake.job(job_id)
        self.assertEqual((bytes(job.trace), bytes(job.raw_trace), job.trace_size, job.patches),
                         (b"", b"", 11, 2))
        self.assertEqual(job.trace_checksum, crc32_checksum(b"hello world"))

    def test_trace_size_limit(self):
        self.fake.set_config(trace_size_limit=10)
        job_id, tok = self.start_job()
        self.assertEqual(self.patch(job_id, tok, 0, b"0123456789").status, 202)
        self.assertEqual(self.patch(job_id, tok, 10, b"x").status, 403)
        job = self.fake.job(job_id)
        self.assertEqual((job.status, job.failure_reason), ("failed", "trace_size_exceeded"))
        r = self.patch(job_id, tok, 10, b"x")
        self.assertEqual((r.status, r.header("Job-Status")), (403, "failed"))

    def test_chunked_body_with_expect_continue_and_keepalive(self):
        job_id, tok = self.start_job()
        s = socket.create_connection(("127.0.0.1", self.fake.port), timeout=5)
        self.addCleanup(s.close)
        f = s.makefile("rb")
        head = (f"PATCH /api/v4/jobs/{job_id}/trace?debug_trace=false HTTP/1.1\r\n"
                f"Host: x\r\nJOB-TOKEN: {tok}\r\nContent-Range: 0-10\r\n"
                "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n").encode()
        s.sendall(head)
        self.assertEqual(f.readline(), b"HTTP/1.1 100 Continue\r\n")
        self.assertEqual(f.readline(), b"\r\n")
        s.sendall(b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: y\r\n\r\n")
        status, headers = _read_head(f)
        self.assertEqual(status, 202)
        self.assertEqual(headers["range"], "0-11")
        f.read(int(headers["content-length"]))
        # Same connection, plain Content-Length request.
        s.sendall((f"PATCH /api/v4/jobs/{job_id}/trace HTTP/1.1\r\nHost: x\r\n"
                   f"JOB-TOKEN: {tok}\r\nContent-Range: 11-11\r\nContent-Length: 1\r\n\r\n!")
                  .encode())
        status, headers = _read_head(f)
        self.assertEqual((status, headers["range"]), (202, "0-12"))
        self.assertEqual(bytes(self.fake.job(job_id).trace), b"hello world!")


def _read_head(f):
    status = int(f.readline().split()[1])
    headers = {}
    while True:
        line = f.readline().decode()
        if line in ("\r\n", ""):
            return status, headers
        k, v = line.split(":", 1)
        headers[k.strip().lower()] = v.strip()


class TestUpdate(Base):
    def test_heartbeat_and_validation(self):
        job_id, tok = self.start_job()
        r = self.put(job_id, tok, "running")
        self.assertEqual((r.status, r.body, r.header("Job-Status")), (200, b"200", "running"))
        self.assertIsNone(r.header("X-GitLab-Trace-Update-Interval"))
        self.assertEqual(self.call("PUT", f"/api/v4/jobs/{job_id}", {"state": "running"},
                                   headers={"JOB-TOKEN": tok}).status, 400)
        self.assertEqual(self.put(job_id, tok, "exploded").status, 400)
        self.assertEqual(self.put(job_id, tok, "failed", failure_reason="job_canceled").status,
                         400)
        self.assertEqual(self.put(job_id, tok, "failed", exit_code="two").status, 400)
        self.assertEqual(self.put(job_id, "glcbt-other", "running").status, 403)
        self.assertEqual(self.fake.job(job_id).status, "running")
        self.assertEqual(len(self.fake.job(job_id).updates), 1)

    def test_final_update_waits_for_complete_trace(self):
        job_id, tok = self.start_job()
        self.patch(job_id, tok, 0, b"hello")
        r = self.put(job_id, tok, "success", trace=b"hello world")
        self.assertEqual((r.status, r.body), (202, b"202"))
        self.assertEqual((r.header("X-GitLab-Trace-Update-Interval"), r.header("Job-Status")),
                         ("1", "running"))
        self.assertEqual(self.fake.job(job_id).status, "running")
        self.patch(job_id, tok, 5, b" world")
        r = self.put(job_id, tok, "success", trace=b"hello world")
        self.assertEqual((r.status, r.header("Job-Status")), (200, "success"))
        job = self.fake.job(job_id)
        self.assertEqual((job.status, job.final_state, job.checksum_ok, job.bytesize),
                         ("success", "success", True, 11))
        self.assertEqual(job.checksum, crc32_checksum(b"hello world"))
        r = self.put(job_id, tok, "success", trace=b"hello world")
        self.assertEqual((r.status, r.header("Job-Status")), (403, "success"))

    def test_bad_checksum_accepted_after_max_wait(self):
        self.fake.set_config(final_update_max_wait=0.4)
        job_id, tok = self.start_job()
        self.patch(job_id, tok, 0, b"hello")
        body = {"checksum": "crc32:deadbeef", "bytesize": 5}
        self.assertEqual(self.put(job_id, tok, "success", output=body).status, 202)
        time.sleep(0.5)
        self.assertEqual(self.put(job_id, tok, "success", output=body).status, 200)
        job = self.fake.job(job_id)
        self.assertEqual((job.status, job.checksum_ok), ("success", False))

    def test_forced_202_rounds(self):
        self.fake.set_config(final_update_202_rounds=2, final_update_interval=5)
        job_id, tok = self.start_job()
        self.patch(job_id, tok, 0, b"log")
        statuses = [self.put(job_id, tok, "success", trace=b"log") for _ in range(3)]
        self.assertEqual([r.status for r in statuses], [202, 202, 200])
        self.assertEqual(statuses[0].header("X-GitLab-Trace-Update-Interval"), "5")

    def test_failed_with_reason_and_exit_code(self):
        job_id, tok = self.start_job()
        r = self.put(job_id, tok, "failed", failure_reason="script_failure", exit_code=2)
        self.assertEqual((r.status, r.header("Job-Status")), (200, "failed"))
        job = self.fake.job(job_id)
        self.assertEqual((job.failure_reason, job.exit_code, job.checksum_ok),
                         ("script_failure", 2, None))
        job_id, tok = self.start_job()
        self.put(job_id, tok, "failed")
        self.assertEqual(self.fake.job(job_id).failure_reason, "unknown_failure")

    def test_backoff_schedule(self):
        self.assertEqual([backoff_seconds(s) for s in (0, 3.9, 4, 7, 8, 16, 32, 64, 128, 999)],
                         [1, 1, 2, 2, 4, 8, 16, 32, 64, 64])


class TestCancel(Base):
    def test_graceful_cancel(self):
        job_id, tok = self.start_job()       # runner announced cancel_gracefully
        self.assertEqual(self.fake.cancel_job(job_id).status, "canceling")
        r = self.patch(job_id, tok, 0, b"bye")
        self.assertEqual((r.status, r.header("Job-Status")), (202, "canceling"))
        self.assertEqual(self.put(job_id, tok, "running").header("Job-Status"), "canceling")
        r = self.put(job_id, tok, "failed", trace=b"bye", failure_reason="unknown_failure")
        self.assertEqual((r.status, r.header("Job-Status")), (200, "canceled"))
        self.assertEqual(self.fake.job(job_id).status, "canceled")

    def test_abort_cancel(self):
        self.add_runner()
        job_id = self.fake.enqueue_job(RUNNER_TOKEN)
        tok = self.request_job().json["token"]          # no cancel_gracefully
        self.assertEqual(self.fake.cancel_job(job_id).status, "canceled")
        for r in (self.patch(job_id, tok, 0, b"x"), self.put(job_id, tok, "running")):
            self.assertEqual((r.status, r.header("Job-Status")), (403, "canceled"))

    def test_cancel_after_patches(self):
        job_id, tok = self.start_job()
        self.fake.cancel_job(job_id, graceful=True, after_patches=2)
        self.assertEqual(self.patch(job_id, tok, 0, b"a").header("Job-Status"), "running")
        self.assertEqual(self.patch(job_id, tok, 1, b"b").header("Job-Status"), "canceling")

    def test_cancel_fault(self):
        job_id, tok = self.start_job()
        self.fake.inject_fault("trace", "cancel", after=1, graceful=False)
        r = self.patch(job_id, tok, 0, b"a")
        self.assertEqual((r.status, r.header("Job-Status")), (202, "canceled"))

    def test_cancel_queued_job_and_forced_status(self):
        self.add_runner()
        job_id = self.fake.enqueue_job(RUNNER_TOKEN)
        self.assertEqual(self.fake.cancel_job(job_id).status, "canceled")
        self.assertEqual(self.request_job().status, 204)
        job_id, tok = self.start_job()
        self.fake.set_job_status(job_id, "failed")
        r = self.put(job_id, tok, "running")
        self.assertEqual((r.status, r.header("Job-Status")), (403, "failed"))

    def test_expired_job_token(self):
        job_id, tok = self.start_job()
        self.fake.expire_job_token(job_id)
        r = self.patch(job_id, tok, 0, b"x")
        self.assertEqual((r.status, r.header("Job-Status")), (403, "failed"))
        self.assertIn("expired", r.json["message"])
        self.assertEqual(self.fake.job(job_id).failure_reason, "job_token_expired")


class TestArtifacts(Base):
    def upload(self, job_id, tok, files, fields=(), query="", headers=None, chunked=False):
        ctype, body = multipart.encode(fields, files)
        h = {"JOB-TOKEN": tok, "Content-Type": ctype, **(headers or {})}
        path = f"/api/v4/jobs/{job_id}/artifacts{query}"
        if chunked:
            self.conn.request("POST", path, body=iter([body[:10], body[10:]]), headers=h,
                              encode_chunked=True)
            r = self.conn.getresponse()
            return Resp(r, r.read())
        return self.call("POST", path, body=body, headers=h)

    def test_upload(self):
        job_id, tok = self.start_job()
        r = self.upload(job_id, tok, [("file", "widget-main.zip", b"PK\x03\x04zipdata")],
                        query="?artifact_format=zip&artifact_type=archive&expire_in=1+week")
        self.assertEqual((r.status, r.body), (201, b"201"))
        r = self.upload(job_id, tok, [("file", "junit.xml.gz", b"\x1f\x8bgz")],
                        fields=[("artifact_type", "junit"), ("artifact_format", "gzip")],
                        chunked=True)
        self.assertEqual(r.status, 201)
        arts = self.fake.job(job_id).artifacts
        self.assertEqual([(a.artifact_type, a.artifact_format, a.expire_in, a.filename, a.data)
                          for a in arts],
                         [("archive", "zip", "1 week", "widget-main.zip", b"PK\x03\x04zipdata"),
                          ("junit", "gzip", None, "junit.xml.gz", b"\x1f\x8bgz")])
        self.assertEqual(arts[1].fields, {"artifact_type": "junit", "artifact_format": "gzip"})

    def test_upload_errors(self):
        job_id, tok = self.start_job()
        f = [("file", "a.zip", b"PK")]
        self.assertEqual(self.upload(job_id, tok, []).status, 400)
        self.assertEqual(self.upload(job_id, tok, [("archive", "a.zip", b"PK")]).status, 400)
        self.assertEqual(self.upload(job_id, tok, f + f).status, 400)
        self.assertEqual(self.upload(job_id, tok, f, query="?artifact_type=nope").status, 400)
        self.assertEqual(self.upload(job_id, tok, f, query="?artifact_type=junit").status, 400)
        self.assertEqual(self.call("POST", f"/api/v4/jobs/{job_id}/artifacts", body=b"x",
                                   headers={"JOB-TOKEN": tok}).status, 400)
        self.assertEqual(self.upload(job_id, "glcbt-bad", f).status, 403)
        self.fake.set_config(artifacts_enabled=False)
        self.assertEqual(self.upload(job_id, tok, f).status, 405)
        self.put(job_id, tok, "success")
        r = self.upload(job_id, tok, f)
        self.assertEqual((r.status, r.header("Job-Status")), (403, "success"))

    def test_upload_too_large(self):
        self.fake.set_config(max_artifact_size=100, artifact_size_limits={"junit": 10})
        job_id, tok = self.start_job()
        self.assertEqual(self.upload(job_id, tok, [("file", "a.zip", b"x" * 100)]).status, 201)
        self.assertEqual(self.upload(job_id, tok, [("file", "a.zip", b"x" * 101)]).status, 413)
        self.assertEqual(self.upload(job_id, tok, [("file", "j.gz", b"x" * 11)],
                                     query="?artifact_type=junit&artifact_format=gzip").status,
                         413)

    def test_oversized_body_rejected_before_100_continue(self):
        job_id, tok = self.start_job()
        s = socket.create_connection(("127.0.0.1", self.fake.port), timeout=5)
        self.addCleanup(s.close)
        s.sendall((f"POST /api/v4/jobs/{job_id}/artifacts HTTP/1.1\r\nHost: x\r\n"
                   f"JOB-TOKEN: {tok}\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                   f"Content-Length: {1 << 30}\r\nExpect: 100-continue\r\n\r\n").encode())
        f = s.makefile("rb")
        status, headers = _read_head(f)
        self.assertEqual((status, headers["connection"]), (413, "close"))

    def test_download(self):
        self.add_runner()
        dep = self.fake.enqueue_job(None, queue=False, status="success", name="build")
        self.fake.add_artifact(dep, b"PK-archive-bytes", filename="artifacts.zip")
        nothing = self.fake.enqueue_job(None, queue=False, status="success")
        job_id, tok = self.start_job(payload={"dependencies": [{"id": dep}]})
        deps = self.fake.job(job_id).payload["dependencies"]
        self.assertEqual(deps, [{"id": dep, "name": "build", "token": tok,
                                 "artifacts_file": {"filename": "artifacts.zip", "size": 16}}])
        path = f"/api/v4/jobs/{dep}/artifacts"
        r = self.call("GET", path, headers={"JOB-TOKEN": tok})
        self.assertEqual((r.status, r.body), (200, b"PK-archive-bytes"))
        self.assertEqual(self.call("GET", path + "?direct_download=true",
                                   headers={"JOB-TOKEN": tok}).status, 200)
        self.assertEqual(self.call("GET", path).status, 401)
        self.assertEqual(self.call("GET", path, headers={"JOB-TOKEN": "glcbt-no"}).status, 403)
        self.assertEqual(self.call("GET", f"/api/v4/jobs/{nothing}/artifacts",
                                   headers={"JOB-TOKEN": tok}).status, 404)
        self.assertEqual(self.call("GET", "/api/v4/jobs/424242/artifacts",
                                   headers={"JOB-TOKEN": tok}).status, 404)
        self.fake.set_config(direct_download_redirect=True)
        r = self.call("GET", path + "?direct_download=true", headers={"JOB-TOKEN": tok})
        self.assertEqual(r.status, 302)
        loc = r.header("Location")
        self.assertTrue(loc.startswith(f"http://127.0.0.1:{self.fake.port}/__storage/"))
        with urllib.request.urlopen(f"{self.fake.api_url}/jobs/{dep}/artifacts?"
                                    f"direct_download=true&token={tok}") as followed:
            self.assertEqual(followed.read(), b"PK-archive-bytes")
        r = self.call("GET", "/__storage/00ff")
        self.assertEqual(r.status, 404)
        self.assertIn(b"<Code>NoSuchKey</Code>", r.body)
        # The requester's job must be running.
        self.put(job_id, tok, "success")
        self.assertEqual(self.call("GET", path, headers={"JOB-TOKEN": tok}).status, 403)


class TestFaults(Base):
    def test_status_fault_counts(self):
        self.add_runner()
        self.fake.inject_fault("request", "status", status=503, times=2)
        self.assertEqual([self.request_job().status for _ in range(3)], [503, 503, 204])
        recs = self.fake.requests(endpoint="request")
        self.assertEqual([(r.status, r.fault) for r in recs],
                         [(503, "status"), (503, "status"), (204, None)])
        self.assertEqual(recs[0].json()["token"], RUNNER_TOKEN)

    def test_status_fault_custom_body_headers_skip_and_job_filter(self):
        job_id, tok = self.start_job()
        self.fake.inject_fault("artifacts_upload", "status", status=307, skip=1, job_id=job_id,
                               headers={"Location": "http://localhost:1/x"}, body="moved",
                               content_type="text/plain")
        self.fake.inject_fault("trace", "status", status=500, job_id=job_id + 1)
        self.assertEqual(self.patch(job_id, tok, 0, b"ok").status, 202)
        ctype, body = multipart.encode(files=[("file", "a.zip", b"PK")])
        up = lambda: self.call("POST", f"/api/v4/jobs/{job_id}/artifacts", body=body,
                               headers={"JOB-TOKEN": tok, "Content-Type": ctype})
        self.assertEqual(up().status, 201)
        r = up()
        self.assertEqual((r.status, r.body, r.header("Location")),
                         (307, b"moved", "http://localhost:1/x"))
        self.assertEqual(up().status, 201)

    def test_throttle(self):
        self.add_runner()
        self.fake.inject_fault("*", "throttle", retry_after=7, ratelimit_reset=30, times=None,
                               method="POST")
        for path in ("/api/v4/jobs/request", "/api/v4/runners/verify"):
            r = self.call("POST", path, {"token": RUNNER_TOKEN})
            self.assertEqual((r.status, r.header("Retry-After")), (429, "7"))
            self.assertRegex(r.header("RateLimit-ResetTime"), r"GMT$")
            self.assertIn("migrations", r.json["message"])

    def test_hang_and_slow(self):
        self.add_runner()
        self.fake.inject_fault("verify", "hang", seconds=0.6)
        t0 = time.monotonic()
        r = self.call("POST", "/api/v4/runners/verify", {"token": RUNNER_TOKEN})
        self.assertGreaterEqual(time.monotonic() - t0, 0.6)
        self.assertEqual(r.status, 200)
        self.fake.inject_fault("verify", "slow", seconds=0.5)
        t0 = time.monotonic()
        r = self.call("POST", "/api/v4/runners/verify", {"token": RUNNER_TOKEN})
        self.assertGreaterEqual(time.monotonic() - t0, 0.45)
        self.assertEqual(r.json["token"], RUNNER_TOKEN)

    def test_reset_and_close(self):
        self.add_runner()
        self.fake.inject_fault("verify", "reset")
        with self.assertRaises(ConnectionResetError):
            self.call("POST", "/api/v4/runners/verify", {"token": RUNNER_TOKEN})
        self.conn.close()
        self.fake.inject_fault("verify", "close")
        with self.assertRaises(http.client.RemoteDisconnected):
            self.call("POST", "/api/v4/runners/verify", {"token": RUNNER_TOKEN})
        self.conn.close()
        self.assertEqual(self.call("POST", "/api/v4/runners/verify",
                                   {"token": RUNNER_TOKEN}).status, 200)
        recs = self.fake.requests(endpoint="verify")
        self.assertEqual([(r.status, r.fault) for r in recs],
                         [(None, "reset"), (None, "close"), (200, None)])

    def test_non_json_201(self):
        self.add_runner()
        job_id = self.fake.enqueue_job(RUNNER_TOKEN)
        self.fake.inject_fault("request", "non_json")
        r = self.request_job()
        self.assertEqual((r.status, r.header("Content-Type")), (201, "text/html; charset=utf-8"))
        self.assertEqual(self.fake.job(job_id).status, "running")

    def test_unexpected_requests(self):
        self.assertEqual(self.call("GET", "/api/v4/nope").status, 404)
        self.assertEqual(self.call("GET", "/api/v4/jobs/request").status, 404)
        self.assertEqual([(r.method, r.path) for r in self.fake.unexpected_requests()],
                         [("GET", "/api/v4/nope"), ("GET", "/api/v4/jobs/request")])

    def test_bad_fault_rejected(self):
        self.assertRaises(ValueError, self.fake.inject_fault, "nope", "status")
        self.assertRaises(ValueError, self.fake.inject_fault, "trace", "explode")
        self.assertRaises(KeyError, self.fake.inject_fault, "trace", "status", colour=1)


class TestHostile(Base):
    """The hostile-coordinator faults (fglib/hostile.py)."""

    def raw_request(self, path, body, timeout=10):
        """POST over a bare socket, which is returned for reading the answer."""
        sock = socket.create_connection(("127.0.0.1", self.fake.port), timeout=timeout)
        self.addCleanup(sock.close)
        data = json.dumps(body).encode()
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n".encode() + data)
        return sock

    def test_bad_job_shapes_with_a_job(self):
        self.add_runner()
        for shape in ("truncated", "array", "deep"):
            job_id = self.fake.enqueue_job(RUNNER_TOKEN)
            self.fake.inject_fault("request", "bad_job", shape=shape, depth=5000)
            r = self.request_job()
            self.assertEqual((r.status, r.header("Content-Type")), (201, "application/json"))
            self.assertTrue(self.fake.job(job_id).assigned)
            if shape == "truncated":
                self.assertRaises(ValueError, json.loads, r.body)
                self.assertTrue(r.body.startswith(f'{{"id": {job_id}, "token": "'.encode()))
            elif shape == "array":
                self.assertEqual(json.loads(r.body)[0]["id"], job_id)
            else:
                self.assertTrue(r.body.endswith(b"[" * 5000 + b"]" * 5000 + b"}"))
                self.assertRaises(RecursionError, json.loads, r.body)
        self.assertEqual([x.fault for x in self.fake.requests(endpoint="request")],
                         ["bad_job"] * 3)

    def test_bad_job_without_a_job(self):
        self.add_runner()
        self.fake.inject_fault("request", "bad_job", shape="deep", depth=200000)
        self.fake.inject_fault("request", "bad_job", shape="array", times=None)
        self.assertEqual(self.request_job().body, b"[" * 200000 + b"]" * 200000)
        self.assertEqual(self.request_job().body, b"[]")
        self.fake.clear_faults()
        self.fake.inject_fault("request", "bad_job", shape="truncated", cut=10)
        self.assertEqual(self.request_job().body, b'{"allow_gi')
        self.assertRaises(ValueError, self.fake.inject_fault, "request", "bad_job", shape="x")

    def test_range416(self):
        job_id, tok = self.start_job()
        self.assertRaises(ValueError, self.fake.inject_fault, "update", "range416")
        self.assertRaises(ValueError, self.fake.inject_fault, "trace", "range416", range="x")
        want = {"missing": None, "garbage": "bytes=banana", "beyond": "0-1000005"}
        for kind, rng in want.items():
            self.fake.inject_fault("trace", "range416", range=kind)
            r = self.patch(job_id, tok, 0, b"hello")
            self.assertEqual((r.status, r.header("Range")), (416, rng))
        self.assertEqual(self.patch(job_id, tok, 0, b"hello").status, 202)
        self.assertEqual(bytes(self.fake.job(job_id).trace), b"hello")

    def test_endless_body(self):
        self.add_runner()
        self.fake.inject_fault("request", "endless", seconds=5)
        sock = self.raw_request("/api/v4/jobs/request", {"token": RUNNER_TOKEN})
        got = b""
        while len(got) < 4 * 1024 * 1024:
            got += sock.recv(1 << 20)
        self.assertTrue(got.startswith(b"HTTP/1.1 201 "))
        self.assertIn(b"Transfer-Encoding: chunked", got)
        sock.close()
        recs = self.fake.wait_for_requests(1, endpoint="request")
        self.assertEqual((recs[0].status, recs[0].fault), (201, "endless"))

    def test_slowloris(self):
        self.add_runner()
        self.fake.inject_fault("request", "slowloris", mode="headers", interval=0.02, seconds=3)
        sock = self.raw_request("/api/v4/jobs/request", {"token": RUNNER_TOKEN})
        t0, got = time.monotonic(), b""
        while time.monotonic() - t0 < 1.0:
            got += sock.recv(100)
        self.assertTrue(got.startswith(b"HTTP/1.1 200 OK\r\nX-Slow: s"), got)
        self.assertLess(len(got), 100)    # a byte at a time: about 50 in 1 s
        self.assertNotIn(b"\r\n\r\n", got)
        sock.close()
        self.fake.inject_fault("request", "slowloris", interval=0.005, seconds=30)
        t0 = time.monotonic()
        r = self.request_job()      # the whole answer, slowly
        self.assertEqual(r.status, 204)
        self.assertGreater(time.monotonic() - t0, 100 * 0.005)

    def test_header_flood(self):
        self.add_runner()
        self.fake.inject_fault("request", "header_flood", count=3000, size=50)
        sock = self.raw_request("/api/v4/jobs/request", {"token": RUNNER_TOKEN})
        got = b""
        while b"\r\n\r\n" not in got:
            got += sock.recv(1 << 16)
        self.assertTrue(got.startswith(b"HTTP/1.1 204 "))
        self.assertEqual(got.count(b"X-Flood: " + b"f" * 50 + b"\r\n"), 3000)


def ctl(fake, method, path, body=None):
    """Call the control API; returns (status, parsed JSON or raw bytes)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(fake.url + "/__control" + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, raw, ctype = r.status, r.read(), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        status, raw, ctype = e.code, e.read(), e.headers.get("Content-Type")
    return status, json.loads(raw) if ctype == "application/json" else raw


class TestControlAPI(Base):
    def test_full_flow(self):
        fk = self.fake
        self.assertEqual(ctl(fk, "GET", "/health")[1]["port"], fk.port)
        st, cfg = ctl(fk, "PATCH", "/config", {"trace_update_interval": 9})
        self.assertEqual((st, cfg["trace_update_interval"]), (200, 9))
        st, runner = ctl(fk, "POST", "/runners", {"token": RUNNER_TOKEN, "tags": ["a"]})
        self.assertEqual((st, runner["token"], runner["tags"]), (200, RUNNER_TOKEN, ["a"]))
        self.assertEqual(ctl(fk, "GET", f"/runners/{runner['id']}")[1]["token"], RUNNER_TOKEN)
        st, job = ctl(fk, "POST", "/jobs", {"runner": RUNNER_TOKEN, "script": ["true"],
                                            "variables": [{"key": "A", "value": "1",
                                                           "masked": True}],
                                            "payload": {"job_info": {"name": "ctl"}}})
        self.assertEqual((st, job["status"]), (200, "pending"))
        self.assertEqual(job["payload"]["job_info"]["name"], "ctl")
        self.assertEqual(job["payload"]["variables"][-1],
                         {"key": "A", "value": "1", "public": True, "masked": True})
        tok = self.request_job().json["token"]
        r = self.patch(job["id"], tok, 0, b"line\n")
        self.assertEqual(r.header("X-GitLab-Trace-Update-Interval"), "9")
        st, got = ctl(fk, "GET", f"/jobs/{job['id']}")
        self.assertEqual((got["status"], got["trace"], got["patches"]), ("running", "line\n", 1))
        self.assertEqual(ctl(fk, "GET", f"/jobs/{job['id']}/trace")[1], b"line\n")
        st, reqs = ctl(fk, "GET", "/requests?endpoint=trace")
        self.assertEqual(len(reqs["requests"]), 1)
        self.assertEqual(reqs["requests"][0]["body_text"], "line\n")
        self.assertEqual(ctl(fk, "POST", "/requests/wait",
                             {"endpoint": "request", "count": 1})[0], 200)
        st, fault = ctl(fk, "POST", "/faults", {"endpoint": "trace", "kind": "status",
                                                "status": 502})
        self.assertEqual((st, fault["kind"]), (200, "status"))
        self.assertEqual(self.patch(job["id"], tok, 5, b"x").status, 502)
        st, c = ctl(fk, "POST", f"/jobs/{job['id']}/cancel", {"graceful": True})
        self.assertEqual(c["status"], "canceling")
        self.assertEqual(self.patch(job["id"], tok, 5, b"x").header("Job-Status"), "canceling")
        self.put(job["id"], tok, "failed")
        st, w = ctl(fk, "POST", f"/jobs/{job['id']}/wait", {"status": "canceled", "timeout": 2})
        self.assertEqual((st, w["status"]), (200, "canceled"))
        st, a = ctl(fk, "POST", f"/jobs/{job['id']}/artifacts", {"data": "zipzip"})
        self.assertEqual((st, a["size"]), (200, 6))
        self.assertEqual(ctl(fk, "GET", f"/jobs/{job['id']}/artifacts/0")[1], b"zipzip")
        self.assertEqual(len(ctl(fk, "GET", "/faults")[1]["faults"]), 1)
        self.assertEqual(ctl(fk, "DELETE", "/faults")[0], 200)
        self.assertEqual(ctl(fk, "GET", "/faults")[1]["faults"], [])
        self.assertEqual(ctl(fk, "DELETE", "/requests")[0], 200)
        self.assertEqual(ctl(fk, "GET", "/requests")[1]["requests"], [])
        self.assertEqual(ctl(fk, "POST", "/reset")[0], 200)
        self.assertEqual(ctl(fk, "GET", "/runners")[1]["runners"], [])
        self.assertEqual(ctl(fk, "GET", "/config")[1]["trace_update_interval"], 3)

    def test_errors_and_wait_timeout(self):
        fk = self.fake
        self.assertEqual(ctl(fk, "GET", "/nope")[0], 404)
        self.assertEqual(ctl(fk, "GET", "/jobs/5")[0], 404)
        self.assertEqual(ctl(fk, "PATCH", "/config", {"bogus": 1})[0], 400)
        self.assertEqual(ctl(fk, "POST", "/jobs", {"runner": "nobody"})[0], 400)
        self.assertEqual(ctl(fk, "POST", "/faults", {"endpoint": "trace"})[0], 400)
        ctl(fk, "POST", "/runners", {"token": RUNNER_TOKEN})
        job = ctl(fk, "POST", "/jobs", {"runner": RUNNER_TOKEN})[1]
        st, body = ctl(fk, "POST", f"/jobs/{job['id']}/wait", {"timeout": 0.2})
        self.assertEqual((st, body["error"], body["job"]["status"]), (408, "timeout", "pending"))
        self.assertEqual(ctl(fk, "POST", "/requests/wait", {"timeout": 0.2})[0], 408)
        self.assertEqual(self.fake.requests(), [])   # control calls are not recorded

    def test_shutdown(self):
        other = FakeGitLab().start()
        self.addCleanup(other.stop)
        self.assertEqual(ctl(other, "POST", "/shutdown")[1], {"ok": True})
        self.assertTrue(other.wait(5))


class TestRemoteIncludes(Base):
    """Repository files, releases, CI templates and /remote/ files (crunner exec includes)."""

    def setUp(self):
        super().setUp()
        self.fake.add_project("Group/Tools", files={"main": {"ci/a.yml": "a: 1\n"},
                                                    "v2": {"ci/a.yml": "a: 2\n"}},
                              releases=[{"tag_name": "1.0.0", "released_at": "2024-01-01"},
                                        {"tag_name": "1.1.0", "released_at": "2024-02-01"}])
        self.fake.add_project("group/secret", files={"main": {"s.yml": "s: 1\n"}},
                              private=True)
        self.fake.add_template("Bash", "bash: {script: [true]}\n")
        self.fake.add_remote_file("x/y.yml", "y: 1\n")

    def test_repository_file_by_encoded_path_and_ref(self):
        r = self.call("GET", "/api/v4/projects/group%2Ftools/repository/files/ci%2Fa.yml/raw"
                      "?ref=v2")
        self.assertEqual((r.status, r.body), (200, b"a: 2\n"))
        r = self.call("GET", "/api/v4/projects/group%2Ftools/repository/files/ci%2Fa.yml/raw"
                      "?ref=HEAD")
        self.assertEqual((r.status, r.body), (200, b"a: 1\n"))
        rec = self.fake.requests(endpoint="repository_file")
        self.assertEqual(len(rec), 2)

    def test_missing_file_ref_and_project(self):
        base = "/api/v4/projects/group%2Ftools/repository/files/"
        r = self.call("GET", base + "nope.yml/raw?ref=main")
        self.assertEqual((r.status, r.json), (404, {"message": "404 File Not Found"}))
        r = self.call("GET", base + "ci%2Fa.yml/raw?ref=nobranch")
        self.assertEqual((r.status, r.json), (404, {"message": "404 Commit Not Found"}))
        r = self.call("GET", "/api/v4/projects/no%2Fsuch/repository/files/a.yml/raw?ref=main")
        self.assertEqual((r.status, r.json), (404, {"message": "404 Project Not Found"}))

    def test_private_project_needs_a_valid_token(self):
        path = "/api/v4/projects/group%2Fsecret/repository/files/s.yml/raw?ref=main"
        self.assertEqual(self.call("GET", path).status, 404)
        r = self.call("GET", path, headers={"PRIVATE-TOKEN": "wrong"})
        self.assertEqual((r.status, r.json), (401, {"message": "401 Unauthorized"}))
        r = self.call("GET", path, headers={"PRIVATE-TOKEN": "glpat-fakegitlabReadToken"})
        self.assertEqual((r.status, r.body), (200, b"s: 1\n"))

    def test_releases_newest_first(self):
        r = self.call("GET", "/api/v4/projects/group%2Ftools/releases?per_page=100")
        self.assertEqual(r.status, 200)
        self.assertEqual([x["tag_name"] for x in r.json], ["1.1.0", "1.0.0"])

    def test_template_and_remote_file(self):
        r = self.call("GET", "/api/v4/templates/gitlab_ci_ymls/Bash")
        self.assertEqual((r.status, r.json["content"]), (200, "bash: {script: [true]}\n"))
        self.assertEqual(self.call("GET", "/api/v4/templates/gitlab_ci_ymls/No").status, 404)
        r = self.call("GET", "/remote/x/y.yml")
        self.assertEqual((r.status, r.body), (200, b"y: 1\n"))
        self.assertEqual(self.call("GET", "/remote/x/z.yml").status, 404)

    def test_faults_apply_to_the_new_endpoints(self):
        self.fake.inject_fault("remote_file", "status", status=503)
        self.assertEqual(self.call("GET", "/remote/x/y.yml").status, 503)
        self.assertEqual(self.call("GET", "/remote/x/y.yml").status, 200)

    def test_control_api_and_content_dir(self):
        r = self.call("POST", "/__control/templates", json_body={"name": "T", "content": "t: 1"})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.call("GET", "/api/v4/templates/gitlab_ci_ymls/T").json["content"],
                         "t: 1")
        from fglib.repo_api import load_content_dir
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "projects/g/sub/p/refs/main/templates"))
            with open(os.path.join(d, "projects/g/sub/p/refs/main/templates/c.yml"), "w") as f:
                f.write("c: 1\n")
            with open(os.path.join(d, "projects/g/sub/p/project.json"), "w") as f:
                json.dump({"private": True}, f)
            os.makedirs(os.path.join(d, "templates"))
            with open(os.path.join(d, "templates/Go.gitlab-ci.yml"), "w") as f:
                f.write("go: 1\n")
            seed = load_content_dir(d)
        self.assertEqual(seed["projects"], [{"path": "g/sub/p", "private": True,
                                             "files": {"main": {"templates/c.yml": "c: 1\n"}}}])
        self.assertEqual(seed["templates"], {"Go": "go: 1\n"})


class TestCLI(unittest.TestCase):
    SCRIPT = os.path.join(HERE, "fakegitlab.py")

    def start(self, *args):
        p = subprocess.Popen([sys.executable, self.SCRIPT, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait(),
                                 p.stdout.close(), p.stderr.close()))
        return p

    def test_cli_port_file_config_and_sigterm(self):
        with tempfile.TemporaryDirectory() as tmp:
            cfg = os.path.join(tmp, "cfg.json")
            with open(cfg, "w") as f:
                json.dump({"trace_update_interval": 7, "runners": [{"token": RUNNER_TOKEN}],
                           "jobs": [{"runner": RUNNER_TOKEN, "script": "echo seeded"}]}, f)
            port_file = os.path.join(tmp, "port")
            p = self.start("--port-file", port_file, "--config", cfg, "--long-poll", "2")
            line = p.stdout.readline()
            m = re.fullmatch(r"fakegitlab listening on http://127\.0\.0\.1:(\d+)\n", line)
            self.assertIsNotNone(m, line)
            with open(port_file) as f:
                self.assertEqual(f.read().strip(), m.group(1))
            fake = type("Addr", (), {"url": f"http://127.0.0.1:{m.group(1)}"})
            cfg_now = ctl(fake, "GET", "/config")[1]
            self.assertEqual((cfg_now["trace_update_interval"], cfg_now["long_poll"]), (7, 2.0))
            jobs = ctl(fake, "GET", "/jobs?payload=1")[1]["jobs"]
            self.assertEqual(jobs[0]["payload"]["steps"][0]["script"], ["echo seeded"])
            p.send_signal(signal.SIGTERM)
            self.assertEqual(p.wait(5), 0)

    def test_cli_shutdown_and_loopback_only(self):
        p = self.start()
        port = re.search(r":(\d+)$", p.stdout.readline().strip()).group(1)
        fake = type("Addr", (), {"url": f"http://127.0.0.1:{port}"})
        ctl(fake, "POST", "/shutdown")
        self.assertEqual(p.wait(5), 0)
        bad = self.start("--host", "0.0.0.0")
        self.assertEqual(bad.wait(5), 2)
        self.assertIn("loopback", bad.stderr.read())


class TestMultipart(unittest.TestCase):
    def test_parse(self):
        body = (b"preamble\r\n--XyZ\r\n"
                b'Content-Disposition: form-data; name="file"; filename="a \\"b\\";c.zip"\r\n'
                b"Content-Type: application/zip\r\n\r\nPK\r\n--not-the-boundary\r\n--XyZ\r\n"
                b"Content-Disposition: form-data; name=\"e\"; filename*=UTF-8''%C3%A9.txt\r\n"
                b"\r\n\r\n--XyZ  \r\n"
                b'Content-Disposition: form-data; name="expire_in"\r\n\r\n1 day\r\n'
                b"--XyZ--\r\nepilogue")
        parts = multipart.parse(body, 'multipart/form-data; boundary="XyZ"')
        self.assertEqual([(p.name, p.filename, p.data) for p in parts],
                         [("file", 'a "b";c.zip', b"PK\r\n--not-the-boundary"),
                          ("e", "\u00e9.txt", b""), ("expire_in", None, b"1 day")])
        self.assertEqual(parts[0].content_type, "application/zip")

    def test_errors(self):
        for body, ctype in [(b"--b\r\n\r\nx", "multipart/form-data; boundary=b"),
                            (b"x", "text/plain"),
                            (b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx",
                             "multipart/form-data; boundary=b"),
                            (b"--b\r\nContent-Type: a\r\n\r\nx\r\n--b--",
                             "multipart/form-data; boundary=b")]:
            with self.assertRaises(multipart.MultipartError):
                multipart.parse(body, ctype)

    def test_roundtrip(self):
        ctype, body = multipart.encode([("a", "1")], [("file", "f.bin", b"\x00\xff")])
        parts = multipart.parse(body, ctype)
        self.assertEqual([(p.name, p.filename, p.data) for p in parts],
                         [("a", None, b"1"), ("file", "f.bin", b"\x00\xff")])


if __name__ == "__main__":
    unittest.main()
