"""What each core/v1 resource of the fake is: its kind, schema type,
validation, whether it is namespaced, and the defaults the API server fills
in on create."""

import base64
import copy
import itertools

from . import validation
from .schema import parse_quantity

RESOURCES = {
    "pods": {"kind": "Pod", "type": "Pod", "namespaced": True,
             "validate": validation.validate_pod},
    "secrets": {"kind": "Secret", "type": "Secret", "namespaced": True,
                "validate": validation.validate_secret},
    "configmaps": {"kind": "ConfigMap", "type": "ConfigMap",
                   "namespaced": True,
                   "validate": validation.validate_configmap},
    "services": {"kind": "Service", "type": "Service", "namespaced": True,
                 "validate": validation.validate_service},
    "serviceaccounts": {"kind": "ServiceAccount", "type": "ServiceAccount",
                        "namespaced": True,
                        "validate": validation.validate_simple},
    "persistentvolumeclaims": {"kind": "PersistentVolumeClaim",
                               "type": "PersistentVolumeClaim",
                               "namespaced": True,
                               "validate": validation.validate_simple},
    "events": {"kind": "Event", "type": None, "namespaced": True,
               "validate": validation.validate_simple},
    "namespaces": {"kind": "Namespace", "type": "Namespace",
                   "namespaced": False,
                   "validate": validation.validate_namespace},
    "nodes": {"kind": "Node", "type": None, "namespaced": False,
              "validate": None},
}

SHORT = {"pods": ["po"], "services": ["svc"], "configmaps": ["cm"],
         "serviceaccounts": ["sa"], "persistentvolumeclaims": ["pvc"],
         "events": ["ev"], "namespaces": ["ns"], "nodes": ["no"]}

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch",
         "update", "watch"]


def api_resource_list():
    out = []
    for name, r in RESOURCES.items():
        out.append({"name": name, "singularName": r["kind"].lower(),
                    "namespaced": r["namespaced"], "kind": r["kind"],
                    "verbs": VERBS if name != "nodes"
                    else ["get", "list", "watch"],
                    "shortNames": SHORT.get(name, [])})
    for sub, verbs in (("log", ["get"]), ("exec", ["create", "get"]),
                       ("attach", ["create", "get"]),
                       ("status", ["get", "patch", "update"])):
        out.append({"name": "pods/" + sub, "singularName": "",
                    "namespaced": True,
                    "kind": "PodExecOptions" if sub == "exec" else
                    "PodAttachOptions" if sub == "attach" else
                    "Pod" if sub == "status" else "Pod",
                    "verbs": verbs})
    return {"kind": "APIResourceList", "groupVersion": "v1",
            "resources": out}


_ips = itertools.count(10)


def _pull_policy(image):
    name = image.rsplit("/", 1)[-1]
    if "@" in name:
        return "IfNotPresent"
    if ":" not in name or name.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def _default_container(c):
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("imagePullPolicy", _pull_policy(c.get("image", "")))
    res = c.setdefault("resources", {})
    limits = res.get("limits") or {}
    if limits:
        req = res.setdefault("requests", {})
        for k, v in limits.items():
            req.setdefault(k, v)
    for p in c.get("ports") or []:
        p.setdefault("protocol", "TCP")


def _qos(pod):
    cs = pod["spec"]["containers"] + (pod["spec"].get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in cs:
        res = c.get("resources") or {}
        lim, req = res.get("limits") or {}, res.get("requests") or {}
        if lim or req:
            any_set = True
        for k in ("cpu", "memory"):
            if k not in lim or parse_quantity(lim[k]) != \
                    parse_quantity(req.get(k, lim[k])):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def default(resource, obj):
    """Fills in the API server's defaults (obj is changed in place)."""
    if resource == "pods":
        spec = obj["spec"]
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("securityContext", {})
        spec.setdefault("schedulerName", "default-scheduler")
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        sa = spec.get("serviceAccountName") or spec.get("serviceAccount") \
            or "default"
        spec["serviceAccountName"] = sa
        spec["serviceAccount"] = sa
        tolerations = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready",
                    "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tolerations):
                tolerations.append({"key": key, "operator": "Exists",
                                    "effect": "NoExecute",
                                    "tolerationSeconds": 300})
        for c in spec.get("initContainers") or []:
            _default_container(c)
        for c in spec["containers"]:
            _default_container(c)
        for v in spec.get("volumes") or []:
            for src in ("secret", "configMap"):
                if v.get(src) is not None:
                    v[src].setdefault("defaultMode", 0o644)
            if v.get("hostPath") is not None:
                v["hostPath"].setdefault("type", "")
        obj["status"] = {"phase": "Pending", "qosClass": _qos(obj)}
    elif resource == "secrets":
        obj.setdefault("type", "Opaque")
        string_data = obj.pop("stringData", None) or {}
        data = obj.setdefault("data", {}) if string_data else obj.get("data")
        for k, v in string_data.items():
            data[k] = base64.b64encode(v.encode()).decode()
    elif resource == "services":
        spec = obj.setdefault("spec", {})
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        if spec["type"] != "ExternalName":
            if not spec.get("clusterIP"):
                n = next(_ips)
                spec["clusterIP"] = "10.96.%d.%d" % (n // 250, n % 250 + 1)
            spec["clusterIPs"] = [spec["clusterIP"]]
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
        for p in spec.get("ports") or []:
            p.setdefault("protocol", "TCP")
            p.setdefault("targetPort", p.get("port"))
        obj["status"] = {"loadBalancer": {}}
    elif resource == "namespaces":
        obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        obj["status"] = {"phase": "Active"}
        labels = obj["metadata"].setdefault("labels", {})
        labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
    elif resource == "persistentvolumeclaims":
        obj["status"] = {"phase": "Bound",
                         "accessModes": copy.deepcopy(
                             (obj.get("spec") or {}).get("accessModes", [])),
                         "capacity": copy.deepcopy(
                             ((obj.get("spec") or {}).get("resources") or {})
                             .get("requests") or {})}
    return obj


def node_object(name, labels, rv="1"):
    return {
        "kind": "Node", "apiVersion": "v1",
        "metadata": {"name": name, "uid": "00000000-0000-4000-8000-"
                     "000000000001", "resourceVersion": rv,
                     "creationTimestamp": "2026-01-01T00:00:00Z",
                     "labels": dict(labels)},
        "spec": {},
        "status": {
            "capacity": {"cpu": "2", "memory": "4Gi", "pods": "110",
                         "ephemeral-storage": "20Gi"},
            "allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110",
                            "ephemeral-storage": "20Gi"},
            "conditions": [{"type": "Ready", "status": "True",
                            "reason": "KubeletReady",
                            "message": "kubelet is posting ready status",
                            "lastHeartbeatTime": "2026-01-01T00:00:00Z",
                            "lastTransitionTime": "2026-01-01T00:00:00Z"}],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"},
                          {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.31.0",
                         "containerRuntimeVersion": "docker://fake",
                         "operatingSystem": "linux",
                         "architecture": "amd64"},
        },
    }
