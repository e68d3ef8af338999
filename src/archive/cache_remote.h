/*
 * The distributed cache, S3-compatible ([runners.cache] Type = "s3"), as
 * gitlab-runner does it: crunner computes pre-signed URLs (AWS Signature
 * Version 4, query-string signing) for the cache object, and the archive
 * helper GETs or PUTs the archive through them, streaming from and to the
 * local cache file.  No request carries the secret key.
 */
#ifndef CR_ARCHIVE_CACHE_REMOTE_H
#define CR_ARCHIVE_CACHE_REMOTE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct buf;
struct config_cache;
struct config_cache_s3;
struct strvec;

/* What X-Amz-Expires may be, in seconds (SigV4's own bounds). */
#define S3_PRESIGN_MIN_EXPIRES 1L
#define S3_PRESIGN_MAX_EXPIRES (7L * 24 * 3600)
#define S3_DEFAULT_REGION "us-east-1"
#define S3_DEFAULT_SERVER "s3.amazonaws.com"

/* One pre-signed request. */
struct s3_presign {
	const char *method;		/* "GET", "PUT" */
	bool insecure;			/* http:// instead of https:// */
	const char *server;		/* "s3.amazonaws.com", "127.0.0.1:9000" */
	const char *bucket;
	bool path_style;		/* server/bucket/object, else bucket.server/object */
	const char *object;		/* "runner/abc/project/1/key", not encoded */
	const char *region;		/* NULL or "": us-east-1 */
	const char *access_key;
	const char *secret_key;
	const char *session_token;	/* NULL or "": none */
	time_t now;
	long expires;			/* seconds */
	/* More signed headers ("name: value", names in lower case), which
	 * the request must then carry; NULL: host only. */
	const struct strvec *headers;
	/* A bucket subresource ("location": GET /<bucket>?location), with
	 * object NULL; NULL: none. */
	const char *subresource;
};

/*
 * The pre-signed URL of p into url (appended).  Returns 0, or
 * CR_ERR_INVALID with one sentence in err (no bucket, no credentials,
 * expires out of range).
 */
int s3_presign_url(const struct s3_presign *p, struct buf *url,
		   struct buf *err);

/*
 * gitlab-runner's object name: [<path>/][runner/<short token>/]project/
 * <project id>/<key>, "runner/<short token>" left out when shared; the
 * name is cleaned as a URL path and must stay under its project prefix.
 * Returns 0, or CR_ERR_INVALID with one sentence in err.
 */
int cache_object_name(const char *path, bool shared, const char *short_token,
		      int64_t project_id, const char *key, struct buf *out,
		      struct buf *err);

enum s3_auth {
	S3_AUTH_ACCESS_KEY,
	S3_AUTH_IAM,
	S3_AUTH_UNKNOWN,
};

/*
 * gitlab-runner's AuthType(): AuthenticationType when it is access-key or
 * iam (any case), S3_AUTH_UNKNOWN for another value, and without one IAM
 * unless ServerAddress, AccessKey and SecretKey are all set.
 */
enum s3_auth s3_auth_type(const struct config_cache_s3 *s3);

/*
 * The pre-signed URL for method on object with the [runners.cache]
 * settings cfg (Type "s3"): the host of s3_endpoint(), Insecure,
 * BucketLocation (region).  With IAM authentication the credentials come from
 * s3_creds_resolve() (cache_s3_creds.h) and the URL's lifetime is cut to
 * theirs.  With RoleARN (or UploadRoleARN for a PUT) the URL is signed
 * with the role's credentials from s3_assume_role() (cache_s3_sts.h),
 * asked for under the access keys or IAM credentials.  A PUT with ServerSideEncryption signs gitlab-runner's
 * SSE headers too and appends them to headers (may be NULL: none are
 * signed then), which the upload must send; an unknown ServerSideEncryption
 * is a warning in crunner's log and no header, as in gitlab-runner.
 * Returns 0 or CR_ERR_INVALID /
 * CR_ERR_UNSUPPORTED with one sentence in err.
 */
int cache_remote_url(const struct config_cache *cfg, const char *method,
		     const char *object, time_t now, long expires,
		     struct buf *url, struct strvec *headers,
		     struct buf *err);

/* cache_remote_url() with the role credentials kept in roles (may be
 * NULL: STS is asked every time). */
struct s3_role_cache;
int cache_s3_url(const struct config_cache *cfg, const char *method,
		 const char *object, time_t now, long expires,
		 struct s3_role_cache *roles, struct buf *url,
		 struct strvec *headers, struct buf *err);

/*
 * gitlab-runner's server-side-encryption headers of a PUT for the S3
 * settings s3 ("x-amz-server-side-encryption: AES256" for S3, "aws:kms"
 * and the key id for KMS, "aws:kms:dsse" for DSSE-KMS), appended to
 * headers.  Returns 0, or CR_ERR_INVALID with one sentence in err for a
 * ServerSideEncryption value it does not know.
 */
int s3_sse_headers(const struct config_cache_s3 *s3, struct strvec *headers,
		   struct buf *err);

