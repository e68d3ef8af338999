/*
 * RSA-SHA256 signatures through libcrypto (rsa_sign.h).
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/rsa_sign.h"
#include "util/banned.h"

/* OpenSSL's newest reason on this thread's queue, which is emptied. */
static void ssl_reason(char *out, size_t size)
{
	unsigned long e = ERR_peek_last_error();

	if (e)
		ERR_error_string_n(e, out, size);
	else
		snprintf(out, size, "unknown error");
	ERR_clear_error();
}

int rsa_sha256_sign(const char *pem, const void *data, size_t len,
		    struct buf *sig, struct buf *err)
{
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *md = NULL;
	BIO *bio = NULL;
	unsigned char *out = NULL;
	size_t out_len = 0;
	char why[256];
	int r = CR_ERR_INVALID;

	ERR_clear_error();
	if (!pem || !*pem) {
		buf_seterr(err, "no private key");
		return CR_ERR_INVALID;
	}
	bio = BIO_new_mem_buf(pem, (int)strlen(pem));
	if (bio)
		key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
	if (!key) {
		ssl_reason(why, sizeof(why));
		buf_seterr(err, "the private key is not an unencrypted PEM key (%s)",
			   why);
		goto out;
	}
	if (!EVP_PKEY_is_a(key, "RSA")) {
		buf_seterr(err, "the private key is not an RSA key");
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &out_len, data, len) != 1 ||
	    !(out = OPENSSL_malloc(out_len)) ||
	    EVP_DigestSign(md, out, &out_len, data, len) != 1) {
		ssl_reason(why, sizeof(why));
		buf_seterr(err, "cannot sign with the private key (%s)", why);
		goto out;
	}
	(void)buf_add(sig, out, out_len);
	r = 0;
out:
	OPENSSL_free(out);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return r;
}
