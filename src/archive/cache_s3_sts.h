/*
 * S3 cache credentials for a RoleARN, as gitlab-runner 19.x gets them
 * (cache/s3v2 FetchCredentialsForRole): an STS AssumeRole call signed
 * with SigV4 (Authorization header) under the runner's own credentials
 * (access keys or IAM), a one-hour session named
 * gitlab-runner-cache-upload-<random>, and a session policy that allows
 * only s3:GetObject (download) or s3:PutObject (upload) on the one cache
 * object (arn:<partition>:s3:::<bucket>/<object>), plus kms:Decrypt and
 * kms:GenerateDataKey on ServerSideEncryptionKeyID with KMS encryption.
 *
 * The endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL (the SDK's
 * endpoint variables), else https://sts.<region>.amazonaws.com.
 *
 * Credentials are kept in an s3_role_cache keyed by role, bucket, object
 * and direction, and reused while they have at least
 * min(max(timeout, 1 min), 55 min) left, as gitlab-runner's LRU does.
 */
#ifndef CR_ARCHIVE_CACHE_S3_STS_H
#define CR_ARCHIVE_CACHE_S3_STS_H

#include <stdbool.h>
#include <time.h>

#include "archive/cache_s3_creds.h"

struct buf;

#define STS_SESSION_SECONDS 3600L
#define STS_TIMEOUT_MS 30000L
#define STS_CACHE_MAX 1000
#define STS_MIN_VALIDITY_CAP_S (55L * 60)

struct s3_role_request {
	const char *role_arn;
	const char *bucket;
	const char *object;
	bool upload;
	const char *region;		/* NULL or "": us-east-1 */
	const char *kms_key_id;		/* KMS encryption: the key; else NULL */
	const struct s3_creds *base;	/* who calls AssumeRole */
	time_t now;
	long timeout;			/* the job's, seconds */
};

/*
 * Credentials already given out, shared by one runner process's jobs and
 * by their signers off the loop thread (a lock inside).  Refcounted:
 * s3_role_cache_new() gives one ref, s3_role_cache_ref() another (the
 * cache itself again, NULL stays NULL), s3_role_cache_free() drops one and
 * frees with the last.
 */
struct s3_role_cache;

struct s3_role_cache *s3_role_cache_new(void);
struct s3_role_cache *s3_role_cache_ref(struct s3_role_cache *c);
void s3_role_cache_free(struct s3_role_cache *c);

/* The session policy of r (JSON text, malloc'd). */
char *s3_role_session_policy(const struct s3_role_request *r);

/*
 * The role's credentials for r into out (S3_CREDS_INIT): from cache (may
 * be NULL: always asks STS) when they are still fresh enough, else from
 * STS, then kept in cache.  Returns 0, or a CR_ERR_* with one sentence in
 * err ("failed to assume role ...: <STS code>: <message>").
 */
int s3_assume_role(const struct s3_role_request *r, struct s3_role_cache *cache,
		   struct s3_creds *out, struct buf *err);

#endif