/*
 * The S3 host of the settings s3 and whether the bucket goes in the path,
 * as gitlab-runner's AWS SDK client resolves it: a ServerAddress other
 * than s3.amazonaws.com is used as it is (PathStyle, default: virtual
 * host on amazonaws.com[.cn] for bucket names without dots); on AWS itself
 * the regional host s3.<BucketLocation>.<suffix>, with DualStack (on by
 * default) s3.dualstack.<region>.<suffix>, with Accelerate
 * s3-accelerate[.dualstack].<suffix> (virtual host only, not in China),
 * suffix s3_aws_dns_suffix(region).  Returns 0, or CR_ERR_INVALID with one
 * sentence in err.
 */
int s3_endpoint(const struct config_cache_s3 *s3, struct buf *server,
		bool *path_style, struct buf *err);

/*
 * The DNS suffix of region's AWS partition, as the AWS SDK's endpoint
 * rules have it: amazonaws.com.cn in China (cn-*), else amazonaws.com
 * (GovCloud's us-gov-* regions too).
 */
const char *s3_aws_dns_suffix(const char *region);

/* Whether cfg asks for a distributed cache crunner handles. */
bool cache_remote_enabled(const struct config_cache *cfg);

/* gitlab-runner's cache requests time out after ten minutes by default. */
#define CACHE_REQUEST_TIMEOUT_MS (10L * 60 * 1000)
/*
 * gitlab-runner's cache-extractor and cache-archiver (retryHelper: Retry 2,
 * RetryTime 1 s): a 5xx answer, or none at all, is tried again, three
 * attempts in all, a second apart.
 */
#define CACHE_TRANSFER_ATTEMPTS 3
#define CACHE_RETRY_WAIT_S 1

/*
 * FF_USE_PARALLEL_CACHE_TRANSFER, as gitlab-runner's cache-extractor reads
 * it with CACHE_CHUNK_SIZE and CACHE_CONCURRENCY from the job's
 * environment: on, and concurrency > 1, a download probes for ranges and
 * fetches an object larger than one chunk in parallel Range GETs
 * (gitlab/range_download.h).  Uploads stay one PUT: gitlab-runner splits
 * only its GoCloud uploads (multipart), which crunner does not make.
 */
struct cache_parallel {
	bool on;
	int64_t chunk;		/* bytes; 0: RANGE_DEFAULT_CHUNK */
	long concurrency;	/* 0 or 1: one stream */
};

/* cache_parallel_download()'s "not this way": a plain GET follows. */
#define CACHE_PARALLEL_FALLBACK 1

/*
 * The parallel download of url into file (its directory exists): the
 * probe, then the chunks into a temporary file renamed into place, the
 * whole tried again as a plain download is (CACHE_TRANSFER_ATTEMPTS).
 * Returns 0, CACHE_PARALLEL_FALLBACK when the answer to the probe was not
 * a 206 with a total, or the object is not larger than one chunk ("Presigned
 * URL did not honor Range request" for a 200, as gitlab-runner), or a
 * CR_ERR_* after a warning in out.
 */
int cache_parallel_download(const char *url, const struct strvec *headers,
			    const char *file, const struct cache_parallel *par,
			    FILE *out);

/*
 * FF_HASH_CACHE_KEYS' other naming scheme (gitlab-runner 19's
 * compatibility mode: a cache written with the flag in the other state is
 * still found).  cache_remote_select(): with an alternate URL (NULL or "":
 * none) both objects are asked for with HEAD (head_url / alt_head_url,
 * pre-signed for HEAD; NULL: the GET URL) and the alternate is taken when
 * the primary is not there (not a 200 with a Last-Modified) and it is, or
 * when it is newer; one line in out says which.  Returns url or alt_url.
 */
const char *cache_remote_select(const char *url, const char *head_url,
				const char *alt_url, const char *alt_head_url,
				const struct strvec *headers, FILE *out);

/*
 * Before archiving: when the local cache file is missing and alt (NULL or
 * "": none), its name in the other scheme, exists, alt is renamed to file,
 * so an unchanged archive is kept ("Renamed alternate cache file to
 * primary"; a failure is a warning in out).
 */
void cache_rename_alternate(const char *file, const char *alt, FILE *out);

/* The URL without its query (credentials, signature), for logs. */
void cache_remote_clean_url(const char *url, struct buf *out);

/*
 * The helper's side (messages to out); headers ("Name: value" lines, may
 * be NULL) go with the request.  As gitlab-runner's helpers, a 5xx answer
 * or none is tried again, three attempts in all a second apart (a plain
 * line each), and a failure is one warning with the status and the XML
 * error body's code and message.  download: GET url into file
 * through a temporary file next to it, renamed into place; with par (may
 * be NULL) on, cache_parallel_download() first.  Returns 0,
 * CR_ERR_NOT_FOUND (404: no cache) or another CR_ERR_* after a warning.
 * upload: PUT file to url, unless max_size > 0 and the file is larger
 * (a warning, returns 0 without uploading).  Returns 0 or a CR_ERR_*
 * after a warning.
 */
int cache_remote_download(const char *url, const struct strvec *headers,
			  const char *file, const struct cache_parallel *par,
			  FILE *out);
int cache_remote_upload(const char *url, const struct strvec *headers,
			const char *file, int64_t max_size, FILE *out);

#endif
