#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

/* Shared empty string that an unallocated buf points at; never written. */
char buf_empty[1];

void buf_init(struct buf *b, size_t max)
{
	b->data = buf_empty;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->data);
	buf_init(b, b->max);
}

void buf_release_secret(struct buf *b)
{
	if (b->alloc)
		explicit_bzero(b->data, b->alloc);
	buf_release(b);
}

void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *data;

	if (len)
		*len = b->len;
	data = b->alloc ? b->data : xstrdup("");
	buf_init(b, b->max);
	return data;
}

static size_t buf_limit(const struct buf *b)
{
	return b->max ? b->max : BUF_MAX_DEFAULT;
}

int buf_grow(struct buf *b, size_t extra)
{
	size_t want, limit = buf_limit(b);

	if (extra > limit || b->len > limit - extra)
		return CR_ERR_TOO_LARGE;
	want = b->len + extra + 1;
	if (want <= b->alloc)
		return 0;
	if (want < b->alloc + b->alloc / 2)
		want = b->alloc + b->alloc / 2;
	if (want < 64)
		want = 64;
	if (b->alloc) {
		b->data = xrealloc(b->data, want);
	} else {
		b->data = xmalloc(want);
		b->data[0] = '\0';
	}
	b->alloc = want;
	return 0;
}

void buf_setlen(struct buf *b, size_t len)
{
	if (!b->alloc)
		return;
	if (len > b->len)
		len = b->len;
	b->len = len;
	b->data[len] = '\0';
}

int buf_add(struct buf *b, const void *data, size_t len)
{
	int r;

	if (!len)
		return 0;
	if ((r = buf_grow(b, len)) != 0)
		return r;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_addstr(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addch(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return CR_ERR_INVALID;
	if ((r = buf_grow(b, (size_t)n)) != 0)
		return r;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vaddf(b, fmt, ap);
	va_end(ap);
	return r;
}

void buf_seterr(struct buf *err, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->len)
		return;
	va_start(ap, fmt);
	(void)buf_vaddf(err, fmt, ap);
	va_end(ap);
}
