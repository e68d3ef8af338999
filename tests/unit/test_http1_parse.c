/*
 * The lean client's HTTP/1.1 response parser (src/gitlab/http1_parse.c):
 * framing by Content-Length, chunked and the end of the connection, every
 * answer fed whole, byte by byte and in every two-piece split, interim
 * answers, connection reuse, and answers it must refuse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "gitlab/http1_parse.h"
#include "util/buf.h"

struct got {
	struct buf head;	/* every line, each followed by '|' */
	struct buf body;
	size_t refuse_body_after;	/* 0: never */
};

static bool on_header(void *ctx, const char *line, size_t len)
{
	struct got *g = ctx;

	(void)buf_add(&g->head, line, len);
	(void)buf_addch(&g->head, '|');
	return true;
}

static bool on_body(void *ctx, const char *data, size_t len)
{
	struct got *g = ctx;

	if (g->refuse_body_after && g->body.len + len > g->refuse_body_after)
		return false;
	(void)buf_add(&g->body, data, len);
	return true;
}

static const struct http1_sink sink = { on_header, on_body };

/* Feeds wire[0..len) in pieces of at most step bytes (0: split at cut). */
static enum http1_status feed(struct http1_parser *p, const char *wire,
			      size_t len, size_t step, size_t cut,
			      size_t *consumed)
{
	size_t off = 0;
	enum http1_status st = HTTP1_MORE;

	*consumed = 0;
	while (off < len && st == HTTP1_MORE) {
		size_t n = step ? step : (off < cut ? cut - off : len - off);
		size_t used = 0;

		if (n > len - off)
			n = len - off;
		st = http1_parse(p, wire + off, n, &used);
		assert_true(used <= n);
		*consumed += used;
		off += n;
	}
	return st;
}

struct want {
	enum http1_status st;
	long status;
	const char *head;	/* NULL: not checked */
	const char *body;
	bool keep_alive;
	bool eof_needed;	/* the body ends with the connection */
};

static void check_one(const char *wire, size_t len, size_t step, size_t cut,
		      const struct want *w)
{
	struct http1_parser p;
	struct got g = { BUF_INIT, BUF_INIT, 0 };
	enum http1_status st;
	size_t used;

	http1_parser_init(&p, &sink, &g, false);
	st = feed(&p, wire, len, step, cut, &used);
	if (w->eof_needed && st == HTTP1_MORE)
		st = http1_parse_eof(&p);
	if (st != w->st)
		fail_msg("step %zu cut %zu: status %d, want %d (%s)", step, cut,
			 (int)st, (int)w->st, p.error);
	if (w->st == HTTP1_DONE) {
		assert_int_equal(p.status, w->status);
		assert_int_equal(p.keep_alive, w->keep_alive);
		if (w->head)
			assert_string_equal(g.head.data, w->head);
		assert_int_equal(g.body.len, strlen(w->body));
		assert_memory_equal(g.body.data, w->body, g.body.len);
	}
	buf_release(&g.head);
	buf_release(&g.body);
	http1_parser_release(&p);
}

/* The same answer whole, byte by byte, and split at every offset. */
static void check(const char *wire, const struct want *w)
{
	size_t len = strlen(wire), cut;

	check_one(wire, len, 0, len, w);
	check_one(wire, len, 1, 0, w);
	check_one(wire, len, 7, 0, w);
	for (cut = 1; cut < len; cut++)
		check_one(wire, len, 0, cut, w);
}

static void test_content_length(void **state)
{
	struct want w = { HTTP1_DONE, 201,
		"HTTP/1.1 201 Created|Content-Type: application/json|"
		"Content-Length: 12|", "{\"id\": 1000}", true, false };

	(void)state;
	check("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
	      "Content-Length: 12\r\n\r\n{\"id\": 1000}", &w);
}

