/*
 * The cache stages (spec 3.9, 8.1): restore_cache before the steps,
 * archive_cache / archive_cache_on_failure after them, with the local
 * cache of gitlab-runner's shell executor:
 * <cache_dir>/<project path>/<key>/cache.zip, cache_dir defaulting to
 * "cache" under the working directory.  A cache never fails a job:
 * problems are warnings, as in gitlab-runner.  For an executor with
 * stage_scripts_everywhere (executor.h) the same work is a stage script
 * that runs the helper where the job runs (job_*_cache_script()).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "archive/cache.h"
#include "archive/cache_backend.h"
#include "archive/cache_plan.h"
#include "archive/cache_remote.h"
#include "config/config.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/offload.h"
#include "util/run_as.h"
#include "util/sha256.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void restore_next(struct job *job);
static void archive_next(struct job *job);

static bool cache_has_paths(const struct job_cache *c)
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
static bool hash_cache_keys(const struct job *job)
{
	return variables_get_bool(&job->vars, "FF_HASH_CACHE_KEYS", 0);
}

/*
 * The name key is stored under, as above, hashed or not; sharded adds the
 * "ab/".
 */
static void stored_key(const char *key, bool hashed, bool sharded,
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
	if (hash_cache_keys(job)) {
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
static bool has_alternate(const struct job *job, const char *key)
{
	struct buf clean = BUF_INIT, err = BUF_INIT;
	bool same;

	if (!hash_cache_keys(job))
		return true;
	same = cache_key_sanitize(key, &clean, &err) == 0 &&
	       !strcmp(clean.data, key);
	buf_release(&clean);
	buf_release(&err);
	return same;
}

static char *cache_file(const struct job *job, const char *key, bool hashed)
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
	stored_key(key, hashed, false, &b);
	(void)buf_addstr(&b, "/cache.zip");
	return buf_detach(&b, NULL);
}

/*
 * FF_USE_PARALLEL_CACHE_TRANSFER: gitlab-runner's cache-extractor reads
 * the flag, CACHE_CHUNK_SIZE and CACHE_CONCURRENCY from the job's
 * environment; crunner's helper is told them (archive/cache_remote.h,
 * struct cache_parallel), the helper checking the numbers.
 */
static void add_parallel(struct job *job, struct strvec *args)
{
	const char *v;

	if (!variables_get_bool(&job->vars, "FF_USE_PARALLEL_CACHE_TRANSFER",
				0))
		return;
	strvec_push(args, "--parallel");
	if ((v = variables_get(&job->vars, "CACHE_CHUNK_SIZE")) && *v)
		strvec_pushf(args, "--chunk-size=%s", v);
	if ((v = variables_get(&job->vars, "CACHE_CONCURRENCY")) && *v)
		strvec_pushf(args, "--concurrency=%s", v);
}

/*
 * With a distributed cache ([runners.cache] Type), the helper also GETs or
 * PUTs the archive through a pre-signed URL, valid as long as the job may
 * run, which it finds in its environment.  Problems are warnings: the
 * local cache still works.
 */
/*
 * FF_USE_LEGACY_S3_CACHE_ADAPTER: gitlab-runner's legacy S3 adapter
 * (cache/s3, minio-go) instead of its AWS SDK one (cache/s3v2).  What
 * crunner's requests can show of the difference: no RoleARN or
 * UploadRoleARN (no STS: URLs are signed with the access keys or the IAM
 * credentials); ServerSideEncryption only "S3" or "KMS" (minio's types,
 * any case), anything else ("AES256", "aws:kms", "DSSE-KMS") no header
 * and no warning; IAM credentials always over https, whatever Insecure
 * says.  The settings for the job's requests, in legacy when they differ.
 */
/*
 * FF_USE_LEGACY_GCS_CACHE_ADAPTER: gitlab-runner's legacy GCS adapter
 * (cache/gcs) instead of its storage-SDK one (cache/gcsv2).  The legacy
 * credentials resolver knows CredentialsFile, AccessID + PrivateKey and the
 * metadata server, not GOOGLE_APPLICATION_CREDENTIALS, and its URLs and
 * signBlob calls go to googleapis.com whatever UniverseDomain says.
 */
static const struct config_cache *gcs_settings(const struct job *job,
					       struct config_cache *legacy)
{
	const struct config_cache *cfg = &job->settings.runner->cache;

	if (!variables_get_bool(&job->vars, "FF_USE_LEGACY_GCS_CACHE_ADAPTER",
				0))
		return cfg;
	*legacy = *cfg;
	legacy->gcs.universe_domain = NULL;
	legacy->gcs.legacy_adapter = true;
	return legacy;
}

static const struct config_cache *cache_settings(const struct job *job,
						 struct config_cache *legacy)
{
	const struct config_cache *cfg = &job->settings.runner->cache;
	const char *sse = cfg->s3.server_side_encryption;

	if (cfg->type && !strcasecmp(cfg->type, "gcs"))
		return gcs_settings(job, legacy);
	if (!cfg->type || strcmp(cfg->type, "s3") ||
	    !variables_get_bool(&job->vars, "FF_USE_LEGACY_S3_CACHE_ADAPTER",
				0))
		return cfg;
	*legacy = *cfg;
	legacy->s3.role_arn = NULL;
	legacy->s3.upload_role_arn = NULL;
	if (sse && strcasecmp(sse, "S3") && strcasecmp(sse, "KMS"))
		legacy->s3.server_side_encryption = NULL;
	if (s3_auth_type(&cfg->s3) == S3_AUTH_IAM)
		legacy->s3.insecure = false;
	return legacy;
}

/*
 * The request for method on key's object, hashed or not (a hashed name is
 * sharded, as gitlab-runner's adapter is told for either scheme).
 */
static long url_expires(const struct job *job)
{
	return (long)(job->timeout_s > 0 ? job->timeout_s : 3600);
}

/* The object name of key's archive, hashed or not, under cfg. */
static int object_name(struct job *job, const struct config_cache *cfg,
		       const char *key, bool hashed, struct buf *object,
		       struct buf *err)
{
	struct buf name = BUF_INIT;
	int r;

	stored_key(key, hashed, hashed, &name);
	r = cache_object_name(cfg->path, cfg->shared, job->short_token,
			      job->payload->job_info.project_id, name.data,
			      object, err);
	buf_release(&name);
	return r;
}

/* The plan's answer for a request (job_cache_prepare()) into req or err. */
static int planned_request(const struct cache_plan_item *it,
			   struct cache_request *req, struct buf *err)
{
	size_t i;

	if (it->rc) {
		buf_seterr(err, "%s", it->err.data);
		return it->rc;
	}
	(void)buf_addstr(&req->url, it->req.url.data);
	for (i = 0; i < it->req.headers.nr; i++)
		strvec_push(&req->headers, it->req.headers.v[i]);
	req->missing_is_local = it->req.missing_is_local;
	return 0;
}

/*
 * The request for method on key's object, hashed or not (a hashed name is
 * sharded, as gitlab-runner's adapter is told for either scheme): signed
 * off the loop thread before the stage (job_cache_prepare()), else here.
 */
static int remote_request(struct job *job, const char *key, bool hashed,
			  const char *method, struct cache_request *req,
			  struct buf *err)
{
	const struct cache_plan_item *it =
		cache_plan_find(job->cache_plan, key, hashed, method);
	struct config_cache legacy;
	const struct config_cache *cfg;
	struct buf object = BUF_INIT;
	int r;

	if (it)
		return planned_request(it, req, err);
	cfg = cache_settings(job, &legacy);
	r = object_name(job, cfg, key, hashed, &object, err);
	if (!r)
		r = cache_backend_request(cfg, method, object.data, key,
					  time(NULL), url_expires(job),
					  job->settings.s3_roles, req, err);
	buf_release(&object);
	return r;
}

/*
 * A restore's other URLs in env (helper_artifacts.c): the primary's HEAD
 * URL, and the object in the other scheme's GET and HEAD URLs.
 */
static void add_alternate_urls(struct job *job, const char *key,
			       struct strvec *env)
{
	static const struct { bool alt; const char *method, *var; } urls[] = {
		{ false, "HEAD", "CRUNNER_CACHE_HEAD_URL" },
		{ true, "GET", "CRUNNER_CACHE_ALT_URL" },
		{ true, "HEAD", "CRUNNER_CACHE_ALT_HEAD_URL" },
	};
	bool hashed = hash_cache_keys(job), alt = has_alternate(job, key);
	size_t i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		struct cache_request req = CACHE_REQUEST_INIT;
		struct buf err = BUF_INIT;

		if (urls[i].alt && !alt)
			continue;
		if (remote_request(job, key, urls[i].alt ? !hashed : hashed,
				   urls[i].method, &req, &err) == 0)
			strvec_pushf(env, "%s=%s", urls[i].var, req.url.data);
		else
			trace_sink_warning(job->sink,
					   "Failed to obtain alternate URL for cache %s: %s",
					   key, err.data);
		cache_request_release(&req);
		buf_release(&err);
	}
}

