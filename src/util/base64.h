/*
 * Standard base64 (RFC 4648 section 4, with '=' padding), for keys that
 * configurations hold encoded (Azure's AccountKey) and for signatures.
 */
#ifndef CR_UTIL_BASE64_H
#define CR_UTIL_BASE64_H

#include <stddef.h>

struct buf;

/* Appends the base64 of the len bytes at in to out. */
void base64_encode(struct buf *out, const void *in, size_t len);

/*
 * Appends the bytes that in (NUL-terminated, padded, no white space)
 * encodes to out.  Returns 0, or -1 for text that is not base64 (out is
 * then left with whatever was decoded before the fault: wipe it).
 */
int base64_decode(const char *in, struct buf *out);

#endif
