/*
 * The transport: one libcurl multi handle per client driven by the loop
 * (socket and timer callbacks become loop watches), or the lean HTTP/1.1
 * client for the requests it may send (needs_libcurl()), requests with
 * their retries on loop timers, and the synchronous helper for the CLI.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "gitlab/http.h"
#include "gitlab/http_internal.h"
#include "gitlab/identity.h"
#include "gitlab/lean_http.h"
#include "gitlab/lean_tls.h"
#include "gitlab/tls_chain.h"
#include "util/curl_loop.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/random.h"
#include "util/tls_env.h"
#include "util/banned.h"

enum req_state {
	REQ_ACTIVE,		/* in the multi handle */
	REQ_WAITING,		/* between attempts, on a loop timer */
	REQ_FAILING,		/* failed before a transfer; reported from a timer */
	REQ_DONE,		/* its callback is running */
};

/*
 * The libcurl multi handle is made on the first request that needs
 * libcurl, so that a runner that only polls with the lean client
 * (lean_http.h) never loads libcurl.
 */
struct gl_http_pool {
	struct loop *loop;
	struct curl_loop *cl;		/* NULL until libcurl is needed */
	struct lean_http *lean;
};

struct gl_http {
	struct loop *loop;
	struct gl_http_pool *pool;	/* borrowed, or own_pool */
	struct gl_http_pool own_pool;
	char *ca_file, *cert_file, *key_file;
	char *user_agent;
	long max_age_s;
	long backoff_base_ms;
	unsigned max_attempts;
	struct gl_http_req *reqs;	/* every live request */
};

struct gl_http_req {
	struct gl_http *http;
	struct gl_http_req *prev, *next;
	enum req_state state;
	CURL *easy;		/* NULL: the lean client sends it */
	struct lean_http_req *lean;	/* its transfer, while active */
	long lean_status;
	struct strvec lean_headers;	/* secret */
	struct curl_slist *headers;
	char *method, *url;
	char *body;		/* owned unless body_borrowed */
	size_t body_len;
	bool body_borrowed;
	/* body_from_fd: the file range (borrowed), and how much is sent. */
	bool body_from_fd;
	int body_fd;
	uint64_t body_offset;
	size_t body_pos;
	size_t max_response;
	bool truncate;
	bool over_cap;
	size_t header_bytes;
	long timeout_ms;
	/* response_header_timeout: its watch timer, when the body was all
	 * sent (0: not yet), whether a status line came. */
	long header_timeout_ms;
	uint64_t header_timer;
	uint64_t body_sent_ms;
	bool got_status;
	bool no_retry;
	bool follow_redirects;
	bool want_tls_chain;
	unsigned attempt;
	uint64_t timer;
	CURLcode failure;	/* REQ_FAILING: what to report */
	gl_http_cb cb;
	void *ctx;
	struct gl_http_response resp;
	char errbuf[CURL_ERROR_SIZE];
	/* Streamed bodies (see struct gl_http_request). */
	curl_mime *mime;
	char *upload_file, *upload_field, *upload_filename;
	char *put_file, *download_file;
	FILE *put;
	int download_fd;		/* -1: none open */
	bool download_failed;
};

/* The status of the answer so far, 0 when there is none. */
static long req_status(struct gl_http_req *req)
{
	long status = 0;

	if (!req->easy)
		return req->lean_status;
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* Wipes (they may hold tokens) and clears header lines. */
static void wipe_lines(struct strvec *lines)
{
	size_t i;

	for (i = 0; i < lines->nr; i++)
		explicit_bzero((char *)lines->v[i], strlen(lines->v[i]));
	strvec_clear(lines);
}

static void new_request_id(char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		for (i = 0; i < sizeof(raw); i += 4) {
			uint32_t v = random_u32();

			memcpy(raw + i, &v, 4);
		}
	}
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[32] = '\0';
}

