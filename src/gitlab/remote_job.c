#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "gitlab/api.h"
#include "gitlab/artifact_store.h"
#include "gitlab/failure_reason.h"
#include "gitlab/payload.h"
#include "gitlab/remote_job.h"
#include "gitlab/tls_chain_resolve.h"
#include "gitlab/trace_sender.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/offload.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* gitlab-runner's ExitCodeUnsupportedOptions, for payloads it rejects. */
#define EXIT_CODE_UNSUPPORTED_OPTIONS 3

struct remote_job {
	struct remote_job_options opts;
	remote_job_done_cb done;
	void *ctx;

	struct job_payload *payload;
	int64_t id;
	char *token;

	struct trace_sender *sender;
	struct trace_sink *sink;
	struct job *job;
	struct job_settings settings;
	struct gl_artifact_store *artifacts;
	struct gl_call *accept_call;
	uint64_t done_timer;

	struct remote_job_summary summary;
	bool reported;
	/* Why the job cannot run, reported once GitLab accepted it. */
	struct buf refusal;
	int refusal_exit_code;
	char correlation_id[GL_CORRELATION_ID_MAX + 1];	/* opts' copy */
	char *tls_ca_chain;		/* opts' copy, may be NULL */
	/*
	 * FF_RESOLVE_FULL_TLS_CHAIN's fetches of the chain's issuers, under
	 * way off the loop thread; the job starts once they are done.
	 */
	struct offload *tls_resolving;
	bool start_wanted;
};

static void report(struct remote_job *rj)
{
	if (rj->reported)
		return;
	rj->reported = true;
	rj->summary.id = rj->id;
	rj->done(rj->ctx, &rj->summary);
}

static long on_done_timer(struct loop *loop, void *ctx)
{
	struct remote_job *rj = ctx;

	(void)loop;
	rj->done_timer = 0;
	report(rj);
	return LOOP_TIMER_STOP;
}

static void on_sender_done(void *ctx, bool delivered)
{
	struct remote_job *rj = ctx;

	rj->summary.delivered = delivered;
	if (delivered)
		log_info("job %lld finished: %s%s%s", (long long)rj->id,
			 rj->summary.state == JOB_STATE_SUCCESS ? "success" :
			 "failed", rj->summary.failure_reason ? ", " : "",
			 rj->summary.failure_reason ? rj->summary.failure_reason :
			 "");
	else
		log_error("job %lld: gave up sending its result to GitLab",
			  (long long)rj->id);
	report(rj);
}

static void on_sender_cancel(void *ctx, enum trace_sender_cancel kind)
{
	struct remote_job *rj = ctx;

	log_info("job %lld: GitLab asked to %s it", (long long)rj->id,
		 kind == TRACE_SENDER_ABORT ? "abort" : "cancel");
	job_cancel(rj->job, kind == TRACE_SENDER_ABORT ? JOB_CANCEL_ABORT :
		   JOB_CANCEL_GRACEFUL);
}

static const struct strvec *supported_reasons(const struct remote_job *rj)
{
	return rj->payload ? &rj->payload->features.failure_reasons : NULL;
}

/* Sends the final state; on_sender_done follows. */
static void finish_with(struct remote_job *rj, enum job_state state,
			const char *reason, int exit_code)
{
	struct trace_sender_final final = { 0 };
	char checksum[16];

	trace_sink_finish(rj->sink);
	trace_sink_checksum(rj->sink, checksum);
	rj->summary.state = state;
	rj->summary.exit_code = exit_code;
	final.state = state == JOB_STATE_SUCCESS ? GL_STATE_SUCCESS :
		GL_STATE_FAILED;
	if (state != JOB_STATE_SUCCESS) {
		rj->summary.failure_reason =
			failure_reason_map(reason, supported_reasons(rj));
		final.failure_reason = rj->summary.failure_reason;
		final.exit_code = exit_code;
	}
	final.checksum = checksum;
	final.bytesize = trace_sink_bytesize(rj->sink);
	trace_sender_finish(rj->sender, &final);
}

