/*
 * The distributed cache's requests for the cache stages
 * (stage_cache_int.h): the settings in force (the legacy S3 and GCS
 * adapters' flags), each object's pre-signed URL and headers as the
 * helper's arguments, and signing them off the loop thread before the
 * stage starts (archive/cache_plan.h, util/offload.h): STS, instance
 * metadata or a bucket lookup may take seconds, and the loop carries
 * every other job's trace.
 */
#include <stdlib.h>
#include <string.h>

#include "archive/cache_plan.h"
#include "archive/cache_remote.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/stage_cache_int.h"
#include "job/trace.h"
#include "util/offload.h"
#include "util/xalloc.h"
#include "util/banned.h"

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

	job_cache_stored_key(key, hashed, hashed, &name);
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
	bool hashed = job_cache_hashed_keys(job), alt = job_cache_has_alternate(job, key);
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

void job_cache_add_remote(struct job *job, const char *key,
			  const char *method, struct strvec *args,
			  struct strvec *env)
{
	const struct config_cache *cfg = &job->settings.runner->cache;
	struct cache_request req = CACHE_REQUEST_INIT;
	struct buf err = BUF_INIT;
	size_t i;

	if (!cache_remote_enabled(cfg))
		return;
	if (remote_request(job, key, job_cache_hashed_keys(job), method, &req,
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

/* What a restore asks for: job_cache_add_remote() and add_alternate_urls(). */
static void plan_restore(struct job *job, struct cache_plan *plan)
{
	const struct job_payload *p = job->payload;
	struct strvec keys = STRVEC_INIT;
	struct buf said = BUF_INIT;	/* notices: the stage says them */
	bool hashed = job_cache_hashed_keys(job);
	size_t i, k;
	long get;

	for (i = 0; i < p->nr_caches; i++) {
		strvec_clear(&keys);
		if (job_cache_restore_keys(job, &p->caches[i], &keys, &said) <= 0)
			continue;
		for (k = 0; k < keys.nr; k++) {
			get = plan_request(job, plan, keys.v[k], hashed, "GET",
					   -1);
			(void)plan_request(job, plan, keys.v[k], hashed, "HEAD",
					   get);
			if (!job_cache_has_alternate(job, keys.v[k]))
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
		if (job_cache_archive_key(job, &p->caches[i], stage->on_failure, &key,
				&said) <= 0)
			continue;
		(void)plan_request(job, plan, key, job_cache_hashed_keys(job), "PUT",
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