/* Writes a 2xx body to the download file; false when it is not one. */
static bool body_to_file(struct gl_http_req *req, const char *data, size_t n,
			 size_t *written)
{
	long status;
	size_t done = 0;

	if (req->download_fd < 0)
		return false;
	status = req_status(req);
	if (status < 200 || status > 299)
		return false;
	while (done < n) {
		ssize_t w = write(req->download_fd, data + done, n - done);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			buf_seterr(&req->resp.error, "cannot write '%s': %s",
				   req->download_file, strerror(errno));
			req->download_failed = true;
			*written = 0;	/* CURLE_WRITE_ERROR ends the transfer */
			return true;
		}
		done += (size_t)w;
	}
	*written = n;
	return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct gl_http_req *req = ctx;
	size_t n = size * nmemb, room, written;

	if (body_to_file(req, data, n, &written))
		return written;

	if (req->over_cap)
		return req->truncate ? n : 0;
	room = req->max_response - req->resp.body.len;
	if (n > room) {
		req->over_cap = true;
		if (!req->truncate)
			return 0;	/* CURLE_WRITE_ERROR ends the transfer */
		(void)buf_add(&req->resp.body, data, room);
		return n;
	}
	(void)buf_add(&req->resp.body, data, n);
	return n;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
	struct gl_http_req *req = ctx;
	struct gl_http_response *resp = &req->resp;
	size_t n = size * nmemb, len = n;
	const char *colon, *v, *end;

	/* A status line starts a new answer (after 100, or a redirect). */
	if (len >= 5 && !memcmp(line, "HTTP/", 5)) {
		req->got_status = true;
		gl_http_clear_headers(resp);
		req->header_bytes = 0;
		return n;
	}
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!len || line[0] == ' ' || line[0] == '\t')
		return n;
	if (resp->nr_headers >= GL_HTTP_MAX_HEADERS ||
	    req->header_bytes + len > GL_HTTP_MAX_HEADER_BYTES)
		return n;	/* past the cap: later headers are ignored */
	if (!(colon = memchr(line, ':', len)))
		return n;
	end = line + len;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	resp->headers = xreallocarray(resp->headers, resp->nr_headers + 1,
				      sizeof(*resp->headers));
	resp->headers[resp->nr_headers].name =
		xmemdup(line, (size_t)(colon - line));
	resp->headers[resp->nr_headers].value = xmemdup(v, (size_t)(end - v));
	resp->nr_headers++;
	req->header_bytes += len;
	return n;
}

static void attempt_done(struct gl_http_req *req, CURLcode cc);
static void lean_attempt_start(struct gl_http_req *req);

/* A transfer ended (curl_loop removed it from the multi handle). */
static void on_transfer_done(void *ctx, CURL *easy, CURLcode cc)
{
	char *priv = NULL;

	(void)ctx;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	if (priv)
		attempt_done((struct gl_http_req *)priv, cc);
}

struct gl_http_pool *gl_http_pool_new(struct loop *loop)
{
	struct gl_http_pool *pool = xcalloc(1, sizeof(*pool));

	/* Transfers find their request, and so their client, through
	 * CURLOPT_PRIVATE: the multi handle needs no client of its own. */
	pool->loop = loop;
	return pool;
}

static void pool_release(struct gl_http_pool *pool)
{
	if (pool->cl)
		curl_loop_free(pool->cl);
	lean_http_free(pool->lean);
}

void gl_http_pool_free(struct gl_http_pool *pool)
{
	if (!pool)
		return;
	pool_release(pool);
	free(pool);
}

static struct curl_loop *pool_curl(struct gl_http_pool *pool)
{
	if (!pool->cl)
		pool->cl = curl_loop_new(pool->loop, on_transfer_done, NULL);
	return pool->cl;
}

static struct lean_http *pool_lean(struct gl_http_pool *pool)
{
	if (!pool->lean)
		pool->lean = lean_http_new(pool->loop);
	return pool->lean;
}

struct gl_http *gl_http_new(struct loop *loop,
			    const struct gl_http_options *opts)
{
	struct gl_http *http = xcalloc(1, sizeof(*http));
	struct gl_http_options none = { 0 };
	struct buf ua = BUF_INIT;

	if (!opts)
		opts = &none;
	http->loop = loop;
	http->own_pool.loop = loop;
	http->pool = opts->pool ? opts->pool : &http->own_pool;
	http->ca_file = opts->ca_file && *opts->ca_file ?
		xstrdup(opts->ca_file) : NULL;
	http->cert_file = opts->cert_file && *opts->cert_file ?
		xstrdup(opts->cert_file) : NULL;
	http->key_file = opts->key_file && *opts->key_file ?
		xstrdup(opts->key_file) : NULL;
	if (opts->user_agent) {
		http->user_agent = xstrdup(opts->user_agent);
	} else {
		gl_identity_user_agent(&ua);
		http->user_agent = buf_detach(&ua, NULL);
	}
	http->max_age_s = opts->connection_max_age_s > 0 ?
		opts->connection_max_age_s : GL_HTTP_CONNECTION_MAX_AGE_S;
	http->backoff_base_ms = opts->backoff_base_ms > 0 ?
		opts->backoff_base_ms : GL_HTTP_BACKOFF_BASE_MS;
	http->max_attempts = opts->max_attempts ?
		opts->max_attempts : GL_HTTP_MAX_ATTEMPTS;
	return http;
}

static void header_watch_stop(struct gl_http_req *req)
{
	if (req->header_timer)
		loop_cancel_timer(req->http->loop, req->header_timer);
	req->header_timer = 0;
}

