/*
 * tls_chain_resolve.h: FF_RESOLVE_FULL_TLS_CHAIN.
 */
#include <string.h>

#include "gitlab/http.h"
#include "gitlab/lean_tls.h"
#include "gitlab/tls_chain.h"
#include "gitlab/tls_chain_resolve.h"
#include "util/log.h"
#include "util/banned.h"

/* resolver_url.go's defaultURLResolverLoopLimit and fetch timeout. */
#define URL_RESOLVER_LOOP_LIMIT 15
#define URL_RESOLVER_TIMEOUT_MS 15000
#define ISSUER_MAX_BYTES ((size_t)1 << 20)

static const struct buf *last_cert(const struct tls_chain *c)
{
	return &c->certs[c->nr - 1];
}

/* The issuer certificate at url (the first of a PEM file, as Go's
 * pem.Decode), appended to chain. */
static int fetch_issuer(const char *url, struct tls_chain *chain,
			struct buf *err)
{
	struct gl_http_request req = {
		.method = "GET",
		.url = url,
		.max_response = ISSUER_MAX_BYTES,
		.timeout_ms = URL_RESOLVER_TIMEOUT_MS,
		.no_retry = true,
		.follow_redirects = true,
	};
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct tls_chain got = TLS_CHAIN_INIT;
	struct buf why = BUF_INIT;
	int r = -1;

	(void)gl_http_perform_sync(NULL, &req, &resp);
	if (resp.status != 200) {
		if (resp.status)
			buf_seterr(err, "fetching the issuer certificate %s: HTTP status %ld",
				   url, resp.status);
		else
			buf_seterr(err, "fetching the issuer certificate %s: %s",
				   url, resp.error.data);
	} else if (!strncmp(resp.body.data, "-----BEGIN ", 11)) {
		if (strncmp(resp.body.data, "-----BEGIN CERTIFICATE-----", 27) ||
		    tls_chain_add_pem(&got, resp.body.data, &why) < 1)
			buf_seterr(err, "the issuer certificate %s: %s", url,
				   why.len ? why.data : "not a PEM certificate");
		else
			r = 0;
	} else if (!tls_cert_is_der(resp.body.data, resp.body.len)) {
		buf_seterr(err, "the issuer certificate %s is not a DER or PEM certificate",
			   url);
	} else {
		tls_chain_append(&got, resp.body.data, resp.body.len);
		r = 0;
	}
	if (r == 0)
		tls_chain_append(chain, got.certs[0].data, got.certs[0].len);
	tls_chain_release(&got);
	gl_http_response_release(&resp);
	buf_release(&why);
	return r;
}

/* resolver_url.go's urlResolver.Resolve. */
static int resolve_urls(struct tls_chain *chain, struct buf *err)
{
	struct buf url = BUF_INIT;
	int loop = 0, r = 0;

	while (++loop < URL_RESOLVER_LOOP_LIMIT) {
		const struct buf *last = last_cert(chain);

		if (!tls_cert_issuer_url(last->data, last->len, &url))
			break;
		log_debug("FF_RESOLVE_FULL_TLS_CHAIN: fetching the issuer certificate %s",
			  url.data);
		if ((r = fetch_issuer(url.data, chain, err)) != 0)
			break;
		last = last_cert(chain);
		if (tls_cert_self_issued(last->data, last->len))
			break;
	}
	buf_release(&url);
	return r;
}

/* resolver_verify.go's verifyResolver.Resolve. */
static void resolve_verify(struct tls_chain *chain)
{
	const struct buf *last = last_cert(chain);
	struct tls_chain one = TLS_CHAIN_INIT, verified = TLS_CHAIN_INIT;
	struct buf err = BUF_INIT;
	size_t i;

	if (tls_cert_self_issued(last->data, last->len))
		return;
	tls_chain_append(&one, last->data, last->len);
	if (lean_tls_verify_chain(&one, NULL, &verified, &err) != 0) {
		/* XXX gitlab-runner fails for errors other than an unknown
		 * authority; mbed TLS's flags do not tell them apart here. */
		log_warn("FF_RESOLVE_FULL_TLS_CHAIN: the last certificate of the chain is not verified (%s): the chain is left as it is",
			 err.data);
	} else {
		for (i = 1; i < verified.nr; i++)
			tls_chain_append(chain, verified.certs[i].data,
					 verified.certs[i].len);
	}
	tls_chain_release(&one);
	tls_chain_release(&verified);
	buf_release(&err);
}

int tls_chain_resolve_full(struct buf *pem, struct buf *err)
{
	struct tls_chain chain = TLS_CHAIN_INIT;
	int r = -1;

	if (tls_chain_add_pem(&chain, pem->data, err) < 1) {
		if (!err->len)
			buf_seterr(err, "no certificate in the chain");
		goto out;
	}
	if (resolve_urls(&chain, err) != 0)
		goto out;
	resolve_verify(&chain);
	buf_reset(pem);
	tls_chain_write_pem(&chain, pem);
	r = 0;
out:
	tls_chain_release(&chain);
	return r;
}