static void test_no_body_statuses(void **state)
{
	struct want w = { HTTP1_DONE, 204, NULL, "", true, false };

	(void)state;
	/* 204 has no body even with a Content-Length. */
	check("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", &w);
	w.status = 200;
	check("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &w);
}

static void test_chunked(void **state)
{
	struct want w = { HTTP1_DONE, 200,
		"HTTP/1.1 200 OK|Transfer-Encoding: chunked|",
		"hello, chunked world", true, false };

	(void)state;
	check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	      "5\r\nhello\r\n"
	      "2;name=value\r\n, \r\n"
	      "D\r\nchunked world\r\n"
	      "0\r\nX-Trailer: ignored\r\n\r\n", &w);
	/* Chunked wins over a Content-Length (RFC 9112 6.3). */
	w.head = NULL;
	w.body = "abc";
	check("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n"
	      "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", &w);
}

static void test_interim_answers(void **state)
{
	struct want w = { HTTP1_DONE, 201,
		"HTTP/1.1 100 Continue|HTTP/1.1 201 Created|Content-Length: 2|",
		"ok", true, false };

	(void)state;
	check("HTTP/1.1 100 Continue\r\n\r\n"
	      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", &w);
}

static void test_connection_reuse(void **state)
{
	struct want w = { HTTP1_DONE, 200, NULL, "x", false, false };

	(void)state;
	check("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", &w);
	check("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", &w);
	w.keep_alive = true;
	check("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx", &w);
	/* Bare LF line ends are accepted too. */
	check("HTTP/1.1 200 OK\nContent-Length: 1\n\nx", &w);
}

static void test_body_until_close(void **state)
{
	struct want w = { HTTP1_DONE, 200, NULL, "all of it", false, true };
	struct http1_parser p;
	struct got g = { BUF_INIT, BUF_INIT, 0 };

	(void)state;
	check("HTTP/1.1 200 OK\r\n\r\nall of it", &w);
	/* Without the end of the connection it is never complete... */
	http1_parser_init(&p, &sink, &g, false);
	assert_int_equal(feed(&p, "HTTP/1.1 200 OK\r\n\r\nab", 22, 0, 22,
			      &(size_t){ 0 }), HTTP1_MORE);
	assert_int_equal(http1_parse_eof(&p), HTTP1_DONE);
	assert_false(p.keep_alive);
	buf_release(&g.head);
	buf_release(&g.body);
	http1_parser_release(&p);
}

static void test_bytes_after_the_answer(void **state)
{
	static const char wire[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
	struct http1_parser p;
	struct got g = { BUF_INIT, BUF_INIT, 0 };
	size_t used = 0;

	(void)state;
	http1_parser_init(&p, &sink, &g, false);
	assert_int_equal(http1_parse(&p, wire, sizeof(wire) - 1, &used),
			 HTTP1_DONE);
	/* The caller sees where the answer ended (and drops the connection). */
	assert_int_equal(used, sizeof(wire) - 1 - 5);
	assert_int_equal(g.body.len, 2);
	buf_release(&g.head);
	buf_release(&g.body);
	http1_parser_release(&p);
}

static void expect_error(const char *wire, bool at_eof, const char *why)
{
	struct want w = { HTTP1_ERROR, 0, NULL, "", false, at_eof };

	check(wire, &w);
	{
		struct http1_parser p;
		struct got g = { BUF_INIT, BUF_INIT, 0 };
		size_t used;
		enum http1_status st;

		http1_parser_init(&p, &sink, &g, false);
		st = feed(&p, wire, strlen(wire), 0, strlen(wire), &used);
		if (at_eof && st == HTTP1_MORE)
			st = http1_parse_eof(&p);
		assert_int_equal(st, HTTP1_ERROR);
		if (!strstr(p.error, why))
			fail_msg("error '%s' does not say '%s'", p.error, why);
		/* Once failed, it stays failed. */
		assert_int_equal(http1_parse(&p, "x", 1, &used), HTTP1_ERROR);
		buf_release(&g.head);
		buf_release(&g.body);
		http1_parser_release(&p);
	}
}

static void test_bad_answers(void **state)
{
	(void)state;
	expect_error("SSH-2.0-OpenSSH_9.2\r\n\r\n", false, "status line");
	expect_error("HTTP/2 200\r\n\r\n", false, "status line");
	expect_error("HTTP/1.1 2x0 OK\r\n\r\n", false, "status code");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", false,
		     "Content-Length");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		     false, "Content-Length");
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		     false, "two different");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		     false, "Transfer-Encoding");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		     false, "chunk size");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "2\r\nabc\r\n0\r\n\r\n", false, "longer than its size");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		     "fffffffffffffffff\r\n", false, "too large");
	expect_error("HTTP/1.1 200 OK\r\n folded: no\r\n\r\n", false, "folded");
	expect_error("HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n", false, "without a name");
	expect_error("HTTP/1.1 200 OK\r\nBad\rName: x\r\n\r\n", false, "stray CR");
	expect_error("HTTP/1.1 101 Switching Protocols\r\n\r\n", false, "protocol switch");
	/* Cut short: the connection ended before the answer did. */
	expect_error("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true,
		     "middle of the answer");
	expect_error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
		     true, "middle of the answer");
	expect_error("HTTP/1.1 200 OK\r\nContent-Le", true, "middle of the answer");
	expect_error("", true, "before an answer");
}

