/*
 * Asking for jobs and running them.  The feed timer offers one entry at a
 * time, check_interval / number_of_entries apart, as gitlab-runner's
 * feedRunners does; an offer becomes a request when sched_may_request()
 * agrees.  Every request and job runs on the loop, so an entry whose
 * coordinator hangs only holds its own request slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitlab/remote_job.h"
#include "gitlab/runner_info.h"
#include "manager/manager_int.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/random.h"
#include "util/xalloc.h"
#include "util/banned.h"

static bool runner_request(struct mgr_runner *r, bool from_feed);

/* ---- jobs ---- */

void mgr_job_free(struct mgr_job *job)
{
	if (!job)
		return;
	remote_job_free(job->rj);
	mgr_autoscale_release(job, false);
	mgr_config_unref(job->snap);
	free(job->payload);
	free(job->tls_ca_chain);
	buf_release(&job->instance_error);
	free(job);
}

static void on_job_done(void *ctx, const struct remote_job_summary *s)
{
	struct mgr_job *job = ctx;
	struct manager *m = job->m;
	struct mgr_runner *r = job->runner;
	double secs = (double)(loop_now_ms(m->loop) - job->started_ms) / 1000;

	job->done = true;
	r->nr_jobs--;
	m->nr_jobs--;
	metrics_runner_job_finished(&r->metrics, secs);
	/* A system failure may be the instance's: it is not used again. */
	mgr_autoscale_release(job, s->failure_reason &&
			      !strcmp(s->failure_reason,
				      "runner_system_failure"));
	if (s->dropped)
		log_info("runner %s: job %lld dropped", r->short_token,
			 (long long)s->id);
	else if (!s->delivered)
		log_error("runner %s: job %lld: its result did not reach GitLab",
			  r->short_token, (long long)s->id);
	else
		log_info("runner %s: job %lld done in %.1f s (%s)",
			 r->short_token, (long long)s->id, secs,
			 s->state == JOB_STATE_SUCCESS ? "success" :
			 s->failure_reason ? s->failure_reason : "failed");
	/* The remote_job is freed by the reaper: we are in its callback. */
	mgr_schedule_reap(m);
	mgr_offer_slot(m, r);
}

static int next_concurrent_id(const struct mgr_runner *r)
{
	const struct mgr_job *j;
	int *used = xcalloc((size_t)r->nr_jobs + 1, sizeof(*used)), id;
	size_t n = 0;

	for (j = r->m->jobs; j; j = j->next)
		if (j->runner == r && !j->done)
			used[n++] = j->concurrent_id;
	id = sched_free_slot(used, n);
	free(used);
	return id;
}

/* FF_EXPORT_HIGH_CARDINALITY_METRICS: a stage of the job ended. */
static void on_stage_duration(void *ctx, const char *stage, double seconds)
{
	struct mgr_job *job = ctx;

	metrics_runner_stage_finished(&job->runner->metrics, stage, seconds);
}

int mgr_job_run(struct mgr_job *job)
{
	struct manager *m = job->m;
	struct remote_job_options o = { 0 };
	char *payload = job->payload;

	o.loop = m->loop;
	o.client = job->runner->client;
	o.info = &job->info;
	o.runner = job->rc;
	o.system_id = m->system_id;
	o.concurrent_id = job->concurrent_id;
	o.user = job->snap->cfg.user;	/* the snapshot outlives the job */
	o.trace_interval_ms = m->opts.trace_interval_ms;
	o.s3_roles = m->s3_roles;
	o.host_cache = m->host_cache;
	o.autoscaled = job->autoscaled;
	o.instance = job->instance;
	o.instance_slot = job->instance_slot;
	o.instance_error = job->instance_error.data;
	o.correlation_id = job->correlation_id;
	o.tls_ca_chain = job->tls_ca_chain;
	o.on_stage_duration = on_stage_duration;
	o.stage_duration_ctx = job;
	job->payload = NULL;	/* the job's now */
	return remote_job_start(&o, payload, job->payload_len, on_job_done,
				job, &job->rj);
}

/*
 * 0, or CR_ERR_INVALID when the payload cannot be decoded (see
 * remote_job.h).  An autoscaler entry's job first acquires its instance.
 */
static int start_job(struct mgr_runner *r, char *payload, size_t len,
		     const char *correlation_id, char *tls_ca_chain,
		     const struct mgr_request *q)
{
	struct manager *m = r->m;
	struct mgr_job *job = xcalloc(1, sizeof(*job));

	job->m = m;
	job->runner = r;
	job->snap = mgr_config_ref(r->snap);
	job->rc = r->rc;
	runner_info_init(&job->info, job->rc);
	job->concurrent_id = next_concurrent_id(r);
	job->started_ms = loop_now_ms(m->loop);
	job->next = m->jobs;
	m->jobs = job;
	r->nr_jobs++;
	m->nr_jobs++;
	metrics_runner_job_started(&r->metrics);
	buf_init(&job->instance_error, 0);
	job->payload = payload;
	job->payload_len = len;
	snprintf(job->correlation_id, sizeof(job->correlation_id), "%s",
		 correlation_id);
	job->tls_ca_chain = tls_ca_chain;
	if (q->reserved) {
		mgr_autoscale_acquire(job, q->ts_key);
		return 0;
	}
	return mgr_job_run(job);
}

