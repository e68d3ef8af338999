/*
 * The state kept per [[runners]] entry, and the config snapshots it
 * points into (ownership rules: manager_int.h).
 */
#include <stdlib.h>
#include <string.h>

#include "executor/executor.h"
#include "gitlab/runner_info.h"
#include "manager/manager_int.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct mgr_config *mgr_config_new(struct config *cfg)
{
	struct mgr_config *c = xcalloc(1, sizeof(*c));

	c->refs = 1;
	c->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	return c;
}

struct mgr_config *mgr_config_ref(struct mgr_config *c)
{
	if (c)
		c->refs++;
	return c;
}

void mgr_config_unref(struct mgr_config *c)
{
	if (!c || --c->refs)
		return;
	config_release(&c->cfg);
	free(c);
}

static void refresh(struct mgr_runner *r)
{
	runner_short_token(r->rc->token, r->short_token);
	runner_info_init(&r->info, r->rc);
	metrics_runner_relabel(&r->metrics, r->rc->token, r->rc->name);
	r->metrics.listed = !r->removed;
	r->metrics.limit = r->rc->limit;
	r->metrics.hard_limit = r->rc->request_concurrency < 1 ? 1 :
		r->rc->request_concurrency;
}

/*
 * Whether crunner can run this entry's jobs; says so when that changes (a
 * new entry, or a reload that edited its executor).
 */
static void check_executor(struct mgr_runner *r, bool is_new)
{
	const char *name = r->rc->executor;
	bool was_missing = r->no_executor;

	r->no_executor = !name || !executor_find(name);
	if (r->no_executor && (is_new || !was_missing))
		log_error("runner %s%s%s%s: executor \"%s\" is not available in crunner; not asking GitLab for jobs for this runner",
			  r->short_token, r->rc->name ? " (" : "",
			  r->rc->name ? r->rc->name : "",
			  r->rc->name ? ")" : "", name ? name : "");
	else if (!r->no_executor && !is_new && was_missing)
		log_info("runner %s: executor \"%s\" is available again",
			 r->short_token, name);
}

/* Every answer of this entry's client, job calls included, for metrics. */
static void count_api_status(void *ctx, enum gl_endpoint ep, long status)
{
	struct mgr_runner *r = ctx;
	enum metrics_endpoint mep;

	switch (ep) {
	case GL_EP_REQUEST_JOB: mep = METRICS_EP_REQUEST_JOB; break;
	case GL_EP_UPDATE_JOB: mep = METRICS_EP_UPDATE_JOB; break;
	case GL_EP_PATCH_TRACE: mep = METRICS_EP_PATCH_TRACE; break;
	case GL_EP_RESET_TOKEN: mep = METRICS_EP_RESET_TOKEN; break;
	default: return;
	}
	metrics_runner_count_status(&r->metrics, mep, status);
}

struct mgr_runner *mgr_runner_new(struct manager *m, struct mgr_config *snap,
				  struct runner_config *rc)
{
	struct mgr_runner *r = xcalloc(1, sizeof(*r));
	struct gl_client_options co = { 0 };
	struct buf err = BUF_INIT;

	r->m = m;
	r->snap = mgr_config_ref(snap);
	r->rc = rc;
	r->adaptive = 1;
	metrics_runner_init(&r->metrics, rc->token, rc->name);
	refresh(r);
	check_executor(r, true);
	mgr_autoscale_attach(r);
	co.url = rc->url;
	runner_http_options(&co.http, rc,
			    (long)(snap->cfg.connection_max_age_ms / 1000));
	co.http.pool = m->http_pool;
	if (gl_client_new(m->loop, &co, &r->client, &err) != 0) {
		log_error("runner %s: %s; not asking it for jobs",
			  r->short_token, err.data);
		r->client = NULL;
	} else {
		gl_client_observe(r->client, count_api_status, r);
	}
	buf_release(&err);
	return r;
}

void mgr_runner_rebind(struct mgr_runner *r, struct mgr_config *snap,
		       struct runner_config *rc)
{
	struct mgr_config *old = r->snap;

	r->snap = mgr_config_ref(snap);
	r->rc = rc;
	mgr_config_unref(old);
	refresh(r);
	check_executor(r, false);
	mgr_autoscale_reconfigure(r);
}

void mgr_runner_cancel_requests(struct mgr_runner *r)
{
	struct mgr_request *q;

	while ((q = r->requests)) {
		r->requests = q->next;
		gl_call_cancel(q->call);
		mgr_autoscale_unreserve(r, q);
		free(q);
		r->nr_requests--;
		r->m->nr_requests--;
	}
}

bool mgr_runner_idle(const struct mgr_runner *r)
{
	return !r->nr_requests && !r->nr_jobs && !r->reset_call;
}

void mgr_runner_free(struct mgr_runner *r)
{
	if (!r)
		return;
	mgr_runner_cancel_requests(r);
	gl_call_cancel(r->reset_call);
	mgr_config_unref(r->reset_snap);
	gl_client_free(r->client);
	mgr_autoscale_free(r);
	mgr_config_unref(r->snap);
	free_secret(r->rotated_token);
	metrics_runner_release(&r->metrics);
	free(r);
}
