/*
 * Taskscaler (taskscaler.h): the instance table and the scaling loop on
 * the runner's loop; the instance group's blocking calls on a worker
 * thread (ts_worker.c).  The decisions are ts_model.c's.
 *
 * An instance's life here: Update shows it (creating, then running); the
 * "up" step (ConnectInfo, then instance_ready_command over SSH, on the
 * worker) makes it ready; jobs acquire its slots; it is removed (Decrease)
 * when idle and surplus, retired by max_use_count, failed its up step,
 * reported timeout, or a job found it broken.  Decrease is asked again
 * every deletion_retry_interval while Update still shows it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/instance_group.h"
#include "autoscale/taskscaler.h"
#include "autoscale/ts_int.h"
#include "autoscale/ts_model.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/random.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void tick(struct taskscaler *ts);

/* ---- the table ---- */

static struct ts_instance *find_instance(struct taskscaler *ts,
					 const char *id)
{
	size_t i;

	for (i = 0; i < ts->nr; i++)
		if (!strcmp(ts->inst[i]->id, id))
			return ts->inst[i];
	return NULL;
}

static struct ts_key *find_key(struct taskscaler *ts, const char *key)
{
	struct ts_key *k;

	for (k = ts->keys; k; k = k->next)
		if (!strcmp(k->key, key))
			return k;
	return NULL;
}

static void instance_free(struct ts_instance *in)
{
	free(in->id);
	if (in->has_ci)
		ig_connect_info_release(&in->ci);
	free(in);
}

/* Drops in from the table; freed now, or at the last release. */
static void forget(struct taskscaler *ts, size_t idx)
{
	struct ts_instance *in = ts->inst[idx];

	memmove(&ts->inst[idx], &ts->inst[idx + 1],
		(ts->nr - idx - 1) * sizeof(*ts->inst));
	ts->nr--;
	ts->removed++;
	ts_metrics_gone(ts, in, loop_now_ms(ts->loop));
	if (in->m.acquired)
		in->gone = 1;
	else
		instance_free(in);
}

static void remove_instance(struct taskscaler *ts, struct ts_instance *in,
			    const char *why)
{
	if (in->m.removing)
		return;
	log_info("autoscaler %s: removing instance %s: %s", ts->name, in->id,
		 why);
	in->m.removing = 1;
	in->decrease_at = 0;	/* now */
	ts_metrics_removing(ts, in, loop_now_ms(ts->loop));
}

/* ---- worker results ---- */

static void on_opened(struct taskscaler *ts, struct ts_op *op)
{
	if (op->r) {
		log_error("autoscaler %s: cannot start the instance group: %s",
			  ts->name, op->err.data);
		ts->open_failed = 1;
		return;
	}
	ts->opened = 1;
	/* A fixed pool's hosts are never "pre-existing" leftovers. */
	ts->is_pool = op->kind_name && !strcmp(op->kind_name, "static");
	ts_params_init(&ts->params, ts->cfg.capacity_per_instance,
		       ts->cfg.max_use_count, ts->cfg.max_instances,
		       op->n);
	log_info("autoscaler %s: instance group %s ready (%s, max size %d)",
		 ts->name, op->id ? op->id : "", op->kind_name, op->n);
}

