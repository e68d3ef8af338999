/*
 * One switch over [runners.cache] Type: each backend turns the object
 * name into a signed request of its own kind.
 */
#include <string.h>
#include <strings.h>

#include "archive/cache_azure.h"
#include "archive/cache_backend.h"
#include "archive/cache_gcs.h"
#include "archive/cache_remote.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/banned.h"

/* Go's url.PathEscape (which GoCloud's azureblob driver applies to
 * metadata values): all but unreserved characters and $&+:=@ as %XX. */
static void path_escape(const char *s, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~$&+:=@", *p)) {
			(void)buf_addch(out, (char)*p);
		} else {
			(void)buf_addch(out, '%');
			(void)buf_addch(out, hex[*p >> 4]);
			(void)buf_addch(out, hex[*p & 15]);
		}
	}
}

/*
 * gitlab-runner's object metadata on an upload, {"cachekey": <key>}, as
 * each backend carries it: S3 and GCS in a header their signature covers
 * (x-amz-meta-cachekey, x-goog-meta-cachekey), Azure as its GoCloud
 * writer sends blob metadata (x-ms-meta-cachekey, the value URL-escaped).
 */
static void push_metadata(const char *type, const char *cache_key,
			  struct strvec *headers)
{
	struct buf v = BUF_INIT;

	if (!cache_key || !*cache_key)
		return;
	if (!strcasecmp(type, "s3")) {
		strvec_pushf(headers, "x-amz-meta-cachekey: %s", cache_key);
	} else if (!strcasecmp(type, "azure")) {
		path_escape(cache_key, &v);
		strvec_pushf(headers, "x-ms-meta-cachekey: %s", v.data);
	} else {
		strvec_pushf(headers, "x-goog-meta-cachekey: %s", cache_key);
	}
	buf_release(&v);
}

static int azure_request(const struct config_cache *cfg, const char *method,
			 const char *object, time_t now, long expires,
			 struct cache_request *req, struct buf *err)
{
	int r = azure_blob_url(&cfg->azure, method, object, now, expires,
			       &req->url, err);

	if (r)
		return r;
	/* What the azblob client sends: the version signed in the SAS. */
	strvec_push(&req->headers, "x-ms-version: " AZURE_SAS_VERSION);
	if (!strcmp(method, "PUT"))
		strvec_push(&req->headers, "x-ms-blob-type: BlockBlob");
	req->missing_is_local = true;
	return 0;
}

int cache_backend_request(const struct config_cache *cfg, const char *method,
			  const char *object, const char *cache_key,
			  time_t now, long expires,
			  struct s3_role_cache *roles,
			  struct cache_request *req, struct buf *err)
{
	if (!cfg->type || !*cfg->type) {
		buf_seterr(err, "no cache Type");
		return CR_ERR_INVALID;
	}
	if (!strcmp(method, "PUT"))
		push_metadata(cfg->type, cache_key, &req->headers);
	if (!strcasecmp(cfg->type, "azure"))
		return azure_request(cfg, method, object, now, expires, req,
				     err);
	if (!strcasecmp(cfg->type, "s3"))
		return cache_s3_url(cfg, method, object, now, expires, roles,
				    &req->url, &req->headers, err);
	/* gitlab-runner 19.x runs Type gcs with its gcsv2 adapter; both
	 * sign the same V2 URLs. */
	if (!strcasecmp(cfg->type, "gcs") || !strcasecmp(cfg->type, "gcsv2"))
		return gcs_signed_url(cfg, method, object, now, expires,
				      &req->url, &req->headers, err);
	buf_seterr(err, "cache type %s is not supported (only s3, gcs and azure)",
		   cfg->type);
	return CR_ERR_UNSUPPORTED;
}

void cache_request_release(struct cache_request *req)
{
	buf_release_secret(&req->url);
	strvec_clear(&req->headers);
	req->missing_is_local = false;
}
