/*
 * Asynchronous HTTP for the coordinator client: libcurl's multi interface
 * driven by the one event loop (src/util/loop.h), and for the requests
 * marked lean_ok (the idle poll) the lean HTTP/1.1 client (lean_http.h),
 * so that an idle runner does not load libcurl.
 *
 * The caller does:
 *  1. http = gl_http_new(loop, &opts): one multi handle (its own, or a
 *     pool's that other clients share), so connections are kept alive and
 *     reused between requests;
 *  2. req = gl_http_start(http, &request, cb, ctx) for each request; the
 *     request is copied, the caller's strings may go away at once;
 *  3. runs the loop; cb is called exactly once per started request, from
 *     the loop (never from inside gl_http_start), unless the request is
 *     cancelled first with gl_http_cancel();
 *  4. gl_http_free(http) outside any callback (from one it aborts):
 *     pending requests are dropped without their callbacks.
 *
 * Retries (spec section 0.4) happen inside: an answer 408, 429, 500, 502,
 * 503, 504 or >= 512 is retried up to GL_HTTP_MAX_ATTEMPTS attempts in all,
 * waiting as RateLimit-ResetTime or Retry-After say, else an exponential
 * back-off from 100 ms doubling with jitter up to 60 s, on a loop timer.
 * After the last attempt the last answer goes to cb as it is.  Requests
 * that got no answer at all (network errors) are not retried here: the
 * caller decides, from result GL_RETRY.
 *
 * For the CLI verbs, gl_http_perform_sync() runs one request on a private
 * loop with the same code.
 */
#ifndef CR_GL_HTTP_H
#define CR_GL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/strvec.h"

struct loop;
struct gl_http;
struct gl_http_req;

/*
 * What came of a request, decided in one place (gl_http_classify()).
 * The HTTP status is kept next to it for the callers that need more.
 */
enum gl_result {
	GL_OK = 0,		/* 2xx */
	GL_NOT_FOUND,		/* 404 */
	GL_AUTH,		/* 401, 403: token refused or job not running */
	GL_RATE_LIMITED,	/* 429, still after the retries */
	GL_RETRY,		/* transient: no answer (connect, timeout, reset),
				 * or 408/5xx still after the retries */
	GL_REJECTED,		/* any other status: the request itself is wrong
				 * or conflicts (400, 409, 412, 416, 422...) */
	GL_TOO_LARGE,		/* the answer's body went over the cap */
	GL_BAD_RESPONSE,	/* an answer the caller cannot use (set by the
				 * API layer, e.g. a 201 job that is not JSON) */
	GL_ERROR,		/* local failure: bad URL, unreadable TLS files;
				 * trying again will not help */
};

/* A short lower-case name for logs: "ok", "not found"... */
const char *gl_result_name(enum gl_result r);

#define GL_HTTP_MAX_ATTEMPTS 5
#define GL_HTTP_BACKOFF_BASE_MS 100L
#define GL_HTTP_BACKOFF_MAX_MS 60000L
/* A Retry-After or RateLimit-ResetTime wait is never longer than this. */
#define GL_HTTP_HEADER_WAIT_MAX_MS (15L * 60 * 1000)
#define GL_HTTP_CONNECT_TIMEOUT_MS 30000L
/* Whole-request timeout when a request does not set one. */
#define GL_HTTP_DEFAULT_TIMEOUT_MS (2L * 60 * 1000)
/* Connections idle this long are closed rather than reused. */
#define GL_HTTP_IDLE_MAX_S 90L
/* connection_max_age default (spec 0.2): recycle connections after it. */
#define GL_HTTP_CONNECTION_MAX_AGE_S (15L * 60)
/* Response headers kept per answer, and their total size. */
#define GL_HTTP_MAX_HEADERS 100
#define GL_HTTP_MAX_HEADER_BYTES ((size_t)64 << 10)
#define GL_HTTP_MAX_REDIRECTS 10L

