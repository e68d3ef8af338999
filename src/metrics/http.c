/*
 * The metrics listener: libmicrohttpd without any thread of its own.  It
 * runs in epoll mode, so the whole server is one descriptor (MHD's epoll
 * fd) watched by our loop, plus one timer for what MHD_get_timeout()
 * asks (connection timeouts, or 0 when it has work ready).  Both call
 * MHD_run(), which never blocks in this mode.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define HTTP_CONNECTION_LIMIT 64
#define HTTP_CONNECTION_TIMEOUT_S 30
#define HTTP_BACKLOG 64

struct metrics_http {
	struct loop *loop;
	struct MHD_Daemon *daemon;
	int epoll_fd;
	uint64_t timer;
	metrics_render_cb render;
	void *ctx;
};

int metrics_split_address(const char *address, char **host, char **port,
			  struct buf *err)
{
	const char *colon, *h = address, *p = NULL;
	size_t hlen;

	*host = *port = NULL;
	if (!address || !*address) {
		buf_seterr(err, "empty listen address");
		return CR_ERR_INVALID;
	}
	if (*address == '[') {
		const char *end = strchr(address, ']');

		if (!end || (end[1] && end[1] != ':')) {
			buf_seterr(err, "invalid listen address '%s'", address);
			return CR_ERR_INVALID;
		}
		h = address + 1;
		hlen = (size_t)(end - h);
		if (end[1] == ':')
			p = end + 2;
	} else {
		colon = strchr(address, ':');
		if (colon && strchr(colon + 1, ':')) {
			buf_seterr(err, "invalid listen address '%s': too many colons (put an IPv6 address in brackets)",
				   address);
			return CR_ERR_INVALID;
		}
		hlen = colon ? (size_t)(colon - address) : strlen(address);
		if (colon)
			p = colon + 1;
	}
	if (p && (!*p || strspn(p, "0123456789") != strlen(p))) {
		buf_seterr(err, "invalid port in listen address '%s'", address);
		return CR_ERR_INVALID;
	}
	*host = hlen ? xstrndup(h, hlen) : NULL;
	*port = xstrdup(p ? p : METRICS_DEFAULT_PORT);
	return 0;
}

static int listen_on(const char *address, char **bound, struct buf *err)
{
	struct addrinfo hints = { 0 }, *res = NULL, *ai;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char *host = NULL, *port = NULL, ip[INET6_ADDRSTRLEN] = "", pbuf[16];
	int fd = -1, one = 1, rc, saved = 0;

	if (metrics_split_address(address, &host, &port, err))
		goto out;
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	if ((rc = getaddrinfo(host, port, &hints, &res)) != 0) {
		buf_seterr(err, "cannot resolve listen address '%s': %s",
			   address, gai_strerror(rc));
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, HTTP_BACKLOG) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		buf_seterr(err, "cannot listen on '%s': %s", address,
			   strerror(saved));
		goto out;
	}
	if (bound && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
		if (ss.ss_family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

			inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
			snprintf(pbuf, sizeof(pbuf), "%u", ntohs(s6->sin6_port));
			*bound = xmalloc(strlen(ip) + strlen(pbuf) + 4);
			snprintf(*bound, strlen(ip) + strlen(pbuf) + 4, "[%s]:%s",
				 ip, pbuf);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

			inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
			snprintf(pbuf, sizeof(pbuf), "%u", ntohs(s4->sin_port));
			*bound = xmalloc(strlen(ip) + strlen(pbuf) + 2);
			snprintf(*bound, strlen(ip) + strlen(pbuf) + 2, "%s:%s",
				 ip, pbuf);
		}
	}
out:
	if (res)
		freeaddrinfo(res);
	free(host);
	free(port);
	return fd;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status,
			     struct buf *body, const char *type)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	size_t len;
	char *data = buf_detach(body, &len);

	resp = MHD_create_response_from_buffer(len, data,
					       MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct metrics_http *h = cls;
	struct buf body = BUF_INIT;
	static const char text[] = "text/plain; charset=utf-8";

	(void)version;
	(void)upload;
	(void)con_cls;
	if (*upload_size) {
		*upload_size = 0;	/* a body we do not want: ignore it */
		return MHD_YES;
	}
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		buf_addstr(&body, "Method Not Allowed\n");
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, &body, text);
	}
	if (!strcmp(url, "/metrics")) {
		h->render(&body, h->ctx);
		return reply(conn, MHD_HTTP_OK, &body,
			     "text/plain; version=0.0.4; charset=utf-8");
	}
	if (!strcmp(url, "/health") || !strcmp(url, "/-/health")) {
		buf_addstr(&body, "ok\n");
		return reply(conn, MHD_HTTP_OK, &body, text);
	}
	buf_addstr(&body, "404 page not found\n");
	return reply(conn, MHD_HTTP_NOT_FOUND, &body, text);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct buf msg = BUF_INIT;

	(void)cls;
	buf_vaddf(&msg, fmt, ap);
	while (msg.len && msg.data[msg.len - 1] == '\n')
		buf_setlen(&msg, msg.len - 1);
	log_debug("metrics server: %s", msg.data);
	buf_release(&msg);
}

