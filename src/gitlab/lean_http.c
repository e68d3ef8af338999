/*
 * The lean HTTP/1.1 client of lean_http.h: connections, their cache, and
 * one request's way through connect, (TLS handshake,) send and receive on
 * the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gitlab/body_decode.h"
#include "gitlab/lean_http.h"
#include "gitlab/lean_tls.h"
#include "util/loop.h"
#include "util/resolver.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define LEAN_READ_CHUNK ((size_t)16 << 10)

struct lean_conn {
	struct lean_http *lh;
	struct lean_conn *next;		/* in the idle list */
	char *key;			/* scheme://host:port + TLS files */
	int fd;
	struct lean_tls *tls;		/* NULL: plain TCP */
	uint64_t born_ms;
	uint64_t idle_timer;		/* while idle */
	bool used;			/* carried a request before */
};

struct lean_http {
	struct loop *loop;
	struct lean_conn *idle;
	struct lean_http_req *reqs;	/* live requests */
};

enum req_step { STEP_START, STEP_RESOLVE, STEP_CONNECT, STEP_HANDSHAKE,
		STEP_SEND, STEP_RECV, STEP_DONE };

struct lean_http_req {
	struct lean_http *lh;
	struct lean_http_req *prev, *next;
	enum req_step step;
	bool https;
	char *host, *port, *key;
	struct lean_tls_files tls;	/* copies */
	struct buf *tls_chain_pem;	/* the caller's; may be NULL */
	struct buf out;			/* the request as sent (secret) */
	size_t sent;
	long max_age_s, idle_max_s, connect_timeout_ms, timeout_ms;
	struct addrinfo *addrs, *next_addr;
	struct resolver *resolving;	/* the host's lookup, in a thread */
	struct lean_conn *conn;
	bool got_bytes;			/* any answer byte on this connection */
	bool retried;			/* once, after a stale kept-alive one */
	struct http1_parser parser;
	struct body_decoder decoder;	/* gzip, deflate */
	bool decode_failed;
	const struct http1_sink *sink;	/* the caller's */
	void *sink_ctx;
	uint64_t kick_timer, deadline_timer, connect_timer;
	lean_http_done done;
	void *ctx;
	enum lean_error err;		/* set on the way to STEP_DONE */
	struct buf why;
};

static void conn_close(struct lean_conn *c)
{
	if (!c)
		return;
	if (c->idle_timer)
		loop_cancel_timer(c->lh->loop, c->idle_timer);
	if (c->fd >= 0) {
		loop_unwatch_fd(c->lh->loop, c->fd);
		lean_tls_free(c->tls);
		close(c->fd);
	}
	free(c->key);
	free(c);
}

