/*
 * Artifacts to and from the coordinator (spec 6.1, 6.3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitlab/api.h"
#include "gitlab/api_internal.h"
#include "gitlab/artifact_store.h"
#include "gitlab/payload.h"
#include "gitlab/range_download.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Redirects followed for one download (object storage answers one). */
#define MAX_REDIRECTS 5
/* FF_USE_PARALLEL_ARTIFACT_TRANSFER's fixed sizes (network/gitlab.go). */
#define ARTIFACT_PARALLEL_CHUNK RANGE_DEFAULT_CHUNK
#define ARTIFACT_PARALLEL_CONCURRENCY RANGE_DEFAULT_CONCURRENCY
/* What a download read in parallel answers in the log. */
#define PARALLEL_STATUS "206 Partial Content"

struct gl_artifact_store {
	struct gl_client *client;
	int64_t job_id;
	char *token;
	struct job_store_op *ops;	/* calls under way */
};

struct job_store_op {
	struct gl_artifact_store *store;
	struct job_store_op *prev, *next;
	struct gl_call *call;
	job_store_cb cb;
	void *cb_ctx;
	char *dest;		/* downloads */
	unsigned redirects;
	/* Downloads: the first redirect's object may be read in parallel
	 * (JOB_STORE_PARALLEL); location is then its URL while the probe or
	 * the chunks are under way. */
	bool parallel;
	char *location;
	struct range_probe_req *probe;
	struct range_dl *range;
	/* Uploads: what a 307 sends again, to the Location's host. */
	char *path;		/* "/api/v4/jobs/1/artifacts?..." */
	char *archive;
	char *filename;
	long timeout_ms;	/* 0: GL_ARTIFACT_TIMEOUT_MS */
	long header_timeout_ms;	/* 0: none */
};

static void op_unlink_free(struct job_store_op *op)
{
	struct gl_artifact_store *s = op->store;

	if (op->prev)
		op->prev->next = op->next;
	else
		s->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	free(op->dest);
	free(op->location);
	free(op->path);
	free(op->archive);
	free(op->filename);
	free(op);
}

static struct job_store_op *op_new(struct gl_artifact_store *s,
				   job_store_cb cb, void *cb_ctx)
{
	struct job_store_op *op = xcalloc(1, sizeof(*op));

	op->store = s;
	op->cb = cb;
	op->cb_ctx = cb_ctx;
	op->next = s->ops;
	if (s->ops)
		s->ops->prev = op;
	s->ops = op;
	return op;
}

void gl_artifact_status_text(long status, char *out, size_t size)
{
	static const struct { long code; const char *text; } names[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 301, "Moved Permanently" }, { 302, "Found" },
		{ 307, "Temporary Redirect" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 413, "Request Entity Too Large" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Server Error" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
	};
	size_t i;

	if (!status) {
		snprintf(out, size, "no answer");
		return;
	}
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].code == status) {
			snprintf(out, size, "%ld %s", status, names[i].text);
			return;
		}
	}
	snprintf(out, size, "%ld", status);
}

enum job_store_result gl_artifact_classify(const struct gl_http_response *resp)
{
	if (resp->result == GL_OK)
		return JOB_STORE_OK;
	if (resp->status == 413)
		return JOB_STORE_TOO_LARGE;
	if (resp->status == 404)
		return JOB_STORE_NOT_FOUND;
	if (resp->status == 401 || resp->status == 403)
		return JOB_STORE_DENIED;
	if (resp->result == GL_RETRY || resp->result == GL_RATE_LIMITED)
		return JOB_STORE_TRANSIENT;
	return JOB_STORE_FAILED;
}

static void report(struct job_store_op *op, struct gl_http_response *resp)
{
	struct buf detail = BUF_INIT;
	enum job_store_result r = gl_artifact_classify(resp);
	job_store_cb cb = op->cb;
	void *cb_ctx = op->cb_ctx;
	char status[64];

	gl_artifact_status_text(resp->status, status, sizeof(status));
	if (r != JOB_STORE_OK)
		gl_reply_message(&detail, resp);
	op->call = NULL;
	op_unlink_free(op);
	cb(cb_ctx, r, status, detail.data);
	buf_release(&detail);
}

