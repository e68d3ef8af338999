"""The fake API server process: listener (HTTP or HTTPS, can be taken down
and brought back on the same port), request recording, pod lifecycle
bookkeeping, events, and the admin (control) server for tests."""

import json
import secrets
import socket
import ssl
import threading
import time
import uuid

from . import server as api
from .pods import Node, PodRunner
from .resources import node_object
from .store import Store
from .util import now

RECORD_HEADERS = ("Content-Type", "Accept", "User-Agent", "Upgrade",
                  "Connection", "Sec-WebSocket-Protocol",
                  "Sec-WebSocket-Version", "Content-Encoding",
                  "Transfer-Encoding")


class FakeApiServer:
    @property
    def token(self):
        """The bearer token requests must carry: --token, or with
        --token-file the file's first line, re-read on every request (a
        rotated credential), None once past the epoch second on its
        second line (an expired one)."""
        if not self.token_file:
            return self._token
        try:
            with open(self.token_file) as f:
                lines = f.read().split("\n")
        except OSError:
            return None
        if len(lines) > 1 and lines[1].strip() and \
                time.time() > int(lines[1]):
            return None
        return lines[0].strip() or None

    def __init__(self, opts, docker):
        self.opts = opts
        self._token = opts.token
        self.token_file = opts.token_file
        self.field_validation = opts.field_validation
        self.verbose = opts.verbose
        self.docker = docker
        self.store = Store()
        self.priority_classes = {"system-node-critical",
                                 "system-cluster-critical"} | \
            set(opts.priority_class)
        self.runtime_classes = set(opts.runtime_class)
        self.node_labels = {"kubernetes.io/hostname": opts.node_name,
                            "kubernetes.io/os": "linux",
                            "kubernetes.io/arch": "amd64"}
        for kv in opts.node_label:
            k, _, v = kv.partition("=")
            self.node_labels[k] = v
        self.node = Node(opts.node_name, self.node_labels, self.store, docker,
                         opts.workdir, self.emit_event,
                         set(opts.csi_driver))
        self.runners = {}          # (ns, name) -> PodRunner
        self.runners_lock = threading.Lock()
        self.record_lock = threading.Lock()
        self.records = []
        self.record_file = open(opts.record, "a") if opts.record else None
        self.conns = set()
        self.conns_lock = threading.Lock()
        self.cut_conns = set()
        self.down_until = 0.0
        self.listener = None
        self.port = opts.port
        self.ssl_ctx = None
        if opts.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
            if opts.client_ca:
                ctx.load_verify_locations(opts.client_ca)
                ctx.verify_mode = ssl.CERT_OPTIONAL
            self.ssl_ctx = ctx
        self.event_index = {}
        self.event_lock = threading.Lock()
        self.quotas = parse_quotas(opts.quota)
        self.stopping = False
        node = node_object(opts.node_name, self.node_labels)
        self.store.create("nodes", None, node)
        for ns in ["default", "kube-system"] + list(opts.namespace):
            if self.store.get("namespaces", None, ns) is None:
                self.store.create("namespaces", None, self._namespace(ns))
                self.create_default_account(ns)
        for spec in opts.service_account:
            ns, _, name = spec.rpartition("/")
            self._create_plain("serviceaccounts", ns or "default", name)

    def _namespace(self, name):
        obj = {"kind": "Namespace", "apiVersion": "v1",
               "metadata": {"name": name, "uid": str(uuid.uuid4()),
                            "creationTimestamp": now(),
                            "labels": {"kubernetes.io/metadata.name": name}},
               "spec": {"finalizers": ["kubernetes"]},
               "status": {"phase": "Active"}}
        return obj

    def _create_plain(self, resource, ns, name):
        kinds = {"serviceaccounts": "ServiceAccount"}
        self.store.create(resource, ns, {
            "kind": kinds[resource], "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns,
                         "uid": str(uuid.uuid4()),
                         "creationTimestamp": now()}})

    def create_default_account(self, ns):
        if self.store.get("serviceaccounts", ns, "default") is None:
            self._create_plain("serviceaccounts", ns, "default")

    # listener -------------------------------------------------------------

    def listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        s.settimeout(0.2)
        self.port = s.getsockname()[1]
        self.listener = s

    def serve_forever(self):
        while not self.stopping:
            if self.listener is None:
                if time.time() >= self.down_until:
                    try:
                        self.listen()
                    except OSError:
                        time.sleep(0.1)
                        continue
                else:
                    time.sleep(0.05)
                    continue
            try:
                conn, addr = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                continue
            conn.settimeout(None)
            threading.Thread(target=self._serve_conn, args=(conn, addr),
                             daemon=True).start()

    def _serve_conn(self, conn, addr):
        if self.ssl_ctx is not None:
            try:
                conn = self.ssl_ctx.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()
                return
        try:
            api.Handler(conn, addr, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def track(self, conn, add):
        with self.conns_lock:
            if add:
                self.conns.add(conn)
            else:
                self.conns.discard(conn)
                self.cut_conns.discard(id(conn))

    def go_down(self, seconds):
        """Refuses connections for `seconds` and cuts every open one."""
        self.down_until = time.time() + seconds
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        with self.conns_lock:
            conns = list(self.conns)
            for c in conns:
                self.cut_conns.add(id(c))
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.store.wake()

    def go_up(self):
        self.down_until = 0

    def stream_begin(self, conn):
        return id(conn)

    def stream_cut(self, conn_id):
        with self.conns_lock:
            return conn_id in self.cut_conns or self.stopping

    def stream_end(self, conn_id):
        pass

    def client_cert_user(self, conn):
        if self.ssl_ctx is None or not isinstance(conn, ssl.SSLSocket):
            return None
        try:
            cert = conn.getpeercert()
        except (ValueError, OSError):
            return None
        if not cert:
            return None
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return "client-cert"

    # recording ------------------------------------------------------------

    def record(self, h, code):
        if getattr(h, "_recorded", None) == h.raw_requestline:
            return
        h._recorded = h.raw_requestline
        body = getattr(h, "body", b"")
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode(errors="replace")
        auth = h.headers.get("Authorization") if h.headers else None
        headers = {k: h.headers[k] for k in RECORD_HEADERS
                   if h.headers and h.headers.get(k) is not None}
        if auth is not None:
            scheme, _, token = auth.partition(" ")
            headers["Authorization"] = scheme + (
                " <token>" if token == self.token else " <wrong>")
        entry = {"time": time.time(), "method": h.command,
                 "path": getattr(h, "url_path", h.path),
                 "query": getattr(h, "query", {}), "headers": headers,
                 "body": parsed, "status": code}
        with self.record_lock:
            self.records.append(entry)
            if self.record_file:
                self.record_file.write(json.dumps(entry) + "\n")
                self.record_file.flush()

    # events ---------------------------------------------------------------

    def emit_event(self, pod, reason, message, etype, field_path, component):
        with self.event_lock:
            self._emit_event(pod, reason, message, etype, field_path,
                             component)

    def _emit_event(self, pod, reason, message, etype, field_path,
                    component):
        meta = pod["metadata"]
        ns = meta["namespace"]
        key = (meta["uid"], reason, message, field_path)
        ts = now()
        existing = self.event_index.get(key)
        if existing and self.store.get("events", ns, existing) is not None:
            def bump(ev):
                ev["count"] = ev.get("count", 1) + 1
                ev["lastTimestamp"] = ts
            self.store.update("events", ns, existing, bump)
            return
        name = "%s.%x" % (meta["name"], time.time_ns())
        involved = {"kind": "Pod", "namespace": ns, "name": meta["name"],
                    "uid": meta["uid"], "apiVersion": "v1",
                    "resourceVersion": meta.get("resourceVersion", "")}
        if field_path:
            involved["fieldPath"] = field_path
        ev = {"kind": "Event", "apiVersion": "v1",
              "metadata": {"name": name, "namespace": ns,
                           "uid": str(uuid.uuid4()), "creationTimestamp": ts},
              "involvedObject": involved, "reason": reason,
              "message": message,
              "source": {"component": component, "host": self.node.name}
              if component == "kubelet" else {"component": component},
              "firstTimestamp": ts, "lastTimestamp": ts, "count": 1,
              "type": etype, "eventTime": None,
              "reportingComponent": component,
              "reportingInstance": self.node.name
              if component == "kubelet" else ""}
        self.event_index[key] = name
        self.store.create("events", ns, ev)

    # pods -----------------------------------------------------------------

    def start_pod(self, ns, name):
        runner = PodRunner(self.node, ns, name)
        pod = self.store.get("pods", ns, name)
        runner.pod_uid = pod["metadata"]["uid"] if pod else ""
        with self.runners_lock:
            self.runners[(ns, name)] = runner
        runner.start()

    def container_id(self, ns, name, container):
        with self.runners_lock:
            runner = self.runners.get((ns, name))
        if runner is None:
            return None
        with runner.lock:
            return runner.containers.get(container)

    def delete_pod(self, ns, name, grace):
        """Graceful deletion: deletionTimestamp now, the object goes when
        the containers have stopped.  Grace 0 (or a pod that never ran)
        removes the object at once."""
        pod = self.store.get("pods", ns, name)
        if pod is None:
            return None
        if grace is None:
            grace = pod["spec"].get("terminationGracePeriodSeconds", 30)
        grace = max(0, int(grace))
        phase = (pod.get("status") or {}).get("phase")
        if not pod["spec"].get("nodeName") or phase in ("Succeeded",
                                                         "Failed"):
            grace = 0
        with self.runners_lock:
            runner = self.runners.get((ns, name))
        meta = pod["metadata"]
        if meta.get("deletionTimestamp") and grace != 0 and \
                grace >= meta.get("deletionGracePeriodSeconds", 0):
            return pod
        if grace == 0:
            gone = self.store.delete("pods", ns, name)
            threading.Thread(target=self._finish_delete,
                             args=(runner, ns, name, 0, meta["uid"], False),
                             daemon=True).start()
            return gone
        deadline = time.time() + grace

        def mark(p):
            p["metadata"]["deletionTimestamp"] = time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(deadline))
            p["metadata"]["deletionGracePeriodSeconds"] = grace
        updated = self.store.update("pods", ns, name, mark)
        threading.Thread(target=self._finish_delete,
                         args=(runner, ns, name, grace, meta["uid"], True),
                         daemon=True).start()
        return updated

    def _finish_delete(self, runner, ns, name, grace, uid, remove_object):
        if runner is not None:
            runner.terminate(grace)
        if remove_object:
            current = self.store.get("pods", ns, name)
            if current is not None and current["metadata"]["uid"] == uid:
                self.store.delete("pods", ns, name)
        with self.runners_lock:
            if self.runners.get((ns, name)) is runner:
                self.runners.pop((ns, name), None)
        if runner is not None:
            runner.remove_files(uid)
        self.collect_dependents(ns, uid)

    def collect_dependents(self, ns, uid):
        """The garbage collector: once the pod with uid is gone, the
        secrets and config maps whose ownerReferences name it go too."""
        current = [p for p in self.store.list("pods", ns)[0]
                   if p["metadata"]["uid"] == uid]
        if current:
            return
        for resource in ("secrets", "configmaps"):
            for obj in self.store.list(resource, ns)[0]:
                refs = obj["metadata"].get("ownerReferences") or []
                if any(r.get("uid") == uid for r in refs):
                    self.store.delete(resource, ns, obj["metadata"]["name"])

    def delete_namespace(self, name):
        def mark(ns):
            ns["metadata"]["deletionTimestamp"] = now()
            ns["metadata"]["deletionGracePeriodSeconds"] = 0
            ns["status"]["phase"] = "Terminating"
        obj = self.store.update("namespaces", None, name, mark)
        threading.Thread(target=self._empty_namespace, args=(name,),
                         daemon=True).start()
        return obj

    def _empty_namespace(self, name):
        pods, _ = self.store.list("pods", name)
        for p in pods:
            self.delete_pod(name, p["metadata"]["name"], None)
        while self.store.list("pods", name)[0]:
            time.sleep(0.1)
        for resource in ("secrets", "configmaps", "services",
                         "serviceaccounts", "persistentvolumeclaims",
                         "events"):
            for obj in self.store.list(resource, name)[0]:
                self.store.delete(resource, name, obj["metadata"]["name"])
        self.store.delete("namespaces", None, name)

    def cleanup(self):
        """Deletes every pod at once and removes every container of this
        instance."""
        with self.runners_lock:
            runners = list(self.runners.items())
            self.runners.clear()
        for (ns, name), runner in runners:
            self.store.delete("pods", ns, name)
            with runner.lock:
                runner.deleting = True
        removed = self.docker.remove_all()
        for _, runner in runners:
            runner.remove_files(runner.pod_uid)
        return {"pods": len(runners), "containers": removed}

    def pods_summary(self):
        pods, _ = self.store.list("pods")
        return [{"namespace": p["metadata"]["namespace"],
                 "name": p["metadata"]["name"],
                 "phase": (p.get("status") or {}).get("phase"),
                 "deleting": bool(p["metadata"].get("deletionTimestamp"))}
                for p in pods]


def parse_quotas(specs):
    """--quota NS/NAME=RESOURCE=QTY[,RESOURCE=QTY...] -> {ns: [(name,
    {resource: (value, text)})]}."""
    from .schema import parse_quantity
    out = {}
    for spec in specs:
        where, _, limits = spec.partition("=")
        ns, _, name = where.partition("/")
        hard = {}
        for item in limits.split(","):
            res, _, qty = item.partition("=")
            value = parse_quantity(qty)
            if not res or value is None:
                raise SystemExit("--quota %s: bad item %r" % (spec, item))
            hard[res.strip()] = (value, qty.strip())
        out.setdefault(ns, []).append((name or "quota", hard))
    return out


def new_instance_id():
    return secrets.token_hex(4)
