/*
 * The lean HTTP/1.1 client (src/gitlab/lean_http.c) against a scripted
 * server in a thread of this test, on 127.0.0.1: what goes on the wire,
 * keep-alive reuse, the retry on a kept-alive connection the server had
 * closed, Connection: close, timeouts and refused connections, and that a
 * slow name lookup holds up only the request that needs it.
 *
 * The test hook for slow DNS: this file defines getaddrinfo(), which the
 * client's calls bind to (the executable's definition comes first); it
 * takes SLOW_LOOKUP_MS for the host "slow.test", answers EAI_NONAME for
 * "nowhere.test", and hands every other name to the real one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <time.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zlib.h>

#include "gitlab/lean_http.h"
#include "util/buf.h"
#include "util/loop.h"

/* ---- the name lookup hook ---- */

#define SLOW_LOOKUP_MS 1500

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Name lookups (not address-only tries) on the test's thread, or not. */
static pthread_t main_thread;
static int lookups_on_main, lookups_off_main;

int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
{
	typedef int (*real_fn)(const char *, const char *,
			       const struct addrinfo *, struct addrinfo **);
	real_fn real = (real_fn)dlsym(RTLD_NEXT, "getaddrinfo");

	/* An address-only try: what the real one says (no name service). */
	if (hints && (hints->ai_flags & AI_NUMERICHOST))
		return real(node, service, hints, res);
	__atomic_add_fetch(pthread_equal(pthread_self(), main_thread) ?
			   &lookups_on_main : &lookups_off_main, 1,
			   __ATOMIC_RELAXED);
	if (node && !strcmp(node, "nowhere.test"))
		return EAI_NONAME;
	if (node && !strcmp(node, "slow.test")) {
		sleep_ms(SLOW_LOOKUP_MS);
		node = "127.0.0.1";
	}
	return real(node, service, hints, res);
}

/* ---- the scripted server ---- */

enum after { KEEP, CLOSE, DROP_UNANSWERED, HANG };

struct step {
	const char *answer;	/* raw bytes sent for one request */
	enum after after;
	size_t len;		/* 0: strlen(answer) */
};

#define MAX_STEPS 8

struct server {
	int listen_fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	struct step steps[MAX_STEPS];
	size_t nr_steps, next;
	int accepts;
	struct buf requests;	/* every request as received */
	int stop;
};

/* Reads one request (head and Content-Length body); false at EOF. */
static bool read_request(int fd, struct buf *in)
{
	char data[4096];

	for (;;) {
		const char *end = memmem(in->data, in->len, "\r\n\r\n", 4);

		if (end) {
			size_t head = (size_t)(end - in->data) + 4, body = 0;
			const char *cl = strcasestr(in->data, "Content-Length: ");

			if (cl && cl < end)
				body = strtoul(cl + 16, NULL, 10);
			if (in->len >= head + body)
				return true;
		}
		ssize_t n = read(fd, data, sizeof(data));

		if (n <= 0)
			return false;
		(void)buf_add(in, data, (size_t)n);
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		int fd = accept(s->listen_fd, NULL, NULL);
		bool open = true;

		if (fd < 0)
			return NULL;
		pthread_mutex_lock(&s->lock);
		if (s->stop) {
			pthread_mutex_unlock(&s->lock);
			close(fd);
			return NULL;
		}
		s->accepts++;
		pthread_mutex_unlock(&s->lock);
		while (open) {
			struct buf in = BUF_INIT;
			struct step st = { "HTTP/1.1 500 No Script\r\nContent-Length: 0\r\n\r\n", CLOSE, 0 };

			if (!read_request(fd, &in)) {
				buf_release(&in);
				break;
			}
			pthread_mutex_lock(&s->lock);
			(void)buf_add(&s->requests, in.data, in.len);
			(void)buf_addstr(&s->requests, "\n=====\n");
			if (s->next < s->nr_steps)
				st = s->steps[s->next++];
			pthread_mutex_unlock(&s->lock);
			buf_release(&in);
			if (st.after == HANG) {
				char c;

				while (read(fd, &c, 1) > 0)
					;
				break;
			}
			if (st.after != DROP_UNANSWERED)
				(void)!write(fd, st.answer, st.len ? st.len :
					     strlen(st.answer));
			open = st.after == KEEP;
		}
		close(fd);
	}
}