/* Appends "&key=value" (or "?..." first) with value query-escaped. */
static void add_query(struct buf *url, const char *key, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	if (!value || !*value)
		return;
	(void)buf_addf(url, "%c%s=", strchr(url->data, '?') ? '&' : '?', key);
	for (p = (const unsigned char *)value; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-_.~", *p)) {
			(void)buf_addch(url, (char)*p);
		} else if (*p == ' ') {
			(void)buf_addch(url, '+');
		} else {
			(void)buf_addch(url, '%');
			(void)buf_addch(url, hex[*p >> 4]);
			(void)buf_addch(url, hex[*p & 15]);
		}
	}
}

void gl_artifact_upload_path(struct buf *path, int64_t job_id,
			     const struct job_store_upload *u)
{
	(void)buf_addf(path, "jobs/%lld/artifacts", (long long)job_id);
	add_query(path, "artifact_format", u->format);
	add_query(path, "artifact_type", u->type);
	add_query(path, "expire_in", u->expire_in);
}

void gl_artifact_download_path(struct buf *path, int64_t dep_id, bool direct)
{
	(void)buf_addf(path, "jobs/%lld/artifacts", (long long)dep_id);
	if (direct)
		(void)buf_addstr(path, "?direct_download=true");
}

/* ---- upload ---- */

static void send_upload(struct job_store_op *op, const char *url);

size_t gl_artifact_url_origin_len(const char *url)
{
	const char *p = strstr(url, "://");

	if (!p)
		return 0;
	p = strpbrk(p + 3, "/?#");
	return p ? (size_t)(p - url) : strlen(url);
}

bool gl_artifact_upload_redirect(const struct gl_http_response *resp,
				 const char *path, struct buf *url)
{
	const char *location = gl_http_response_header(resp, "Location");
	size_t origin;

	/* Spec 6.1, as the Go runner: a 307 names another host for the same
	 * API; the upload goes there again, whole. */
	if (resp->status != 307 || !location ||
	    !(origin = gl_artifact_url_origin_len(location)))
		return false;
	(void)buf_add(url, location, origin);
	(void)buf_addstr(url, path);
	return true;
}

static void on_uploaded(struct gl_call *call, struct gl_http_response *resp)
{
	struct job_store_op *op = call->ctx;
	struct buf url = BUF_INIT;

	if (op->redirects < MAX_REDIRECTS &&
	    gl_artifact_upload_redirect(resp, op->path, &url)) {
		op->redirects++;
		send_upload(op, url.data);
		buf_release(&url);
		return;
	}
	report(op, resp);
}

void gl_artifact_upload_request(struct gl_http_request *req,
				struct strvec *headers, const char *url,
				const char *token, const char *archive,
				const char *filename, long timeout_ms,
				long header_timeout_ms)
{
	memset(req, 0, sizeof(*req));
	gl_header_add(headers, "JOB-TOKEN", token);
	req->method = "POST";
	req->url = url;
	req->headers = headers;
	req->timeout_ms = timeout_ms > 0 ? timeout_ms : GL_ARTIFACT_TIMEOUT_MS;
	req->response_header_timeout_ms = header_timeout_ms;
	req->upload_file = archive;
	req->upload_field = "file";
	req->upload_filename = filename;
}

static void send_upload(struct job_store_op *op, const char *url)
{
	struct gl_http_request req;
	struct strvec headers = STRVEC_INIT;

	gl_artifact_upload_request(&req, &headers, url, op->store->token,
				   op->archive, op->filename, op->timeout_ms,
				   op->header_timeout_ms);
	gl_call_send(gl_call_new(op->store->client, on_uploaded, op), &req,
		     NULL, &op->call);
	gl_headers_clear(&headers);
}