static void idle_unlink(struct lean_conn *c)
{
	struct lean_conn **pp;

	for (pp = &c->lh->idle; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	c->next = NULL;
	if (c->idle_timer)
		loop_cancel_timer(c->lh->loop, c->idle_timer);
	c->idle_timer = 0;
	loop_unwatch_fd(c->lh->loop, c->fd);
}

/* An idle connection became readable: the server closed it (or sent
 * something no request asked for); either way it is of no more use. */
static void on_idle_event(struct loop *loop, int fd, unsigned ev, void *ctx)
{
	struct lean_conn *c = ctx;

	(void)loop;
	(void)fd;
	(void)ev;
	idle_unlink(c);
	conn_close(c);
}

static long on_idle_expired(struct loop *loop, void *ctx)
{
	struct lean_conn *c = ctx;

	(void)loop;
	c->idle_timer = 0;
	idle_unlink(c);
	conn_close(c);
	return LOOP_TIMER_STOP;
}

static void conn_park(struct lean_conn *c, long idle_max_s)
{
	struct lean_http *lh = c->lh;

	c->used = true;
	c->next = lh->idle;
	lh->idle = c;
	if (loop_watch_fd(lh->loop, c->fd, LOOP_READ, on_idle_event, c) != 0) {
		idle_unlink(c);
		conn_close(c);
		return;
	}
	c->idle_timer = loop_add_timer(lh->loop, idle_max_s * 1000,
				       on_idle_expired, c);
}

struct lean_http *lean_http_new(struct loop *loop)
{
	struct lean_http *lh = xcalloc(1, sizeof(*lh));

	lh->loop = loop;
	return lh;
}

void lean_http_free(struct lean_http *lh)
{
	if (!lh)
		return;
	if (lh->reqs) {
		fprintf(stderr, "BUG: lean_http_free() with live requests\n");
		abort();
	}
	while (lh->idle) {
		struct lean_conn *c = lh->idle;

		idle_unlink(c);
		conn_close(c);
	}
	free(lh);
}

size_t lean_http_idle_connections(const struct lean_http *lh)
{
	const struct lean_conn *c;
	size_t n = 0;

	for (c = lh->idle; c; c = c->next)
		n++;
	return n;
}

/* ---- the request's end ---- */

static void req_unlink(struct lean_http_req *req)
{
	struct lean_http *lh = req->lh;

	if (req->prev)
		req->prev->next = req->next;
	else if (lh->reqs == req)
		lh->reqs = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
}

static void req_free(struct lean_http_req *req)
{
	struct loop *loop = req->lh->loop;

	req_unlink(req);
	if (req->kick_timer)
		loop_cancel_timer(loop, req->kick_timer);
	if (req->deadline_timer)
		loop_cancel_timer(loop, req->deadline_timer);
	if (req->connect_timer)
		loop_cancel_timer(loop, req->connect_timer);
	resolver_cancel(req->resolving);
	conn_close(req->conn);
	if (req->addrs)
		freeaddrinfo(req->addrs);
	http1_parser_release(&req->parser);
	body_decoder_release(&req->decoder);
	buf_release_secret(&req->out);
	buf_release(&req->why);
	free(req->host);
	free(req->port);
	free(req->key);
	free((char *)req->tls.ca_file);
	free((char *)req->tls.cert_file);
	free((char *)req->tls.key_file);
	free(req);
}

void lean_http_cancel(struct lean_http_req *req)
{
	if (!req || req->step == STEP_DONE)
		return;	/* done is running: freed after it */
	req_free(req);
}

/* Ends the request: the connection goes back to the cache when the answer
 * left it reusable; then done, then the request is freed. */
static void finish(struct lean_http_req *req, enum lean_error err)
{
	struct lean_conn *c = req->conn;

	req->step = STEP_DONE;
	if (c && c->tls && err == LEAN_OK && req->tls_chain_pem)
		lean_tls_verified_chain_pem(c->tls, req->tls_chain_pem);
	if (c && err == LEAN_OK && req->parser.keep_alive) {
		req->conn = NULL;
		loop_unwatch_fd(req->lh->loop, c->fd);
		conn_park(c, req->idle_max_s);
	}
	conn_close(req->conn);
	req->conn = NULL;
	req->done(req->ctx, err, err == LEAN_OK ? req->parser.status : 0,
		  req->why.len ? req->why.data : "");
	req_free(req);
}

__attribute__((format(printf, 3, 4)))
static void fail(struct lean_http_req *req, enum lean_error err,
		 const char *fmt, ...)
{
	va_list ap;

	buf_reset(&req->why);
	va_start(ap, fmt);
	(void)buf_vaddf(&req->why, fmt, ap);
	va_end(ap);
	finish(req, err);
}

/* ---- the answer, decoded, to the caller's sink ---- */

static bool wrap_header(void *ctx, const char *line, size_t len)
{
	struct lean_http_req *req = ctx;
	static const char ce[] = "Content-Encoding:";

	if (len >= 5 && !memcmp(line, "HTTP/", 5))
		body_decoder_reset(&req->decoder);	/* a new answer */
	else if (len >= sizeof(ce) - 1 && !strncasecmp(line, ce, sizeof(ce) - 1) &&
		 !body_decoder_set(&req->decoder, line + sizeof(ce) - 1,
				   len - (sizeof(ce) - 1)))
		req->decode_failed = true;
	return req->sink->on_header(req->sink_ctx, line, len);
}

static bool wrap_body(void *ctx, const char *data, size_t len)
{
	struct lean_http_req *req = ctx;

	if (req->decode_failed)
		return false;
	if (!body_decoder_feed(&req->decoder, data, len, req->sink->on_body,
			       req->sink_ctx)) {
		/* The caller's own refusal stays a refusal. */
		req->decode_failed = !req->decoder.refused;
		return false;
	}
	return true;
}

static const struct http1_sink wrap_sink = { wrap_header, wrap_body };

static void parser_start(struct lean_http_req *req, bool head_request)
{
	http1_parser_init(&req->parser, &wrap_sink, req, head_request);
	body_decoder_init(&req->decoder);
	req->decode_failed = false;
}

/* ---- connect ---- */

static void try_connect(struct lean_http_req *req);
static void start_send(struct lean_http_req *req);
static void on_conn_event(struct loop *loop, int fd, unsigned ev, void *ctx);

static void set_socket_options(int fd)
{
	int one = 1, idle = 30;

	/* As the libcurl path: no Nagle delay, keep-alive probes after 30 s. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
}

static bool watch(struct lean_http_req *req, unsigned events)
{
	if (loop_watch_fd(req->lh->loop, req->conn->fd, events, on_conn_event,
			  req) != 0) {
		fail(req, LEAN_RECV, "cannot watch the connection: %s",
		     strerror(errno));
		return false;
	}
	return true;
}

static long on_connect_timeout(struct loop *loop, void *ctx)
{
	struct lean_http_req *req = ctx;

	(void)loop;
	req->connect_timer = 0;
	fail(req, LEAN_TIMEOUT, "connection to %s port %s timed out after %ld ms",
	     req->host, req->port, req->connect_timeout_ms);
	return LOOP_TIMER_STOP;
}

static void connected(struct lean_http_req *req)
{
	enum lean_error kind = LEAN_TLS;

	freeaddrinfo(req->addrs);
	req->addrs = req->next_addr = NULL;
	if (!req->https) {
		if (req->connect_timer)
			loop_cancel_timer(req->lh->loop, req->connect_timer);
		req->connect_timer = 0;
		start_send(req);
		return;
	}
	req->conn->tls = lean_tls_new(req->conn->fd, req->host, &req->tls,
				      &kind, &req->why);
	if (!req->conn->tls) {
		finish(req, kind);
		return;
	}
	req->step = STEP_HANDSHAKE;
	watch(req, LOOP_WRITE);	/* the first event runs the handshake */
}

static void handshake(struct lean_http_req *req)
{
	enum lean_error kind = LEAN_TLS;
	int r = lean_tls_handshake(req->conn->tls, &kind, &req->why);

	if (r == LEAN_TLS_WANT_READ) {
		watch(req, LOOP_READ);
	} else if (r == LEAN_TLS_WANT_WRITE) {
		watch(req, LOOP_WRITE);
	} else if (r == LEAN_TLS_DONE) {
		if (req->connect_timer)
			loop_cancel_timer(req->lh->loop, req->connect_timer);
		req->connect_timer = 0;
		start_send(req);
	} else {
		finish(req, kind);
	}
}

/* Tries the addresses left, in order, until one is connecting. */
static void try_connect(struct lean_http_req *req)
{
	int last = 0;

	while (req->next_addr) {
		struct addrinfo *a = req->next_addr;
		int fd;

		req->next_addr = a->ai_next;
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			last = errno;
			continue;
		}
		set_socket_options(fd);
		if (connect(fd, a->ai_addr, a->ai_addrlen) != 0 &&
		    errno != EINPROGRESS) {
			last = errno;
			close(fd);
			continue;
		}
		req->conn = xcalloc(1, sizeof(*req->conn));
		req->conn->lh = req->lh;
		req->conn->fd = fd;
		req->conn->key = xstrdup(req->key);
		req->conn->born_ms = loop_now_ms(req->lh->loop);
		req->step = STEP_CONNECT;
		watch(req, LOOP_WRITE);
		return;
	}
	fail(req, LEAN_CONNECT, "cannot connect to %s port %s: %s", req->host,
	     req->port, last ? strerror(last) : "no address");
}

