/*
 * The coordinator API (spec sections 1, 2, 4 and 5): typed calls over
 * gitlab/http.h, each with a callback that receives a classified reply.
 *
 * The caller does:
 *  1. gl_client_new(loop, &opts, &client, err): checks the URL and builds
 *     the base "<url>/api/v4/" (spec 0.2); one HTTP connection pool;
 *  2. starts calls: gl_request_job(), gl_update_job(), gl_patch_trace(),
 *     gl_register_runner()...  Each copies its arguments, returns 0 and
 *     later calls its callback exactly once from the loop; or returns a
 *     negative CR_ERR_* at once (bad arguments) and never calls it.
 *     The optional call_out receives a handle for gl_call_cancel(), valid
 *     until the callback starts;
 *  3. the reply passed to a callback belongs to the client and lives until
 *     the callback returns; fields documented as "may be taken" can be
 *     moved out by setting them to NULL;
 *  4. gl_client_free() outside callbacks; calls still running are dropped
 *     without callbacks.
 *
 * The CLI verbs use gl_runner_call_sync(), which runs one lifecycle call on
 * a private loop.
 *
 * Every runner-token call remembers the X-GitLab-Last-Update header of its
 * answer for that token (spec 2.3); gl_request_job() sends it back.
 */
#ifndef CR_GL_API_H
#define CR_GL_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gitlab/http.h"
#include "util/buf.h"

struct loop;
struct gl_client;
struct gl_call;

/* Workhorse reads at most this much of a jobs/request body (spec 2.1). */
#define GL_MAX_JOB_REQUEST_BODY ((size_t)32768)
/* Most trace bytes in one PATCH (spec 4.1, DefaultTracePatchLimit). */
#define GL_TRACE_PATCH_LIMIT ((size_t)1 << 20)
/* A long poll is held up to ~50 s: allow well above it (spec 2.3). */
#define GL_JOB_REQUEST_TIMEOUT_MS (5L * 60 * 1000)
/* Other API calls. */
#define GL_API_TIMEOUT_MS (2L * 60 * 1000)

/* ---- the info object (spec 1.8) ---- */

/*
 * Every feature key; all are always sent.  An executor sets only what it
 * implements: the server drops jobs needing a feature we did not announce.
 */
struct gl_features {
	bool variables, image, services, artifacts, cache;
	bool fallback_cache_keys, shared, upload_multiple_artifacts;
	bool upload_raw_artifacts, session, terminal, refspecs, masking;
	bool proxy, raw_variables, artifacts_exclude, multi_build_steps;
	bool trace_reset, trace_checksum, trace_size, vault_secrets;
	bool cancelable, return_exit_code, service_variables;
	bool service_multiple_aliases, image_executor_opts;
	bool service_executor_opts, cancel_gracefully;
	bool native_steps_integration, two_phase_job_commit, job_inputs;
};

/*
 * Sets the features that the network side implements (trace_reset,
 * trace_checksum, trace_size, cancelable, cancel_gracefully,
 * two_phase_job_commit), for a job loop that follows spec 2.5, 4.3 and 5.
 */
void gl_features_set_network(struct gl_features *f);

/* Calls f(key, value, ctx) for every feature, in wire order. */
void gl_features_each(const struct gl_features *f,
		      void (*fn)(const char *key, bool value, void *ctx),
		      void *ctx);

struct gl_info {
	const char *executor;		/* omitted when NULL or "" */
	const char *shell;		/* omitted when NULL or "" */
	const char *gpus;		/* config.gpus; NULL: "" */
	struct gl_features features;
	/* Runner labels as key, value pairs; omitted when nr_labels == 0. */
	const char *const *labels;
	size_t nr_labels;
};

/*
 * Appends the info object: name "crunner", version CR_VERSION, revision
 * CR_GIT_REVISION, platform "linux", architecture from uname, then the
 * caller's executor, shell, features, config and labels.  key as in
 * gl_json_open() (NULL: a bare object).
 */