static struct job_store_op *store_upload(void *ctx,
					 const struct job_store_upload *u,
					 job_store_cb cb, void *cb_ctx)
{
	struct gl_artifact_store *s = ctx;
	struct job_store_op *op = op_new(s, cb, cb_ctx);
	struct buf path = BUF_INIT;
	size_t origin;
	char *url;

	gl_artifact_upload_path(&path, s->job_id, u);
	url = gl_client_url(s->client, path.data);
	origin = gl_artifact_url_origin_len(url);
	op->path = xstrdup(url + origin);
	op->archive = xstrdup(u->archive_path);
	op->filename = xstrdup(u->filename ? u->filename : "");
	op->timeout_ms = u->timeout_ms;
	op->header_timeout_ms = u->header_timeout_ms;
	send_upload(op, url);
	free(url);
	buf_release(&path);
	return op;
}

/* ---- download ---- */

bool gl_artifact_download_redirects(const struct gl_http_response *resp)
{
	const char *location = gl_http_response_header(resp, "Location");

	return (resp->status == 301 || resp->status == 302 ||
		resp->status == 303 || resp->status == 307 ||
		resp->status == 308) && location && *location;
}

char *gl_artifact_redirect_url(const char *base, const char *location)
{
	const char *slash;
	struct buf b = BUF_INIT;

	if (location[0] != '/')
		return xstrdup(location);
	/* Same host: the base URL's scheme and authority. */
	slash = strstr(base, "://");
	slash = slash ? strchr(slash + 3, '/') : NULL;
	(void)buf_add(&b, base, slash ? (size_t)(slash - base) : strlen(base));
	(void)buf_addstr(&b, location);
	return buf_detach(&b, NULL);
}

void gl_artifact_download_request(struct gl_http_request *req,
				  struct strvec *headers, const char *url,
				  const char *token, const char *dest)
{
	memset(req, 0, sizeof(*req));
	if (token)
		gl_header_add(headers, "JOB-TOKEN", token);
	req->method = "GET";
	req->url = url;
	req->headers = headers;
	req->timeout_ms = GL_ARTIFACT_TIMEOUT_MS;
	req->download_file = dest;
}

static void send_download(struct job_store_op *op, const char *url,
			  const char *token);

/* The object in one stream after all, as gitlab-runner falls back. */
static void parallel_fallback(struct job_store_op *op)
{
	char *url = op->location;

	op->location = NULL;
	send_download(op, url, NULL);
	free(url);
}

static void on_parallel_done(void *ctx, int result, const char *err)
{
	struct job_store_op *op = ctx;
	job_store_cb cb = op->cb;
	void *cb_ctx = op->cb_ctx;

	(void)err;
	op->range = NULL;
	if (result) {
		parallel_fallback(op);
		return;
	}
	op_unlink_free(op);
	cb(cb_ctx, JOB_STORE_OK, PARALLEL_STATUS, "");
}

static void on_parallel_probe(void *ctx, const struct range_probe *p)
{
	struct job_store_op *op = ctx;
	struct range_download d = { 0 };
	struct buf err = BUF_INIT;

	op->probe = NULL;
	if (p->total > ARTIFACT_PARALLEL_CHUNK) {
		d.url = op->location;
		d.dest = op->dest;
		d.total = p->total;
		d.chunk = ARTIFACT_PARALLEL_CHUNK;
		d.concurrency = ARTIFACT_PARALLEL_CONCURRENCY;
		d.timeout_ms = GL_ARTIFACT_TIMEOUT_MS;
		op->range = range_download_start(
			gl_client_http(op->store->client), &d,
			on_parallel_done, op, &err);
	}
	buf_release(&err);
	if (!op->range)
		parallel_fallback(op);
}

static void on_downloaded(struct gl_call *call, struct gl_http_response *resp)
{
	struct job_store_op *op = call->ctx;
	const char *location = gl_http_response_header(resp, "Location");

	if (gl_artifact_download_redirects(resp) &&
	    op->redirects < MAX_REDIRECTS) {
		char *abs = gl_artifact_redirect_url(
			gl_client_base_url(op->store->client), location);

		op->redirects++;
		if (op->parallel) {
			/* The object's size and Range support, first. */
			op->parallel = false;
			op->call = NULL;
			op->location = abs;
			op->probe = range_probe_start(
				gl_client_http(op->store->client), abs, NULL,
				GL_ARTIFACT_TIMEOUT_MS, on_parallel_probe, op);
			return;
		}
		/* Object storage gets no job token: the URL is signed. */
		send_download(op, abs, NULL);
		free(abs);
		return;
	}
	report(op, resp);
}

