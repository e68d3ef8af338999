/*
 * The HTTP/1.1 response parser of http1_parse.h (RFC 9112): status line,
 * header section, and the body's framing (sections 6.1-6.3 and 7.1).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gitlab/http1_parse.h"
#include "util/banned.h"

void http1_parser_init(struct http1_parser *p, const struct http1_sink *sink,
		       void *ctx, bool head_request)
{
	memset(p, 0, sizeof(*p));
	p->sink = sink;
	p->ctx = ctx;
	p->head_request = head_request;
	p->state = H1_STATUS;
	buf_init(&p->line, HTTP1_MAX_LINE);
}

void http1_parser_release(struct http1_parser *p)
{
	buf_release(&p->line);
}

__attribute__((format(printf, 2, 3)))
static enum http1_status fail(struct http1_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	va_end(ap);
	p->state = H1_FAILED;
	p->keep_alive = false;
	return HTTP1_ERROR;
}

static bool is_token(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && !strncasecmp(s, word, len);
}

/* Calls fn for each comma-separated element of a header value. */
static bool each_element(const char *v, size_t len,
			 bool (*fn)(struct http1_parser *, const char *, size_t),
			 struct http1_parser *p)
{
	size_t i = 0;

	while (i < len) {
		size_t start, end;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < len && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end > start && !fn(p, v + start, end - start))
			return false;
	}
	return true;
}

static bool connection_token(struct http1_parser *p, const char *t, size_t n)
{
	if (is_token(t, n, "close"))
		p->conn_close = true;
	else if (is_token(t, n, "keep-alive"))
		p->conn_keep_alive = true;
	return true;
}

/* Transfer-Encoding: only "chunked", last; anything else we cannot read. */
static bool coding_token(struct http1_parser *p, const char *t, size_t n)
{
	if (p->chunked || !is_token(t, n, "chunked"))
		return false;
	p->chunked = true;
	return true;
}

static enum http1_status status_line(struct http1_parser *p, const char *l,
				     size_t n)
{
	long status = 0;
	size_t i;

	/* HTTP/1.x SP 3DIGIT [SP reason] */
	if (n < 12 || memcmp(l, "HTTP/1.", 7) || (l[7] != '0' && l[7] != '1') ||
	    l[8] != ' ' || (n > 12 && l[12] != ' '))
		return fail(p, "not an HTTP/1.x status line");
	for (i = 9; i < 12; i++) {
		if (l[i] < '0' || l[i] > '9')
			return fail(p, "bad status code");
		status = status * 10 + (l[i] - '0');
	}
	if (status < 100)
		return fail(p, "bad status code %ld", status);
	p->status = status;
	p->http10 = l[7] == '0';
	p->chunked = p->have_length = p->conn_close = p->conn_keep_alive = false;
	p->length = 0;
	p->state = H1_HEADERS;
	return HTTP1_MORE;
}

static enum http1_status header_line(struct http1_parser *p, const char *l,
				     size_t n)
{
	const char *colon = memchr(l, ':', n), *v, *end = l + n;
	size_t name_len;

	if (l[0] == ' ' || l[0] == '\t')
		return fail(p, "obsolete folded header line");
	if (!colon || colon == l)
		return fail(p, "header line without a name");
	name_len = (size_t)(colon - l);
	if (memchr(l, ' ', name_len) || memchr(l, '\t', name_len))
		return fail(p, "white space in a header name");
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (is_token(l, name_len, "Content-Length")) {
		uint64_t len = 0;
		const char *c;

		if (v == end)
			return fail(p, "empty Content-Length");
		for (c = v; c < end; c++) {
			if (*c < '0' || *c > '9' || len > (UINT64_MAX - 9) / 10)
				return fail(p, "bad Content-Length");
			len = len * 10 + (uint64_t)(*c - '0');
		}
		if (p->have_length && p->length != len)
			return fail(p, "two different Content-Lengths");
		p->have_length = true;
		p->length = len;
	} else if (is_token(l, name_len, "Transfer-Encoding")) {
		if (!each_element(v, (size_t)(end - v), coding_token, p))
			return fail(p, "unsupported Transfer-Encoding '%.*s'",
				    (int)(end - v > 40 ? 40 : end - v), v);
	} else if (is_token(l, name_len, "Connection")) {
		each_element(v, (size_t)(end - v), connection_token, p);
	}
	return HTTP1_MORE;
}

/* The empty line after the headers: decides how the body is framed. */
static enum http1_status head_end(struct http1_parser *p)
{
	bool no_body;

	if (p->status < 200) {
		if (p->status == 101)
			return fail(p, "unexpected protocol switch");
		p->state = H1_STATUS;	/* an interim answer: the next comes */
		return HTTP1_MORE;
	}
	p->keep_alive = p->http10 ? p->conn_keep_alive && !p->conn_close :
		!p->conn_close;
	no_body = p->head_request || p->status == 204 || p->status == 304;
	if (no_body) {
		p->state = H1_DONE;
		return HTTP1_DONE;
	}
	if (p->chunked) {
		/* A Content-Length next to chunked is ignored (9112 6.3). */
		p->state = H1_CHUNK_SIZE;
		return HTTP1_MORE;
	}
	if (p->have_length) {
		p->state = p->length ? H1_BODY_LENGTH : H1_DONE;
		return p->length ? HTTP1_MORE : HTTP1_DONE;
	}
	p->keep_alive = false;
	p->state = H1_BODY_CLOSE;
	return HTTP1_MORE;
}

