#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gitlab/api_internal.h"
#include "gitlab/gl_json.h"
#include "gitlab/identity.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "version.h"
#include "util/banned.h"

/* A Last-Update value is 32 hex characters; refuse anything silly. */
#define GL_LAST_UPDATE_MAX 128
/* One entry per runner token: more than any config has runners. */
#define GL_LAST_UPDATE_ENTRIES 4096

struct last_update {
	char *token;	/* secret */
	char *value;
};

struct gl_client {
	struct loop *loop;
	struct gl_http *http;
	char *base;
	struct last_update *lu;
	size_t nr_lu;
	struct gl_call *calls;
	gl_status_observer observer;
	void *observer_ctx;
};

/* ---- features and info ---- */

#define F(name) { #name, offsetof(struct gl_features, name) }
static const struct {
	const char *key;
	size_t off;
} feature_keys[] = {
	/* Wire order of gitlab-runner's FeaturesInfo (spec 1.8). */
	F(variables), F(image), F(services), F(artifacts), F(cache),
	F(fallback_cache_keys), F(shared), F(upload_multiple_artifacts),
	F(upload_raw_artifacts), F(session), F(terminal), F(refspecs),
	F(masking), F(proxy), F(raw_variables), F(artifacts_exclude),
	F(multi_build_steps), F(trace_reset), F(trace_checksum),
	F(trace_size), F(vault_secrets), F(cancelable), F(return_exit_code),
	F(service_variables), F(service_multiple_aliases),
	F(image_executor_opts), F(service_executor_opts),
	F(cancel_gracefully), F(native_steps_integration),
	F(two_phase_job_commit), F(job_inputs),
};
#undef F

void gl_features_each(const struct gl_features *f,
		      void (*fn)(const char *key, bool value, void *ctx),
		      void *ctx)
{
	size_t i;

	for (i = 0; i < sizeof(feature_keys) / sizeof(feature_keys[0]); i++) {
		bool v;

		memcpy(&v, (const char *)f + feature_keys[i].off, sizeof(v));
		fn(feature_keys[i].key, v, ctx);
	}
}

void gl_features_set_network(struct gl_features *f)
{
	f->trace_reset = true;
	f->trace_checksum = true;
	f->trace_size = true;
	f->cancelable = true;
	f->cancel_gracefully = true;
	f->two_phase_job_commit = true;
}

static void add_feature(const char *key, bool value, void *ctx)
{
	gl_json_bool(ctx, key, value);
}

void gl_info_append_json(struct buf *out, const char *key,
			 const struct gl_info *info)
{
	char arch[GL_ARCH_MAX];
	size_t i;

	gl_json_open(out, key);
	gl_json_str(out, "name", "crunner");
	gl_json_str(out, "version", CR_VERSION);
	gl_json_str(out, "revision", CR_GIT_REVISION);
	gl_json_str(out, "platform", "linux");
	gl_json_str(out, "architecture", gl_identity_arch(arch));
	if (info->executor && *info->executor)
		gl_json_str(out, "executor", info->executor);
	if (info->shell && *info->shell)
		gl_json_str(out, "shell", info->shell);
	gl_json_open(out, "features");
	gl_features_each(&info->features, add_feature, out);
	gl_json_close(out);
	gl_json_open(out, "config");
	gl_json_str(out, "gpus", info->gpus ? info->gpus : "");
	gl_json_close(out);
	if (info->nr_labels) {
		gl_json_open(out, "labels");
		for (i = 0; i < info->nr_labels; i++)
			gl_json_str(out, info->labels[2 * i],
				    info->labels[2 * i + 1]);
		gl_json_close(out);
	}
	gl_json_close(out);
}

/* ---- the client ---- */

int gl_base_url(const char *url, struct buf *out, struct buf *err)
{
	const char *host;
	size_t len;

	if (!url || !*url) {
		buf_seterr(err, "coordinator URL is empty");
		return CR_ERR_INVALID;
	}
	if (!strncasecmp(url, "https://", 8))
		host = url + 8;
	else if (!strncasecmp(url, "http://", 7))
		host = url + 7;
	else {
		buf_seterr(err, "coordinator URL '%s' must start with http:// or https://",
			   url);
		return CR_ERR_INVALID;
	}
	if (!*host || *host == '/' || strpbrk(url, " \t\r\n")) {
		buf_seterr(err, "coordinator URL '%s' has no valid host", url);
		return CR_ERR_INVALID;
	}
	len = strlen(url);
	while (len && url[len - 1] == '/')
		len--;
	if (len >= 3 && !memcmp(url + len - 3, "/ci", 3) &&
	    url + len - 3 >= host)
		len -= 3;
	if ((size_t)(host - url) >= len) {
		buf_seterr(err, "coordinator URL '%s' has no valid host", url);
		return CR_ERR_INVALID;
	}
	(void)buf_add(out, url, len);
	(void)buf_addstr(out, "/api/v4/");
	return 0;
}

int gl_client_new(struct loop *loop, const struct gl_client_options *opts,
		  struct gl_client **out, struct buf *err)
{
	struct buf base = BUF_INIT;
	struct gl_client *c;
	int r;

	*out = NULL;
	if ((r = gl_base_url(opts->url, &base, err)) != 0) {
		buf_release(&base);
		return r;
	}
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->base = buf_detach(&base, NULL);
	c->http = gl_http_new(loop, &opts->http);
	*out = c;
	return 0;
}

