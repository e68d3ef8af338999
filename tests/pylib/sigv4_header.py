"""The AWS SigV4 signature of a request signed in its Authorization
header (body hashed, no query string), as the loopback fakes of STS and
Secrets Manager check it (tests/objstore/fake_sts.py,
tests/secrets/fake_aws.py).  Standard library only.
"""

import hashlib
import hmac


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(secret, region, service, date, method, path, headers, names, body):
    """Hex signature over the headers named in names (lower-case, in
    order), with date the request's x-amz-date and body its bytes."""
    canonical = "".join("%s:%s\n" % (n, " ".join(headers.get(n, "").split())) for n in names)
    creq = "\n".join([method, path, "", canonical, ";".join(names),
                      hashlib.sha256(body).hexdigest()])
    sts = "\n".join(["AWS4-HMAC-SHA256", date,
                     "%s/%s/%s/aws4_request" % (date[:8], region, service),
                     hashlib.sha256(creq.encode()).hexdigest()])
    key = _hmac(("AWS4" + secret).encode(), date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