static struct server *server_start(void)
{
	struct server *s = calloc(1, sizeof(*s));
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	assert_non_null(s);
	pthread_mutex_init(&s->lock, NULL);
	buf_init(&s->requests, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->listen_fd >= 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->listen_fd, 8), 0);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &len), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
	return s;
}

static void server_script(struct server *s, const char *answer, enum after after)
{
	pthread_mutex_lock(&s->lock);
	assert_true(s->nr_steps < MAX_STEPS);
	s->steps[s->nr_steps++] = (struct step){ answer, after, 0 };
	pthread_mutex_unlock(&s->lock);
}

static int server_accepts(struct server *s)
{
	int n;

	pthread_mutex_lock(&s->lock);
	n = s->accepts;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void server_stop(struct server *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	pthread_mutex_lock(&s->lock);
	s->stop = 1;
	pthread_mutex_unlock(&s->lock);
	/* Wake accept() with one last connection. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)s->port);
	(void)connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	pthread_join(s->thread, NULL);
	close(s->listen_fd);
	buf_release(&s->requests);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- the client side ---- */

struct result {
	bool done;
	enum lean_error err;
	long status;
	char why[256];
	struct buf head, body;
	size_t refuse_after;	/* the sink takes at most this much; 0: all */
};

static bool on_header(void *ctx, const char *line, size_t len)
{
	struct result *r = ctx;

	(void)buf_add(&r->head, line, len);
	(void)buf_addch(&r->head, '\n');
	return true;
}

static bool on_body(void *ctx, const char *data, size_t len)
{
	struct result *r = ctx;

	if (r->refuse_after && r->body.len + len > r->refuse_after)
		return false;
	(void)buf_add(&r->body, data, len);
	return true;
}

static const struct http1_sink sink = { on_header, on_body };

static void on_done(void *ctx, enum lean_error err, long status, const char *why)
{
	struct result *r = ctx;

	r->done = true;
	r->err = err;
	r->status = status;
	snprintf(r->why, sizeof(r->why), "%s", why);
}

/* Runs one request to its end; r must be released by the caller. */
static void run(struct loop *loop, struct lean_http *lh, const char *url,
		const char *body, long timeout_ms, struct result *r)
{
	static const char *const headers[] = {
		"Content-Type: application/json", "RUNNER-TOKEN: glrt-secret",
	};
	struct lean_http_request rq = {
		.method = "POST", .url = url, .headers = headers, .nr_headers = 2,
		.body = body, .body_len = body ? strlen(body) : 0,
		.timeout_ms = timeout_ms, .connect_timeout_ms = 5000,
	};
	size_t refuse_after = r->refuse_after;
	int i;

	memset(r, 0, sizeof(*r));
	r->refuse_after = refuse_after;
	buf_init(&r->head, 0);
	buf_init(&r->body, 0);
	assert_non_null(lean_http_start(lh, &rq, &sink, r, on_done, r));
	assert_false(r->done);	/* never from inside start */
	for (i = 0; i < 1000 && !r->done; i++)
		assert_int_equal(loop_run_once(loop, 50), 0);
	assert_true(r->done);
}

static void release(struct result *r)
{
	buf_release(&r->head);
	buf_release(&r->body);
}

static char *url_of(struct server *s, const char *path)
{
	static char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
	return url;
}

static void test_wire_and_keep_alive(void **state)
{
	struct server *s = server_start();
	struct loop *loop = loop_new();
	struct lean_http *lh = lean_http_new(loop);
	struct result r = { 0 };
	char host[64];

	(void)state;
	server_script(s, "HTTP/1.1 204 No Content\r\n\r\n", KEEP);
	server_script(s, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
		      "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"id\r\n5\r\n\": 7}\r\n0\r\n\r\n",
		      KEEP);
	run(loop, lh, url_of(s, "/api/v4/jobs/request"), "{\"token\":\"t\"}", 5000, &r);
	assert_int_equal(r.err, LEAN_OK);
	assert_int_equal(r.status, 204);
	assert_int_equal(lean_http_idle_connections(lh), 1);
	release(&r);
	run(loop, lh, url_of(s, "/api/v4/jobs/request"), "{\"token\":\"t\"}", 5000, &r);
	assert_int_equal(r.err, LEAN_OK);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.body.data, "{\"id\": 7}");
	assert_non_null(strstr(r.head.data, "Content-Type: application/json\n"));
	/* Both went over one connection. */
	assert_int_equal(server_accepts(s), 1);
	release(&r);
	snprintf(host, sizeof(host), "Host: 127.0.0.1:%d\r\n", s->port);
	pthread_mutex_lock(&s->lock);
	assert_non_null(strstr(s->requests.data,
			       "POST /api/v4/jobs/request HTTP/1.1\r\n"));
	assert_non_null(strstr(s->requests.data, host));
	assert_non_null(strstr(s->requests.data, "RUNNER-TOKEN: glrt-secret\r\n"));
	assert_non_null(strstr(s->requests.data,
			       "Content-Length: 13\r\n\r\n{\"token\":\"t\"}\n====="));
	pthread_mutex_unlock(&s->lock);
	lean_http_free(lh);
	loop_free(loop);
	server_stop(s);
}

static void test_stale_connection_is_retried(void **state)
{
	struct server *s = server_start();
	struct loop *loop = loop_new();
	struct lean_http *lh = lean_http_new(loop);
	struct result r = { 0 };

	(void)state;
	server_script(s, "HTTP/1.1 204 No Content\r\n\r\n", KEEP);
	/* The server drops the kept connection as the next request comes. */
	server_script(s, "", DROP_UNANSWERED);
	server_script(s, "HTTP/1.1 204 No Content\r\n\r\n", KEEP);
	run(loop, lh, url_of(s, "/x"), NULL, 5000, &r);
	assert_int_equal(r.status, 204);
	release(&r);
	run(loop, lh, url_of(s, "/x"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_OK);
	assert_int_equal(r.status, 204);
	assert_int_equal(server_accepts(s), 2);
	release(&r);
	lean_http_free(lh);
	loop_free(loop);
	server_stop(s);
}

static void test_connection_close_and_eof_body(void **state)
{
	struct server *s = server_start();
	struct loop *loop = loop_new();
	struct lean_http *lh = lean_http_new(loop);
	struct result r = { 0 };

	(void)state;
	server_script(s, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", CLOSE);
	server_script(s, "HTTP/1.0 200 OK\r\n\r\nuntil the end", CLOSE);
	run(loop, lh, url_of(s, "/a"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_OK);
	assert_string_equal(r.body.data, "ok");
	assert_int_equal(lean_http_idle_connections(lh), 0);
	release(&r);
	run(loop, lh, url_of(s, "/b"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_OK);
	assert_string_equal(r.body.data, "until the end");
	assert_int_equal(server_accepts(s), 2);
	release(&r);
	lean_http_free(lh);
	loop_free(loop);
	server_stop(s);
}

static void test_failures(void **state)
{
	struct server *s = server_start();
	struct loop *loop = loop_new();
	struct lean_http *lh = lean_http_new(loop);
	struct result r = { 0 };
	int fd;
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	char url[128];

	(void)state;
	/* No answer in time. */
	server_script(s, "", HANG);
	run(loop, lh, url_of(s, "/slow"), NULL, 300, &r);
	assert_int_equal(r.err, LEAN_TIMEOUT);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.why, "300 ms"));
	release(&r);
	/* Not HTTP. */
	server_script(s, "SSH-2.0-OpenSSH_9.2\r\n", CLOSE);
	run(loop, lh, url_of(s, "/ssh"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_PROTOCOL);
	release(&r);
	/* Cut in the middle of the body. */
	server_script(s, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", CLOSE);
	run(loop, lh, url_of(s, "/cut"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_RECV);
	release(&r);
	/* A port nobody listens on: bound, then closed. */
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(a.sin_port));
	run(loop, lh, url, NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_CONNECT);
	release(&r);
	/* URLs it leaves to libcurl. */
	run(loop, lh, "ftp://127.0.0.1/", NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_BAD_URL);
	release(&r);
	run(loop, lh, "http://user:pw@127.0.0.1/", NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_BAD_URL);
	release(&r);
	lean_http_free(lh);
	loop_free(loop);
	server_stop(s);
}

/* An answer whose body is text compressed as gzip (or zlib: deflate). */
static char *compressed_answer(const char *coding, const char *text,
			       size_t cut, size_t *len)
{
	unsigned char z[512];
	z_stream zs = { 0 };
	struct buf out = BUF_INIT;
	size_t zlen;

	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED,
				      strcmp(coding, "gzip") ? 15 : 31, 8,
				      Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)text;
	zs.avail_in = (uInt)strlen(text);
	zs.next_out = z;
	zs.avail_out = sizeof(z);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	zlen = sizeof(z) - zs.avail_out - cut;
	deflateEnd(&zs);
	(void)buf_addf(&out, "HTTP/1.1 201 Created\r\nContent-Encoding: %s\r\n"
		       "Content-Length: %zu\r\n\r\n", coding, zlen);
	(void)buf_add(&out, z, zlen);
	return buf_detach(&out, len);
}

static void test_compressed_bodies(void **state)
{
	static const char text[] = "{\"id\": 1000, \"token\": \"glcbt-compressed\", "
		"\"padding\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}";
	struct server *s = server_start();
	struct loop *loop = loop_new();
	struct lean_http *lh = lean_http_new(loop);
	struct result r = { 0 };
	char *gz, *df, *cut;
	size_t gz_len, df_len, cut_len;

	(void)state;
	gz = compressed_answer("gzip", text, 0, &gz_len);
	df = compressed_answer("deflate", text, 0, &df_len);
	cut = compressed_answer("gzip", text, 6, &cut_len);
	pthread_mutex_lock(&s->lock);
	s->steps[s->nr_steps++] = (struct step){ gz, KEEP, gz_len };
	s->steps[s->nr_steps++] = (struct step){ df, KEEP, df_len };
	s->steps[s->nr_steps++] = (struct step){ cut, CLOSE, cut_len };
	s->steps[s->nr_steps++] = (struct step){
		"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 3\r\n\r\nabc",
		CLOSE, 0 };
	pthread_mutex_unlock(&s->lock);
	run(loop, lh, url_of(s, "/gzip"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_OK);
	assert_int_equal(r.body.len, strlen(text));
	assert_memory_equal(r.body.data, text, r.body.len);
	release(&r);
	run(loop, lh, url_of(s, "/deflate"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_OK);
	assert_int_equal(r.body.len, strlen(text));
	release(&r);
	run(loop, lh, url_of(s, "/cut"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_RECV);
	assert_non_null(strstr(r.why, "cut short"));
	release(&r);
	run(loop, lh, url_of(s, "/br"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_PROTOCOL);
	assert_non_null(strstr(r.why, "Content-Encoding 'br'"));
	release(&r);
	/* The sink's own refusal (a body over its cap) is LEAN_REFUSED,
	 * compressed or not. */
	pthread_mutex_lock(&s->lock);
	s->steps[s->nr_steps++] = (struct step){ gz, CLOSE, gz_len };
	s->steps[s->nr_steps++] = (struct step){
		"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789",
		CLOSE, 0 };
	pthread_mutex_unlock(&s->lock);
	r.refuse_after = 10;
	run(loop, lh, url_of(s, "/gzip-big"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_REFUSED);
	release(&r);
	r.refuse_after = 10;
	run(loop, lh, url_of(s, "/plain-big"), NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_REFUSED);
	release(&r);
	lean_http_free(lh);
	loop_free(loop);
	server_stop(s);
	free(gz);
	free(df);
	free(cut);
}

static void never(void *ctx, enum lean_error err, long status, const char *why)
{
	(void)ctx;
	(void)err;
	(void)status;
	(void)why;
	fail_msg("a cancelled request completed");
}

static void test_cancel(void **state)
{
	struct server *s = server_start();
	struct loop *loop = loop_new();
	struct lean_http *lh = lean_http_new(loop);
	struct lean_http_request rq = { .method = "GET", .timeout_ms = 5000 };
	struct lean_http_req *req;
	int i;

	(void)state;
	server_script(s, "", HANG);
	rq.url = url_of(s, "/hang");
	req = lean_http_start(lh, &rq, &sink, NULL, never, NULL);
	for (i = 0; i < 20; i++)
		assert_int_equal(loop_run_once(loop, 10), 0);
	lean_http_cancel(req);
	for (i = 0; i < 5; i++)
		assert_int_equal(loop_run_once(loop, 10), 0);
	assert_int_equal(lean_http_idle_connections(lh), 0);
	lean_http_free(lh);
	loop_free(loop);
	server_stop(s);
}

/*
 * A runner whose GitLab name takes seconds to look up must not hold up
 * another's request on the same loop: before the lookup moved to a
 * thread, the second request waited out the whole SLOW_LOOKUP_MS.
 */
static void test_slow_lookup_does_not_stall_the_loop(void **state)
{
	struct server *s = server_start();
	struct loop *loop = loop_new();
	struct lean_http *lh = lean_http_new(loop);
	struct lean_http_request slow = { .method = "GET", .timeout_ms = 10000,
					  .connect_timeout_ms = 5000 };
	struct result rs = { 0 }, rf = { 0 };
	char url[128];
	long start, fast_ms;
	int i;

	(void)state;
	server_script(s, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfast", CLOSE);
	server_script(s, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nslow", CLOSE);
	buf_init(&rs.head, 0);
	buf_init(&rs.body, 0);
	snprintf(url, sizeof(url), "http://slow.test:%d/slow", s->port);
	slow.url = url;
	lookups_on_main = lookups_off_main = 0;
	start = now_ms();
	assert_non_null(lean_http_start(lh, &slow, &sink, &rs, on_done, &rs));
	/* The loop turns while the lookup runs: the other runner's poll. */
	run(loop, lh, url_of(s, "/fast"), NULL, 5000, &rf);
	fast_ms = now_ms() - start;
	assert_int_equal(rf.err, LEAN_OK);
	assert_string_equal(rf.body.data, "fast");
	assert_true(fast_ms < SLOW_LOOKUP_MS / 2);
	assert_false(rs.done);
	for (i = 0; i < 200 && !rs.done; i++)
		assert_int_equal(loop_run_once(loop, 50), 0);
	assert_true(rs.done);
	assert_int_equal(rs.err, LEAN_OK);
	assert_string_equal(rs.body.data, "slow");
	assert_true(now_ms() - start >= SLOW_LOOKUP_MS);
	/* 127.0.0.1 needed no lookup; slow.test's ran off the loop thread. */
	assert_int_equal(lookups_on_main, 0);
	assert_int_equal(lookups_off_main, 1);
	release(&rf);
	release(&rs);
	lean_http_free(lh);
	loop_free(loop);
	server_stop(s);
}

/* A failed lookup is the request's error; a cancelled one never reports. */
static void test_lookup_failure_and_cancel(void **state)
{
	struct loop *loop = loop_new();
	struct lean_http *lh = lean_http_new(loop);
	struct lean_http_request rq = { .method = "GET", .timeout_ms = 10000,
					.url = "http://nowhere.test:1/x" };
	struct lean_http_req *req;
	struct result r = { 0 };
	int i;

	(void)state;
	run(loop, lh, "http://nowhere.test:1/x", NULL, 5000, &r);
	assert_int_equal(r.err, LEAN_RESOLVE);
	assert_non_null(strstr(r.why, "cannot resolve nowhere.test"));
	release(&r);

	/* Cancelled mid-lookup: the thread finishes and frees on its own. */
	rq.url = "http://slow.test:1/x";
	req = lean_http_start(lh, &rq, &sink, NULL, never, NULL);
	for (i = 0; i < 5; i++)
		assert_int_equal(loop_run_once(loop, 10), 0);
	lean_http_cancel(req);
	sleep_ms(SLOW_LOOKUP_MS + 300);
	for (i = 0; i < 5; i++)
		assert_int_equal(loop_run_once(loop, 10), 0);
	lean_http_free(lh);
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_and_keep_alive),
		cmocka_unit_test(test_stale_connection_is_retried),
		cmocka_unit_test(test_connection_close_and_eof_body),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_compressed_bodies),
		cmocka_unit_test(test_slow_lookup_does_not_stall_the_loop),
		cmocka_unit_test(test_lookup_failure_and_cancel),
	};

	main_thread = pthread_self();

	return cmocka_run_group_tests(tests, NULL, NULL);
}
