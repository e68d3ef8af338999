/*
 * The exec subresource over a WebSocket: libcurl makes the (TLS)
 * connection with CONNECT_ONLY, the upgrade request and the frames go
 * through curl_easy_send/recv.  The protocols are offered in order
 * v5.channel.k8s.io, v4.channel.k8s.io: the API server picks the first
 * it knows, so an older one falls back to v4 (where stdin cannot be
 * closed).
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "executor/kubernetes/k8s_api.h"
#include "executor/kubernetes/k8s_ws.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/random.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define HEAD_MAX 16384
#define STDIN_CHUNK 32768
#define POLL_MS 200

struct ws_conn {
	CURL *e;
	curl_socket_t sock;
	const atomic_int *cancel;
	int (*stop)(void *ctx);	/* asked while waiting; may be NULL */
	void *stop_ctx;
	int stopped;		/* stop() said so: end without an error */
	struct buf in;		/* bytes received, not yet decoded */
	struct buf *err;
};

static int canceled(const struct ws_conn *w)
{
	return w->cancel && atomic_load(w->cancel);
}

static int wait_sock(struct ws_conn *w, short events)
{
	struct pollfd pfd = { .fd = w->sock, .events = events };

	if (canceled(w))
		return CR_ERR_CANCELED;
	if (w->stop && w->stop(w->stop_ctx)) {
		w->stopped = 1;
		return K8S_STREAM_STOPPED;
	}
	(void)poll(&pfd, 1, POLL_MS);
	return canceled(w) ? CR_ERR_CANCELED : 0;
}

static int send_all(struct ws_conn *w, const char *data, size_t len)
{
	while (len) {
		size_t n = 0;
		CURLcode cc = curl_easy_send(w->e, data, len, &n);
		int r;

		if (cc == CURLE_AGAIN) {
			if ((r = wait_sock(w, POLLOUT)) != 0)
				return r;
			continue;
		}
		if (cc != CURLE_OK) {
			buf_seterr(w->err, "exec: cannot send: %s",
				   curl_easy_strerror(cc));
			return CR_ERR_NETWORK;
		}
		data += n;
		len -= n;
	}
	return 0;
}

/* Reads what is there into w->in (waiting for some); 1 at end of stream. */
static int recv_some(struct ws_conn *w)
{
	char chunk[16384];

	for (;;) {
		size_t n = 0;
		CURLcode cc = curl_easy_recv(w->e, chunk, sizeof(chunk), &n);
		int r;

		if (cc == CURLE_AGAIN) {
			if ((r = wait_sock(w, POLLIN)) != 0)
				return r;
			continue;
		}
		if (cc != CURLE_OK) {
			buf_seterr(w->err, "exec: connection lost: %s",
				   curl_easy_strerror(cc));
			return CR_ERR_NETWORK;
		}
		if (n == 0)
			return 1;
		(void)buf_add(&w->in, chunk, n);
		return 0;
	}
}

static int send_frame(struct ws_conn *w, enum ws_opcode op,
		      const void *data, size_t len)
{
	struct buf f = BUF_INIT;
	uint32_t m = random_u32();
	uint8_t mask[4] = { (uint8_t)m, (uint8_t)(m >> 8),
			    (uint8_t)(m >> 16), (uint8_t)(m >> 24) };
	int r;

	ws_frame_encode(&f, op, data, len, mask);
	r = send_all(w, f.data, f.len);
	buf_release_secret(&f);
	return r;
}

/* One channel message: the channel byte then data. */
static int send_channel(struct ws_conn *w, uint8_t ch, const char *data,
			size_t len)
{
	struct buf m = BUF_INIT;
	int r;

	(void)buf_addch(&m, (char)ch);
	(void)buf_add(&m, data, len);
	r = send_frame(w, WS_BINARY, m.data, m.len);
	buf_release_secret(&m);
	return r;
}