static void connect_done(struct lean_http_req *req)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(req->conn->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err) {
		conn_close(req->conn);
		req->conn = NULL;
		if (req->next_addr) {
			try_connect(req);
			return;
		}
		fail(req, LEAN_CONNECT, "cannot connect to %s port %s: %s",
		     req->host, req->port, strerror(err));
		return;
	}
	connected(req);
}

static void resolved(void *ctx, int rc, struct addrinfo *addrs)
{
	struct lean_http_req *req = ctx;

	req->resolving = NULL;
	if (rc != 0) {
		fail(req, LEAN_RESOLVE, "cannot resolve %s: %s", req->host,
		     rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return;
	}
	req->addrs = addrs;
	req->next_addr = addrs;
	try_connect(req);
}

/*
 * The connect timeout counts from here, the name's lookup included (as
 * libcurl's CURLOPT_CONNECTTIMEOUT does); the lookup runs in a thread
 * (resolver.h), so a slow DNS server holds up this request only.
 */
static void open_connection(struct lean_http_req *req)
{
	struct addrinfo hints = { 0 };

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	if (req->connect_timeout_ms > 0)
		req->connect_timer = loop_add_timer(req->lh->loop,
						    req->connect_timeout_ms,
						    on_connect_timeout, req);
	req->step = STEP_RESOLVE;
	req->resolving = resolver_start(req->lh->loop, req->host, req->port,
					&hints, resolved, req);
}

/* A kept-alive connection for req's key that is young enough, or NULL. */
static struct lean_conn *take_idle(struct lean_http_req *req)
{
	struct lean_http *lh = req->lh;
	uint64_t now = loop_now_ms(lh->loop);
	struct lean_conn *c;

	for (c = lh->idle; c; c = c->next) {
		if (strcmp(c->key, req->key))
			continue;
		idle_unlink(c);
		if (now - c->born_ms >= (uint64_t)req->max_age_s * 1000) {
			conn_close(c);
			return take_idle(req);
		}
		return c;
	}
	return NULL;
}

static long on_kick(struct loop *loop, void *ctx)
{
	struct lean_http_req *req = ctx;

	(void)loop;
	req->kick_timer = 0;
	if ((req->conn = take_idle(req))) {
		start_send(req);
		return LOOP_TIMER_STOP;
	}
	open_connection(req);
	return LOOP_TIMER_STOP;
}

/* ---- send and receive ---- */

static ssize_t conn_write(struct lean_conn *c, const void *data, size_t len)
{
	ssize_t n;

	if (c->tls)
		return lean_tls_write(c->tls, data, len);
	n = send(c->fd, data, len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return LEAN_TLS_WANT_WRITE;
	return n < 0 ? LEAN_TLS_FAILED : n;
}

static ssize_t conn_read(struct lean_conn *c, void *data, size_t len)
{
	ssize_t n;

	if (c->tls)
		return lean_tls_read(c->tls, data, len);
	n = recv(c->fd, data, len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return LEAN_TLS_WANT_READ;
	return n < 0 ? LEAN_TLS_FAILED : n;
}

/*
 * A kept-alive connection the server had closed (GitLab's, or a proxy's,
 * idle timeout raced our request): the request never reached it, so it
 * goes once more on a new connection, as libcurl does.
 */
static bool retry_on_new_connection(struct lean_http_req *req)
{
	if (!req->conn || !req->conn->used || req->got_bytes || req->retried)
		return false;
	req->retried = true;
	conn_close(req->conn);
	req->conn = NULL;
	req->sent = 0;
	http1_parser_release(&req->parser);
	body_decoder_release(&req->decoder);
	parser_start(req, !strncmp(req->out.data, "HEAD ", 5));
	open_connection(req);
	return true;
}

static void start_send(struct lean_http_req *req)
{
	req->step = STEP_SEND;
	req->sent = 0;
	watch(req, LOOP_WRITE);
}

static void send_more(struct lean_http_req *req)
{
	while (req->sent < req->out.len) {
		ssize_t n = conn_write(req->conn, req->out.data + req->sent,
				       req->out.len - req->sent);

		if (n == LEAN_TLS_WANT_WRITE) {
			watch(req, LOOP_WRITE);
			return;
		}
		if (n == LEAN_TLS_WANT_READ) {
			watch(req, LOOP_READ);
			return;
		}
		if (n < 0) {
			int e = errno;

			if (!retry_on_new_connection(req))
				fail(req, LEAN_SEND, "cannot send to %s: %s",
				     req->host, req->conn->tls ?
				     "TLS write failed" : strerror(e));
			return;
		}
		req->sent += (size_t)n;
	}
	req->step = STEP_RECV;
	watch(req, LOOP_READ);
}

static void receive(struct lean_http_req *req)
{
	char data[LEAN_READ_CHUNK];

	for (;;) {
		ssize_t n = conn_read(req->conn, data, sizeof(data));
		enum http1_status st;
		size_t used = 0;

		if (n == LEAN_TLS_WANT_READ)
			return;	/* still watched for reading */
		if (n == LEAN_TLS_WANT_WRITE) {
			watch(req, LOOP_WRITE);
			return;
		}
		if (n < 0) {
			int e = errno;

			if (!retry_on_new_connection(req))
				fail(req, LEAN_RECV, "connection to %s failed: %s",
				     req->host, req->conn->tls ?
				     "TLS read failed" : strerror(e));
			return;
		}
		if (n == 0) {
			if (retry_on_new_connection(req))
				return;
			st = http1_parse_eof(&req->parser);
			req->parser.keep_alive = false;
		} else {
			req->got_bytes = true;
			st = http1_parse(&req->parser, data, (size_t)n, &used);
			if (st == HTTP1_DONE && used < (size_t)n)
				req->parser.keep_alive = false;	/* extra bytes */
		}
		if (st == HTTP1_DONE && !body_decoder_complete(&req->decoder)) {
			fail(req, LEAN_RECV, "compressed answer from %s cut short",
			     req->host);
			return;
		}
		if (st == HTTP1_DONE) {
			finish(req, LEAN_OK);
			return;
		}
		if (st == HTTP1_ERROR) {
			if (req->decode_failed) {
				fail(req, LEAN_PROTOCOL, "bad answer from %s: %s",
				     req->host, req->decoder.error[0] ?
				     req->decoder.error : req->parser.error);
			} else if (req->parser.sink_refused) {
				fail(req, LEAN_REFUSED, "%s", req->parser.error);
			} else {
				fail(req, n ? LEAN_PROTOCOL : LEAN_RECV,
				     "bad answer from %s: %s", req->host,
				     req->parser.error);
			}
			return;
		}
	}
}

static void on_conn_event(struct loop *loop, int fd, unsigned ev, void *ctx)
{
	struct lean_http_req *req = ctx;

	(void)loop;
	(void)fd;
	(void)ev;
	switch (req->step) {
	case STEP_CONNECT:
		connect_done(req);
		break;
	case STEP_HANDSHAKE:
		handshake(req);
		break;
	case STEP_SEND:
		send_more(req);
		break;
	case STEP_RECV:
		receive(req);
		break;
	default:
		break;
	}
}

static long on_deadline(struct loop *loop, void *ctx)
{
	struct lean_http_req *req = ctx;

	(void)loop;
	req->deadline_timer = 0;
	fail(req, LEAN_TIMEOUT, "no complete answer from %s within %ld ms",
	     req->host, req->timeout_ms);
	return LOOP_TIMER_STOP;
}

/* ---- the start ---- */

/* Splits url into host, port and path; false when it is not one we use. */
static bool parse_url(struct lean_http_req *req, const char *url,
		      const char **path)
{
	const char *host, *end, *colon, *p;
	size_t hlen;

	if (!strncasecmp(url, "http://", 7)) {
		host = url + 7;
	} else if (!strncasecmp(url, "https://", 8)) {
		host = url + 8;
		req->https = true;
	} else {
		return false;
	}
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) || strpbrk(url, " \t\r\n"))
		return false;	/* credentials in the URL: libcurl's job */
	if (*host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (!close)
			return false;
		req->host = xmemdup(host + 1, (size_t)(close - host - 1));
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
		if (!colon && close + 1 != end)
			return false;
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hlen = (size_t)((colon ? colon : end) - host);
		if (!hlen)
			return false;
		req->host = xmemdup(host, hlen);
	}
	if (colon) {
		if (colon + 1 == end || end - colon - 1 > 5)
			return false;
		for (p = colon + 1; p < end; p++)
			if (*p < '0' || *p > '9')
				return false;
		req->port = xmemdup(colon + 1, (size_t)(end - colon - 1));
	} else {
		req->port = xstrdup(req->https ? "443" : "80");
	}
	*path = *end == '/' ? end : NULL;
	if (*end && *end != '/')
		return false;	/* "?query" without a path, or a fragment */
	return true;
}

static bool method_has_body(const char *m)
{
	return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

/* The request head and body, as they go on the wire. */
static void build_request(struct lean_http_req *req,
			  const struct lean_http_request *r, const char *url,
			  const char *path)
{
	const char *host = url + (req->https ? 8 : 7);
	size_t host_len = strcspn(host, "/?#"), i;
	struct buf *o = &req->out;
	const char *frag;

	(void)buf_addf(o, "%s ", r->method);
	if (path) {
		frag = strchr(path, '#');
		(void)buf_add(o, path, frag ? (size_t)(frag - path) :
			      strlen(path));
	} else {
		(void)buf_addch(o, '/');
	}
	(void)buf_addstr(o, " HTTP/1.1\r\nHost: ");
	(void)buf_add(o, host, host_len);
	(void)buf_addstr(o, "\r\n");
	for (i = 0; i < r->nr_headers; i++) {
		(void)buf_addstr(o, r->headers[i]);
		(void)buf_addstr(o, "\r\n");
	}
	if (r->body || method_has_body(r->method))
		(void)buf_addf(o, "Content-Length: %zu\r\n", r->body ?
			       r->body_len : 0);
	(void)buf_addstr(o, "\r\n");
	if (r->body)
		(void)buf_add(o, r->body, r->body_len);
}

static long on_start_failed(struct loop *loop, void *ctx)
{
	struct lean_http_req *req = ctx;

	(void)loop;
	req->kick_timer = 0;
	finish(req, req->err);
	return LOOP_TIMER_STOP;
}

struct lean_http_req *lean_http_start(struct lean_http *lh,
				      const struct lean_http_request *r,
				      const struct http1_sink *sink,
				      void *sink_ctx, lean_http_done done,
				      void *ctx)
{
	struct lean_http_req *req = xcalloc(1, sizeof(*req));
	const char *path = NULL;
	struct buf key = BUF_INIT;

	req->lh = lh;
	req->next = lh->reqs;
	if (lh->reqs)
		lh->reqs->prev = req;
	lh->reqs = req;
	req->sink = sink;
	req->sink_ctx = sink_ctx;
	req->done = done;
	req->ctx = ctx;
	req->max_age_s = r->max_age_s > 0 ? r->max_age_s : 15 * 60;
	req->idle_max_s = r->idle_max_s > 0 ? r->idle_max_s : 90;
	req->connect_timeout_ms = r->connect_timeout_ms;
	req->tls_chain_pem = r->tls_chain_pem;
	buf_init(&req->out, 0);
	buf_init(&req->why, 0);
	parser_start(req, !strcmp(r->method, "HEAD"));
	if (!parse_url(req, r->url, &path)) {
		req->err = LEAN_BAD_URL;
		(void)buf_addf(&req->why, "URL not usable by the lean client: %s",
			       r->url);
		req->kick_timer = loop_add_timer(lh->loop, 0, on_start_failed, req);
		return req;
	}
	if (req->https && r->tls) {
		req->tls.ca_file = r->tls->ca_file ? xstrdup(r->tls->ca_file) : NULL;
		req->tls.cert_file = r->tls->cert_file ?
			xstrdup(r->tls->cert_file) : NULL;
		req->tls.key_file = r->tls->key_file ?
			xstrdup(r->tls->key_file) : NULL;
	}
	(void)buf_addf(&key, "%s://%s:%s\n%s\n%s\n%s", req->https ? "https" : "http",
		       req->host, req->port,
		       req->tls.ca_file ? req->tls.ca_file : "",
		       req->tls.cert_file ? req->tls.cert_file : "",
		       req->tls.key_file ? req->tls.key_file : "");
	req->key = buf_detach(&key, NULL);
	build_request(req, r, r->url, path);
	req->timeout_ms = r->timeout_ms;
	if (r->timeout_ms > 0)
		req->deadline_timer = loop_add_timer(lh->loop, r->timeout_ms,
						     on_deadline, req);
	req->step = STEP_START;
	req->kick_timer = loop_add_timer(lh->loop, 0, on_kick, req);
	return req;
}
