/*
 * A private copy of a [runners.cache] section, for work off the loop
 * thread (job/cache_plan.c): the config snapshot a job holds is
 * refcounted without atomics and must stay on the loop thread, so a
 * signer gets its own strings.
 */
#ifndef CR_ARCHIVE_CACHE_CONFIG_COPY_H
#define CR_ARCHIVE_CACHE_CONFIG_COPY_H

struct config_cache;

/* Every field of from into to, the strings duplicated. */
void cache_config_copy(const struct config_cache *from,
		       struct config_cache *to);
/* Frees what cache_config_copy() made (secrets wiped); to is zeroed. */
void cache_config_release(struct config_cache *c);

#endif
