"""Field types of the core/v1 objects the fake accepts, and the decoder that
checks a request body against them the way the API server's JSON decoder
does: a wrong JSON type is a decode error (400 BadRequest), an unknown field
is reported according to fieldValidation (Strict: 400, Warn: a Warning
header, Ignore: nothing).

Type notation: "string", "int", "bool", "quantity", "any", "object" (any
JSON object, contents not checked), "labels" (map of string to string),
["T"] a list of T, ("map", "T") a map of string to T, or the name of a
struct in TYPES.
"""

import re

S, I, B, Q, A, O, M = "string", "int", "bool", "quantity", "any", "object", "labels"

TYPES = {
    "ObjectMeta": {
        "name": S, "generateName": S, "namespace": S, "labels": M,
        "annotations": M, "uid": S, "resourceVersion": S,
        "creationTimestamp": A, "deletionTimestamp": A,
        "deletionGracePeriodSeconds": I, "generation": I,
        "ownerReferences": ["OwnerReference"], "finalizers": [S],
        "managedFields": [O], "selfLink": S,
    },
    "OwnerReference": {
        "apiVersion": S, "kind": S, "name": S, "uid": S, "controller": B,
        "blockOwnerDeletion": B,
    },
    "Pod": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta",
            "spec": "PodSpec", "status": O},
    "PodSpec": {
        "volumes": ["Volume"], "initContainers": ["Container"],
        "containers": ["Container"], "ephemeralContainers": [O],
        "restartPolicy": S, "terminationGracePeriodSeconds": I,
        "activeDeadlineSeconds": I, "dnsPolicy": S, "nodeSelector": M,
        "serviceAccountName": S, "serviceAccount": S,
        "automountServiceAccountToken": B, "nodeName": S, "hostNetwork": B,
        "hostPID": B, "hostIPC": B, "shareProcessNamespace": B,
        "securityContext": "PodSecurityContext",
        "imagePullSecrets": ["LocalObjectReference"], "hostname": S,
        "subdomain": S, "affinity": O, "schedulerName": S,
        "tolerations": ["Toleration"], "hostAliases": ["HostAlias"],
        "priorityClassName": S, "priority": I, "dnsConfig": "PodDNSConfig",
        "readinessGates": [O], "runtimeClassName": S,
        "enableServiceLinks": B, "preemptionPolicy": S,
        "overhead": ("map", Q), "topologySpreadConstraints": [O],
        "setHostnameAsFQDN": B, "os": O, "hostUsers": B,
        "schedulingGates": [O], "resourceClaims": [O],
        "resources": "ResourceRequirements",
    },
    "Container": {
        "name": S, "image": S, "command": [S], "args": [S], "workingDir": S,
        "ports": ["ContainerPort"], "envFrom": ["EnvFromSource"],
        "env": ["EnvVar"], "resources": "ResourceRequirements",
        "resizePolicy": [O], "restartPolicy": S,
        "volumeMounts": ["VolumeMount"], "volumeDevices": [O],
        "livenessProbe": O, "readinessProbe": O, "startupProbe": O,
        "lifecycle": O, "terminationMessagePath": S,
        "terminationMessagePolicy": S, "imagePullPolicy": S,
        "securityContext": "SecurityContext", "stdin": B, "stdinOnce": B,
        "tty": B,
    },
    "ContainerPort": {"name": S, "hostPort": I, "containerPort": I,
                      "protocol": S, "hostIP": S},
    "EnvVar": {"name": S, "value": S, "valueFrom": "EnvVarSource"},
    "EnvVarSource": {"fieldRef": "ObjectFieldSelector",
                     "resourceFieldRef": O,
                     "configMapKeyRef": "KeySelector",
                     "secretKeyRef": "KeySelector"},
    "ObjectFieldSelector": {"apiVersion": S, "fieldPath": S},
    "KeySelector": {"name": S, "key": S, "optional": B},
    "EnvFromSource": {"prefix": S, "configMapRef": "EnvFromRef",
                      "secretRef": "EnvFromRef"},
    "EnvFromRef": {"name": S, "optional": B},
    "ResourceRequirements": {"limits": ("map", Q), "requests": ("map", Q),
                             "claims": [O]},
    "VolumeMount": {"name": S, "readOnly": B, "mountPath": S, "subPath": S,
                    "mountPropagation": S, "subPathExpr": S,
                    "recursiveReadOnly": S},
    "SecurityContext": {
        "capabilities": "Capabilities", "privileged": B,
        "seLinuxOptions": O, "windowsOptions": O, "runAsUser": I,
        "runAsGroup": I, "runAsNonRoot": B, "readOnlyRootFilesystem": B,
        "allowPrivilegeEscalation": B, "procMount": S, "seccompProfile": O,
        "appArmorProfile": O,
    },
    "Capabilities": {"add": [S], "drop": [S]},
    "PodSecurityContext": {
        "seLinuxOptions": O, "windowsOptions": O, "runAsUser": I,
        "runAsGroup": I, "runAsNonRoot": B, "supplementalGroups": [I],
        "supplementalGroupsPolicy": S, "fsGroup": I, "sysctls": [O],
        "fsGroupChangePolicy": S, "seccompProfile": O, "appArmorProfile": O,
        "seLinuxChangePolicy": S,
    },
    "Toleration": {"key": S, "operator": S, "value": S, "effect": S,
                   "tolerationSeconds": I},
    "HostAlias": {"ip": S, "hostnames": [S]},
    "PodDNSConfig": {"nameservers": [S], "searches": [S],
                     "options": ["PodDNSConfigOption"]},
    "PodDNSConfigOption": {"name": S, "value": S},
    "LocalObjectReference": {"name": S},
    "Volume": {
        "name": S, "hostPath": "HostPathVolumeSource",
        "emptyDir": "EmptyDirVolumeSource",
        "secret": "SecretVolumeSource", "configMap": "ConfigMapVolumeSource",
        "persistentVolumeClaim": "PVCVolumeSource",
        "csi": "CSIVolumeSource", "projected": O, "downwardAPI": O,
        "ephemeral": O, "nfs": O, "image": O,
    },
    "HostPathVolumeSource": {"path": S, "type": S},
    "EmptyDirVolumeSource": {"medium": S, "sizeLimit": Q},
    "SecretVolumeSource": {"secretName": S, "items": ["KeyToPath"],
                           "defaultMode": I, "optional": B},
    "ConfigMapVolumeSource": {"name": S, "items": ["KeyToPath"],
                              "defaultMode": I, "optional": B},
    "KeyToPath": {"key": S, "path": S, "mode": I},
    "PVCVolumeSource": {"claimName": S, "readOnly": B},
    "CSIVolumeSource": {"driver": S, "readOnly": B, "fsType": S,
                        "volumeAttributes": M,
                        "nodePublishSecretRef": "LocalObjectReference"},
    "Secret": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta",
               "data": M, "stringData": M, "type": S, "immutable": B},
    "ConfigMap": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta",
                  "data": M, "binaryData": M, "immutable": B},
    "Service": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta",
                "spec": "ServiceSpec", "status": O},
    "ServiceSpec": {
        "ports": ["ServicePort"], "selector": M, "clusterIP": S,
        "clusterIPs": [S], "type": S, "externalIPs": [S],
        "sessionAffinity": S, "loadBalancerIP": S, "externalName": S,
        "externalTrafficPolicy": S, "internalTrafficPolicy": S,
        "ipFamilies": [S], "ipFamilyPolicy": S,
        "publishNotReadyAddresses": B, "healthCheckNodePort": I,
        "allocateLoadBalancerNodePorts": B, "loadBalancerClass": S,
        "sessionAffinityConfig": O, "loadBalancerSourceRanges": [S],
        "trafficDistribution": S,
    },
    "ServicePort": {"name": S, "protocol": S, "appProtocol": S, "port": I,
                    "targetPort": A, "nodePort": I},
    "Namespace": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta",
                  "spec": O, "status": O},
    "ServiceAccount": {"apiVersion": S, "kind": S, "metadata": "ObjectMeta",
                       "secrets": [O],
                       "imagePullSecrets": ["LocalObjectReference"],
                       "automountServiceAccountToken": B},
    "PersistentVolumeClaim": {"apiVersion": S, "kind": S,
                              "metadata": "ObjectMeta", "spec": O,
                              "status": O},
    "DeleteOptions": {"apiVersion": S, "kind": S, "gracePeriodSeconds": I,
                      "preconditions": "Preconditions",
                      "orphanDependents": B, "propagationPolicy": S,
                      "dryRun": [S],
                      "ignoreStoreReadErrorWithClusterBreakingPotential": B},
    "Preconditions": {"uid": S, "resourceVersion": S},
}