static void on_updated(struct taskscaler *ts, struct ts_op *op)
{
	uint64_t now = loop_now_ms(ts->loop);
	size_t i, j;

	if (op->r) {
		log_warn("autoscaler %s: update failed: %s", ts->name,
			 op->err.data);
		return;
	}
	for (i = 0; i < op->list.n; i++) {
		const struct ig_instance *s = &op->list.v[i];
		struct ts_instance *in = find_instance(ts, s->id);

		if (s->state == IG_STATE_DELETED)
			continue;
		if (!in) {
			in = xcalloc(1, sizeof(*in));
			in->id = xstrdup(s->id);
			in->created_ms = now;
			if (ts->pending > 0) {
				ts->pending--;
				in->requested = 1;
				ts_metrics_first_seen(ts, in, now);
			} else if (ts_state_restore(ts, in)) {
				in->requested = 1;
			} else if (!ts->is_pool) {
				/* gitlab-runner's provider does the same. */
				in->state = s->state;
				remove_instance(ts, in, "no data on pre-existing "
						"instance so removing for safety");
			} else {
				in->requested = 1;
			}
			ts->inst = xrealloc(ts->inst, (ts->nr + 1) *
					    sizeof(*ts->inst));
			ts->inst[ts->nr++] = in;
		}
		in->state = s->state;
		in->seen = ts->update_seq + 1;
		ts_metrics_seen(ts, in, now);
		in->m.creating = s->state == IG_STATE_CREATING ||
			(s->state == IG_STATE_RUNNING && !in->m.ready);
		if (s->state == IG_STATE_TIMEOUT)
			remove_instance(ts, in, "its creation timed out");
	}
	ts->update_seq++;
	/* Gone from the group (deleted, or not listed any more). */
	for (j = ts->nr; j-- > 0;)
		if (ts->inst[j]->seen != ts->update_seq)
			forget(ts, j);
	ts->updated_once = 1;
	ts_state_save(ts);
}

static void on_increased(struct taskscaler *ts, struct ts_op *op)
{
	ts->increasing = 0;
	if (op->r) {
		log_warn("autoscaler %s: asking for %d instance(s) failed: %s",
			 ts->name, op->n, op->err.data);
		ts->backoff_until = loop_now_ms(ts->loop) + 5000;
	}
	else if (op->got < op->n)	/* the cloud is full, or slow: wait */
		ts->backoff_until = loop_now_ms(ts->loop) +
			(uint64_t)(ts->cfg.update_interval_when_expecting_ms > 0 ?
				   ts->cfg.update_interval_when_expecting_ms :
				   2000);
	ts->pending += op->got;
	ts->pending_since = loop_now_ms(ts->loop);
	ts_metrics_requested(ts, op->got, ts->pending_since);
	ts->expecting = 1;
}

static void on_decreased(struct taskscaler *ts, struct ts_op *op)
{
	if (op->r)
		log_warn("autoscaler %s: removing instances failed: %s",
			 ts->name, op->err.data);
	ts->expecting = 1;
}

static void on_up(struct taskscaler *ts, struct ts_op *op)
{
	struct ts_instance *in = find_instance(ts, op->id);
	uint64_t now = loop_now_ms(ts->loop);

	if (!in)
		return;		/* forgotten meanwhile */
	in->up_running = 0;
	if (op->r) {
		ts->ready_failures++;
		ts->up_failures++;
		log_warn("autoscaler %s: instance %s failed: %s", ts->name,
			 in->id, op->err.data);
		remove_instance(ts, in, op->err.data);
		/* Exponential back-off on repeated up failures. */
		ts->backoff_until = now + (1000ULL << (ts->up_failures < 6 ?
						       ts->up_failures : 6));
		return;
	}
	ts->up_failures = 0;
	in->ci = op->ci;
	memset(&op->ci, 0, sizeof(op->ci));
	in->has_ci = 1;
	in->m.ready = 1;
	in->m.creating = 0;
	in->m.idle_since_ms = now;
	ts->provisioned++;
	ts_metrics_ready(ts, in, now);
	log_info("autoscaler %s: instance %s ready", ts->name, in->id);
}

static void deliver(struct taskscaler *ts, struct ts_key *k);

static void acquired(struct taskscaler *ts, struct ts_key *k)
{
	ts->acquisitions++;
	ts->met.task_ops[METRICS_TASK_OP_ACQUIRE]++;
	deliver(ts, k);
}

/*
 * The heartbeat before a job gets the instance: healthy, the job has it;
 * else the job waits again and the instance, after failure_threshold
 * failures in a row, is removed.
 */
