/*
 * The cache stages' keys (stage_cache_int.h): what key an entry is
 * restored from or saved under (the job's variables expanded, the
 * fallback keys, FF_HASH_CACHE_KEYS' hashed names), whether its policy
 * and when: let it, and where the local cache file of a key is.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/cache.h"
#include "config/config.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/stage_cache_int.h"
#include "util/sha256.h"
#include "util/banned.h"

bool job_cache_has_paths(const struct job_cache *c)
{
	return c->paths.nr || c->untracked;
}

/*
 * FF_HASH_CACHE_KEYS (gitlab-runner's newCacheConfig): keys are not
 * sanitised but stored under the lower-case hex SHA-256 of the key, both
 * in the local cache (<dir>/<hash>/cache.zip) and in a distributed one,
 * whose object name then has the hash's first two characters as a
 * directory (.../project/<id>/<ab>/<abcd...>).  The trace still shows
 * the key itself.
 */
bool job_cache_hashed_keys(const struct job *job)
{
	return variables_get_bool(&job->vars, "FF_HASH_CACHE_KEYS", 0);
}

/*
 * The name key is stored under, as above, hashed or not; sharded adds the
 * "ab/".
 */
void job_cache_stored_key(const char *key, bool hashed, bool sharded,
			  struct buf *out)
{
	unsigned char sum[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];

	if (!hashed) {
		(void)buf_addstr(out, key);
		return;
	}
	sha256(key, strlen(key), sum);
	sha256_hex(sum, sizeof(sum), hex);
	if (sharded)
		(void)buf_addf(out, "%.2s/", hex);
	(void)buf_addstr(out, hex);
}

/*
 * The expanded, sanitised key of a cache entry; NULL with a notice (into
 * the trace, or into body for a stage script).
 */
static char *cache_key(struct job *job, const char *raw, const char *verb,
		       struct buf *body)
{
	struct buf key = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
	const struct job_payload *p = job->payload;
	char *expanded = NULL;

	if (raw && *raw) {
		expanded = variables_expand(&job->vars, raw);
	} else {
		(void)buf_addf(&key, "%s/%s", p->job_info.name,
			       p->git_info.ref);
		expanded = buf_detach(&key, NULL);
	}
	if (job_cache_hashed_keys(job)) {
		/* Hashed: any key but "" is a safe name as it is. */
		if (*expanded) {
			buf_release(&err);
			return expanded;
		}
		(void)buf_addstr(&err, "empty cache key");
	} else if (cache_key_sanitize(expanded, &out, &err) == 0) {
		free(expanded);
		buf_release(&err);
		return buf_detach(&out, NULL);
	}
	job_say(job, body, SCRIPT_ECHO_NOTICE, "Skipping cache %s due to %s",
		verb, err.data);
	buf_release(&out);
	free(expanded);
	buf_release(&err);
	return NULL;
}

/*
 * gitlab-runner 19's compatibility mode for FF_HASH_CACHE_KEYS
 * (newCacheConfig's AlternateArchiveFile, getAlternateCacheDownloadURL):
 * a cache is also looked for under its name in the other scheme, so that
 * switching the flag either way keeps the caches written before.  The
 * restore compares the two distributed objects (cache_remote_select());
 * the archive step renames a local file of the other name to this one's
 * (cache_rename_alternate()).  With the flag on the key is not sanitised:
 * its unhashed name is only used when sanitising leaves it as it is, so
 * that it stays inside the cache directory (gitlab-runner joins it as it
 * is).
 */
bool job_cache_has_alternate(const struct job *job, const char *key)
{
	struct buf clean = BUF_INIT, err = BUF_INIT;
	bool same;

	if (!job_cache_hashed_keys(job))
		return true;
	same = cache_key_sanitize(key, &clean, &err) == 0 &&
	       !strcmp(clean.data, key);
	buf_release(&clean);
	buf_release(&err);
	return same;
}

