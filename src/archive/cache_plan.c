/* cache_plan.h: a list signed in order; looked up by key and method. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "archive/cache_config_copy.h"
#include "archive/cache_plan.h"
#include "archive/cache_s3_sts.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct cache_plan *cache_plan_new(const struct config_cache *cfg,
				  struct s3_role_cache *roles, long expires)
{
	struct cache_plan *p = xcalloc(1, sizeof(*p));

	cache_config_copy(cfg, &p->cfg);
	p->roles = s3_role_cache_ref(roles);
	p->expires = expires;
	return p;
}

long cache_plan_add(struct cache_plan *p, const char *key, bool hashed,
		    const char *method, const char *object, int object_rc,
		    const char *object_err, long needs)
{
	struct cache_plan_item *it;

	if (p->nr == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 8;
		p->items = xreallocarray(p->items, p->alloc,
					 sizeof(*p->items));
	}
	it = &p->items[p->nr];
	memset(it, 0, sizeof(*it));
	it->key = xstrdup(key);
	it->hashed = hashed;
	it->method = xstrdup(method);
	it->needs = needs;
	it->req = (struct cache_request)CACHE_REQUEST_INIT;
	buf_init(&it->err, 0);
	if (object) {
		it->object = xstrdup(object);
	} else {
		it->signed_ = true;
		it->rc = object_rc ? object_rc : CR_ERR_INVALID;
		buf_seterr(&it->err, "%s", object_err ? object_err : "");
	}
	return (long)p->nr++;
}

void cache_plan_sign(struct cache_plan *p)
{
	size_t i;

	log_capture_begin(&p->logs);
	for (i = 0; i < p->nr; i++) {
		struct cache_plan_item *it = &p->items[i];

		if (!it->object)
			continue;
		if (it->needs >= 0 && (size_t)it->needs < i &&
		    p->items[it->needs].rc)
			continue;	/* never asked for: its GET failed */
		it->rc = cache_backend_request(&p->cfg, it->method, it->object,
					       it->key, time(NULL), p->expires,
					       p->roles, &it->req, &it->err);
		it->signed_ = true;
	}
	log_capture_end();
}

const struct cache_plan_item *cache_plan_find(const struct cache_plan *p,
					      const char *key, bool hashed,
					      const char *method)
{
	size_t i;

	for (i = 0; p && i < p->nr; i++) {
		const struct cache_plan_item *it = &p->items[i];

		if (it->signed_ && it->hashed == hashed &&
		    !strcmp(it->method, method) && !strcmp(it->key, key))
			return it;
	}
	return NULL;
}

void cache_plan_free(struct cache_plan *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; i < p->nr; i++) {
		free(p->items[i].key);
		free(p->items[i].method);
		free(p->items[i].object);
		cache_request_release(&p->items[i].req);
		buf_release(&p->items[i].err);
	}
	free(p->items);
	cache_config_release(&p->cfg);
	s3_role_cache_free(p->roles);
	log_capture_release(&p->logs);
	free(p);
}
