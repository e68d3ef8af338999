/*
 * The lean HTTP/1.1 client: what an idle runner needs to poll POST
 * jobs/request every check_interval without loading libcurl (which maps
 * 6-8 MiB of shared libraries: OpenSSL, GnuTLS, Kerberos, LDAP...).
 *
 * One request at a time per connection, connections kept alive in a
 * cache on one loop (shared by the runners of a process) and reused for
 * the same scheme, host, port and TLS files; responses framed by
 * Content-Length, chunked or the end of the connection (http1_parse.h).
 * http:// over a plain socket; https:// through lean_tls.h, which loads
 * a small TLS library (mbed TLS) on the first https connection.
 *
 * It does not do proxies, redirects, authentication schemes, compressed
 * bodies or streamed files: gl_http (http.c) sends those requests, and
 * every request not marked for it, through libcurl.
 *
 * The caller does:
 *  1. lh = lean_http_new(loop);
 *  2. req = lean_http_start(lh, &request, &sink, sink_ctx, done, ctx):
 *     the request is copied; the sink gets the status and header lines
 *     and the body (http1_parse.h); done is called exactly once, from the
 *     loop (never from inside lean_http_start), unless the request is
 *     cancelled first (lean_http_cancel);
 *  3. lean_http_free(lh) once no request is live.
 * Host names are looked up in a thread of their own (util/resolver.h): a
 * slow DNS server delays the request that needs the name, not the loop.
 */
#ifndef CR_GL_LEAN_HTTP_H
#define CR_GL_LEAN_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "gitlab/http1_parse.h"
#include "util/buf.h"

struct loop;
struct lean_http;
struct lean_http_req;

enum lean_error {
	LEAN_OK = 0,
	LEAN_BAD_URL,		/* not an http(s) URL we can use */
	LEAN_RESOLVE,		/* the host name did not resolve */
	LEAN_CONNECT,		/* no address accepted the connection */
	LEAN_TIMEOUT,		/* the request's time ran out */
	LEAN_SEND,		/* the connection failed while sending */
	LEAN_RECV,		/* ... or while receiving, or closed early */
	LEAN_PROTOCOL,		/* an answer that is not HTTP/1.x */
	LEAN_REFUSED,		/* the sink refused the answer */
	LEAN_TLS,		/* TLS handshake or record failure */
	LEAN_TLS_VERIFY,	/* the server's certificate was not trusted */
	LEAN_TLS_FILES,		/* a CA, certificate or key file is unusable */
};

struct lean_tls_files {
	const char *ca_file;	/* NULL: SSL_CERT_FILE or the system bundle */
	const char *cert_file;	/* client certificate, may be NULL */
	const char *key_file;
};

struct lean_http_request {
	const char *method;
	const char *url;		/* http://host[:port]/path or https:// */
	const char *const *headers;	/* complete lines, without CRLF */
	size_t nr_headers;
	const char *body;		/* may be NULL */
	size_t body_len;
	long timeout_ms;		/* whole request; <= 0: none */
	long connect_timeout_ms;	/* lookup + connect; <= 0: timeout_ms */
	long max_age_s;			/* older connections are not reused */
	long idle_max_s;		/* idle ones are closed after this */
	const struct lean_tls_files *tls;	/* https only, may be NULL */
	/*
	 * https: when not NULL, a request that ends LEAN_OK appends here
	 * the PEM of the chain that verified the server on its connection
	 * (lean_tls_verified_chain_pem).  Must outlive the request.
	 */
	struct buf *tls_chain_pem;
};

/* why is a one-line explanation for LEAN_OK too (empty). */
typedef void (*lean_http_done)(void *ctx, enum lean_error err, long status,
			       const char *why);

/* Never fails (allocation failures abort). */
struct lean_http *lean_http_new(struct loop *loop);
/* Closes the cached connections; no request may be live. */
void lean_http_free(struct lean_http *lh);

struct lean_http_req *lean_http_start(struct lean_http *lh,
				      const struct lean_http_request *r,
				      const struct http1_sink *sink,
				      void *sink_ctx, lean_http_done done,
				      void *ctx);
void lean_http_cancel(struct lean_http_req *req);

/* Idle connections in the cache, for tests and the debug log. */
size_t lean_http_idle_connections(const struct lean_http *lh);

#endif