/* Host[:port] and the path prefix of the server URL. */
static void split_server(const char *server, struct buf *host,
			 struct buf *prefix)
{
	const char *p = strstr(server, "://"), *slash;

	p = p ? p + 3 : server;
	slash = strchr(p, '/');
	(void)buf_add(host, p, slash ? (size_t)(slash - p) : strlen(p));
	if (slash)
		(void)buf_addstr(prefix, slash);
}

static const char *header_value(const char *head, const char *name)
{
	const char *p = head;
	size_t n = strlen(name);

	while ((p = strchr(p, '\n')) != NULL) {
		p++;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			p += n + 1;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
	}
	return NULL;
}

/* The header's value up to the end of its line, or "". */
static void header_copy(const char *head, const char *name, struct buf *out)
{
	const char *v = header_value(head, name);

	if (v)
		(void)buf_add(out, v, strcspn(v, "\r\n"));
}

static int handshake(struct ws_conn *w, const struct k8s_api *api,
		     const char *path, int *protocol)
{
	struct buf req = BUF_INIT, host = BUF_INIT, prefix = BUF_INIT;
	struct buf key = BUF_INIT, got = BUF_INIT, proto = BUF_INIT;
	uint8_t raw[16];
	char want[29];
	char *end, *token;
	size_t i;
	long status;
	int r;

	for (i = 0; i < sizeof(raw); i += 4) {
		uint32_t v = random_u32();

		memcpy(raw + i, &v, 4);
	}
	base64_encode(&key, raw, sizeof(raw));
	split_server(api->conn.server, &host, &prefix);
	(void)buf_addf(&req, "GET %s%s HTTP/1.1\r\nHost: %s\r\n"
		       "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
		       "Sec-WebSocket-Protocol: v5.channel.k8s.io, v4.channel.k8s.io\r\n"
		       "User-Agent: crunner\r\n",
		       prefix.data, path, host.data, key.data);
	if ((token = k8s_api_bearer(api)) != NULL)
		(void)buf_addf(&req, "Authorization: Bearer %s\r\n", token);
	free_secret(token);
	(void)buf_addstr(&req, "\r\n");
	r = send_all(w, req.data, req.len);
	buf_release_secret(&req);
	if (r != 0)
		goto out;
	while (!(end = strstr(w->in.data, "\r\n\r\n"))) {
		if (w->in.len > HEAD_MAX) {
			buf_seterr(w->err, "exec: the API server's answer has no end of headers");
			r = CR_ERR_PROTOCOL;
			goto out;
		}
		if ((r = recv_some(w)) != 0) {
			if (r == 1) {
				buf_seterr(w->err, "exec: the API server closed the connection during the upgrade");
				r = CR_ERR_NETWORK;
			}
			goto out;
		}
	}
	end[2] = '\0';
	status = strncmp(w->in.data, "HTTP/1.", 7) ? 0 :
		strtol(w->in.data + 9, NULL, 10);
	if (status != 101) {
		struct buf body = BUF_INIT;

		/* The Status JSON follows; take what came with the head. */
		(void)buf_addstr(&body, end + 4);
		buf_seterr(w->err, "exec: the API server refused the upgrade (HTTP %ld)%s%.*s",
			   status, body.len ? ": " : "", (int)(body.len > 400 ?
			   400 : body.len), body.data);
		buf_release(&body);
		r = status == 401 || status == 403 ? CR_ERR_AUTH :
			CR_ERR_PROTOCOL;
		goto out;
	}
	ws_accept_key(key.data, want);
	header_copy(w->in.data, "Sec-WebSocket-Accept", &got);
	if (strcmp(got.data, want)) {
		buf_seterr(w->err, "exec: wrong Sec-WebSocket-Accept from the API server");
		r = CR_ERR_PROTOCOL;
		goto out;
	}
	header_copy(w->in.data, "Sec-WebSocket-Protocol", &proto);
	if (!strcmp(proto.data, "v5.channel.k8s.io")) {
		*protocol = 5;
	} else if (!strcmp(proto.data, "v4.channel.k8s.io")) {
		*protocol = 4;
	} else {
		buf_seterr(w->err, "exec: the API server chose sub-protocol '%s', not v5 or v4.channel.k8s.io",
			   proto.data);
		r = CR_ERR_PROTOCOL;
		goto out;
	}
	/* Frames may have come with the head. */
	{
		size_t head_len = (size_t)(end + 4 - w->in.data);
		size_t rest = w->in.len - head_len;

		memmove(w->in.data, w->in.data + head_len, rest);
		buf_setlen(&w->in, rest);
	}
out:
	buf_release(&host);
	buf_release(&prefix);
	buf_release(&key);
	buf_release(&got);
	buf_release(&proto);
	return r;
}