static void send_download(struct job_store_op *op, const char *url,
			  const char *token)
{
	struct gl_http_request req;
	struct strvec headers = STRVEC_INIT;

	gl_artifact_download_request(&req, &headers, url, token, op->dest);
	gl_call_send(gl_call_new(op->store->client, on_downloaded, op), &req,
		     NULL, &op->call);
	gl_headers_clear(&headers);
}

static struct job_store_op *store_download(void *ctx,
					   const struct job_dependency *dep,
					   const char *dest_path, unsigned flags,
					   job_store_cb cb, void *cb_ctx)
{
	struct gl_artifact_store *s = ctx;
	struct job_store_op *op = op_new(s, cb, cb_ctx);
	struct buf path = BUF_INIT;
	char *url;

	op->dest = xstrdup(dest_path);
	/* gitlab-runner reads in parallel only what a direct download
	 * redirects to. */
	op->parallel = (flags & JOB_STORE_DIRECT) &&
		       (flags & JOB_STORE_PARALLEL);
	gl_artifact_download_path(&path, dep->id, flags & JOB_STORE_DIRECT);
	url = gl_client_url(s->client, path.data);
	/* Current servers send the running job's own token here (3.11). */
	send_download(op, url, dep->token && *dep->token ? dep->token :
		      s->token);
	free(url);
	buf_release(&path);
	return op;
}

static void store_cancel(void *ctx, struct job_store_op *op)
{
	(void)ctx;
	if (!op)
		return;
	gl_call_cancel(op->call);
	range_probe_cancel(op->probe);
	range_download_cancel(op->range);
	op_unlink_free(op);
}

/* For a helper that moves archives itself (job/engine.h). */
static void store_helper_env(void *ctx, struct strvec *env)
{
	struct gl_artifact_store *s = ctx;

	strvec_pushf(env, GL_ARTIFACT_ENV_URL "=%s",
		     gl_client_base_url(s->client));
	strvec_pushf(env, GL_ARTIFACT_ENV_TOKEN "=%s", s->token);
	strvec_pushf(env, GL_ARTIFACT_ENV_JOB_ID "=%lld",
		     (long long)s->job_id);
}

const struct job_artifact_store_ops gl_artifact_store_ops = {
	.upload = store_upload,
	.download = store_download,
	.cancel = store_cancel,
	.helper_env = store_helper_env,
};

struct gl_artifact_store *gl_artifact_store_new(struct gl_client *client,
						int64_t job_id,
						const char *job_token)
{
	struct gl_artifact_store *s = xcalloc(1, sizeof(*s));

	s->client = client;
	s->job_id = job_id;
	s->token = xstrdup(job_token ? job_token : "");
	return s;
}

void gl_artifact_store_free(struct gl_artifact_store *s)
{
	if (!s)
		return;
	while (s->ops)
		store_cancel(s, s->ops);
	explicit_bzero(s->token, strlen(s->token));
	free(s->token);
	free(s);
}

/* ---- the same calls, synchronously, for the artifacts helper ---- */

/* on_parallel_probe() and on_parallel_done(): whether url is in dest. */
static bool parallel_sync(const struct gl_http_options *opts,
			  const char *url, const char *dest)
{
	struct range_probe p = RANGE_PROBE_INIT;
	struct range_download d = { 0 };
	struct buf err = BUF_INIT;
	bool ok = false;

	range_probe_sync(opts, url, NULL, GL_ARTIFACT_TIMEOUT_MS, &p);
	if (p.total > ARTIFACT_PARALLEL_CHUNK) {
		d.url = url;
		d.dest = dest;
		d.total = p.total;
		d.chunk = ARTIFACT_PARALLEL_CHUNK;
		d.concurrency = ARTIFACT_PARALLEL_CONCURRENCY;
		d.timeout_ms = GL_ARTIFACT_TIMEOUT_MS;
		ok = range_download_sync(opts, &d, &err) == 0;
	}
	range_probe_release(&p);
	buf_release(&err);
	return ok;
}

