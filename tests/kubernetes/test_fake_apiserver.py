#!/usr/bin/env python3
"""Tests of the fake Kubernetes API server (tests/kubernetes/README.md).

Run: python3 tests/kubernetes/test_fake_apiserver.py   (exit 77: no docker)
Needs docker with the crunner-test/busybox image (scripts/docker-test-env.sh).
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import kclient  # noqa: E402

IMAGE = os.environ.get("K8SFAKE_TEST_IMAGE", "crunner-test/busybox")
TOKEN = "test-token-123"
NS = "ci"
SKIP = 77


def docker_ready():
    try:
        r = subprocess.run(["docker", "image", "inspect", IMAGE],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=30)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Fake:
    """A fake_apiserver.py process in a temporary directory."""

    def __init__(self, *extra):
        self.dir = tempfile.mkdtemp(prefix="k8sfake-test-")
        self.record = os.path.join(self.dir, "requests.jsonl")
        self.instance = "t" + os.urandom(4).hex()
        port_file = os.path.join(self.dir, "port")
        admin_file = os.path.join(self.dir, "admin")
        self.log = open(os.path.join(self.dir, "fake.log"), "w")
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fake_apiserver.py"),
             "--token", TOKEN, "--port-file", port_file,
             "--admin-port-file", admin_file, "--record", self.record,
             "--namespace", NS, "--instance", self.instance] + list(extra),
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and os.path.exists(admin_file)):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("fake did not start: " + open(
                    os.path.join(self.dir, "fake.log")).read())
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        with open(admin_file) as f:
            self.admin = int(f.read())

    def admin_call(self, method, path):
        req = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.admin, path), method=method,
            data=b"" if method == "POST" else None)
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def requests(self):
        with open(self.record) as f:
            return [json.loads(line) for line in f]


FAKE = None
API = None


def setUpModule():
    global FAKE, API
    FAKE = Fake("--namespace", "quota",
                "--quota", "quota/compute=limits.memory=1Gi,pods=5")
    API = kclient.Api(FAKE.port, TOKEN)


def tearDownModule():
    # A running pod at exit: SIGTERM must remove its containers.
    create(pod_spec("survivor", [{"name": "main", "image": IMAGE,
                                  "command": ["sleep", "300"]}]))
    wait_phase("survivor", ["Running"])
    label = "label=k8sfake=" + FAKE.instance

    def ours():
        return subprocess.run(["docker", "ps", "-aq", "--filter", label],
                              stdout=subprocess.PIPE, text=True).stdout.split()
    before = ours()
    FAKE.stop()
    after = ours()
    shutil.rmtree(FAKE.dir, ignore_errors=True)
    assert before, "no container ran before SIGTERM: the check proves nothing"
    assert not after, "containers left behind after SIGTERM: %s" % after


def pods(ns=NS):
    return "/api/v1/namespaces/%s/pods" % ns


def pod_spec(name, containers, volumes=None, **spec):
    body = {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"test": "fake"}},
            "spec": dict(containers=containers, restartPolicy="Never",
                         **spec)}
    if volumes is not None:
        body["spec"]["volumes"] = volumes
    return body


def wait_for(check, timeout=30, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def get_pod(name):
    code, pod, _ = API.get(pods() + "/" + name)
    return pod if code == 200 else None


def wait_phase(name, phases, timeout=30):
    return wait_for(lambda: (get_pod(name) or {}).get("status", {}).get(
        "phase") in phases and get_pod(name), timeout,
        "pod %s phase in %s" % (name, phases))


def create(body, ns=NS):
    code, obj, _ = API.post(pods(ns), body)
    if code != 201:
        raise AssertionError("create: %d %s" % (code, obj))
    return obj


class AuthAndDiscovery(unittest.TestCase):
    def test_wrong_token_is_401_status(self):
        code, body, _ = API.get(pods(), token="nope")
        self.assertEqual(code, 401)
        self.assertEqual(body["kind"], "Status")
        self.assertEqual(body["reason"], "Unauthorized")

    def test_anonymous_may_read_version_only(self):
        code, body, _ = API.get("/version", token=False)
        self.assertEqual(code, 200)
        self.assertIn("gitVersion", body)
        code, body, _ = API.get(pods(), token=False)
        self.assertEqual(code, 403)
        self.assertIn("system:anonymous", body["message"])

    def test_discovery(self):
        code, body, _ = API.get("/api")
        self.assertEqual(body["versions"], ["v1"])
        code, body, _ = API.get("/api/v1")
        names = [r["name"] for r in body["resources"]]
        for want in ("pods", "pods/log", "pods/exec", "pods/attach",
                     "secrets", "configmaps", "events", "namespaces"):
            self.assertIn(want, names)

    def test_unknown_namespace_is_404(self):
        code, body, _ = API.post(pods("nope"), pod_spec(
            "x", [{"name": "a", "image": IMAGE}]))
        self.assertEqual(code, 404)
        self.assertEqual(body["message"], 'namespaces "nope" not found')


class Validation(unittest.TestCase):
    def assert_invalid(self, body, field, reason):
        code, obj, _ = API.post(pods(), body)
        self.assertEqual(code, 422, obj)
        self.assertEqual(obj["reason"], "Invalid")
        causes = {(c["field"], c["reason"]) for c in obj["details"]["causes"]}
        self.assertIn((field, reason), causes, obj)
        return obj

    def test_containers_required(self):
        self.assert_invalid(pod_spec("v1", []), "spec.containers",
                            "FieldValueRequired")

    def test_name_must_be_dns_subdomain(self):
        obj = self.assert_invalid(
            pod_spec("Bad_Name", [{"name": "a", "image": IMAGE}]),
            "metadata.name", "FieldValueInvalid")
        self.assertIn('Pod "Bad_Name" is invalid', obj["message"])

    def test_container_names_unique_and_image_required(self):
        body = pod_spec("v2", [{"name": "a", "image": IMAGE},
                               {"name": "a"}])
        code, obj, _ = API.post(pods(), body)
        causes = {(c["field"], c["reason"]) for c in obj["details"]["causes"]}
        self.assertIn(("spec.containers[1].name", "FieldValueDuplicate"),
                      causes)
        self.assertIn(("spec.containers[1].image", "FieldValueRequired"),
                      causes)

    def test_volume_mount_must_name_a_volume(self):
        self.assert_invalid(pod_spec("v3", [{
            "name": "a", "image": IMAGE,
            "volumeMounts": [{"name": "nope", "mountPath": "/x"}]}]),
            "spec.containers[0].volumeMounts[0].name", "FieldValueNotFound")

    def test_restart_policy_values(self):
        body = pod_spec("v4", [{"name": "a", "image": IMAGE}])
        body["spec"]["restartPolicy"] = "Sometimes"
        self.assert_invalid(body, "spec.restartPolicy",
                            "FieldValueNotSupported")

    def test_label_value_checked(self):
        body = pod_spec("v5", [{"name": "a", "image": IMAGE}])
        body["metadata"]["labels"] = {"project": "my project!"}
        self.assert_invalid(body, "metadata.labels", "FieldValueInvalid")

    def test_request_above_limit(self):
        self.assert_invalid(pod_spec("v6", [{
            "name": "a", "image": IMAGE, "resources": {
                "requests": {"memory": "2Gi"}, "limits": {"memory": "1Gi"}}}]),
            "spec.containers[0].resources.requests", "FieldValueInvalid")

    def test_bad_quantity_is_400(self):
        code, obj, _ = API.post(pods(), pod_spec("v7", [{
            "name": "a", "image": IMAGE,
            "resources": {"limits": {"cpu": "lots"}}}]))
        self.assertEqual(code, 400)
        self.assertIn("quantities must match", obj["message"])

    def test_content_type_checked(self):
        code, obj, _ = API.post(pods(), json.dumps(pod_spec(
            "ct", [{"name": "a", "image": IMAGE}])),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(code, 415)
        self.assertEqual(obj["reason"], "UnsupportedMediaType")

    def test_wrong_type_is_400(self):
        code, obj, _ = API.post(pods(), pod_spec("v8", [{
            "name": "a", "image": IMAGE, "stdin": "yes"}]))
        self.assertEqual(code, 400)
        self.assertIn("cannot unmarshal string into Go struct field "
                      "Container.spec.containers.stdin of type bool",
                      obj["message"])

    def test_unknown_field_strict_and_warn(self):
        body = pod_spec("v9", [{"name": "a", "image": IMAGE,
                                "comand": ["x"]}])
        code, obj, _ = API.post(pods(), body)
        self.assertEqual(code, 400)
        self.assertIn('unknown field "spec.containers[0].comand"',
                      obj["message"])
        code, obj, resp = API.post(pods() + "?fieldValidation=Warn&dryRun=All",
                                   body)
        self.assertEqual(code, 201, obj)
        self.assertIn("unknown field", resp.getheader("Warning"))

    def test_generate_name_and_defaults(self):
        body = pod_spec("", [{"name": "a", "image": IMAGE + ":1.0"}])
        del body["metadata"]["name"]
        body["metadata"]["generateName"] = "runner-"
        code, obj, _ = API.post(pods() + "?dryRun=All", body)
        self.assertEqual(code, 201, obj)
        self.assertRegex(obj["metadata"]["name"], r"^runner-[a-z0-9]{5}$")
        self.assertEqual(obj["spec"]["containers"][0]["imagePullPolicy"],
                         "IfNotPresent")
        self.assertEqual(obj["spec"]["serviceAccountName"], "default")
        self.assertEqual(obj["status"]["phase"], "Pending")

    def test_unknown_service_account_is_forbidden(self):
        body = pod_spec("v10", [{"name": "a", "image": IMAGE}],
                        serviceAccountName="builder")
        code, obj, _ = API.post(pods(), body)
        self.assertEqual(code, 403)
        self.assertIn('serviceaccount "builder" not found', obj["message"])


class Quota(unittest.TestCase):
    def test_resource_quota_admission(self):
        code, obj, _ = API.post(pods("quota"), pod_spec(
            "q1", [{"name": "build", "image": IMAGE}]))
        self.assertEqual(code, 403)
        self.assertEqual(obj["message"], 'pods "q1" is forbidden: failed '
                         'quota: compute: must specify limits.memory for: '
                         'build')
        code, obj, _ = API.post(pods("quota"), pod_spec("q2", [{
            "name": "build", "image": IMAGE,
            "resources": {"limits": {"memory": "2Gi"}}}]))
        self.assertEqual(code, 403)
        self.assertEqual(obj["message"], 'pods "q2" is forbidden: exceeded '
                         'quota: compute, requested: limits.memory=2Gi, used: '
                         'limits.memory=0, limited: limits.memory=1Gi')
        code, obj, _ = API.post(pods("quota") + "?dryRun=All", pod_spec(
            "q3", [{"name": "build", "image": IMAGE,
                    "resources": {"limits": {"memory": "512Mi"}}}]))
        self.assertEqual(code, 201, obj)


class SecretsAndConfigMaps(unittest.TestCase):
    def test_secret_lifecycle(self):
        path = "/api/v1/namespaces/%s/secrets" % NS
        body = {"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "creds"}, "type": "Opaque",
                "stringData": {"user": "me"}, "data": {"pw": "c2VjcmV0"}}
        code, obj, _ = API.post(path, body)
        self.assertEqual(code, 201, obj)
        self.assertEqual(obj["data"]["user"], "bWU=")
        self.assertNotIn("stringData", obj)
        code, dup, _ = API.post(path, body)
        self.assertEqual(code, 409)
        self.assertEqual(dup["reason"], "AlreadyExists")
        # update needs the current resourceVersion
        stale = dict(obj, data={"pw": "eA=="})
        stale["metadata"] = dict(obj["metadata"], resourceVersion="1")
        code, conflict, _ = API.request("PUT", path + "/creds", stale)
        self.assertEqual(code, 409)
        self.assertEqual(conflict["reason"], "Conflict")
        code, upd, _ = API.request("PUT", path + "/creds",
                                   dict(obj, data={"pw": "eA=="}))
        self.assertEqual(code, 200, upd)
        code, gone, _ = API.delete(path + "/creds")
        self.assertEqual((code, gone["status"]), (200, "Success"))
        code, _, _ = API.delete(path + "/creds")
        self.assertEqual(code, 404)

    def test_secret_data_must_be_base64(self):
        code, obj, _ = API.post("/api/v1/namespaces/%s/secrets" % NS, {
            "metadata": {"name": "bad"}, "data": {"k": "not base64!"}})
        self.assertEqual(code, 400)
        self.assertIn("illegal base64 data", obj["message"])

    def test_configmap_create_get(self):
        path = "/api/v1/namespaces/%s/configmaps" % NS
        code, obj, _ = API.post(path, {"metadata": {"name": "scripts"},
                                       "data": {"a.sh": "echo hi"}})
        self.assertEqual(code, 201, obj)
        code, obj, _ = API.get(path + "/scripts")
        self.assertEqual(obj["data"]["a.sh"], "echo hi")
        self.assertEqual(API.post(path, {"metadata": {"name": "scripts"}})[0],
                         409)


def ws_exec(name, command, container=None, stdin_data=None,
            protocol="v5.channel.k8s.io", half_close=True):
    ws, chosen = API.websocket(kclient.exec_path(
        NS, name, command, container=container,
        stdin=stdin_data is not None), [protocol])
    if stdin_data is not None:
        ws.send_channel(0, stdin_data)
        if half_close and chosen.startswith("v5"):
            ws.send_channel(255, b"\x00")
    return chosen, ws.collect(base64_protocol="base64" in chosen)


class RunningPods(unittest.TestCase):
    """One pod with two containers sharing an emptyDir, used by several
    checks, then deleted."""

    @classmethod
    def setUpClass(cls):
        cls.name = "shared"
        create(pod_spec(cls.name, [
            {"name": "build", "image": IMAGE, "stdin": True,
             "command": ["sh", "-c",
                         "echo started >/work/mark; echo to-stdout; "
                         "echo to-stderr >&2; while read l; do eval \"$l\"; "
                         "done"],
             "volumeMounts": [{"name": "work", "mountPath": "/work"}]},
            {"name": "helper", "image": IMAGE,
             "command": ["sleep", "300"],
             "env": [{"name": "POD", "valueFrom": {"fieldRef": {
                 "fieldPath": "metadata.name"}}}],
             "volumeMounts": [{"name": "work", "mountPath": "/data"}]}],
            volumes=[{"name": "work", "emptyDir": {}}]))
        wait_phase(cls.name, ["Running"])
        wait_for(lambda: all(c["ready"] for c in get_pod(
            cls.name)["status"]["containerStatuses"]), what="ready")

    def test_a_status_when_running(self):
        pod = get_pod(self.name)
        conds = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
        self.assertEqual(conds["Ready"], "True")
        self.assertEqual(conds["PodScheduled"], "True")
        self.assertEqual(pod["spec"]["nodeName"], "fake-node")
        for cs in pod["status"]["containerStatuses"]:
            self.assertIn("running", cs["state"])
            self.assertTrue(cs["containerID"].startswith("docker://"))

    def test_exec_v5_stdin_and_shared_volume(self):
        chosen, out = ws_exec(self.name, ["sh", "-c", "cat; cat /data/mark"],
                              container="helper", stdin_data=b"from-stdin\n")
        self.assertEqual(chosen, "v5.channel.k8s.io")
        self.assertEqual(out.get(1), b"from-stdin\nstarted\n")
        self.assertEqual(json.loads(out[3])["status"], "Success")

    def test_exec_v4_exit_code_and_stderr(self):
        chosen, out = ws_exec(self.name, ["sh", "-c", "echo oops >&2; exit 3"],
                              container="helper",
                              protocol="v4.channel.k8s.io")
        self.assertEqual(chosen, "v4.channel.k8s.io")
        self.assertEqual(out.get(2), b"oops\n")
        st = json.loads(out[3])
        self.assertEqual(st["status"], "Failure")
        self.assertEqual(st["reason"], "NonZeroExitCode")
        self.assertEqual(st["details"]["causes"],
                         [{"reason": "ExitCode", "message": "3"}])

    def test_exec_env_from_field_ref(self):
        _, out = ws_exec(self.name, ["sh", "-c", "echo $POD"],
                         container="helper", protocol="channel.k8s.io")
        self.assertEqual(out.get(1), b"shared\n")
        self.assertNotIn(3, out)  # v1: nothing on the error channel on success

    def test_exec_base64_protocol(self):
        chosen, out = ws_exec(self.name, ["echo", "b64"], container="helper",
                              protocol="v4.base64.channel.k8s.io")
        self.assertEqual(chosen, "v4.base64.channel.k8s.io")
        self.assertEqual(out.get(1), b"b64\n")

    def test_exec_tty(self):
        ws, chosen = API.websocket(kclient.exec_path(
            NS, self.name, ["sh", "-c", "[ -t 0 ] && echo is-a-tty; "
                            "read l; echo got-$l"], container="helper",
            stdin=True, stderr=False, tty=True), ["v5.channel.k8s.io"])
        ws.send_channel(4, b'{"Width":100,"Height":30}')
        ws.send_channel(0, b"x\r")
        out = ws.collect()
        self.assertIn(b"is-a-tty", out.get(1, b""))
        self.assertIn(b"got-x", out.get(1, b""))
        self.assertEqual(json.loads(out[3])["status"], "Success")

    def test_exec_errors(self):
        with self.assertRaises(kclient.HandshakeError) as e:
            API.websocket(kclient.exec_path(NS, self.name, ["true"]),
                          ["v5.channel.k8s.io"])
        self.assertEqual(e.exception.code, 400)
        self.assertIn("a container name must be specified", e.exception.body)
        with self.assertRaises(kclient.HandshakeError) as e:
            API.websocket(kclient.exec_path(NS, self.name, ["true"],
                                            container="helper"),
                          ["v9.nonsense"])
        self.assertEqual(e.exception.code, 403)
        code, obj, _ = API.post(kclient.exec_path(
            NS, self.name, ["true"], container="helper"), b"")
        self.assertEqual(code, 400)
        self.assertIn("Upgrade request required", obj["message"])

    def test_attach_writes_to_main_process_stdin(self):
        ws, chosen = API.websocket(kclient.exec_path(
            NS, self.name, None, container="build", stdin=True,
            stdout=False, stderr=False, sub="attach"), ["v5.channel.k8s.io"])
        ws.send_channel(0, b"echo attached >/work/attach-mark\n")
        ws.send_channel(255, b"\x00")
        out = ws.collect()
        self.assertEqual(json.loads(out[3])["status"], "Success")
        wait_for(lambda: ws_exec(self.name, ["cat", "/data/attach-mark"],
                                 container="helper")[1].get(1) ==
                 b"attached\n", 10, "attached command ran")

    def test_logs(self):
        code, text, _ = API.get(pods() + "/%s/log?container=build"
                                % self.name)
        self.assertEqual(code, 200)
        self.assertIn("to-stdout\n", text)
        self.assertIn("to-stderr\n", text)
        code, text, _ = API.get(pods() + "/%s/log?container=build&"
                                "timestamps=true" % self.name)
        self.assertRegex(text.splitlines()[0],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z to-")
        code, obj, _ = API.get(pods() + "/%s/log" % self.name)
        self.assertEqual(code, 400)
        code, obj, _ = API.get(pods() + "/%s/log?container=nope" % self.name)
        self.assertEqual(code, 400)

    def test_follow_logs_stream(self):
        conn, resp = API.stream(pods() + "/%s/log?container=build&follow=true"
                                % self.name)
        self.assertEqual(resp.status, 200)
        ws_exec(self.name, ["true"], container="helper")
        ws, _ = API.websocket(kclient.exec_path(
            NS, self.name, None, container="build", stdin=True,
            stdout=False, stderr=False, sub="attach"), ["v5.channel.k8s.io"])
        ws.send_channel(0, b"echo followed-line\n")
        ws.send_channel(255, b"\x00")
        ws.collect()
        got = b""
        while b"followed-line" not in got:
            got += resp.read1(4096)
        conn.close()

    def test_z_list_selectors(self):
        code, obj, _ = API.get(pods() + "?labelSelector=test%3Dfake,"
                               "test+in+(fake,other)")
        self.assertIn(self.name, [p["metadata"]["name"] for p in obj["items"]])
        self.assertNotIn("kind", obj["items"][0])
        code, obj, _ = API.get(pods() + "?fieldSelector=metadata.name%3D"
                               + self.name)
        self.assertEqual([p["metadata"]["name"] for p in obj["items"]],
                         [self.name])
        code, obj, _ = API.get(pods() + "?labelSelector=test!%3Dfake")
        self.assertNotIn(self.name,
                         [p["metadata"]["name"] for p in obj["items"]])
        code, obj, _ = API.get(pods() + "?fieldSelector=spec.bogus%3Dx")
        self.assertEqual(code, 400)

    @classmethod
    def tearDownClass(cls):
        API.delete(pods() + "/" + cls.name, {"kind": "DeleteOptions",
                                             "apiVersion": "v1",
                                             "gracePeriodSeconds": 0})


class Lifecycle(unittest.TestCase):
    def test_watch_graceful_delete_and_containers_removed(self):
        _, lst, _ = API.get(pods())
        rv = lst["metadata"]["resourceVersion"]
        events = []

        def watch():
            conn, resp = API.stream(
                pods() + "?watch=true&resourceVersion=%s&fieldSelector="
                "metadata.name%%3Dlife" % rv, timeout=60)
            buf = b""
            while True:
                chunk = resp.read1(65536)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    ev = json.loads(line)
                    events.append(ev)
                    if ev["type"] == "DELETED":
                        conn.close()
                        return
        t = threading.Thread(target=watch, daemon=True)
        t.start()
        create(pod_spec("life", [{"name": "main", "image": IMAGE,
                                  "command": ["sh", "-c",
                                              "trap 'exit 0' TERM; "
                                              "sleep 300 & wait"]}],
                        terminationGracePeriodSeconds=5))
        wait_phase("life", ["Running"])
        names = [c["container"] for c in FAKE.admin_call("GET", "/containers")
                 if c["pod"] == NS + "/life"]
        self.assertEqual(names, ["main"])
        code, obj, _ = API.delete(pods() + "/life")
        self.assertEqual(code, 200)
        self.assertIn("deletionTimestamp", obj["metadata"])
        self.assertEqual(obj["metadata"]["deletionGracePeriodSeconds"], 5)
        t.join(30)
        types = [e["type"] for e in events]
        self.assertEqual(types[0], "ADDED")
        self.assertIn("MODIFIED", types)
        self.assertEqual(types[-1], "DELETED")
        rvs = [int(e["object"]["metadata"]["resourceVersion"])
               for e in events]
        self.assertEqual(rvs, sorted(rvs))
        last_mod = [e for e in events if e["type"] == "MODIFIED"][-1]
        term = last_mod["object"]["status"]["containerStatuses"][0]["state"]
        self.assertEqual(term["terminated"]["exitCode"], 0)  # its TERM trap
        self.assertEqual(API.get(pods() + "/life")[0], 404)
        self.assertEqual(API.delete(pods() + "/life")[0], 404)
        self.assertFalse([c for c in FAKE.admin_call("GET", "/containers")
                          if c["pod"] == NS + "/life"])

    def test_watch_too_old_resource_version_is_410(self):
        _, lst, _ = API.get(pods())
        old = lst["metadata"]["resourceVersion"]
        API.post("/api/v1/namespaces/%s/configmaps" % NS,
                 {"metadata": {"name": "bump"}})
        FAKE.admin_call("POST", "/compact")
        conn, resp = API.stream(pods() + "?watch=1&resourceVersion=" + old)
        line = resp.readline()
        conn.close()
        ev = json.loads(line)
        self.assertEqual(ev["type"], "ERROR")
        self.assertEqual(ev["object"]["code"], 410)
        self.assertEqual(ev["object"]["reason"], "Expired")

    def test_init_container_then_success(self):
        create(pod_spec("init", [{"name": "main", "image": IMAGE,
                                  "command": ["cat", "/v/init-ran"],
                                  "volumeMounts": [{"name": "v",
                                                    "mountPath": "/v"}]}],
                        volumes=[{"name": "v", "emptyDir": {}}],
                        initContainers=[{"name": "prep", "image": IMAGE,
                                         "command": ["sh", "-c",
                                                     "echo yes >/v/init-ran"],
                                         "volumeMounts": [{
                                             "name": "v",
                                             "mountPath": "/v"}]}]))
        pod = wait_phase("init", ["Succeeded", "Failed"])
        self.assertEqual(pod["status"]["phase"], "Succeeded")
        init = pod["status"]["initContainerStatuses"][0]["state"]
        self.assertEqual(init["terminated"]["reason"], "Completed")
        code, text, _ = API.get(pods() + "/init/log")
        self.assertEqual(text, "yes\n")
        API.delete(pods() + "/init")

    def test_failed_container_exit_code(self):
        create(pod_spec("fails", [{"name": "main", "image": IMAGE,
                                   "command": ["sh", "-c", "exit 7"]}]))
        pod = wait_phase("fails", ["Failed"])
        term = pod["status"]["containerStatuses"][0]["state"]["terminated"]
        self.assertEqual((term["exitCode"], term["reason"]), (7, "Error"))
        API.delete(pods() + "/fails")

    def test_secret_and_configmap_volumes_and_env(self):
        API.post("/api/v1/namespaces/%s/secrets" % NS, {
            "metadata": {"name": "vol-secret"},
            "stringData": {"token": "s3cret"}})
        create(pod_spec("mounts", [{
            "name": "main", "image": IMAGE,
            "command": ["sh", "-c", "cat /s/token; echo; cat /c/k; echo; "
                        "echo $FROM_SECRET; touch /s/x 2>/dev/null || "
                        "echo read-only"],
            "env": [{"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {
                "name": "vol-secret", "key": "token"}}}],
            "volumeMounts": [{"name": "s", "mountPath": "/s"},
                             {"name": "c", "mountPath": "/c"}]}],
            volumes=[{"name": "s", "secret": {"secretName": "vol-secret"}},
                     {"name": "c", "configMap": {"name": "vol-cm"}}]))
        # the configMap does not exist yet: FailedMount, ContainerCreating
        wait_for(lambda: "FailedMount" in [
            e["reason"] for e in API.get(
                "/api/v1/namespaces/%s/events?fieldSelector=involvedObject."
                "name%%3Dmounts" % NS)[1]["items"]], 10, "FailedMount")
        self.assertEqual(get_pod("mounts")["status"]["phase"], "Pending")
        API.post("/api/v1/namespaces/%s/configmaps" % NS, {
            "metadata": {"name": "vol-cm"}, "data": {"k": "cm-value"}})
        pod = wait_phase("mounts", ["Succeeded", "Failed"])
        self.assertEqual(pod["status"]["phase"], "Succeeded")
        self.assertEqual(API.get(pods() + "/mounts/log")[1],
                         "s3cret\ncm-value\ns3cret\nread-only\n")
        API.delete(pods() + "/mounts")

    def test_active_deadline(self):
        create(pod_spec("deadline", [{"name": "main", "image": IMAGE,
                                      "command": ["sleep", "300"]}],
                        activeDeadlineSeconds=2))
        pod = wait_phase("deadline", ["Failed"], 20)
        self.assertEqual(pod["status"]["reason"], "DeadlineExceeded")
        API.delete(pods() + "/deadline")

    def test_patch_labels(self):
        body = pod_spec("patched", [{"name": "main", "image": IMAGE,
                                     "command": ["sleep", "300"]}])
        create(body)
        code, obj, _ = API.request(
            "PATCH", pods() + "/patched", {"metadata": {"labels": {
                "extra": "yes", "test": None}}},
            headers={"Content-Type": "application/merge-patch+json"})
        self.assertEqual(code, 200, obj)
        self.assertEqual(obj["metadata"]["labels"], {"extra": "yes"})
        code, obj, _ = API.request(
            "PATCH", pods() + "/patched",
            [{"op": "replace", "path": "/spec/restartPolicy",
              "value": "Always"}],
            headers={"Content-Type": "application/json-patch+json"})
        self.assertEqual(code, 422)
        self.assertIn("pod updates may not change fields", obj["message"])
        API.delete(pods() + "/patched?gracePeriodSeconds=0")

    def test_unschedulable(self):
        create(pod_spec("nowhere", [{"name": "main", "image": IMAGE}],
                        nodeSelector={"disktype": "ssd"}))

        def cond():
            for c in (get_pod("nowhere") or {}).get("status", {}).get(
                    "conditions", []):
                if c["type"] == "PodScheduled" and c["status"] == "False":
                    return c
        c = wait_for(cond, 10, "Unschedulable")
        self.assertEqual(c["reason"], "Unschedulable")
        self.assertTrue(c["message"].startswith(
            "0/1 nodes are available: 1 node(s) didn't match Pod's node "
            "affinity/selector."), c["message"])
        self.assertEqual(get_pod("nowhere")["status"]["phase"], "Pending")
        code, evs, _ = API.get("/api/v1/namespaces/%s/events?fieldSelector="
                               "involvedObject.name%%3Dnowhere,type%%3DWarning"
                               % NS)
        self.assertIn("FailedScheduling", [e["reason"] for e in evs["items"]])
        code, obj, _ = API.delete(pods() + "/nowhere")
        self.assertEqual(code, 200)
        self.assertEqual(API.get(pods() + "/nowhere")[0], 404)

    def test_image_pull_failure(self):
        create(pod_spec("noimage", [{"name": "main",
                                     "image": "registry.invalid/none:1"}]))
        reasons = set()

        def seen():
            cs = (get_pod("noimage") or {}).get("status", {}).get(
                "containerStatuses") or [{}]
            w = cs[0].get("state", {}).get("waiting") or {}
            if w.get("reason"):
                reasons.add(w["reason"])
                if w["reason"] == "ErrImagePull":
                    self.assertIn("registry.invalid/none:1", w["message"])
            return {"ErrImagePull", "ImagePullBackOff"} <= reasons
        wait_for(seen, 15, "ErrImagePull then ImagePullBackOff")
        self.assertEqual(get_pod("noimage")["status"]["phase"], "Pending")
        code, obj, _ = API.get(pods() + "/noimage/log")
        self.assertEqual(code, 400)
        self.assertIn("trying and failing to pull image", obj["message"])
        self.assertFalse([c for c in FAKE.admin_call("GET", "/containers")
                          if c["pod"] == NS + "/noimage"])
        API.delete(pods() + "/noimage")


class Control(unittest.TestCase):
    def test_down_refuses_then_recovers(self):
        conn, resp = API.stream(pods() + "?watch=true", timeout=20)
        FAKE.admin_call("POST", "/down?seconds=1.5")
        with self.assertRaises(OSError):
            API.get("/version")
        try:  # the open watch is cut, not left hanging
            while resp.read1(65536):
                pass
        except (OSError, http.client.HTTPException):
            pass
        conn.close()
        wait_for(lambda: _try_version(), 10, "API back up")

    def test_record_file(self):
        API.get(pods() + "?labelSelector=a%3Db")
        recs = FAKE.requests()
        hit = [r for r in recs if r["path"] == "/api/v1/namespaces/ci/pods"
               and r["query"].get("labelSelector") == ["a=b"]]
        self.assertTrue(hit)
        self.assertEqual(hit[-1]["headers"]["Authorization"],
                         "Bearer <token>")
        self.assertEqual(hit[-1]["status"], 200)


def _try_version():
    try:
        return API.get("/version")[0] == 200
    except OSError:
        return False


class Tls(unittest.TestCase):
    def test_https_and_client_certificate(self):
        d = tempfile.mkdtemp(prefix="k8sfake-tls-")
        try:
            def ossl(*args):
                subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                               stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
            ossl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                 "-subj", "/CN=fake-ca", "-keyout", "ca.key", "-out",
                 "ca.crt")
            with open(os.path.join(d, "ext"), "w") as f:
                f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
            for name, cn in (("server", "127.0.0.1"), ("client", "runner")):
                ossl("req", "-newkey", "ec", "-pkeyopt",
                     "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                     "/CN=" + cn, "-keyout", name + ".key", "-out",
                     name + ".csr")
                ossl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt",
                     "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                     "-out", name + ".crt", "-extfile", "ext")
            fake = Fake("--tls-cert", os.path.join(d, "server.crt"),
                        "--tls-key", os.path.join(d, "server.key"),
                        "--client-ca", os.path.join(d, "ca.crt"))
            try:
                api = kclient.Api(fake.port, TOKEN,
                                  tls_ca=os.path.join(d, "ca.crt"))
                self.assertEqual(api.get("/api/v1/namespaces/ci")[0], 200)
                anon = kclient.Api(fake.port, None,
                                   tls_ca=os.path.join(d, "ca.crt"))
                self.assertEqual(anon.get("/api/v1/namespaces/ci")[0], 403)
                cert = kclient.Api(fake.port, None,
                                   tls_ca=os.path.join(d, "ca.crt"),
                                   client_cert=(os.path.join(d, "client.crt"),
                                                os.path.join(d, "client.key")))
                self.assertEqual(cert.get("/api/v1/namespaces/ci")[0], 200)
                if shutil.which("kubectl"):
                    self.kubectl(fake, d)
            finally:
                fake.stop()
        finally:
            shutil.rmtree(d, ignore_errors=True)


    def kubectl(self, fake, d):
        """kubectl (the reference client) against the fake: it only sends
        a bearer token over HTTPS."""
        cfg = os.path.join(d, "kubeconfig")
        with open(cfg, "w") as f:
            f.write("""apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: https://127.0.0.1:%d
    certificate-authority: %s
