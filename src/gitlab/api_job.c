/*
 * Job calls: POST jobs/request (spec 2), PUT jobs/:id (spec 5) and
 * PATCH jobs/:id/trace (spec 4), each with its answer classification.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gitlab/api_internal.h"
#include "gitlab/gl_json.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* PUT and PATCH answers are a status text; keep a little for logs. */
#define GL_SMALL_ANSWER ((size_t)16 << 10)

static bool header_is(const struct gl_http_response *resp, const char *name,
		      const char *prefix)
{
	const char *v = gl_http_response_header(resp, name);

	return v && !strncasecmp(v, prefix, strlen(prefix));
}

static bool job_status_is(const char *status, const char *want)
{
	return !strcmp(status, want);
}

/* ---- POST jobs/request ---- */

/* GitLab's X-Request-Id when it is a plain token, else the one we sent. */
static void copy_correlation_id(const struct gl_http_response *resp,
				char out[GL_CORRELATION_ID_MAX + 1])
{
	const char *id = gl_http_response_header(resp, "X-Request-Id");
	size_t n = id ? strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			       "abcdefghijklmnopqrstuvwxyz0123456789_-") : 0;

	if (!id || !n || id[n] || n > GL_CORRELATION_ID_MAX)
		id = resp->request_id;
	snprintf(out, GL_CORRELATION_ID_MAX + 1, "%s", id);
}

static void decode_job(struct gl_call *call, struct gl_http_response *resp)
{
	struct gl_job_reply r = { .message = BUF_INIT };

	r.result = resp->result;
	r.status = resp->status;
	r.retried = resp->attempts > 1;
	if (resp->status == 201 && resp->result == GL_OK &&
	    header_is(resp, "Content-Type", "application/json")) {
		r.outcome = GL_JOB_RECEIVED;
		r.payload = buf_detach(&resp->body, &r.payload_len);
		copy_correlation_id(resp, r.correlation_id);
		if (resp->tls_chain.len)
			r.tls_ca_chain = buf_detach(&resp->tls_chain, NULL);
	} else if (resp->status == 204) {
		r.outcome = GL_JOB_NONE;
	} else if (resp->status == 403) {
		r.outcome = GL_JOB_FORBIDDEN;
	} else {
		r.outcome = GL_JOB_FAILED;
		if (r.result == GL_OK) {
			/* A job we cannot read is lost until it times out. */
			const char *ct = gl_http_response_header(resp,
								 "Content-Type");

			r.result = GL_BAD_RESPONSE;
			buf_seterr(&r.message, "HTTP %ld with Content-Type '%s' instead of a JSON job",
				   resp->status, ct ? ct : "");
		}
	}
	if (r.outcome != GL_JOB_RECEIVED && r.outcome != GL_JOB_NONE)
		gl_reply_message(&r.message, resp);
	call->cb.job(&r, call->ctx);
	freezero(r.payload, r.payload_len);
	free(r.tls_ca_chain);
	buf_release(&r.message);
}

int gl_request_job(struct gl_client *client, const struct gl_job_request *rq,
		   gl_job_cb cb, void *ctx, struct gl_call **call_out)
{
	struct gl_http_request req = { 0 };
	struct strvec headers = STRVEC_INIT;
	struct buf body = BUF_INIT;
	struct gl_call *call;
	const char *lu;
	char *url;

	if (!rq->token || !*rq->token || !rq->info || !cb)
		return CR_ERR_INVALID;
	gl_json_open(&body, NULL);
	gl_info_append_json(&body, "info", rq->info);
	gl_json_str(&body, "token", rq->token);
	if (rq->system_id && *rq->system_id)
		gl_json_str(&body, "system_id", rq->system_id);
	if ((lu = gl_client_last_update(client, rq->token)))
		gl_json_str(&body, "last_update", lu);
	if (rq->session) {
		gl_json_open(&body, "session");
		gl_json_str(&body, "url", rq->session->url);
		gl_json_str(&body, "certificate", rq->session->certificate);
		gl_json_str(&body, "authorization", rq->session->authorization);
		gl_json_close(&body);
	}
	gl_json_close(&body);
	if (body.len > GL_MAX_JOB_REQUEST_BODY) {
		buf_release_secret(&body);
		return CR_ERR_TOO_LARGE;
	}
	gl_header_add(&headers, "Content-Type", "application/json");
	gl_header_add(&headers, "Accept", "application/json");
	gl_header_add(&headers, "RUNNER-TOKEN", rq->token);
	url = gl_client_url(client, "jobs/request");
	req.method = "POST";
	req.url = url;
	req.headers = &headers;
	req.body = body.data;
	req.body_len = body.len;
	req.max_response = CR_MAX_PAYLOAD;
	req.timeout_ms = GL_JOB_REQUEST_TIMEOUT_MS;
	req.lean_ok = true;	/* the idle poll: no libcurl for it */
	req.want_tls_chain = true;	/* CI_SERVER_TLS_CA_FILE */

	call = gl_call_new(client, decode_job, ctx);
	call->cb.job = cb;
	call->endpoint = GL_EP_REQUEST_JOB;
	gl_call_send(call, &req, rq->token, call_out);
	free(url);
	buf_release_secret(&body);
	gl_headers_clear(&headers);
	return 0;
}

