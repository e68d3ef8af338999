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
#include "util/error.h"
#include "util/banned.h"

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
			  const char *object, time_t now, long expires,
			  struct s3_role_cache *roles,
			  struct cache_request *req, struct buf *err)
{
	if (!cfg->type || !*cfg->type) {
		buf_seterr(err, "no cache Type");
		return CR_ERR_INVALID;
	}
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
