#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/grpc_client.h"
#include "autoscale/grpc_frame.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Large windows: a plugin's Update answer should not wait on us. */
#define GRPC_WINDOW (16 << 20)

struct grpc_stream {
	int32_t id;
	struct buf req;
	size_t req_off;
	struct buf resp;	/* DATA received, framed */
	int status;		/* grpc-status; -1 until seen */
	struct buf message;	/* grpc-message, decoded */
	int http_status;
	int closed, abandoned;
	uint32_t rst_code;
	void (*on_message)(void *ctx, const uint8_t *msg, size_t len);
	void (*on_end)(void *ctx, int status, const char *message);
	void *ctx;
	struct grpc_stream *next;
};

struct grpc_conn {
	int fd;
	nghttp2_session *session;
	struct grpc_hook hook;
	int broken;
	struct buf broken_why;
	struct grpc_stream *streams;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void conn_break(struct grpc_conn *c, const char *why)
{
	if (!c->broken)
		buf_addstr(&c->broken_why, why);
	c->broken = 1;
}

static void stream_free(struct grpc_stream *s)
{
	buf_release(&s->req);
	buf_release(&s->resp);
	buf_release(&s->message);
	free(s);
}

static void stream_unlink(struct grpc_conn *c, struct grpc_stream *s)
{
	struct grpc_stream **pp;

	for (pp = &c->streams; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			return;
		}
	}
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data,
		       size_t length, int flags, void *user_data)
{
	struct grpc_conn *c = user_data;
	ssize_t n;

	(void)session;
	(void)flags;
	n = send(c->fd, data, length, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return NGHTTP2_ERR_WOULDBLOCK;
	conn_break(c, strerror(errno));
	return NGHTTP2_ERR_CALLBACK_FAILURE;
}

/* Hands every complete message to a streaming call's callback. */
static void deliver_messages(struct grpc_stream *s)
{
	const uint8_t *msg;
	size_t len, used, off = 0;

	while (grpc_frame_take((const uint8_t *)s->resp.data + off,
			       s->resp.len - off, &msg, &len, &used) == 1) {
		s->on_message(s->ctx, msg, len);
		off += used;
	}
	if (off) {
		memmove(s->resp.data, s->resp.data + off, s->resp.len - off);
		buf_setlen(&s->resp, s->resp.len - off);
	}
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags,
			 int32_t stream_id, const uint8_t *data, size_t len,
			 void *user_data)
{
	struct grpc_stream *s =
		nghttp2_session_get_stream_user_data(session, stream_id);

	(void)flags;
	(void)user_data;
	if (!s || s->abandoned)
		return 0;
	if (buf_add(&s->resp, data, len))
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (s->on_message)
		deliver_messages(s);
	return 0;
}

/* A small decimal header value; -1 when it is not one. */
static int header_int(const uint8_t *v, size_t len)
{
	int n = 0;
	size_t i;

	if (!len || len > 6)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return n;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
		     const uint8_t *name, size_t namelen, const uint8_t *value,
		     size_t valuelen, uint8_t flags, void *user_data)
{
	struct grpc_stream *s = nghttp2_session_get_stream_user_data(
		session, frame->hd.stream_id);

	(void)flags;
	(void)user_data;
	if (!s)
		return 0;
	if (namelen == 7 && !memcmp(name, ":status", 7)) {
		s->http_status = header_int(value, valuelen);
	} else if (namelen == 11 && !memcmp(name, "grpc-status", 11)) {
		s->status = header_int(value, valuelen);
	} else if (namelen == 12 && !memcmp(name, "grpc-message", 12)) {
		buf_reset(&s->message);
		grpc_message_decode(&s->message, (const char *)value, valuelen);
	}
	return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
			   uint32_t error_code, void *user_data)
{
	struct grpc_conn *c = user_data;
	struct grpc_stream *s =
		nghttp2_session_get_stream_user_data(session, stream_id);

	if (!s)
		return 0;
	s->closed = 1;
	s->rst_code = error_code;
	if (s->abandoned) {
		stream_unlink(c, s);
		stream_free(s);
		return 0;
	}
	if (s->on_end) {
		s->on_end(s->ctx, s->status, s->message.data);
		stream_unlink(c, s);
		stream_free(s);
	}
	return 0;
}

static ssize_t read_request(nghttp2_session *session, int32_t stream_id,
			    uint8_t *out, size_t length, uint32_t *data_flags,
			    nghttp2_data_source *source, void *user_data)
{
	struct grpc_stream *s = source->ptr;
	size_t left = s->req.len - s->req_off;

	(void)session;
	(void)stream_id;
	(void)user_data;
	if (length > left)
		length = left;
	memcpy(out, s->req.data + s->req_off, length);
	s->req_off += length;
	if (s->req_off == s->req.len)
		*data_flags |= NGHTTP2_DATA_FLAG_EOF;
	return (ssize_t)length;
}

static int connect_socket(int is_unix, const char *address, struct buf *err)
{
	int fd = -1;

	if (is_unix) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		if (strlen(address) >= sizeof(sa.sun_path)) {
			buf_seterr(err, "plugin socket path too long: %s", address);
			return CR_ERR_INVALID;
		}
		memcpy(sa.sun_path, address, strlen(address) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			buf_seterr(err, "connecting to plugin socket %s: %s",
				   address, strerror(errno));
			goto fail;
		}
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
		char *host = xstrdup(address), *colon = strrchr(host, ':');
		int gr;

		if (!colon) {
			buf_seterr(err, "plugin address '%s' is not host:port",
				   address);
			free(host);
			return CR_ERR_PROTOCOL;
		}
		*colon = '\0';
		gr = getaddrinfo(host, colon + 1, &hints, &ai);
		free(host);
		if (gr) {
			buf_seterr(err, "plugin address %s: %s", address,
				   gai_strerror(gr));
			return CR_ERR_NETWORK;
		}
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			buf_seterr(err, "connecting to plugin at %s: %s",
				   address, strerror(errno));
			freeaddrinfo(ai);
			goto fail;
		}
		freeaddrinfo(ai);
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		buf_seterr(err, "fcntl: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return CR_ERR_NETWORK;
}

int grpc_conn_open(struct grpc_conn **out, int is_unix, const char *address,
		   const struct grpc_hook *hook, struct buf *err)
{
	nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry iv[] = {
		{ NGHTTP2_SETTINGS_ENABLE_PUSH, 0 },
		{ NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GRPC_WINDOW },
	};
	struct grpc_conn *c;
	int fd, rv;

	*out = NULL;
	fd = connect_socket(is_unix, address, err);
	if (fd < 0)
		return fd;
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	buf_init(&c->broken_why, 0);
	if (hook)
		c->hook = *hook;
	if (nghttp2_session_callbacks_new(&cbs)) {
		close(fd);
		free(c);
		return CR_ERR_NOMEM;
	}
	nghttp2_session_callbacks_set_send_callback(cbs, on_send);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs,
								  on_data_chunk);
	nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
	nghttp2_session_callbacks_set_on_stream_close_callback(cbs,
							       on_stream_close);
	rv = nghttp2_session_client_new(&c->session, cbs, c);
	nghttp2_session_callbacks_del(cbs);
	if (rv) {
		buf_seterr(err, "nghttp2: %s", nghttp2_strerror(rv));
		close(fd);
		free(c);
		return CR_ERR_NOMEM;
	}
	nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv,
				sizeof(iv) / sizeof(iv[0]));
	nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0,
					      GRPC_WINDOW);
	*out = c;
	return 0;
}

