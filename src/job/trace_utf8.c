/*
 * UTF-8 repair (spec 4.4): what is not valid UTF-8 becomes U+FFFD
 * (EF BF BD).  As Go's decoder does, each byte that does not begin a
 * valid sequence is replaced on its own: "\xe2\x82x" gives two U+FFFD and
 * the 'x'.  Overlong forms, surrogates and code points past U+10FFFF are
 * invalid.
 *
 * A character split across writes is completed from the next write: the
 * stage holds back at most the three first bytes of one character.
 */
#include <stdlib.h>
#include <string.h>

#include "job/trace_internal.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define UTF8_REPLACEMENT "\xef\xbf\xbd"
/* Replacement characters collected before they are passed on. */
#define UTF8_BATCH 128

enum utf8_status {
	UTF8_VALID,
	UTF8_INVALID,	/* s[0] does not begin a valid sequence */
	UTF8_SHORT,	/* valid so far, but the sequence goes past n */
};

static enum utf8_status utf8_check(const unsigned char *s, size_t n,
				   size_t *seqlen)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need, i;

	if (c < 0x80) {
		*seqlen = 1;
		return UTF8_VALID;
	}
	if (c < 0xc2 || c > 0xf4)
		return UTF8_INVALID;	/* continuation, overlong or too big */
	if (c < 0xe0) {
		need = 2;
	} else if (c < 0xf0) {
		need = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else {
		need = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	}
	for (i = 1; i < need; i++) {
		if (i >= n)
			return UTF8_SHORT;
		if (s[i] < lo || s[i] > hi)
			return UTF8_INVALID;
		lo = 0x80;
		hi = 0xbf;
	}
	*seqlen = need;
	return UTF8_VALID;
}

struct utf8_writer {
	struct trace_writer base;
	unsigned char part[4];	/* the start of a split character */
	size_t part_len;
	char batch[UTF8_BATCH * 3];
	size_t batch_len;
};

static int utf8_flush_batch(struct utf8_writer *u)
{
	size_t n = u->batch_len;

	u->batch_len = 0;
	return trace_writer_pass(&u->base, u->batch, n);
}

static int utf8_replace(struct utf8_writer *u, size_t count)
{
	int r;

	while (count--) {
		if (u->batch_len == sizeof(u->batch) &&
		    (r = utf8_flush_batch(u)) != 0)
			return r;
		memcpy(u->batch + u->batch_len, UTF8_REPLACEMENT, 3);
		u->batch_len += 3;
	}
	return 0;
}

/* Valid bytes go out after the replacements collected before them. */
static int utf8_pass(struct utf8_writer *u, const char *data, size_t len)
{
	int r;

	if (!len)
		return 0;
	if ((r = utf8_flush_batch(u)) != 0)
		return r;
	return trace_writer_pass(&u->base, data, len);
}

/*
 * Feeds the held-back start of a character from data.  Returns the bytes
 * of data used; *r is set on a write error.
 */
static size_t utf8_complete(struct utf8_writer *u, const char *data,
			    size_t len, int *r)
{
	size_t used = 0, seqlen;

	*r = 0;
	while (u->part_len && used < len) {
		u->part[u->part_len++] = (unsigned char)data[used++];
		switch (utf8_check(u->part, u->part_len, &seqlen)) {
		case UTF8_SHORT:
			continue;
		case UTF8_VALID:
			*r = utf8_pass(u, (const char *)u->part, u->part_len);
			break;
		case UTF8_INVALID:
			/*
			 * Only the byte just added broke the sequence: the
			 * bytes before it are one replacement each (a lead
			 * byte, then continuation bytes that cannot begin a
			 * character), and that byte is looked at afresh.
			 */
			*r = utf8_replace(u, u->part_len - 1);
			used--;
			break;
		}
		u->part_len = 0;
	}
	return used;
}

static int utf8_write(struct trace_writer *w, const char *data, size_t len)
{
	struct utf8_writer *u = (struct utf8_writer *)w;
	const unsigned char *s;
	size_t i, run, seqlen;
	int r;

	i = utf8_complete(u, data, len, &r);
	if (r || u->part_len)
		return r;
	s = (const unsigned char *)data;
	run = i;
	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			/*
			 * ASCII 32 bytes at a time (one test for four
			 * words), then eight at a time.
			 */
			while (i + 32 <= len) {
				trace_v16 a, b;

				memcpy(&a, s + i, 16);
				memcpy(&b, s + i + 16, 16);
				if (trace_v16_bits(a | b))
					break;
				i += 32;
			}
			while (i + 8 <= len) {
				uint64_t word;

				memcpy(&word, s + i, 8);
				if (word & 0x8080808080808080ULL)
					break;
				i += 8;
			}
			continue;
		}
		switch (utf8_check(s + i, len - i, &seqlen)) {
		case UTF8_VALID:
			i += seqlen;
			continue;
		case UTF8_SHORT:
			if ((r = utf8_pass(u, data + run, i - run)) != 0)
				return r;
			memcpy(u->part, s + i, len - i);
			u->part_len = len - i;
			return utf8_flush_batch(u);
		case UTF8_INVALID:
			if ((r = utf8_pass(u, data + run, i - run)) != 0 ||
			    (r = utf8_replace(u, 1)) != 0)
				return r;
			run = ++i;
			continue;
		}
	}
	if ((r = utf8_pass(u, data + run, len - run)) != 0)
		return r;
	return utf8_flush_batch(u);
}

static int utf8_close(struct trace_writer *w)
{
	struct utf8_writer *u = (struct utf8_writer *)w;
	size_t n = u->part_len;
	int r;

	u->part_len = 0;
	if ((r = utf8_replace(u, n)) != 0)
		return r;
	return utf8_flush_batch(u);
}

static size_t utf8_held(const struct trace_writer *w, size_t *alloc)
{
	const struct utf8_writer *u = (const struct utf8_writer *)w;

	*alloc = sizeof(u->part);
	return u->part_len;
}

static void utf8_free(struct trace_writer *w)
{
	freezero(w, sizeof(struct utf8_writer));
}

static const struct trace_writer_ops utf8_ops = {
	.name = "utf8",
	.write = utf8_write,
	.close = utf8_close,
	.held = utf8_held,
	.free = utf8_free,
};

struct trace_writer *trace_utf8_new(struct trace_sink *sink,
				    struct trace_writer *next)
{
	struct utf8_writer *u = xcalloc(1, sizeof(*u));

	u->base = (struct trace_writer){ &utf8_ops, next, sink };
	return &u->base;
}
