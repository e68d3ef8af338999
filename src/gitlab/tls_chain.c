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
