"""The kubelet's volume set-up on the fake node: each pod volume becomes a
host directory that docker bind-mounts (emptyDir, hostPath, secret and
configMap files, a directory per persistentVolumeClaim, CSI for the drivers
given by --csi-driver)."""

import base64
import os
import shutil


class MountError(Exception):
    pass


def set_up(node, ns, pod):
    """Host directory of each volume; raises MountError."""
    mounts = {}
    base = os.path.join(node.workdir, "pods", pod["metadata"]["uid"],
                        "volumes")
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
            _write_projection(node, ns, v, path)
        elif v.get("persistentVolumeClaim") is not None:
            path = os.path.join(node.workdir, "pvc", ns,
                                v["persistentVolumeClaim"]["claimName"])
            os.makedirs(path, exist_ok=True)
            os.chmod(path, 0o777)
        elif v.get("csi") is not None:
            driver = v["csi"]["driver"]
            if driver not in node.csi_drivers:
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

def _write_projection(node, ns, v, path):
    if v.get("secret") is not None:
        src, resource = v["secret"], "secrets"
        obj_name, what = src["secretName"], "secret"
    else:
        src, resource = v["configMap"], "configmaps"
        obj_name, what = src["name"], "configmap"
    obj = node.store.get(resource, ns, obj_name)
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
