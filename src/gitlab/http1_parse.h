/*
 * An incremental parser of one HTTP/1.1 response, for the lean poll
 * client (lean_http.c): bytes go in as they arrive, in pieces of any size;
 * the status line and each header line go to on_header, the body (with
 * Content-Length, chunked, or up to the end of the connection) to
 * on_body, de-chunked.  1xx answers before the final one are passed
 * through (their status line tells the sink a new answer starts) and
 * skipped.
 *
 * The caller does:
 *  1. http1_parser_init(&p, sink, ctx, head_request);
 *  2. http1_parse(&p, data, len, &used) for each piece read, until it
 *     returns HTTP1_DONE (bytes past used belong to no answer) or
 *     HTTP1_ERROR (p.error says why);
 *  3. at the end of the connection, http1_parse_eof(&p): HTTP1_DONE when
 *     the body was delimited by it, else HTTP1_ERROR;
 *  4. http1_parser_release(&p).
 */
#ifndef CR_GL_HTTP1_PARSE_H
#define CR_GL_HTTP1_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* The longest status, header or chunk-size line, and the whole head. */
#define HTTP1_MAX_LINE ((size_t)64 << 10)
#define HTTP1_MAX_HEAD ((size_t)256 << 10)

struct http1_sink {
	/* A line without its CRLF; false stops the parse (HTTP1_ERROR). */
	bool (*on_header)(void *ctx, const char *line, size_t len);
	bool (*on_body)(void *ctx, const char *data, size_t len);
};

enum http1_status {
	HTTP1_MORE,	/* needs more bytes */
	HTTP1_DONE,	/* the answer is complete */
	HTTP1_ERROR,
};

enum http1_state {
	H1_STATUS, H1_HEADERS, H1_BODY_LENGTH, H1_BODY_CLOSE,
	H1_CHUNK_SIZE, H1_CHUNK_DATA, H1_CHUNK_END, H1_TRAILERS, H1_DONE,
	H1_FAILED,
};

struct http1_parser {
	const struct http1_sink *sink;
	void *ctx;
	bool head_request;
	enum http1_state state;
	long status;		/* of the final answer, once its line is in */
	bool keep_alive;	/* the connection may carry another request */
	bool sink_refused;	/* the error came from the sink */
	/* Of the answer being read. */
	bool http10, chunked, have_length, conn_close, conn_keep_alive;
	uint64_t length;	/* Content-Length, then what is left of it */
	struct buf line;	/* a line being collected */
	size_t head_bytes;
	char error[128];
};

void http1_parser_init(struct http1_parser *p, const struct http1_sink *sink,
		       void *ctx, bool head_request);
void http1_parser_release(struct http1_parser *p);
enum http1_status http1_parse(struct http1_parser *p, const char *data,
			      size_t len, size_t *used);
enum http1_status http1_parse_eof(struct http1_parser *p);

#endif