static void add_remote(struct job *job, const char *key, const char *method,
		       struct strvec *args, struct strvec *env)
{
	const struct config_cache *cfg = &job->settings.runner->cache;
	struct cache_request req = CACHE_REQUEST_INIT;
	struct buf err = BUF_INIT;
	size_t i;

	if (!cache_remote_enabled(cfg))
		return;
	if (remote_request(job, key, hash_cache_keys(job), method, &req,
			   &err) != 0) {
		trace_sink_warning(job->sink,
				   "Cannot use the distributed cache: %s",
				   err.data);
		goto out;
	}
	strvec_pushf(env, "CRUNNER_CACHE_URL=%s", req.url.data);
	if (!strcmp(method, "GET"))
		add_alternate_urls(job, key, env);
	strvec_push(args, "--remote");
	for (i = 0; i < req.headers.nr; i++) {
		strvec_push(args, "--header");
		strvec_push(args, req.headers.v[i]);
	}
	if (req.missing_is_local && !strcmp(method, "GET"))
		strvec_push(args, "--missing-is-local");
	if (!strcmp(method, "GET"))
		add_parallel(job, args);
	if (!strcmp(method, "PUT") && cfg->max_uploaded_archive_size > 0)
		strvec_pushf(args, "--max-size=%lld",
			     (long long)cfg->max_uploaded_archive_size);
out:
	cache_request_release(&req);
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

/*
 * FF_CLEAN_UP_FAILED_CACHE_EXTRACT (gitlab-runner's addExtractCacheCommand):
 * after a failed extraction each of the entry's paths, expanded, is
 * removed from the project dir ("Removing <path>"), so that a partly
 * extracted archive does not stay behind; the next key then starts
 * clean.  A path that is absolute or climbs out with ".." is left alone
 * (gitlab-runner removes it too).
 */
static bool removable_cache_path(const char *path)
{
	const char *p = path;

	if (!*path || *path == '/')
		return false;
	while (p) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2]))
			return false;
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return true;
}

