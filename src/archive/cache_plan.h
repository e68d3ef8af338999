/*
 * Every distributed-cache request a cache stage needs, signed in one go
 * off the loop thread (util/offload.h): signing may ask STS, an instance
 * metadata service, the bucket's location or a GCS metadata server, each
 * a blocking HTTP call of up to 30 s.
 *
 * The loop thread fills a plan (cache_plan_init(), cache_plan_add()); a
 * worker thread runs cache_plan_sign(), which touches nothing but the
 * plan: its own copy of [runners.cache], a ref on the runner's STS
 * credentials cache, and a log_capture for the lines signing logs (the
 * loop writes them afterwards).  The loop then looks requests up with
 * cache_plan_find().
 */
#ifndef CR_ARCHIVE_CACHE_PLAN_H
#define CR_ARCHIVE_CACHE_PLAN_H

#include <stdbool.h>

#include "archive/cache_backend.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/log.h"

struct s3_role_cache;

struct cache_plan_item {
	/* What the stage asks for: the key, its stored name's scheme. */
	char *key;
	bool hashed;
	char *method;		/* GET, HEAD, PUT */
	char *object;		/* NULL: rc and err say why */
	/* An item signed only when this one succeeded (-1: always): a
	 * restore's HEAD and alternate URLs need its GET. */
	long needs;
	bool signed_;		/* cache_plan_sign() got to it */
	int rc;
	struct cache_request req;
	struct buf err;
};

struct cache_plan {
	struct config_cache cfg;	/* a private copy */
	struct s3_role_cache *roles;	/* a ref, or NULL */
	long expires;			/* seconds the URLs stay valid */
	struct cache_plan_item *items;
	size_t nr, alloc;
	struct log_capture logs;	/* what signing logged */
};

/* An empty plan over a copy of cfg, with a ref on roles (may be NULL). */
struct cache_plan *cache_plan_new(const struct config_cache *cfg,
				  struct s3_role_cache *roles, long expires);
/*
 * Adds the request for method on key (stored hashed or not) as object;
 * object NULL: the name could not be made, object_rc and object_err are
 * the request's answer.  Returns the item's index (for needs).
 */
long cache_plan_add(struct cache_plan *p, const char *key, bool hashed,
		    const char *method, const char *object, int object_rc,
		    const char *object_err, long needs);
/* Signs every item (on the worker thread): blocking. */
void cache_plan_sign(struct cache_plan *p);
/* The signed item for key, hashed, method; NULL when the plan lacks it. */
const struct cache_plan_item *cache_plan_find(const struct cache_plan *p,
					      const char *key, bool hashed,
					      const char *method);
/* NULL is allowed. */
void cache_plan_free(struct cache_plan *p);

#endif
