/*
 * Base64 (RFC 4648).  Decoding is strict: the padding must be where it
 * belongs and nothing but the alphabet may appear, because a key that
 * decodes "mostly" would only fail later as a wrong signature.
 */
#include <stdbool.h>
#include <string.h>

#include "util/base64.h"
#include "util/buf.h"
#include "util/banned.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(struct buf *out, const void *in, size_t len)
{
	const unsigned char *p = in;
	size_t i;

	for (i = 0; i + 2 < len; i += 3) {
		(void)buf_addch(out, alphabet[p[i] >> 2]);
		(void)buf_addch(out, alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		(void)buf_addch(out, alphabet[((p[i + 1] & 15) << 2) | (p[i + 2] >> 6)]);
		(void)buf_addch(out, alphabet[p[i + 2] & 63]);
	}
	if (len - i == 1) {
		(void)buf_addch(out, alphabet[p[i] >> 2]);
		(void)buf_addch(out, alphabet[(p[i] & 3) << 4]);
		(void)buf_addstr(out, "==");
	} else if (len - i == 2) {
		(void)buf_addch(out, alphabet[p[i] >> 2]);
		(void)buf_addch(out, alphabet[((p[i] & 3) << 4) | (p[i + 1] >> 4)]);
		(void)buf_addch(out, alphabet[(p[i + 1] & 15) << 2]);
		(void)buf_addch(out, '=');
	}
}

static int value_of(char c)
{
	const char *at = c ? strchr(alphabet, c) : NULL;

	return at ? (int)(at - alphabet) : -1;
}

int base64_decode(const char *in, struct buf *out)
{
	size_t len = strlen(in), i;

	if (len % 4)
		return -1;
	for (i = 0; i < len; i += 4) {
		int a = value_of(in[i]), b = value_of(in[i + 1]),
		    c = value_of(in[i + 2]), d = value_of(in[i + 3]);
		bool last = i + 4 == len;

		if (a < 0 || b < 0)
			return -1;
		if (c < 0 && !(last && in[i + 2] == '=' && in[i + 3] == '='))
			return -1;
		if (d < 0 && !(last && in[i + 3] == '='))
			return -1;
		(void)buf_addch(out, (char)((a << 2) | (b >> 4)));
		if (c >= 0)
			(void)buf_addch(out, (char)(((b & 15) << 4) | (c >> 2)));
		if (d >= 0)
			(void)buf_addch(out, (char)(((c & 3) << 6) | d));
	}
	return 0;
}
