#include <stdio.h>

#include "autoscale/grpc_frame.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

int grpc_frame_put(struct buf *out, const void *msg, size_t len)
{
	uint8_t hdr[GRPC_FRAME_HEADER];
	int r;

	if (len > GRPC_FRAME_MAX)
		return CR_ERR_TOO_LARGE;
	hdr[0] = 0;
	hdr[1] = (uint8_t)(len >> 24);
	hdr[2] = (uint8_t)(len >> 16);
	hdr[3] = (uint8_t)(len >> 8);
	hdr[4] = (uint8_t)len;
	r = buf_add(out, hdr, sizeof(hdr));
	if (!r && len)
		r = buf_add(out, msg, len);
	return r;
}

int grpc_frame_take(const uint8_t *in, size_t in_len, const uint8_t **msg,
		    size_t *len, size_t *used)
{
	uint32_t n;

	if (in_len < GRPC_FRAME_HEADER)
		return 0;
	if (in[0] != 0)
		return CR_ERR_PROTOCOL;	/* compressed: we never offer it */
	n = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 |
	    (uint32_t)in[3] << 8 | in[4];
	if (n > GRPC_FRAME_MAX)
		return CR_ERR_TOO_LARGE;
	if (in_len - GRPC_FRAME_HEADER < n)
		return 0;
	*msg = in + GRPC_FRAME_HEADER;
	*len = n;
	*used = GRPC_FRAME_HEADER + (size_t)n;
	return 1;
}

const char *grpc_status_name(int status)
{
	static const char *const names[] = {
		"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
		"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
		"PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
		"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
		"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
		"UNAUTHENTICATED",
	};

	if (status >= 0 && (size_t)status < sizeof(names) / sizeof(names[0]))
		return names[status];
	return "code (unknown)";
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void grpc_message_decode(struct buf *out, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			buf_addch(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_addch(out, s[i]);
		}
	}
}
