/*
 * Runner lifecycle calls (spec 1.3 to 1.6): register, verify, unregister
 * (runner or manager) and token reset, described by one table.
 */
#include <stdlib.h>
#include <string.h>

#include "gitlab/api_internal.h"
#include "gitlab/gl_json.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const struct runner_op_desc {
	const char *method;
	const char *path;
	bool wants_json;	/* a 2xx answer carries {id, token, ...} */
	bool needs_system_id;
} runner_ops[] = {
	[GL_RUNNER_REGISTER] = { "POST", "runners", true, false },
	[GL_RUNNER_VERIFY] = { "POST", "runners/verify", true, false },
	[GL_RUNNER_UNREGISTER] = { "DELETE", "runners", false, false },
	[GL_RUNNER_UNREGISTER_MANAGER] = { "DELETE", "runners/managers", false,
					   true },
	[GL_RUNNER_RESET_TOKEN] = { "POST", "runners/reset_authentication_token",
				    true, false },
};

void gl_runner_reply_release(struct gl_runner_reply *r)
{
	free_secret(r->token);
	free(r->token_expires_at);
	buf_release(&r->message);
	r->token = NULL;
	r->token_expires_at = NULL;
	r->id = 0;
	r->status = 0;
	r->result = GL_OK;
}

static bool is_json(const struct gl_http_response *resp)
{
	const char *ct = gl_http_response_header(resp, "Content-Type");

	return ct && strcasestr(ct, "application/json");
}

/* Reads {id, token, token_expires_at}; false if the body is not that. */
static bool read_token_answer(struct gl_runner_reply *r,
			      const struct gl_http_response *resp)
{
	json_t *j, *v;
	bool ok = false;

	if (!(j = json_loadb(resp->body.data, resp->body.len, 0, NULL)))
		return false;
	if (!json_is_object(j))
		goto out;
	if ((v = json_object_get(j, "id")) && json_is_integer(v))
		r->id = (int64_t)json_integer_value(v);
	if ((v = json_object_get(j, "token")) && json_is_string(v) &&
	    json_string_length(v))
		r->token = xstrdup(json_string_value(v));
	if ((v = json_object_get(j, "token_expires_at")) && json_is_string(v) &&
	    json_string_length(v))
		r->token_expires_at = xstrdup(json_string_value(v));
	ok = r->token != NULL;
out:
	gl_json_wipe_decref(j);
	return ok;
}

static void decode_runner(struct gl_call *call, struct gl_http_response *resp)
{
	struct gl_runner_reply r = GL_RUNNER_REPLY_INIT;

	r.result = resp->result;
	r.status = resp->status;
	if (r.result == GL_OK && runner_ops[call->op].wants_json &&
	    !read_token_answer(&r, resp)) {
		if (call->op == GL_RUNNER_VERIFY && !is_json(resp)) {
			/* Old servers answer a plain "200" (spec 1.4). */
			r.id = 0;
			r.token = xstrdup(call->runner_token);
		} else {
			r.result = GL_BAD_RESPONSE;
			buf_seterr(&r.message, "HTTP %ld: answer is not the expected JSON object with a token",
				   resp->status);
		}
	}
	if (r.result != GL_OK)
		gl_reply_message(&r.message, resp);
	call->cb.runner(&r, call->ctx);
	gl_runner_reply_release(&r);
}

static void build_body(struct buf *b, enum gl_runner_op op,
		       const struct gl_runner_params *p)
{
#define OPT_STR(key, v) \
	do { \
		if ((v) && *(v)) \
			gl_json_str(b, key, v); \
	} while (0)
	gl_json_open(b, NULL);
	gl_json_str(b, "token", p->token);
	switch (op) {
	case GL_RUNNER_REGISTER:
		OPT_STR("description", p->description);
		OPT_STR("maintenance_note", p->maintenance_note);
		OPT_STR("tag_list", p->tag_list);
		gl_json_bool(b, "run_untagged", p->run_untagged);
		gl_json_bool(b, "locked", p->locked);
		OPT_STR("access_level", p->access_level);
		if (p->maximum_timeout)
			gl_json_int(b, "maximum_timeout", p->maximum_timeout);
		gl_json_bool(b, "paused", p->paused);
		if (p->info)
			gl_info_append_json(b, "info", p->info);
		break;
	case GL_RUNNER_VERIFY:
		OPT_STR("system_id", p->system_id);
		if (p->info)
			gl_info_append_json(b, "info", p->info);
		break;
	case GL_RUNNER_UNREGISTER_MANAGER:
		gl_json_str(b, "system_id", p->system_id);
		break;
	case GL_RUNNER_UNREGISTER:
	case GL_RUNNER_RESET_TOKEN:
		break;
	}
	gl_json_close(b);
#undef OPT_STR
}