static void on_heartbeat(struct taskscaler *ts, struct ts_op *op)
{
	struct ts_key *k = find_key(ts, op->key);
	struct ts_instance *in;
	int threshold = ts->cfg.failure_threshold > 0 ?
		ts->cfg.failure_threshold : 3;

	if (!k || !k->checking || !k->inst || strcmp(k->inst->id, op->id))
		return;		/* released meanwhile */
	in = k->inst;
	k->checking = 0;
	if (!op->r) {
		in->hb_failures = 0;
		in->unhealthy = 0;
		acquired(ts, k);
		return;
	}
	k->inst = NULL;
	in->m.acquired--;
	in->m.used--;
	if (in->gone) {		/* left the group meanwhile */
		if (!in->m.acquired)
			instance_free(in);
		return;
	}
	in->hb_failures++;
	in->unhealthy = 1;
	log_warn("autoscaler %s: instance %s failed its heartbeat (%d of %d): %s",
		 ts->name, in->id, in->hb_failures, threshold, op->err.data);
	if (in->hb_failures >= threshold)
		remove_instance(ts, in, "too many failed heartbeats");
}

static void on_shutdown_done(struct taskscaler *ts, struct ts_op *op)
{
	if (op->r)
		log_warn("autoscaler %s: shutdown: %s", ts->name, op->err.data);
	ts->shut = 1;
	if (ts->shutdown_done)
		ts->shutdown_done(ts->shutdown_ctx);
}

void ts_apply(struct taskscaler *ts, struct ts_op *op)
{
	switch (op->kind) {
	case TS_OP_OPEN: on_opened(ts, op); break;
	case TS_OP_UPDATE: ts->updating = 0; on_updated(ts, op); break;
	case TS_OP_INCREASE: on_increased(ts, op); break;
	case TS_OP_DECREASE: on_decreased(ts, op); break;
	case TS_OP_UP: on_up(ts, op); break;
	case TS_OP_HEARTBEAT: on_heartbeat(ts, op); break;
	case TS_OP_SHUTDOWN: on_shutdown_done(ts, op); return;
	}
	if (!ts->stopping)
		tick(ts);
}

/* ---- the scaling tick ---- */

/* A snapshot of the table for ts_model. */
static struct ts_inst *model_view(struct taskscaler *ts)
{
	struct ts_inst *v = xcalloc(ts->nr ? ts->nr : 1, sizeof(*v));
	size_t i;

	for (i = 0; i < ts->nr; i++)
		v[i] = ts->inst[i]->m;
	return v;
}

static int count_reserved(const struct taskscaler *ts)
{
	const struct ts_key *k;
	int n = 0;

	for (k = ts->keys; k; k = k->next)
		n += k->inst == NULL;
	return n;
}

static void current_policy(struct taskscaler *ts, struct ts_policy *pol)
{
	struct buf err = BUF_INIT;

	if (ts_policy_active(ts->cfg.policy, ts->cfg.nr_policy, time(NULL),
			     pol, &err)) {
		if (!ts->policy_warned)
			log_error("autoscaler %s: %s; using no idle instances",
				  ts->name, err.data);
		ts->policy_warned = 1;
		memset(pol, 0, sizeof(*pol));
	}
	buf_release(&err);
}

/*
 * The instance for a job: a healthy one first; one whose last heartbeat
 * failed only when there is no other (its next heartbeat may pass).
 */
static long pick_instance(struct taskscaler *ts)
{
	struct ts_inst *v = model_view(ts);
	long pick;
	size_t i;

	for (i = 0; i < ts->nr; i++)
		if (ts->inst[i]->unhealthy)
			v[i].ready = 0;
	pick = ts_pick(&ts->params, v, ts->nr);
	free(v);
	if (pick < 0) {
		v = model_view(ts);
		pick = ts_pick(&ts->params, v, ts->nr);
		free(v);
	}
	return pick;
}

/*
 * The slot number self gets on in: the lowest one no other acquisition
 * of in holds, as fleeting's taskscaler numbers an instance's places
 * (0..capacity_per_instance-1, a released one given again).
 */
static int pick_slot(const struct taskscaler *ts, const struct ts_instance *in,
		     const struct ts_key *self)
{
	const struct ts_key *k;
	size_t n = 0;
	int *held, slot;

	for (k = ts->keys; k; k = k->next)
		n += k != self && k->inst == in;
	held = xcalloc(n ? n : 1, sizeof(*held));
	n = 0;
	for (k = ts->keys; k; k = k->next)
		if (k != self && k->inst == in)
			held[n++] = k->slot;
	slot = ts_free_slot(held, n, ts->params.capacity);
	free(held);
	return slot;
}