/* exec?container=..&command=..: or attach?container=..; the streams. */
static void stream_path(struct buf *p, const struct k8s_stream_opts *o)
{
	size_t i;

	k8s_core_path(p, o->ns, "pods", o->pod);
	(void)buf_addstr(p, o->cmd ? "/exec?container=" : "/attach?container=");
	k8s_url_escape(p, o->container);
	for (i = 0; o->cmd && i < o->cmd->nr; i++) {
		(void)buf_addstr(p, "&command=");
		k8s_url_escape(p, o->cmd->v[i]);
	}
	if (o->stdin_data)
		(void)buf_addstr(p, "&stdin=true");
	if (o->cb)
		(void)buf_addstr(p, "&stdout=true&stderr=true");
}

/* Reads frames to the end; output to cb, the status into *exit_code. */
static int pump(struct ws_conn *w, k8s_exec_output_cb cb, void *ctx,
		int *exit_code)
{
	struct buf msg = BUF_INIT, status = BUF_INIT;
	int r = 0, have_status = 0;
	enum ws_opcode msg_op = WS_BINARY;

	for (;;) {
		struct ws_frame f;
		size_t used = 0;
		int d = ws_frame_decode(w->in.data, w->in.len, &used, &f);

		if (d < 0) {
			buf_seterr(w->err, "exec: the API server sent a bad WebSocket frame");
			r = CR_ERR_PROTOCOL;
			break;
		}
		if (d == 0) {
			if (w->stop && w->stop(w->stop_ctx)) {
				w->stopped = 1;
				break;
			}
			r = recv_some(w);
			if (r == 1 || r == K8S_STREAM_STOPPED) {
				r = 0;
				break;
			}
			if (r != 0)
				break;
			continue;
		}
		if (f.op == WS_PING) {
			if ((r = send_frame(w, WS_PONG, f.payload, f.len)) != 0)
				break;
		} else if (f.op == WS_CLOSE) {
			(void)send_frame(w, WS_CLOSE, f.payload,
					 f.len >= 2 ? 2 : 0);
			break;
		} else if (f.op != WS_PONG) {
			if (f.op != WS_CONT) {
				buf_reset(&msg);
				msg_op = f.op;
			}
			(void)buf_add(&msg, f.payload, f.len);
			if (f.fin && msg_op == WS_BINARY && msg.len > 1) {
				unsigned ch = (unsigned char)msg.data[0];

				if ((ch == 1 || ch == 2) && cb)
					cb(ctx, ch == 2, msg.data + 1,
					   msg.len - 1);
				else if (ch == 3) {
					(void)buf_add(&status, msg.data + 1,
						      msg.len - 1);
					have_status = 1;
				}
			}
		}
		memmove(w->in.data, w->in.data + used, w->in.len - used);
		buf_setlen(&w->in, w->in.len - used);
	}
	if (r == 0 && have_status) {
		*exit_code = k8s_exec_status(status.data, status.len, w->err);
		if (*exit_code < 0)
			r = CR_ERR_PROTOCOL;
	}
	buf_release(&msg);
	buf_release(&status);
	return r;
}