users:
- name: u
  user:
    token: %s
contexts:
- name: fake
  context: {cluster: fake, user: u, namespace: ci}
current-context: fake
""" % (fake.port, os.path.join(d, "ca.crt"), TOKEN))
        env = dict(os.environ, KUBECONFIG=cfg, HOME=d)

        def kubectl(*args, stdin=None):
            r = subprocess.run(["kubectl"] + list(args), env=env, input=stdin,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
            return r.returncode, r.stdout, r.stderr
        rc, out, err = kubectl("run", "kc", "--image=" + IMAGE,
                               "--restart=Never", "--", "sh", "-c",
                               "echo kubectl-log; sleep 300")
        self.assertEqual(rc, 0, err)
        api = kclient.Api(fake.port, TOKEN, tls_ca=os.path.join(d, "ca.crt"))
        wait_for(lambda: api.get("/api/v1/namespaces/ci/pods/kc")[1].get(
            "status", {}).get("phase") == "Running", 30, "kubectl's pod")
        rc, out, err = kubectl("exec", "kc", "--", "sh", "-c",
                               "echo via-exec; exit 5")
        self.assertEqual((rc, out), (5, "via-exec\n"), err)
        rc, out, err = kubectl("exec", "-i", "kc", "--", "cat", stdin="in\n")
        self.assertEqual((rc, out), (0, "in\n"), err)
        rc, out, err = kubectl("logs", "kc")
        self.assertEqual(out, "kubectl-log\n", err)
        rc, out, err = kubectl("run", "kc-once", "--image=" + IMAGE,
                               "--restart=Never", "-i", "--command", "--",
                               "sh", "-c", "while read l; do echo got-$l; "
                               "done", stdin="a\nb\n")
        self.assertEqual(rc, 0, err)
        self.assertIn("got-a\ngot-b\n", out)
        for name in ("kc", "kc-once"):
            api.delete("/api/v1/namespaces/ci/pods/%s?gracePeriodSeconds=0"
                       % name)


if __name__ == "__main__":
    if not docker_ready():
        if os.environ.get("CI") == "true":
            print("FAIL: docker or image %s missing under CI=true" % IMAGE)
            sys.exit(1)
        print("SKIPPED: docker or image %s not available" % IMAGE)
        sys.exit(SKIP)
    unittest.main(verbosity=2)