/* Gives waiting jobs free slots, oldest wait first. */
static void assign_waiting(struct taskscaler *ts)
{
	struct ts_key *k, *order[64];
	size_t n = 0, i;

	/* Keys are pushed at the head: walk back to serve the oldest first. */
	for (k = ts->keys; k && n < 64; k = k->next)
		if (k->waiting && !k->inst)
			order[n++] = k;
	for (i = n; i-- > 0;) {
		long pick = pick_instance(ts);

		if (pick < 0)
			return;
		k = order[i];
		k->inst = ts->inst[pick];
		k->slot = pick_slot(ts, k->inst, k);
		k->inst->m.acquired++;
		k->inst->m.used++;
		if (ts->cfg.heartbeats) {
			k->checking = 1;
			ts_worker_heartbeat(ts, k->inst->id, k->key);
			continue;
		}
		acquired(ts, k);
	}
}

static int throttle_allowance(struct taskscaler *ts)
{
	int limit = ts->cfg.scale_throttle.limit;
	int burst = ts->cfg.scale_throttle.burst;
	uint64_t now = loop_now_ms(ts->loop);

	if (limit < 0)
		return -1;
	if (!limit)
		limit = 100;
	if (!burst)
		burst = ts->params.max_instances ? ts->params.max_instances
						 : limit;
	ts->tokens += (double)(now - ts->tokens_at) * limit / 1000.0;
	ts->tokens_at = now;
	if (ts->tokens > burst)
		ts->tokens = burst;
	return (int)ts->tokens;
}

static void tick(struct taskscaler *ts)
{
	uint64_t now = loop_now_ms(ts->loop);
	struct ts_policy pol;
	struct ts_totals t;
	struct ts_inst *v;
	size_t *out, n, i;
	int up;

	if (!ts->opened || ts->stopping)
		return;
	assign_waiting(ts);
	current_policy(ts, &pol);
	/* Instances that are running and not yet up: their up step. */
	for (i = 0; i < ts->nr; i++) {
		struct ts_instance *in = ts->inst[i];

		if (in->state == IG_STATE_RUNNING && !in->m.ready &&
		    !in->m.removing && !in->up_running && !in->up_done) {
			in->up_running = 1;
			in->up_done = 1;
			ts_worker_up(ts, in->id);
		}
	}
	if (!ts->updated_once)
		return;
	v = model_view(ts);
	ts_totals_sum(&ts->params, v, ts->nr, ts->pending, count_reserved(ts),
		      &t);
	/* Scale down first: what goes is not counted as ready below. */
	out = xcalloc(ts->nr ? ts->nr : 1, sizeof(*out));
	n = ts_scale_down(&ts->params, &pol, v, ts->nr, &t, now, out);
	ts->met.desired = ts_scale_up(&ts->params, &pol, &t, ts->pending, -1) -
		(int)n;
	for (i = 0; i < n; i++)
		remove_instance(ts, ts->inst[out[i]],
				ts->params.max_use &&
				v[out[i]].used >= ts->params.max_use ?
				"max_use_count reached" : "idle");
	free(out);
	free(v);
	/* Decrease what is marked, again after deletion_retry_interval. */
	ts_decrease_marked(ts, now);
	if (!ts->increasing && now >= ts->backoff_until) {
		int allowance = throttle_allowance(ts);

		v = model_view(ts);
		ts_totals_sum(&ts->params, v, ts->nr, ts->pending,
			      count_reserved(ts), &t);
		free(v);
		up = ts_scale_up(&ts->params, &pol, &t, ts->pending,
				 allowance);
		if (up > 0) {
			log_info("autoscaler %s: required scaling change: "
				 "+%d instance(s) (instance_count=%d "
				 "max_instance_count=%d acquired=%d "
				 "unavailable_capacity=%d pending=%d "
				 "reserved=%d idle_count=%d "
				 "capacity_per_instance=%d)", ts->name, up,
				 t.instances, ts->params.max_instances,
				 t.acquired, t.unavailable, ts->pending,
				 t.reserved, pol.idle_count,
				 ts->params.capacity);
			if (allowance >= 0)
				ts->tokens -= up;
			ts->increasing = 1;
			ts->met.scale_ops[METRICS_SCALE_UP]++;
			ts_worker_increase(ts, up);
		}
	}
	ts_state_save(ts);
}

