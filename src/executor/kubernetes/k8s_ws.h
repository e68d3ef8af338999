/*
 * WebSocket (RFC 6455) for the exec subresource, by hand over a libcurl
 * CONNECT_ONLY connection (the system's libcurl has no WebSocket API):
 * the framing, the handshake's accept key, and Kubernetes' channel
 * protocol (v5.channel.k8s.io, else v4.channel.k8s.io: one leading byte
 * per binary message naming the stream; 3 carries the exit status).
 */
#ifndef CR_K8S_WS_H
#define CR_K8S_WS_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct k8s_api;
struct strvec;

enum ws_opcode {
	WS_CONT = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xA,
};

/* Appends one final client frame (masked with mask) to out. */
void ws_frame_encode(struct buf *out, enum ws_opcode op, const void *data,
		     size_t len, const uint8_t mask[4]);

/* One decoded frame; payload points into the input (unmasked in place). */
struct ws_frame {
	int fin;
	enum ws_opcode op;
	char *payload;
	size_t len;
};

/*
 * Decodes the frame at the start of in[0..len): 1 and *used, *f when a
 * whole frame is there (its payload unmasked in place), 0 when more bytes
 * are needed, CR_ERR_PROTOCOL for a frame we refuse (reserved bits, a
 * length over 64 MiB, a fragmented control frame).
 */
int ws_frame_decode(char *in, size_t len, size_t *used, struct ws_frame *f);

/* The Sec-WebSocket-Accept value for key (28 characters and a NUL). */
void ws_accept_key(const char *key, char out[29]);

/* SHA-1 of data (for the accept key). */
void ws_sha1(const void *data, size_t len, uint8_t out[20]);

/*
 * The exit code in a channel-3 Status: 0 for "Success", N for a
 * NonZeroExitCode failure; -1 with the message in err for another
 * failure (the command could not start) or text that is not a Status.
 */
int k8s_exec_status(const char *json, size_t len, struct buf *err);

typedef void (*k8s_exec_output_cb)(void *ctx, int is_stderr,
				   const char *data, size_t len);

/*
 * Runs cmd in container of pod (namespace ns) through the exec
 * subresource, sends stdin_data (closed after it on v5), passes output to
 * cb as it comes.  Returns 0 with *exit_code (-1: the stream ended
 * without a status), CR_ERR_CANCELED when api's cancel flag was set,
 * or CR_ERR_NETWORK / CR_ERR_PROTOCOL with one sentence in err.
 * *protocol gets 5 or 4 when not NULL.
 */
int k8s_exec(const struct k8s_api *api, const char *ns, const char *pod,
	     const char *container, const struct strvec *cmd,
	     const char *stdin_data, size_t stdin_len, k8s_exec_output_cb cb,
	     void *ctx, int *exit_code, int *protocol, struct buf *err);

/* k8s_stream's answer when the caller's stop() ended the session. */
#define K8S_STREAM_STOPPED 2

/*
 * One exec or attach session.  cmd NULL: attach to the container's main
 * process (stdin only when cb is NULL).  stop, when not NULL, is asked
 * about every 200 ms while the session waits: non-zero ends it.
 */
struct k8s_stream_opts {
	const char *ns, *pod, *container;
	const struct strvec *cmd;	/* exec's command; NULL: attach */
	const char *stdin_data;		/* NULL: no stdin */
	size_t stdin_len;
	k8s_exec_output_cb cb;		/* NULL: no stdout, stderr */
	int (*stop)(void *ctx);
	void *ctx;			/* for cb and stop */
};

/*
 * k8s_exec's engine: as it, and K8S_STREAM_STOPPED when stop() ended the
 * session (*exit_code stays -1).
 */
int k8s_stream(const struct k8s_api *api, const struct k8s_stream_opts *o,
	       int *exit_code, int *protocol, struct buf *err);

#endif