static void test_limits(void **state)
{
	struct http1_parser p;
	struct got g = { BUF_INIT, BUF_INIT, 0 };
	struct buf wire = BUF_INIT;
	size_t used, i;

	(void)state;
	/* One line longer than HTTP1_MAX_LINE. */
	(void)buf_addstr(&wire, "HTTP/1.1 200 OK\r\nX-Long: ");
	for (i = 0; i < HTTP1_MAX_LINE; i++)
		(void)buf_addch(&wire, 'a');
	http1_parser_init(&p, &sink, &g, false);
	assert_int_equal(http1_parse(&p, wire.data, wire.len, &used), HTTP1_ERROR);
	assert_non_null(strstr(p.error, "line longer"));
	http1_parser_release(&p);
	/* Many short headers: the whole head is capped (a header flood). */
	buf_reset(&wire);
	(void)buf_addstr(&wire, "HTTP/1.1 200 OK\r\n");
	for (i = 0; wire.len <= HTTP1_MAX_HEAD; i++)
		(void)buf_addf(&wire, "X-H%zu: %0100zu\r\n", i, i);
	http1_parser_init(&p, &sink, &g, false);
	assert_int_equal(http1_parse(&p, wire.data, wire.len, &used), HTTP1_ERROR);
	assert_non_null(strstr(p.error, "header section"));
	http1_parser_release(&p);
	buf_release(&wire);
	buf_release(&g.head);
	buf_release(&g.body);
}

static void test_sink_refuses(void **state)
{
	static const char wire[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
	struct http1_parser p;
	struct got g = { BUF_INIT, BUF_INIT, 4 };
	size_t used;

	(void)state;
	http1_parser_init(&p, &sink, &g, false);
	assert_int_equal(http1_parse(&p, wire, sizeof(wire) - 1, &used),
			 HTTP1_ERROR);
	assert_true(p.sink_refused);
	assert_false(p.keep_alive);
	buf_release(&g.head);
	buf_release(&g.body);
	http1_parser_release(&p);
}

static void test_head_request(void **state)
{
	static const char wire[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
	struct http1_parser p;
	struct got g = { BUF_INIT, BUF_INIT, 0 };
	size_t used;

	(void)state;
	http1_parser_init(&p, &sink, &g, true);
	assert_int_equal(http1_parse(&p, wire, sizeof(wire) - 1, &used),
			 HTTP1_DONE);
	assert_int_equal(g.body.len, 0);
	assert_true(p.keep_alive);
	buf_release(&g.head);
	buf_release(&g.body);
	http1_parser_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_interim_answers),
		cmocka_unit_test(test_connection_reuse),
		cmocka_unit_test(test_body_until_close),
		cmocka_unit_test(test_bytes_after_the_answer),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_sink_refuses),
		cmocka_unit_test(test_head_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