static void on_job_finished(void *ctx, const struct job_result *result)
{
	struct remote_job *rj = ctx;

	finish_with(rj, result->state, result->failure_reason,
		    result->exit_code);
}

/* The log and its sender, before anything can be reported. */
static int open_trace(struct remote_job *rj, bool trace_sections,
		      struct buf *err)
{
	const struct runner_config *rc = rj->opts.runner;
	struct trace_sender_options so = { 0 };
	struct trace_sender_events ev = { 0 };
	struct trace_options to = { 0 };
	int r;

	so.client = rj->opts.client;
	so.info = rj->opts.info;
	so.job_id = rj->id;
	so.token = rj->token;
	so.interval_ms = rj->opts.trace_interval_ms;
	/* gitlab-runner reads it from the runner's config only. */
	so.dynamic_force_send = runner_feature_flag(rc,
		"FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL", false);
	so.final_attempts = rc->job_status_final_update_retry_limit;
	ev.on_cancel = on_sender_cancel;
	ev.on_done = on_sender_done;
	ev.ctx = rj;
	if ((r = trace_sender_new(rj->opts.loop, &so, &ev, &rj->sender, err)))
		return r;
	to.output_limit = (size_t)rc->output_limit * 1024;
	to.timestamps = runner_feature_flag(rc, "FF_TIMESTAMPS", true);
	to.no_default_token_masks =
		!runner_feature_flag(rc, "FF_MASK_ALL_DEFAULT_TOKENS", true);
	to.trace_sections = trace_sections;
	if (rj->payload) {
		to.token_prefixes = rj->payload->features.token_mask_prefixes.v;
		to.nr_token_prefixes =
			rj->payload->features.token_mask_prefixes.nr;
	}
	rj->sink = trace_sink_new(&to, trace_sender_consumer(rj->sender));
	trace_sender_set_sink(rj->sender, rj->sink);
	trace_sink_add_mask(rj->sink, rj->token);
	return 0;
}

static void fail_before_start(struct remote_job *rj, const char *message,
			      int exit_code)
{
	trace_sink_error(rj->sink, "%s", message);
	trace_sink_error(rj->sink, "Job failed (system failure): %s", message);
	trace_sender_start(rj->sender);
	finish_with(rj, JOB_STATE_FAILED, FAILURE_RUNNER_SYSTEM, exit_code);
}

static void start_job(struct remote_job *rj)
{
	struct job_callbacks cb = { on_job_finished, rj };
	struct buf err = BUF_INIT;

	if (rj->tls_resolving) {
		rj->start_wanted = true;	/* on_tls_resolved() starts it */
		return;
	}
	rj->settings.runner = rj->opts.runner;
	rj->settings.system_id = rj->opts.system_id;
	rj->settings.concurrent_id = rj->opts.concurrent_id;
	rj->settings.concurrent_project_id = rj->opts.concurrent_id;
	rj->settings.s3_roles = rj->opts.s3_roles;
	rj->settings.host_cache = rj->opts.host_cache;
	rj->settings.user = rj->opts.user;
	rj->settings.autoscaled = rj->opts.autoscaled;
	rj->settings.instance = rj->opts.instance;
	rj->settings.instance_slot = rj->opts.instance_slot;
	rj->settings.instance_error = rj->opts.instance_error;
	rj->settings.correlation_id = rj->correlation_id[0] ?
		rj->correlation_id : NULL;
	rj->settings.tls_ca_chain = rj->tls_ca_chain;
	rj->settings.on_stage_duration = rj->opts.on_stage_duration;
	rj->settings.stage_duration_ctx = rj->opts.stage_duration_ctx;
	rj->artifacts = gl_artifact_store_new(rj->opts.client, rj->id,
					      rj->token);
	rj->settings.artifact_store = &gl_artifact_store_ops;
	rj->settings.artifact_store_ctx = rj->artifacts;
	trace_sender_start(rj->sender);
	if (job_start(rj->opts.loop, rj->payload, &rj->settings, rj->sink, &cb,
		      &rj->job, &err) != 0) {
		log_error("job %lld cannot start: %s", (long long)rj->id,
			  err.data);
		fail_before_start(rj, err.data, 0);
	}
	buf_release(&err);
}

