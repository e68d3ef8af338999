/*
 * RSASSA-PKCS1-v1_5 with SHA-256 (what Go's rsa.SignPKCS1v15 with
 * crypto.SHA256 produces), through OpenSSL's libcrypto, for signatures
 * made with a service account's private key.
 */
#ifndef CR_UTIL_RSA_SIGN_H
#define CR_UTIL_RSA_SIGN_H

#include <stddef.h>

struct buf;

/*
 * Signs the len bytes at data with the RSA private key pem (PEM text,
 * PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY", unencrypted) and
 * appends the raw signature to sig.  Returns 0, or CR_ERR_INVALID with
 * one sentence in err (not a PEM key, not RSA, OpenSSL's reason).
 */
int rsa_sha256_sign(const char *pem, const void *data, size_t len,
		    struct buf *sig, struct buf *err);

#endif