char *job_cache_file(const struct job *job, const char *key, bool hashed)
{
	const struct runner_config *rc = job->settings.runner;
	const char *path = job->payload->job_info.project_full_path;
	/* The executor's choice (custom config_exec) wins over config.toml. */
	const char *dir = job->cache_dir ? job->cache_dir : rc->cache_dir;
	struct buf b = BUF_INIT;
	char cwd[4096];

	if (dir && dir[0] == '/') {
		(void)buf_addstr(&b, dir);
	} else {
		const char *base = job->settings.work_dir;

		if (!base)
			base = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
		(void)buf_addf(&b, "%s/%s", base, dir && *dir ? dir : "cache");
	}
	if (path && *path && !strstr(path, ".."))
		(void)buf_addf(&b, "/%s", path);
	else
		(void)buf_addf(&b, "/project-%lld",
			       (long long)job->payload->job_info.project_id);
	(void)buf_addch(&b, '/');
	job_cache_stored_key(key, hashed, false, &b);
	(void)buf_addstr(&b, "/cache.zip");
	return buf_detach(&b, NULL);
}

static char *expand_policy(struct job *job, const struct job_cache *c)
{
	return variables_expand(&job->vars, c->policy ? c->policy : "");
}

/*
 * The keys to try, in order, for cache entry c: its key, its fallback
 * keys, CACHE_FALLBACK_KEY.  Returns 1 with keys filled, 0 when the entry
 * is skipped (bad key, policy), -1 for an unknown policy (said).  Notices
 * go into the trace, or into body for a stage script.
 */
int job_cache_restore_keys(struct job *job, const struct job_cache *c,
			   struct strvec *keys, struct buf *body)
{
	enum cache_policy_check ok;
	struct buf fb = BUF_INIT;
	const char *global;
	char *key, *policy;
	size_t i;

	if (!job_cache_has_paths(c))
		return 0;
	if (!(key = cache_key(job, c->key, "extraction", body)))
		return 0;
	policy = expand_policy(job, c);
	ok = cache_policy_allows(policy, true);
	if (ok == CACHE_POLICY_INVALID) {
		job_say(job, body, SCRIPT_ECHO_ERROR,
			"unknown cache policy %s for %s", policy, key);
		free(policy);
		free(key);
		return -1;
	}
	free(policy);
	if (ok == CACHE_POLICY_NO) {
		job_say(job, body, SCRIPT_ECHO_NOTICE,
			"Not downloading cache %s due to policy", key);
		free(key);
		return 0;
	}
	strvec_push_nodup(keys, key);
	for (i = 0; i < c->fallback_keys.nr; i++) {
		if (!*c->fallback_keys.v[i])
			continue;
		if ((key = cache_key(job, c->fallback_keys.v[i], "extraction",
				     body)))
			strvec_push_nodup(keys, key);
	}
	global = variables_get(&job->vars, "CACHE_FALLBACK_KEY");
	if (global && *global) {
		size_t len;

		cache_fallback_key_trim(global, &fb);
		len = fb.len;
		/* "-protected" is kept for protected refs' caches. */
		if (len && !(len >= 10 && !strcmp(fb.data + len - 10,
						  "-protected")) &&
		    (key = cache_key(job, fb.data, "extraction", body)))
			strvec_push_nodup(keys, key);
	}
	buf_release(&fb);
	return 1;
}

bool job_cache_archive_wanted(const struct job_cache *c, bool on_failure)
{
	return job_cache_has_paths(c) && job_when_matches(c->when, on_failure);
}

/*
 * The key cache entry c is saved under after a job that failed or not:
 * 1 with *key set, 0 when skipped, -1 for an unknown policy (said).
 */
int job_cache_archive_key(struct job *job, const struct job_cache *c,
			  bool on_failure, char **key, struct buf *body)
{
	enum cache_policy_check ok;
	char *policy;

	if (!job_cache_archive_wanted(c, on_failure))
		return 0;
	if (!(*key = cache_key(job, c->key, "archiving", body)))
		return 0;
	policy = expand_policy(job, c);
	ok = cache_policy_allows(policy, false);
	if (ok == CACHE_POLICY_INVALID) {
		job_say(job, body, SCRIPT_ECHO_ERROR,
			"unknown cache policy %s for %s", policy, *key);
		free(policy);
		free(*key);
		return -1;
	}
	free(policy);
	if (ok == CACHE_POLICY_NO) {
		job_say(job, body, SCRIPT_ECHO_NOTICE,
			"Not uploading cache %s due to policy", *key);
		free(*key);
		return 0;
	}
	return 1;
}
