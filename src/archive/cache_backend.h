/*
 * Which distributed-cache backend a [runners.cache] Type names, and the
 * request the archive helper makes for it: a signed URL plus the headers
 * that must go with it (S3: pre-signed SigV4, cache_remote.h; Azure:
 * service SAS, cache_azure.h).
 */
#ifndef CR_ARCHIVE_CACHE_BACKEND_H
#define CR_ARCHIVE_CACHE_BACKEND_H

#include <stdbool.h>
#include <time.h>

#include "util/buf.h"
#include "util/strvec.h"

struct config_cache;
struct s3_role_cache;

/* What the helper is handed for one GET or PUT of the cache archive. */
struct cache_request {
	struct buf url;			/* secret: carries the signature */
	struct strvec headers;		/* "Name: value" lines to send */
	/*
	 * A 404 is "no remote cache yet": the helper extracts the local
	 * cache file if there is one.  gitlab-runner does that on the
	 * backends it reaches through GoCloud (Azure), and not with
	 * pre-signed S3 URLs.
	 */
	bool missing_is_local;
};

#define CACHE_REQUEST_INIT { BUF_INIT, STRVEC_INIT, false }

/*
 * The request for method ("GET" or "PUT") on object under cfg, valid for
 * expires seconds from now, into req (CACHE_REQUEST_INIT).  A PUT carries
 * gitlab-runner's object metadata {"cachekey": cache_key} (NULL: none) in
 * the backend's header, signed where the backend signs headers; roles keeps
 * S3 RoleARN credentials between requests (may be NULL).  Returns 0, or
 * CR_ERR_INVALID / CR_ERR_UNSUPPORTED with one sentence in err (an
 * unknown Type, a backend crunner does not have, bad settings).
 */
int cache_backend_request(const struct config_cache *cfg, const char *method,
			  const char *object, const char *cache_key,
			  time_t now, long expires,
			  struct s3_role_cache *roles,
			  struct cache_request *req, struct buf *err);

/* Wipes the URL and frees everything; req is then CACHE_REQUEST_INIT. */
void cache_request_release(struct cache_request *req);

#endif