static void on_accepted(struct gl_update_reply *reply, void *ctx)
{
	struct remote_job *rj = ctx;

	rj->accept_call = NULL;
	if (reply->outcome == GL_UPDATE_ABORT) {
		/* Another manager took it, or it is gone: drop it silently. */
		log_warn("job %lld was not accepted (%ld %s): dropping it",
			 (long long)rj->id, reply->status, reply->job_status);
		rj->summary.dropped = true;
		report(rj);
		return;
	}
	if (reply->cancel_requested) {
		trace_sender_start(rj->sender);
		finish_with(rj, JOB_STATE_FAILED, FAILURE_UNKNOWN, 0);
		return;
	}
	if (rj->refusal.len) {
		fail_before_start(rj, rj->refusal.data, rj->refusal_exit_code);
		return;
	}
	start_job(rj);
}

/*
 * Acceptance (two-phase commit, spec 2.5): PUT state=running, output {}.
 * It comes first even for a job we cannot run: until then GitLab answers
 * any other state with 400.
 */
static void accept_job(struct remote_job *rj)
{
	struct gl_job_update accept = { 0 };

	accept.info = rj->opts.info;
	accept.job_id = rj->id;
	accept.token = rj->token;
	accept.state = GL_STATE_RUNNING;
	if (gl_update_job(rj->opts.client, &accept, on_accepted, rj,
			  &rj->accept_call) != 0) {
		rj->accept_call = NULL;
		if (rj->refusal.len)
			fail_before_start(rj, rj->refusal.data,
					  rj->refusal_exit_code);
		else
			start_job(rj);
	}
}

/* FF_RESOLVE_FULL_TLS_CHAIN's work: the chain, resolved in place. */
struct tls_resolve_work {
	struct buf pem;
	struct buf err;
	int rc;
	struct log_capture logs;
};

static void tls_resolve_run(void *work)
{
	struct tls_resolve_work *w = work;

	log_capture_begin(&w->logs);
	w->rc = tls_chain_resolve_full(&w->pem, &w->err);
	log_capture_end();
}

static void tls_resolve_free(void *work)
{
	struct tls_resolve_work *w = work;

	buf_release(&w->pem);
	buf_release(&w->err);
	log_capture_release(&w->logs);
	free(w);
}

/*
 * The resolution ended: the job gets the whole chain, or no CA file when
 * it failed (as gitlab-runner does), and starts if it was waiting.
 */
static void on_tls_resolved(void *ctx, void *work, int rc)
{
	struct remote_job *rj = ctx;
	struct tls_resolve_work *w = work;

	rj->tls_resolving = NULL;
	log_capture_replay(&w->logs);
	free(rj->tls_ca_chain);
	rj->tls_ca_chain = NULL;
	if (rc)
		log_error("couldn't build CA Chain (FF_RESOLVE_FULL_TLS_CHAIN): %s",
			  strerror(rc));
	else if (w->rc)
		log_error("couldn't build CA Chain (FF_RESOLVE_FULL_TLS_CHAIN): %s",
			  w->err.data);
	else if (w->pem.len)
		rj->tls_ca_chain = buf_detach(&w->pem, NULL);
	rj->opts.tls_ca_chain = rj->tls_ca_chain;
	if (rj->start_wanted) {
		rj->start_wanted = false;
		start_job(rj);
	}
}

/*
 * The job's copy of the request's TLS chain.  With the runner's
 * FF_RESOLVE_FULL_TLS_CHAIN it is resolved up to a root (network/gitlab.go
 * RequestJob; not when tls-ca-file is set, whose content the job gets
 * instead): issuers are fetched over the network (AIA), so in a thread of
 * its own (util/offload.h) while the job is accepted, never on the loop
 * thread that carries every other job's trace.
 */