int gl_runner_call(struct gl_client *client, enum gl_runner_op op,
		   const struct gl_runner_params *p, gl_runner_cb cb,
		   void *ctx, struct gl_call **call_out)
{
	const struct runner_op_desc *d;
	struct gl_http_request req = { 0 };
	struct strvec headers = STRVEC_INIT;
	struct buf body = BUF_INIT, path = BUF_INIT;
	struct gl_call *call;
	bool admin;
	char *url;

	if ((unsigned)op >= sizeof(runner_ops) / sizeof(runner_ops[0]) || !cb)
		return CR_ERR_INVALID;
	d = &runner_ops[op];
	admin = op == GL_RUNNER_RESET_TOKEN && p->private_token &&
		*p->private_token;
	if (admin ? p->runner_id <= 0 : !p->token || !*p->token)
		return CR_ERR_INVALID;
	if (d->needs_system_id && (!p->system_id || !*p->system_id))
		return CR_ERR_INVALID;

	gl_header_add(&headers, "Accept", "application/json");
	if (admin) {
		/* The admin reset authenticates with a PAT and has no body. */
		(void)buf_addf(&path, "runners/%lld/reset_authentication_token",
			       (long long)p->runner_id);
		gl_header_add(&headers, "PRIVATE-TOKEN", p->private_token);
	} else {
		(void)buf_addstr(&path, d->path);
		gl_header_add(&headers, "Content-Type", "application/json");
		gl_header_add(&headers, "RUNNER-TOKEN", p->token);
		build_body(&body, op, p);
		req.body = body.data;
		req.body_len = body.len;
	}
	url = gl_client_url(client, path.data);
	req.method = d->method;
	req.url = url;
	req.headers = &headers;
	req.max_response = CR_MAX_HTTP_BODY;
	req.timeout_ms = GL_API_TIMEOUT_MS;

	call = gl_call_new(client, decode_runner, ctx);
	call->cb.runner = cb;
	call->op = op;
	if (op == GL_RUNNER_RESET_TOKEN)
		call->endpoint = GL_EP_RESET_TOKEN;
	/* Registration tokens are not runner tokens: no Last-Update for them. */
	gl_call_send(call, &req,
		     op == GL_RUNNER_REGISTER || admin ? NULL : p->token,
		     call_out);
	free(url);
	buf_release(&path);
	buf_release_secret(&body);
	gl_headers_clear(&headers);
	return 0;
}

int gl_register_runner(struct gl_client *client,
		       const struct gl_runner_params *p, gl_runner_cb cb,
		       void *ctx, struct gl_call **call_out)
{
	return gl_runner_call(client, GL_RUNNER_REGISTER, p, cb, ctx, call_out);
}

int gl_verify_runner(struct gl_client *client,
		     const struct gl_runner_params *p, gl_runner_cb cb,
		     void *ctx, struct gl_call **call_out)
{
	return gl_runner_call(client, GL_RUNNER_VERIFY, p, cb, ctx, call_out);
}

int gl_unregister_runner(struct gl_client *client,
			 const struct gl_runner_params *p, gl_runner_cb cb,
			 void *ctx, struct gl_call **call_out)
{
	return gl_runner_call(client, GL_RUNNER_UNREGISTER, p, cb, ctx,
			      call_out);
}

int gl_unregister_manager(struct gl_client *client,
			  const struct gl_runner_params *p, gl_runner_cb cb,
			  void *ctx, struct gl_call **call_out)
{
	return gl_runner_call(client, GL_RUNNER_UNREGISTER_MANAGER, p, cb, ctx,
			      call_out);
}

int gl_reset_token(struct gl_client *client,
		   const struct gl_runner_params *p, gl_runner_cb cb,
		   void *ctx, struct gl_call **call_out)
{
	return gl_runner_call(client, GL_RUNNER_RESET_TOKEN, p, cb, ctx,
			      call_out);
}

struct sync_runner {
	struct gl_runner_reply *out;
	bool done;
};

static void sync_runner_done(struct gl_runner_reply *reply, void *ctx)
{
	struct sync_runner *st = ctx;

	gl_runner_reply_release(st->out);
	*st->out = *reply;
	reply->token = NULL;
	reply->token_expires_at = NULL;
	buf_init(&reply->message, 0);
	st->done = true;
}

int gl_runner_call_sync(const struct gl_client_options *opts,
			enum gl_runner_op op, const struct gl_runner_params *p,
			struct gl_runner_reply *reply, struct buf *err)
{
	struct sync_runner st = { reply, false };
	struct gl_client *client = NULL;
	struct loop *loop = loop_new();
	int r;

	if ((r = gl_client_new(loop, opts, &client, err)) != 0)
		goto out;
	if ((r = gl_runner_call(client, op, p, sync_runner_done, &st,
				NULL)) != 0) {
		buf_seterr(err, "cannot call the coordinator: missing token, system ID or runner ID");
		goto out;
	}
	while (!st.done) {
		if ((r = loop_run_once(loop, 1000)) != 0) {
			buf_seterr(err, "event loop failed while waiting for '%s'",
				   gl_client_base_url(client));
			goto out;
		}
	}
	r = 0;
out:
	gl_client_free(client);
	loop_free(loop);
	return r;
}