static void run_and_rearm(struct metrics_http *h);

static long on_timer(struct loop *loop, void *ctx)
{
	struct metrics_http *h = ctx;

	(void)loop;
	h->timer = 0;
	run_and_rearm(h);
	return LOOP_TIMER_STOP;
}

static void run_and_rearm(struct metrics_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	MHD_run(h->daemon);
	if (h->timer) {
		loop_cancel_timer(h->loop, h->timer);
		h->timer = 0;
	}
	if (MHD_get_timeout(h->daemon, &ms) == MHD_YES)
		h->timer = loop_add_timer(h->loop, ms > 60000 ? 60000L :
					  (long)ms, on_timer, h);
}

static void on_epoll(struct loop *loop, int fd, unsigned events, void *ctx)
{
	(void)loop;
	(void)fd;
	(void)events;
	run_and_rearm(ctx);
}

int metrics_http_start(struct loop *loop, const char *address,
		       metrics_render_cb render, void *ctx,
		       struct metrics_http **out, char **bound,
		       struct buf *err)
{
	struct metrics_http *h;
	const union MHD_DaemonInfo *info;
	int fd;

	*out = NULL;
	if ((fd = listen_on(address, bound, err)) < 0)
		return CR_ERR_IO;
	h = xcalloc(1, sizeof(*h));
	h->loop = loop;
	h->render = render;
	h->ctx = ctx;
	h->epoll_fd = -1;
	/* The logger goes first, or MHD may print to stderr while starting. */
	h->daemon = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
				     NULL, NULL, on_request, h,
				     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				     MHD_OPTION_LISTEN_SOCKET, fd,
				     MHD_OPTION_CONNECTION_LIMIT,
				     (unsigned)HTTP_CONNECTION_LIMIT,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned)HTTP_CONNECTION_TIMEOUT_S,
				     MHD_OPTION_END);
	if (!h->daemon) {
		close(fd);
		free(h);
		buf_seterr(err, "cannot start the metrics server on '%s'",
			   address);
		return CR_ERR_IO;
	}
	info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0) {
		metrics_http_free(h);
		buf_seterr(err, "the metrics server has no epoll descriptor");
		return CR_ERR_INTERNAL;
	}
	h->epoll_fd = info->epoll_fd;
	loop_watch_fd(loop, h->epoll_fd, LOOP_READ, on_epoll, h);
	run_and_rearm(h);
	*out = h;
	return 0;
}

void metrics_http_free(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->timer)
		loop_cancel_timer(h->loop, h->timer);
	if (h->epoll_fd >= 0)
		loop_unwatch_fd(h->loop, h->epoll_fd);
	/* MHD closes the listening socket it was given. */
	MHD_stop_daemon(h->daemon);
	free(h);
}
