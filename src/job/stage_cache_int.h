/*
 * Inside the cache stages: stage_cache.c (the restore_cache and
 * archive_cache stages, native or as scripts), stage_cache_keys.c (keys
 * and local files) and stage_cache_remote.c (the distributed cache's
 * URLs, signed off the loop thread).
 */
#ifndef CR_JOB_STAGE_CACHE_INT_H
#define CR_JOB_STAGE_CACHE_INT_H

#include <stdbool.h>

struct buf;
struct job;
struct job_cache;
struct strvec;

/* stage_cache_keys.c */

/* Whether the entry saves anything: paths or untracked files. */
bool job_cache_has_paths(const struct job_cache *c);
/* FF_HASH_CACHE_KEYS for this job. */
bool job_cache_hashed_keys(const struct job *job);
/* The name key is stored under (hashed or not; sharded adds "ab/"). */
void job_cache_stored_key(const char *key, bool hashed, bool sharded,
			  struct buf *out);
/* Whether key's object may also be stored under the other scheme's name. */
bool job_cache_has_alternate(const struct job *job, const char *key);
/* The local cache file of key (malloc'd). */
char *job_cache_file(const struct job *job, const char *key, bool hashed);
/*
 * The keys entry c is restored from, in order: 1 with keys filled, 0 when
 * skipped, -1 for an unknown policy (said in the trace, or in body for a
 * stage script).
 */
int job_cache_restore_keys(struct job *job, const struct job_cache *c,
			   struct strvec *keys, struct buf *body);
/* Whether entry c is saved after a job that failed (or not). */
bool job_cache_archive_wanted(const struct job_cache *c, bool on_failure);
/* The key entry c is saved under: 1 with *key set (malloc'd), 0 when
 * skipped, -1 for an unknown policy (said). */
int job_cache_archive_key(struct job *job, const struct job_cache *c,
			  bool on_failure, char **key, struct buf *body);

/* stage_cache_remote.c */

/*
 * With a distributed cache, the helper's --remote arguments and URL
 * variables for method ("GET", "PUT") on key's object, from the plan
 * signed before the stage; a failure is one warning in the trace.
 */
void job_cache_add_remote(struct job *job, const char *key,
			  const char *method, struct strvec *args,
			  struct strvec *env);

#endif