/*
 * The paths to remove after a failed extraction of c, expanded, into out
 * (none without the flag).
 */
static void failed_extract_paths(struct job *job, const struct job_cache *c,
				 struct strvec *out)
{
	size_t i;

	if (!variables_get_bool(&job->vars, "FF_CLEAN_UP_FAILED_CACHE_EXTRACT",
				0))
		return;
	for (i = 0; i < c->paths.nr; i++) {
		char *path = variables_expand(&job->vars, c->paths.v[i]);

		if (removable_cache_path(path))
			strvec_push_nodup(out, path);
		else
			free(path);
	}
}

static void try_key(struct job *job);

static void on_cache_extracted(struct job *job, int exit_status)
{
	struct strvec paths = STRVEC_INIT;
	size_t i;

	if (exit_status == 0) {
		trace_sink_info(job->sink, "Successfully extracted cache");
		job->native.item++;
		restore_next(job);
		return;
	}
	trace_sink_warning(job->sink, "Failed to extract cache");
	failed_extract_paths(job, &job->payload->caches[job->native.item],
			     &paths);
	for (i = 0; i < paths.nr; i++) {
		struct buf full = BUF_INIT;

		(void)buf_addf(&full, "%s/%s", job->project_dir, paths.v[i]);
		job_say(job, NULL, SCRIPT_ECHO_PLAIN, "Removing %s",
			paths.v[i]);
		fs_remove_tree(full.data);
		buf_release(&full);
	}
	strvec_clear(&paths);
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
	file = cache_file(job, key, hash_cache_keys(job));
	strvec_pushv(&args, (const char *[]){ "cache-extract", "--file", file,
			NULL });
	add_remote(job, key, "GET", &args, &job->native.helper_env);
	if (job_helper_start(job, &args, job->project_dir,
			     on_cache_extracted) != 0)
		job_native_done(job, 1, 0);
	strvec_clear(&args);
	free(file);
}

