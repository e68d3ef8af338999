/*
 * tls_chain.h: a certificate chain as DER, written as PEM.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "gitlab/tls_chain.h"
#include "util/base64.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----"
#define PEM_END "-----END CERTIFICATE-----"
#define PEM_COLUMNS 64

void tls_chain_put(struct tls_chain *c, size_t index, const void *der,
		   size_t len)
{
	if (index >= c->nr) {
		c->certs = xreallocarray(c->certs, index + 1, sizeof(*c->certs));
		while (c->nr <= index)
			buf_init(&c->certs[c->nr++], 0);
	}
	buf_reset(&c->certs[index]);
	(void)buf_add(&c->certs[index], der, len);
}

void tls_chain_append(struct tls_chain *c, const void *der, size_t len)
{
	tls_chain_put(c, c->nr, der, len);
}

void tls_chain_release(struct tls_chain *c)
{
	size_t i;

	for (i = 0; i < c->nr; i++)
		buf_release(&c->certs[i]);
	free(c->certs);
	c->certs = NULL;
	c->nr = 0;
}

static bool written_before(const struct tls_chain *c, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (c->certs[j].len == c->certs[i].len &&
		    !memcmp(c->certs[j].data, c->certs[i].data, c->certs[i].len))
			return true;
	return false;
}

void tls_chain_write_pem(const struct tls_chain *c, struct buf *out)
{
	struct buf b64 = BUF_INIT;
	bool first = true;
	size_t i, at;

	for (i = 0; i < c->nr; i++) {
		if (!c->certs[i].len || written_before(c, i))
			continue;
		buf_reset(&b64);
		base64_encode(&b64, c->certs[i].data, c->certs[i].len);
		if (!first)
			(void)buf_addch(out, '\n');
		first = false;
		(void)buf_addstr(out, PEM_BEGIN "\n");
		for (at = 0; at < b64.len; at += PEM_COLUMNS) {
			size_t n = b64.len - at < PEM_COLUMNS ? b64.len - at :
				PEM_COLUMNS;

			(void)buf_add(out, b64.data + at, n);
			(void)buf_addch(out, '\n');
		}
		(void)buf_addstr(out, PEM_END);
	}
	buf_release(&b64);
}

int tls_chain_add_pem(struct tls_chain *c, const char *text, struct buf *err)
{
	struct buf b64 = BUF_INIT, der = BUF_INIT;
	const char *p = text, *end;
	int n = 0;

	while ((p = strstr(p, PEM_BEGIN))) {
		p += strlen(PEM_BEGIN);
		if (!(end = strstr(p, PEM_END))) {
			buf_seterr(err, "a PEM certificate has no end line");
			n = -1;
			break;
		}
		buf_reset(&b64);
		for (; p < end; p++)
			if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
				(void)buf_addch(&b64, *p);
		buf_reset(&der);
		if (base64_decode(b64.len ? b64.data : "", &der) != 0 || !der.len) {
			buf_seterr(err, "a PEM certificate is not valid base64");
			n = -1;
			break;
		}
		tls_chain_append(c, der.data, der.len);
		n++;
		p = end + strlen(PEM_END);
	}
	buf_release(&b64);
	buf_release(&der);
	return n;
}

/* ---- reading a DER certificate ---- */

struct der {
	const unsigned char *p, *end;
};

/* The next element of d: its tag, its contents in *in; d moves past it. */
static bool der_take(struct der *d, unsigned *tag, struct der *in)
{
	const unsigned char *q = d->p;
	size_t n, i;

	if (d->end - q < 2)
		return false;
	*tag = *q++;
	n = *q++;
	if (n & 0x80) {
		size_t bytes = n & 0x7f;

		if (!bytes || bytes > 4 || (size_t)(d->end - q) < bytes)
			return false;
		for (n = 0, i = 0; i < bytes; i++)
			n = n << 8 | *q++;
	}
	if ((size_t)(d->end - q) < n)
		return false;
	in->p = q;
	in->end = q + n;
	d->p = q + n;
	return true;
}

