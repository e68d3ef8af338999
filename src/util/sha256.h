/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for AWS Signature
 * Version 4 (archive/cache_remote.c).  Small and self-contained: crunner
 * links no cryptography library of its own.
 */
#ifndef CR_UTIL_SHA256_H
#define CR_UTIL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes so far */
	unsigned char block[64];
	size_t used;		/* bytes in block */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);

/* One-shot helpers. */
void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
void hmac_sha256(const void *key, size_t key_len, const void *data,
		 size_t len, unsigned char out[SHA256_LEN]);

/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
void sha256_hex(const unsigned char *in, size_t len, char *out);

#endif
