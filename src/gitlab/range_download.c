/*
 * Parallel ranged downloads (range_download.h): the chunks are requests
 * on one gl_http client, started as earlier ones end, on a private loop.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gitlab/artifact_store.h"
#include "gitlab/range_download.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

int64_t range_content_total(const char *value)
{
	const char *slash, *p;
	int64_t total = 0;

	if (!value)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (strncmp(value, "bytes ", 6))
		return -1;
	if (!(slash = strrchr(value, '/')))
		return -1;
	p = slash + 1;
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (total > (INT64_MAX - 9) / 10)
			return -1;
		total = total * 10 + (*p - '0');
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return *p || total <= 0 ? -1 : total;
}

void range_probe_release(struct range_probe *p)
{
	buf_release(&p->why);
}

/* headers plus "Range: bytes=first-last", into out. */
static void range_headers(const struct strvec *headers, int64_t first,
			  int64_t last, struct strvec *out)
{
	size_t i;

	for (i = 0; headers && i < headers->nr; i++)
		strvec_push(out, headers->v[i]);
	strvec_pushf(out, "Range: bytes=%" PRId64 "-%" PRId64, first, last);
}

static void wipe_headers(struct strvec *headers)
{
	size_t i;

	for (i = 0; i < headers->nr; i++)
		explicit_bzero((char *)headers->v[i], strlen(headers->v[i]));
	strvec_clear(headers);
}

static void describe(const struct gl_http_response *resp, struct buf *out)
{
	char status[64];

	if (!resp->status) {
		(void)buf_addstr(out, resp->error.len ? resp->error.data :
				 "no answer");
		return;
	}
	gl_artifact_status_text(resp->status, status, sizeof(status));
	(void)buf_addstr(out, status);
}

/* The probe's request, in lines (wiped by the caller). */
static void probe_request(const char *url, const struct strvec *headers,
			  long timeout_ms, struct strvec *lines,
			  struct gl_http_request *req)
{
	range_headers(headers, 0, 0, lines);
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->url = url;
	req->headers = lines;
	req->timeout_ms = timeout_ms;
	req->no_retry = true;
	/* The one byte, or an error body: only its status matters. */
	req->max_response = 4096;
	req->truncate_response = true;
}

static void probe_result(const struct gl_http_response *resp,
			 struct range_probe *p)
{
	p->status = resp->status;
	p->total = resp->status == 206 ?
		range_content_total(gl_http_response_header(resp,
							    "Content-Range")) :
		-1;
	describe(resp, &p->why);
}

struct range_probe_req {
	struct gl_http_req *req;
	range_probe_cb cb;
	void *ctx;
};

static void on_probe(struct gl_http_response *resp, void *ctx)
{
	struct range_probe_req *pr = ctx;
	struct range_probe p = RANGE_PROBE_INIT;
	range_probe_cb cb = pr->cb;
	void *cb_ctx = pr->ctx;

	probe_result(resp, &p);
	free(pr);
	cb(cb_ctx, &p);
	range_probe_release(&p);
}

struct range_probe_req *range_probe_start(struct gl_http *http,
					  const char *url,
					  const struct strvec *headers,
					  long timeout_ms, range_probe_cb cb,
					  void *ctx)
{
	struct range_probe_req *pr = xcalloc(1, sizeof(*pr));
	struct gl_http_request req;
	struct strvec lines = STRVEC_INIT;

	pr->cb = cb;
	pr->ctx = ctx;
	probe_request(url, headers, timeout_ms, &lines, &req);
	pr->req = gl_http_start(http, &req, on_probe, pr);
	wipe_headers(&lines);
	return pr;
}

void range_probe_cancel(struct range_probe_req *pr)
{
	if (!pr)
		return;
	gl_http_cancel(pr->req);
	free(pr);
}

void range_probe_sync(const struct gl_http_options *opts, const char *url,
		      const struct strvec *headers, long timeout_ms,
		      struct range_probe *p)
{
	struct gl_http_request req;
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct strvec lines = STRVEC_INIT;

	probe_request(url, headers, timeout_ms, &lines, &req);
	(void)gl_http_perform_sync(opts, &req, &resp);
	probe_result(&resp, p);
	gl_http_response_release(&resp);
	wipe_headers(&lines);
}

/* ---- the download ---- */

struct chunk {
	struct range_dl *dl;
	struct gl_http_req *req;	/* NULL: slot free */
	int64_t offset, length;
};

struct range_dl {
	struct gl_http *http;
	char *url, *dest;
	struct strvec headers;
	int64_t total, chunk;
	unsigned concurrency;
	long timeout_ms;
	int fd;
	int64_t next;			/* offset of the next chunk to start */
	unsigned running;
	int result;			/* the first failure, 0 */
	struct buf err;
	struct chunk *slots;		/* concurrency of them */
	range_done_cb cb;
	void *ctx;
};

static void start_chunks(struct range_dl *dl);

static void fail(struct range_dl *dl, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct range_dl *dl, int code, const char *fmt, ...)
{
	va_list ap;

	if (dl->result)
		return;
	dl->result = code;
	buf_reset(&dl->err);
	va_start(ap, fmt);
	(void)buf_vaddf(&dl->err, fmt, ap);
	va_end(ap);
}

static int write_at(int fd, const char *data, size_t n, int64_t offset)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = pwrite(fd, data + done, n - done,
				   (off_t)(offset + (int64_t)done));

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

static void dl_free(struct range_dl *dl)
{
	if (dl->fd >= 0)
		close(dl->fd);
	explicit_bzero(dl->url, strlen(dl->url));
	free(dl->url);
	free(dl->dest);
	wipe_headers(&dl->headers);
	buf_release(&dl->err);
	free(dl->slots);
	free(dl);
}

