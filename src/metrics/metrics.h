/*
 * Prometheus text exposition (format 0.0.4) of the manager's counters,
 * with gitlab-runner's metric names, labels and help texts, and the small
 * HTTP server that serves them (metrics/http.c).
 *
 * The counters live in the manager (struct manager embeds a struct
 * metrics_global and every runner entry a struct metrics_runner); nothing
 * here keeps state between scrapes.  One scrape is:
 *  1. the manager fills a struct metrics_source that points at its
 *     counters (and lists its running jobs);
 *  2. metrics_render() appends every family, one helper per family, into
 *     one buffer, families in name order and labels in name order as
 *     gitlab-runner's Prometheus client writes them;
 *  3. the HTTP layer sends the buffer.
 *
 * Families with no sample are left out, as the Go client does.
 */
#ifndef CR_METRICS_H
#define CR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct buf;
struct loop;

/* gitlab-runner's job duration buckets, in seconds. */
#define METRICS_JOB_DURATION_BUCKETS 10
extern const double metrics_job_duration_bounds[METRICS_JOB_DURATION_BUCKETS];

/* Counts per bucket (not cumulative: the exposition sums them up). */
struct metrics_histogram {
	uint64_t buckets[METRICS_JOB_DURATION_BUCKETS];
	uint64_t count;		/* all observations, the +Inf bucket */
	double sum;
};

void metrics_histogram_observe(struct metrics_histogram *h, double value);

/* The endpoint label of gitlab_runner_api_request_statuses_total. */
enum metrics_endpoint {
	METRICS_EP_REQUEST_JOB,
	METRICS_EP_UPDATE_JOB,
	METRICS_EP_PATCH_TRACE,
	METRICS_EP_RESET_TOKEN,
};

struct metrics_status_count {
	enum metrics_endpoint endpoint;
	long status;
	uint64_t count;
};

/* The level label of gitlab_runner_errors_total (logrus levels). */
enum metrics_level {
	METRICS_LEVEL_PANIC,
	METRICS_LEVEL_FATAL,
	METRICS_LEVEL_ERROR,
	METRICS_LEVEL_WARNING,
	METRICS_NR_LEVELS,
};

/* gitlab_runner_job_stage_duration_seconds' buckets, in seconds. */
#define METRICS_STAGE_DURATION_BUCKETS 10
extern const double
	metrics_stage_duration_bounds[METRICS_STAGE_DURATION_BUCKETS];

/* One build stage's durations (the stage label); counts per bucket. */
struct metrics_stage_duration {
	char *stage;			/* owned */
	uint64_t buckets[METRICS_STAGE_DURATION_BUCKETS];
	uint64_t count;
	double sum;
};

/* Per [[runners]] entry; the labels are runner (short token), runner_name. */
struct metrics_runner {
	char runner[RUNNER_SHORT_TOKEN_SIZE];
	char *runner_name;		/* owned; "" when the entry has none */
	bool listed;			/* in the current config: has a limit */
	int limit;
	int requests;			/* job requests in flight */
	int hard_limit;			/* request_concurrency */
	double adaptive_limit;
	int used_limit;
	uint64_t requests_exceeded;
	uint64_t jobs_total;		/* 0 and never counted: not shown */
	bool has_jobs;			/* jobs_total and the histogram shown */
	struct metrics_histogram job_duration;
	struct metrics_status_count *statuses;
	size_t nr_statuses, alloc_statuses;
	/* FF_EXPORT_HIGH_CARDINALITY_METRICS: per build stage, in the order
	 * first seen. */
	struct metrics_stage_duration *stages;
	size_t nr_stages, alloc_stages;
};

/* Sets the labels; name may be NULL.  Counters start at zero. */
void metrics_runner_init(struct metrics_runner *r, const char *token,
			 const char *name);
/* Changes the labels (token rotation, renamed entry); counters stay. */
void metrics_runner_relabel(struct metrics_runner *r, const char *token,
			    const char *name);
void metrics_runner_release(struct metrics_runner *r);
/* One more answer with this HTTP status; status <= 0 is not counted. */
void metrics_runner_count_status(struct metrics_runner *r,
				 enum metrics_endpoint ep, long status);
/* A job was taken (jobs_total) / ended after seconds (the histogram). */
void metrics_runner_job_started(struct metrics_runner *r);
void metrics_runner_job_finished(struct metrics_runner *r, double seconds);
/* A build stage of a job with FF_EXPORT_HIGH_CARDINALITY_METRICS ended. */
void metrics_runner_stage_finished(struct metrics_runner *r,
				   const char *stage, double seconds);

/* Process-wide counters. */
struct metrics_global {
	uint64_t errors[METRICS_NR_LEVELS];
};

/* One running job, for gitlab_runner_jobs. */
struct metrics_job {
	const struct metrics_runner *runner;
	const char *state;
	const char *stage;
	const char *executor_stage;
};

struct metrics_autoscaler;

struct metrics_source {
	/* Taskscalers' and fleeting's families (metrics_autoscale.c). */
	const struct metrics_autoscaler *autoscalers;
	size_t nr_autoscalers;
	int concurrent;
	const char *system_id;
	const struct metrics_global *global;
	const struct metrics_runner *const *runners;
	size_t nr_runners;
	const struct metrics_job *jobs;
	size_t nr_jobs;
};