static enum job_store_result sync_result(struct gl_http_response *resp,
					 char *status, size_t size,
					 struct buf *detail)
{
	enum job_store_result r = gl_artifact_classify(resp);

	if (resp->status)
		gl_artifact_status_text(resp->status, status, size);
	else
		snprintf(status, size, "%s", resp->error.len ?
			 resp->error.data : "no answer");
	if (r != JOB_STORE_OK)
		gl_reply_message(detail, resp);
	return r;
}

enum job_store_result gl_artifact_upload_sync(
	const struct gl_http_options *opts, const char *base_url,
	int64_t job_id, const char *token, const struct job_store_upload *u,
	char *status, size_t size, struct buf *detail)
{
	struct buf path = BUF_INIT, url = BUF_INIT;
	enum job_store_result r;
	unsigned redirects = 0;
	char *rel;

	gl_artifact_upload_path(&path, job_id, u);
	(void)buf_addf(&url, "%s%s", base_url, path.data);
	/* What a 307 sends again, to the Location's host. */
	rel = xstrdup(url.data + gl_artifact_url_origin_len(url.data));
	for (;;) {
		struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
		struct gl_http_request req;
		struct strvec headers = STRVEC_INIT;
		struct buf next = BUF_INIT;

		gl_artifact_upload_request(&req, &headers, url.data, token,
					   u->archive_path, u->filename ?
					   u->filename : "", u->timeout_ms,
					   u->header_timeout_ms);
		gl_http_perform_sync(opts, &req, &resp);
		gl_headers_clear(&headers);
		if (redirects < MAX_REDIRECTS &&
		    gl_artifact_upload_redirect(&resp, rel, &next)) {
			redirects++;
			buf_release(&url);
			url = next;
			gl_http_response_release(&resp);
			continue;
		}
		buf_release(&next);
		r = sync_result(&resp, status, size, detail);
		gl_http_response_release(&resp);
		break;
	}
	free(rel);
	buf_release(&url);
	buf_release(&path);
	return r;
}

enum job_store_result gl_artifact_download_sync(
	const struct gl_http_options *opts, const char *base_url,
	int64_t dep_id, unsigned flags, const char *token, const char *dest,
	char *status, size_t size, struct buf *detail)
{
	struct buf path = BUF_INIT, full = BUF_INIT;
	enum job_store_result r;
	unsigned redirects = 0;
	bool parallel = (flags & JOB_STORE_DIRECT) &&
			(flags & JOB_STORE_PARALLEL);
	char *url;

	gl_artifact_download_path(&path, dep_id, flags & JOB_STORE_DIRECT);
	(void)buf_addf(&full, "%s%s", base_url, path.data);
	url = buf_detach(&full, NULL);
	for (;;) {
		struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
		struct gl_http_request req;
		struct strvec headers = STRVEC_INIT;

		gl_artifact_download_request(&req, &headers, url, token, dest);
		gl_http_perform_sync(opts, &req, &resp);
		gl_headers_clear(&headers);
		if (gl_artifact_download_redirects(&resp) &&
		    redirects < MAX_REDIRECTS) {
			char *abs = gl_artifact_redirect_url(base_url,
				gl_http_response_header(&resp, "Location"));

			redirects++;
			free(url);
			url = abs;
			/* Object storage gets no job token: the URL is signed. */
			token = NULL;
			gl_http_response_release(&resp);
			if (parallel) {
				parallel = false;
				if (parallel_sync(opts, url, dest)) {
					snprintf(status, size, "%s",
						 PARALLEL_STATUS);
					r = JOB_STORE_OK;
					break;
				}
			}
			continue;
		}
		r = sync_result(&resp, status, size, detail);
		gl_http_response_release(&resp);
		break;
	}
	free(url);
	buf_release(&path);
	return r;
}