void mgr_jobs_cancel(struct manager *m, enum job_cancel_kind kind)
{
	struct mgr_job *j;
	bool acquiring = false;

	for (j = m->jobs; j; j = j->next) {
		if (!j->done && j->rj)
			remote_job_cancel(j->rj, kind);
		acquiring |= j->acquiring;
	}
	/* Jobs waiting for an instance: the taskscalers' stop ends the wait. */
	if (acquiring)
		(void)mgr_autoscale_shutdown(m);
}

/* ---- requests ---- */

static void unlink_request(struct mgr_request *q)
{
	struct mgr_request **pp;

	for (pp = &q->runner->requests; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	q->runner->nr_requests--;
	q->runner->m->nr_requests--;
}

static void mark_unhealthy(struct mgr_runner *r)
{
	struct manager *m = r->m;
	int limit = r->rc->unhealthy_requests_limit;

	log_error("runner %s: GitLab refused the token (403 forbidden): was the runner deleted? (%d of %d before it is disabled)",
		  r->short_token, r->unhealthy + 1, limit);
	if (++r->unhealthy < limit)
		return;
	r->unhealthy_until = loop_now_ms(m->loop) +
		(uint64_t)r->rc->unhealthy_interval_ms;
	log_error("runner %s is unhealthy and will be disabled for %lld s",
		  r->short_token,
		  (long long)(r->rc->unhealthy_interval_ms / 1000));
}

/* A request that failed: the next one waits, longer after each failure. */
static void back_off(struct mgr_runner *r, const char *why)
{
	struct manager *m = r->m;
	long delay;

	r->had_job = false;
	r->unhealthy = 0;
	r->failures++;
	delay = sched_backoff_ms(r->failures, mgr_check_interval_ms(m),
				 MGR_BACKOFF_MAX_MS, random_u32());
	r->backoff_until = loop_now_ms(m->loop) + (uint64_t)delay;
	log_warn("runner %s: asking for a job failed (%s); next try in %.1f s",
		 r->short_token, why, (double)delay / 1000);
}

/* Adaptive request concurrency learns from each answer (got_job or not). */
static void adapt(struct mgr_runner *r, const struct gl_job_reply *reply,
		  bool got_job)
{
	enum sched_outcome o = got_job ? SCHED_GOT_JOB : SCHED_NO_JOB;

	if (!runner_feature_flag(r->rc, "FF_USE_ADAPTIVE_REQUEST_CONCURRENCY",
				 true))
		return;
	if (reply->retried)
		o = SCHED_SLOW_DOWN;
	r->adaptive = sched_adaptive_update(r->adaptive, o,
					    r->metrics.hard_limit);
}

static void on_job_reply(struct gl_job_reply *reply, void *ctx)
{
	struct mgr_request *q = ctx;
	struct mgr_runner *r = q->runner;
	struct manager *m = r->m;
	bool started;
	struct mgr_request req = *q;

	unlink_request(q);
	free(q);
	if (reply->outcome != GL_JOB_RECEIVED ||
	    m->phase != MGR_RUNNING || r->removed)
		mgr_autoscale_unreserve(r, &req);
	if (reply->outcome != GL_JOB_RECEIVED ||
	    m->phase != MGR_RUNNING || r->removed)
		adapt(r, reply, reply->outcome == GL_JOB_RECEIVED);
	switch (reply->outcome) {
	case GL_JOB_RECEIVED:
		if (m->phase != MGR_RUNNING || r->removed) {
			/* Too late to run it: GitLab times it out (as Go). */
			log_warn("runner %s: a job arrived while stopping; not starting it",
				 r->short_token);
			break;
		}
		started = start_job(r, reply->payload, reply->payload_len,
				    reply->correlation_id, reply->tls_ca_chain,
				    &req) == 0;
		reply->payload = NULL;	/* taken */
		reply->tls_ca_chain = NULL;
		adapt(r, reply, started);
		if (!started) {
			/*
			 * Undecodable: a failed request, as in gitlab-runner
			 * (doJSON's decode error), not a job to ask again
			 * for at once: each ask may hand out a new job.
			 */
			back_off(r, "the job's payload cannot be decoded");
			break;
		}
		r->failures = 0;
		r->unhealthy = 0;
		/*
		 * Ask again at once: there may be more.  As many requests
		 * as request_concurrency allows, not one: a chain of single
		 * requests started 200 queued jobs one round trip apart.
		 * strict_check_interval: only at the feed's pace (as
		 * gitlab-runner's processRunner skips its requeueRunner).
		 */
		if (r->rc->strict_check_interval == CONFIG_TRUE) {
			r->had_job = false;
			break;
		}
		r->had_job = true;
		while (runner_request(r, false))
			;
		break;
	case GL_JOB_NONE:
		r->had_job = false;
		r->failures = 0;
		r->unhealthy = 0;
		log_debug("runner %s: no job", r->short_token);
		break;
	case GL_JOB_FORBIDDEN:
		r->had_job = false;
		mark_unhealthy(r);
		break;
	case GL_JOB_FAILED:
		back_off(r, reply->message.len ? reply->message.data :
			 gl_result_name(reply->result));
		break;
	}
	mgr_maybe_finish(m);
}

/*
 * Sends one job request when the scheduling rules allow it; returns
 * whether it did.  from_feed: a feed offer, counted in the metrics when
 * request_concurrency refuses it (the requests crunner adds on its own
 * until that limit are not).
 */
static bool runner_request(struct mgr_runner *r, bool from_feed)
{
	struct manager *m = r->m;
	struct sched_state s = { 0 };
	struct gl_job_request rq = { 0 };
	struct mgr_request *q;
	enum sched_verdict v;
	uint64_t now = loop_now_ms(m->loop);
	int rc;

	if (m->phase != MGR_RUNNING || r->removed || !r->client ||
	    r->reset_call || r->no_executor || mgr_autoscale_blocked(r))
		return false;	/* (a token reset first: the old token dies) */
	if (r->unhealthy_until && now >= r->unhealthy_until) {
		log_warn("runner %s is not healthy, but a check for a new job is forced",
			 r->short_token);
		r->unhealthy = 0;
		r->unhealthy_until = 0;
	}
	s.concurrent = m->config->cfg.concurrent;
	s.busy = m->nr_requests + m->nr_jobs;
	s.limit = r->rc->limit;
	s.requests = r->nr_requests;
	s.jobs = r->nr_jobs;
	s.request_limit = sched_request_limit(r->adaptive,
			r->metrics.hard_limit,
			runner_feature_flag(r->rc,
				"FF_USE_ADAPTIVE_REQUEST_CONCURRENCY", true));
	s.unhealthy = r->unhealthy_until != 0;
	s.backing_off = now < r->backoff_until;
	r->metrics.used_limit = s.request_limit;
	v = sched_may_request(&s);
	if (v != SCHED_REQUEST) {
		if (v == SCHED_REQUESTS_FULL && from_feed)
			r->metrics.requests_exceeded++;
		if (from_feed)
			log_debug("runner %s: not asking for a job: %s",
				  r->short_token, sched_verdict_name(v));
		return false;
	}

	q = xcalloc(1, sizeof(*q));
	q->runner = r;
	if (!mgr_autoscale_reserve(r, q)) {
		free(q);
		return false;
	}
	rq.info = &r->info;
	rq.token = r->rc->token;
	rq.system_id = m->system_id;
	if ((rc = gl_request_job(r->client, &rq, on_job_reply, q,
				 &q->call)) != 0) {
		log_error("runner %s: cannot ask for a job: %s",
			  r->short_token, cr_strerror(rc));
		mgr_autoscale_unreserve(r, q);
		free(q);
		return false;
	}
	q->next = r->requests;
	r->requests = q;
	r->nr_requests++;
	m->nr_requests++;
	log_debug("runner %s: asking for a job (%d in flight)",
		  r->short_token, r->nr_requests);
	return true;
}

void mgr_runner_try_request(struct mgr_runner *r)
{
	runner_request(r, true);
}

void mgr_offer_slot(struct manager *m, struct mgr_runner *first)
{
	size_t i;

	/*
	 * Only entries whose last answer was a job: an empty queue is asked
	 * again at the feed's pace, as before.  The job's own entry first.
	 */
	if (first->had_job && runner_request(first, false))
		return;
	for (i = 0; i < m->nr_runners; i++) {
		struct mgr_runner *r = m->runners[i];

		if (r != first && r->had_job && runner_request(r, false))
			return;
	}
}

/* ---- the feed ---- */

static long on_feed(struct loop *loop, void *ctx)
{
	struct manager *m = ctx;
	long interval = mgr_check_interval_ms(m);

	(void)loop;
	if (m->phase != MGR_RUNNING) {
		m->feed_timer = 0;
		return LOOP_TIMER_STOP;
	}
	if (!m->nr_active)
		return interval;
	if (m->feed_next >= m->nr_active)
		m->feed_next = 0;
	mgr_runner_try_request(m->runners[m->feed_next++]);
	interval /= (long)m->nr_active;
	return interval > 0 ? interval : 1;
}

void mgr_feed_start(struct manager *m)
{
	if (!m->feed_timer)
		m->feed_timer = loop_add_timer(m->loop, 0, on_feed, m);
}

void mgr_feed_stop(struct manager *m)
{
	size_t i;

	if (m->feed_timer) {
		loop_cancel_timer(m->loop, m->feed_timer);
		m->feed_timer = 0;
	}
	for (i = 0; i < m->nr_runners; i++)
		mgr_runner_cancel_requests(m->runners[i]);
}
