/*
 * Taskscaler: one [[runners]] entry's pool of autoscaled instances, driven
 * from the runner's event loop.
 *
 * The instance group's calls (instance_group.h) block, so they run one at
 * a time on a worker thread of the taskscaler's own; their results come
 * back to the loop through a pipe, and every decision (ts_model.h) and all
 * of the instance table live on the loop thread.  Nothing here blocks the
 * loop.
 *
 * The manager, for an entry with [runners.autoscaler]:
 *  1. taskscaler_reserve() before each job request (no slot: no request);
 *  2. no job came back: taskscaler_unreserve();
 *  3. a job came: taskscaler_acquire() (asynchronous, bounded by
 *     instance_acquire_timeout), and the job runs on the instance given;
 *  4. the job ended: taskscaler_release() (max_use_count retires the
 *     instance; a broken one is removed);
 *  5. at stop: taskscaler_shutdown() (delete_instances_on_shutdown), then
 *     taskscaler_free().
 */
#ifndef CR_AUTOSCALE_TASKSCALER_H
#define CR_AUTOSCALE_TASKSCALER_H

#include <stddef.h>

struct buf;
struct config_autoscaler;
struct config_autoscaler_policy;
struct ig_connect_info;
struct loop;
struct taskscaler;

struct taskscaler_options {
	struct loop *loop;
	const struct config_autoscaler *cfg;	/* copied */
	/* The runner's token: names the state storage dir and the keys. */
	const char *token;
	/* state_storage's default parent: the config file's dir. */
	const char *config_dir;
	/* Instance group call timeout, ms; 0: the group's default. */
	int call_timeout_ms;
	/*
	 * FF_USE_FLEETING_ACQUIRE_HEARTBEATS: an instance is reached over SSH
	 * ("exit 0") before a job gets it; failure_threshold failures in a
	 * row remove it.
	 */
	int heartbeats;
};

/*
 * Starts the worker, the plugin and its Init; returns at once (the group
 * opens on the worker).  Errors: the configuration is unusable.
 */
int taskscaler_new(const struct taskscaler_options *o,
		   struct taskscaler **out, struct buf *err);

/* Keys are ShortenToken(token) + 16 hex digits, written to key[]. */
#define TASKSCALER_KEY_SIZE 32
/* 0 with a new key, or CR_ERR_RETRY when no slot can be reserved now. */
int taskscaler_reserve(struct taskscaler *ts, char key[TASKSCALER_KEY_SIZE]);
void taskscaler_unreserve(struct taskscaler *ts, const char *key);

/*
 * ci (borrowed until release) is the instance the job got, or NULL with
 * err != 0 and msg saying why ("unable to acquire instance within the
 * configured timeout of 15m0s").  Called from the loop, never from inside
 * taskscaler_acquire().
 */
typedef void (*taskscaler_acquired_cb)(void *ctx, int err,
				       const struct ig_connect_info *ci,
				       const char *msg);
void taskscaler_acquire(struct taskscaler *ts, const char *key,
			taskscaler_acquired_cb cb, void *ctx);
/*
 * The slot number of key's acquisition on its instance (gitlab-runner's
 * Acquisition.Slot()): 0..capacity_per_instance-1, unique on the
 * instance while held, given again once released; the lowest free one.
 * -1 while key has no instance.
 */
int taskscaler_slot(const struct taskscaler *ts, const char *key);
/*
 * Ends an acquisition (or a reservation still waiting in acquire, whose
 * callback is then never called).  broken: the instance failed the job's
 * connection; it is removed.
 */
void taskscaler_release(struct taskscaler *ts, const char *key, int broken);

/*
 * A config reload's [[runners.autoscaler.policy]] entries (copied): the
 * next scaling pass, run now, uses them.  The rest of [runners.autoscaler]
 * stays as started, as in gitlab-runner.
 */
void taskscaler_configure_policy(struct taskscaler *ts,
				 const struct config_autoscaler_policy *v,
				 size_t n);

/* Stops scaling; done(ctx) once the group is shut down (and deleted). */
void taskscaler_shutdown(struct taskscaler *ts, void (*done)(void *ctx),
			 void *ctx);
/* After shutdown's done, or at any time to drop everything at once. */
void taskscaler_free(struct taskscaler *ts);

/* For tests and logs: instances by state, reserved and acquired slots. */
struct taskscaler_counts {
	int creating, ready, removing, acquired, reserved, pending;
	int provisioned, removed, ready_failures;
};
void taskscaler_counts(const struct taskscaler *ts,
		       struct taskscaler_counts *c);

/*
 * The numbers of /metrics' fleeting_* families now (labels left to the
 * caller); the histograms stay ts's, valid until its next loop turn.
 */
struct metrics_autoscaler;
void taskscaler_metrics(const struct taskscaler *ts,
			struct metrics_autoscaler *out);

#endif