static enum http1_status chunk_size_line(struct http1_parser *p,
					 const char *l, size_t n)
{
	uint64_t size = 0;
	size_t i = 0;

	for (; i < n; i++) {
		char c = l[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		if (size > (UINT64_MAX >> 4))
			return fail(p, "chunk size too large");
		size = size << 4 | d;
	}
	if (!i)
		return fail(p, "bad chunk size line");
	while (i < n && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i < n && l[i] != ';')
		return fail(p, "bad chunk size line");
	p->length = size;
	p->state = size ? H1_CHUNK_DATA : H1_TRAILERS;
	return HTTP1_MORE;
}

/* A complete line (without CRLF) for the states that read lines. */
static enum http1_status on_line(struct http1_parser *p, const char *l,
				 size_t n)
{
	switch (p->state) {
	case H1_STATUS:
		if (!n)
			return HTTP1_MORE;	/* leading empty lines are allowed */
		if (status_line(p, l, n) == HTTP1_ERROR)
			return HTTP1_ERROR;
		break;
	case H1_HEADERS:
		if (!n)
			return head_end(p);
		if (header_line(p, l, n) == HTTP1_ERROR)
			return HTTP1_ERROR;
		break;
	case H1_CHUNK_SIZE:
		return chunk_size_line(p, l, n);
	case H1_CHUNK_END:
		if (n)
			return fail(p, "chunk data longer than its size");
		p->state = H1_CHUNK_SIZE;
		return HTTP1_MORE;
	case H1_TRAILERS:
		if (!n) {
			p->state = H1_DONE;
			return HTTP1_DONE;
		}
		return HTTP1_MORE;	/* trailer fields are not used */
	default:
		return fail(p, "internal: line in state %d", (int)p->state);
	}
	if (!p->sink->on_header(p->ctx, l, n)) {
		p->sink_refused = true;
		return fail(p, "answer refused by its reader");
	}
	return HTTP1_MORE;
}

static bool reads_lines(enum http1_state s)
{
	return s == H1_STATUS || s == H1_HEADERS || s == H1_CHUNK_SIZE ||
	       s == H1_CHUNK_END || s == H1_TRAILERS;
}

static enum http1_status body_bytes(struct http1_parser *p, const char *data,
				    size_t n)
{
	if (n && !p->sink->on_body(p->ctx, data, n)) {
		p->sink_refused = true;
		return fail(p, "answer refused by its reader");
	}
	return HTTP1_MORE;
}

enum http1_status http1_parse(struct http1_parser *p, const char *data,
			      size_t len, size_t *used)
{
	size_t i = 0;
	enum http1_status r = HTTP1_MORE;

	if (p->state == H1_FAILED)
		r = HTTP1_ERROR;
	else if (p->state == H1_DONE)
		r = HTTP1_DONE;
	while (r == HTTP1_MORE && i < len) {
		if (reads_lines(p->state)) {
			const char *nl = memchr(data + i, '\n', len - i);
			size_t take = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
			bool in_head = p->state == H1_STATUS ||
				p->state == H1_HEADERS;

			if (p->line.len + take > HTTP1_MAX_LINE)
				r = fail(p, "line longer than %zu bytes",
					 HTTP1_MAX_LINE);
			else if (in_head && (p->head_bytes += take) > HTTP1_MAX_HEAD)
				r = fail(p, "header section larger than %zu bytes",
					 HTTP1_MAX_HEAD);
			if (r != HTTP1_MORE)
				break;
			(void)buf_add(&p->line, data + i, take);
			i += take;
			if (nl) {
				size_t n = p->line.len - 1;

				if (n && p->line.data[n - 1] == '\r')
					n--;
				if (memchr(p->line.data, '\r', n) ||
				    memchr(p->line.data, '\0', n))
					r = fail(p, "stray CR or NUL in a line");
				else
					r = on_line(p, p->line.data, n);
				buf_reset(&p->line);
			}
			continue;
		}
		switch (p->state) {
		case H1_BODY_LENGTH:
		case H1_CHUNK_DATA: {
			size_t take = len - i;

			if ((uint64_t)take > p->length)
				take = (size_t)p->length;
			r = body_bytes(p, data + i, take);
			i += take;
			p->length -= take;
			if (r == HTTP1_MORE && !p->length) {
				if (p->state == H1_CHUNK_DATA) {
					p->state = H1_CHUNK_END;
				} else {
					p->state = H1_DONE;
					r = HTTP1_DONE;
				}
			}
			break;
		}
		case H1_BODY_CLOSE:
			r = body_bytes(p, data + i, len - i);
			i = len;
			break;
		default:
			r = fail(p, "internal: state %d", (int)p->state);
			break;
		}
	}
	*used = i;
	return r;
}

enum http1_status http1_parse_eof(struct http1_parser *p)
{
	switch (p->state) {
	case H1_DONE:
		return HTTP1_DONE;
	case H1_BODY_CLOSE:
		p->state = H1_DONE;
		return HTTP1_DONE;
	case H1_FAILED:
		return HTTP1_ERROR;
	case H1_STATUS:
		if (!p->status && !p->line.len)
			return fail(p, "connection closed before an answer");
		/* fallthrough */
	default:
		return fail(p, "connection closed in the middle of the answer");
	}
}
