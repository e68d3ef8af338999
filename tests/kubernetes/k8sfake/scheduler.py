"""The scheduler of the one-node fake cluster: nodeSelector, required node
affinity and missing PersistentVolumeClaims keep a pod Pending."""


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


def unschedulable_reason(node, ns, pod):
    """Why the single node cannot take pod, or None."""
    spec = pod["spec"]
    labels = node.labels
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return "1 node(s) didn't match Pod's node affinity/selector"
    if not node_affinity_matches(labels, spec.get("affinity")):
        return "1 node(s) didn't match Pod's node affinity/selector"
    for v in spec.get("volumes") or []:
        pvc = v.get("persistentVolumeClaim")
        if pvc and node.store.get("persistentvolumeclaims", ns,
                                       pvc["claimName"]) is None:
            return 'persistentvolumeclaim "%s" not found' % \
                pvc["claimName"]
    return None
