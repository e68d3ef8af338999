"""A pod's status as the kubelet reports it: container states, the phase
from them, and the conditions."""

from .util import now


def docker_time(value):
    """docker's RFC 3339 with nanoseconds -> Kubernetes' seconds form."""
    if not value or value.startswith("0001-"):
        return None
    return value[:19] + "Z"


def waiting_status(c, reason):
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
