/*
 * The HTTP scaffolding the secrets providers share (see secret_call.h).
 */
#include <stdarg.h>
#include <string.h>

#include "secrets/secret_call.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

void secret_call_init(struct secret_call *call, struct gl_http *http,
		      long timeout_ms, secret_done_cb done, void *ctx,
		      void (*free_op)(void *op), void *op)
{
	call->http = http;
	call->req = NULL;
	call->done = done;
	call->ctx = ctx;
	call->timeout_ms = timeout_ms;
	call->free_op = free_op;
	call->op = op;
}

void secret_wipe_headers(struct strvec *headers)
{
	size_t i;

	for (i = 0; i < headers->nr; i++)
		explicit_bzero((char *)headers->v[i], strlen(headers->v[i]));
	strvec_clear(headers);
}

static void send_request(struct secret_call *call, const char *method,
			 const char *url, const struct buf *body,
			 struct strvec *headers, gl_http_cb cb, bool no_retry)
{
	struct gl_http_request req = { 0 };

	req.method = method;
	req.url = url;
	req.headers = headers;
	if (body) {
		req.body = body->data ? body->data : "";
		req.body_len = body->len;
	}
	req.max_response = SECRET_MAX_RESPONSE;
	req.timeout_ms = call->timeout_ms;
	req.no_retry = no_retry;
	call->req = gl_http_start(call->http, &req, cb, call->op);
	secret_wipe_headers(headers);
}

void secret_call_send(struct secret_call *call, const char *method,
		      const char *url, const struct buf *body,
		      struct strvec *headers, gl_http_cb cb)
{
	send_request(call, method, url, body, headers, cb, false);
}

void secret_call_send_once(struct secret_call *call, const char *method,
			   const char *url, const struct buf *body,
			   struct strvec *headers, gl_http_cb cb)
{
	send_request(call, method, url, body, headers, cb, true);
}

void secret_call_stop(struct secret_call *call)
{
	if (call->req)
		gl_http_cancel(call->req);
	call->req = NULL;
}

void secret_call_finish(struct secret_call *call, enum secret_outcome outcome,
			const char *value, const char *error)
{
	secret_done_cb done = call->done;
	void *ctx = call->ctx;

	call->req = NULL;
	call->free_op(call->op);
	done(ctx, outcome, value, error);
}

void secret_call_fail(struct secret_call *call, const char *text)
{
	secret_call_finish(call, SECRET_SYSTEM_ERROR, NULL, text);
}

void secret_call_failf(struct secret_call *call, const char *fmt, ...)
{
	struct buf why = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vaddf(&why, fmt, ap);
	va_end(ap);
	secret_call_fail(call, why.data);
	buf_release(&why);
}

const char *secret_transport_error(const struct gl_http_response *resp,
				   const char *no_answer)
{
	return resp->error.len ? resp->error.data : no_answer;
}

json_t *secret_response_json(const struct gl_http_response *resp)
{
	return json_loadb(resp->body.data ? resp->body.data : "",
			  resp->body.len, 0, NULL);
}

char *secret_json_token(json_t *root, const char *name)
{
	json_t *t = json_is_object(root) ? json_object_get(root, name) : NULL;

	if (!json_is_string(t) || !*json_string_value(t))
		return NULL;
	return xstrdup(json_string_value(t));
}

bool secret_url_is_http(const char *url)
{
	return url && (!strncmp(url, "http://", 7) ||
		       !strncmp(url, "https://", 8));
}

void secret_trim_slashes(struct buf *b)
{
	while (b->len && b->data[b->len - 1] == '/')
		buf_setlen(b, b->len - 1);
}
