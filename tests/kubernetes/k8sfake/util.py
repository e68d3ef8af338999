"""Small helpers shared by the fake's modules."""

import datetime


def now():
    """A metav1.Time: RFC 3339 in UTC, whole seconds."""
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def status(code, reason, message, details=None):
    """A metav1.Status failure object."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": reason,
            "code": code}
    if details is not None:
        body["details"] = details
    return body