/* The TBSCertificate's elements up to the subject: issuer and subject
 * (whole elements, tag included), and what follows the subject. */
struct tbs_parts {
	struct der issuer, subject, rest;
};

static bool tbs_parts(const void *data, size_t len, struct tbs_parts *t)
{
	struct der all = { data, (const unsigned char *)data + len };
	struct der cert, tbs, el;
	unsigned tag;
	int i;

	if (!der_take(&all, &tag, &cert) || tag != 0x30 ||
	    !der_take(&cert, &tag, &tbs) || tag != 0x30)
		return false;
	if (tbs.p < tbs.end && *tbs.p == 0xa0 && !der_take(&tbs, &tag, &el))
		return false;	/* [0] version */
	/* serialNumber, signature, issuer, validity, subject */
	for (i = 0; i < 5; i++) {
		const unsigned char *start = tbs.p;

		if (!der_take(&tbs, &tag, &el))
			return false;
		if (i == 2 || i == 4) {
			struct der *whole = i == 2 ? &t->issuer : &t->subject;

			if (tag != 0x30)
				return false;
			whole->p = start;
			whole->end = el.end;
		}
	}
	t->rest = tbs;
	return true;
}

bool tls_cert_is_der(const void *der, size_t len)
{
	struct tbs_parts t;

	return tbs_parts(der, len, &t);
}

bool tls_cert_self_issued(const void *der, size_t len)
{
	struct tbs_parts t;

	return tbs_parts(der, len, &t) &&
		t.issuer.end - t.issuer.p == t.subject.end - t.subject.p &&
		!memcmp(t.issuer.p, t.subject.p,
			(size_t)(t.issuer.end - t.issuer.p));
}

static bool oid_is(const struct der *oid, const unsigned char *want,
		   size_t len)
{
	return (size_t)(oid->end - oid->p) == len && !memcmp(oid->p, want, len);
}

/* The caIssuers URI of an AuthorityInfoAccessSyntax value. */
static bool aia_ca_issuers(struct der value, struct buf *url)
{
	static const unsigned char ca_issuers[] = {
		0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02 };
	struct der seq, desc, el;
	unsigned tag;

	if (!der_take(&value, &tag, &seq) || tag != 0x30)
		return false;
	while (seq.p < seq.end) {
		if (!der_take(&seq, &tag, &desc) || tag != 0x30 ||
		    !der_take(&desc, &tag, &el) || tag != 0x06)
			return false;
		if (!oid_is(&el, ca_issuers, sizeof(ca_issuers)))
			continue;
		if (!der_take(&desc, &tag, &el))
			return false;
		if (tag != 0x86)	/* [6] uniformResourceIdentifier */
			continue;
		buf_reset(url);
		(void)buf_add(url, el.p, (size_t)(el.end - el.p));
		return true;
	}
	return false;
}

bool tls_cert_issuer_url(const void *der, size_t len, struct buf *url)
{
	static const unsigned char aia[] = {
		0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01 };
	struct tbs_parts t;
	struct der el, exts, ext, f;
	unsigned tag = 0;

	if (!tbs_parts(der, len, &t))
		return false;
	/* subjectPublicKeyInfo, then [1], [2], [3] extensions */
	while (t.rest.p < t.rest.end) {
		if (!der_take(&t.rest, &tag, &el))
			return false;
		if (tag == 0xa3)
			break;
	}
	if (tag != 0xa3 || !der_take(&el, &tag, &exts) || tag != 0x30)
		return false;
	while (exts.p < exts.end) {
		if (!der_take(&exts, &tag, &ext) || tag != 0x30 ||
		    !der_take(&ext, &tag, &f) || tag != 0x06)
			return false;
		if (!oid_is(&f, aia, sizeof(aia)))
			continue;
		if (!der_take(&ext, &tag, &f))
			return false;
		if (tag == 0x01 && !der_take(&ext, &tag, &f))	/* critical */
			return false;
		return tag == 0x04 && aia_ca_issuers(f, url);
	}
	return false;
}