static void req_free(struct gl_http_req *req)
{
	struct gl_http *http = req->http;
	struct curl_slist *h;

	header_watch_stop(req);
	if (req->prev)
		req->prev->next = req->next;
	else
		http->reqs = req->next;
	if (req->next)
		req->next->prev = req->prev;
	lean_http_cancel(req->lean);
	if (req->easy)
		curl_easy_cleanup(req->easy);
	for (h = req->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	if (req->headers)
		curl_slist_free_all(req->headers);
	wipe_lines(&req->lean_headers);
	if (!req->body_borrowed)
		freezero(req->body, req->body_len);
	free(req->method);
	free(req->url);
	gl_http_response_release(&req->resp);
	if (req->mime)
		curl_mime_free(req->mime);
	if (req->put)
		fclose(req->put);
	if (req->download_fd >= 0)
		close(req->download_fd);
	free(req->upload_file);
	free(req->upload_field);
	free(req->upload_filename);
	free(req->put_file);
	free(req->download_file);
	free(req);
}

void gl_http_cancel(struct gl_http_req *req)
{
	if (!req || req->state == REQ_DONE)
		return;	/* its callback is running; it is freed after */
	if (req->state == REQ_ACTIVE && req->easy)
		curl_multi_remove_handle(curl_loop_multi(req->http->pool->cl),
					 req->easy);
	else if (req->state != REQ_ACTIVE)
		loop_cancel_timer(req->http->loop, req->timer);
	req_free(req);
}

void gl_http_free(struct gl_http *http)
{
	struct gl_http_req *req, *next;

	if (!http)
		return;
	for (req = http->reqs; req; req = next) {
		next = req->next;
		gl_http_cancel(req);
	}
	if (http->reqs) {
		/* Only a request whose callback is running survives cancel. */
		fprintf(stderr, "BUG: gl_http_free() called from a request callback\n");
		abort();
	}
	pool_release(&http->own_pool);
	free(http->ca_file);
	free(http->cert_file);
	free(http->key_file);
	free(http->user_agent);
	free(http);
}

/*
 * With libcurl: the certificates the server sent (CURLINFO_CERTINFO, its
 * own first); libcurl keeps no verified chain, so they are verified
 * again with mbed TLS against the same CAs to get the chain up to the
 * trusted CA, as the lean client has it.  Without mbed TLS, the
 * certificates as sent.  As PEM into resp.tls_chain.
 */
static void curl_tls_chain(struct gl_http_req *req)
{
	struct curl_certinfo *ci = NULL;
	struct tls_chain chain = TLS_CHAIN_INIT, verified = TLS_CHAIN_INIT;
	struct buf err = BUF_INIT;
	int i;

	if (curl_easy_getinfo(req->easy, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    !ci)
		return;
	for (i = 0; i < ci->num_of_certs; i++) {
		const struct curl_slist *f;

		for (f = ci->certinfo[i]; f; f = f->next)
			if (!strncmp(f->data, "Cert:", 5) &&
			    tls_chain_add_pem(&chain, f->data + 5, &err) < 0)
				log_warn("%s: the server's certificate %d: %s",
					 req->url, i, err.data);
	}
	buf_reset(&err);
	buf_reset(&req->resp.tls_chain);
	if (chain.nr &&
	    lean_tls_verify_chain(&chain, req->http->ca_file, &verified,
				  &err) == 0) {
		tls_chain_write_pem(&verified, &req->resp.tls_chain);
	} else {
		if (chain.nr)
			log_debug("%s: the server's chain as sent: %s", req->url,
				  err.data);
		tls_chain_write_pem(&chain, &req->resp.tls_chain);
	}
	tls_chain_release(&chain);
	tls_chain_release(&verified);
	buf_release(&err);
}

static void req_report(struct gl_http_req *req, CURLcode cc)
{
	struct gl_http_response *resp = &req->resp;
	long status = 0;

	status = req_status(req);
	if (req->easy && req->want_tls_chain && cc == CURLE_OK)
		curl_tls_chain(req);
	if (req->over_cap && req->truncate)
		req->over_cap = false;	/* the caller asked for a cut body */
	resp->status = status;
	resp->result = gl_http_classify(cc, status, req->over_cap);
	resp->attempts = req->attempt;
	if (req->over_cap)
		buf_seterr(&resp->error, "answer larger than %zu bytes",
			   req->max_response);
	else if (cc != CURLE_OK)
		buf_seterr(&resp->error, "%s", req->errbuf[0] ? req->errbuf :
			   req->easy ? curl_easy_strerror(cc) : "request failed");
	log_debug("%s %s: status %ld, %s (attempt %u, request id %s, %s)",
		  req->method, req->url, status, gl_result_name(resp->result),
		  req->attempt, resp->request_id,
		  req->easy ? "libcurl" : "lean HTTP/1.1 client");
	/*
	 * The body is done with: free it before the callback, which often
	 * sends the next one (the trace sender's next 1 MiB chunk), so that
	 * the old copy, the new chunk and its copy never coexist (1 MiB off
	 * crunner's peak while a big log is sent).  The easy handle is not
	 * performed again: req_free() only cleans it up.
	 */
	if (!req->body_borrowed)
		freezero(req->body, req->body_len);
	req->body = NULL;
	req->body_len = 0;
	req->state = REQ_DONE;
	req->cb(resp, req->ctx);
	req_free(req);
}

static long on_failing(struct loop *loop, void *ctx)
{
	struct gl_http_req *req = ctx;

	(void)loop;
	req_report(req, req->failure);
	return LOOP_TIMER_STOP;
}

/* Reports a failure found outside a transfer, from the loop. */
static void req_fail_later(struct gl_http_req *req, CURLcode cc)
{
	req->state = REQ_FAILING;
	req->failure = cc;
	req->timer = loop_add_timer(req->http->loop, 0, on_failing, req);
}

static size_t on_put_read(char *buffer, size_t size, size_t nitems, void *ctx)
{
	struct gl_http_req *req = ctx;
	size_t n = fread(buffer, 1, size * nitems, req->put);

	if (!n && ferror(req->put))
		return CURL_READFUNC_ABORT;
	return n;
}

/* The next bytes of a body_from_fd body. */
static size_t on_fd_read(char *buffer, size_t size, size_t nitems, void *ctx)
{
	struct gl_http_req *req = ctx;
	size_t want = size * nitems, left = req->body_len - req->body_pos;
	ssize_t n;

	if (want > left)
		want = left;
	if (!want)
		return 0;
	do {
		n = pread(req->body_fd, buffer, want,
			  (off_t)(req->body_offset + req->body_pos));
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		snprintf(req->errbuf, sizeof(req->errbuf),
			 "cannot read the request body: %s",
			 n < 0 ? strerror(errno) : "the file is short");
		return CURL_READFUNC_ABORT;
	}
	req->body_pos += (size_t)n;
	return (size_t)n;
}

/*
 * libcurl going back in a body_from_fd body (a reused connection that
 * died while sending: it sends the request again on a new one).
 */
static int on_fd_seek(void *ctx, curl_off_t offset, int origin)
{
	struct gl_http_req *req = ctx;

	if (origin != SEEK_SET || offset < 0 ||
	    (uint64_t)offset > req->body_len)
		return CURL_SEEKFUNC_CANTSEEK;
	req->body_pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* Opens (again) the files of a streamed request; false on failure. */
static bool streams_open(struct gl_http_req *req)
{
	struct stat st;

	req->body_pos = 0;	/* body_from_fd: from the start again */

	if (req->put_file) {
		if (!req->put && !(req->put = fopen(req->put_file, "rbe"))) {
			buf_seterr(&req->resp.error, "cannot open '%s': %s",
				   req->put_file, strerror(errno));
			return false;
		}
		rewind(req->put);
		if (fstat(fileno(req->put), &st) != 0)
			return false;
		curl_easy_setopt(req->easy, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)st.st_size);
	}
	if (req->download_file) {
		if (req->download_fd >= 0)
			close(req->download_fd);
		req->download_fd = open(req->download_file, O_WRONLY |
					O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (req->download_fd < 0) {
			buf_seterr(&req->resp.error, "cannot create '%s': %s",
				   req->download_file, strerror(errno));
			return false;
		}
	}
	return true;
}

/*
 * response_header_timeout: libcurl has no deadline for the answer alone
 * (CURLOPT_TIMEOUT counts the upload too), so the loop looks every second
 * whether the body is all sent and the status line still missing.
 */
static long on_header_watch(struct loop *loop, void *ctx)
{
	struct gl_http_req *req = ctx;
	curl_off_t sent = 0, total = -1;
	uint64_t now = loop_now_ms(loop), waited;
	long step = req->header_timeout_ms < 1000 ? req->header_timeout_ms :
		1000;

	if (req->state != REQ_ACTIVE || req->got_status) {
		req->header_timer = 0;
		return LOOP_TIMER_STOP;
	}
	curl_easy_getinfo(req->easy, CURLINFO_SIZE_UPLOAD_T, &sent);
	curl_easy_getinfo(req->easy, CURLINFO_CONTENT_LENGTH_UPLOAD_T, &total);
	if (total < 0 || sent < total)
		return step;	/* still sending (or a size unknown) */
	if (!req->body_sent_ms)
		req->body_sent_ms = now;
	waited = now - req->body_sent_ms;
	if (waited < (uint64_t)req->header_timeout_ms) {
		uint64_t left = (uint64_t)req->header_timeout_ms - waited;

		return left < (uint64_t)step ? (long)left : step;
	}
	req->header_timer = 0;
	curl_multi_remove_handle(curl_loop_multi(pool_curl(req->http->pool)),
				 req->easy);
	snprintf(req->errbuf, sizeof(req->errbuf),
		 "timeout awaiting response headers (%ld ms after the request was sent)",
		 req->header_timeout_ms);
	req_report(req, CURLE_OPERATION_TIMEDOUT);
	return LOOP_TIMER_STOP;
}

static void attempt_start(struct gl_http_req *req)
{
	CURLMcode mc;

	/* Each attempt starts with an empty answer. */
	gl_http_clear_headers(&req->resp);
	buf_release_secret(&req->resp.body);
	buf_init(&req->resp.body, req->max_response);
	req->over_cap = false;
	req->header_bytes = 0;
	req->got_status = false;
	req->body_sent_ms = 0;
	buf_reset(&req->resp.tls_chain);
	req->errbuf[0] = '\0';
	req->attempt++;
	req->state = REQ_ACTIVE;
	if (!streams_open(req)) {
		req_fail_later(req, CURLE_READ_ERROR);
		return;
	}
	if (!req->easy) {
		lean_attempt_start(req);
		return;
	}
	if ((mc = curl_multi_add_handle(curl_loop_multi(pool_curl(req->http->pool)),
					req->easy)) !=
	    CURLM_OK) {
		buf_seterr(&req->resp.error, "cannot start request: %s",
			   curl_multi_strerror(mc));
		req_fail_later(req, CURLE_FAILED_INIT);
		return;
	}
	if (req->header_timeout_ms > 0)
		req->header_timer = loop_add_timer(req->http->loop,
			req->header_timeout_ms < 1000 ? req->header_timeout_ms :
			1000, on_header_watch, req);
}

/* ---- the lean client's path (lean_http.h) ---- */

static bool lean_on_header(void *ctx, const char *line, size_t len)
{
	return on_header((char *)line, 1, len, ctx) == len;
}

static bool lean_on_body(void *ctx, const char *data, size_t len)
{
	return on_body((char *)data, 1, len, ctx) == len;
}

static const struct http1_sink lean_sink = { lean_on_header, lean_on_body };

/* The libcurl code that stands for a lean client failure, so that
 * gl_http_classify() decides for both paths alike. */
static CURLcode lean_curl_code(enum lean_error err)
{
	switch (err) {
	case LEAN_OK: return CURLE_OK;
	case LEAN_BAD_URL: return CURLE_URL_MALFORMAT;
	case LEAN_RESOLVE: return CURLE_COULDNT_RESOLVE_HOST;
	case LEAN_CONNECT: return CURLE_COULDNT_CONNECT;
	case LEAN_TIMEOUT: return CURLE_OPERATION_TIMEDOUT;
	case LEAN_SEND: return CURLE_SEND_ERROR;
	case LEAN_RECV: return CURLE_RECV_ERROR;
	case LEAN_PROTOCOL: return CURLE_WEIRD_SERVER_REPLY;
	case LEAN_REFUSED: return CURLE_WRITE_ERROR;
	case LEAN_TLS: return CURLE_SSL_CONNECT_ERROR;
	case LEAN_TLS_VERIFY: return CURLE_PEER_FAILED_VERIFICATION;
	case LEAN_TLS_FILES: return CURLE_SSL_CERTPROBLEM;
	}
	return CURLE_RECV_ERROR;
}

static void lean_done(void *ctx, enum lean_error err, long status,
		      const char *why)
{
	struct gl_http_req *req = ctx;

	req->lean = NULL;	/* freed by the lean client after this */
	req->lean_status = status;
	if (err != LEAN_OK && !req->errbuf[0])
		snprintf(req->errbuf, sizeof(req->errbuf), "%s", why);
	attempt_done(req, lean_curl_code(err));
}

static void lean_attempt_start(struct gl_http_req *req)
{
	struct gl_http *http = req->http;
	struct lean_tls_files tls = {
		http->ca_file, http->cert_file, http->key_file,
	};
	struct lean_http_request lr = {
		.method = req->method,
		.url = req->url,
		.headers = (const char *const *)req->lean_headers.v,
		.nr_headers = req->lean_headers.nr,
		.body = req->body,
		.body_len = req->body_len,
		.timeout_ms = req->timeout_ms,
		.connect_timeout_ms = GL_HTTP_CONNECT_TIMEOUT_MS,
		.max_age_s = http->max_age_s,
		.idle_max_s = GL_HTTP_IDLE_MAX_S,
		.tls = &tls,
		.tls_chain_pem = req->want_tls_chain ? &req->resp.tls_chain :
			NULL,
	};

	req->lean_status = 0;
	req->lean = lean_http_start(pool_lean(http->pool), &lr, &lean_sink,
				    req, lean_done, req);
}

/* The first proxy variable set for url, as libcurl would read them. */
static const char *proxy_variable(const char *url)
{
	static const char *const plain[] = { "http_proxy", "HTTP_PROXY",
		"all_proxy", "ALL_PROXY" };
	static const char *const tls[] = { "https_proxy", "HTTPS_PROXY",
		"all_proxy", "ALL_PROXY" };
	const char *const *names = strncasecmp(url, "https:", 6) ? plain : tls;
	size_t i;

	for (i = 0; i < 4; i++) {
		const char *v = getenv(names[i]);

		if (v && *v)
			return names[i];
	}
	return NULL;
}

/*
 * Why libcurl, not the lean client, sends request r (into why), or
 * false when the lean client can.  It does plain requests with bodies in
 * memory, with no proxy and no redirects to follow.
 */
static bool needs_libcurl(const struct gl_http *http,
			  const struct gl_http_request *r, struct buf *why)
{
	const char *v;
	bool https = !strncasecmp(r->url, "https://", 8);

	if (!r->lean_ok)
		return true;
	if ((v = getenv("CRUNNER_LEAN_HTTP")) && !strcmp(v, "0")) {
		(void)buf_addstr(why, "CRUNNER_LEAN_HTTP=0");
		return true;
	}
	if (r->upload_file || r->put_file || r->download_file ||
	    r->body_from_fd || r->follow_redirects) {
		(void)buf_addstr(why, "a streamed body or redirects");
		return true;
	}
	if ((v = proxy_variable(r->url))) {
		(void)buf_addf(why, "%s is set", v);
		return true;
	}
	{
		const char *host = strstr(r->url, "://");
		size_t len = host ? strcspn(host + 3, "/?#") : 0;

		if (host && memchr(host + 3, '@', len)) {
			(void)buf_addstr(why, "credentials in the URL");
			return true;
		}
	}
	if (!https)
		return strncasecmp(r->url, "http://", 7) != 0;
	/* The lean client reads SSL_CERT_FILE too, not the directories. */
	if (!http->ca_file && getenv("SSL_CERT_DIR")) {
		(void)buf_addstr(why, "SSL_CERT_DIR is set");
		return true;
	}
	return !lean_tls_available(why);
}

static long on_retry(struct loop *loop, void *ctx)
{
	(void)loop;
	attempt_start(ctx);
	return LOOP_TIMER_STOP;
}

static void attempt_done(struct gl_http_req *req, CURLcode cc)
{
	struct gl_http *http = req->http;
	long status = req_status(req), delay;

	header_watch_stop(req);
	if (cc != CURLE_OK || req->no_retry || req->over_cap ||
	    req->attempt >= http->max_attempts ||
	    !gl_http_status_is_transient(status)) {
		req_report(req, cc);
		return;
	}
	delay = gl_http_retry_delay_ms(&req->resp, req->attempt,
				       http->backoff_base_ms, (long long)time(NULL));
	log_debug("%s %s: status %ld, attempt %u of %u, retrying in %ld ms",
		  req->method, req->url, status, req->attempt,
		  http->max_attempts, delay);
	req->state = REQ_WAITING;
	req->timer = loop_add_timer(http->loop, delay, on_retry, req);
}

static CURLcode setup_easy(struct gl_http_req *req,
			   const struct gl_http_request *r)
{
	struct gl_http *http = req->http;
	CURL *e = req->easy;
	CURLcode cc = CURLE_OK;
	size_t i;

#define SET(opt, val) \
	do { \
		if (cc == CURLE_OK) \
			cc = curl_easy_setopt(e, opt, val); \
	} while (0)
	SET(CURLOPT_PRIVATE, (void *)req);
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_ERRORBUFFER, req->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	if (req->want_tls_chain)
		SET(CURLOPT_CERTINFO, 1L);
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	if (req->follow_redirects) {
		SET(CURLOPT_FOLLOWLOCATION, 1L);
		SET(CURLOPT_MAXREDIRS, GL_HTTP_MAX_REDIRECTS);
	}
	SET(CURLOPT_CONNECTTIMEOUT_MS, GL_HTTP_CONNECT_TIMEOUT_MS);
	SET(CURLOPT_TIMEOUT_MS, req->timeout_ms);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_TCP_KEEPIDLE, 30L);
	SET(CURLOPT_TCP_KEEPINTVL, 30L);
	SET(CURLOPT_MAXAGE_CONN, GL_HTTP_IDLE_MAX_S);
#if LIBCURL_VERSION_NUM >= 0x075000
	SET(CURLOPT_MAXLIFETIME_CONN, http->max_age_s);
#endif
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	/*
	 * libcurl reads only the lower-case http_proxy (the upper-case one is
	 * ignored for http:// on purpose, for CGI safety); gitlab-runner, being
	 * Go, honours HTTP_PROXY as well, and operators set it.  NO_PROXY and
	 * https_proxy/HTTPS_PROXY libcurl reads itself.
	 */
	if (!strncmp(req->url, "http://", 7) && !getenv("http_proxy")) {
		const char *upper = getenv("HTTP_PROXY");

		if (upper && *upper)
			SET(CURLOPT_PROXY, upper);
	}
	if (cc == CURLE_OK)
		cc = tls_env_apply(e, http->ca_file);
	if (http->cert_file)
		SET(CURLOPT_SSLCERT, http->cert_file);
	if (http->key_file)
		SET(CURLOPT_SSLKEY, http->key_file);
	SET(CURLOPT_USERAGENT, http->user_agent);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, (void *)req);
	SET(CURLOPT_HEADERFUNCTION, on_header);
	SET(CURLOPT_HEADERDATA, (void *)req);
	if (req->upload_file) {
		curl_mimepart *part;

		req->mime = curl_mime_init(e);
		part = curl_mime_addpart(req->mime);
		if (cc == CURLE_OK)
			cc = curl_mime_name(part, req->upload_field ?
					    req->upload_field : "file");
		if (cc == CURLE_OK)
			cc = curl_mime_filedata(part, req->upload_file);
		if (cc == CURLE_OK)
			cc = curl_mime_filename(part, req->upload_filename ?
						req->upload_filename : "file");
		if (cc == CURLE_OK)
			cc = curl_mime_type(part, "application/octet-stream");
		SET(CURLOPT_MIMEPOST, req->mime);
	} else if (req->put_file) {
		SET(CURLOPT_UPLOAD, 1L);
		SET(CURLOPT_READFUNCTION, on_put_read);
		SET(CURLOPT_READDATA, (void *)req);
	} else if (req->body_from_fd) {
		SET(CURLOPT_UPLOAD, 1L);
		if (strcmp(req->method, "PUT"))
			SET(CURLOPT_CUSTOMREQUEST, req->method);
		SET(CURLOPT_READFUNCTION, on_fd_read);
		SET(CURLOPT_READDATA, (void *)req);
		SET(CURLOPT_SEEKFUNCTION, on_fd_seek);
		SET(CURLOPT_SEEKDATA, (void *)req);
		SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
	} else if (!strcmp(req->method, "GET")) {
		SET(CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(req->method, "HEAD")) {
		SET(CURLOPT_NOBODY, 1L);
	} else {
		if (strcmp(req->method, "POST"))
			SET(CURLOPT_CUSTOMREQUEST, req->method);
		if (req->body || !strcmp(req->method, "POST")) {
			/* libcurl does not copy POSTFIELDS: req->body lives on. */
			SET(CURLOPT_POSTFIELDS, req->body ? req->body : "");
			SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		}
	}
#undef SET
	if (cc != CURLE_OK)
		return cc;
	for (i = 0; r->headers && i < r->headers->nr; i++)
		req->headers = curl_slist_append(req->headers, r->headers->v[i]);
	req->headers = curl_slist_append(req->headers, "Expect:");
	{
		char line[64];

		snprintf(line, sizeof(line), "X-Request-Id: %s",
			 req->resp.request_id);
		req->headers = curl_slist_append(req->headers, line);
	}
	return curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
}

static bool method_ok(const char *m)
{
	return m && (!strcmp(m, "GET") || !strcmp(m, "HEAD") ||
		     !strcmp(m, "POST") ||
		     !strcmp(m, "PUT") || !strcmp(m, "PATCH") ||
		     !strcmp(m, "DELETE"));
}

struct gl_http_req *gl_http_start(struct gl_http *http,
				  const struct gl_http_request *r,
				  gl_http_cb cb, void *ctx)
{
	struct gl_http_req *req = xcalloc(1, sizeof(*req));
	struct buf why = BUF_INIT;
	CURLcode cc;

	strvec_init(&req->lean_headers);
	req->http = http;
	req->next = http->reqs;
	if (http->reqs)
		http->reqs->prev = req;
	http->reqs = req;
	req->cb = cb;
	req->ctx = ctx;
	req->method = xstrdup(r->method ? r->method : "");
	req->url = xstrdup(r->url ? r->url : "");
	if (r->body) {
		/* Not written to either way (libcurl's POSTFIELDS). */
		req->body = r->body_borrowed ? (char *)r->body :
			xmemdup(r->body, r->body_len);
		req->body_len = r->body_len;
		req->body_borrowed = r->body_borrowed;
	} else if (r->body_from_fd) {
		req->body_from_fd = true;
		req->body_fd = r->body_fd;
		req->body_offset = r->body_offset;
		req->body_len = r->body_len;
	}
	req->max_response = r->max_response ? r->max_response :
		CR_MAX_HTTP_BODY;
	req->truncate = r->truncate_response;
	req->timeout_ms = r->timeout_ms == 0 ? GL_HTTP_DEFAULT_TIMEOUT_MS :
		r->timeout_ms < 0 ? 0 : r->timeout_ms;
	req->header_timeout_ms = r->response_header_timeout_ms > 0 ?
		r->response_header_timeout_ms : 0;
	req->no_retry = r->no_retry;
	req->follow_redirects = r->follow_redirects;
	req->want_tls_chain = r->want_tls_chain &&
		!strncasecmp(req->url, "https://", 8);
	req->download_fd = -1;
	req->upload_file = r->upload_file ? xstrdup(r->upload_file) : NULL;
	req->upload_field = r->upload_field ? xstrdup(r->upload_field) : NULL;
	req->upload_filename = r->upload_filename ?
		xstrdup(r->upload_filename) : NULL;
	req->put_file = r->put_file ? xstrdup(r->put_file) : NULL;
	req->download_file = r->download_file ?
		xstrdup(r->download_file) : NULL;
	buf_init(&req->resp.body, req->max_response);
	buf_init(&req->resp.error, 0);
	buf_init(&req->resp.tls_chain, 0);
	new_request_id(req->resp.request_id);

	if (!method_ok(r->method)) {
		buf_seterr(&req->resp.error, "unsupported HTTP method '%s'",
			   req->method);
		req_fail_later(req, CURLE_BAD_FUNCTION_ARGUMENT);
		return req;
	}
	if (!needs_libcurl(http, r, &why)) {
		size_t i;

		for (i = 0; r->headers && i < r->headers->nr; i++)
			strvec_push(&req->lean_headers, r->headers->v[i]);
		strvec_pushf(&req->lean_headers, "User-Agent: %s",
			     http->user_agent);
		/* As libcurl's CURLOPT_ACCEPT_ENCODING "" does, for the
		 * codings the lean client decodes (body_decode.h). */
		strvec_push(&req->lean_headers, "Accept-Encoding: deflate, gzip");
		strvec_pushf(&req->lean_headers, "X-Request-Id: %s",
			     req->resp.request_id);
		attempt_start(req);
		return req;
	}
	if (why.len)
		log_debug("%s %s: libcurl sends it: %s", req->method, req->url,
			  why.data);
	buf_release(&why);
	if (!(req->easy = curl_easy_init())) {
		buf_seterr(&req->resp.error, "cannot create a libcurl handle");
		req_fail_later(req, CURLE_FAILED_INIT);
		return req;
	}
	if ((cc = setup_easy(req, r)) != CURLE_OK) {
		buf_seterr(&req->resp.error, "cannot set up request: %s",
			   curl_easy_strerror(cc));
		req_fail_later(req, cc);
		return req;
	}
	attempt_start(req);
	return req;
}

struct sync_state {
	struct gl_http_response *out;
	bool done;
};

static void sync_done(struct gl_http_response *resp, void *ctx)
{
	struct sync_state *st = ctx;
	struct gl_http_response *out = st->out;

	/* Move everything: the layer frees only what is left in resp. */
	gl_http_response_release(out);
	*out = *resp;
	buf_init(&resp->body, 0);
	buf_init(&resp->error, 0);
	resp->headers = NULL;
	resp->nr_headers = 0;
	st->done = true;
}

int gl_http_perform_sync(const struct gl_http_options *opts,
			 const struct gl_http_request *request,
			 struct gl_http_response *resp)
{
	struct loop *loop = loop_new();
	struct gl_http *http = gl_http_new(loop, opts);
	struct sync_state st = { resp, false };
	struct gl_http_req *req;

	req = gl_http_start(http, request, sync_done, &st);
	while (!st.done) {
		if (loop_run_once(loop, 1000) != 0) {
			gl_http_cancel(req);
			resp->result = GL_ERROR;
			buf_seterr(&resp->error, "event loop failed: %s",
				   strerror(errno));
			break;
		}
	}
	gl_http_free(http);
	loop_free(loop);
	return 0;
}