struct gl_http_options {
	const char *ca_file;		/* tls-ca-file; NULL: system store */
	const char *cert_file;		/* tls-cert-file (client cert) */
	const char *key_file;		/* tls-key-file */
	/* Connections older than this are not reused (libcurl's
	 * CURLOPT_MAXLIFETIME_CONN); idle ones are closed after
	 * GL_HTTP_IDLE_MAX_S (CURLOPT_MAXAGE_CONN).  0: the default. */
	long connection_max_age_s;
	const char *user_agent;		/* NULL: gl_identity_user_agent() */
	/* Tests shorten these; 0 means the GL_HTTP_* default. */
	long backoff_base_ms;
	unsigned max_attempts;
	/* NULL: the client has a multi handle of its own; else it borrows
	 * this pool's (see gl_http_pool_new()). */
	struct gl_http_pool *pool;
};

/*
 * A connection pool that several clients on one loop share: one libcurl
 * multi handle (made on the first request libcurl sends) and one lean
 * client cache, so the runners of one process keep one connection cache
 * (connections to one GitLab reused across them, HTTP/2 multiplexed where
 * the server speaks it) instead of one cache and idle connection each.
 * TLS settings stay per client: libcurl reuses a connection only for a
 * request with the same ones.  The pool must outlive every client that
 * borrows it.  Never fails (allocation failures abort).
 */
struct gl_http_pool *gl_http_pool_new(struct loop *loop);
void gl_http_pool_free(struct gl_http_pool *pool);

/*
 * One request.  Everything is copied by gl_http_start(), but a borrowed
 * body.  headers holds
 * complete lines ("JOB-TOKEN: ..."); they are wiped when the request ends,
 * as is the body, since both may carry tokens.  User-Agent, X-Request-Id
 * (32 random hex digits, the same on every attempt of one request) and an
 * empty Expect are added here.
 */
struct gl_http_request {
	const char *method;		/* "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" */
	const char *url;		/* absolute http(s) URL */
	const struct strvec *headers;	/* may be NULL */
	const char *body;		/* may be NULL: no body */
	size_t body_len;
	/*
	 * The caller keeps body unchanged until the callback runs or the
	 * request is cancelled: it is sent from there, not copied (the trace
	 * sender's 1 MiB chunks), and not wiped here.
	 */
	bool body_borrowed;
	/*
	 * With body_from_fd (and body NULL), the body is body_len bytes of
	 * the file body_fd from body_offset, read with pread() into
	 * libcurl's buffer as it sends them: no copy of it in memory.  The
	 * caller keeps the fd open and those bytes unchanged until the
	 * callback runs or the request is cancelled.  libcurl sends it.
	 */
	bool body_from_fd;
	int body_fd;
	uint64_t body_offset;
	size_t max_response;		/* body cap; 0: CR_MAX_HTTP_BODY */
	bool truncate_response;		/* past the cap: drop the rest, no error */
	long timeout_ms;		/* whole request; 0: default, < 0: none */
	/*
	 * Once the body is sent, the answer's status line must come within
	 * this (Go's http.Transport ResponseHeaderTimeout); 0: no deadline.
	 * Past it the request fails with GL_ERROR, "timeout awaiting
	 * response headers", and is not tried again.
	 */
	long response_header_timeout_ms;
	bool no_retry;			/* one attempt only */
	/* Follow up to GL_HTTP_MAX_REDIRECTS redirects.  Never with a token
	 * header: libcurl would send it to the new host too. */
	bool follow_redirects;
	/*
	 * Streamed bodies, for artifacts and caches; the files are read and
	 * written piece by piece, never held in memory, and every attempt
	 * starts them again from the beginning.
	 *  - upload_file: a multipart/form-data body of one part, field
	 *    upload_field, filename upload_filename, type
	 *    application/octet-stream, read from this file (method POST);
	 *  - put_file: the body is this file as it is (method PUT);
	 *  - download_file: a 2xx answer's body goes into this file (created
	 *    or truncated, mode 0600) instead of resp.body; other answers
	 *    still fill resp.body up to max_response.
	 */
	const char *upload_file;
	const char *upload_field;
	const char *upload_filename;
	const char *put_file;
	const char *download_file;
	/*
	 * The lean HTTP/1.1 client (lean_http.h) may send it instead of
	 * libcurl: set for the idle runner's poll, so that a runner loads
	 * libcurl only when a job arrives.  libcurl still sends it when a
	 * proxy variable is set, with SSL_CERT_DIR and no CA
	 * file, for https when mbed TLS cannot be loaded, and when
	 * CRUNNER_LEAN_HTTP=0 (the debug log says why).
	 */
	bool lean_ok;
	/*
	 * https: fill gl_http_response.tls_chain with the certificates that
	 * verified the server (the job request: CI_SERVER_TLS_CA_FILE).
	 */
	bool want_tls_chain;
};

