"""The fake node's kubelet and scheduler: one PodRunner thread per pod
schedules it on the single node, prepares its volumes, runs init containers
to completion and then the containers as Docker containers, and keeps
status.phase, conditions and containerStatuses as the kubelet reports them."""

import os
import shutil
import threading
import time

from . import containerspec, volumes
from .podstatus import docker_time, recompute, waiting_status
from .scheduler import unschedulable_reason
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
        except volumes.MountError:
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
        reason = unschedulable_reason(self.node, self.ns, pod)
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
                waiting_status(c, "PodInitializing" if i else
                                "ContainerCreating")
                for i, c in enumerate(inits)] if inits else []
            if not inits:
                del st["initContainerStatuses"]
            st["containerStatuses"] = [waiting_status(c, waiting)
                                       for c in p["spec"]["containers"]]
            recompute(p)
        self._update(bind)
        self.event("Scheduled", "Successfully assigned %s/%s to %s"
                   % (self.ns, self.name, self.node.name))
        return True

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

    def _prepare_volumes(self, pod):
        """Host directory of each volume.  A volume that cannot be set up
        keeps the pod in ContainerCreating with FailedMount events and is
        retried until it can or the pod is deleted."""
        while True:
            try:
                return volumes.set_up(self.node, self.ns, pod)
            except volumes.MountError as e:
                self.event("FailedMount", str(e), "Warning")
                if self._sleep(2 * BACKOFF):
                    return None

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
                env = containerspec.environment(
                    self.node.store, self.ns, self.node.name, pod, c)
                break
            except containerspec.ConfigError as e:
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
        args = containerspec.docker_args(
            self.node.docker.instance, self.ns, self.name, pod, c, mounts, env)
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
                    "finishedAt": docker_time(state.get("FinishedAt")),
                    "containerID": "docker://" + cid}}})
            self.event("Failed", "Error: %s" % err, "Warning", path)
            return False
        state = self.node.docker.state(cid) or {}
        self.set_container(c["name"], init, {
            "containerID": "docker://" + cid, "imageID": iid,
            "started": True, "ready": not init,
            "state": {"running": {
                "startedAt": docker_time(state.get("StartedAt"))}}})
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
                "startedAt": docker_time(state.get("StartedAt")),
                "finishedAt": docker_time(state.get("FinishedAt")),
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
        with self.lock:
            ids = dict(self.containers)
            self.containers.clear()
        for cid in ids.values():
            self.node.docker.remove(cid)

    def remove_files(self, uid):
        shutil.rmtree(os.path.join(self.node.workdir, "pods", uid),
                      ignore_errors=True)
        self.deleted.set()