int grpc_conn_alive(const struct grpc_conn *c)
{
	return c && !c->broken;
}

void grpc_conn_close(struct grpc_conn *c)
{
	struct grpc_stream *s, *next;

	if (!c)
		return;
	nghttp2_session_del(c->session);
	for (s = c->streams; s; s = next) {
		next = s->next;
		stream_free(s);
	}
	close(c->fd);
	buf_release(&c->broken_why);
	free(c);
}

static void flush(struct grpc_conn *c)
{
	int rv = nghttp2_session_send(c->session);

	if (rv)
		conn_break(c, nghttp2_strerror(rv));
}

static void read_ready(struct grpc_conn *c)
{
	uint8_t chunk[16384];

	while (!c->broken) {
		ssize_t n = read(c->fd, chunk, sizeof(chunk));
		ssize_t used;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_break(c, n ? strerror(errno) :
				   "the plugin closed the connection");
			return;
		}
		used = nghttp2_session_mem_recv(c->session, chunk, (size_t)n);
		if (used < 0) {
			conn_break(c, nghttp2_strerror((int)used));
			return;
		}
	}
}

int grpc_conn_pump(struct grpc_conn *c, int timeout_ms)
{
	struct pollfd fds[3];
	int n = 1, extra = 0;

	if (c->broken)
		return CR_ERR_NETWORK;
	flush(c);
	fds[0] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	if (nghttp2_session_want_write(c->session))
		fds[0].events |= POLLOUT;
	if (c->hook.fds)
		extra = c->hook.fds(c->hook.ctx, fds + 1);
	n += extra;
	if (poll(fds, (nfds_t)n, timeout_ms) < 0 && errno != EINTR)
		return CR_ERR_IO;
	if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
		read_ready(c);
	if (extra && c->hook.ready)
		c->hook.ready(c->hook.ctx);
	if (!c->broken)
		flush(c);
	return c->broken ? CR_ERR_NETWORK : 0;
}

