"""The ResourceQuota admission of pods: quotas come from --quota (there
are no ResourceQuota objects); the refusal texts are the real plugin's."""

from . import schema


QUOTA_KEYS = {"cpu": ("requests", "cpu"), "memory": ("requests", "memory"),
              "requests.cpu": ("requests", "cpu"),
              "requests.memory": ("requests", "memory"),
              "limits.cpu": ("limits", "cpu"),
              "limits.memory": ("limits", "memory"),
              "requests.ephemeral-storage": ("requests", "ephemeral-storage"),
              "limits.ephemeral-storage": ("limits", "ephemeral-storage")}


def _pod_usage(pod, key):
    if key == "pods":
        return 1.0
    kind, res = QUOTA_KEYS[key]
    total = 0.0
    for c in pod["spec"].get("containers") or []:
        value = ((c.get("resources") or {}).get(kind) or {}).get(res)
        if value is None and kind == "requests":
            value = ((c.get("resources") or {}).get("limits") or {}).get(res)
        total += schema.parse_quantity(value) if value is not None else 0
    return total


def _fmt(key, value):
    if key.endswith("cpu") or key == "cpu":
        return "%gm" % (value * 1000) if value < 1 else "%g" % value
    if key == "pods":
        return "%d" % value
    for unit, size in (("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if value >= size and value % size == 0:
            return "%d%s" % (value // size, unit)
    return "%d" % value


def quota_violation(qname, hard, pod, existing):
    """The ResourceQuota admission's refusal for pod, or None."""
    missing = []
    for key in hard:
        if key in QUOTA_KEYS:
            kind, res = QUOTA_KEYS[key]
            for c in pod["spec"]["containers"]:
                r = c.get("resources") or {}
                if res not in (r.get(kind) or {}) and \
                        res not in (r.get("limits") or {}):
                    missing.append((key, c["name"]))
    if missing:
        keys = sorted({k for k, _ in missing})
        return "failed quota: %s: must specify %s" % (qname, "; ".join(
            "%s for: %s" % (k, ",".join(c for kk, c in missing if kk == k))
            for k in keys))
    live = [p for p in existing if (p.get("status") or {}).get("phase") not in
            ("Succeeded", "Failed")]
    over = []
    for key, (limit, text) in sorted(hard.items()):
        if key != "pods" and key not in QUOTA_KEYS:
            continue
        used = sum(_pod_usage(p, key) for p in live)
        want = _pod_usage(pod, key)
        if used + want > limit:
            over.append((key, want, used, text))
    if not over:
        return None
    return "exceeded quota: %s, requested: %s, used: %s, limited: %s" % (
        qname, ",".join("%s=%s" % (k, _fmt(k, w)) for k, w, _, _ in over),
        ",".join("%s=%s" % (k, _fmt(k, u)) for k, _, u, _ in over),
        ",".join("%s=%s" % (k, t) for k, _, _, t in over))
