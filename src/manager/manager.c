/*
 * The manager's life cycle: setup, the reaper that frees finished jobs
 * and forgotten runner entries outside their callbacks, the end of a
 * shutdown, the metrics glue and teardown.
 */
#include <stdlib.h>
#include <string.h>

#include "gitlab/remote_job.h"
#include "manager/manager_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "archive/cache_s3_sts.h"
#include "executor/host_cache.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

int mgr_check_interval_ms(const struct manager *m)
{
	int s = m->config->cfg.check_interval;

	return (s > 0 ? s : 3) * 1000;
}

/* ---- the reaper ---- */

static long on_reap(struct loop *loop, void *ctx)
{
	struct manager *m = ctx;
	struct mgr_job **pp = &m->jobs, *job;
	size_t i, kept;

	(void)loop;
	m->reap_timer = 0;
	while ((job = *pp)) {
		if (job->done) {
			*pp = job->next;
			mgr_job_free(job);
		} else {
			pp = &job->next;
		}
	}
	for (i = kept = 0; i < m->nr_runners; i++) {
		struct mgr_runner *r = m->runners[i];

		if (r->removed && mgr_runner_idle(r))
			mgr_runner_free(r);
		else
			m->runners[kept++] = r;
	}
	m->nr_runners = kept;
	mgr_maybe_finish(m);
	return LOOP_TIMER_STOP;
}

void mgr_schedule_reap(struct manager *m)
{
	if (!m->reap_timer)
		m->reap_timer = loop_add_timer(m->loop, 0, on_reap, m);
}

/* During a shutdown: stop the loop once no job is left. */
void mgr_maybe_finish(struct manager *m)
{
	if (m->phase == MGR_RUNNING || m->nr_jobs > 0)
		return;
	if (mgr_autoscale_shutdown(m))
		return;		/* its end calls here again */
	log_info("all jobs finished; exiting");
	loop_stop(m->loop);
}

/* ---- metrics ---- */

void mgr_render_metrics(struct buf *out, void *ctx)
{
	struct manager *m = ctx;
	struct metrics_source src = { 0 };
	const struct metrics_runner **runners;
	struct metrics_autoscaler *scalers;
	struct metrics_job *jobs;
	struct mgr_job *j;
	size_t i, n = 0;

	runners = xcalloc(m->nr_runners + 1, sizeof(*runners));
	for (i = 0; i < m->nr_runners; i++) {
		struct mgr_runner *r = m->runners[i];

		r->metrics.requests = r->nr_requests;
		r->metrics.adaptive_limit = r->adaptive;
		runners[i] = &r->metrics;
	}
	jobs = xcalloc((size_t)m->nr_jobs + 1, sizeof(*jobs));
	for (j = m->jobs; j; j = j->next) {
		if (j->done || n >= (size_t)m->nr_jobs)
			continue;
		jobs[n].runner = &j->runner->metrics;
		jobs[n].state = "running";
		remote_job_stage(j->rj, &jobs[n].stage,
				 &jobs[n].executor_stage);
		n++;
	}
	scalers = xcalloc(m->nr_runners + 1, sizeof(*scalers));
	src.autoscalers = scalers;
	src.nr_autoscalers = mgr_autoscale_metrics(m, scalers);
	src.concurrent = m->config->cfg.concurrent;
	src.system_id = m->system_id;
	src.global = &m->metrics;
	src.runners = runners;
	src.nr_runners = m->nr_runners;
	src.jobs = jobs;
	src.nr_jobs = n;
	metrics_render(out, &src);
	free(scalers);
	free(jobs);
	free(runners);
}

/* ---- life cycle ---- */

/*
 * gitlab_runner_errors_total counts the runner's warnings and errors.  A
 * taskscaler's worker thread logs too: the counters are atomic.
 */
static void count_log_line(void *ctx, enum log_level level)
{
	struct manager *m = ctx;
	int i;

	if (level == LOG_LEVEL_WARN)
		i = METRICS_LEVEL_WARNING;
	else if (level == LOG_LEVEL_ERROR)
		i = METRICS_LEVEL_ERROR;
	else if (level == LOG_LEVEL_FATAL)
		i = METRICS_LEVEL_FATAL;
	else
		return;
	__atomic_fetch_add(&m->metrics.errors[i], 1, __ATOMIC_RELAXED);
}

int manager_new(const struct manager_options *opts, struct config *cfg,
		struct manager **out, struct buf *err)
{
	struct manager *m = xcalloc(1, sizeof(*m));
	const char *listen;
	char *bound = NULL;
	int r;

	*out = NULL;
	m->loop = loop_new();
	m->http_pool = gl_http_pool_new(m->loop);
	m->s3_roles = s3_role_cache_new();
	m->host_cache = host_cache_new();
	log_observe(count_log_line, m);
	m->opts = *opts;
	m->opts.listen_address = opts->listen_address ?
		xstrdup(opts->listen_address) : NULL;
	m->opts.user = opts->user ? xstrdup(opts->user) : NULL;
	if (!m->opts.reload_interval_ms)
		m->opts.reload_interval_ms = MGR_RELOAD_INTERVAL_MS;
	m->config_path = xstrdup(cfg->path);
	if (system_id_load(m->config_path, m->system_id, err)) {
		log_warn("%s; using a temporary system ID", err->data);
		buf_reset(err);
		system_id_generate(m->system_id);
	}
	mgr_remember_mtime(m);
	mgr_apply_config(m, mgr_config_new(cfg));

	listen = m->opts.listen_address ? m->opts.listen_address :
		m->config->cfg.listen_address;
	if (listen && *listen) {
		if ((r = metrics_http_start(m->loop, listen, mgr_render_metrics,
					    m, &m->http, &bound, err)) != 0) {
			manager_free(m);
			return r;
		}
		log_info("metrics server listening on %s", bound);
		free(bound);
	} else {
		log_info("listen_address not defined, metrics & debug endpoints disabled");
	}
	*out = m;
	return 0;
}

int manager_run(struct manager *m)
{
	log_info("starting crunner with %zu runner%s, concurrent %d, system ID %s",
		 m->nr_active, m->nr_active == 1 ? "" : "s",
		 m->config->cfg.concurrent, m->system_id);
	mgr_signals_setup(m);
	mgr_reload_watch(m);
	mgr_feed_start(m);
	loop_run(m->loop);
	return m->exit_code;
}

void manager_free(struct manager *m)
{
	struct mgr_job *job;
	size_t i;

	if (!m)
		return;
	log_observe(NULL, NULL);
	mgr_feed_stop(m);
	/* Jobs first: they borrow their runner's client. */
	while ((job = m->jobs)) {
		m->jobs = job->next;
		mgr_job_free(job);
	}
	for (i = 0; i < m->nr_runners; i++)
		mgr_runner_free(m->runners[i]);
	free(m->runners);
	metrics_http_free(m->http);
	mgr_config_unref(m->config);
	gl_http_pool_free(m->http_pool);	/* after every client */
	s3_role_cache_free(m->s3_roles);
	host_cache_free(m->host_cache);
	loop_free(m->loop);
	free((char *)m->opts.listen_address);
	free((char *)m->opts.user);
	free(m->config_path);
	free(m);
}
