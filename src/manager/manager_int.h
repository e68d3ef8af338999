/*
 * Private to the src/manager/ files.
 *
 * Ownership, in one place:
 *
 *  - struct mgr_config is one loaded config.toml with a reference count.
 *    The manager holds a reference on the current one; every runner entry
 *    holds one on the config its runner_config lives in, and so does every
 *    job.  A reload makes a new mgr_config and moves the runners to it;
 *    running jobs keep theirs, so the runner_config a job started with
 *    stays valid (and unchanged) until the job is freed.
 *
 *  - struct mgr_runner is the state of one [[runners]] entry, matched
 *    across reloads by URL and token: its gl_client (keep-alive, and the
 *    last_update it remembers), requests in flight, counters, health.  It
 *    is freed by the reaper once it is gone from the config and has no
 *    request, job or token reset left: a job borrows its client.
 *
 *  - struct mgr_job is one running job.  Its slot is given back when the
 *    job reports done; the remote_job is freed later by the reaper (never
 *    from inside its own callback).
 */
#ifndef CR_MANAGER_INT_H
#define CR_MANAGER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "config/config.h"
#include "util/buf.h"
#include "config/system_id.h"
#include "gitlab/api.h"
#include "job/engine.h"
#include "manager/manager.h"
#include "metrics/metrics.h"

struct loop;
struct metrics_http;
struct remote_job;
struct s3_role_cache;
struct host_cache;

#define MGR_RELOAD_INTERVAL_MS 3000L	/* gitlab-runner's ReloadConfigInterval */
#define MGR_BACKOFF_MAX_MS 60000L
#define MGR_TOKEN_RETRY_MS 60000L
#define MGR_INTERRUPT_REPEAT_MS 1000L

struct mgr_config {
	unsigned refs;
	struct config cfg;
};

/* A new snapshot holding cfg (moved), one reference. */
struct mgr_config *mgr_config_new(struct config *cfg);
struct mgr_config *mgr_config_ref(struct mgr_config *c);
void mgr_config_unref(struct mgr_config *c);

struct mgr_request {
	struct mgr_request *next;
	struct mgr_runner *runner;
	struct gl_call *call;
	/* An autoscaler entry's: the slot reserved for the job asked for. */
	char ts_key[32];
	bool reserved;
};

struct mgr_runner {
	struct manager *m;
	struct mgr_config *snap;	/* reference; rc lives in it */
	struct runner_config *rc;
	char short_token[RUNNER_SHORT_TOKEN_SIZE];
	struct gl_client *client;
	struct gl_info info;		/* borrows from rc */
	bool removed;			/* no longer in the config */
	/*
	 * crunner has no executor of that name (kubernetes, a typo): the
	 * entry is kept (list, metrics) but never asks for jobs, as
	 * gitlab-runner marks such a runner unhealthy.
	 */
	bool no_executor;

	struct mgr_request *requests;	/* in flight */
	int nr_requests;
	int nr_jobs;
	double adaptive;		/* adaptive request concurrency */
	bool had_job;			/* the last answer was a job */

	unsigned failures;		/* failed requests in a row */
	uint64_t backoff_until;		/* loop ms */
	int unhealthy;			/* 403 answers in a row */
	uint64_t unhealthy_until;	/* loop ms; 0: healthy */

	struct gl_call *reset_call;	/* token rotation in flight */
	struct mgr_config *reset_snap;	/* the config it will rewrite */
	char *rotated_token;		/* the new token, while reloading */
	bool rotation_warned;

	struct metrics_runner metrics;

	/* [runners.autoscaler] (autoscale.c); NULL: none. */
	struct taskscaler *ts;
	bool ts_stopping, ts_down;
};

struct mgr_job {
	struct mgr_job *next;
	struct manager *m;
	struct mgr_runner *runner;	/* runner->nr_jobs counts this job */
	struct mgr_config *snap;	/* reference; rc lives in it */
	const struct runner_config *rc;
	struct gl_info info;		/* borrows from rc */
	struct remote_job *rj;
	int concurrent_id;
	uint64_t started_ms;
	bool done;			/* reported; waits for the reaper */

	/* Until the job starts (mgr_job_run): its payload, owned. */
	char *payload;
	size_t payload_len;
	/* An autoscaler entry's job (autoscale.c). */
	bool autoscaled, acquiring;
	char ts_key[32];
	const struct ig_connect_info *instance;	/* the taskscaler's */
	int instance_slot;	/* taskscaler_slot() on instance */
	struct buf instance_error;
	char correlation_id[GL_CORRELATION_ID_MAX + 1];	/* the request's */
	char *tls_ca_chain;		/* the request's; may be NULL */
};

enum mgr_phase {
	MGR_RUNNING,
	MGR_GRACEFUL,		/* SIGQUIT: let jobs finish */
	MGR_FORCEFUL,		/* SIGTERM/SIGINT: abort, await final updates */
};

struct manager {
	struct loop *loop;
	/* The runners' GitLab clients share one connection pool. */
	struct gl_http_pool *http_pool;
	/* S3 RoleARN credentials, shared by every job (as gitlab-runner's
	 * process-wide cache). */
	struct s3_role_cache *s3_roles;
	/* Host facts kept between jobs (executor/host_cache.h). */
	struct host_cache *host_cache;
	struct manager_options opts;	/* strings owned */
	char *config_path;
	struct mgr_config *config;	/* reference on the current one */
	char system_id[SYSTEM_ID_SIZE];

	struct mgr_runner **runners;	/* active ones first, in file order */
	size_t nr_runners, nr_active;
	struct mgr_job *jobs;
	int nr_requests, nr_jobs;	/* over all runners */

