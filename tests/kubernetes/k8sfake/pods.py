"""The fake node's kubelet and scheduler: one PodRunner thread per pod
schedules it on the single node, prepares its volumes, runs init containers
to completion and then the containers as Docker containers, and keeps
status.phase, conditions and containerStatuses as the kubelet reports them."""

import base64
import os
import re
import shutil
import threading
import time

from .util import now

BACKOFF = 1.0  # seconds between image pull retries and restarts

UNSCHEDULABLE_TAIL = (" preemption: 0/1 nodes are available: 1 Preemption is "
                      "not helpful for scheduling.")


class Node:
    """What a PodRunner needs of the server."""

    def __init__(self, name, labels, store, docker, workdir, emit_event,
                 csi_drivers):
        self.name, self.labels, self.store = name, labels, store
        self.docker, self.workdir, self.emit_event = docker, workdir, emit_event
        self.csi_drivers = csi_drivers


def _match_expression(labels, expr):
    key, op, values = expr.get("key"), expr.get("operator"), \
        expr.get("values") or []
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        try:
            have, want = int(labels.get(key)), int(values[0])
        except (TypeError, ValueError, IndexError):
            return False
        return have > want if op == "Gt" else have < want
    return False


def node_affinity_matches(labels, affinity):
    required = ((affinity or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution")
    if not required:
        return True
    for term in required.get("nodeSelectorTerms") or []:
        exprs = term.get("matchExpressions") or []
        if all(_match_expression(labels, e) for e in exprs) and \
                (exprs or term.get("matchFields")):
            return True
    return False


def expand(text, env):
    """Kubernetes' $(VAR) expansion of command, args and env values."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env[name] if name in env else m.group(0)
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", sub, text)


class MountError(Exception):
    pass


class PodRunner(threading.Thread):
    def __init__(self, node, ns, name):
        super().__init__(daemon=True, name="pod-%s/%s" % (ns, name))
        self.node, self.ns, self.name = node, ns, name
        self.lock = threading.Lock()
        self.deleting = False
        self.deleted = threading.Event()
        self.containers = {}   # container name -> docker id
        self.threads = []

    # status bookkeeping ---------------------------------------------------

    def _update(self, mutate):
        return self.node.store.update("pods", self.ns, self.name, mutate)

    def pod(self):
        return self.node.store.get("pods", self.ns, self.name)

    def event(self, reason, message, etype="Normal", field_path=None):
        pod = self.pod()
        if pod is not None:
            self.node.emit_event(pod, reason, message, etype, field_path,
                                 "kubelet" if reason != "Scheduled" and
                                 reason != "FailedScheduling"
                                 else "default-scheduler")

    def set_container(self, name, init, status):
        key = "initContainerStatuses" if init else "containerStatuses"

        def mutate(pod):
            st = pod.setdefault("status", {})
            lst = st.setdefault(key, [])
            for i, cs in enumerate(lst):
                if cs["name"] == name:
                    merged = dict(cs)
                    merged.update(status)
                    lst[i] = merged
                    break
            recompute(pod)
        self._update(mutate)

    def container_status(self, name, init=False):
        pod = self.pod()
        key = "initContainerStatuses" if init else "containerStatuses"
        for cs in ((pod or {}).get("status") or {}).get(key) or []:
            if cs["name"] == name:
                return cs
        return None

    # main loop ------------------------------------------------------------

    def run(self):
        try:
            self._run()
        except Exception as e:  # a runner bug must not kill the server
            import traceback
            traceback.print_exc()
            self.event("FakeInternalError", "k8sfake: %s" % e, "Warning")

    def _stopped(self):
        with self.lock:
            return self.deleting

    def _sleep(self, seconds):
        """Sleeps; True when the pod is being deleted meanwhile."""
        end = time.time() + seconds
        while time.time() < end:
            if self._stopped():
                return True
            time.sleep(min(0.1, max(0, end - time.time())))
        return self._stopped()

    def _run(self):
        pod = self.pod()
        if pod is None:
            return
        spec = pod["spec"]
        if not self._schedule(pod):
            return
        pod = self.pod()
        if pod is None or self._stopped():
            return
        deadline = spec.get("activeDeadlineSeconds")
        if deadline:
            threading.Thread(target=self._deadline, args=(deadline,),
                             daemon=True).start()
        try:
            mounts = self._prepare_volumes(pod)
        except MountError:
            return
        if mounts is None:
            return
        for c in spec.get("initContainers") or []:
            if not self._run_init(pod, c, mounts):
                return
        self._update(lambda p: recompute(p))
        for c in spec["containers"]:
            t = threading.Thread(target=self._run_container,
                                 args=(pod, c, mounts), daemon=True)
            t.start()
            self.threads.append(t)

    def _schedule(self, pod):
        spec = pod["spec"]
        if spec.get("schedulerName", "default-scheduler") != \
                "default-scheduler":
            return False  # no such scheduler runs: the pod stays Pending
        reason = self._unschedulable_reason(pod)
        if reason:
            message = "0/1 nodes are available: %s." % reason + \
                UNSCHEDULABLE_TAIL

            def mark(p):
                st = p.setdefault("status", {})
                st["phase"] = "Pending"
                st["conditions"] = [{
                    "type": "PodScheduled", "status": "False",
                    "lastProbeTime": None, "lastTransitionTime": now(),
                    "reason": "Unschedulable", "message": message}]
            self._update(mark)
            self.event("FailedScheduling", message, "Warning")
            return False

        def bind(p):
            p["spec"]["nodeName"] = self.node.name
            st = p.setdefault("status", {})
            st.update({"phase": "Pending", "hostIP": "127.0.0.1",
                       "hostIPs": [{"ip": "127.0.0.1"}], "podIP": "127.0.0.1",
                       "podIPs": [{"ip": "127.0.0.1"}], "startTime": now()})
            st["conditions"] = [{
                "type": "PodScheduled", "status": "True",
                "lastProbeTime": None, "lastTransitionTime": now()}]
            inits = p["spec"].get("initContainers") or []
            waiting = "PodInitializing" if inits else "ContainerCreating"
            st["initContainerStatuses"] = [
                _waiting_status(c, "PodInitializing" if i else
                                "ContainerCreating")
                for i, c in enumerate(inits)] if inits else []
            if not inits:
                del st["initContainerStatuses"]
            st["containerStatuses"] = [_waiting_status(c, waiting)
                                       for c in p["spec"]["containers"]]
            recompute(p)
        self._update(bind)
        self.event("Scheduled", "Successfully assigned %s/%s to %s"
                   % (self.ns, self.name, self.node.name))
        return True

    def _unschedulable_reason(self, pod):
        spec = pod["spec"]
        labels = self.node.labels
        for key, value in (spec.get("nodeSelector") or {}).items():
            if labels.get(key) != value:
                return "1 node(s) didn't match Pod's node affinity/selector"
        if not node_affinity_matches(labels, spec.get("affinity")):
            return "1 node(s) didn't match Pod's node affinity/selector"
        for v in spec.get("volumes") or []:
            pvc = v.get("persistentVolumeClaim")
            if pvc and self.node.store.get("persistentvolumeclaims", self.ns,
                                           pvc["claimName"]) is None:
                return 'persistentvolumeclaim "%s" not found' % \
                    pvc["claimName"]
        return None

    def _deadline(self, seconds):
        if self._sleep(seconds):
            return
        self.event("DeadlineExceeded",
                   "Pod was active on the node longer than the specified "
                   "deadline", "Normal")

        def mark(p):
            st = p.setdefault("status", {})
            st["phase"] = "Failed"
            st["reason"] = "DeadlineExceeded"
            st["message"] = ("Pod was active on the node longer than the "
                             "specified deadline")
        self._update(mark)
        with self.lock:
            self.deleting = True  # the kubelet kills every container
            ids = list(self.containers.values())
        for cid in ids:
            self.node.docker.stop(cid, 0)

    # volumes --------------------------------------------------------------

    def _pod_dir(self, pod):
        return os.path.join(self.node.workdir, "pods", pod["metadata"]["uid"])

    def _prepare_volumes(self, pod):
        """Host directory of each volume.  A volume that cannot be set up
        keeps the pod in ContainerCreating with FailedMount events and is
        retried until it can or the pod is deleted."""
        while True:
            try:
                return self._volumes_once(pod)
            except MountError as e:
                self.event("FailedMount", str(e), "Warning")
                if self._sleep(2 * BACKOFF):
                    return None

    def _volumes_once(self, pod):
        mounts = {}
        base = os.path.join(self._pod_dir(pod), "volumes")
        for v in pod["spec"].get("volumes") or []:
            name = v["name"]
            path = os.path.join(base, name)
            if v.get("emptyDir") is not None or v.get("projected") is not None \
                    or v.get("downwardAPI") is not None \
                    or v.get("ephemeral") is not None:
                os.makedirs(path, exist_ok=True)
                os.chmod(path, 0o777)
            elif v.get("hostPath") is not None:
                hp = v["hostPath"]
                path = hp["path"]
                kind = hp.get("type", "")
                if kind == "DirectoryOrCreate":
                    os.makedirs(path, exist_ok=True)
                elif kind == "Directory" and not os.path.isdir(path):
                    raise MountError(
                        'MountVolume.SetUp failed for volume "%s" : hostPath '
                        'type check failed: %s is not a directory'
                        % (name, path))
                elif kind == "FileOrCreate" and not os.path.exists(path):
                    open(path, "a").close()
                elif kind == "File" and not os.path.isfile(path):
                    raise MountError(
                        'MountVolume.SetUp failed for volume "%s" : hostPath '
                        'type check failed: %s is not a file' % (name, path))
            elif v.get("secret") is not None or v.get("configMap") is not None:
                self._write_projection(v, path)
            elif v.get("persistentVolumeClaim") is not None:
                path = os.path.join(self.node.workdir, "pvc", self.ns,
                                    v["persistentVolumeClaim"]["claimName"])
                os.makedirs(path, exist_ok=True)
                os.chmod(path, 0o777)
            elif v.get("csi") is not None:
                driver = v["csi"]["driver"]
                if driver not in self.node.csi_drivers:
                    raise MountError(
                        'MountVolume.SetUp failed for volume "%s" : '
                        'kubernetes.io/csi: mounter.SetUpAt failed to get CSI '
                        'client: driver name %s not found in the list of '
                        'registered CSI drivers' % (name, driver))
                os.makedirs(path, exist_ok=True)
                os.chmod(path, 0o777)
            else:
                raise MountError('MountVolume.SetUp failed for volume "%s" : '
                                 'k8sfake: volume type not supported' % name)
            mounts[name] = path
        return mounts

    def _write_projection(self, v, path):
        if v.get("secret") is not None:
            src, resource = v["secret"], "secrets"
            obj_name, what = src["secretName"], "secret"
        else:
            src, resource = v["configMap"], "configmaps"
            obj_name, what = src["name"], "configmap"
        obj = self.node.store.get(resource, self.ns, obj_name)
        if obj is None and not src.get("optional"):
            raise MountError('MountVolume.SetUp failed for volume "%s" : '
                             '%s "%s" not found' % (v["name"], what, obj_name))
        data = {}
        if obj is not None:
            if resource == "secrets":
                for k, val in (obj.get("data") or {}).items():
                    data[k] = base64.b64decode(val or "")
            else:
                for k, val in (obj.get("data") or {}).items():
                    data[k] = (val or "").encode()
                for k, val in (obj.get("binaryData") or {}).items():
                    data[k] = base64.b64decode(val or "")
        items = src.get("items")
        files = []
        if items:
            for item in items:
                if item["key"] not in data:
                    if src.get("optional"):
                        continue
                    raise MountError(
                        'MountVolume.SetUp failed for volume "%s" : '
                        'configmap references non-existent config key: %s'
                        % (v["name"], item["key"]))
                files.append((item["path"], data[item["key"]],
                              item.get("mode")))
        else:
            files = [(k, val, None) for k, val in data.items()]
        if os.path.isdir(path):
            shutil.rmtree(path)
        os.makedirs(path)
        os.chmod(path, 0o755)
        for rel, content, mode in files:
            target = os.path.join(path, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(content)
            os.chmod(target, mode if mode is not None else
                     src.get("defaultMode", 0o644))

    # containers -----------------------------------------------------------

    def _env(self, pod, c):
        """The container's environment, or raises ConfigError."""
        env = {}
        store = self.node.store
        for ef in c.get("envFrom") or []:
            for key, resource, what in (("configMapRef", "configmaps",
                                         "configmap"),
                                        ("secretRef", "secrets", "secret")):
                ref = ef.get(key)
                if not ref:
                    continue
                obj = store.get(resource, self.ns, ref["name"])
                if obj is None:
                    if ref.get("optional"):
                        continue
                    raise ConfigError('%s "%s" not found' % (what, ref["name"]))
                for k, val in (obj.get("data") or {}).items():
                    if resource == "secrets":
                        val = base64.b64decode(val or "").decode(
                            errors="replace")
                    env[(ef.get("prefix") or "") + k] = val
        for var in c.get("env") or []:
            name = var["name"]
            if "valueFrom" not in var or not var["valueFrom"]:
                env[name] = expand(var.get("value") or "", env)
                continue
            src = var["valueFrom"]
            if src.get("fieldRef"):
                env[name] = self._field_ref(pod, src["fieldRef"]["fieldPath"])
            elif src.get("resourceFieldRef"):
                env[name] = "0"
            else:
                for key, resource, what in (("configMapKeyRef", "configmaps",
                                             "configmap"),
                                            ("secretKeyRef", "secrets",
                                             "secret")):
                    ref = src.get(key)
                    if not ref:
                        continue
                    obj = store.get(resource, self.ns, ref["name"])
                    if obj is None:
                        if ref.get("optional"):
                            break
                        raise ConfigError('%s "%s" not found'
                                          % (what, ref["name"]))
                    data = obj.get("data") or {}
                    if ref["key"] not in data:
                        if ref.get("optional"):
                            break
                        raise ConfigError("couldn't find key %s in %s %s/%s"
                                          % (ref["key"], what.capitalize()
                                             if what == "secret"
                                             else "ConfigMap", self.ns,
                                             ref["name"]))
                    val = data[ref["key"]] or ""
                    if resource == "secrets":
                        val = base64.b64decode(val).decode(errors="replace")
                    env[name] = val
        return env

    def _field_ref(self, pod, path):
        meta = pod["metadata"]
        simple = {
            "metadata.name": meta["name"], "metadata.namespace": self.ns,
            "metadata.uid": meta["uid"], "spec.nodeName": self.node.name,
            "spec.serviceAccountName":
                pod["spec"].get("serviceAccountName", ""),
            "status.hostIP": "127.0.0.1", "status.podIP": "127.0.0.1",
            "status.hostIPs": "127.0.0.1", "status.podIPs": "127.0.0.1",
        }
        if path in simple:
            return simple[path]
        m = re.match(r"^metadata\.(labels|annotations)\['(.*)'\]$", path)
        if m:
            return (meta.get(m.group(1)) or {}).get(m.group(2), "")
        return ""

    def _docker_args(self, pod, c, mounts, env):
        meta = pod["metadata"]
        spec = pod["spec"]
        args = ["--name", "k8sfake-%s-%s-%s" % (
                    self.node.docker.instance, meta["uid"][:8], c["name"]),
                "--label", "k8sfake=" + self.node.docker.instance,
                "--label", "k8sfake.pod=%s/%s" % (self.ns, self.name),
                "--label", "k8sfake.uid=" + meta["uid"],
                "--label", "k8sfake.container=" + c["name"],
                "--network", "host"]
        if c.get("stdin"):
            args.append("-i")
        if c.get("tty"):
            args.append("-t")
        if c.get("workingDir"):
            args += ["-w", c["workingDir"]]
        for k, v in env.items():
            args += ["-e", "%s=%s" % (k, v)]
        for m in c.get("volumeMounts") or []:
            host = mounts[m["name"]]
            if m.get("subPath"):
                host = os.path.join(host, m["subPath"])
                if not os.path.exists(host):
                    os.makedirs(host, exist_ok=True)
                    os.chmod(host, 0o777)
            spec_ro = ""
            if m.get("readOnly") or any(
                    v["name"] == m["name"] and
                    (v.get("secret") is not None or
                     v.get("configMap") is not None)
                    for v in spec.get("volumes") or []):
                spec_ro = ":ro"
            args += ["-v", "%s:%s%s" % (host, m["mountPath"], spec_ro)]
        psc = spec.get("securityContext") or {}
        csc = c.get("securityContext") or {}
        user = csc.get("runAsUser", psc.get("runAsUser"))
        group = csc.get("runAsGroup", psc.get("runAsGroup"))
        if user is not None:
            args += ["--user", str(user) if group is None
                     else "%s:%s" % (user, group)]
        for g in psc.get("supplementalGroups") or []:
            args += ["--group-add", str(g)]
        if psc.get("fsGroup") is not None:
            args += ["--group-add", str(psc["fsGroup"])]
        caps = csc.get("capabilities") or {}
        for cap in caps.get("add") or []:
            args += ["--cap-add", cap]
        for cap in caps.get("drop") or []:
            args += ["--cap-drop", cap]
        if csc.get("readOnlyRootFilesystem"):
            args.append("--read-only")
        limits = (c.get("resources") or {}).get("limits") or {}
        from .schema import parse_quantity
        if "memory" in limits:
            args += ["--memory", str(int(parse_quantity(limits["memory"])))]
        if "cpu" in limits:
            args += ["--cpus", "%.3f" % parse_quantity(limits["cpu"])]
        for alias in spec.get("hostAliases") or []:
            for host in alias.get("hostnames") or []:
                args += ["--add-host", "%s:%s" % (host, alias["ip"])]
        command = [expand(x, env) for x in c.get("command") or []]
        cargs = [expand(x, env) for x in c.get("args") or []]
        if command:
            args += ["--entrypoint", command[0], c["image"]] + command[1:] + \
                cargs
        else:
            args += [c["image"]] + cargs
        return args

    def _pull(self, pod, c, init):
        """Waits until the image is present (there is no registry: a missing
        image fails as a failed pull does, with back-off).  The image id, or
        None when the pod is deleted meanwhile."""
        image = c["image"]
        policy = c.get("imagePullPolicy") or "IfNotPresent"
        path = "spec.%s{%s}" % ("initContainers" if init else "containers",
                                c["name"])
        first = True
        missing = [s["name"] for s in pod["spec"].get("imagePullSecrets") or []
                   if self.node.store.get("secrets", self.ns, s["name"]) is None]
        if missing:
            self.event("FailedToRetrieveImagePullSecret",
                       "Unable to retrieve some image pull secrets (%s); "
                       "attempting to pull the image may not succeed."
                       % ", ".join(missing), "Warning")
        while True:
            iid = self.node.docker.image_id(image)
            if iid:
                if policy == "Always":
                    self.event("Pulled", 'Successfully pulled image "%s" in '
                               '10ms (10ms including waiting). Image size: '
                               '1 bytes.' % image, field_path=path)
                else:
                    self.event("Pulled", 'Container image "%s" already '
                               'present on machine' % image, field_path=path)
                return iid
            if policy == "Never":
                msg = 'Container image "%s" is not present with pull policy ' \
                      'of Never' % image
                self.set_container(c["name"], init, {"state": {"waiting": {
                    "reason": "ErrImageNeverPull", "message": msg}}})
                self.event("ErrImageNeverPull", msg, "Warning", path)
                if self._sleep(2 * BACKOFF):
                    return None
                continue
            ref = image if "/" in image.split(":")[0] or "." in \
                image.split("/")[0] else "docker.io/library/" + image
            if ":" not in ref.rsplit("/", 1)[-1] and "@" not in ref:
                ref += ":latest"
            msg = ('failed to pull and unpack image "%s": failed to resolve '
                   'reference "%s": pull access denied, repository does not '
                   'exist or may require authorization: server message: '
                   'insufficient_scope: authorization failed' % (ref, ref))
            if first:
                self.event("Pulling", 'Pulling image "%s"' % image,
                           field_path=path)
            self.event("Failed", 'Failed to pull image "%s": %s'
                       % (image, msg), "Warning", path)
            self.event("Failed", "Error: ErrImagePull", "Warning", path)
            self.set_container(c["name"], init, {"state": {"waiting": {
                "reason": "ErrImagePull", "message": msg}}})
            if self._sleep(BACKOFF):
                return None
            backoff = 'Back-off pulling image "%s"' % image
            self.set_container(c["name"], init, {"state": {"waiting": {
                "reason": "ImagePullBackOff", "message": backoff}}})
            self.event("BackOff", backoff, "Normal", path)
            self.event("Failed", "Error: ImagePullBackOff", "Warning", path)
            first = False
            if self._sleep(2 * BACKOFF):
                return None

    def _start(self, pod, c, mounts, init):
        """Creates and starts c; its docker id, None when the pod is deleted
        meanwhile, or False when the container could not start (its status
        says why)."""
        iid = self._pull(pod, c, init)
        if iid is None:
            return None
        path = "spec.%s{%s}" % ("initContainers" if init else "containers",
                                c["name"])
        while True:
            try:
                env = self._env(pod, c)
                break
            except ConfigError as e:
                self.set_container(c["name"], init, {"state": {"waiting": {
                    "reason": "CreateContainerConfigError",
                    "message": str(e)}}})
                self.event("Failed", "Error: %s" % e, "Warning", path)
                if self._sleep(2 * BACKOFF):
                    return None
        with self.lock:
            old = self.containers.pop(c["name"], None)
        if old:
            self.node.docker.remove(old)
        args = self._docker_args(pod, c, mounts, env)
        name = args[1]
        if c.get("stdin") and c.get("stdinOnce"):
            cid, err = self.node.docker.create_start(name, args[2:])
        else:
            cid, err = self.node.docker.run_detached(name, args[2:])
        if cid is None:
            self.set_container(c["name"], init, {"state": {"waiting": {
                "reason": "CreateContainerError", "message": err}}})
            self.event("Failed", "Error: %s" % err, "Warning", path)
            return False
        with self.lock:
            if self.deleting:
                self.node.docker.remove(cid)
                return None
            self.containers[c["name"]] = cid
        self.event("Created", "Created container: %s" % c["name"],
                   field_path=path)
        if err:
            state = self.node.docker.state(cid) or {}
            self.set_container(c["name"], init, {
                "containerID": "docker://" + cid, "imageID": iid,
                "state": {"terminated": {
                    "exitCode": 128, "reason": "StartError",
                    "message": err, "startedAt": "1970-01-01T00:00:00Z",
                    "finishedAt": _docker_time(state.get("FinishedAt")),
                    "containerID": "docker://" + cid}}})
            self.event("Failed", "Error: %s" % err, "Warning", path)
            return False
        state = self.node.docker.state(cid) or {}
        self.set_container(c["name"], init, {
            "containerID": "docker://" + cid, "imageID": iid,
            "started": True, "ready": not init,
            "state": {"running": {
                "startedAt": _docker_time(state.get("StartedAt"))}}})
        self.event("Started", "Started container %s" % c["name"],
                   field_path=path)
        return cid

    def _wait(self, c, cid, init):
        """Waits for c to stop; its exit code."""
        state = self.node.docker.wait(cid) or {}
        code = state.get("ExitCode", 137)
        reason = "OOMKilled" if state.get("OOMKilled") else \
            ("Completed" if code == 0 else "Error")
        prev = self.container_status(c["name"], init) or {}
        self.set_container(c["name"], init, {
            "ready": False, "started": False,
            "state": {"terminated": {
                "exitCode": code, "reason": reason,
                "startedAt": _docker_time(state.get("StartedAt")),
                "finishedAt": _docker_time(state.get("FinishedAt")),
                "containerID": prev.get("containerID", "docker://" + cid)}}})
        return code

    def _restarts(self, pod, code):
        policy = pod["spec"].get("restartPolicy", "Always")
        return policy == "Always" or (policy == "OnFailure" and code != 0)

    def _restart_wait(self, c, init):
        prev = self.container_status(c["name"], init) or {}
        count = prev.get("restartCount", 0) + 1
        self.set_container(c["name"], init, {
            "restartCount": count, "lastState": prev.get("state", {}),
            "state": {"waiting": {
                "reason": "CrashLoopBackOff",
                "message": "back-off %ds restarting failed container=%s "
                           "pod=%s_%s(%s)" % (int(BACKOFF * 10), c["name"],
                                              self.name, self.ns,
                                              (self.pod() or {}).get(
                                                  "metadata", {}).get("uid"))}}})
        return self._sleep(2 * BACKOFF)

    def _run_init(self, pod, c, mounts):
        while True:
            cid = self._start(pod, c, mounts, True)
            if cid is None:
                return False
            code = self._wait(c, cid, True) if cid else 128
            if self._stopped():
                return False
            if code == 0:
                return True
            if pod["spec"].get("restartPolicy", "Always") == "Never":
                self._update(lambda p: recompute(p))
                return False
            if self._restart_wait(c, True):
                return False

    def _run_container(self, pod, c, mounts):
        while True:
            cid = self._start(pod, c, mounts, False)
            if cid is None:
                return
            code = self._wait(c, cid, False) if cid else 128
            if self._stopped() or not self._restarts(pod, code):
                return
            if self._restart_wait(c, False):
                return

    # deletion -------------------------------------------------------------

    def terminate(self, grace):
        """Stops every container (SIGTERM, then SIGKILL after grace seconds)
        and removes them and the pod's volumes."""
        with self.lock:
            self.deleting = True
            ids = dict(self.containers)
        if ids:
            pod = self.pod()
            for name in ids:
                self.event("Killing", "Stopping container %s" % name,
                           field_path="spec.containers{%s}" % name)
            stoppers = [threading.Thread(target=self.node.docker.stop,
                                         args=(cid, grace), daemon=True)
                        for cid in ids.values()]
            for t in stoppers:
                t.start()
            for t in stoppers:
                t.join()
            for t in self.threads:
                t.join(timeout=10)
            del pod
        with self.lock:
            ids = dict(self.containers)
            self.containers.clear()
        for cid in ids.values():
            self.node.docker.remove(cid)

    def remove_files(self, uid):
        shutil.rmtree(os.path.join(self.node.workdir, "pods", uid),
                      ignore_errors=True)
        self.deleted.set()


class ConfigError(Exception):
    pass


def _docker_time(value):
    """docker's RFC 3339 with nanoseconds -> Kubernetes' seconds form."""
    if not value or value.startswith("0001-"):
        return None
    return value[:19] + "Z"


def _waiting_status(c, reason):
    return {"name": c["name"], "state": {"waiting": {"reason": reason}},
            "lastState": {}, "ready": False, "restartCount": 0,
            "image": c["image"], "imageID": "", "started": False}


def _condition(conds, ctype, status, reason=None, message=None):
    for cond in conds:
        if cond["type"] == ctype:
            if cond["status"] != status:
                cond["lastTransitionTime"] = now()
            cond["status"] = status
            cond.pop("reason", None)
            cond.pop("message", None)
            break
    else:
        cond = {"type": ctype, "status": status, "lastProbeTime": None,
                "lastTransitionTime": now()}
        conds.append(cond)
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message


def recompute(pod):
    """phase and conditions from the container statuses, as the kubelet's
    getPhase and condition generators do."""
    st = pod.setdefault("status", {})
    if st.get("reason") == "DeadlineExceeded":
        return
    spec = pod["spec"]
    inits = st.get("initContainerStatuses") or []
    mains = st.get("containerStatuses") or []
    policy = spec.get("restartPolicy", "Always")

    def term(cs):
        return (cs.get("state") or {}).get("terminated")

    init_failed = any(term(cs) and term(cs)["exitCode"] != 0 and
                      policy == "Never" for cs in inits)
    init_done = all(term(cs) and term(cs)["exitCode"] == 0 for cs in inits)
    running = sum(1 for cs in mains if "running" in (cs.get("state") or {}))
    terminated = [term(cs) for cs in mains if term(cs)]
    if init_failed:
        phase = "Failed"
    elif not init_done:
        phase = "Pending"
    elif mains and len(terminated) == len(mains) and policy != "Always" and \
            (policy == "Never" or all(t["exitCode"] == 0 for t in terminated)):
        phase = "Succeeded" if all(t["exitCode"] == 0 for t in terminated) \
            else "Failed"
    elif running or any(cs.get("restartCount") for cs in mains) or \
            (terminated and len(terminated) < len(mains)):
        phase = "Running"
    else:
        phase = "Pending"
    st["phase"] = phase
    conds = st.setdefault("conditions", [])
    if not any(c["type"] == "PodScheduled" for c in conds):
        return
    _condition(conds, "PodReadyToStartContainers", "True")
    if init_done or init_failed is False and not inits:
        _condition(conds, "Initialized", "True")
    else:
        pending = [cs["name"] for cs in inits
                   if not (term(cs) and term(cs)["exitCode"] == 0)]
        _condition(conds, "Initialized", "False", "ContainersNotInitialized",
                   "containers with incomplete status: [%s]"
                   % " ".join(pending))
    unready = [cs["name"] for cs in mains if not cs.get("ready")]
    if phase == "Succeeded" or phase == "Failed":
        reason = "PodCompleted"
        _condition(conds, "ContainersReady", "False", reason)
        _condition(conds, "Ready", "False", reason)
    elif unready:
        msg = "containers with unready status: [%s]" % " ".join(unready)
        _condition(conds, "ContainersReady", "False", "ContainersNotReady", msg)
        _condition(conds, "Ready", "False", "ContainersNotReady", msg)
    else:
        _condition(conds, "ContainersReady", "True")
        _condition(conds, "Ready", "True")
    order = {"PodReadyToStartContainers": 0, "Initialized": 1, "Ready": 2,
             "ContainersReady": 3, "PodScheduled": 4}
    conds.sort(key=lambda c: order.get(c["type"], 9))