void ts_decrease_marked(struct taskscaler *ts, uint64_t now)
{
	struct strvec ids = STRVEC_INIT;
	size_t i;

	for (i = 0; i < ts->nr; i++) {
		struct ts_instance *in = ts->inst[i];

		if (!in->m.removing || in->m.acquired || now < in->decrease_at)
			continue;
		strvec_push(&ids, in->id);
		in->decrease_at = now +
			(uint64_t)(ts->cfg.deletion_retry_interval_ms > 0 ?
				   ts->cfg.deletion_retry_interval_ms : 60000);
	}
	if (ids.nr) {
		ts->met.scale_ops[METRICS_SCALE_DOWN]++;
		ts_worker_decrease(ts, &ids);
	}
	strvec_clear(&ids);
}

static long on_update_timer(struct loop *loop, void *ctx)
{
	struct taskscaler *ts = ctx;
	int expecting = 0;
	size_t i;

	(void)loop;
	if (ts->stopping)
		return LOOP_TIMER_STOP;
	if (ts->opened && !ts->updating) {
		ts->updating = 1;
		ts_worker_update(ts);
	} else if (ts->opened) {
		ts->met.missed_updates++;
	}
	tick(ts);
	for (i = 0; i < ts->nr; i++)
		if (ts->inst[i]->m.creating || ts->inst[i]->m.removing)
			expecting = 1;
	if (ts->pending > 0 || ts->increasing || !ts->updated_once ||
	    ts->expecting || expecting) {
		ts->expecting = 0;
		return ts->cfg.update_interval_when_expecting_ms > 0 ?
			(long)ts->cfg.update_interval_when_expecting_ms : 2000;
	}
	return ts->cfg.update_interval_ms > 0 ?
		(long)ts->cfg.update_interval_ms : 60000;
}

/* ---- reservations and acquisitions ---- */

int taskscaler_reserve(struct taskscaler *ts, char key[TASKSCALER_KEY_SIZE])
{
	struct ts_policy pol;
	struct ts_totals t;
	struct ts_inst *v;
	struct ts_key *k;
	int ok, addable;

	if (!ts->opened || ts->stopping)
		return CR_ERR_RETRY;
	current_policy(ts, &pol);
	v = model_view(ts);
	ts_totals_sum(&ts->params, v, ts->nr, ts->pending, count_reserved(ts),
		      &t);
	free(v);
	addable = ts->params.max_instances ?
		ts->params.max_instances - t.instances : 1;
	if (loop_now_ms(ts->loop) < ts->backoff_until)
		addable = 0;
	ok = ts_can_reserve(&ts->params, &pol, &t,
			    ts->cfg.reservation_throttling != CONFIG_FALSE,
			    addable > 0 ? addable : 0);
	if (!ok) {
		ts_metrics_refused(ts, &t, addable > 0 ? addable : 0);
		return CR_ERR_RETRY;
	}
	ts->met.task_ops[METRICS_TASK_OP_RESERVE]++;
	k = xcalloc(1, sizeof(*k));
	snprintf(k->key, sizeof(k->key), "%s%08x%08x", ts->short_token,
		 random_u32(), random_u32());
	memcpy(key, k->key, sizeof(k->key));
	k->next = ts->keys;
	ts->keys = k;
	tick(ts);
	return 0;
}

static void key_free(struct taskscaler *ts, struct ts_key *k)
{
	struct ts_key **pp;

	for (pp = &ts->keys; *pp; pp = &(*pp)->next)
		if (*pp == k) {
			*pp = k->next;
			break;
		}
	if (k->timer)
		loop_cancel_timer(ts->loop, k->timer);
	if (k->deliver_timer)
		loop_cancel_timer(ts->loop, k->deliver_timer);
	free(k);
}

