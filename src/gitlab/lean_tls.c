/*
 * lean_tls.h over mbed TLS 2.28 (Debian's libmbedtls14), dlopen()ed on
 * the first https connection of the lean client: crunner does not link
 * it, and a process that never polls over https never maps it.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "gitlab/lean_tls.h"
#include "gitlab/tls_chain.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define MBEDTLS_SONAME "libmbedtls.so.14"
/* Where Debian's ca-certificates puts the system bundle and its parts. */
#define SYSTEM_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define SYSTEM_CA_DIR "/etc/ssl/certs"

/* X(name, return type, parameter list) of every function used. */
#define MBED_FUNCTIONS(X) \
	X(mbedtls_ssl_init, void, (mbedtls_ssl_context *)) \
	X(mbedtls_ssl_free, void, (mbedtls_ssl_context *)) \
	X(mbedtls_ssl_setup, int, (mbedtls_ssl_context *, \
				   const mbedtls_ssl_config *)) \
	X(mbedtls_ssl_set_hostname, int, (mbedtls_ssl_context *, const char *)) \
	X(mbedtls_ssl_set_bio, void, (mbedtls_ssl_context *, void *, \
				      mbedtls_ssl_send_t *, mbedtls_ssl_recv_t *, \
				      mbedtls_ssl_recv_timeout_t *)) \
	X(mbedtls_ssl_handshake, int, (mbedtls_ssl_context *)) \
	X(mbedtls_ssl_read, int, (mbedtls_ssl_context *, unsigned char *, size_t)) \
	X(mbedtls_ssl_write, int, (mbedtls_ssl_context *, const unsigned char *, \
				   size_t)) \
	X(mbedtls_ssl_get_verify_result, uint32_t, (const mbedtls_ssl_context *)) \
	X(mbedtls_ssl_get_peer_cert, const mbedtls_x509_crt *, \
	  (const mbedtls_ssl_context *)) \
	X(mbedtls_ssl_config_init, void, (mbedtls_ssl_config *)) \
	X(mbedtls_ssl_config_free, void, (mbedtls_ssl_config *)) \
	X(mbedtls_ssl_config_defaults, int, (mbedtls_ssl_config *, int, int, int)) \
	X(mbedtls_ssl_conf_authmode, void, (mbedtls_ssl_config *, int)) \
	X(mbedtls_ssl_conf_verify, void, (mbedtls_ssl_config *, \
					  int (*)(void *, mbedtls_x509_crt *, \
						  int, uint32_t *), void *)) \
	X(mbedtls_ssl_conf_rng, void, (mbedtls_ssl_config *, \
				       int (*)(void *, unsigned char *, size_t), \
				       void *)) \
	X(mbedtls_ssl_conf_ca_chain, void, (mbedtls_ssl_config *, \
					    mbedtls_x509_crt *, mbedtls_x509_crl *)) \
	X(mbedtls_ssl_conf_own_cert, int, (mbedtls_ssl_config *, \
					   mbedtls_x509_crt *, mbedtls_pk_context *)) \
	X(mbedtls_ssl_conf_min_version, void, (mbedtls_ssl_config *, int, int)) \
	X(mbedtls_ctr_drbg_init, void, (mbedtls_ctr_drbg_context *)) \
	X(mbedtls_ctr_drbg_free, void, (mbedtls_ctr_drbg_context *)) \
	X(mbedtls_ctr_drbg_seed, int, (mbedtls_ctr_drbg_context *, \
				       int (*)(void *, unsigned char *, size_t), \
				       void *, const unsigned char *, size_t)) \
	X(mbedtls_ctr_drbg_random, int, (void *, unsigned char *, size_t)) \
	X(mbedtls_entropy_init, void, (mbedtls_entropy_context *)) \
	X(mbedtls_entropy_free, void, (mbedtls_entropy_context *)) \
	X(mbedtls_entropy_func, int, (void *, unsigned char *, size_t)) \
	X(mbedtls_x509_crt_init, void, (mbedtls_x509_crt *)) \
	X(mbedtls_x509_crt_free, void, (mbedtls_x509_crt *)) \
	X(mbedtls_x509_crt_parse_file, int, (mbedtls_x509_crt *, const char *)) \
	X(mbedtls_x509_crt_parse_path, int, (mbedtls_x509_crt *, const char *)) \
	X(mbedtls_x509_crt_parse_der, int, (mbedtls_x509_crt *, \
					    const unsigned char *, size_t)) \
	X(mbedtls_x509_crt_verify, int, (mbedtls_x509_crt *, mbedtls_x509_crt *, \
					 mbedtls_x509_crl *, const char *, \
					 uint32_t *, \
					 int (*)(void *, mbedtls_x509_crt *, \
						 int, uint32_t *), void *)) \
	X(mbedtls_x509_crt_verify_info, int, (char *, size_t, const char *, \
					      uint32_t)) \
	X(mbedtls_pk_init, void, (mbedtls_pk_context *)) \
	X(mbedtls_pk_free, void, (mbedtls_pk_context *)) \
	X(mbedtls_pk_parse_keyfile, int, (mbedtls_pk_context *, const char *, \
					  const char *)) \
	X(mbedtls_strerror, void, (int, char *, size_t))

