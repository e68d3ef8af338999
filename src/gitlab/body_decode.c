/* Decoding of gzip and deflate bodies (body_decode.h) with zlib. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gitlab/body_decode.h"
#include "util/banned.h"

#define DECODE_CHUNK ((size_t)16 << 10)

void body_decoder_init(struct body_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

void body_decoder_release(struct body_decoder *d)
{
	if (d->started)
		inflateEnd(&d->z);
	body_decoder_init(d);
}

void body_decoder_reset(struct body_decoder *d)
{
	body_decoder_release(d);
}

static bool is_word(const char *v, size_t len, const char *word)
{
	return strlen(word) == len && !strncasecmp(v, word, len);
}

bool body_decoder_set(struct body_decoder *d, const char *value, size_t len)
{
	while (len && (*value == ' ' || *value == '\t')) {
		value++;
		len--;
	}
	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (!len || is_word(value, len, "identity"))
		return true;
	if ((is_word(value, len, "gzip") || is_word(value, len, "x-gzip") ||
	     is_word(value, len, "deflate")) && !d->compressed) {
		d->compressed = true;
		return true;
	}
	/* Several codings, or one we did not ask for. */
	d->unsupported = true;
	snprintf(d->error, sizeof(d->error), "unsupported Content-Encoding '%.*s'",
		 (int)(len > 40 ? 40 : len), value);
	return false;
}

bool body_decoder_feed(struct body_decoder *d, const char *data, size_t len,
		       body_decoder_out out, void *ctx)
{
	unsigned char buf[DECODE_CHUNK];

	if (d->unsupported)
		return false;
	if (!d->compressed) {
		d->refused = !out(ctx, data, len);
		return !d->refused;
	}
	if (!d->started) {
		/* 15 + 32: a zlib or a gzip header, whichever comes. */
		if (inflateInit2(&d->z, 15 + 32) != Z_OK) {
			snprintf(d->error, sizeof(d->error), "cannot start zlib");
			return false;
		}
		d->started = true;
	}
	d->z.next_in = (unsigned char *)data;
	d->z.avail_in = (uInt)len;
	while (d->z.avail_in && !d->ended) {
		int r;

		d->z.next_out = buf;
		d->z.avail_out = sizeof(buf);
		r = inflate(&d->z, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR) {
			snprintf(d->error, sizeof(d->error),
				 "bad compressed body: %s",
				 d->z.msg ? d->z.msg : "zlib error");
			return false;
		}
		if (sizeof(buf) - d->z.avail_out &&
		    !out(ctx, (const char *)buf, sizeof(buf) - d->z.avail_out)) {
			d->refused = true;
			return false;
		}
		if (r == Z_STREAM_END)
			d->ended = true;
		else if (r == Z_BUF_ERROR && d->z.avail_out)
			break;
	}
	return true;
}

bool body_decoder_complete(const struct body_decoder *d)
{
	return !d->compressed || d->ended || !d->started;
}
