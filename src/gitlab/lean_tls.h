/*
 * TLS for the lean HTTP client (lean_http.h) over mbed TLS, which is
 * dlopen()ed on the first https connection (about 0.5 MiB mapped, against
 * the 6-8 MiB that libcurl and OpenSSL bring).
 *
 * The server is verified against tls-ca-file, else SSL_CERT_FILE or the
 * system CA bundle, and its name (SNI sent, and checked against the
 * certificate's DNS or IP names).  The CA bundle is parsed for each handshake and freed after
 * it, so an idle connection holds no parsed certificates.  A client
 * certificate and key are presented when given.
 *
 * The caller owns the non-blocking socket; a lean_tls works on it:
 *  1. t = lean_tls_new(fd, host, files, err);
 *  2. lean_tls_handshake(t, err) until it returns LEAN_TLS_DONE, waiting
 *     for the socket as LEAN_TLS_WANT_READ / _WANT_WRITE say;
 *  3. lean_tls_read() / lean_tls_write();
 *  4. lean_tls_free(t) before closing fd.
 */
#ifndef CR_GL_LEAN_TLS_H
#define CR_GL_LEAN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "gitlab/lean_http.h"
#include "util/buf.h"

struct lean_tls;

#define LEAN_TLS_DONE 0
#define LEAN_TLS_WANT_READ (-1)
#define LEAN_TLS_WANT_WRITE (-2)
#define LEAN_TLS_FAILED (-3)

/* Whether the TLS library can be loaded; why says what failed if not. */
bool lean_tls_available(struct buf *why);

/* NULL on failure: *err_kind (LEAN_TLS_FILES, LEAN_TLS) and err say why. */
struct lean_tls *lean_tls_new(int fd, const char *host,
			      const struct lean_tls_files *files,
			      enum lean_error *err_kind, struct buf *err);
/* LEAN_TLS_DONE, _WANT_READ, _WANT_WRITE or _FAILED (*err_kind, err). */
int lean_tls_handshake(struct lean_tls *t, enum lean_error *err_kind,
		       struct buf *err);
/* Bytes moved (read: 0 at the end of the stream), or a LEAN_TLS_* < 0. */
/*
 * After the handshake: appends to out the PEM of the chain that verified
 * the server (its certificate first, the trusted CA last; tls_chain.h).
 */
void lean_tls_verified_chain_pem(const struct lean_tls *t, struct buf *out);
/*
 * Outside a handshake (libcurl's answers, FF_RESOLVE_FULL_TLS_CHAIN):
 * verifies peer (a certificate first, then others that may lead to a
 * trusted CA) against ca_file, else SSL_CERT_FILE or the system bundle,
 * and SSL_CERT_DIR (tls_env.h), names not checked.  0 with verified
 * replaced by the chain, that certificate first and the trusted CA
 * last (just the certificate when it is itself trusted, as Go's
 * Certificate.Verify); -1 with err when it does not verify or mbed TLS
 * cannot be loaded.
 */
struct tls_chain;
int lean_tls_verify_chain(const struct tls_chain *peer, const char *ca_file,
			  struct tls_chain *verified, struct buf *err);
ssize_t lean_tls_read(struct lean_tls *t, void *data, size_t len);
ssize_t lean_tls_write(struct lean_tls *t, const void *data, size_t len);
void lean_tls_free(struct lean_tls *t);

#endif