int k8s_stream(const struct k8s_api *api, const struct k8s_stream_opts *o,
	       int *exit_code, int *protocol, struct buf *err)
{
	struct ws_conn w = { .cancel = api->cancel, .stop = o->stop,
			     .stop_ctx = o->ctx, .err = err };
	struct buf path = BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURLcode cc;
	int proto = 0, r;
	size_t off;

	*exit_code = -1;
	buf_init(&w.in, 0);
	stream_path(&path, o);
	w.e = curl_easy_init();
	if (!w.e) {
		buf_seterr(err, "exec: cannot start a connection");
		r = CR_ERR_NOMEM;
		goto out;
	}
	{
		struct buf url = BUF_INIT;

		(void)buf_addf(&url, "%s%s", api->conn.server, path.data);
		(void)curl_easy_setopt(w.e, CURLOPT_URL, url.data);
		buf_release(&url);
	}
	(void)curl_easy_setopt(w.e, CURLOPT_CONNECT_ONLY, 1L);
	(void)curl_easy_setopt(w.e, CURLOPT_ERRORBUFFER, errbuf);
	(void)curl_easy_setopt(w.e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	/* HTTP/1.1: an upgrade cannot go over HTTP/2. */
	(void)curl_easy_setopt(w.e, CURLOPT_SSL_ENABLE_ALPN, 0L);
	cc = k8s_api_setup(api, w.e, NULL);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(w.e);
	if (cc == CURLE_OK)
		cc = curl_easy_getinfo(w.e, CURLINFO_ACTIVESOCKET, &w.sock);
	if (cc != CURLE_OK) {
		buf_seterr(err, "exec: cannot connect to %s: %s",
			   api->conn.server, errbuf[0] ? errbuf :
			   curl_easy_strerror(cc));
		r = CR_ERR_NETWORK;
		goto out;
	}
	if ((r = handshake(&w, api, path.data, &proto)) != 0)
		goto out;
	if (protocol)
		*protocol = proto;
	for (off = 0; o->stdin_data && off < o->stdin_len; off += STDIN_CHUNK) {
		size_t n = o->stdin_len - off < STDIN_CHUNK ?
			o->stdin_len - off : STDIN_CHUNK;

		if ((r = send_channel(&w, 0, o->stdin_data + off, n)) != 0)
			goto out;
	}
	if (o->stdin_data && proto == 5) {
		/* v5: channel 255 closes the stream named in the next byte. */
		const char close_stdin[2] = { (char)255, 0 };

		if ((r = send_frame(&w, WS_BINARY, close_stdin, 2)) != 0)
			goto out;
	} else if (!o->cmd && !o->cb && proto == 4) {
		/*
		 * v4 cannot close stdin, and an attach with stdin alone sends
		 * nothing back: the session ends with ours.
		 */
		static const char normal[2] = { 0x03, (char)0xe8 };

		r = send_frame(&w, WS_CLOSE, normal, 2);
		goto out;
	}
	r = pump(&w, o->cb, o->ctx, exit_code);
	if (r == 0 && w.stopped)
		r = K8S_STREAM_STOPPED;
out:
	if (w.e)
		curl_easy_cleanup(w.e);
	buf_release(&w.in);
	buf_release(&path);
	return r;
}

int k8s_exec(const struct k8s_api *api, const char *ns, const char *pod,
	     const char *container, const struct strvec *cmd,
	     const char *stdin_data, size_t stdin_len, k8s_exec_output_cb cb,
	     void *ctx, int *exit_code, int *protocol, struct buf *err)
{
	struct k8s_stream_opts o = {
		.ns = ns, .pod = pod, .container = container, .cmd = cmd,
		.stdin_data = stdin_data, .stdin_len = stdin_len, .cb = cb,
		.ctx = ctx,
	};

	return k8s_stream(api, &o, exit_code, protocol, err);
}