/*
 * The keys to try, in order, for cache entry c: its key, its fallback
 * keys, CACHE_FALLBACK_KEY.  Returns 1 with keys filled, 0 when the entry
 * is skipped (bad key, policy), -1 for an unknown policy (said).  Notices
 * go into the trace, or into body for a stage script.
 */
static int restore_keys(struct job *job, const struct job_cache *c,
			struct strvec *keys, struct buf *body)
{
	enum cache_policy_check ok;
	struct buf fb = BUF_INIT;
	const char *global;
	char *key, *policy;
	size_t i;

	if (!cache_has_paths(c))
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

static void restore_next(struct job *job)
{
	const struct job_payload *p = job->payload;
	int r;

	strvec_clear(&job->native.keys);
	job->native.key = 0;
	for (; job->native.item < p->nr_caches; job->native.item++) {
		r = restore_keys(job, &p->caches[job->native.item],
				 &job->native.keys, NULL);
		if (r < 0) {
			job_native_done(job, 1, 0);
			return;
		}
		if (r == 0)
			continue;
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

/*
 * The key cache entry c is saved under after a job that failed or not:
 * 1 with *key set, 0 when skipped, -1 for an unknown policy (said).
 */
static int archive_key(struct job *job, const struct job_cache *c,
		       bool on_failure, char **key, struct buf *body)
{
	enum cache_policy_check ok;
	char *policy;

	if (!archive_wanted(c, on_failure))
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

/*
 * CACHE_COMPRESSION_FORMAT goes to the helper as --compression-format
 * (gitlab-runner's cache-archiver reads it from the job's environment).
 * A zstd format uses CACHE_COMPRESSION_LEVEL whatever FF_USE_FASTZIP says
 * (gitlab-runner's tarzstd and zipzstd archivers always take it), so the
 * level goes along then even when job_push_compression_level() leaves it
 * out for zip.
 */
static void push_cache_compression(const struct job *job,
				   struct strvec *args)
{
	const char *format = variables_get(&job->vars, CACHE_FORMAT_VAR);
	const char *level = variables_get(&job->vars, "CACHE_COMPRESSION_LEVEL");
	size_t before = args->nr;
	bool level_pushed;

	job_push_compression_level(job, "CACHE_COMPRESSION_LEVEL", args);
	level_pushed = args->nr != before;
	if (!format || !*format)
		return;
	strvec_push(args, "--" CACHE_FORMAT_OPTION);
	strvec_push(args, format);
	if (!level_pushed && level && *level &&
	    cache_format_from_name(format) != CACHE_FORMAT_ZIP) {
		strvec_push(args, "--compression-level");
		strvec_push(args, level);
	}
}

/* The helper's cache-archive arguments for entry c under key. */
static void archive_args(struct job *job, const struct job_cache *c,
			 const char *key, struct strvec *args,
			 struct strvec *env)
{
	char *file = cache_file(job, key, hash_cache_keys(job));
	size_t i;

	/*
	 * The helper archives as the job's user (run_as.h): the key's dir is
	 * made for that user.  A failure is the helper's to report.
	 */
	if (job->run_as) {
		char *dir = xstrdup(file), *slash = strrchr(dir, '/');
		struct buf err = BUF_INIT;

		if (slash && slash != dir) {
			*slash = '\0';
			(void)run_as_mkdir_p(job->run_as, dir, 0755, &err);
		}
		buf_release(&err);
		free(dir);
	}
	strvec_pushv(args, (const char *[]){ "cache-archive", "--file", file,
			NULL });
	if (has_alternate(job, key)) {
		strvec_push(args, "--alternate-file");
		strvec_push_nodup(args, cache_file(job, key,
						   !hash_cache_keys(job)));
	}
	for (i = 0; i < c->paths.nr; i++) {
		strvec_push(args, "--path");
		strvec_push_nodup(args, variables_expand(&job->vars,
							 c->paths.v[i]));
	}
	if (c->untracked)
		strvec_push(args, "--untracked");
	push_cache_compression(job, args);
	add_remote(job, key, "PUT", args, env);
	free(file);
}

static void archive_next(struct job *job)
{
	const struct job_payload *p = job->payload;
	bool on_failure = job->stages[job->running].on_failure;
	struct strvec args = STRVEC_INIT;
	char *key;
	int r;

	for (; job->native.item < p->nr_caches; job->native.item++) {
		r = archive_key(job, &p->caches[job->native.item], on_failure,
				&key, NULL);
		if (r < 0) {
			job_native_done(job, 1, 0);
			return;
		}
		if (r == 0)
			continue;
		trace_sink_info(job->sink, "Creating cache %s...", key);
		archive_args(job, &p->caches[job->native.item], key, &args,
			     &job->native.helper_env);
		if (job_helper_start(job, &args, job->project_dir,
				     on_cache_archived) != 0)
			job_native_done(job, 1, 0);
		strvec_clear(&args);
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

/* ---- the same as stage scripts (executor.h, stage_scripts_everywhere) ---- */

/*
 * A distributed cache's pre-signed URL reaches the helper as an exported
 * variable for that one command, then goes: never on the command line.
 */
static int script_env_line(struct job *job, struct buf *body,
			   const struct strvec *env, bool unset)
{
	size_t i;
	int r = 0;

	for (i = 0; i < env->nr && !r; i++) {
		const char *eq = strchr(env->v[i], '=');
		char *k;

		if (!eq)
			continue;
		k = xstrndup(env->v[i], (size_t)(eq - env->v[i]));
		if (unset)
			r = buf_addf(body, "unset %s\n", k);
		else
			r = script_export(body, job->shell, k, eq + 1);
		free(k);
	}
	return r;
}

/* The script's side of failed_extract_paths(): print, then rm -r -f. */
static int remove_paths_lines(struct job *job, struct buf *body,
			      const struct job_cache *c)
{
	struct strvec paths = STRVEC_INIT;
	size_t i;
	int r = 0;

	failed_extract_paths(job, c, &paths);
	for (i = 0; i < paths.nr && !r; i++) {
		const char *rm[] = { "rm", "-r", "-f", "--", paths.v[i], NULL };

		job_say(job, body, SCRIPT_ECHO_PLAIN, "Removing %s",
			paths.v[i]);
		r = script_run(body, job->shell, rm);
	}
	strvec_clear(&paths);
	return r;
}

int job_restore_cache_script(struct job *job, const struct job_stage *stage,
			     struct buf *out, struct buf *err)
{
	const struct job_payload *p = job->payload;
	struct buf body = BUF_INIT;
	struct strvec keys = STRVEC_INIT, args = STRVEC_INIT,
		env = STRVEC_INIT;
	size_t i, k;
	int r = 0, res;

	if (!job_restore_cache_has_work(job, stage))
		return 0;
	if ((r = job_helper_script_begin(job, &body, NULL)))
		goto out;
	for (i = 0; i < p->nr_caches && !r; i++) {
		strvec_clear(&keys);
		res = restore_keys(job, &p->caches[i], &keys, &body);
		if (res < 0) {
			r = buf_addstr(&body, "exit 1\n");
			break;
		}
		if (res == 0 || !keys.nr)
			continue;
		/* The first key that extracts wins; a cache never fails. */
		r = buf_addstr(&body, "_cr_cache_done=0\n");
		for (k = 0; k < keys.nr && !r; k++) {
			char *file = cache_file(job, keys.v[k],
						hash_cache_keys(job));

			strvec_clear(&args);
			strvec_clear(&env);
			strvec_pushv(&args, (const char *[]){ "cache-extract",
					"--file", file, NULL });
			add_remote(job, keys.v[k], "GET", &args, &env);
			free(file);
			if ((r = buf_addstr(&body,
					"if [ \"$_cr_cache_done\" = 0 ]; then\n")))
				break;
			job_say(job, &body, SCRIPT_ECHO_NOTICE,
				"Checking cache for %s...", keys.v[k]);
			if ((r = script_env_line(job, &body, &env, false)) ||
			    (r = buf_addstr(&body, "if ")) ||
			    (r = job_helper_script_command(job, &body, &args)) ||
			    (r = buf_addstr(&body, "; then\n_cr_cache_done=1\n")))
				break;
			job_say(job, &body, SCRIPT_ECHO_NOTICE,
				"Successfully extracted cache");
			if ((r = buf_addstr(&body, "else\n")))
				break;
			job_say(job, &body, SCRIPT_ECHO_WARNING,
				"Failed to extract cache");
			if ((r = remove_paths_lines(job, &body, &p->caches[i])))
				break;
			if ((r = buf_addstr(&body, "fi\n")) ||
			    (r = script_env_line(job, &body, &env, true)) ||
			    (r = buf_addstr(&body, "fi\n")))
				break;
		}
	}
out:
	strvec_clear(&keys);
	strvec_clear(&args);
	strvec_clear(&env);
	if (r) {
		buf_seterr(err, "cannot build the restore_cache script: %s",
			   cr_strerror(r));
		buf_release_secret(&body);
		return r;
	}
	return job_helper_script_end(job, "restore_cache", &body, out, err);
}

int job_archive_cache_script(struct job *job, const struct job_stage *stage,
			     struct buf *out, struct buf *err)
{
	const struct job_payload *p = job->payload;
	struct buf body = BUF_INIT;
	struct strvec args = STRVEC_INIT, env = STRVEC_INIT;
	char *key;
	size_t i;
	int r = 0, res;

	if (!job_archive_cache_has_work(job, stage))
		return 0;
	if ((r = job_helper_script_begin(job, &body, NULL)))
		goto out;
	for (i = 0; i < p->nr_caches && !r; i++) {
		res = archive_key(job, &p->caches[i], stage->on_failure, &key,
				  &body);
		if (res < 0) {
			r = buf_addstr(&body, "exit 1\n");
			break;
		}
		if (res == 0)
			continue;
		job_say(job, &body, SCRIPT_ECHO_NOTICE, "Creating cache %s...",
			key);
		strvec_clear(&args);
		strvec_clear(&env);
		archive_args(job, &p->caches[i], key, &args, &env);
		free(key);
		if ((r = script_env_line(job, &body, &env, false)) ||
		    (r = buf_addstr(&body, "if ")) ||
		    (r = job_helper_script_command(job, &body, &args)) ||
		    (r = buf_addstr(&body, "; then\n")))
			break;
		job_say(job, &body, SCRIPT_ECHO_NOTICE, "Created cache");
		if ((r = buf_addstr(&body, "else\n")))
			break;
		job_say(job, &body, SCRIPT_ECHO_WARNING,
			"Failed to create cache");
		if ((r = buf_addstr(&body, "fi\n")) ||
		    (r = script_env_line(job, &body, &env, true)))
			break;
	}
out:
	strvec_clear(&args);
	strvec_clear(&env);
	if (r) {
		buf_seterr(err, "cannot build the archive_cache script: %s",
			   cr_strerror(r));
		buf_release_secret(&body);
		return r;
	}
	return job_helper_script_end(job, "archive_cache", &body, out, err);
}

/* ---- signing off the loop thread (archive/cache_plan.h) ---- */

/* Adds method on key's object to plan; returns the item's index. */
static long plan_request(struct job *job, struct cache_plan *plan,
			 const char *key, bool hashed, const char *method,
			 long needs)
{
	struct buf object = BUF_INIT, err = BUF_INIT;
	int r = object_name(job, &plan->cfg, key, hashed, &object, &err);
	long i = cache_plan_add(plan, key, hashed, method,
				r ? NULL : object.data, r, err.data, needs);

	buf_release(&object);
	buf_release(&err);
	return i;
}

/* What a restore asks for: add_remote() and add_alternate_urls(). */
static void plan_restore(struct job *job, struct cache_plan *plan)
{
	const struct job_payload *p = job->payload;
	struct strvec keys = STRVEC_INIT;
	struct buf said = BUF_INIT;	/* notices: the stage says them */
	bool hashed = hash_cache_keys(job);
	size_t i, k;
	long get;

	for (i = 0; i < p->nr_caches; i++) {
		strvec_clear(&keys);
		if (restore_keys(job, &p->caches[i], &keys, &said) <= 0)
			continue;
		for (k = 0; k < keys.nr; k++) {
			get = plan_request(job, plan, keys.v[k], hashed, "GET",
					   -1);
			(void)plan_request(job, plan, keys.v[k], hashed, "HEAD",
					   get);
			if (!has_alternate(job, keys.v[k]))
				continue;
			(void)plan_request(job, plan, keys.v[k], !hashed, "GET",
					   get);
			(void)plan_request(job, plan, keys.v[k], !hashed,
					   "HEAD", get);
		}
	}
	strvec_clear(&keys);
	buf_release(&said);
}

/* What an archive asks for: one PUT per entry saved. */
static void plan_archive(struct job *job, const struct job_stage *stage,
			 struct cache_plan *plan)
{
	const struct job_payload *p = job->payload;
	struct buf said = BUF_INIT;
	char *key;
	size_t i;

	for (i = 0; i < p->nr_caches; i++) {
		if (archive_key(job, &p->caches[i], stage->on_failure, &key,
				&said) <= 0)
			continue;
		(void)plan_request(job, plan, key, hash_cache_keys(job), "PUT",
				   -1);
		free(key);
	}
	buf_release(&said);
}

/* The work handed to the thread: the plan, until the loop takes it. */
struct plan_work {
	struct cache_plan *plan;
};

static void sign_plan(void *work)
{
	cache_plan_sign(((struct plan_work *)work)->plan);
}

static void free_plan_work(void *work)
{
	struct plan_work *w = work;

	cache_plan_free(w->plan);
	free(w);
}

static void on_plan_signed(void *ctx, void *work, int rc)
{
	struct job *job = ctx;
	struct plan_work *w = work;

	job->cache_offload = NULL;
	if (rc == 0) {
		log_capture_replay(&w->plan->logs);
		job->cache_plan = w->plan;
		w->plan = NULL;
	} else {
		/* No thread: the stage signs on the loop, as it can. */
		log_warn("job %lld: cannot sign cache URLs off the loop: %s",
			 (long long)job->payload->id, strerror(rc));
	}
	job_stage_prepared(job);
}

int job_cache_prepare(struct job *job, const struct job_stage *stage)
{
	const struct config_cache *cfg = &job->settings.runner->cache;
	struct config_cache legacy;
	struct plan_work *w;
	struct cache_plan *plan;

	job_cache_plan_drop(job);
	if (!cache_remote_enabled(cfg) || !stage->has_work(job, stage))
		return 0;
	plan = cache_plan_new(cache_settings(job, &legacy),
			      job->settings.s3_roles, url_expires(job));
	if (!strcmp(stage->name, "restore_cache"))
		plan_restore(job, plan);
	else
		plan_archive(job, stage, plan);
	if (!plan->nr) {
		cache_plan_free(plan);
		return 0;
	}
	w = xcalloc(1, sizeof(*w));
	w->plan = plan;
	job->cache_offload = offload_start(job->loop, sign_plan, w,
					   free_plan_work, on_plan_signed, job);
	return 1;
}

bool job_cache_prepare_cancel(struct job *job)
{
	if (!job->cache_offload)
		return false;
	offload_cancel(job->cache_offload);
	job->cache_offload = NULL;
	return true;
}

void job_cache_plan_drop(struct job *job)
{
	cache_plan_free(job->cache_plan);
	job->cache_plan = NULL;
}