/* ---- PUT jobs/:id ---- */

static const char *const state_names[] = {
	[GL_STATE_PENDING] = "pending",
	[GL_STATE_RUNNING] = "running",
	[GL_STATE_SUCCESS] = "success",
	[GL_STATE_FAILED] = "failed",
};

static void decode_update(struct gl_call *call, struct gl_http_response *resp)
{
	struct gl_update_reply r = { .message = BUF_INIT };

	r.result = resp->result;
	r.status = resp->status;
	r.interval_s = gl_update_interval(resp);
	gl_copy_job_status(resp, r.job_status, sizeof(r.job_status));
	r.cancel_requested = job_status_is(r.job_status, "canceling");
	/* The order of spec 5.3. */
	if (job_status_is(r.job_status, "canceled") ||
	    job_status_is(r.job_status, "failed") || resp->status == 403)
		r.outcome = GL_UPDATE_ABORT;
	else if (resp->status == 200)
		r.outcome = GL_UPDATE_OK;
	else if (resp->status == 202)
		r.outcome = GL_UPDATE_ACCEPTED;
	else if (resp->status == 412)
		r.outcome = GL_UPDATE_TRACE_RESET;
	else if (resp->status == 404 || resp->result == GL_ERROR)
		r.outcome = GL_UPDATE_ABORT;
	else
		r.outcome = GL_UPDATE_FAILED;
	if (r.outcome != GL_UPDATE_OK && r.outcome != GL_UPDATE_ACCEPTED)
		gl_reply_message(&r.message, resp);
	call->cb.update(&r, call->ctx);
	buf_release(&r.message);
}

int gl_update_job(struct gl_client *client, const struct gl_job_update *u,
		  gl_update_cb cb, void *ctx, struct gl_call **call_out)
{
	struct gl_http_request req = { 0 };
	struct strvec headers = STRVEC_INIT;
	struct buf body = BUF_INIT;
	struct gl_call *call;
	bool has_checksum = u->checksum && *u->checksum;
	char path[64];
	char *url;

	if (!u->token || !*u->token || !u->info || !cb || u->job_id <= 0 ||
	    (unsigned)u->state > GL_STATE_FAILED)
		return CR_ERR_INVALID;
	gl_json_open(&body, NULL);
	gl_info_append_json(&body, "info", u->info);
	gl_json_str(&body, "token", u->token);
	gl_json_str(&body, "state", state_names[u->state]);
	if (u->state == GL_STATE_FAILED && u->failure_reason &&
	    *u->failure_reason)
		gl_json_str(&body, "failure_reason", u->failure_reason);
	if (has_checksum)
		gl_json_str(&body, "checksum", u->checksum);
	/* Both keys omitted when empty: the first PUT sends "output": {}. */
	gl_json_open(&body, "output");
	if (has_checksum)
		gl_json_str(&body, "checksum", u->checksum);
	if (u->bytesize)
		gl_json_int(&body, "bytesize", (int64_t)u->bytesize);
	gl_json_close(&body);
	if (u->exit_code)
		gl_json_int(&body, "exit_code", u->exit_code);
	gl_json_close(&body);

	gl_header_add(&headers, "Content-Type", "application/json");
	gl_header_add(&headers, "JOB-TOKEN", u->token);
	snprintf(path, sizeof(path), "jobs/%lld", (long long)u->job_id);
	url = gl_client_url(client, path);
	req.method = "PUT";
	req.url = url;
	req.headers = &headers;
	req.body = body.data;
	req.body_len = body.len;
	req.max_response = GL_SMALL_ANSWER;
	req.truncate_response = true;
	req.timeout_ms = GL_API_TIMEOUT_MS;

	call = gl_call_new(client, decode_update, ctx);
	call->cb.update = cb;
	call->endpoint = GL_EP_UPDATE_JOB;
	gl_call_send(call, &req, NULL, call_out);
	free(url);
	buf_release_secret(&body);
	gl_headers_clear(&headers);
	return 0;
}