static void take_tls_ca_chain(struct remote_job *rj,
			      const struct remote_job_options *o)
{
	struct tls_resolve_work *w;

	if (!o->tls_ca_chain || !*o->tls_ca_chain)
		return;
	rj->tls_ca_chain = xstrdup(o->tls_ca_chain);
	if ((o->runner->tls_ca_file && *o->runner->tls_ca_file) ||
	    !runner_feature_flag(o->runner, "FF_RESOLVE_FULL_TLS_CHAIN", false))
		return;
	w = xcalloc(1, sizeof(*w));
	buf_init(&w->pem, 0);
	buf_init(&w->err, 0);
	(void)buf_addstr(&w->pem, o->tls_ca_chain);
	rj->tls_resolving = offload_start(o->loop, tls_resolve_run, w,
					  tls_resolve_free, on_tls_resolved,
					  rj);
}

int remote_job_start(const struct remote_job_options *o, char *payload,
		     size_t payload_len, remote_job_done_cb done, void *ctx,
		     struct remote_job **out)
{
	struct remote_job *rj = xcalloc(1, sizeof(*rj));
	struct buf err = BUF_INIT, msg = BUF_INIT;
	int r;

	rj->opts = *o;
	snprintf(rj->correlation_id, sizeof(rj->correlation_id), "%s",
		 o->correlation_id ? o->correlation_id : "");
	rj->opts.correlation_id = rj->correlation_id;
	take_tls_ca_chain(rj, o);
	rj->opts.tls_ca_chain = rj->tls_ca_chain;
	rj->done = done;
	rj->ctx = ctx;
	*out = rj;

	buf_init(&rj->refusal, 0);
	r = job_payload_decode(payload, payload_len, &rj->payload, &err);
	if (r) {
		bool known = job_payload_salvage_identity(payload, payload_len,
							  &rj->id, &rj->token);

		freezero(payload, payload_len);
		log_error("job %lld: %s", (long long)rj->id, err.data);
		r = CR_ERR_INVALID;
		if (!known || open_trace(rj, true, &msg) != 0) {
			if (!known)
				log_error("job %lld: its id and token cannot be read: it cannot be reported as failed",
					  (long long)rj->id);
			rj->summary.dropped = true;
			rj->done_timer = loop_add_timer(o->loop, 0,
							on_done_timer, rj);
			goto out;
		}
		(void)buf_addstr(&rj->refusal, err.data);
		accept_job(rj);
		goto out;
	}
	freezero(payload, payload_len);
	rj->id = rj->payload->id;
	rj->token = xstrdup(rj->payload->token ? rj->payload->token : "");
	log_info("job %lld received (%s)", (long long)rj->id,
		 rj->payload->job_info.name ? rj->payload->job_info.name : "");
	if (open_trace(rj, rj->payload->features.trace_sections, &err) != 0) {
		log_error("job %lld: %s", (long long)rj->id, err.data);
		rj->summary.dropped = true;
		rj->done_timer = loop_add_timer(o->loop, 0, on_done_timer, rj);
		r = 0;
		goto out;
	}
	if (job_payload_validate(rj->payload, &msg) != 0) {
		(void)buf_addstr(&rj->refusal, msg.data);
		rj->refusal_exit_code = EXIT_CODE_UNSUPPORTED_OPTIONS;
	}
	accept_job(rj);
	r = 0;
out:
	buf_release(&err);
	buf_release(&msg);
	return r;
}

void remote_job_cancel(struct remote_job *rj, enum job_cancel_kind kind)
{
	if (rj && rj->job)
		job_cancel(rj->job, kind);
}

void remote_job_stage(const struct remote_job *rj, const char **stage,
		      const char **executor_stage)
{
	job_current_stage(rj ? rj->job : NULL, stage, executor_stage);
}

void remote_job_free(struct remote_job *rj)
{
	if (!rj)
		return;
	gl_call_cancel(rj->accept_call);
	offload_cancel(rj->tls_resolving);
	if (rj->done_timer)
		loop_cancel_timer(rj->opts.loop, rj->done_timer);
	job_free(rj->job);
	gl_artifact_store_free(rj->artifacts);
	trace_sink_free(rj->sink);
	trace_sender_free(rj->sender);
	job_payload_free(rj->payload);
	buf_release(&rj->refusal);
	free_secret(rj->token);
	free(rj->tls_ca_chain);
	free(rj);
}