void taskscaler_unreserve(struct taskscaler *ts, const char *key)
{
	struct ts_key *k = find_key(ts, key);

	if (k && !k->inst) {
		ts->met.task_ops[METRICS_TASK_OP_UNRESERVE]++;
		key_free(ts, k);
		tick(ts);
	}
}

static long on_deliver(struct loop *loop, void *ctx)
{
	struct ts_key *k = ctx;

	(void)loop;
	k->deliver_timer = 0;
	if (k->timer) {
		loop_cancel_timer(loop, k->timer);
		k->timer = 0;
	}
	k->waiting = 0;
	if (k->inst)
		k->cb(k->cb_ctx, 0, &k->inst->ci, NULL);
	else
		k->cb(k->cb_ctx, k->err, NULL, k->msg);
	return LOOP_TIMER_STOP;
}

static void deliver(struct taskscaler *ts, struct ts_key *k)
{
	if (!k->deliver_timer)
		k->deliver_timer = loop_add_timer(ts->loop, 0, on_deliver, k);
}

static long on_acquire_timeout(struct loop *loop, void *ctx)
{
	struct ts_key *k = ctx;
	struct taskscaler *ts = k->ts;
	struct buf d = BUF_INIT;

	(void)loop;
	if (k->inst && k->checking)	/* its heartbeat decides first */
		return 500;
	k->timer = 0;
	if (k->inst)
		return LOOP_TIMER_STOP;
	config_format_duration(ts->cfg.instance_acquire_timeout_ms, &d);
	snprintf(k->msg, sizeof(k->msg), "unable to acquire instance within "
		 "the configured timeout of %s: context deadline exceeded",
		 d.data);
	buf_release(&d);
	k->err = CR_ERR_TIMEOUT;
	k->waiting = 0;
	deliver(ts, k);
	return LOOP_TIMER_STOP;
}

void taskscaler_acquire(struct taskscaler *ts, const char *key,
			taskscaler_acquired_cb cb, void *ctx)
{
	struct ts_key *k = find_key(ts, key);
	int64_t timeout = ts->cfg.instance_acquire_timeout_ms > 0 ?
		ts->cfg.instance_acquire_timeout_ms : 15 * 60 * 1000;

	if (!k) {		/* a bug in the caller: answer anyway */
		k = xcalloc(1, sizeof(*k));
		snprintf(k->key, sizeof(k->key), "%s", key);
		k->next = ts->keys;
		ts->keys = k;
	}
	k->ts = ts;
	k->cb = cb;
	k->cb_ctx = ctx;
	k->waiting = 1;
	if (ts->stopping) {
		snprintf(k->msg, sizeof(k->msg), "the runner is stopping");
		k->err = CR_ERR_CANCELED;
		k->waiting = 0;
		deliver(ts, k);
		return;
	}
	k->timer = loop_add_timer(ts->loop, (long)timeout, on_acquire_timeout,
				  k);
	tick(ts);
}

int taskscaler_slot(const struct taskscaler *ts, const char *key)
{
	const struct ts_key *k;

	for (k = ts->keys; k; k = k->next)
		if (!strcmp(k->key, key))
			return k->inst ? k->slot : -1;
	return -1;
}

void taskscaler_release(struct taskscaler *ts, const char *key, int broken)
{
	struct ts_key *k = find_key(ts, key);
	struct ts_instance *in;

	if (!k)
		return;
	in = k->inst;
	key_free(ts, k);
	if (in) {
		ts->met.task_ops[METRICS_TASK_OP_RELEASE]++;
		in->m.acquired--;
		in->m.idle_since_ms = loop_now_ms(ts->loop);
		if (in->gone) {
			if (!in->m.acquired)
				instance_free(in);
		} else if (broken) {
			remove_instance(ts, in, "a job could not use it");
		} else if (ts->params.max_use &&
			   in->m.used >= ts->params.max_use &&
			   !in->m.acquired) {
			remove_instance(ts, in, "max_use_count reached");
		}
	}
	tick(ts);
}

/* ---- life ---- */

