/*
 * The identity of a GCE instance for signing GCS URLs without a key, as
 * Google's Go clients find it: the default service account's e-mail and
 * an OAuth2 token from the metadata server (GCE_METADATA_HOST, else
 * 169.254.169.254; "Metadata-Flavor: Google"), and the IAM credentials
 * API's signBlob, which signs with the account's Google-managed key.
 */
#ifndef CR_ARCHIVE_CACHE_GCS_IDENTITY_H
#define CR_ARCHIVE_CACHE_GCS_IDENTITY_H

#include <stddef.h>

struct buf;

#define GCE_METADATA_DEFAULT_HOST "169.254.169.254"
#define GCE_METADATA_TIMEOUT_MS 5000L
#define GCS_IAM_TIMEOUT_MS 30000L

/*
 * The default service account's e-mail and access token from the
 * metadata server, into *email and *token (malloc'd; the token is a
 * secret).  Returns 0 or a CR_ERR_* with one sentence in err.
 */
int gce_metadata_identity(char **email, char **token, struct buf *err);

/*
 * POST <iam_base>/v1/projects/-/serviceAccounts/<email>:signBlob with the
 * bearer token; the decoded signedBlob is appended to sig.  Returns 0 or
 * a CR_ERR_* with one sentence in err (the API's own message if any).
 */
int gcs_iam_sign_blob(const char *iam_base, const char *email,
		      const char *token, const void *data, size_t len,
		      struct buf *sig, struct buf *err);

#endif
