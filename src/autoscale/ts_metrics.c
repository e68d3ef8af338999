/*
 * The taskscaler's numbers for /metrics (metrics/metrics_autoscale.c
 * writes them): counters bumped by taskscaler.c at its events, durations
 * from per-instance times, and gauges read off the table at each scrape.
 * All on the loop thread.
 *
 * The histograms' buckets are [runners.autoscaler]'s, as gitlab-runner
 * passes them: instance_{creation,is_running,deletion,readiness}_time_buckets,
 * each falling back to instance_operation_time_buckets, and
 * instance_life_duration_buckets; with none set, the defaults below
 * (crunner's, docs/autoscale-plugins.md).
 */
#include <stdlib.h>
#include <string.h>

#include "autoscale/taskscaler.h"
#include "autoscale/ts_int.h"
#include "metrics/metrics.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const double default_operation_buckets[] = {
	1, 5, 10, 30, 60, 120, 300, 600,
};
static const double default_life_buckets[] = {
	60, 300, 600, 1800, 3600, 7200, 14400, 28800, 86400,
};

#define NR(a) (sizeof(a) / sizeof(*(a)))

static void init_hist(struct metrics_vhist *h, const struct config_doubles *want,
		      const struct config_doubles *fallback)
{
	metrics_vhist_init(h, want->v, want->nr,
			   fallback ? fallback->v : NULL,
			   fallback ? fallback->nr : 0,
			   default_operation_buckets,
			   NR(default_operation_buckets));
}

void ts_metrics_init(struct taskscaler *ts,
		     const struct config_autoscaler *cfg)
{
	struct ts_metrics *m = &ts->met;
	const struct config_doubles *op = &cfg->instance_operation_time_buckets;

	memset(m, 0, sizeof(*m));
	init_hist(&m->readiness, &cfg->instance_readiness_time_buckets, op);
	init_hist(&m->creation, &cfg->instance_creation_time_buckets, op);
	init_hist(&m->is_running, &cfg->instance_is_running_time_buckets, op);
	init_hist(&m->deletion, &cfg->instance_deletion_time_buckets, op);
	metrics_vhist_init(&m->life, cfg->instance_life_duration_buckets.v,
			   cfg->instance_life_duration_buckets.nr, NULL, 0,
			   default_life_buckets, NR(default_life_buckets));
}

void ts_metrics_release(struct taskscaler *ts)
{
	struct ts_metrics *m = &ts->met;

	metrics_vhist_release(&m->readiness);
	metrics_vhist_release(&m->creation);
	metrics_vhist_release(&m->is_running);
	metrics_vhist_release(&m->deletion);
	metrics_vhist_release(&m->life);
	free(m->requested_at);
	m->requested_at = NULL;
	m->nr_requested = 0;
}

static double seconds_between(uint64_t from_ms, uint64_t to_ms)
{
	return to_ms > from_ms ? (double)(to_ms - from_ms) / 1000 : 0;
}

void ts_metrics_requested(struct taskscaler *ts, int n, uint64_t now)
{
	struct ts_metrics *m = &ts->met;
	int i;

	if (n <= 0)
		return;
	m->instance_ops[METRICS_INSTANCE_OP_CREATE] += (uint64_t)n;
	m->requested_at = xrealloc(m->requested_at, (m->nr_requested +
				   (size_t)n) * sizeof(*m->requested_at));
	for (i = 0; i < n; i++)
		m->requested_at[m->nr_requested++] = now;
}

void ts_metrics_first_seen(struct taskscaler *ts, struct ts_instance *in,
			   uint64_t now)
{
	struct ts_metrics *m = &ts->met;

	if (!m->nr_requested)
		return;
	in->requested_ms = m->requested_at[0];
	memmove(m->requested_at, m->requested_at + 1,
		--m->nr_requested * sizeof(*m->requested_at));
	metrics_vhist_observe(&m->creation,
			      seconds_between(in->requested_ms, now));
}

void ts_metrics_seen(struct taskscaler *ts, struct ts_instance *in,
		     uint64_t now)
{
	if (in->state != IG_STATE_RUNNING || in->seen_running)
		return;
	in->seen_running = 1;
	if (in->requested_ms)
		metrics_vhist_observe(&ts->met.is_running,
				      seconds_between(in->requested_ms, now));
}