/* Appends the whole exposition text to out; returns 0. */
int metrics_render(struct buf *out, const struct metrics_source *src);

/*
 * Appends v as Go's strconv.FormatFloat(v, 'g', -1, 64) does (the
 * shortest text that reads back as v), "+Inf", "-Inf" or "NaN".
 */
void metrics_format_value(struct buf *out, double v);
/* Appends s with \\, \" and \n escaped, for a label value. */
void metrics_escape_label(struct buf *out, const char *s);

/* ---- the autoscaler's families (metrics/metrics_autoscale.c) ---- */

/*
 * A histogram with its own buckets (seconds): bounds ascending, counts per
 * bucket (not cumulative), count and sum over all observations.
 */
struct metrics_vhist {
	double *bounds;
	uint64_t *counts;
	size_t n;
	uint64_t count;
	double sum;
};

/*
 * Takes the first non-empty of want[nw] and fallback[nf] as the bounds,
 * else def[nd]; sorts them and drops duplicates, as Prometheus requires.
 */
void metrics_vhist_init(struct metrics_vhist *h, const double *want,
			size_t nw, const double *fallback, size_t nf,
			const double *def, size_t nd);
void metrics_vhist_observe(struct metrics_vhist *h, double seconds);
void metrics_vhist_release(struct metrics_vhist *h);

/* The state label of fleeting_taskscaler_tasks (slots). */
enum metrics_task_state {
	METRICS_TASK_IDLE,
	METRICS_TASK_PENDING,
	METRICS_TASK_ACQUIRED,
	METRICS_TASK_RESERVED,
	METRICS_TASK_UNAVAILABLE,
	METRICS_TASK_UNHEALTHY,
	METRICS_NR_TASK_STATES,
};

/* The operation label of fleeting_taskscaler_task_operations_total. */
enum metrics_task_op {
	METRICS_TASK_OP_RESERVE,
	METRICS_TASK_OP_UNRESERVE,
	METRICS_TASK_OP_ACQUIRE,
	METRICS_TASK_OP_RELEASE,
	METRICS_TASK_OP_RESERVE_AVAILABLE_FAILURE,
	METRICS_TASK_OP_RESERVE_IOP_FAILURE,
	METRICS_NR_TASK_OPS,
};

/* The operation label of fleeting_taskscaler_scale_operations_total. */
enum metrics_scale_op {
	METRICS_SCALE_UP,
	METRICS_SCALE_DOWN,
	METRICS_NR_SCALE_OPS,
};

/* The state label of fleeting_provisioner_instances. */
enum metrics_instance_state {
	METRICS_INSTANCE_REQUESTED,
	METRICS_INSTANCE_CREATING,
	METRICS_INSTANCE_RUNNING,
	METRICS_INSTANCE_DELETING,
	METRICS_NR_INSTANCE_STATES,
};

/* The operation label of fleeting_provisioner_instance_operations_total. */
enum metrics_instance_op {
	METRICS_INSTANCE_OP_CREATE,
	METRICS_INSTANCE_OP_DELETE,
	METRICS_NR_INSTANCE_OPS,
};

/*
 * One taskscaler's numbers at one scrape (taskscaler_metrics() fills it);
 * the histograms are borrowed from the taskscaler for the scrape.  The
 * labels are gitlab-runner's const labels: runner, runner_name and the
 * source's system_id.
 */
struct metrics_autoscaler {
	const char *runner;
	const char *runner_name;
	/* taskscaler's collector */
	int tasks[METRICS_NR_TASK_STATES];
	int max_tasks_per_instance;
	int max_use_count_per_instance;
	int desired_instances;
	uint64_t task_ops[METRICS_NR_TASK_OPS];
	uint64_t scale_ops[METRICS_NR_SCALE_OPS];
	const struct metrics_vhist *readiness;
	/* fleeting's collector */
	int instances[METRICS_NR_INSTANCE_STATES];
	int max_instances;
	uint64_t missed_updates;
	uint64_t instance_ops[METRICS_NR_INSTANCE_OPS];
	const struct metrics_vhist *creation, *is_running, *deletion, *life;
};

/* Appends the fleeting_* families (name order) of src->autoscalers. */
void metrics_render_autoscalers(struct buf *out,
				const struct metrics_source *src);

/* ---- the HTTP server (metrics/http.c) ---- */

struct metrics_http;

/* Fills out with the exposition text for one scrape. */
typedef void (*metrics_render_cb)(struct buf *out, void *ctx);

/*
 * gitlab-runner's listen_address rule: "host:port", ":port", "[v6]:port",
 * or a host alone, which gets the default port 9252.  Splits into
 * host (NULL for all addresses) and port.  CR_ERR_INVALID otherwise.
 */
#define METRICS_DEFAULT_PORT "9252"
int metrics_split_address(const char *address, char **host, char **port,
			  struct buf *err);

/*
 * Listens on address and serves, on the loop's thread, GET/HEAD /metrics
 * (the text from render) and /health ("ok"); anything else is 404, other
 * methods 405.  The socket is bound here, so a busy port fails at once
 * with one sentence in err.  bound (may be NULL) gets "host:port" as
 * bound (useful with port 0).
 */
int metrics_http_start(struct loop *loop, const char *address,
		       metrics_render_cb render, void *ctx,
		       struct metrics_http **out, char **bound,
		       struct buf *err);
void metrics_http_free(struct metrics_http *h);

#endif
