/*
 * gRPC's message framing on an HTTP/2 stream: each message is one byte of
 * flags (0: not compressed), a 4-byte big-endian length, then the bytes.
 * Plus the trailer helpers: grpc-status names and grpc-message's
 * percent-encoding.
 */
#ifndef CR_AUTOSCALE_GRPC_FRAME_H
#define CR_AUTOSCALE_GRPC_FRAME_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define GRPC_FRAME_HEADER 5
/* The most one message may hold here (the Go client allows 2 GiB). */
#define GRPC_FRAME_MAX (16u << 20)

enum grpc_status {
	GRPC_OK = 0,
	GRPC_CANCELLED = 1,
	GRPC_UNKNOWN = 2,
	GRPC_INVALID_ARGUMENT = 3,
	GRPC_DEADLINE_EXCEEDED = 4,
	GRPC_NOT_FOUND = 5,
	GRPC_UNIMPLEMENTED = 12,
	GRPC_INTERNAL = 13,
	GRPC_UNAVAILABLE = 14,
};

/* Appends one framed, uncompressed message.  0 or CR_ERR_TOO_LARGE. */
int grpc_frame_put(struct buf *out, const void *msg, size_t len);

/*
 * Takes the first complete message off the front of in (which holds what
 * the stream delivered so far): 1 with msg and len pointing into in and
 * *used the bytes to drop, 0 when more bytes are needed, CR_ERR_PROTOCOL
 * for a compressed message, CR_ERR_TOO_LARGE over GRPC_FRAME_MAX.
 */
int grpc_frame_take(const uint8_t *in, size_t in_len, const uint8_t **msg,
		    size_t *len, size_t *used);

/* "OK", "UNIMPLEMENTED", ...; "code N" for others (static storage). */
const char *grpc_status_name(int status);

/* Appends grpc-message with its %XX escapes decoded. */
void grpc_message_decode(struct buf *out, const char *s, size_t len);

#endif