void ts_metrics_ready(struct taskscaler *ts, struct ts_instance *in,
		      uint64_t now)
{
	metrics_vhist_observe(&ts->met.readiness,
			      seconds_between(in->created_ms, now));
}

void ts_metrics_removing(struct taskscaler *ts, struct ts_instance *in,
			 uint64_t now)
{
	if (in->delete_ms)
		return;
	in->delete_ms = now ? now : 1;
	ts->met.instance_ops[METRICS_INSTANCE_OP_DELETE]++;
}

void ts_metrics_gone(struct taskscaler *ts, struct ts_instance *in,
		     uint64_t now)
{
	if (in->delete_ms)
		metrics_vhist_observe(&ts->met.deletion,
				      seconds_between(in->delete_ms, now));
	metrics_vhist_observe(&ts->met.life,
			      seconds_between(in->created_ms, now));
}

/*
 * taskscaler's two refusals: "iop" when there is no capacity at all (none
 * free now and none that scaling could bring), "available" when none is
 * free now but instances on their way or addable could give some.
 */
void ts_metrics_refused(struct taskscaler *ts, const struct ts_totals *t,
			int addable)
{
	int available = t->ready_free - t->reserved;
	int potential = t->coming + addable * ts_slots_per_instance(&ts->params);

	if (available <= 0 && potential <= 0)
		ts->met.task_ops[METRICS_TASK_OP_RESERVE_IOP_FAILURE]++;
	else
		ts->met.task_ops[METRICS_TASK_OP_RESERVE_AVAILABLE_FAILURE]++;
}

void taskscaler_metrics(const struct taskscaler *ts,
			struct metrics_autoscaler *out)
{
	const struct ts_metrics *m = &ts->met;
	const struct ts_key *k;
	int free_slots = 0, slots, idle;
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < ts->nr; i++) {
		const struct ts_instance *in = ts->inst[i];
		const struct ts_inst *s = &in->m;

		out->tasks[METRICS_TASK_ACQUIRED] += s->acquired;
		if (s->removing)
			out->instances[METRICS_INSTANCE_DELETING]++;
		else if (in->state == IG_STATE_RUNNING)
			out->instances[METRICS_INSTANCE_RUNNING]++;
		else
			out->instances[METRICS_INSTANCE_CREATING]++;
		if (!s->ready || s->removing)
			continue;
		if (in->unhealthy) {
			out->tasks[METRICS_TASK_UNHEALTHY] +=
				ts->params.capacity - s->acquired;
			continue;
		}
		slots = ts_inst_free(&ts->params, s);
		free_slots += slots;
		/* Neither in use nor free: taken away by max_use_count. */
		out->tasks[METRICS_TASK_UNAVAILABLE] +=
			ts->params.capacity - s->acquired - slots;
	}
	for (k = ts->keys; k; k = k->next) {
		if (k->inst)
			continue;
		if (k->waiting)
			out->tasks[METRICS_TASK_PENDING]++;
		else
			out->tasks[METRICS_TASK_RESERVED]++;
	}
	idle = free_slots - out->tasks[METRICS_TASK_RESERVED];
	out->tasks[METRICS_TASK_IDLE] = idle > 0 ? idle : 0;
	out->instances[METRICS_INSTANCE_REQUESTED] = ts->pending;
	out->max_tasks_per_instance = ts->params.capacity;
	out->max_use_count_per_instance = ts->params.max_use;
	out->max_instances = ts->params.max_instances;
	out->desired_instances = m->desired;
	memcpy(out->task_ops, m->task_ops, sizeof(out->task_ops));
	memcpy(out->scale_ops, m->scale_ops, sizeof(out->scale_ops));
	memcpy(out->instance_ops, m->instance_ops, sizeof(out->instance_ops));
	out->missed_updates = m->missed_updates;
	out->readiness = &m->readiness;
	out->creation = &m->creation;
	out->is_running = &m->is_running;
	out->deletion = &m->deletion;
	out->life = &m->life;
}