void gl_info_append_json(struct buf *out, const char *key,
			 const struct gl_info *info);

/* ---- the client ---- */

struct gl_client_options {
	const char *url;		/* the configured server URL */
	struct gl_http_options http;
};

/*
 * "<url>/api/v4/": trailing slashes and one trailing "/ci" removed first.
 * Only http and https URLs with a host are accepted (CR_ERR_INVALID).
 */
int gl_base_url(const char *url, struct buf *out, struct buf *err);

int gl_client_new(struct loop *loop, const struct gl_client_options *opts,
		  struct gl_client **out, struct buf *err);
void gl_client_free(struct gl_client *client);
const char *gl_client_base_url(const struct gl_client *client);

/* The X-GitLab-Last-Update value last seen for token, or NULL. */
const char *gl_client_last_update(const struct gl_client *client,
				  const char *token);

/* Which API call an answer belongs to, for metrics. */
enum gl_endpoint {
	GL_EP_OTHER,
	GL_EP_REQUEST_JOB,
	GL_EP_UPDATE_JOB,
	GL_EP_PATCH_TRACE,
	GL_EP_RESET_TOKEN,
};

/*
 * Called for every answer (after the HTTP layer's retries) of a call made
 * through this client, before the call's own callback; status is 0 when
 * no HTTP answer came.  One observer per client; fn NULL removes it.
 */
typedef void (*gl_status_observer)(void *ctx, enum gl_endpoint ep,
				   long status);
void gl_client_observe(struct gl_client *client, gl_status_observer fn,
		       void *ctx);

/* Drops a call before its callback; NULL and finished calls are ignored. */
void gl_call_cancel(struct gl_call *call);

/* ---- runner lifecycle (spec 1.3 to 1.6) ---- */

enum gl_runner_op {
	GL_RUNNER_REGISTER,		/* POST runners, registration token */
	GL_RUNNER_VERIFY,		/* POST runners/verify */
	GL_RUNNER_UNREGISTER,		/* DELETE runners */
	GL_RUNNER_UNREGISTER_MANAGER,	/* DELETE runners/managers */
	GL_RUNNER_RESET_TOKEN,		/* POST runners/reset_authentication_token,
					 * or with private_token the admin
					 * POST runners/:id/reset_... */
};

struct gl_runner_params {
	const char *token;		/* registration or runner token */
	const char *system_id;		/* verify, unregister manager */
	const struct gl_info *info;	/* register, verify; may be NULL */
	/* register only; strings omitted when NULL or "" */
	const char *description;
	const char *maintenance_note;
	const char *tag_list;		/* comma-separated */
	const char *access_level;	/* not_protected, ref_protected */
	long maximum_timeout;		/* omitted when 0 */
	bool run_untagged, locked, paused;
	/* admin token reset */
	const char *private_token;
	int64_t runner_id;
};

struct gl_runner_reply {
	enum gl_result result;		/* GL_OK: the call did what it says */
	long status;
	int64_t id;			/* 0 when not in the answer */
	char *token;			/* secret; may be taken */
	char *token_expires_at;		/* NULL: absent or null; may be taken */
	struct buf message;		/* server or transport error text */
};

#define GL_RUNNER_REPLY_INIT { .message = BUF_INIT }

/* Wipes the token; the struct is GL_RUNNER_REPLY_INIT afterwards. */
void gl_runner_reply_release(struct gl_runner_reply *r);

typedef void (*gl_runner_cb)(struct gl_runner_reply *reply, void *ctx);

/*
 * One lifecycle call.  Verify accepts the old plain-text "200" answer
 * (result GL_OK, id 0, token = the token sent).  A 2xx answer without the
 * expected JSON gives GL_BAD_RESPONSE.
 */
int gl_runner_call(struct gl_client *client, enum gl_runner_op op,
		   const struct gl_runner_params *p, gl_runner_cb cb,
		   void *ctx, struct gl_call **call_out);

