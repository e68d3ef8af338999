/*
 * UTF-8 validation after RFC 3629's table of well-formed byte sequences:
 * the second byte's range depends on the first (E0 A0..BF, ED 80..9F,
 * F0 90..BF, F4 80..8F), which excludes overlong forms, surrogates and
 * code points above U+10FFFF.
 */
#include "util/utf8.h"
#include "util/banned.h"

static int in(unsigned char c, unsigned char lo, unsigned char hi)
{
	return c >= lo && c <= hi;
}

/* The length of the character at p (at most n bytes), 0 when invalid. */
static size_t char_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t want, i;

	if (c < 0x80)
		return 1;
	if (in(c, 0xc2, 0xdf))
		want = 2;
	else if (in(c, 0xe0, 0xef))
		want = 3;
	else if (in(c, 0xf0, 0xf4))
		want = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < want || !in(p[1], lo, hi))
		return 0;
	for (i = 2; i < want; i++)
		if (!in(p[i], 0x80, 0xbf))
			return 0;
	return want;
}

size_t utf8_valid_prefix(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		/* ASCII runs are the common case. */
		while (i < len && p[i] < 0x80)
			i++;
		if (i == len)
			break;
		if (!(n = char_len(p + i, len - i)))
			break;
		i += n;
	}
	return i;
}
