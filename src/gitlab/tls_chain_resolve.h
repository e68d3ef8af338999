/*
 * FF_RESOLVE_FULL_TLS_CHAIN: gitlab-runner's chain resolver
 * (helpers/tls/ca_chain/resolver_*.go), run on the job request's chain
 * when the runner's flag is on:
 *  1. while the last certificate names a "CA Issuers" URL (Authority
 *     Information Access), its issuer is fetched from it (PEM or DER,
 *     15 s, at most 14 fetches) and appended, until a self-issued one;
 *  2. if the last certificate is still not self-issued, it is verified
 *     against the system CAs (SSL_CERT_FILE, SSL_CERT_DIR) and the
 *     chain above it appended; an untrusted one leaves the chain as is.
 * XXX The fetches block the caller's loop, as gitlab-runner's block the
 * runner's request; PKCS#7 issuer files are not read.
 */
#ifndef CR_GL_TLS_CHAIN_RESOLVE_H
#define CR_GL_TLS_CHAIN_RESOLVE_H

#include "util/buf.h"

/*
 * pem (tls_chain.h's form) is replaced by the resolved chain.  -1 with
 * err when an issuer cannot be fetched or read, or the chain not
 * verified for another reason than an unknown authority: gitlab-runner
 * then gives the job no CA file.
 */
int tls_chain_resolve_full(struct buf *pem, struct buf *err);

#endif
