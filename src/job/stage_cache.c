/*
 * The cache stages (spec 3.9, 8.1): restore_cache before the steps,
 * archive_cache / archive_cache_on_failure after them, with the local
 * cache of gitlab-runner's shell executor:
 * <cache_dir>/<project path>/<key>/cache.zip, cache_dir defaulting to
 * "cache" under the working directory.  A cache never fails a job:
 * problems are warnings, as in gitlab-runner.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive/cache.h"
#include "archive/cache_remote.h"
#include "config/config.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void restore_next(struct job *job);
static void archive_next(struct job *job);

static bool cache_has_paths(const struct job_cache *c)
{
	return c->paths.nr || c->untracked;
}

/* The expanded, sanitised key of a cache entry; NULL with a notice. */
static char *cache_key(struct job *job, const char *raw, const char *verb)
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
	if (cache_key_sanitize(expanded, &out, &err) != 0) {
		trace_sink_info(job->sink, "Skipping cache %s due to %s", verb,
				err.data);
		buf_release(&out);
		free(expanded);
		buf_release(&err);
		return NULL;
	}
	free(expanded);
	buf_release(&err);
	return buf_detach(&out, NULL);
}

static char *cache_file(const struct job *job, const char *key)
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
	(void)buf_addf(&b, "/%s/cache.zip", key);
	return buf_detach(&b, NULL);
}

/*
 * With a distributed cache ([runners.cache] Type), the helper also GETs or
 * PUTs the archive through a pre-signed URL, valid as long as the job may
 * run, which it finds in its environment.  Problems are warnings: the
 * local cache still works.
 */
static void add_remote(struct job *job, const char *key, const char *method,
		       struct strvec *args)
{
	const struct config_cache *cfg = &job->settings.runner->cache;
	struct buf object = BUF_INIT, url = BUF_INIT, err = BUF_INIT;

	if (!cache_remote_enabled(cfg))
		return;
	if (cache_object_name(cfg->path, cfg->shared, job->short_token,
			      job->payload->job_info.project_id, key, &object,
			      &err) != 0 ||
	    cache_remote_url(cfg, method, object.data, time(NULL),
			     (long)(job->timeout_s > 0 ? job->timeout_s : 3600),
			     &url, &err) != 0) {
		trace_sink_warning(job->sink,
				   "Cannot use the distributed cache: %s",
				   err.data);
		goto out;
	}
	strvec_pushf(&job->native.helper_env, "CRUNNER_CACHE_URL=%s",
		     url.data);
	strvec_push(args, "--remote");
	if (!strcmp(method, "PUT") && cfg->max_uploaded_archive_size > 0)
		strvec_pushf(args, "--max-size=%lld",
			     (long long)cfg->max_uploaded_archive_size);
out:
	buf_release_secret(&url);
	buf_release(&object);
	buf_release(&err);
}

static char *expand_policy(struct job *job, const struct job_cache *c)
{
	return variables_expand(&job->vars, c->policy ? c->policy : "");
}

/* ---- restore_cache ---- */

bool job_restore_cache_has_work(struct job *job, const struct job_stage *stage)
{
	size_t i;

	(void)stage;
	for (i = 0; i < job->payload->nr_caches; i++)
		if (cache_has_paths(&job->payload->caches[i]))
			return true;
	return false;
}

static void try_key(struct job *job);

static void on_cache_extracted(struct job *job, int exit_status)
{
	if (exit_status == 0) {
		trace_sink_info(job->sink, "Successfully extracted cache");
		job->native.item++;
		restore_next(job);
		return;
	}
	trace_sink_warning(job->sink, "Failed to extract cache");
	job->native.key++;
	try_key(job);
}

static void try_key(struct job *job)
{
	struct strvec args = STRVEC_INIT;
	const char *key;
	char *file;

	if (job->native.key >= job->native.keys.nr) {
		job->native.item++;
		restore_next(job);
		return;
	}
	key = job->native.keys.v[job->native.key];
	trace_sink_info(job->sink, "Checking cache for %s...", key);
	file = cache_file(job, key);
	strvec_pushv(&args, (const char *[]){ "cache-extract", "--file", file,
			NULL });
	add_remote(job, key, "GET", &args);
	if (job_helper_start(job, &args, job->project_dir,
			     on_cache_extracted) != 0)
		job_native_done(job, 1, 0);
	strvec_clear(&args);
	free(file);
}

