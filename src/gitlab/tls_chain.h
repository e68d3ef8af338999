/*
 * A TLS certificate chain as gitlab-runner hands it to a job in
 * CI_SERVER_TLS_CA_FILE (network/client.go buildCAChain and
 * helpers/tls/ca_chain/builder.go): the chain that verified the
 * server on the job request, the server's certificate first and the
 * trust anchor (the CA from tls-ca-file or the system bundle) last,
 * each certificate once, as PEM "CERTIFICATE" blocks with no newline
 * after the last one.
 *
 * Certificates are held as DER.  Slots may be filled out of order
 * (tls_chain_put) because mbed TLS reports a verified chain from the
 * anchor down to the server's certificate.
 */
#ifndef CR_GL_TLS_CHAIN_H
#define CR_GL_TLS_CHAIN_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct tls_chain {
	struct buf *certs;	/* DER; an empty one is an unfilled slot */
	size_t nr;
};

#define TLS_CHAIN_INIT { NULL, 0 }

/* Sets slot index (growing the chain as needed) to a copy of der. */
void tls_chain_put(struct tls_chain *c, size_t index, const void *der,
		   size_t len);
/* Appends a copy of der after the last slot. */
void tls_chain_append(struct tls_chain *c, const void *der, size_t len);
/* Empties the chain (it can be used again). */
void tls_chain_release(struct tls_chain *c);

/*
 * Appends the PEM of the chain to out: the filled slots in order, a
 * certificate already written (same DER) skipped; blocks of 64-column
 * base64, separated by one newline, none after the last.
 */
void tls_chain_write_pem(const struct tls_chain *c, struct buf *out);

/*
 * Appends the certificate of every "CERTIFICATE" PEM block of text (other
 * text and blocks ignored).  Returns how many it read, or -1 (err says
 * why) for a block whose base64 does not decode.
 */
int tls_chain_add_pem(struct tls_chain *c, const char *text, struct buf *err);

/*
 * Of one DER certificate (what FF_RESOLVE_FULL_TLS_CHAIN needs; Go's
 * x509.Certificate IssuingCertificateURL and isSelfSigned):
 *  - tls_cert_issuer_url: the first "CA Issuers" URI of its Authority
 *    Information Access extension, into url; false when it has none;
 *  - tls_cert_self_issued: whether its issuer and subject names are the
 *    same (XXX Go also checks the signature with the certificate's key);
 *  - tls_cert_is_der: whether it has the outline of a certificate.
 */
bool tls_cert_issuer_url(const void *der, size_t len, struct buf *url);
bool tls_cert_self_issued(const void *der, size_t len);
bool tls_cert_is_der(const void *der, size_t len);

#endif
