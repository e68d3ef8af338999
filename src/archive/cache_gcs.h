/*
 * The distributed cache on Google Cloud Storage ([runners.cache] Type =
 * "gcs" or "gcsv2"), as gitlab-runner 19.x does it: a signed URL per GET
 * or PUT of the cache object, which the archive helper uses; no request
 * carries the private key.
 *
 * gitlab-runner (cache/gcsv2, which Type "gcs" means unless
 * FF_USE_LEGACY_GCS_CACHE_ADAPTER is on, and cache/gcs) calls the Go
 * storage client's SignedURL without a Scheme, which is its V2 signing:
 *
 *   METHOD \n Content-MD5 \n Content-Type \n Expires \n
 *   [x-goog-* headers "name:value", sorted, each followed by \n]
 *   /<bucket>/<object, path-escaped>
 *
 * signed RSA-SHA256 (PKCS#1 v1.5), base64, in
 *   https://<host>/<bucket>/<object>?Expires=..&GoogleAccessId=..&Signature=..
 * A PUT signs Content-Type application/octet-stream and, with
 * MaxUploadedArchiveSize, X-Goog-Content-Length-Range: 0,<size>, which
 * the upload then sends.
 *
 * Who signs (gcsv2's order): CredentialsFile (a service_account JSON;
 * AccessID and PrivateKey from config.toml win over its client_email and
 * private_key); else AccessID + PrivateKey; else, with neither,
 * GOOGLE_APPLICATION_CREDENTIALS as a credentials file, else the GCE
 * metadata server's default service account, whose token asks the IAM
 * credentials API to sign (signBlob) (cache_gcs_identity.h).
 *
 * The host: STORAGE_EMULATOR_HOST (its scheme kept when it names http://,
 * where Go's V2 URLs are always https), else storage.<UniverseDomain>,
 * else storage.googleapis.com.
 */
#ifndef CR_ARCHIVE_CACHE_GCS_H
#define CR_ARCHIVE_CACHE_GCS_H

#include <stdbool.h>
#include <time.h>

struct buf;
struct config_cache;
struct config_cache_gcs;
struct strvec;

#define GCS_DEFAULT_UNIVERSE "googleapis.com"
#define GCS_UPLOAD_CONTENT_TYPE "application/octet-stream"

/* What a V2 signature covers. */
struct gcs_v2_request {
	const char *method;		/* "GET", "PUT" */
	const char *content_type;	/* NULL or "": none */
	/* "Name: value" lines the request carries; the x-goog-* ones are
	 * signed (lower-cased, trimmed, sorted). NULL: none. */
	const struct strvec *headers;
	const char *bucket;
	const char *object;		/* not escaped */
	time_t expires;			/* seconds since the epoch */
};

/* The V2 string to sign of r, appended to out. */
void gcs_v2_string_to_sign(const struct gcs_v2_request *r, struct buf *out);

/* Who signs a URL. */
struct gcs_signer {
	char *access_id;		/* the service account's e-mail */
	char *private_key;		/* PEM (secret); NULL: IAM signBlob */
	char *token;			/* OAuth2 token for signBlob (secret) */
	char *iam_base;			/* https://iamcredentials.<universe> */
	char *source;			/* for messages */
};

#define GCS_SIGNER_INIT { NULL, NULL, NULL, NULL, NULL }

/*
 * The signer for the [runners.cache.gcs] settings cfg.  Returns 0, or a
 * CR_ERR_* with one sentence in err (unreadable or foreign credentials
 * file, half the key pair, no metadata server).
 */
int gcs_signer_resolve(const struct config_cache_gcs *cfg,
		       struct gcs_signer *s, struct buf *err);

/* Signs data with s (RSA-SHA256), the raw signature appended to sig.
 * Returns 0 or a CR_ERR_* with one sentence in err. */
int gcs_signer_sign(const struct gcs_signer *s, const void *data, size_t len,
		    struct buf *sig, struct buf *err);

/* Wipes the secrets and frees everything. */
void gcs_signer_release(struct gcs_signer *s);

/*
 * "http://host[:port]" or "https://host[:port]" of the storage XML API
 * for universe (NULL or "": googleapis.com), into out.
 */
void gcs_storage_base(const char *universe, struct buf *out);

/*
 * The signed URL for method ("GET" or "PUT") on object with the
 * [runners.cache] settings cfg (Type gcs or gcsv2), valid for expires
 * seconds from now; the headers the request must carry are appended to
 * headers, and those it holds already are signed too (a PUT's).  Returns 0, or a CR_ERR_* with one sentence in err.
 */
int gcs_signed_url(const struct config_cache *cfg, const char *method,
		   const char *object, time_t now, long expires,
		   struct buf *url, struct strvec *headers, struct buf *err);

#endif