static void restore_next(struct job *job)
{
	const struct job_payload *p = job->payload;
	const struct job_cache *c;
	struct buf fb = BUF_INIT;
	const char *global;
	char *key, *policy;
	size_t i;

	strvec_clear(&job->native.keys);
	job->native.key = 0;
	for (; job->native.item < p->nr_caches; job->native.item++) {
		enum cache_policy_check ok;

		c = &p->caches[job->native.item];
		if (!cache_has_paths(c))
			continue;
		if (!(key = cache_key(job, c->key, "extraction")))
			continue;
		policy = expand_policy(job, c);
		ok = cache_policy_allows(policy, true);
		if (ok == CACHE_POLICY_INVALID) {
			trace_sink_error(job->sink, "unknown cache policy %s for %s",
					 policy, key);
			free(policy);
			free(key);
			job_native_done(job, 1, 0);
			return;
		}
		free(policy);
		if (ok == CACHE_POLICY_NO) {
			trace_sink_info(job->sink,
					"Not downloading cache %s due to policy",
					key);
			free(key);
			continue;
		}
		strvec_push_nodup(&job->native.keys, key);
		for (i = 0; i < c->fallback_keys.nr; i++) {
			if (!*c->fallback_keys.v[i])
				continue;
			if ((key = cache_key(job, c->fallback_keys.v[i],
					     "extraction")))
				strvec_push_nodup(&job->native.keys, key);
		}
		global = variables_get(&job->vars, "CACHE_FALLBACK_KEY");
		if (global && *global) {
			size_t len;

			cache_fallback_key_trim(global, &fb);
			len = fb.len;
			/* "-protected" is kept for protected refs' caches. */
			if (len && !(len >= 10 && !strcmp(fb.data + len - 10,
							  "-protected")) &&
			    (key = cache_key(job, fb.data, "extraction")))
				strvec_push_nodup(&job->native.keys, key);
		}
		buf_release(&fb);
		try_key(job);
		return;
	}
	job_native_done(job, 0, 0);
}

void job_restore_cache_start(struct job *job, const struct job_stage *stage)
{
	(void)stage;
	restore_next(job);
}

/* ---- archive_cache / archive_cache_on_failure ---- */

static bool archive_wanted(const struct job_cache *c, bool on_failure)
{
	return cache_has_paths(c) && job_when_matches(c->when, on_failure);
}

bool job_archive_cache_has_work(struct job *job, const struct job_stage *stage)
{
	size_t i;

	for (i = 0; i < job->payload->nr_caches; i++)
		if (archive_wanted(&job->payload->caches[i],
				   stage->on_failure))
			return true;
	return false;
}

static void on_cache_archived(struct job *job, int exit_status)
{
	if (exit_status == 0)
		trace_sink_info(job->sink, "Created cache");
	else
		trace_sink_warning(job->sink, "Failed to create cache");
	job->native.item++;
	archive_next(job);
}

static void archive_next(struct job *job)
{
	const struct job_payload *p = job->payload;
	bool on_failure = job->stages[job->running].on_failure;
	struct strvec args = STRVEC_INIT;
	const struct job_cache *c;
	char *key, *policy, *file;
	size_t i;

	for (; job->native.item < p->nr_caches; job->native.item++) {
		enum cache_policy_check ok;

		c = &p->caches[job->native.item];
		if (!archive_wanted(c, on_failure))
			continue;
		if (!(key = cache_key(job, c->key, "archiving")))
			continue;
		policy = expand_policy(job, c);
		ok = cache_policy_allows(policy, false);
		if (ok == CACHE_POLICY_INVALID) {
			trace_sink_error(job->sink, "unknown cache policy %s for %s",
					 policy, key);
			free(policy);
			free(key);
			job_native_done(job, 1, 0);
			return;
		}
		free(policy);
		if (ok == CACHE_POLICY_NO) {
			trace_sink_info(job->sink,
					"Not uploading cache %s due to policy",
					key);
			free(key);
			continue;
		}
		trace_sink_info(job->sink, "Creating cache %s...", key);
		file = cache_file(job, key);
		strvec_pushv(&args, (const char *[]){ "cache-archive", "--file",
				file, NULL });
		for (i = 0; i < c->paths.nr; i++) {
			strvec_push(&args, "--path");
			strvec_push_nodup(&args, variables_expand(&job->vars,
								  c->paths.v[i]));
		}
		if (c->untracked)
			strvec_push(&args, "--untracked");
		add_remote(job, key, "PUT", &args);
		if (job_helper_start(job, &args, job->project_dir,
				     on_cache_archived) != 0)
			job_native_done(job, 1, 0);
		strvec_clear(&args);
		free(file);
		free(key);
		return;
	}
	job_native_done(job, 0, 0);
}

void job_archive_cache_start(struct job *job, const struct job_stage *stage)
{
	(void)stage;
	archive_next(job);
}