struct gl_http_header {
	char *name;
	char *value;
};

/*
 * The answer.  In a callback it belongs to the HTTP layer and lives until
 * the callback returns; take the body with buf_detach() to keep it.
 * From gl_http_perform_sync() it belongs to the caller, who calls
 * gl_http_response_release().
 */
struct gl_http_response {
	enum gl_result result;
	long status;			/* 0: no HTTP answer */
	struct buf body;
	struct gl_http_header *headers;	/* of the final answer only */
	size_t nr_headers;
	struct buf error;		/* why there is no answer, for logs */
	unsigned attempts;		/* > 1: the server asked us to retry */
	char request_id[33];
	/*
	 * With want_tls_chain over https: the PEM of the server's chain
	 * (tls_chain.h), the server's certificate first.  The lean client
	 * gives the chain it verified, up to the trusted CA; libcurl the
	 * certificates the server sent.  Empty otherwise.
	 */
	struct buf tls_chain;
};

#define GL_HTTP_RESPONSE_INIT { .body = BUF_INIT, .error = BUF_INIT, \
				.tls_chain = BUF_INIT }

/* The last value of header name (case-insensitive), or NULL. */
const char *gl_http_response_header(const struct gl_http_response *resp,
				    const char *name);
void gl_http_response_release(struct gl_http_response *resp);

typedef void (*gl_http_cb)(struct gl_http_response *resp, void *ctx);

/* Never fails (allocation failures abort); opts may be NULL. */
struct gl_http *gl_http_new(struct loop *loop,
			    const struct gl_http_options *opts);
void gl_http_free(struct gl_http *http);

/*
 * Starts a request.  Returns a handle for gl_http_cancel(), valid until cb
 * has been called.  Problems found here (a bad method, curl refusing an
 * option) are reported through cb like any other failure.
 */
struct gl_http_req *gl_http_start(struct gl_http *http,
				  const struct gl_http_request *request,
				  gl_http_cb cb, void *ctx);

/* Drops a request that has not completed; cb will not be called. */
void gl_http_cancel(struct gl_http_req *req);

/*
 * Runs one request to its end on a private loop and client.  resp must be
 * GL_HTTP_RESPONSE_INIT; it is filled in every case.  Returns 0.
 */
int gl_http_perform_sync(const struct gl_http_options *opts,
			 const struct gl_http_request *request,
			 struct gl_http_response *resp);

/*
 * Mapping of a libcurl code and HTTP status to a result (the one place
 * that does it).  status 0 means no answer; over_cap means the body went
 * past its cap.
 */
enum gl_result gl_http_classify(int curl_code, long status, bool over_cap);

/* Whether an answer with this status is retried (spec section 0.4). */
bool gl_http_status_is_transient(long status);

/*
 * How long to wait before the next attempt: from RateLimit-ResetTime or
 * Retry-After of resp, else back-off for attempt (1 = the first retry).
 * now is the current Unix time.  Exposed for the unit tests.
 */
long gl_http_retry_delay_ms(const struct gl_http_response *resp,
			    unsigned attempt, long base_ms, long long now);

#endif
