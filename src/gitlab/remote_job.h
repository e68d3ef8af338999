/*
 * A job that came from GitLab: decodes the payload, accepts the job
 * (spec 2.5), runs it through the job engine with the log going to the
 * trace sender, and reports the result (spec 5.4).  Used by `run` and
 * `run-single` alike.
 *
 * The caller does:
 *  1. remote_job_start() with the payload text of a 201 answer;
 *  2. may call remote_job_cancel() (runner shutdown);
 *  3. gets on_done once, from the loop, when GitLab has the result or the
 *     job was dropped; then remote_job_free().
 */
#ifndef CR_REMOTE_JOB_H
#define CR_REMOTE_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job/engine.h"

struct gl_client;
struct gl_info;
struct loop;
struct remote_job;
struct runner_config;
struct s3_role_cache;
struct host_cache;

struct remote_job_options {
	struct loop *loop;
	struct gl_client *client;	/* borrowed */
	const struct gl_info *info;	/* borrowed */
	const struct runner_config *runner;	/* borrowed */
	const char *system_id;
	int concurrent_id;
	/* The global `user` the job runs as (job_settings.user); borrowed. */
	const char *user;
	/* Shorter trace-sender ticks, for tests; 0: the defaults. */
	long trace_interval_ms;
	struct s3_role_cache *s3_roles;	/* borrowed; may be NULL */
	struct host_cache *host_cache;	/* borrowed; may be NULL */
	/* job_settings' autoscaled, instance, instance_error; borrowed. */
	bool autoscaled;
	const struct ig_connect_info *instance;
	int instance_slot;
	const char *instance_error;
	/* gl_job_reply's correlation_id (copied); NULL or "": none. */
	const char *correlation_id;
	/* gl_job_reply's tls_ca_chain (copied); NULL: none. */
	const char *tls_ca_chain;
	/* job_settings' on_stage_duration and its ctx; may be NULL. */
	void (*on_stage_duration)(void *ctx, const char *stage,
				  double seconds);
	void *stage_duration_ctx;
};

struct remote_job_summary {
	int64_t id;			/* 0 when the payload had none */
	enum job_state state;
	const char *failure_reason;	/* as sent to GitLab */
	int exit_code;
	bool delivered;			/* GitLab took the final update */
	bool dropped;			/* GitLab did not want the job */
};

typedef void (*remote_job_done_cb)(void *ctx,
				   const struct remote_job_summary *s);

/*
 * Takes the payload (payload_len bytes, wiped and freed by the job).
 * *out is always set and on_done always follows.  Returns 0, or
 * CR_ERR_INVALID when the payload cannot be decoded (cut short, not an
 * object, nested too deep, wrong types): the job is then reported to
 * GitLab as failed (runner_system_failure) when its id and token can be
 * read, else dropped, and the caller should count the request as failed
 * and back off, as gitlab-runner does when it cannot decode a job.
 */
int remote_job_start(const struct remote_job_options *o, char *payload,
		     size_t payload_len, remote_job_done_cb done, void *ctx,
		     struct remote_job **out);

void remote_job_cancel(struct remote_job *rj, enum job_cancel_kind kind);
/* job_current_stage() of the engine job; before it starts: its defaults. */
void remote_job_stage(const struct remote_job *rj, const char **stage,
		      const char **executor_stage);
void remote_job_free(struct remote_job *rj);

#endif
