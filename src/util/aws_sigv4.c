/*
 * SigV4 (aws_sigv4.h): the canonical request, the string to sign, the
 * derived key, the signature.
 */
#include <string.h>
#include <time.h>

#include "util/aws_sigv4.h"
#include "util/buf.h"
#include "util/sha256.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void hmac_text(const unsigned char *key, size_t key_len,
		      const char *text, unsigned char out[SHA256_LEN])
{
	hmac_sha256(key, key_len, text, strlen(text), out);
}

void aws_sigv4_signature(const char *secret, const char *date,
			 const char *day, const char *region,
			 const char *service, const struct buf *creq,
			 char hex[SHA256_HEX_LEN + 1])
{
	unsigned char digest[SHA256_LEN], k[SHA256_LEN];
	struct buf sts = BUF_INIT, key = BUF_INIT;

	sha256(creq->data, creq->len, digest);
	sha256_hex(digest, sizeof(digest), hex);
	(void)buf_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
		       date, day, region, service, hex);
	(void)buf_addf(&key, "AWS4%s", secret);
	hmac_text((const unsigned char *)key.data, key.len, day, k);
	hmac_text(k, sizeof(k), region, k);
	hmac_text(k, sizeof(k), service, k);
	hmac_text(k, sizeof(k), "aws4_request", k);
	hmac_sha256(k, sizeof(k), sts.data, sts.len, digest);
	sha256_hex(digest, sizeof(digest), hex);
	explicit_bzero(k, sizeof(k));
	buf_release_secret(&key);
	buf_release(&sts);
}

void aws_sigv4_authorization(const struct aws_sigv4_request *r,
			     struct buf *out)
{
	struct buf creq = BUF_INIT, names = BUF_INIT;
	unsigned char digest[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1], day[9];
	size_t i;

	memcpy(day, r->date, 8);
	day[8] = '\0';
	for (i = 0; i < r->nr_headers; i++)
		(void)buf_addf(&names, "%s%s", i ? ";" : "",
			       r->headers[i].name);
	(void)buf_addf(&creq, "%s\n%s\n%s\n", r->method, r->path,
		       r->query ? r->query : "");
	for (i = 0; i < r->nr_headers; i++)
		(void)buf_addf(&creq, "%s:%s\n", r->headers[i].name,
			       r->headers[i].value);
	sha256(r->body ? r->body : "", r->body_len, digest);
	sha256_hex(digest, sizeof(digest), hex);
	(void)buf_addf(&creq, "\n%s\n%s", names.data, hex);
	aws_sigv4_signature(r->secret_key, r->date, day, r->region,
			    r->service, &creq, hex);
	(void)buf_addf(out, "AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
		       r->access_key, day, r->region, r->service, names.data,
		       hex);
	buf_release_secret(&creq);
	buf_release(&names);
}

void aws_sigv4_now(char out[17])
{
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

char *aws_xml_text(const char *xml, const char *tag)
{
	struct buf open = BUF_INIT, close = BUF_INIT;
	const char *a, *b;
	char *r = NULL;

	(void)buf_addf(&open, "<%s>", tag);
	(void)buf_addf(&close, "</%s>", tag);
	if ((a = strstr(xml, open.data)) &&
	    (b = strstr(a + open.len, close.data)))
		r = xstrndup(a + open.len, (size_t)(b - a - open.len));
	buf_release(&open);
	buf_release(&close);
	return r;
}
