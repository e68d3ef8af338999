/*
 * RSA-SHA256 signatures through libcrypto (rsa_sign.h).
 *
 * libcrypto is loaded on the first signature (a GCS cache with a
 * service account key), not at start: it is 4.5 MiB of relocations that
 * `crunner exec --list`, a shell job or an idle runner never use, and the
 * only other user, libcurl, is loaded on first use too (curl_lazy.c).
 * The functions are looked up once, under pthread_once, and only read
 * afterwards; the OpenSSL headers still give their prototypes.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/rsa_sign.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* The SONAME of OpenSSL 3's libcrypto, which the headers describe. */
#define CRYPTO_SONAME "libcrypto.so.3"

/* X(name, return type, parameter list) of every function used. */
#define CRYPTO_FUNCTIONS(X) \
	X(BIO_new_mem_buf, BIO *, (const void *, int)) \
	X(BIO_free, int, (BIO *)) \
	X(PEM_read_bio_PrivateKey, EVP_PKEY *, \
	  (BIO *, EVP_PKEY **, pem_password_cb *, void *)) \
	X(EVP_PKEY_is_a, int, (const EVP_PKEY *, const char *)) \
	X(EVP_PKEY_free, void, (EVP_PKEY *)) \
	X(EVP_MD_CTX_new, EVP_MD_CTX *, (void)) \
	X(EVP_MD_CTX_free, void, (EVP_MD_CTX *)) \
	X(EVP_sha256, const EVP_MD *, (void)) \
	X(EVP_DigestSignInit, int, \
	  (EVP_MD_CTX *, EVP_PKEY_CTX **, const EVP_MD *, ENGINE *, EVP_PKEY *)) \
	X(EVP_DigestSign, int, \
	  (EVP_MD_CTX *, unsigned char *, size_t *, const unsigned char *, size_t)) \
	X(ERR_peek_last_error, unsigned long, (void)) \
	X(ERR_error_string_n, void, (unsigned long, char *, size_t)) \
	X(ERR_clear_error, void, (void))

static struct {
#define CRYPTO_MEMBER(name, ret, params) ret (*name) params;
	CRYPTO_FUNCTIONS(CRYPTO_MEMBER)
#undef CRYPTO_MEMBER
	char why[256];	/* empty once every function is found */
} crypto;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;

static void crypto_load(void)
{
	void *h = dlopen(CRYPTO_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *e;

	if (!h) {
		e = dlerror();
		snprintf(crypto.why, sizeof(crypto.why), "cannot load %s: %s",
			 CRYPTO_SONAME, e ? e : "unknown error");
		return;
	}
#define CRYPTO_LOOKUP(name, ret, params) \
	if (!crypto.why[0] && \
	    !(*(void **)&crypto.name = dlsym(h, #name))) \
		snprintf(crypto.why, sizeof(crypto.why), "%s has no %s", \
			 CRYPTO_SONAME, #name);
	CRYPTO_FUNCTIONS(CRYPTO_LOOKUP)
#undef CRYPTO_LOOKUP
}

/* OpenSSL's newest reason on this thread's queue, which is emptied. */
static void ssl_reason(char *out, size_t size)
{
	unsigned long e = crypto.ERR_peek_last_error();

	if (e)
		crypto.ERR_error_string_n(e, out, size);
	else
		snprintf(out, size, "unknown error");
	crypto.ERR_clear_error();
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

	if (!pem || !*pem) {
		buf_seterr(err, "no private key");
		return CR_ERR_INVALID;
	}
	pthread_once(&crypto_once, crypto_load);
	if (crypto.why[0]) {
		buf_seterr(err, "cannot sign: %s", crypto.why);
		return CR_ERR_INTERNAL;
	}
	crypto.ERR_clear_error();
	bio = crypto.BIO_new_mem_buf(pem, (int)strlen(pem));
	if (bio)
		key = crypto.PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
	if (!key) {
		ssl_reason(why, sizeof(why));
		buf_seterr(err, "the private key is not an unencrypted PEM key (%s)",
			   why);
		goto out;
	}
	if (!crypto.EVP_PKEY_is_a(key, "RSA")) {
		buf_seterr(err, "the private key is not an RSA key");
		goto out;
	}
	md = crypto.EVP_MD_CTX_new();
	if (!md || crypto.EVP_DigestSignInit(md, NULL, crypto.EVP_sha256(),
					     NULL, key) != 1 ||
	    crypto.EVP_DigestSign(md, NULL, &out_len, data, len) != 1 ||
	    !(out = xmalloc(out_len ? out_len : 1)) ||
	    crypto.EVP_DigestSign(md, out, &out_len, data, len) != 1) {
		ssl_reason(why, sizeof(why));
		buf_seterr(err, "cannot sign with the private key (%s)", why);
		goto out;
	}
	(void)buf_add(sig, out, out_len);
	r = 0;
out:
	free(out);
	if (md)
		crypto.EVP_MD_CTX_free(md);
	if (key)
		crypto.EVP_PKEY_free(key);
	if (bio)
		crypto.BIO_free(bio);
	return r;
}
