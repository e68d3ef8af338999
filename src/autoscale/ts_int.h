/* Shared by src/autoscale/taskscaler.c and ts_*.c only. */
#ifndef CR_AUTOSCALE_TS_INT_H
#define CR_AUTOSCALE_TS_INT_H

#include <pthread.h>
#include <stdint.h>

#include "autoscale/instance_group.h"
#include "autoscale/taskscaler.h"
#include "autoscale/ts_model.h"
#include "config/config.h"
#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/strvec.h"

struct ts_instance {
	char *id;
	enum ig_state state;
	struct ts_inst m;
	int requested;		/* ours (asked for, or restored from state) */
	int up_running, up_done;
	struct ig_connect_info ci;	/* once ready */
	int has_ci;
	uint64_t created_ms;
	uint64_t decrease_at;	/* removing: next Decrease, loop ms */
	uint64_t seen;		/* update_seq of the last Update listing it */
	int gone;		/* out of the table; freed at the last release */
	/* For the metrics (ts_metrics.c): loop ms, 0 = not known / not yet. */
	uint64_t requested_ms;	/* its Increase */
	uint64_t delete_ms;	/* its first Decrease decision */
	int seen_running;
	/* Heartbeats (FF_USE_FLEETING_ACQUIRE_HEARTBEATS): failures in a row. */
	int hb_failures;
	int unhealthy;		/* the last heartbeat failed */
};

/* A reservation, a job waiting for a slot, or an acquisition (inst). */
struct ts_key {
	struct ts_key *next;
	struct taskscaler *ts;
	char key[TASKSCALER_KEY_SIZE];
	struct ts_instance *inst;	/* acquired */
	int slot;		/* its place on inst (ts_free_slot) */
	int waiting;
	int checking;		/* inst's heartbeat runs before delivery */
	taskscaler_acquired_cb cb;
	void *cb_ctx;
	uint64_t timer, deliver_timer;
	int err;
	char msg[160];
};

enum ts_op_kind {
	TS_OP_OPEN,
	TS_OP_UPDATE,
	TS_OP_INCREASE,
	TS_OP_DECREASE,
	TS_OP_UP,
	TS_OP_SHUTDOWN,
	TS_OP_HEARTBEAT,
};

/* One instance group call, made on the worker, answered on the loop. */
struct ts_op {
	struct ts_op *next;
	enum ts_op_kind kind;
	int n;			/* OPEN: max size out; INCREASE: asked */
	int got;		/* INCREASE: accepted */
	char *id;		/* UP: the instance; OPEN: the group id */
	const char *kind_name;	/* OPEN: grpc, jsonl, static */
	struct strvec ids;	/* DECREASE */
	struct ig_instance_list list;	/* UPDATE */
	struct ig_connect_info ci;	/* UP, HEARTBEAT */
	char key[TASKSCALER_KEY_SIZE];	/* HEARTBEAT: the acquisition */
	int r;
	struct buf err;
};

/* [runners.autoscaler], the taskscaler's own copy. */
struct ts_config {
	char *plugin, *plugin_config_json, *instance_ready_command;
	struct ig_connector connector;
	char *key_path;
	int use_external_addr;
	int capacity_per_instance, max_use_count, max_instances;
	int64_t instance_acquire_timeout_ms, update_interval_ms,
		update_interval_when_expecting_ms, deletion_retry_interval_ms,
		shutdown_deletion_interval_ms;
	int shutdown_deletion_retries, failure_threshold;
	int heartbeats;		/* FF_USE_FLEETING_ACQUIRE_HEARTBEATS */
	struct config_scale_throttle scale_throttle;
	enum config_tribool reservation_throttling;
	int delete_instances_on_shutdown;
	struct config_state_storage state_storage;
	struct config_autoscaler_policy *policy;
	size_t nr_policy;
};

struct taskscaler {
	struct loop *loop;
	struct ts_config cfg;
	struct ts_params params;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	char name[RUNNER_SHORT_TOKEN_SIZE];
	int call_timeout_ms;

