/*
 * Credentials for an S3 cache without access keys (gitlab-runner's "iam"
 * authentication type), found as the AWS SDK's default chain finds them
 * on a runner host: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
 * AWS_SESSION_TOKEN) in the environment, else the EC2 instance profile
 * from the instance metadata service with an IMDSv2 session token.
 *
 * The metadata service is asked again for every pre-signed URL (three
 * small requests on the link-local address): a URL is never signed with
 * credentials that are about to expire, and its lifetime is cut to what
 * is left of theirs.  There is no credential cache to keep fresh.
 *
 * AWS_EC2_METADATA_SERVICE_ENDPOINT moves the service (tests serve it on
 * loopback); AWS_EC2_METADATA_DISABLED=true turns it off.
 */
#ifndef CR_ARCHIVE_CACHE_S3_CREDS_H
#define CR_ARCHIVE_CACHE_S3_CREDS_H

#include <time.h>

struct buf;

#define IMDS_DEFAULT_ENDPOINT "http://169.254.169.254"
/* The session token's lifetime we ask for (the SDK's default). */
#define IMDS_TOKEN_TTL_S 21600
/*
 * Per request, and short: the service is link-local and answers in
 * milliseconds, while crunner's event loop waits for it (a host without
 * one must not stall other jobs long).
 */
#define IMDS_TIMEOUT_MS 1000L
/* Credentials closer than this to their expiry are not used. */
#define S3_CREDS_MIN_VALIDITY_S 60

struct s3_creds {
	char *access_key;
	char *secret_key;		/* secret */
	char *session_token;		/* secret; NULL: none */
	time_t expiration;		/* 0: does not expire */
	const char *source;		/* "environment", "instance profile <role>" */
	char *source_buf;
};

#define S3_CREDS_INIT { 0 }

/*
 * Fills creds (S3_CREDS_INIT) from the chain above at time now.  Returns
 * 0, or CR_ERR_NOT_FOUND / CR_ERR_NETWORK / CR_ERR_PROTOCOL with one
 * sentence in err.
 */
int s3_creds_resolve(time_t now, struct s3_creds *creds, struct buf *err);

/* Wipes the secrets and frees everything. */
void s3_creds_release(struct s3_creds *creds);

#endif