static struct {
#define MBED_MEMBER(name, ret, params) ret (*name) params;
	MBED_FUNCTIONS(MBED_MEMBER)
#undef MBED_MEMBER
} lib;
static bool loaded;
static char load_error[256];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* Process-wide, like the mapping itself: filled once, then only read. */
static void load(void)
{
	void *handle = dlopen(MBEDTLS_SONAME, RTLD_NOW | RTLD_LOCAL);
	const char *missing = NULL;

	if (!handle) {
		snprintf(load_error, sizeof(load_error), "cannot load %s: %s",
			 MBEDTLS_SONAME, dlerror());
		return;
	}
#define MBED_SYM(name, ret, params) \
	if (!missing && !(lib.name = (__typeof__(lib.name))dlsym(handle, #name))) \
		missing = #name;
	MBED_FUNCTIONS(MBED_SYM)
#undef MBED_SYM
	if (missing) {
		snprintf(load_error, sizeof(load_error), "cannot load %s: it has no %s",
			 MBEDTLS_SONAME, missing);
		return;
	}
	loaded = true;
}

bool lean_tls_available(struct buf *why)
{
	pthread_once(&load_once, load);
	if (!loaded && why)
		(void)buf_addstr(why, load_error);
	return loaded;
}

struct lean_tls {
	int fd;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config conf;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_entropy_context entropy;
	mbedtls_x509_crt *ca;		/* during the handshake only */
	mbedtls_x509_crt own_cert;
	mbedtls_pk_context own_key;
	char *host;
	unsigned char ip[16];		/* host, when it is an IP address */
	size_t ip_len;			/* 0: a name */
	/* The chain that verified the server: its certificate first, the
	 * trusted CA last (what Go's tls.ConnectionState.VerifiedChains[0]
	 * holds); filled during the handshake. */
	struct tls_chain verified;
};

static void describe(struct buf *err, const char *what, int code)
{
	char text[160];

	lib.mbedtls_strerror(code, text, sizeof(text));
	buf_reset(err);
	(void)buf_addf(err, "%s: %s (-0x%04x)", what, text, (unsigned)-code);
}

static int bio_send(void *ctx, const unsigned char *data, size_t len)
{
	struct lean_tls *t = ctx;
	ssize_t n = send(t->fd, data, len, MSG_NOSIGNAL);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *data, size_t len)
{
	struct lean_tls *t = ctx;
	ssize_t n = recv(t->fd, data, len, 0);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/*
 * mbed TLS calls this for each certificate of the chain it verified,
 * from the trusted CA (the highest depth) down to the server's (depth
 * 0): each is kept in its slot.  It changes no verification result.
 */
static int on_verify(void *ctx, mbedtls_x509_crt *crt, int depth,
		     uint32_t *flags)
{
	struct lean_tls *t = ctx;

	(void)flags;
	if (depth >= 0 && crt && crt->raw.p && crt->raw.len)
		tls_chain_put(&t->verified, (size_t)depth, crt->raw.p,
			      crt->raw.len);
	return 0;
}

/* The CAs to trust, parsed for this handshake. */
static bool load_cas(struct lean_tls *t, const char *ca_file, struct buf *err)
{
	const char *env_file;
	int r;

	t->ca = xcalloc(1, sizeof(*t->ca));
	lib.mbedtls_x509_crt_init(t->ca);
	/* As Go (and tls_env.h): SSL_CERT_FILE replaces the system bundle. */
	if (!ca_file && (env_file = getenv("SSL_CERT_FILE")) && *env_file)
		ca_file = env_file;
	if (ca_file) {
		r = lib.mbedtls_x509_crt_parse_file(t->ca, ca_file);
	} else {
		r = lib.mbedtls_x509_crt_parse_file(t->ca, SYSTEM_CA_BUNDLE);
		if (r < 0)
			r = lib.mbedtls_x509_crt_parse_path(t->ca, SYSTEM_CA_DIR);
	}
	/* r > 0: that many certificates could not be read; the rest can. */
	if (r < 0 || !t->ca->raw.len) {
		char what[320];

		snprintf(what, sizeof(what), "cannot read CA certificates from %s",
			 ca_file ? ca_file : SYSTEM_CA_BUNDLE);
		if (r < 0) {
			describe(err, what, r);
		} else {
			buf_reset(err);
			(void)buf_addstr(err, what);
		}
		return false;
	}
	lib.mbedtls_ssl_conf_ca_chain(&t->conf, t->ca, NULL);
	return true;
}

static void drop_cas(struct lean_tls *t)
{
	if (!t->ca)
		return;
	lib.mbedtls_ssl_conf_ca_chain(&t->conf, NULL, NULL);
	lib.mbedtls_x509_crt_free(t->ca);
	free(t->ca);
	t->ca = NULL;
}

struct lean_tls *lean_tls_new(int fd, const char *host,
			      const struct lean_tls_files *files,
			      enum lean_error *err_kind, struct buf *err)
{
	struct lean_tls *t;
	int r;

	if (!lean_tls_available(err)) {
		*err_kind = LEAN_TLS;
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->fd = fd;
	t->host = xstrdup(host);
	lib.mbedtls_ssl_init(&t->ssl);
	lib.mbedtls_ssl_config_init(&t->conf);
	lib.mbedtls_ctr_drbg_init(&t->drbg);
	lib.mbedtls_entropy_init(&t->entropy);
	lib.mbedtls_x509_crt_init(&t->own_cert);
	lib.mbedtls_pk_init(&t->own_key);
	*err_kind = LEAN_TLS;
	if ((r = lib.mbedtls_ctr_drbg_seed(&t->drbg, lib.mbedtls_entropy_func,
					   &t->entropy, NULL, 0)) != 0) {
		describe(err, "cannot seed the TLS random generator", r);
		goto fail;
	}
	if ((r = lib.mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
						 MBEDTLS_SSL_TRANSPORT_STREAM,
						 MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		describe(err, "cannot set up TLS", r);
		goto fail;
	}
	lib.mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
					 MBEDTLS_SSL_MINOR_VERSION_3);
	lib.mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	lib.mbedtls_ssl_conf_rng(&t->conf, lib.mbedtls_ctr_drbg_random, &t->drbg);
	lib.mbedtls_ssl_conf_verify(&t->conf, on_verify, t);
	*err_kind = LEAN_TLS_FILES;
	if (!load_cas(t, files ? files->ca_file : NULL, err))
		goto fail;
	if (files && files->cert_file) {
		const char *key = files->key_file ? files->key_file : files->cert_file;

		if ((r = lib.mbedtls_x509_crt_parse_file(&t->own_cert,
							 files->cert_file)) != 0) {
			describe(err, files->cert_file, r);
			goto fail;
		}
		if ((r = lib.mbedtls_pk_parse_keyfile(&t->own_key, key, NULL)) != 0) {
			describe(err, key, r);
			goto fail;
		}
		if ((r = lib.mbedtls_ssl_conf_own_cert(&t->conf, &t->own_cert,
						       &t->own_key)) != 0) {
			describe(err, "cannot use the client certificate", r);
			goto fail;
		}
	}
	*err_kind = LEAN_TLS;
	if ((r = lib.mbedtls_ssl_setup(&t->ssl, &t->conf)) != 0) {
		describe(err, "cannot set up TLS", r);
		goto fail;
	}
	if (inet_pton(AF_INET, host, t->ip) == 1) {
		t->ip_len = 4;
	} else if (inet_pton(AF_INET6, host, t->ip) == 1) {
		t->ip_len = 16;
	} else if ((r = lib.mbedtls_ssl_set_hostname(&t->ssl, host)) != 0) {
		/* SNI, and the name the certificate must carry. */
		describe(err, "cannot set the TLS server name", r);
		goto fail;
	}
	lib.mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return t;
fail:
	lean_tls_free(t);
	return NULL;
}

/*
 * Reads one DER tag and length at *p (before end): the tag in *tag, the
 * contents' start in *p, their length in *len.  False when malformed.
 */
static bool der_next(const unsigned char **p, const unsigned char *end,
		     unsigned *tag, size_t *len)
{
	const unsigned char *q = *p;
	size_t n, i;

	if (end - q < 2)
		return false;
	*tag = *q++;
	n = *q++;
	if (n & 0x80) {
		size_t bytes = n & 0x7f;

		if (!bytes || bytes > 4 || (size_t)(end - q) < bytes)
			return false;
		for (n = 0, i = 0; i < bytes; i++)
			n = n << 8 | *q++;
	}
	if ((size_t)(end - q) < n)
		return false;
	*p = q;
	*len = n;
	return true;
}

/*
 * Whether the certificate's subjectAltName holds the IP address the
 * lean client connected to.  mbed TLS 2.28 matches DNS names only (its
 * subject_alt_names lists no iPAddress entries), so the extension is
 * read here: Extensions ::= SEQUENCE OF SEQUENCE { extnID OID,
 * critical BOOLEAN OPTIONAL, extnValue OCTET STRING { SEQUENCE OF
 * GeneralName } }, iPAddress being [7] IMPLICIT OCTET STRING.
 */
static bool cert_has_ip(const mbedtls_x509_crt *crt, const unsigned char *ip,
			size_t ip_len)
{
	static const unsigned char san_oid[] = { 0x55, 0x1d, 0x11 };
	const unsigned char *p = crt->v3_ext.p, *end = p + crt->v3_ext.len;
	unsigned tag;
	size_t len;

	if (!p || !crt->v3_ext.len)
		return false;
	/* v3_ext may start at [3] EXPLICIT or at the SEQUENCE inside it. */
	if (*p == 0xa3 && !der_next(&p, end, &tag, &len))
		return false;
	if (!der_next(&p, end, &tag, &len) || tag != 0x30)
		return false;
	end = p + len;
	while (p < end) {
		const unsigned char *ext, *ext_end, *names_end;

		if (!der_next(&p, end, &tag, &len) || tag != 0x30)
			return false;
		ext = p;
		ext_end = p + len;
		p = ext_end;
		if (!der_next(&ext, ext_end, &tag, &len) || tag != 0x06)
			return false;
		if (len != sizeof(san_oid) || memcmp(ext, san_oid, len))
			continue;
		ext += len;
		if (!der_next(&ext, ext_end, &tag, &len))
			return false;
		if (tag == 0x01) {	/* critical */
			ext += len;
			if (!der_next(&ext, ext_end, &tag, &len))
				return false;
		}
		if (tag != 0x04 || !der_next(&ext, ext + len, &tag, &len) ||
		    tag != 0x30)
			return false;
		names_end = ext + len;
		while (ext < names_end) {
			if (!der_next(&ext, names_end, &tag, &len))
				return false;
			if (tag == 0x87 && len == ip_len && !memcmp(ext, ip, len))
				return true;
			ext += len;
		}
		return false;
	}
	return false;
}

int lean_tls_handshake(struct lean_tls *t, enum lean_error *err_kind,
		       struct buf *err)
{
	int r = lib.mbedtls_ssl_handshake(&t->ssl);
	const mbedtls_x509_crt *peer;

	if (r == MBEDTLS_ERR_SSL_WANT_READ)
		return LEAN_TLS_WANT_READ;
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return LEAN_TLS_WANT_WRITE;
	drop_cas(t);
	if (r == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		char info[256];
		size_t n;

		lib.mbedtls_x509_crt_verify_info(info, sizeof(info), "",
						 lib.mbedtls_ssl_get_verify_result(&t->ssl));
		n = strlen(info);
		while (n && (info[n - 1] == '\n' || info[n - 1] == ' '))
			info[--n] = '\0';
		for (char *c = info; *c; c++)
			if (*c == '\n')
				*c = ';';
		buf_reset(err);
		(void)buf_addf(err, "server certificate for %s not trusted: %s",
			       t->host, info);
		*err_kind = LEAN_TLS_VERIFY;
		return LEAN_TLS_FAILED;
	}
	if (r != 0) {
		describe(err, "TLS handshake failed", r);
		*err_kind = LEAN_TLS;
		return LEAN_TLS_FAILED;
	}
	if (t->ip_len) {
		peer = lib.mbedtls_ssl_get_peer_cert(&t->ssl);
		if (!peer || !cert_has_ip(peer, t->ip, t->ip_len)) {
			buf_reset(err);
			(void)buf_addf(err, "server certificate does not name %s",
				       t->host);
			*err_kind = LEAN_TLS_VERIFY;
			return LEAN_TLS_FAILED;
		}
	}
	return LEAN_TLS_DONE;
}

void lean_tls_verified_chain_pem(const struct lean_tls *t, struct buf *out)
{
	tls_chain_write_pem(&t->verified, out);
}

ssize_t lean_tls_read(struct lean_tls *t, void *data, size_t len)
{
	int r = lib.mbedtls_ssl_read(&t->ssl, data, len);

	if (r >= 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_WANT_READ)
		return LEAN_TLS_WANT_READ;
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return LEAN_TLS_WANT_WRITE;
	if (r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	errno = EPROTO;
	return LEAN_TLS_FAILED;
}

ssize_t lean_tls_write(struct lean_tls *t, const void *data, size_t len)
{
	int r = lib.mbedtls_ssl_write(&t->ssl, data, len);

	if (r >= 0)
		return r;
	if (r == MBEDTLS_ERR_SSL_WANT_READ)
		return LEAN_TLS_WANT_READ;
	if (r == MBEDTLS_ERR_SSL_WANT_WRITE)
		return LEAN_TLS_WANT_WRITE;
	errno = EPROTO;
	return LEAN_TLS_FAILED;
}

void lean_tls_free(struct lean_tls *t)
{
	if (!t)
		return;
	drop_cas(t);
	lib.mbedtls_ssl_free(&t->ssl);
	lib.mbedtls_ssl_config_free(&t->conf);
	lib.mbedtls_ctr_drbg_free(&t->drbg);
	lib.mbedtls_entropy_free(&t->entropy);
	lib.mbedtls_x509_crt_free(&t->own_cert);
	lib.mbedtls_pk_free(&t->own_key);
	tls_chain_release(&t->verified);
	free(t->host);
	free(t);
}

/* ---- verifying a chain outside a handshake ---- */

static int collect_chain(void *ctx, mbedtls_x509_crt *crt, int depth,
			 uint32_t *flags)
{
	(void)flags;
	if (depth >= 0 && crt && crt->raw.p && crt->raw.len)
		tls_chain_put(ctx, (size_t)depth, crt->raw.p, crt->raw.len);
	return 0;
}

/* The trust of tls_env.h: ca_file, else SSL_CERT_FILE or the system
 * bundle, and the directories of SSL_CERT_DIR. */
static bool load_trust(mbedtls_x509_crt *ca, const char *ca_file,
		       struct buf *err)
{
	const char *file = ca_file && *ca_file ? ca_file :
		getenv("SSL_CERT_FILE");
	const char *dirs = getenv("SSL_CERT_DIR");
	int r;

	if (file && *file) {
		if ((r = lib.mbedtls_x509_crt_parse_file(ca, file)) < 0) {
			describe(err, file, r);
			return false;
		}
	} else {
		(void)lib.mbedtls_x509_crt_parse_file(ca, SYSTEM_CA_BUNDLE);
	}
	while (dirs && *dirs) {
		size_t n = strcspn(dirs, ":");
		char dir[4096];

		if (n && n < sizeof(dir)) {
			memcpy(dir, dirs, n);
			dir[n] = '\0';
			(void)lib.mbedtls_x509_crt_parse_path(ca, dir);
		}
		dirs += n + (dirs[n] == ':');
	}
	if (!ca->raw.len) {
		buf_reset(err);
		(void)buf_addstr(err, "no CA certificates to verify with");
		return false;
	}
	return true;
}

static bool is_trusted(const mbedtls_x509_crt *ca, const struct buf *der)
{
	for (; ca && ca->raw.len; ca = ca->next)
		if (ca->raw.len == der->len && !memcmp(ca->raw.p, der->data,
							der->len))
			return true;
	return false;
}

int lean_tls_verify_chain(const struct tls_chain *peer, const char *ca_file,
			  struct tls_chain *verified, struct buf *err)
{
	mbedtls_x509_crt certs, ca;
	uint32_t flags = 0;
	size_t i;
	int r, ret = -1;

	if (!lean_tls_available(err))
		return -1;
	if (!peer->nr || !peer->certs[0].len) {
		buf_seterr(err, "no certificate to verify");
		return -1;
	}
	lib.mbedtls_x509_crt_init(&certs);
	lib.mbedtls_x509_crt_init(&ca);
	for (i = 0; i < peer->nr; i++) {
		if (!peer->certs[i].len)
			continue;
		r = lib.mbedtls_x509_crt_parse_der(&certs,
			(const unsigned char *)peer->certs[i].data,
			peer->certs[i].len);
		if (r) {
			describe(err, "cannot read a certificate of the chain", r);
			goto out;
		}
	}
	if (!load_trust(&ca, ca_file, err))
		goto out;
	tls_chain_release(verified);
	/* As Go's Certificate.Verify: a trusted certificate is its own chain. */
	if (is_trusted(&ca, &peer->certs[0])) {
		tls_chain_append(verified, peer->certs[0].data,
				 peer->certs[0].len);
		ret = 0;
		goto out;
	}
	r = lib.mbedtls_x509_crt_verify(&certs, &ca, NULL, NULL, &flags,
					collect_chain, verified);
	if (r) {
		char info[256];

		lib.mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
		info[strcspn(info, "\n")] = '\0';
		buf_reset(err);
		(void)buf_addf(err, "the chain does not verify: %s",
			       flags ? info : "error");
		tls_chain_release(verified);
		goto out;
	}
	ret = 0;
out:
	lib.mbedtls_x509_crt_free(&certs);
	lib.mbedtls_x509_crt_free(&ca);
	return ret;
}