/* The same with the loop run here; reply is filled unless < 0 returns. */
int gl_runner_call_sync(const struct gl_client_options *opts,
			enum gl_runner_op op, const struct gl_runner_params *p,
			struct gl_runner_reply *reply, struct buf *err);

/* Short forms of gl_runner_call(). */
int gl_register_runner(struct gl_client *client,
		       const struct gl_runner_params *p, gl_runner_cb cb,
		       void *ctx, struct gl_call **call_out);
int gl_verify_runner(struct gl_client *client,
		     const struct gl_runner_params *p, gl_runner_cb cb,
		     void *ctx, struct gl_call **call_out);
int gl_unregister_runner(struct gl_client *client,
			 const struct gl_runner_params *p, gl_runner_cb cb,
			 void *ctx, struct gl_call **call_out);
int gl_unregister_manager(struct gl_client *client,
			  const struct gl_runner_params *p, gl_runner_cb cb,
			  void *ctx, struct gl_call **call_out);
int gl_reset_token(struct gl_client *client,
		   const struct gl_runner_params *p, gl_runner_cb cb,
		   void *ctx, struct gl_call **call_out);

/* ---- POST jobs/request (spec 2) ---- */

struct gl_session {
	const char *url;
	const char *certificate;
	const char *authorization;
};

struct gl_job_request {
	const struct gl_info *info;
	const char *token;		/* runner token */
	const char *system_id;		/* omitted when NULL or "" */
	const struct gl_session *session;	/* omitted when NULL */
};

enum gl_job_outcome {
	GL_JOB_NONE,		/* 204: nothing to do; healthy */
	GL_JOB_RECEIVED,	/* 201 with a JSON payload */
	GL_JOB_FORBIDDEN,	/* 403: the token is refused; unhealthy */
	GL_JOB_FAILED,		/* anything else: ask again later; healthy */
};

/* A correlation ID longer than this, or with other than [A-Za-z0-9_-], is
 * not taken from GitLab's answer. */
#define GL_CORRELATION_ID_MAX 64

struct gl_job_reply {
	enum gl_job_outcome outcome;
	enum gl_result result;
	long status;
	bool retried;		/* needed more than one attempt (slow down) */
	/* GL_JOB_RECEIVED: the payload text, NUL-terminated; it holds the
	 * job token, so free it with freezero(payload, payload_len).  May be
	 * taken. */
	char *payload;
	size_t payload_len;
	struct buf message;
	/*
	 * GL_JOB_RECEIVED: the request's correlation ID, as gitlab-runner's
	 * JobRequestCorrelationID: GitLab's X-Request-Id answer header, else
	 * the one crunner sent.
	 */
	char correlation_id[GL_CORRELATION_ID_MAX + 1];
	/*
	 * GL_JOB_RECEIVED over https: the PEM of the chain that verified
	 * GitLab on this request (http.h's tls_chain), for the job's
	 * CI_SERVER_TLS_CA_FILE; NULL when none.  Freed after the callback
	 * unless taken.
	 */
	char *tls_ca_chain;
};

typedef void (*gl_job_cb)(struct gl_job_reply *reply, void *ctx);

/*
 * Asks for a job, sending back the last X-GitLab-Last-Update seen for the
 * token.  CR_ERR_TOO_LARGE when the body would pass 32 KiB.
 */
int gl_request_job(struct gl_client *client, const struct gl_job_request *rq,
		   gl_job_cb cb, void *ctx, struct gl_call **call_out);

/* ---- PUT jobs/:id (spec 5) ---- */

enum gl_job_state {
	GL_STATE_PENDING,	/* two-phase keep-alive */
	GL_STATE_RUNNING,
	GL_STATE_SUCCESS,
	GL_STATE_FAILED,
};