QUANTITY_RE = re.compile(
    r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"((?:[KMGTPE]i)|[numkMGTPE]|(?:[eE][+-]?[0-9]+))?$")

_SUFFIX = {
    None: 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9,
    "T": 1e12, "P": 1e15, "E": 1e18, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30,
    "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}


def parse_quantity(value):
    """Value of a resource.Quantity (string or JSON number), None if it is
    not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    m = QUANTITY_RE.match(value)
    if not m:
        return None
    suffix = m.group(2)
    if suffix and suffix[0] in "eE":
        return float(m.group(1)) * 10 ** int(suffix[1:])
    return float(m.group(1)) * _SUFFIX[suffix]


class DecodeError(Exception):
    """The body does not decode into the Go type (HTTP 400)."""


def _json_kind(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


_GO_TYPE = {S: "string", I: "int64", B: "bool"}


def _go_type(t):
    if isinstance(t, list):
        return "[]" + _go_type(t[0])
    if isinstance(t, tuple):
        return "map[string]" + _go_type(t[1])
    if t == M:
        return "map[string]string"
    if t == O:
        return "map[string]interface {}"
    if t == Q:
        return "resource.Quantity"
    return _GO_TYPE.get(t, "v1." + t)


def decode(value, typ, unknown, struct="", path=""):
    """Check value against typ. Unknown field paths are appended to
    unknown. Raises DecodeError with the Go decoder's message form."""
    if value is None:
        return

    def bad(detail=None):
        got = detail or _json_kind(value)
        raise DecodeError(
            "json: cannot unmarshal %s into Go struct field %s.%s of type %s"
            % (got, struct or "Object", go_path(path), _go_type(typ)))

    if typ == A:
        return
    if typ == S:
        if not isinstance(value, str):
            bad()
        return
    if typ == B:
        if not isinstance(value, bool):
            bad()
        return
    if typ == I:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            bad()
        if isinstance(value, float) and value != int(value):
            bad("number %s" % value)
        return
    if typ == Q:
        if parse_quantity(value) is None:
            raise DecodeError(
                "quantities must match the regular expression "
                "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        return
    if typ == O:
        if not isinstance(value, dict):
            bad()
        return
    if typ == M:
        if not isinstance(value, dict):
            bad()
        for k, v in value.items():
            if v is not None and not isinstance(v, str):
                raise DecodeError(
                    "json: cannot unmarshal %s into Go struct field %s.%s "
                    "of type string" % (_json_kind(v), struct or "Object",
                                        go_path(path)))
        return
    if isinstance(typ, list):
        if not isinstance(value, list):
            bad()
        for i, item in enumerate(value):
            decode(item, typ[0], unknown, struct, path + "[%d]" % i)
        return
    if isinstance(typ, tuple):
        if not isinstance(value, dict):
            bad()
        for k, item in value.items():
            decode(item, typ[1], unknown, struct, path + "." + k)
        return
    fields = TYPES[typ]
    if not isinstance(value, dict):
        bad()
    for k, item in value.items():
        sub = path + "." + k if path else k
        if k not in fields:
            unknown.append(sub)
            continue
        decode(item, fields[k], unknown, typ, sub)


def go_path(path):
    """The field path the Go decoder names (no list indices)."""
    return re.sub(r"\[\d+\]", "", path)
