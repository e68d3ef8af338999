/*
 * Content-Encoding for the lean HTTP client (lean_http.c): the gzip and
 * deflate bodies it asks for with "Accept-Encoding: deflate, gzip", as
 * the libcurl path asks for them, decoded with zlib as they arrive.
 *
 * The caller does:
 *  1. body_decoder_init(&d) once; body_decoder_set(&d, value) for each
 *     Content-Encoding header of an answer (body_decoder_reset(&d) when a
 *     new answer starts);
 *  2. body_decoder_feed(&d, data, len, out, ctx) for each piece of the
 *     body: out gets the decoded bytes (the bytes as they are when no
 *     encoding is set);
 *  3. body_decoder_complete(&d) at the end of the body: false when a
 *     compressed stream was cut short;
 *  4. body_decoder_release(&d).
 */
#ifndef CR_GL_BODY_DECODE_H
#define CR_GL_BODY_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include <zlib.h>

typedef bool (*body_decoder_out)(void *ctx, const char *data, size_t len);

struct body_decoder {
	bool compressed;	/* a Content-Encoding we decode was set */
	bool started;		/* z is initialised */
	bool ended;		/* the compressed stream is complete */
	bool unsupported;	/* an encoding we cannot decode */
	bool refused;		/* out refused the data (not a decoding error) */
	z_stream z;
	char error[96];
};

void body_decoder_init(struct body_decoder *d);
void body_decoder_reset(struct body_decoder *d);
/* One Content-Encoding value; false (d->error) for one we cannot decode. */
bool body_decoder_set(struct body_decoder *d, const char *value, size_t len);
/* False when the data is not what the encoding says (d->error), or
 * when out refused it (d->refused). */
bool body_decoder_feed(struct body_decoder *d, const char *data, size_t len,
		       body_decoder_out out, void *ctx);
bool body_decoder_complete(const struct body_decoder *d);
void body_decoder_release(struct body_decoder *d);

#endif
