"""How a pod's container becomes a `docker run`: its environment (values,
fieldRef, secret and configMap references, $(VAR) expansion) and the docker
arguments for command, mounts, security context, limits and host aliases."""

import base64
import os
import re

from .schema import parse_quantity


class ConfigError(Exception):
    pass



def expand(text, env):
    """Kubernetes' $(VAR) expansion of command, args and env values."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group(1)
        return env[name] if name in env else m.group(0)
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)", sub, text)


def environment(store, ns, node_name, pod, c):
    """The container's environment, or raises ConfigError."""
    env = {}
    for ef in c.get("envFrom") or []:
        for key, resource, what in (("configMapRef", "configmaps",
                                     "configmap"),
                                    ("secretRef", "secrets", "secret")):
            ref = ef.get(key)
            if not ref:
                continue
            obj = store.get(resource, ns, ref["name"])
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
            env[name] = _field_ref(ns, node_name, pod,
                                   src["fieldRef"]["fieldPath"])
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
                obj = store.get(resource, ns, ref["name"])
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
                                         else "ConfigMap", ns,
                                         ref["name"]))
                val = data[ref["key"]] or ""
                if resource == "secrets":
                    val = base64.b64decode(val).decode(errors="replace")
                env[name] = val
    return env

def _field_ref(ns, node_name, pod, path):
    meta = pod["metadata"]
    simple = {
        "metadata.name": meta["name"], "metadata.namespace": ns,
        "metadata.uid": meta["uid"], "spec.nodeName": node_name,
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

def docker_args(instance, ns, name, pod, c, mounts, env):
    """The `docker run` arguments (after `run -d`) of container c."""
    meta = pod["metadata"]
    spec = pod["spec"]
    args = ["--name", "k8sfake-%s-%s-%s" % (
                instance, meta["uid"][:8], c["name"]),
            "--label", "k8sfake=" + instance,
            "--label", "k8sfake.pod=%s/%s" % (ns, name),
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
