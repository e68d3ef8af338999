/*
 * A gRPC client over HTTP/2 cleartext with prior knowledge (h2c), on one
 * unix or TCP connection, as go-plugin's host speaks to its plugin:
 * libnghttp2 does HTTP/2, grpc_frame.h the message framing.
 *
 * Calls block for at most their timeout.  While waiting, the connection
 * also serves the server streams opened with grpc_stream_open() and the
 * caller's extra descriptors (struct grpc_hook: the plugin's log pipes),
 * so nothing the plugin writes can fill up and stall it.
 */
#ifndef CR_AUTOSCALE_GRPC_CLIENT_H
#define CR_AUTOSCALE_GRPC_CLIENT_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct grpc_conn;

struct grpc_hook {
	void *ctx;
	int (*fds)(void *ctx, struct pollfd fds[2]);	/* returns how many */
	void (*ready)(void *ctx);			/* after poll */
};

/* unix: address is a socket path; else host:port.  *out is closed with
 * grpc_conn_close(). */
int grpc_conn_open(struct grpc_conn **out, int is_unix, const char *address,
		   const struct grpc_hook *hook, struct buf *err);
void grpc_conn_close(struct grpc_conn *c);
/* 0 once the peer closed the connection or it broke. */
int grpc_conn_alive(const struct grpc_conn *c);

/*
 * One unary call to path ("/package.Service/Method").  Returns 0 when the
 * call completed, with *status its grpc-status and, on OK, resp holding
 * the response message; a non-OK status also sets err ("<STATUS>:
 * <grpc-message>").  Transport failures return CR_ERR_NETWORK (the
 * connection is unusable), CR_ERR_TIMEOUT or CR_ERR_PROTOCOL.
 */
int grpc_call(struct grpc_conn *c, const char *path, const void *req,
	      size_t req_len, struct buf *resp, int *status, int timeout_ms,
	      struct buf *err);

/*
 * Opens a server-streaming call; every message the server sends is given
 * to on_message while any call or grpc_conn_pump() runs.  on_end (may be
 * NULL) learns the final grpc-status.
 */
int grpc_stream_open(struct grpc_conn *c, const char *path, const void *req,
		     size_t req_len,
		     void (*on_message)(void *ctx, const uint8_t *msg, size_t len),
		     void (*on_end)(void *ctx, int status, const char *message),
		     void *ctx, struct buf *err);

/* Serves the connection for up to timeout_ms. */
int grpc_conn_pump(struct grpc_conn *c, int timeout_ms);

#endif
