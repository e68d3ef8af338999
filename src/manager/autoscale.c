/*
 * Entries with [runners.autoscaler] (the instance and docker-autoscaler
 * executors): each has a taskscaler (src/autoscale/taskscaler.h).  As in
 * gitlab-runner, a job request is only sent with a slot reserved for its
 * job; no job back gives the slot up; a job acquires an instance (waiting
 * up to instance_acquire_timeout) and then starts on it; its end releases
 * the instance.  At stop, every taskscaler shuts down (deleting its
 * instances when delete_instances_on_shutdown says so) before crunner
 * exits.
 */
#include <stdlib.h>
#include <string.h>

#include "autoscale/instance_group.h"
#include "autoscale/taskscaler.h"
#include "executor/executor.h"
#include "gitlab/remote_job.h"
#include "manager/manager_int.h"
#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* docker-autoscaler takes part once crunner has that executor. */
static bool uses_autoscaler(const struct runner_config *rc)
{
	return rc->autoscaler.present && rc->executor &&
		(!strcmp(rc->executor, "instance") ||
		 !strcmp(rc->executor, "docker-autoscaler")) &&
		executor_find(rc->executor);
}

void mgr_autoscale_attach(struct mgr_runner *r)
{
	struct taskscaler_options o = { 0 };
	struct buf err = BUF_INIT, dir = BUF_INIT;
	const char *path = r->m->config_path, *slash;

	if (r->ts || !uses_autoscaler(r->rc))
		return;
	slash = path ? strrchr(path, '/') : NULL;
	if (slash)
		buf_add(&dir, path, (size_t)(slash - path));
	else
		buf_addstr(&dir, ".");
	o.loop = r->m->loop;
	o.cfg = &r->rc->autoscaler;
	o.token = r->rc->token;
	o.config_dir = dir.data;
	o.heartbeats = runner_feature_flag(r->rc,
					   "FF_USE_FLEETING_ACQUIRE_HEARTBEATS",
					   false);
	if (taskscaler_new(&o, &r->ts, &err)) {
		log_error("runner %s: autoscaler: %s; not asking GitLab for jobs for this runner",
			  r->short_token, err.data);
		r->ts = NULL;
	}
	buf_release(&dir);
	buf_release(&err);
}

bool mgr_autoscale_blocked(const struct mgr_runner *r)
{
	return uses_autoscaler(r->rc) && !r->ts;
}

bool mgr_autoscale_reserve(struct mgr_runner *r, struct mgr_request *q)
{
	if (!r->ts)
		return true;
	if (taskscaler_reserve(r->ts, q->ts_key)) {
		log_debug("runner %s: not asking for a job: no free autoscaler capacity",
			  r->short_token);
		return false;
	}
	q->reserved = true;
	return true;
}

void mgr_autoscale_unreserve(struct mgr_runner *r, struct mgr_request *q)
{
	if (r->ts && q->reserved)
		taskscaler_unreserve(r->ts, q->ts_key);
	q->reserved = false;
}

static void on_acquired(void *ctx, int err, const struct ig_connect_info *ci,
			const char *msg)
{
	struct mgr_job *job = ctx;

	job->acquiring = false;
	if (err) {
		log_warn("runner %s: job %s: %s", job->runner->short_token,
			 job->ts_key, msg ? msg : cr_strerror(err));
		buf_seterr(&job->instance_error, "%s",
			   msg ? msg : "unable to acquire instance");
	}
	job->instance = ci;
	/* gitlab-runner's Acquisition.Slot(): the cgroups and variable. */
	job->instance_slot = ci ? taskscaler_slot(job->runner->ts,
						   job->ts_key) : -1;
	mgr_job_run(job);
}

void mgr_autoscale_acquire(struct mgr_job *job, const char *key)
{
	memcpy(job->ts_key, key, sizeof(job->ts_key));
	job->autoscaled = true;
	job->acquiring = true;
	taskscaler_acquire(job->runner->ts, key, on_acquired, job);
}

void mgr_autoscale_release(struct mgr_job *job, bool broken)
{
	if (!job->autoscaled || !job->runner->ts)
		return;
	taskscaler_release(job->runner->ts, job->ts_key, broken);
	job->autoscaled = false;
	job->instance = NULL;
}

static void on_scaler_down(void *ctx)
{
	struct mgr_runner *r = ctx;

	r->ts_down = true;
	mgr_maybe_finish(r->m);
}

bool mgr_autoscale_shutdown(struct manager *m)
{
	bool waiting = false;
	size_t i;

	for (i = 0; i < m->nr_runners; i++) {
		struct mgr_runner *r = m->runners[i];

		if (!r->ts || r->ts_down)
			continue;
		if (!r->ts_stopping) {
			r->ts_stopping = true;
			log_info("runner %s: shutting the autoscaler down",
				 r->short_token);
			taskscaler_shutdown(r->ts, on_scaler_down, r);
		}
		waiting = true;
	}
	return waiting;
}

void mgr_autoscale_free(struct mgr_runner *r)
{
	taskscaler_free(r->ts);
	r->ts = NULL;
}

void mgr_autoscale_reconfigure(struct mgr_runner *r)
{
	if (r->ts && uses_autoscaler(r->rc))
		taskscaler_configure_policy(r->ts, r->rc->autoscaler.policy,
					    r->rc->autoscaler.nr_policy);
}

size_t mgr_autoscale_metrics(struct manager *m,
			     struct metrics_autoscaler *out)
{
	size_t i, n = 0;

	for (i = 0; i < m->nr_runners; i++) {
		struct mgr_runner *r = m->runners[i];

		if (!r->ts)
			continue;
		taskscaler_metrics(r->ts, &out[n]);
		out[n].runner = r->metrics.runner;
		out[n].runner_name = r->metrics.runner_name;
		n++;
	}
	return n;
}
