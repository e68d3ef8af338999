/*
 * Go's net/url escaping (url_escape.h).
 */
#include <stdbool.h>
#include <string.h>

#include "util/buf.h"
#include "util/url_escape.h"
#include "util/banned.h"

static bool unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '~';
}

static void percent(struct buf *out, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";

	(void)buf_addch(out, '%');
	(void)buf_addch(out, hex[c >> 4]);
	(void)buf_addch(out, hex[c & 15]);
}

void url_query_escape(struct buf *out, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p))
			(void)buf_addch(out, (char)*p);
		else if (*p == ' ')
			(void)buf_addch(out, '+');
		else
			percent(out, *p);
	}
}

void url_path_escape(struct buf *out, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || strchr("/$&+,:;=@", *p))
			(void)buf_addch(out, (char)*p);
		else
			percent(out, *p);
	}
}