	struct ts_instance **inst;
	size_t nr;
	struct ts_key *keys;
	int pending;		/* Increase accepted, not seen yet */
	uint64_t pending_since;
	uint64_t update_seq;
	int opened, open_failed, updated_once, updating, increasing;
	int expecting, stopping, shut, policy_warned;
	int is_pool;		/* the built-in static provider */
	int up_failures;
	uint64_t backoff_until;
	double tokens;		/* scale_throttle bucket */
	uint64_t tokens_at;
	uint64_t update_timer;
	void (*shutdown_done)(void *ctx);
	void *shutdown_ctx;

	/* Counters for /metrics and tests. */
	int provisioned, removed, ready_failures, acquisitions;
	struct ts_metrics {
		struct metrics_vhist readiness, creation, is_running,
			deletion, life;
		uint64_t task_ops[METRICS_NR_TASK_OPS];
		uint64_t scale_ops[METRICS_NR_SCALE_OPS];
		uint64_t instance_ops[METRICS_NR_INSTANCE_OPS];
		uint64_t missed_updates;
		int desired;
		/* When each pending instance was asked for, oldest first. */
		uint64_t *requested_at;
		size_t nr_requested;
	} met;

	/* state_storage: the file, NULL when disabled. */
	char *state_path;
	char *last_state;	/* what the file says now */
	struct ts_saved {
		char *id;
		int used;
	} *saved;
	size_t nr_saved;

	/* The worker (ts_worker.c). */
	pthread_t thread;
	int thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ts_op *todo, *done;	/* FIFO heads */
	int quit;
	int wake[2];		/* worker -> loop */
	struct instance_group *group;	/* the worker's only */
};

/* taskscaler.c */
void ts_apply(struct taskscaler *ts, struct ts_op *op);
void ts_decrease_marked(struct taskscaler *ts, uint64_t now);

/* ts_worker.c */
int ts_worker_start(struct taskscaler *ts, struct buf *err);
void ts_worker_stop(struct taskscaler *ts);
void ts_worker_open(struct taskscaler *ts);
void ts_worker_update(struct taskscaler *ts);
void ts_worker_increase(struct taskscaler *ts, int n);
void ts_worker_decrease(struct taskscaler *ts, const struct strvec *ids);
void ts_worker_up(struct taskscaler *ts, const char *id);
void ts_worker_heartbeat(struct taskscaler *ts, const char *id,
			 const char *key);
void ts_worker_shutdown(struct taskscaler *ts);

/* ts_state.c: the config copy, state storage, metrics */
void ts_config_copy(struct ts_config *dst, const struct config_autoscaler *src);
void ts_config_release(struct ts_config *c);
/* The [[runners.autoscaler.policy]] entries alone (a reload's). */
void ts_policy_copy(struct ts_config *d,
		    const struct config_autoscaler_policy *v, size_t n);
void ts_policy_release(struct ts_config *c);
int ts_state_open(struct taskscaler *ts, const char *token,
		  const char *config_dir, struct buf *err);
/* Whether the saved state knows in->id (its use count is restored). */
int ts_state_restore(struct taskscaler *ts, struct ts_instance *in);
void ts_state_save(struct taskscaler *ts);
void ts_state_close(struct taskscaler *ts);

/* ts_metrics.c: the numbers behind /metrics' fleeting_* families */
void ts_metrics_init(struct taskscaler *ts,
		     const struct config_autoscaler *cfg);
void ts_metrics_release(struct taskscaler *ts);
/* Increase accepted n instances at now. */
void ts_metrics_requested(struct taskscaler *ts, int n, uint64_t now);
/* Update showed in for the first time, as one of those asked for. */
void ts_metrics_first_seen(struct taskscaler *ts, struct ts_instance *in,
			   uint64_t now);
/* Update showed in (any time): its state may be running now. */
void ts_metrics_seen(struct taskscaler *ts, struct ts_instance *in,
		     uint64_t now);
void ts_metrics_ready(struct taskscaler *ts, struct ts_instance *in,
		      uint64_t now);
void ts_metrics_removing(struct taskscaler *ts, struct ts_instance *in,
			 uint64_t now);
/* in left the instance group. */
void ts_metrics_gone(struct taskscaler *ts, struct ts_instance *in,
		     uint64_t now);
/* A reservation was refused; t and addable as ts_can_reserve saw them. */
void ts_metrics_refused(struct taskscaler *ts, const struct ts_totals *t,
			int addable);

#endif