struct gl_job_update {
	const struct gl_info *info;
	int64_t job_id;
	const char *token;		/* job token: JOB-TOKEN and body */
	enum gl_job_state state;
	/* GL_STATE_FAILED only, already mapped (failure_reason_map()). */
	const char *failure_reason;
	int exit_code;			/* omitted when 0 */
	const char *checksum;		/* "crc32:..."; omitted when NULL/"" */
	uint64_t bytesize;		/* omitted when 0 */
};

/* spec 5.3, in its order */
enum gl_update_outcome {
	GL_UPDATE_OK,		/* 200 */
	GL_UPDATE_ACCEPTED,	/* 202: send the same update after interval_s */
	GL_UPDATE_TRACE_RESET,	/* 412: resend the trace from 0, then this */
	GL_UPDATE_ABORT,	/* 403, 404, Job-Status canceled/failed, or a
				 * local error: stop the job and updating */
	GL_UPDATE_FAILED,	/* anything else: retry later */
};

struct gl_update_reply {
	enum gl_update_outcome outcome;
	enum gl_result result;
	long status;
	bool cancel_requested;	/* Job-Status: canceling */
	long interval_s;	/* X-GitLab-Trace-Update-Interval; 0: none */
	char job_status[32];	/* Job-Status, "" when absent */
	struct buf message;
};

typedef void (*gl_update_cb)(struct gl_update_reply *reply, void *ctx);

int gl_update_job(struct gl_client *client, const struct gl_job_update *u,
		  gl_update_cb cb, void *ctx, struct gl_call **call_out);

/* ---- PATCH jobs/:id/trace (spec 4) ---- */

struct gl_trace_patch {
	int64_t job_id;
	const char *token;		/* job token */
	uint64_t offset;		/* first byte's position in the trace */
	const char *data;		/* 1 to GL_TRACE_PATCH_LIMIT bytes */
	size_t len;
	bool debug_trace;		/* CI_DEBUG_TRACE / CI_DEBUG_SERVICES */
	/*
	 * data stays unchanged until cb runs or the call is cancelled: it
	 * is sent from there without a copy (gl_http_request.body_borrowed).
	 */
	bool data_stable;
	/*
	 * With from_fd (data NULL): the len bytes are in the file fd from
	 * fd_offset and are sent from there (gl_http_request.body_from_fd);
	 * the caller keeps the fd open and the bytes unchanged until cb runs
	 * or the call is cancelled.
	 */
	bool from_fd;
	int fd;
	uint64_t fd_offset;
};

enum gl_trace_outcome {
	GL_TRACE_OK,		/* 202: stored */
	GL_TRACE_RANGE_MISMATCH,/* 416: resend from offset */
	GL_TRACE_ABORT,		/* 403 or Job-Status canceled/failed */
	GL_TRACE_CANCEL,	/* Job-Status canceling (the data may be
				 * stored: see offset) */
	GL_TRACE_NOT_FOUND,	/* 404: nothing now */
	GL_TRACE_FAILED,	/* anything else: try again next tick */
};

struct gl_trace_reply {
	enum gl_trace_outcome outcome;
	enum gl_result result;
	long status;
	/* What "sent" becomes: offset + len after 202, the server's N from
	 * "Range: 0-N" after 416 (0 if unreadable), else offset unchanged. */
	uint64_t offset;
	/* 416 only: the Range header was there and read (else offset 0
	 * is a guess, as gitlab-runner's). */
	bool range_known;
	long interval_s;	/* X-GitLab-Trace-Update-Interval; 0: none */
	char job_status[32];
	struct buf message;
};

typedef void (*gl_trace_cb)(struct gl_trace_reply *reply, void *ctx);

/* CR_ERR_INVALID for an empty chunk, CR_ERR_TOO_LARGE over 1 MiB. */
int gl_patch_trace(struct gl_client *client, const struct gl_trace_patch *p,
		   gl_trace_cb cb, void *ctx, struct gl_call **call_out);

/* Parses "0-N" (the Range answer header) into N; -1 if malformed. */
int gl_parse_range_end(const char *value, uint64_t *end);

#endif