/* ---- PATCH jobs/:id/trace ---- */

int gl_parse_range_end(const char *value, uint64_t *end)
{
	const char *p = value;
	uint64_t n = 0;
	bool digits = false;

	if (!p)
		return -1;
	while (*p == ' ')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits = true;
	if (!digits || *p++ != '-')
		return -1;
	digits = false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
		digits = true;
	}
	while (*p == ' ')
		p++;
	if (!digits || *p)
		return -1;
	*end = n;
	return 0;
}

static void decode_trace(struct gl_call *call, struct gl_http_response *resp)
{
	struct gl_trace_reply r = { .message = BUF_INIT };
	uint64_t n;

	r.result = resp->result;
	r.status = resp->status;
	r.interval_s = gl_update_interval(resp);
	gl_copy_job_status(resp, r.job_status, sizeof(r.job_status));
	r.offset = call->offset;
	if (resp->status == 202)
		r.offset = call->offset + call->len;
	else if (resp->status == 416) {
		/* "Range: 0-N" means N bytes are stored: N is the next offset. */
		r.range_known = gl_parse_range_end(
			gl_http_response_header(resp, "Range"), &n) == 0;
		r.offset = r.range_known ? n : 0;
	}
	if (resp->status == 403 || job_status_is(r.job_status, "canceled") ||
	    job_status_is(r.job_status, "failed"))
		r.outcome = GL_TRACE_ABORT;
	else if (job_status_is(r.job_status, "canceling"))
		r.outcome = GL_TRACE_CANCEL;
	else if (resp->status == 202)
		r.outcome = GL_TRACE_OK;
	else if (resp->status == 416)
		r.outcome = GL_TRACE_RANGE_MISMATCH;
	else if (resp->status == 404)
		r.outcome = GL_TRACE_NOT_FOUND;
	else
		r.outcome = GL_TRACE_FAILED;
	if (r.outcome != GL_TRACE_OK)
		gl_reply_message(&r.message, resp);
	call->cb.trace(&r, call->ctx);
	buf_release(&r.message);
}

int gl_patch_trace(struct gl_client *client, const struct gl_trace_patch *p,
		   gl_trace_cb cb, void *ctx, struct gl_call **call_out)
{
	struct gl_http_request req = { 0 };
	struct strvec headers = STRVEC_INIT;
	struct gl_call *call;
	char path[96], range[64];
	char *url;

	if (!p->token || !*p->token || !cb || p->job_id <= 0 ||
	    (!p->data && !p->from_fd) || !p->len)
		return CR_ERR_INVALID;
	if (p->len > GL_TRACE_PATCH_LIMIT)
		return CR_ERR_TOO_LARGE;
	gl_header_add(&headers, "Content-Type", "text/plain");
	gl_header_add(&headers, "JOB-TOKEN", p->token);
	/* The end is inclusive: start + length - 1 (spec 4.1). */
	snprintf(range, sizeof(range), "%llu-%llu",
		 (unsigned long long)p->offset,
		 (unsigned long long)(p->offset + p->len - 1));
	gl_header_add(&headers, "Content-Range", range);
	snprintf(path, sizeof(path), "jobs/%lld/trace?debug_trace=%s",
		 (long long)p->job_id, p->debug_trace ? "true" : "false");
	url = gl_client_url(client, path);
	req.method = "PATCH";
	req.url = url;
	req.headers = &headers;
	req.body = p->data;
	req.body_len = p->len;
	req.body_borrowed = p->data_stable;
	if (p->from_fd) {
		req.body = NULL;
		req.body_from_fd = true;
		req.body_fd = p->fd;
		req.body_offset = p->fd_offset;
	}
	req.max_response = GL_SMALL_ANSWER;
	req.truncate_response = true;
	req.timeout_ms = GL_API_TIMEOUT_MS;

	call = gl_call_new(client, decode_trace, ctx);
	call->cb.trace = cb;
	call->endpoint = GL_EP_PATCH_TRACE;
	call->offset = p->offset;
	call->len = p->len;
	gl_call_send(call, &req, NULL, call_out);
	free(url);
	gl_headers_clear(&headers);
	return 0;
}