	uint64_t feed_timer;
	size_t feed_next;
	uint64_t reload_timer;
	struct timespec config_mtime;
	ino_t config_ino;
	off_t config_size;
	uint64_t token_timer;
	uint64_t reap_timer;

	enum mgr_phase phase;
	uint64_t shutdown_timer;
	uint64_t interrupt_timer;
	int exit_code;

	struct metrics_http *http;
	struct metrics_global metrics;
};

/* manager.c */
int mgr_check_interval_ms(const struct manager *m);
void mgr_schedule_reap(struct manager *m);
void mgr_maybe_finish(struct manager *m);
void mgr_render_metrics(struct buf *out, void *ctx);

/* runner.c: entries and their state */
struct mgr_runner *mgr_runner_new(struct manager *m, struct mgr_config *snap,
				  struct runner_config *rc);
/* Moves r to rc in snap (a reload or a rotated token). */
void mgr_runner_rebind(struct mgr_runner *r, struct mgr_config *snap,
		       struct runner_config *rc);
void mgr_runner_cancel_requests(struct mgr_runner *r);
bool mgr_runner_idle(const struct mgr_runner *r);
void mgr_runner_free(struct mgr_runner *r);

/* feeder.c: job requests and jobs */
void mgr_feed_start(struct manager *m);
void mgr_feed_stop(struct manager *m);
void mgr_runner_try_request(struct mgr_runner *r);
/*
 * A job of first ended: its slot goes to a new request at once, to first
 * or another entry, if one of them last got a job (so its queue may hold
 * more); else it waits for the feed.
 */
void mgr_offer_slot(struct manager *m, struct mgr_runner *first);
void mgr_jobs_cancel(struct manager *m, enum job_cancel_kind kind);
void mgr_job_free(struct mgr_job *job);

/* Starts the engine job of job (its instance, if any, acquired). */
int mgr_job_run(struct mgr_job *job);

/* autoscale.c: entries with [runners.autoscaler] */
void mgr_autoscale_attach(struct mgr_runner *r);
/* The entry needs a taskscaler and has none: it asks for no jobs. */
bool mgr_autoscale_blocked(const struct mgr_runner *r);
/* Reserves a slot for q's job; false: no capacity, do not ask. */
bool mgr_autoscale_reserve(struct mgr_runner *r, struct mgr_request *q);
void mgr_autoscale_unreserve(struct mgr_runner *r, struct mgr_request *q);
/* Acquires an instance for job (key reserved); then mgr_job_run(). */
void mgr_autoscale_acquire(struct mgr_job *job, const char *key);
void mgr_autoscale_release(struct mgr_job *job, bool broken);
/* Starts every taskscaler's shutdown; true while one is still going. */
bool mgr_autoscale_shutdown(struct manager *m);
void mgr_autoscale_free(struct mgr_runner *r);
/* A reload kept the entry: its taskscaler takes the new policies. */
void mgr_autoscale_reconfigure(struct mgr_runner *r);
/* Fills out (room for m->nr_runners) for /metrics; returns how many. */
size_t mgr_autoscale_metrics(struct manager *m,
			     struct metrics_autoscaler *out);

/* signals.c */
void mgr_signals_setup(struct manager *m);
void mgr_shutdown(struct manager *m, enum mgr_phase phase);

/* reload.c */
void mgr_apply_config(struct manager *m, struct mgr_config *snap);
void mgr_reload(struct manager *m, const char *why);
void mgr_reload_watch(struct manager *m);
void mgr_remember_mtime(struct manager *m);
void mgr_apply_logging(const struct manager *m, const struct config *cfg);

/* token.c */
void mgr_token_schedule(struct manager *m);

/* ---- sched.c: the decisions, as pure functions ---- */

struct sched_state {
	int concurrent;		/* bound on requests + jobs, all runners */
	int busy;		/* requests + jobs, all runners */
	int limit;		/* the entry's limit; 0: none */
	int requests;		/* the entry's requests in flight */
	int jobs;		/* the entry's running jobs */
	int request_limit;	/* effective request concurrency */
	bool unhealthy;		/* disabled after too many 403s */
	bool backing_off;	/* waiting after failed requests */
};

enum sched_verdict {
	SCHED_REQUEST,		/* ask for a job now */
	SCHED_UNHEALTHY,
	SCHED_BACKOFF,
	SCHED_CONCURRENT_FULL,
	SCHED_LIMIT_REACHED,
	SCHED_REQUESTS_FULL,	/* counts in ..._exceeded_total */
};

enum sched_verdict sched_may_request(const struct sched_state *s);
const char *sched_verdict_name(enum sched_verdict v);

/*
 * Delay after failures failed requests in a row: base doubled per
 * failure, capped at max_ms, then "equal jitter": a value in
 * [d/2, d] picked by rnd.
 */
long sched_backoff_ms(unsigned failures, long base_ms, long max_ms,
		      uint32_t rnd);

enum sched_outcome {
	SCHED_GOT_JOB,
	SCHED_NO_JOB,
	SCHED_SLOW_DOWN,	/* the request needed retries (spec 0.4) */
};

/* The adaptive request concurrency after one request (spec 2.4). */
double sched_adaptive_update(double cur, enum sched_outcome o, int hard);
/* What request_concurrency is in force: ceil(adaptive) within [1, hard]. */
int sched_request_limit(double adaptive, int hard, bool adaptive_on);

/* The smallest id >= 0 not in used[0..n) (CI_CONCURRENT_ID). */
int sched_free_slot(const int *used, size_t n);

/* When a token is reset: 75% into its lifetime (spec 1.6). */
time_t sched_token_reset_at(time_t obtained, time_t expires);

#endif