void taskscaler_configure_policy(struct taskscaler *ts,
				 const struct config_autoscaler_policy *v,
				 size_t n)
{
	ts_policy_release(&ts->cfg);
	ts_policy_copy(&ts->cfg, v, n);
	ts->policy_warned = 0;
	log_info("autoscaler %s: %zu polic%s configured", ts->name, n,
		 n == 1 ? "y" : "ies");
	tick(ts);
}

int taskscaler_new(const struct taskscaler_options *o,
		   struct taskscaler **out, struct buf *err)
{
	struct taskscaler *ts;
	int r;

	if (!o->cfg->plugin || !*o->cfg->plugin) {
		buf_seterr(err, "[runners.autoscaler] needs a plugin");
		return CR_ERR_CONFIG;
	}
	ts = xcalloc(1, sizeof(*ts));
	ts->loop = o->loop;
	ts_config_copy(&ts->cfg, o->cfg);
	runner_short_token(o->token, ts->short_token);
	snprintf(ts->name, sizeof(ts->name), "%s", ts->short_token);
	ts->call_timeout_ms = o->call_timeout_ms;
	ts->cfg.heartbeats = o->heartbeats;
	ts->tokens_at = loop_now_ms(ts->loop);
	ts_metrics_init(ts, o->cfg);
	ts_params_init(&ts->params, ts->cfg.capacity_per_instance,
		       ts->cfg.max_use_count, ts->cfg.max_instances, 0);
	ts->tokens = ts->cfg.scale_throttle.burst > 0 ?
		ts->cfg.scale_throttle.burst :
		ts->params.max_instances ? ts->params.max_instances : 100;
	if ((r = ts_state_open(ts, o->token, o->config_dir, err)) != 0 ||
	    (r = ts_worker_start(ts, err)) != 0) {
		taskscaler_free(ts);
		return r;
	}
	ts_worker_open(ts);
	ts->update_timer = loop_add_timer(ts->loop, 0, on_update_timer, ts);
	*out = ts;
	return 0;
}

void taskscaler_shutdown(struct taskscaler *ts, void (*done)(void *ctx),
			 void *ctx)
{
	struct ts_key *k;

	ts->stopping = 1;
	ts->shutdown_done = done;
	ts->shutdown_ctx = ctx;
	if (ts->update_timer) {
		loop_cancel_timer(ts->loop, ts->update_timer);
		ts->update_timer = 0;
	}
	for (k = ts->keys; k; k = k->next) {
		if (k->waiting && k->checking && k->inst) {
			/* Its heartbeat's answer is no longer awaited. */
			struct ts_instance *in = k->inst;

			k->inst = NULL;
			k->checking = 0;
			in->m.acquired--;
			in->m.used--;
			if (in->gone && !in->m.acquired)
				instance_free(in);
		}
		if (k->waiting && !k->inst && !k->deliver_timer) {
			snprintf(k->msg, sizeof(k->msg),
				 "the runner is stopping");
			k->err = CR_ERR_CANCELED;
			k->waiting = 0;
			deliver(ts, k);
		}
	}
	ts_state_save(ts);
	ts_worker_shutdown(ts);
}

void taskscaler_free(struct taskscaler *ts)
{
	size_t i;

	if (!ts)
		return;
	ts_worker_stop(ts);
	if (ts->update_timer)
		loop_cancel_timer(ts->loop, ts->update_timer);
	while (ts->keys)
		key_free(ts, ts->keys);
	for (i = 0; i < ts->nr; i++)
		instance_free(ts->inst[i]);
	free(ts->inst);
	ts_state_close(ts);
	ts_config_release(&ts->cfg);
	ts_metrics_release(ts);
	free(ts);
}

void taskscaler_counts(const struct taskscaler *ts,
		       struct taskscaler_counts *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < ts->nr; i++) {
		const struct ts_instance *in = ts->inst[i];

		if (in->m.removing)
			c->removing++;
		else if (in->m.ready)
			c->ready++;
		else
			c->creating++;
		c->acquired += in->m.acquired;
	}
	c->reserved = count_reserved(ts);
	c->pending = ts->pending;
	c->provisioned = ts->provisioned;
	c->removed = ts->removed;
	c->ready_failures = ts->ready_failures;
}