void gl_client_free(struct gl_client *c)
{
	size_t i;

	if (!c)
		return;
	while (c->calls)
		gl_call_cancel(c->calls);
	gl_http_free(c->http);
	for (i = 0; i < c->nr_lu; i++) {
		free_secret(c->lu[i].token);
		free(c->lu[i].value);
	}
	free(c->lu);
	free(c->base);
	free(c);
}

const char *gl_client_base_url(const struct gl_client *c)
{
	return c->base;
}

struct loop *gl_client_loop(const struct gl_client *c)
{
	return c->loop;
}

struct gl_http *gl_client_http(const struct gl_client *c)
{
	return c->http;
}

char *gl_client_url(const struct gl_client *c, const char *path)
{
	struct buf b = BUF_INIT;

	(void)buf_addstr(&b, c->base);
	(void)buf_addstr(&b, path);
	return buf_detach(&b, NULL);
}

const char *gl_client_last_update(const struct gl_client *c,
				  const char *token)
{
	size_t i;

	if (!token)
		return NULL;
	for (i = 0; i < c->nr_lu; i++)
		if (!strcmp(c->lu[i].token, token))
			return c->lu[i].value;
	return NULL;
}

static void remember_last_update(struct gl_client *c, const char *token,
				 const char *value)
{
	size_t i, len = strlen(value);

	if (!len || len > GL_LAST_UPDATE_MAX)
		return;
	for (i = 0; i < c->nr_lu; i++) {
		if (!strcmp(c->lu[i].token, token)) {
			free(c->lu[i].value);
			c->lu[i].value = xstrdup(value);
			return;
		}
	}
	if (c->nr_lu >= GL_LAST_UPDATE_ENTRIES)
		return;
	c->lu = xreallocarray(c->lu, c->nr_lu + 1, sizeof(*c->lu));
	c->lu[c->nr_lu].token = xstrdup(token);
	c->lu[c->nr_lu].value = xstrdup(value);
	c->nr_lu++;
}

void gl_client_observe(struct gl_client *c, gl_status_observer fn, void *ctx)
{
	c->observer = fn;
	c->observer_ctx = ctx;
}

/* ---- calls ---- */

struct gl_call *gl_call_new(struct gl_client *c, gl_call_decode decode,
			    void *ctx)
{
	struct gl_call *call = xcalloc(1, sizeof(*call));

	call->client = c;
	call->decode = decode;
	call->ctx = ctx;
	return call;
}

static void call_unlink(struct gl_call *call)
{
	struct gl_client *c = call->client;

	if (call->prev)
		call->prev->next = call->next;
	else if (c->calls == call)
		c->calls = call->next;
	if (call->next)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
}

void gl_call_discard(struct gl_call *call)
{
	if (!call)
		return;
	free_secret(call->runner_token);
	free(call);
}

static void on_http_done(struct gl_http_response *resp, void *ctx)
{
	struct gl_call *call = ctx;
	const char *lu;

	call->req = NULL;	/* freed by the HTTP layer after this */
	if (call->runner_token &&
	    (lu = gl_http_response_header(resp, "X-GitLab-Last-Update")))
		remember_last_update(call->client, call->runner_token, lu);
	call_unlink(call);
	call->completing = true;
	if (call->client->observer)
		call->client->observer(call->client->observer_ctx,
				       call->endpoint, resp->status);
	call->decode(call, resp);
	gl_call_discard(call);
}

void gl_call_send(struct gl_call *call, const struct gl_http_request *req,
		  const char *runner_token, struct gl_call **call_out)
{
	struct gl_client *c = call->client;

	if (runner_token)
		call->runner_token = xstrdup(runner_token);
	call->next = c->calls;
	if (c->calls)
		c->calls->prev = call;
	c->calls = call;
	if (call_out)
		*call_out = call;
	call->req = gl_http_start(c->http, req, on_http_done, call);
}

void gl_call_cancel(struct gl_call *call)
{
	if (!call || call->completing)
		return;
	gl_http_cancel(call->req);
	call_unlink(call);
	gl_call_discard(call);
}

/* ---- helpers for the decoders ---- */

void gl_header_add(struct strvec *headers, const char *name,
		   const char *value)
{
	strvec_pushf(headers, "%s: %s", name, value);
}

void gl_headers_clear(struct strvec *headers)
{
	size_t i;

	for (i = 0; i < headers->nr; i++)
		explicit_bzero((char *)headers->v[i], strlen(headers->v[i]));
	strvec_clear(headers);
}

void gl_copy_job_status(const struct gl_http_response *resp, char *out,
			size_t size)
{
	const char *v = gl_http_response_header(resp, "Job-Status");
	size_t n = v ? strnlen(v, size - 1) : 0;

	memcpy(out, v ? v : "", n);
	out[n] = '\0';
}

long gl_update_interval(const struct gl_http_response *resp)
{
	const char *v = gl_http_response_header(resp,
						"X-GitLab-Trace-Update-Interval");
	char *end;
	long n;

	if (!v || *v < '0' || *v > '9')
		return 0;
	n = strtol(v, &end, 10);
	/* Non-integers ("1.5") are treated as absent (spec 5.2). */
	if (*end || n <= 0 || n > 24L * 3600)
		return 0;
	return n;
}

void gl_reply_message(struct buf *message, const struct gl_http_response *resp)
{
	if (message->len)
		return;	/* keep the first explanation */
	if (resp->status == 0 || resp->error.len) {
		(void)buf_add(message, resp->error.data, resp->error.len);
		return;
	}
	(void)buf_addf(message, "HTTP %ld", resp->status);
	if (resp->result != GL_OK && resp->body.len) {
		(void)buf_addstr(message, ": ");
		gl_json_error_message(message, resp->body.data, resp->body.len);
	}
}