static struct grpc_stream *submit(struct grpc_conn *c, const char *path,
				  const void *req, size_t req_len,
				  int timeout_ms, struct buf *err)
{
	char timeout_val[32];
	nghttp2_nv hdrs[7];
	size_t nh = 0;
	nghttp2_data_provider prov;
	struct grpc_stream *s;

#define NV(n, v) hdrs[nh++] = (nghttp2_nv){ (uint8_t *)(n), (uint8_t *)(v), \
	strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE }
	NV(":method", "POST");
	NV(":scheme", "http");
	NV(":path", path);
	NV(":authority", "plugin");
	NV("content-type", "application/grpc");
	NV("te", "trailers");
	if (timeout_ms > 0) {
		snprintf(timeout_val, sizeof(timeout_val), "%dm", timeout_ms);
		NV("grpc-timeout", timeout_val);
	}
#undef NV
	s = xcalloc(1, sizeof(*s));
	buf_init(&s->req, 0);
	buf_init(&s->resp, 0);
	buf_init(&s->message, 0);
	s->status = -1;
	if (grpc_frame_put(&s->req, req, req_len)) {
		buf_seterr(err, "request to %s too large", path);
		stream_free(s);
		return NULL;
	}
	prov.source.ptr = s;
	prov.read_callback = read_request;
	s->id = nghttp2_submit_request(c->session, NULL, hdrs, nh, &prov, s);
	if (s->id < 0) {
		buf_seterr(err, "%s: %s", path, nghttp2_strerror(s->id));
		stream_free(s);
		return NULL;
	}
	s->next = c->streams;
	c->streams = s;
	return s;
}

/* The outcome of a finished unary stream. */
static int finish(struct grpc_stream *s, const char *path, struct buf *resp,
		  int *status, struct buf *err)
{
	const uint8_t *msg;
	size_t len, used;
	int r;

	if (s->status < 0) {
		if (s->http_status && s->http_status != 200)
			buf_seterr(err, "%s: HTTP status %d", path, s->http_status);
		else
			buf_seterr(err, "%s: stream ended without grpc-status "
				   "(HTTP/2 error %u)", path, s->rst_code);
		return CR_ERR_PROTOCOL;
	}
	*status = s->status;
	if (s->status != 0) {
		buf_seterr(err, "%s: %s%s%s", path, grpc_status_name(s->status),
			   s->message.len ? ": " : "", s->message.data);
		return 0;
	}
	r = grpc_frame_take((const uint8_t *)s->resp.data, s->resp.len, &msg,
			    &len, &used);
	if (r != 1) {
		buf_seterr(err, "%s: OK without a complete response message",
			   path);
		return CR_ERR_PROTOCOL;
	}
	if (resp) {
		buf_reset(resp);
		buf_add(resp, msg, len);
	}
	return 0;
}

int grpc_call(struct grpc_conn *c, const char *path, const void *req,
	      size_t req_len, struct buf *resp, int *status, int timeout_ms,
	      struct buf *err)
{
	long long deadline = now_ms() + timeout_ms;
	struct grpc_stream *s;
	int r;

	*status = -1;
	if (c->broken) {
		buf_seterr(err, "%s: connection to plugin lost: %s", path,
			   c->broken_why.data);
		return CR_ERR_NETWORK;
	}
	s = submit(c, path, req, req_len, timeout_ms, err);
	if (!s)
		return CR_ERR_PROTOCOL;
	while (!s->closed) {
		long long left = deadline - now_ms();

		if (left <= 0) {
			buf_seterr(err, "%s: no answer within %d ms", path,
				   timeout_ms);
			s->abandoned = 1;
			nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE,
						  s->id, NGHTTP2_CANCEL);
			flush(c);
			return CR_ERR_TIMEOUT;
		}
		if (grpc_conn_pump(c, (int)(left > 200 ? 200 : left)) ==
		    CR_ERR_NETWORK) {
			buf_seterr(err, "%s: connection to plugin lost: %s",
				   path, c->broken_why.data);
			return CR_ERR_NETWORK;
		}
	}
	r = finish(s, path, resp, status, err);
	stream_unlink(c, s);
	stream_free(s);
	return r;
}

int grpc_stream_open(struct grpc_conn *c, const char *path, const void *req,
		     size_t req_len,
		     void (*on_message)(void *ctx, const uint8_t *msg, size_t len),
		     void (*on_end)(void *ctx, int status, const char *message),
		     void *ctx, struct buf *err)
{
	struct grpc_stream *s = submit(c, path, req, req_len, 0, err);

	if (!s)
		return CR_ERR_PROTOCOL;
	s->on_message = on_message;
	s->on_end = on_end;
	s->ctx = ctx;
	flush(c);
	return c->broken ? CR_ERR_NETWORK : 0;
}