/* All chunks ended: the file is closed and the caller told. */
static void finish(struct range_dl *dl)
{
	range_done_cb cb = dl->cb;
	void *ctx = dl->ctx;
	int result;
	struct buf err = BUF_INIT;

	if (close(dl->fd) != 0)
		fail(dl, CR_ERR_IO, "cannot write '%s': %s", dl->dest,
		     strerror(errno));
	dl->fd = -1;
	result = dl->result;
	(void)buf_addstr(&err, dl->err.len ? dl->err.data : "");
	dl_free(dl);
	cb(ctx, result, err.data);
	buf_release(&err);
}

static void on_chunk(struct gl_http_response *resp, void *ctx)
{
	struct chunk *c = ctx;
	struct range_dl *dl = c->dl;
	bool ok_status = resp->status == 206 ||
			 (resp->status == 200 && c->offset == 0);

	c->req = NULL;
	dl->running--;
	if (!ok_status) {
		struct buf why = BUF_INIT;

		describe(resp, &why);
		fail(dl, CR_ERR_NETWORK,
		     "range request for bytes %" PRId64 "-%" PRId64 " failed: %s",
		     c->offset, c->offset + c->length - 1, why.data);
		buf_release(&why);
	} else if ((int64_t)resp->body.len != c->length) {
		fail(dl, CR_ERR_NETWORK,
		     "range request for bytes %" PRId64 "-%" PRId64
		     " got %zu bytes, not %" PRId64,
		     c->offset, c->offset + c->length - 1, resp->body.len,
		     c->length);
	} else if (!dl->result &&
		   write_at(dl->fd, resp->body.data, resp->body.len,
			    c->offset) != 0) {
		fail(dl, CR_ERR_IO, "cannot write '%s': %s", dl->dest,
		     strerror(errno));
	}
	start_chunks(dl);
	if (!dl->running)
		finish(dl);
}

static void start_chunks(struct range_dl *dl)
{
	unsigned i;

	for (i = 0; i < dl->concurrency && !dl->result &&
	     dl->next < dl->total; i++) {
		struct chunk *c = &dl->slots[i];
		struct gl_http_request req = { 0 };
		struct strvec lines = STRVEC_INIT;

		if (c->req)
			continue;
		c->dl = dl;
		c->offset = dl->next;
		c->length = dl->total - dl->next < dl->chunk ?
			    dl->total - dl->next : dl->chunk;
		dl->next += c->length;
		range_headers(&dl->headers, c->offset,
			      c->offset + c->length - 1, &lines);
		req.method = "GET";
		req.url = dl->url;
		req.headers = &lines;
		req.timeout_ms = dl->timeout_ms;
		req.no_retry = true;
		/* One byte more than the chunk: a longer answer is wrong. */
		req.max_response = (size_t)c->length + 1;
		req.truncate_response = true;
		dl->running++;
		c->req = gl_http_start(dl->http, &req, on_chunk, c);
		wipe_headers(&lines);
	}
}

struct range_dl *range_download_start(struct gl_http *http,
				      const struct range_download *d,
				      range_done_cb cb, void *ctx,
				      struct buf *err)
{
	struct range_dl *dl;
	size_t i;

	if (d->total <= 0 || d->chunk <= 0 || d->concurrency < 1) {
		buf_seterr(err, "bad parallel download: %" PRId64
			   " bytes in chunks of %" PRId64 ", %u at a time",
			   d->total, d->chunk, d->concurrency);
		return NULL;
	}
	dl = xcalloc(1, sizeof(*dl));
	dl->fd = open(d->dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);
	dl->url = xstrdup(d->url);
	dl->dest = xstrdup(d->dest);
	buf_init(&dl->err, 0);
	if (dl->fd < 0) {
		buf_seterr(err, "cannot create '%s': %s", d->dest,
			   strerror(errno));
		dl_free(dl);
		return NULL;
	}
	for (i = 0; d->headers && i < d->headers->nr; i++)
		strvec_push(&dl->headers, d->headers->v[i]);
	dl->http = http;
	dl->total = d->total;
	dl->chunk = d->chunk;
	dl->concurrency = d->concurrency;
	dl->timeout_ms = d->timeout_ms;
	dl->slots = xcalloc(d->concurrency, sizeof(*dl->slots));
	dl->cb = cb;
	dl->ctx = ctx;
	start_chunks(dl);
	return dl;
}

void range_download_cancel(struct range_dl *dl)
{
	unsigned i;

	if (!dl)
		return;
	for (i = 0; i < dl->concurrency; i++)
		if (dl->slots[i].req)
			gl_http_cancel(dl->slots[i].req);
	dl_free(dl);
}

/* ---- the same on a private loop ---- */

struct sync_done {
	bool done;
	int result;
	struct buf *err;
};

static void on_sync_done(void *ctx, int result, const char *err)
{
	struct sync_done *st = ctx;

	st->done = true;
	st->result = result;
	if (result)
		buf_seterr(st->err, "%s", err);
}

int range_download_sync(const struct gl_http_options *opts,
			const struct range_download *d, struct buf *err)
{
	struct loop *loop = loop_new();
	struct gl_http *http = gl_http_new(loop, opts);
	struct sync_done st = { false, 0, err };
	struct range_dl *dl;

	dl = range_download_start(http, d, on_sync_done, &st, err);
	if (!dl)
		st.result = CR_ERR_INVALID, st.done = true;
	while (!st.done) {
		if (loop_run_once(loop, 1000) != 0) {
			range_download_cancel(dl);
			buf_seterr(err, "event loop failed: %s",
				   strerror(errno));
			st.result = CR_ERR_IO;
			break;
		}
	}
	gl_http_free(http);
	loop_free(loop);
	return st.result;
}
