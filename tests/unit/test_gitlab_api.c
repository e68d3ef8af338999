/*
 * The coordinator client (src/gitlab/http.c, api_*.c) against a tiny HTTP
 * server run in a thread of this test: it answers canned responses in
 * order and records every request it gets.  Network only to 127.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gitlab/api.h"
#include "gitlab/http.h"
#include "gitlab/identity.h"
#include "gitlab/trace_sender.h"
#include "job/crc32.h"
#include "job/trace.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "version.h"

/* ---- the canned server ---- */

#define MAX_CANNED 16
#define MAX_RECORDED 16
#define MAX_CONNS 8

struct canned {
	int status;
	const char *headers;	/* "Name: value\r\n" lines, may be NULL */
	const char *body;	/* may be NULL */
	size_t body_len;	/* 0: strlen(body) */
};

struct recorded {
	char method[16];
	char target[512];
	struct buf headers;	/* the raw header block */
	struct buf body;
};

struct conn {
	int fd;
	struct buf in;
};

struct server {
	int listen_fd;
	int port;
	int stop[2];
	pthread_t thread;
	pthread_mutex_t lock;
	struct canned canned[MAX_CANNED];
	size_t nr_canned, next_canned;
	struct recorded reqs[MAX_RECORDED];
	size_t nr_reqs;
	size_t nr_accepts;
	struct conn conns[MAX_CONNS];
};

static void server_push(struct server *s, int status, const char *headers,
			const char *body)
{
	pthread_mutex_lock(&s->lock);
	assert_true(s->nr_canned < MAX_CANNED);
	s->canned[s->nr_canned++] = (struct canned){ status, headers, body, 0 };
	pthread_mutex_unlock(&s->lock);
}

static size_t server_nr_reqs(struct server *s)
{
	size_t n;

	pthread_mutex_lock(&s->lock);
	n = s->nr_reqs;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static const char *reason_of(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 412: return "Precondition Failed";
	case 416: return "Range Not Satisfiable";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	}
	return "Status";
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static size_t content_length(const char *headers, size_t len)
{
	const char *p = headers, *end = headers + len;

	while (p < end) {
		const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);

		if (!eol)
			break;
		if (!strncasecmp(p, "Content-Length:", 15))
			return strtoul(p + 15, NULL, 10);
		p = eol + 2;
	}
	return 0;
}

/* Serves every complete request in c->in; false when c must close. */
static bool serve(struct server *s, struct conn *c)
{
	for (;;) {
		const char *hend = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
		size_t hlen, blen, total;
		struct recorded *rec;
		struct canned ans;
		struct buf out = BUF_INIT;

		if (!hend)
			return true;
		hlen = (size_t)(hend - c->in.data) + 4;
		blen = content_length(c->in.data, hlen);
		total = hlen + blen;
		if (c->in.len < total)
			return true;

		pthread_mutex_lock(&s->lock);
		if (s->nr_reqs < MAX_RECORDED) {
			rec = &s->reqs[s->nr_reqs++];
			buf_init(&rec->headers, 0);
			buf_init(&rec->body, 0);
			sscanf(c->in.data, "%15s %511s", rec->method, rec->target);
			(void)buf_add(&rec->headers, c->in.data, hlen);
			(void)buf_add(&rec->body, c->in.data + hlen, blen);
		}
		if (s->next_canned < s->nr_canned)
			ans = s->canned[s->next_canned++];
		else
			ans = (struct canned){ 418, NULL, "no canned answer", 0 };
		pthread_mutex_unlock(&s->lock);

		if (!ans.body_len && ans.body)
			ans.body_len = strlen(ans.body);
		(void)buf_addf(&out, "HTTP/1.1 %d %s\r\n", ans.status,
			       reason_of(ans.status));
		if (ans.headers)
			(void)buf_addstr(&out, ans.headers);
		if (ans.status != 204)
			(void)buf_addf(&out, "Content-Length: %zu\r\n",
				       ans.body_len);
		(void)buf_addstr(&out, "\r\n");
		if (ans.status != 204 && ans.body_len)
			(void)buf_add(&out, ans.body, ans.body_len);
		write_all(c->fd, out.data, out.len);
		buf_release(&out);

		memmove(c->in.data, c->in.data + total, c->in.len - total);
		buf_setlen(&c->in, c->in.len - total);
	}
}

static void *server_main(void *arg)
{
	struct server *s = arg;

	for (;;) {
		struct pollfd pfd[MAX_CONNS + 2];
		size_t i, n = 0;

		pfd[n++] = (struct pollfd){ s->stop[0], POLLIN, 0 };
		pfd[n++] = (struct pollfd){ s->listen_fd, POLLIN, 0 };
		for (i = 0; i < MAX_CONNS; i++)
			pfd[n++] = (struct pollfd){ s->conns[i].fd, POLLIN, 0 };
		if (poll(pfd, n, -1) < 0)
			continue;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents & POLLIN) {
			int fd = accept(s->listen_fd, NULL, NULL);

			pthread_mutex_lock(&s->lock);
			s->nr_accepts += fd >= 0;
			pthread_mutex_unlock(&s->lock);

			for (i = 0; fd >= 0 && i < MAX_CONNS; i++) {
				if (s->conns[i].fd < 0) {
					s->conns[i].fd = fd;
					buf_init(&s->conns[i].in, 0);
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
		for (i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &s->conns[i];
			char chunk[65536];
			ssize_t got;

			if (c->fd < 0 || !pfd[i + 2].revents)
				continue;
			got = read(c->fd, chunk, sizeof(chunk));
			if (got <= 0 || buf_add(&c->in, chunk, (size_t)got) ||
			    !serve(s, c)) {
				close(c->fd);
				c->fd = -1;
				buf_release(&c->in);
			}
		}
	}
	return NULL;
}

static void server_start(struct server *s)
{
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	size_t i;

	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->lock, NULL);
	for (i = 0; i < MAX_CONNS; i++)
		s->conns[i].fd = -1;
	assert_int_equal(pipe(s->stop), 0);
	s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->listen_fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = 0;
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&addr,
			      sizeof(addr)), 0);
	assert_int_equal(listen(s->listen_fd, 16), 0);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&addr,
				     &alen), 0);
	s->port = ntohs(addr.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(struct server *s)
{
	size_t i;

	write_all(s->stop[1], "x", 1);
	pthread_join(s->thread, NULL);
	for (i = 0; i < MAX_CONNS; i++) {
		if (s->conns[i].fd >= 0) {
			close(s->conns[i].fd);
			buf_release(&s->conns[i].in);
		}
	}
	for (i = 0; i < s->nr_reqs; i++) {
		buf_release(&s->reqs[i].headers);
		buf_release(&s->reqs[i].body);
	}
	close(s->listen_fd);
	close(s->stop[0]);
	close(s->stop[1]);
	pthread_mutex_destroy(&s->lock);
}

/* The value of a recorded request header, copied into out ("" if none). */
static const char *req_header(const struct recorded *rec, const char *name,
			      char *out, size_t size)
{
	const char *p = rec->headers.data;
	size_t nlen = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, nlen) && p[nlen] == ':') {
			const char *v = p + nlen + 1, *e = strstr(v, "\r\n");
			size_t n;

			while (*v == ' ')
				v++;
			n = (size_t)(e - v) < size - 1 ? (size_t)(e - v) : size - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return out;
		}
	}
	return out;
}

static json_t *req_json(const struct recorded *rec)
{
	json_error_t e;
	json_t *j = json_loadb(rec->body.data, rec->body.len, 0, &e);

	if (!j)
		fail_msg("request body is not JSON (%s): %s", e.text,
			 rec->body.data);
	return j;
}

/* ---- fixture: a server, a loop and a client ---- */

struct fixture {
	struct server srv;
	struct loop *loop;
	struct gl_client *client;
	struct gl_info info;
	char url[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct gl_client_options opts = { 0 };
	struct buf err = BUF_INIT;

	server_start(&f->srv);
	/* A trailing "/ci/" as some configs have: stripped. */
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d/ci/", f->srv.port);
	f->loop = loop_new();
	opts.url = f->url;
	opts.http.backoff_base_ms = 1;
	assert_int_equal(gl_client_new(f->loop, &opts, &f->client, &err), 0);
	f->info.executor = "shell";
	f->info.shell = "bash";
	f->info.features.variables = true;
	f->info.features.artifacts = true;
	f->info.features.shared = true;
	gl_features_set_network(&f->info.features);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gl_client_free(f->client);
	loop_free(f->loop);
	server_stop(&f->srv);
	free(f);
	return 0;
}

static void run_until(struct loop *loop, const bool *done)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!*done) {
		assert_int_equal(loop_run_once(loop, 100), 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 20)
			fail_msg("timed out waiting for a callback");
	}
}

/* ---- callbacks that copy the reply ---- */

struct job_result {
	bool done;
	enum gl_job_outcome outcome;
	enum gl_result result;
	long status;
	bool retried;
	char *payload;
	char message[256];
};

static void on_job(struct gl_job_reply *r, void *ctx)
{
	struct job_result *out = ctx;

	out->done = true;
	out->outcome = r->outcome;
	out->result = r->result;
	out->status = r->status;
	out->retried = r->retried;
	out->payload = r->payload;	/* taken */
	r->payload = NULL;
	snprintf(out->message, sizeof(out->message), "%s", r->message.data);
}

static void request_job(struct fixture *f, struct job_result *res)
{
	struct gl_job_request rq = { &f->info, "glrt-runnertoken", "s_0123456789ab",
				     NULL };

	memset(res, 0, sizeof(*res));
	assert_int_equal(gl_request_job(f->client, &rq, on_job, res, NULL), 0);
	run_until(f->loop, &res->done);
}

struct update_result {
	bool done;
	struct gl_update_reply r;
};

static void on_update(struct gl_update_reply *r, void *ctx)
{
	struct update_result *out = ctx;

	out->done = true;
	out->r = *r;
	out->r.message = (struct buf)BUF_INIT;
}

static struct update_result update_job(struct fixture *f,
				       const struct gl_job_update *u)
{
	struct update_result res = { 0 };

	assert_int_equal(gl_update_job(f->client, u, on_update, &res, NULL), 0);
	run_until(f->loop, &res.done);
	return res;
}

struct trace_result {
	bool done;
	struct gl_trace_reply r;
};

static void on_trace(struct gl_trace_reply *r, void *ctx)
{
	struct trace_result *out = ctx;

	out->done = true;
	out->r = *r;
	out->r.message = (struct buf)BUF_INIT;
}

static struct trace_result patch_trace(struct fixture *f, uint64_t offset,
				       const char *data, bool debug)
{
	struct gl_trace_patch p = { 77, "glcbt-jobtoken", offset, data,
				    strlen(data), debug };
	struct trace_result res = { 0 };

	assert_int_equal(gl_patch_trace(f->client, &p, on_trace, &res, NULL), 0);
	run_until(f->loop, &res.done);
	return res;
}

/* ---- pure functions ---- */

static void test_base_url(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "https://gitlab.example.com", "https://gitlab.example.com/api/v4/" },
		{ "https://gitlab.example.com/", "https://gitlab.example.com/api/v4/" },
		{ "https://gitlab.example.com//", "https://gitlab.example.com/api/v4/" },
		{ "https://gitlab.example.com/ci", "https://gitlab.example.com/api/v4/" },
		{ "https://gitlab.example.com/ci/", "https://gitlab.example.com/api/v4/" },
		{ "http://h:8080/gitlab/ci", "http://h:8080/gitlab/api/v4/" },
		{ "HTTPS://ci", "HTTPS://ci/api/v4/" },
	};
	static const char *const bad[] = {
		"", "gitlab.example.com", "ftp://h", "https://", "https:///x",
		"http://h st",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct buf out = BUF_INIT, err = BUF_INIT;

		assert_int_equal(gl_base_url(ok[i].in, &out, &err), 0);
		assert_string_equal(out.data, ok[i].out);
		buf_release(&out);
		buf_release(&err);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf out = BUF_INIT, err = BUF_INIT;

		assert_int_equal(gl_base_url(bad[i], &out, &err), CR_ERR_INVALID);
		assert_true(err.len > 0);
		buf_release(&out);
		buf_release(&err);
	}
}

static void test_classify(void **state)
{
	static const long transient[] = { 408, 429, 500, 502, 503, 504, 512, 599 };
	static const long final[] = { 200, 201, 400, 401, 403, 404, 409, 412,
				      416, 422, 501, 505, 511 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(transient) / sizeof(*transient); i++)
		assert_true(gl_http_status_is_transient(transient[i]));
	for (i = 0; i < sizeof(final) / sizeof(*final); i++)
		assert_false(gl_http_status_is_transient(final[i]));
	assert_int_equal(gl_http_classify(0, 200, false), GL_OK);
	assert_int_equal(gl_http_classify(0, 204, false), GL_OK);
	assert_int_equal(gl_http_classify(0, 404, false), GL_NOT_FOUND);
	assert_int_equal(gl_http_classify(0, 403, false), GL_AUTH);
	assert_int_equal(gl_http_classify(0, 401, false), GL_AUTH);
	assert_int_equal(gl_http_classify(0, 429, false), GL_RATE_LIMITED);
	assert_int_equal(gl_http_classify(0, 503, false), GL_RETRY);
	assert_int_equal(gl_http_classify(0, 408, false), GL_RETRY);
	assert_int_equal(gl_http_classify(0, 412, false), GL_REJECTED);
	assert_int_equal(gl_http_classify(0, 501, false), GL_REJECTED);
	assert_int_equal(gl_http_classify(0, 200, true), GL_TOO_LARGE);
	assert_int_equal(gl_http_classify(7 /* COULDNT_CONNECT */, 0, false),
			 GL_RETRY);
	assert_int_equal(gl_http_classify(28 /* OPERATION_TIMEDOUT */, 0, false),
			 GL_RETRY);
	assert_int_equal(gl_http_classify(3 /* URL_MALFORMAT */, 0, false),
			 GL_ERROR);
	assert_int_equal(gl_http_classify(77 /* SSL_CACERT_BADFILE */, 0, false),
			 GL_ERROR);
	assert_string_equal(gl_result_name(GL_RATE_LIMITED), "rate limited");
}

static void test_retry_delay(void **state)
{
	struct gl_http_header h[1];
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	long d;
	unsigned a;

	(void)state;
	/* Back-off: 100 ms, then between 100 and 200, 400, ... capped at 60 s. */
	assert_int_equal(gl_http_retry_delay_ms(&resp, 1, 100, 0), 100);
	for (a = 2; a <= 12; a++) {
		long cap = 100L << (a - 1);

		if (cap > 60000)
			cap = 60000;
		d = gl_http_retry_delay_ms(&resp, a, 100, 0);
		if (d < 100 || d > cap)
			fail_msg("attempt %u: delay %ld outside [100, %ld]", a, d, cap);
	}
	resp.headers = h;
	resp.nr_headers = 1;
	h[0] = (struct gl_http_header){ (char *)"Retry-After", (char *)"7" };
	assert_int_equal(gl_http_retry_delay_ms(&resp, 3, 100, 0), 7000);
	h[0] = (struct gl_http_header){ (char *)"retry-after", (char *)"999999" };
	assert_int_equal(gl_http_retry_delay_ms(&resp, 1, 100, 0),
			 GL_HTTP_HEADER_WAIT_MAX_MS);
	h[0] = (struct gl_http_header){ (char *)"Retry-After", (char *)"soon" };
	assert_int_equal(gl_http_retry_delay_ms(&resp, 1, 100, 0), 100);
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777; asked 30 s before. */
	h[0] = (struct gl_http_header){ (char *)"RateLimit-ResetTime",
					(char *)"Sun, 06 Nov 1994 08:49:37 GMT" };
	assert_int_equal(gl_http_retry_delay_ms(&resp, 1, 100, 784111747LL),
			 30000);
	assert_int_equal(gl_http_retry_delay_ms(&resp, 1, 100, 784111800LL), 0);
}

static void test_range_and_identity(void **state)
{
	struct buf ua = BUF_INIT;
	uint64_t n = 1;
	char arch[GL_ARCH_MAX], want[128];

	(void)state;
	assert_int_equal(gl_parse_range_end("0-1024", &n), 0);
	assert_int_equal(n, 1024);
	assert_int_equal(gl_parse_range_end(" 0-0 ", &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(gl_parse_range_end("bytes 0-5", &n), -1);
	assert_int_equal(gl_parse_range_end("0-", &n), -1);
	assert_int_equal(gl_parse_range_end("12", &n), -1);
	assert_int_equal(gl_parse_range_end(NULL, &n), -1);
	assert_int_equal(gl_parse_range_end("0-99999999999999999999999", &n), -1);

	assert_string_equal(gl_identity_arch_of("x86_64"), "amd64");
	assert_string_equal(gl_identity_arch_of("aarch64"), "arm64");
	assert_string_equal(gl_identity_arch_of("i686"), "386");
	assert_string_equal(gl_identity_arch_of("armv7l"), "arm");
	assert_string_equal(gl_identity_arch_of("riscv64"), "riscv64");
	assert_null(gl_identity_arch_of("vax"));

	gl_identity_user_agent(&ua);
	snprintf(want, sizeof(want), "crunner %s (main; gcc", CR_VERSION);
	assert_memory_equal(ua.data, want, strlen(want));
	snprintf(want, sizeof(want), "; linux/%s)", gl_identity_arch(arch));
	assert_string_equal(ua.data + ua.len - strlen(want), want);
	buf_release(&ua);
}

/* ---- jobs/request ---- */

static void check_info(json_t *info, const struct gl_info *want)
{
	static const char *const keys[] = {
		"variables", "image", "services", "artifacts", "cache",
		"fallback_cache_keys", "shared", "upload_multiple_artifacts",
		"upload_raw_artifacts", "session", "terminal", "refspecs",
		"masking", "proxy", "raw_variables", "artifacts_exclude",
		"multi_build_steps", "trace_reset", "trace_checksum", "trace_size",
		"vault_secrets", "cancelable", "return_exit_code",
		"service_variables", "service_multiple_aliases",
		"image_executor_opts", "service_executor_opts",
		"cancel_gracefully", "native_steps_integration",
		"two_phase_job_commit", "job_inputs",
	};
	json_t *features = json_object_get(info, "features");
	char arch[GL_ARCH_MAX];
	size_t i;

	assert_true(json_is_object(info));
	assert_string_equal(json_string_value(json_object_get(info, "name")),
			    "crunner");
	assert_string_equal(json_string_value(json_object_get(info, "version")),
			    CR_VERSION);
	assert_string_equal(json_string_value(json_object_get(info, "revision")),
			    CR_GIT_REVISION);
	assert_string_equal(json_string_value(json_object_get(info, "platform")),
			    "linux");
	assert_string_equal(json_string_value(json_object_get(info, "architecture")),
			    gl_identity_arch(arch));
	assert_string_equal(json_string_value(json_object_get(info, "executor")),
			    want->executor);
	assert_string_equal(json_string_value(json_object_get(info, "shell")),
			    want->shell);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(info, "config"), "gpus")), "");
	assert_null(json_object_get(info, "labels"));
	/* Every key, always, as a boolean; nothing else. */
	assert_int_equal(json_object_size(features), 31);
	for (i = 0; i < 31; i++) {
		json_t *v = json_object_get(features, keys[i]);

		if (!json_is_boolean(v))
			fail_msg("features.%s missing or not a boolean", keys[i]);
	}
	assert_true(json_is_true(json_object_get(features, "variables")));
	assert_true(json_is_true(json_object_get(features, "shared")));
	assert_true(json_is_true(json_object_get(features, "cancel_gracefully")));
	assert_true(json_is_true(json_object_get(features, "two_phase_job_commit")));
	assert_true(json_is_false(json_object_get(features, "image")));
	assert_true(json_is_false(json_object_get(features, "vault_secrets")));
}

static bool is_hex32(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[32] == '\0';
}

static void test_request_job_last_update(void **state)
{
	struct fixture *f = *state;
	struct job_result res;
	struct recorded *rec;
	char h[256], id0[64];
	json_t *body;

	server_push(&f->srv, 204, "X-GitLab-Last-Update: 8d3c4f1e0b9a2d7c\r\n",
		    NULL);
	server_push(&f->srv, 201, "Content-Type: application/json\r\n",
		    "{\"id\": 5, \"token\": \"glcbt-x\"}");
	request_job(f, &res);
	assert_int_equal(res.outcome, GL_JOB_NONE);
	assert_int_equal(res.result, GL_OK);
	assert_int_equal(res.status, 204);
	assert_false(res.retried);
	assert_string_equal(gl_client_last_update(f->client, "glrt-runnertoken"),
			    "8d3c4f1e0b9a2d7c");

	rec = &f->srv.reqs[0];
	assert_string_equal(rec->method, "POST");
	assert_string_equal(rec->target, "/api/v4/jobs/request");
	assert_string_equal(req_header(rec, "Content-Type", h, sizeof(h)),
			    "application/json");
	assert_string_equal(req_header(rec, "Accept", h, sizeof(h)),
			    "application/json");
	assert_string_equal(req_header(rec, "RUNNER-TOKEN", h, sizeof(h)),
			    "glrt-runnertoken");
	assert_memory_equal(req_header(rec, "User-Agent", h, sizeof(h)),
			    "crunner ", 8);
	assert_true(is_hex32(req_header(rec, "X-Request-Id", id0, sizeof(id0))));
	body = req_json(rec);
	check_info(json_object_get(body, "info"), &f->info);
	assert_string_equal(json_string_value(json_object_get(body, "token")),
			    "glrt-runnertoken");
	assert_string_equal(json_string_value(json_object_get(body, "system_id")),
			    "s_0123456789ab");
	assert_null(json_object_get(body, "last_update"));
	assert_null(json_object_get(body, "session"));
	json_decref(body);

	request_job(f, &res);
	assert_int_equal(res.outcome, GL_JOB_RECEIVED);
	assert_int_equal(res.status, 201);
	assert_string_equal(res.payload, "{\"id\": 5, \"token\": \"glcbt-x\"}");
	free(res.payload);
	rec = &f->srv.reqs[1];
	body = req_json(rec);
	/* The value seen last is sent back. */
	assert_string_equal(json_string_value(json_object_get(body, "last_update")),
			    "8d3c4f1e0b9a2d7c");
	json_decref(body);
	assert_true(is_hex32(req_header(rec, "X-Request-Id", h, sizeof(h))));
	assert_string_not_equal(h, id0);
}

static void test_request_job_outcomes(void **state)
{
	struct fixture *f = *state;
	struct job_result res;

	server_push(&f->srv, 201, "Content-Type: text/html\r\n", "<html>");
	server_push(&f->srv, 403, "Content-Type: application/json\r\n",
		    "{\"message\": \"403 Forbidden\"}");
	server_push(&f->srv, 409, NULL, "");
	request_job(f, &res);
	assert_int_equal(res.outcome, GL_JOB_FAILED);
	assert_int_equal(res.result, GL_BAD_RESPONSE);
	assert_null(res.payload);
	assert_string_equal(res.message,
			    "HTTP 201 with Content-Type 'text/html' instead of a JSON job");
	request_job(f, &res);
	assert_int_equal(res.outcome, GL_JOB_FORBIDDEN);
	assert_int_equal(res.result, GL_AUTH);
	assert_string_equal(res.message, "HTTP 403: 403 Forbidden");
	request_job(f, &res);
	assert_int_equal(res.outcome, GL_JOB_FAILED);
	assert_int_equal(res.result, GL_REJECTED);
	assert_int_equal(res.status, 409);
}

static void test_request_job_body_cap(void **state)
{
	struct fixture *f = *state;
	struct gl_job_request rq = { &f->info, "glrt-t", NULL, NULL };
	struct gl_session session = { "https://h/session", NULL, "bearer" };
	struct job_result res = { 0 };
	char *big = malloc(40000);

	memset(big, 'A', 39999);
	big[39999] = '\0';
	session.certificate = big;
	rq.session = &session;
	assert_int_equal(gl_request_job(f->client, &rq, on_job, &res, NULL),
			 CR_ERR_TOO_LARGE);
	rq.token = "";
	assert_int_equal(gl_request_job(f->client, &rq, on_job, &res, NULL),
			 CR_ERR_INVALID);
	free(big);
	assert_false(res.done);
	assert_int_equal(server_nr_reqs(&f->srv), 0);
}

/* ---- retries ---- */

static void test_retry_503_then_success(void **state)
{
	struct fixture *f = *state;
	struct job_result res;
	char a[64], b[64];

	server_push(&f->srv, 503, NULL, "busy");
	server_push(&f->srv, 502, NULL, "busy");
	server_push(&f->srv, 204, NULL, NULL);
	request_job(f, &res);
	assert_int_equal(res.outcome, GL_JOB_NONE);
	assert_int_equal(res.result, GL_OK);
	assert_true(res.retried);
	assert_int_equal(server_nr_reqs(&f->srv), 3);
	/* One request id for all attempts of one request. */
	req_header(&f->srv.reqs[0], "X-Request-Id", a, sizeof(a));
	req_header(&f->srv.reqs[2], "X-Request-Id", b, sizeof(b));
	assert_string_equal(a, b);
}

static void test_retry_gives_up_after_5(void **state)
{
	struct fixture *f = *state;
	struct job_result res;
	int i;

	for (i = 0; i < 6; i++)
		server_push(&f->srv, 503, NULL, "busy");
	request_job(f, &res);
	assert_int_equal(res.outcome, GL_JOB_FAILED);
	assert_int_equal(res.result, GL_RETRY);
	assert_int_equal(res.status, 503);
	assert_int_equal(server_nr_reqs(&f->srv), 5);
	assert_string_equal(res.message, "HTTP 503: busy");
}

static void test_no_retry_on_404(void **state)
{
	struct fixture *f = *state;
	struct gl_job_update u = { &f->info, 12, "glcbt-t", GL_STATE_RUNNING,
				   NULL, 0, NULL, 0 };
	struct update_result res;

	server_push(&f->srv, 404, NULL, "{\"message\": \"404 Not Found\"}");
	server_push(&f->srv, 200, NULL, "200");
	res = update_job(f, &u);
	assert_int_equal(res.r.outcome, GL_UPDATE_ABORT);
	assert_int_equal(res.r.result, GL_NOT_FOUND);
	assert_int_equal(server_nr_reqs(&f->srv), 1);
}

static void test_retry_after_honoured(void **state)
{
	struct fixture *f = *state;
	struct timespec t0, t1;
	struct job_result res;
	long ms;

	server_push(&f->srv, 429, "Retry-After: 1\r\n",
		    "{\"message\": \"Executing database migrations. Please retry later.\"}");
	server_push(&f->srv, 204, NULL, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	request_job(f, &res);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_int_equal(res.outcome, GL_JOB_NONE);
	assert_true(res.retried);
	if (ms < 950)
		fail_msg("retried after %ld ms, Retry-After asked for 1000", ms);
	assert_int_equal(server_nr_reqs(&f->srv), 2);
}

static void test_network_error_not_retried(void **state)
{
	struct gl_http_request rq = { .method = "GET", .timeout_ms = 5000 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct sockaddr_in addr;
	socklen_t alen = sizeof(addr);
	char url[64];
	int fd;

	(void)state;
	/* A port that was just free: nothing listens there. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	getsockname(fd, (struct sockaddr *)&addr, &alen);
	close(fd);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(addr.sin_port));
	rq.url = url;
	assert_int_equal(gl_http_perform_sync(NULL, &rq, &resp), 0);
	assert_int_equal(resp.result, GL_RETRY);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.attempts, 1);
	assert_true(resp.error.len > 0);
	gl_http_response_release(&resp);
}

/* ---- the HTTP layer directly ---- */

static void test_body_over_cap(void **state)
{
	struct fixture *f = *state;
	struct gl_http_options opts = { .backoff_base_ms = 1 };
	struct gl_http_request rq = { .method = "GET", .max_response = 1024 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	static char big[4097];
	char url[64];

	memset(big, 'x', sizeof(big) - 1);
	server_push(&f->srv, 200, NULL, big);
	server_push(&f->srv, 200, "Job-Status: running\r\n", big);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/big", f->srv.port);
	rq.url = url;
	assert_int_equal(gl_http_perform_sync(&opts, &rq, &resp), 0);
	assert_int_equal(resp.result, GL_TOO_LARGE);
	assert_int_equal(resp.status, 200);
	assert_true(resp.body.len <= 1024);
	assert_string_equal(resp.error.data, "answer larger than 1024 bytes");
	gl_http_response_release(&resp);

	/* With truncation the answer is fine and cut at the cap. */
	rq.truncate_response = true;
	resp = (struct gl_http_response)GL_HTTP_RESPONSE_INIT;
	assert_int_equal(gl_http_perform_sync(&opts, &rq, &resp), 0);
	assert_int_equal(resp.result, GL_OK);
	assert_int_equal(resp.body.len, 1024);
	assert_string_equal(gl_http_response_header(&resp, "job-status"),
			    "running");
	assert_null(gl_http_response_header(&resp, "Range"));
	gl_http_response_release(&resp);
}

static void test_bad_method_reported_later(void **state)
{
	struct gl_http_request rq = { .method = "BREW", .url = "http://127.0.0.1:1/" };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;

	(void)state;
	assert_int_equal(gl_http_perform_sync(NULL, &rq, &resp), 0);
	assert_int_equal(resp.result, GL_ERROR);
	assert_string_equal(resp.error.data, "unsupported HTTP method 'BREW'");
	gl_http_response_release(&resp);
}

/* ---- PUT jobs/:id ---- */

static void test_update_bodies(void **state)
{
	struct fixture *f = *state;
	struct gl_job_update u = { &f->info, 8123457, "glcbt-jobtoken",
				   GL_STATE_RUNNING, NULL, 0, NULL, 0 };
	struct update_result res;
	json_t *body, *out;
	char h[128];

	server_push(&f->srv, 200, "Job-Status: running\r\n", "200");
	server_push(&f->srv, 200, "Job-Status: failed\r\n", "200");
	res = update_job(f, &u);
	assert_int_equal(res.r.outcome, GL_UPDATE_OK);
	assert_string_equal(res.r.job_status, "running");
	assert_string_equal(f->srv.reqs[0].method, "PUT");
	assert_string_equal(f->srv.reqs[0].target, "/api/v4/jobs/8123457");
	assert_string_equal(req_header(&f->srv.reqs[0], "JOB-TOKEN", h, sizeof(h)),
			    "glcbt-jobtoken");
	assert_string_equal(req_header(&f->srv.reqs[0], "Content-Type", h,
				       sizeof(h)), "application/json");
	body = req_json(&f->srv.reqs[0]);
	check_info(json_object_get(body, "info"), &f->info);
	assert_string_equal(json_string_value(json_object_get(body, "token")),
			    "glcbt-jobtoken");
	assert_string_equal(json_string_value(json_object_get(body, "state")),
			    "running");
	out = json_object_get(body, "output");
	assert_true(json_is_object(out));
	assert_int_equal(json_object_size(out), 0);	/* "output": {} */
	assert_null(json_object_get(body, "exit_code"));
	assert_null(json_object_get(body, "failure_reason"));
	assert_null(json_object_get(body, "checksum"));
	assert_int_equal(json_object_size(body), 4);
	json_decref(body);

	u.state = GL_STATE_FAILED;
	u.failure_reason = "script_failure";
	u.exit_code = 2;
	u.checksum = "crc32:9f1c0e7a";
	u.bytesize = 48213;
	res = update_job(f, &u);
	/* The final update is answered with the job failed: done. */
	assert_int_equal(res.r.outcome, GL_UPDATE_ABORT);
	body = req_json(&f->srv.reqs[1]);
	assert_string_equal(json_string_value(json_object_get(body, "state")),
			    "failed");
	assert_string_equal(json_string_value(json_object_get(body, "failure_reason")),
			    "script_failure");
	assert_string_equal(json_string_value(json_object_get(body, "checksum")),
			    "crc32:9f1c0e7a");
	out = json_object_get(body, "output");
	assert_string_equal(json_string_value(json_object_get(out, "checksum")),
			    "crc32:9f1c0e7a");
	assert_int_equal(json_integer_value(json_object_get(out, "bytesize")),
			 48213);
	assert_int_equal(json_integer_value(json_object_get(body, "exit_code")), 2);
	json_decref(body);
}

static void test_update_classification(void **state)
{
	static const struct {
		int status;
		const char *headers;
		enum gl_update_outcome outcome;
		bool cancel;
		long interval;
	} cases[] = {
		{ 200, NULL, GL_UPDATE_OK, false, 0 },
		{ 202, "X-GitLab-Trace-Update-Interval: 5\r\n",
		  GL_UPDATE_ACCEPTED, false, 5 },
		{ 202, "X-GitLab-Trace-Update-Interval: 1.5\r\n",
		  GL_UPDATE_ACCEPTED, false, 0 },
		{ 412, NULL, GL_UPDATE_TRACE_RESET, false, 0 },
		{ 403, "Job-Status: canceled\r\n", GL_UPDATE_ABORT, false, 0 },
		{ 403, NULL, GL_UPDATE_ABORT, false, 0 },
		{ 404, NULL, GL_UPDATE_ABORT, false, 0 },
		{ 200, "Job-Status: canceled\r\n", GL_UPDATE_ABORT, false, 0 },
		{ 200, "Job-Status: canceling\r\n", GL_UPDATE_OK, true, 0 },
		{ 202, "Job-Status: canceling\r\n", GL_UPDATE_ACCEPTED, true, 0 },
		{ 400, NULL, GL_UPDATE_FAILED, false, 0 },
		{ 409, NULL, GL_UPDATE_FAILED, false, 0 },
	};
	struct fixture *f = *state;
	struct gl_job_update u = { &f->info, 1, "glcbt-t", GL_STATE_SUCCESS,
				   NULL, 0, "crc32:00000000", 1 };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct update_result res;

		server_push(&f->srv, cases[i].status, cases[i].headers, "x");
		res = update_job(f, &u);
		if (res.r.outcome != cases[i].outcome ||
		    res.r.cancel_requested != cases[i].cancel ||
		    res.r.interval_s != cases[i].interval)
			fail_msg("case %zu (HTTP %d): outcome %d cancel %d interval %ld,"
				 " expected %d %d %ld", i, cases[i].status,
				 res.r.outcome, res.r.cancel_requested,
				 res.r.interval_s, cases[i].outcome,
				 cases[i].cancel, cases[i].interval);
		assert_int_equal(res.r.status, cases[i].status);
	}
	/* Keep-alive: every request went over the first connection. */
	pthread_mutex_lock(&f->srv.lock);
	assert_int_equal(f->srv.nr_accepts, 1);
	pthread_mutex_unlock(&f->srv.lock);
}

/* ---- PATCH jobs/:id/trace ---- */

static void test_trace_requests(void **state)
{
	struct fixture *f = *state;
	struct trace_result res;
	char h[128];

	server_push(&f->srv, 202, "Range: 0-10\r\nJob-Status: running\r\n"
		    "X-GitLab-Trace-Update-Interval: 60\r\n", NULL);
	server_push(&f->srv, 202, "Range: 0-15\r\n", NULL);
	res = patch_trace(f, 0, "0123456789", false);
	assert_int_equal(res.r.outcome, GL_TRACE_OK);
	assert_int_equal(res.r.offset, 10);
	assert_int_equal(res.r.interval_s, 60);
	assert_string_equal(res.r.job_status, "running");
	assert_string_equal(f->srv.reqs[0].method, "PATCH");
	assert_string_equal(f->srv.reqs[0].target,
			    "/api/v4/jobs/77/trace?debug_trace=false");
	assert_string_equal(req_header(&f->srv.reqs[0], "Content-Range", h,
				       sizeof(h)), "0-9");
	assert_string_equal(req_header(&f->srv.reqs[0], "Content-Type", h,
				       sizeof(h)), "text/plain");
	assert_string_equal(req_header(&f->srv.reqs[0], "JOB-TOKEN", h,
				       sizeof(h)), "glcbt-jobtoken");
	assert_string_equal(f->srv.reqs[0].body.data, "0123456789");

	res = patch_trace(f, 10, "abcde", true);
	assert_int_equal(res.r.outcome, GL_TRACE_OK);
	assert_int_equal(res.r.offset, 15);
	assert_string_equal(f->srv.reqs[1].target,
			    "/api/v4/jobs/77/trace?debug_trace=true");
	assert_string_equal(req_header(&f->srv.reqs[1], "Content-Range", h,
				       sizeof(h)), "10-14");
	assert_string_equal(f->srv.reqs[1].body.data, "abcde");
}

static void test_trace_classification(void **state)
{
	static const struct {
		int status;
		const char *headers;
		enum gl_trace_outcome outcome;
		uint64_t offset;
	} cases[] = {
		{ 202, NULL, GL_TRACE_OK, 104 },
		{ 416, "Range: 0-42\r\n", GL_TRACE_RANGE_MISMATCH, 42 },
		{ 416, "Range: garbage\r\n", GL_TRACE_RANGE_MISMATCH, 0 },
		{ 416, NULL, GL_TRACE_RANGE_MISMATCH, 0 },
		{ 403, NULL, GL_TRACE_ABORT, 100 },
		{ 403, "Job-Status: success\r\n", GL_TRACE_ABORT, 100 },
		{ 202, "Job-Status: canceled\r\n", GL_TRACE_ABORT, 104 },
		{ 202, "Job-Status: failed\r\n", GL_TRACE_ABORT, 104 },
		{ 202, "Job-Status: canceling\r\n", GL_TRACE_CANCEL, 104 },
		{ 404, NULL, GL_TRACE_NOT_FOUND, 100 },
		{ 400, NULL, GL_TRACE_FAILED, 100 },
		{ 200, NULL, GL_TRACE_FAILED, 100 },
	};
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct trace_result res;

		server_push(&f->srv, cases[i].status, cases[i].headers, NULL);
		res = patch_trace(f, 100, "data", false);
		if (res.r.outcome != cases[i].outcome ||
		    res.r.offset != cases[i].offset)
			fail_msg("case %zu (HTTP %d): outcome %d offset %llu,"
				 " expected %d %llu", i, cases[i].status,
				 res.r.outcome, (unsigned long long)res.r.offset,
				 cases[i].outcome,
				 (unsigned long long)cases[i].offset);
	}
}

static void test_trace_arguments(void **state)
{
	struct fixture *f = *state;
	struct gl_trace_patch p = { 77, "glcbt-t", 0, "", 0, false };
	struct trace_result res = { 0 };
	char *big = calloc(1, GL_TRACE_PATCH_LIMIT + 1);

	assert_int_equal(gl_patch_trace(f->client, &p, on_trace, &res, NULL),
			 CR_ERR_INVALID);
	p.data = big;
	p.len = GL_TRACE_PATCH_LIMIT + 1;
	assert_int_equal(gl_patch_trace(f->client, &p, on_trace, &res, NULL),
			 CR_ERR_TOO_LARGE);
	/* Exactly 1 MiB is fine. */
	p.len = GL_TRACE_PATCH_LIMIT;
	server_push(&f->srv, 202, NULL, NULL);
	assert_int_equal(gl_patch_trace(f->client, &p, on_trace, &res, NULL), 0);
	run_until(f->loop, &res.done);
	assert_int_equal(res.r.outcome, GL_TRACE_OK);
	assert_int_equal(res.r.offset, GL_TRACE_PATCH_LIMIT);
	assert_int_equal(f->srv.reqs[0].body.len, GL_TRACE_PATCH_LIMIT);
	free(big);
}

/* ---- cancellation ---- */

static void never(struct gl_job_reply *r, void *ctx)
{
	(void)r;
	(void)ctx;
	fail_msg("callback of a cancelled call");
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct gl_job_request rq = { &f->info, "glrt-t", NULL, NULL };
	struct gl_call *call = NULL;
	int i;

	server_push(&f->srv, 204, NULL, NULL);
	assert_int_equal(gl_request_job(f->client, &rq, never, NULL, &call), 0);
	assert_non_null(call);
	gl_call_cancel(call);
	for (i = 0; i < 5; i++)
		loop_run_once(f->loop, 20);
	/* A call still running when the client goes: dropped, no callback. */
	assert_int_equal(gl_request_job(f->client, &rq, never, NULL, NULL), 0);
	loop_run_once(f->loop, 0);
}

/* ---- runner lifecycle ---- */

struct runner_result {
	bool done;
	struct gl_runner_reply r;
};

static void on_runner(struct gl_runner_reply *r, void *ctx)
{
	struct runner_result *out = ctx;

	out->done = true;
	out->r = *r;
	/* Take everything. */
	r->token = NULL;
	r->token_expires_at = NULL;
	buf_init(&r->message, 0);
}

static struct runner_result runner_call(struct fixture *f, enum gl_runner_op op,
					const struct gl_runner_params *p)
{
	struct runner_result res = { 0 };

	assert_int_equal(gl_runner_call(f->client, op, p, on_runner, &res, NULL),
			 0);
	run_until(f->loop, &res.done);
	return res;
}

static void test_lifecycle_calls(void **state)
{
	struct fixture *f = *state;
	struct gl_runner_params p = { 0 };
	struct runner_result res;
	json_t *body;
	char h[64];

	p.token = "GR1348941abcdef";
	p.description = "build-host-1";
	p.tag_list = "linux,shell";
	p.run_untagged = true;
	p.info = &f->info;
	server_push(&f->srv, 201, "Content-Type: application/json\r\n",
		    "{\"id\": 311, \"token\": \"glrtr-newtoken\","
		    " \"token_expires_at\": null}");
	res = runner_call(f, GL_RUNNER_REGISTER, &p);
	assert_int_equal(res.r.result, GL_OK);
	assert_int_equal(res.r.id, 311);
	assert_string_equal(res.r.token, "glrtr-newtoken");
	assert_null(res.r.token_expires_at);
	gl_runner_reply_release(&res.r);
	assert_string_equal(f->srv.reqs[0].method, "POST");
	assert_string_equal(f->srv.reqs[0].target, "/api/v4/runners");
	body = req_json(&f->srv.reqs[0]);
	assert_string_equal(json_string_value(json_object_get(body, "token")),
			    "GR1348941abcdef");
	assert_string_equal(json_string_value(json_object_get(body, "description")),
			    "build-host-1");
	assert_string_equal(json_string_value(json_object_get(body, "tag_list")),
			    "linux,shell");
	assert_true(json_is_true(json_object_get(body, "run_untagged")));
	assert_true(json_is_false(json_object_get(body, "locked")));
	assert_true(json_is_false(json_object_get(body, "paused")));
	assert_null(json_object_get(body, "maximum_timeout"));
	assert_null(json_object_get(body, "access_level"));
	assert_null(json_object_get(body, "maintenance_note"));
	check_info(json_object_get(body, "info"), &f->info);
	json_decref(body);

	/* verify: JSON answer, Last-Update remembered for the token. */
	memset(&p, 0, sizeof(p));
	p.token = "glrt-abc";
	p.system_id = "s_0123456789ab";
	p.info = &f->info;
	server_push(&f->srv, 200, "Content-Type: application/json\r\n"
		    "X-GitLab-Last-Update: ffee\r\n",
		    "{\"id\": 12, \"token\": \"glrt-abc\","
		    " \"token_expires_at\": \"2030-01-01T00:00:00Z\"}");
	res = runner_call(f, GL_RUNNER_VERIFY, &p);
	assert_int_equal(res.r.result, GL_OK);
	assert_int_equal(res.r.id, 12);
	assert_string_equal(res.r.token, "glrt-abc");
	assert_string_equal(res.r.token_expires_at, "2030-01-01T00:00:00Z");
	gl_runner_reply_release(&res.r);
	assert_string_equal(gl_client_last_update(f->client, "glrt-abc"), "ffee");
	assert_string_equal(f->srv.reqs[1].target, "/api/v4/runners/verify");
	assert_string_equal(req_header(&f->srv.reqs[1], "RUNNER-TOKEN", h,
				       sizeof(h)), "glrt-abc");
	body = req_json(&f->srv.reqs[1]);
	assert_string_equal(json_string_value(json_object_get(body, "system_id")),
			    "s_0123456789ab");
	check_info(json_object_get(body, "info"), &f->info);
	json_decref(body);

	/* verify on an old server: plain text "200". */
	server_push(&f->srv, 200, "Content-Type: text/plain\r\n", "200");
	res = runner_call(f, GL_RUNNER_VERIFY, &p);
	assert_int_equal(res.r.result, GL_OK);
	assert_int_equal(res.r.id, 0);
	assert_string_equal(res.r.token, "glrt-abc");
	gl_runner_reply_release(&res.r);

	/* verify refused. */
	server_push(&f->srv, 403, "Content-Type: application/json\r\n",
		    "{\"message\": \"403 Forbidden\"}");
	res = runner_call(f, GL_RUNNER_VERIFY, &p);
	assert_int_equal(res.r.result, GL_AUTH);
	assert_null(res.r.token);
	assert_string_equal(res.r.message.data, "HTTP 403: 403 Forbidden");
	gl_runner_reply_release(&res.r);

	/* unregister the manager, then the runner. */
	server_push(&f->srv, 204, NULL, NULL);
	server_push(&f->srv, 204, NULL, NULL);
	res = runner_call(f, GL_RUNNER_UNREGISTER_MANAGER, &p);
	assert_int_equal(res.r.result, GL_OK);
	gl_runner_reply_release(&res.r);
	res = runner_call(f, GL_RUNNER_UNREGISTER, &p);
	assert_int_equal(res.r.result, GL_OK);
	gl_runner_reply_release(&res.r);
	assert_string_equal(f->srv.reqs[4].method, "DELETE");
	assert_string_equal(f->srv.reqs[4].target, "/api/v4/runners/managers");
	assert_string_equal(f->srv.reqs[4].body.data,
			    "{\"token\":\"glrt-abc\",\"system_id\":\"s_0123456789ab\"}");
	assert_string_equal(f->srv.reqs[5].method, "DELETE");
	assert_string_equal(f->srv.reqs[5].target, "/api/v4/runners");
	assert_string_equal(f->srv.reqs[5].body.data, "{\"token\":\"glrt-abc\"}");

	/* token reset; a 201 without a token is not usable. */
	server_push(&f->srv, 201, "Content-Type: application/json\r\n",
		    "{\"token\": \"glrt-new\", \"token_expires_at\": null}");
	server_push(&f->srv, 201, "Content-Type: application/json\r\n", "{}");
	res = runner_call(f, GL_RUNNER_RESET_TOKEN, &p);
	assert_int_equal(res.r.result, GL_OK);
	assert_string_equal(res.r.token, "glrt-new");
	gl_runner_reply_release(&res.r);
	assert_string_equal(f->srv.reqs[6].target,
			    "/api/v4/runners/reset_authentication_token");
	res = runner_call(f, GL_RUNNER_RESET_TOKEN, &p);
	assert_int_equal(res.r.result, GL_BAD_RESPONSE);
	gl_runner_reply_release(&res.r);

	/* admin reset with a PAT: no body. */
	p.private_token = "glpat-admin";
	p.runner_id = 311;
	server_push(&f->srv, 201, "Content-Type: application/json\r\n",
		    "{\"token\": \"glrt-new2\", \"token_expires_at\": null}");
	res = runner_call(f, GL_RUNNER_RESET_TOKEN, &p);
	assert_int_equal(res.r.result, GL_OK);
	gl_runner_reply_release(&res.r);
	assert_string_equal(f->srv.reqs[8].target,
			    "/api/v4/runners/311/reset_authentication_token");
	assert_string_equal(req_header(&f->srv.reqs[8], "PRIVATE-TOKEN", h,
				       sizeof(h)), "glpat-admin");
	assert_int_equal(f->srv.reqs[8].body.len, 0);

	/* Missing arguments are refused at once. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(gl_runner_call(f->client, GL_RUNNER_VERIFY, &p,
					on_runner, &res, NULL), CR_ERR_INVALID);
	p.token = "glrt-abc";
	assert_int_equal(gl_runner_call(f->client, GL_RUNNER_UNREGISTER_MANAGER,
					&p, on_runner, &res, NULL),
			 CR_ERR_INVALID);
}

static void test_runner_call_sync(void **state)
{
	struct fixture *f = *state;
	struct gl_client_options opts = { 0 };
	struct gl_runner_params p = { 0 };
	struct gl_runner_reply reply = GL_RUNNER_REPLY_INIT;
	struct buf err = BUF_INIT;

	opts.url = f->url;
	p.token = "glrt-abc";
	p.info = &f->info;
	server_push(&f->srv, 200, "Content-Type: application/json\r\n",
		    "{\"id\": 12, \"token\": \"glrt-abc\", \"token_expires_at\": null}");
	assert_int_equal(gl_runner_call_sync(&opts, GL_RUNNER_VERIFY, &p, &reply,
					     &err), 0);
	assert_int_equal(reply.result, GL_OK);
	assert_int_equal(reply.id, 12);
	assert_string_equal(reply.token, "glrt-abc");
	gl_runner_reply_release(&reply);

	opts.url = "ftp://nope";
	assert_int_equal(gl_runner_call_sync(&opts, GL_RUNNER_VERIFY, &p, &reply,
					     &err), CR_ERR_INVALID);
	assert_string_equal(err.data,
			    "coordinator URL 'ftp://nope' must start with http:// or https://");
	buf_release(&err);
}

/* ---- the trace sender (src/gitlab/trace_sender.c) ---- */

/* Runs the loop until cond holds (20 s at most). */
#define RUN_UNTIL(f, cond) do {						\
	struct timespec t0_, t_;					\
	clock_gettime(CLOCK_MONOTONIC, &t0_);				\
	while (!(cond)) {						\
		assert_int_equal(loop_run_once((f)->loop, 20), 0);	\
		clock_gettime(CLOCK_MONOTONIC, &t_);			\
		if (t_.tv_sec - t0_.tv_sec > 20)			\
			fail_msg("timed out waiting for " #cond);	\
	}								\
} while (0)

struct sender_events {
	bool done, delivered;
};

static void on_sender_done(void *ctx, bool delivered)
{
	struct sender_events *ev = ctx;

	ev->done = true;
	ev->delivered = delivered;
}

static struct trace_sender *sender_new(struct fixture *f, size_t memory_limit,
				       struct sender_events *ev)
{
	struct trace_sender_options o = { 0 };
	struct trace_sender_events events = { 0 };
	struct trace_sender *ts;
	struct buf err = BUF_INIT;

	o.client = f->client;
	o.info = &f->info;
	o.job_id = 77;
	o.token = "glcbt-jobtoken";
	o.interval_ms = 10;
	o.force_send_ms = 60;
	o.final_backoff_ms = 1;
	o.memory_limit = memory_limit;
	events.on_done = on_sender_done;
	events.ctx = ev;
	assert_int_equal(trace_sender_new(f->loop, &o, &events, &ts, &err), 0);
	return ts;
}

static void assert_patch(const struct recorded *rec, const char *range,
			 const char *data, size_t len)
{
	char h[64];

	assert_string_equal(rec->method, "PATCH");
	assert_string_equal(req_header(rec, "Content-Range", h, sizeof(h)),
			    range);
	assert_int_equal(rec->body.len, len);
	assert_memory_equal(rec->body.data, data, len);
}

/*
 * A log the sender keeps up with goes from memory: no byte touches the
 * file.  The keep-alive carries the sink's checksum, which is the CRC of
 * exactly what the server got.
 */
static void test_trace_sender_memory(void **state)
{
	static const char log1[] = "hello from the job\nsecond line\n";
	struct fixture *f = *state;
	struct sender_events ev = { 0 };
	struct trace_sender *ts = sender_new(f, 0, &ev);
	struct trace_options to = { 0 };
	struct trace_sink *sink;
	struct trace_sender_stats st;
	struct trace_sender_final fin = { 0 };
	char sum[16], want[16];
	json_t *body, *out;
	size_t n = sizeof(log1) - 1;

	sink = trace_sink_new(&to, trace_sender_consumer(ts));
	trace_sender_set_sink(ts, sink);
	assert_int_equal(trace_sink_write(sink, TRACE_STREAM_JOB, TRACE_STDOUT,
					  log1, n), 0);
	assert_int_equal(trace_sender_size(ts), n);

	server_push(&f->srv, 202, "Range: 0-31\r\n", NULL);
	server_push(&f->srv, 200, NULL, NULL);		/* the keep-alive */
	server_push(&f->srv, 200, NULL, NULL);		/* the final update */
	trace_sender_start(ts);
	RUN_UNTIL(f, trace_sender_sent(ts) == n);
	assert_patch(&f->srv.reqs[0], "0-30", log1, n);

	RUN_UNTIL(f, server_nr_reqs(&f->srv) == 2);
	assert_string_equal(f->srv.reqs[1].method, "PUT");
	body = req_json(&f->srv.reqs[1]);
	trace_sink_checksum(sink, sum);
	snprintf(want, sizeof(want), "crc32:%08x",
		 (unsigned int)crc32_update(CRC32_INIT, f->srv.reqs[0].body.data,
					    f->srv.reqs[0].body.len));
	assert_string_equal(sum, want);
	out = json_object_get(body, "output");
	assert_string_equal(json_string_value(json_object_get(out, "checksum")),
			    want);
	assert_int_equal(json_integer_value(json_object_get(out, "bytesize")),
			 n);
	assert_string_equal(json_string_value(json_object_get(body, "state")),
			    "running");
	json_decref(body);

	st = trace_sender_stats(ts);
	assert_int_equal(st.patches_from_memory, 1);
	assert_int_equal(st.patches_from_file, 0);
	assert_int_equal(st.file_written, 0);
	assert_int_equal(st.file_read, 0);

	assert_int_equal(trace_sink_finish(sink), 0);
	fin.state = GL_STATE_SUCCESS;
	fin.checksum = sum;
	fin.bytesize = n;
	trace_sender_finish(ts, &fin);
	RUN_UNTIL(f, ev.done);
	assert_true(ev.delivered);
	assert_int_equal(server_nr_reqs(&f->srv), 3);
	body = req_json(&f->srv.reqs[2]);
	assert_string_equal(json_string_value(json_object_get(body, "checksum")),
			    want);
	json_decref(body);
	trace_sink_free(sink);
	trace_sender_free(ts);
}

/*
 * Milliseconds from the PATCH's answer (X-GitLab-Trace-Update-Interval: 1)
 * to the keep-alive PUT of a quiet job, with or without
 * FF_USE_DYNAMIC_TRACE_FORCE_SEND_INTERVAL (force_send_ms is 60 here).
 */
static long keepalive_after_ms(struct fixture *f, bool dynamic)
{
	static const char log1[] = "one line\n";
	struct trace_sender_options o = { 0 };
	struct trace_sender_events events = { 0 };
	struct sender_events ev = { 0 };
	struct trace_sender_final fin = { 0 };
	struct trace_options to = { 0 };
	struct trace_sender *ts;
	struct trace_sink *sink;
	struct buf err = BUF_INIT;
	struct timespec t0, t1;
	size_t n = sizeof(log1) - 1, base = server_nr_reqs(&f->srv);
	char sum[16];

	o.client = f->client;
	o.info = &f->info;
	o.job_id = 77;
	o.token = "glcbt-jobtoken";
	o.interval_ms = 10;
	o.force_send_ms = 60;
	o.final_backoff_ms = 1;
	o.dynamic_force_send = dynamic;
	events.on_done = on_sender_done;
	events.ctx = &ev;
	assert_int_equal(trace_sender_new(f->loop, &o, &events, &ts, &err), 0);
	sink = trace_sink_new(&to, trace_sender_consumer(ts));
	trace_sender_set_sink(ts, sink);
	assert_int_equal(trace_sink_write(sink, TRACE_STREAM_JOB, TRACE_STDOUT,
					  log1, n), 0);
	server_push(&f->srv, 202,
		    "Range: 0-9\r\nX-GitLab-Trace-Update-Interval: 1\r\n", NULL);
	server_push(&f->srv, 200, NULL, NULL);		/* the keep-alive */
	server_push(&f->srv, 200, NULL, NULL);		/* the final update */
	trace_sender_start(ts);
	RUN_UNTIL(f, trace_sender_sent(ts) == n);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	RUN_UNTIL(f, server_nr_reqs(&f->srv) == base + 2);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_string_equal(f->srv.reqs[base + 1].method, "PUT");

	assert_int_equal(trace_sink_finish(sink), 0);
	trace_sink_checksum(sink, sum);
	fin.state = GL_STATE_SUCCESS;
	fin.checksum = sum;
	fin.bytesize = n;
	trace_sender_finish(ts, &fin);
	RUN_UNTIL(f, ev.done);
	trace_sink_free(sink);
	trace_sender_free(ts);
	return (t1.tv_sec - t0.tv_sec) * 1000L +
	       (t1.tv_nsec - t0.tv_nsec) / 1000000L;
}

/*
 * gitlab-runner's setUpdateInterval: with the flag the keep-alive waits 4
 * times GitLab's interval (4 s here); without it force_send_ms (60 ms
 * here), checked at each 1 s tick.
 */
static void test_trace_sender_dynamic_force_send(void **state)
{
	struct fixture *f = *state;
	long fixed = keepalive_after_ms(f, false);
	long dynamic = keepalive_after_ms(f, true);

	if (fixed >= 2500 || dynamic < 3500 || dynamic >= 7000)
		print_error("fixed %ld ms, dynamic %ld ms\n", fixed, dynamic);
	assert_true(fixed < 2500);
	assert_true(dynamic >= 3500 && dynamic < 7000);
}

/*
 * Past memory_limit the log overflows to the file: a PATCH then takes its
 * start from the file and its end from memory, a 416 resends from the
 * file, and once the sender is past the file PATCHes go from memory again.
 * Every body is the log's bytes at its Content-Range.
 */
static void test_trace_sender_overflow(void **state)
{
	static const char *const pieces[] = {
		"0123456789",			/* memory */
		"abcdefghij",			/* the first goes to the file */
		"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",/* past the limit: the file */
		"tail\n",			/* memory */
	};
	static const char more[] = "more\n";
	struct fixture *f = *state;
	struct sender_events ev = { 0 };
	struct trace_sender *ts = sender_new(f, 16, &ev);
	struct trace_consumer c = trace_sender_consumer(ts);
	struct trace_sender_stats st;
	struct trace_sender_final fin = { 0 };
	struct buf log = BUF_INIT;
	char sum[16];
	json_t *body;
	size_t i;

	for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		assert_int_equal(c.write(c.ctx, pieces[i], strlen(pieces[i])),
				 0);
		(void)buf_addstr(&log, pieces[i]);
	}
	assert_int_equal(log.len, 55);
	st = trace_sender_stats(ts);
	assert_int_equal(st.file_written, 50);

	server_push(&f->srv, 416, "Range: 0-20\r\n", NULL);
	server_push(&f->srv, 202, "Range: 0-55\r\n", NULL);
	server_push(&f->srv, 202, "Range: 0-60\r\n", NULL);
	server_push(&f->srv, 200, NULL, NULL);		/* the final update */
	trace_sender_start(ts);
	RUN_UNTIL(f, trace_sender_sent(ts) == 55);
	assert_patch(&f->srv.reqs[0], "0-54", log.data, 55);
	/* The 416 said the server has 20 bytes: the rest again. */
	assert_patch(&f->srv.reqs[1], "20-54", log.data + 20, 35);
	st = trace_sender_stats(ts);
	assert_int_equal(st.patches_from_file, 2);
	assert_int_equal(st.patches_from_memory, 0);
	assert_int_equal(st.file_read, 50 + 30);

	assert_int_equal(c.write(c.ctx, more, strlen(more)), 0);
	(void)buf_addstr(&log, more);
	RUN_UNTIL(f, trace_sender_sent(ts) == 60);
	assert_patch(&f->srv.reqs[2], "55-59", log.data + 55, 5);
	st = trace_sender_stats(ts);
	assert_int_equal(st.patches_from_memory, 1);
	assert_int_equal(st.patches_from_file, 2);
	assert_int_equal(st.file_read, 80);
	assert_int_equal(st.file_written, 50);

	snprintf(sum, sizeof(sum), "crc32:%08x",
		 (unsigned int)crc32_update(CRC32_INIT, log.data, log.len));
	fin.state = GL_STATE_SUCCESS;
	fin.checksum = sum;
	fin.bytesize = log.len;
	trace_sender_finish(ts, &fin);
	RUN_UNTIL(f, ev.done);
	assert_true(ev.delivered);
	body = req_json(&f->srv.reqs[3]);
	assert_string_equal(json_string_value(json_object_get(body, "checksum")),
			    sum);
	json_decref(body);
	buf_release(&log);
	trace_sender_free(ts);
}

/*
 * At the overflow, mem keeps the bytes GitLab does not have yet: the next
 * PATCH still goes from memory.  Past 64 KiB, mem does not grow for bytes
 * GitLab already has: they go to the file instead.
 */
static void test_trace_sender_keeps_unsent(void **state)
{
	struct fixture *f = *state;
	struct sender_events ev = { 0 };
	struct trace_sender *ts = sender_new(f, 16, &ev);
	struct trace_consumer c = trace_sender_consumer(ts);
	struct trace_sender_stats st;
	char *big;

	assert_int_equal(c.write(c.ctx, "0123456789", 10), 0);
	server_push(&f->srv, 202, "Range: 0-10\r\n", NULL);
	server_push(&f->srv, 202, "Range: 0-19\r\n", NULL);
	trace_sender_start(ts);
	RUN_UNTIL(f, trace_sender_sent(ts) == 10);
	assert_int_equal(c.write(c.ctx, "abcd", 4), 0);
	/* 19 > 16: the 14 bytes go to the file, "abcd" stays in memory. */
	assert_int_equal(c.write(c.ctx, "efghi", 5), 0);
	st = trace_sender_stats(ts);
	assert_int_equal(st.file_written, 14);
	RUN_UNTIL(f, trace_sender_sent(ts) == 19);
	assert_patch(&f->srv.reqs[1], "10-18", "abcdefghi", 9);
	st = trace_sender_stats(ts);
	assert_int_equal(st.patches_from_memory, 2);
	assert_int_equal(st.patches_from_file, 0);
	assert_int_equal(st.file_read, 0);
	trace_sender_free(ts);

	/* The default limit: 64 KiB sent, then 8 KiB more. */
	ts = sender_new(f, 0, &ev);
	c = trace_sender_consumer(ts);
	big = malloc(64 << 10);
	memset(big, 'x', 64 << 10);
	assert_int_equal(c.write(c.ctx, big, 64 << 10), 0);
	server_push(&f->srv, 202, "Range: 0-65536\r\n", NULL);
	server_push(&f->srv, 202, "Range: 0-73728\r\n", NULL);
	trace_sender_start(ts);
	RUN_UNTIL(f, trace_sender_sent(ts) == 64 << 10);
	memset(big, 'y', 8 << 10);
	assert_int_equal(c.write(c.ctx, big, 8 << 10), 0);
	st = trace_sender_stats(ts);
	assert_int_equal(st.file_written, 64 << 10);
	RUN_UNTIL(f, trace_sender_sent(ts) == 72 << 10);
	assert_patch(&f->srv.reqs[3], "65536-73727", big, 8 << 10);
	st = trace_sender_stats(ts);
	assert_int_equal(st.patches_from_memory, 2);
	assert_int_equal(st.file_read, 0);
	free(big);
	trace_sender_free(ts);
}

/*
 * A big log with the default memory limit, sent from the file's chunk
 * buffer without a copy: a 416 at an odd offset and a trace reset (412 to
 * the final update) resend from the file; every body is the log's bytes at
 * its Content-Range.
 */
static void test_trace_sender_big_file(void **state)
{
	struct fixture *f = *state;
	struct sender_events ev = { 0 };
	struct trace_sender *ts = sender_new(f, 0, &ev);
	struct trace_consumer c = trace_sender_consumer(ts);
	struct trace_sender_stats st;
	struct trace_sender_final fin = { 0 };
	const size_t mib = (size_t)1 << 20, len = (5 * mib) / 2 + 123;
	const struct { size_t from, to; } want[] = {
		{ 0, mib }, { mib, 2 * mib },		/* 416: it has 777 */
		{ 777, 777 + mib }, { 777 + mib, 777 + 2 * mib },
		{ 777 + 2 * mib, len },			/* PUT: 412, reset */
		{ 0, mib }, { mib, 2 * mib }, { 2 * mib, len },
	};
	char *log = malloc(len), range[64], hdr[64], sum[16];
	size_t i, done, piece, nr_patch = 0;
	uint32_t x = 2463534242U;

	assert_non_null(log);
	for (i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		log[i] = (char)x;
	}
	/* Uneven pieces, some larger than the memory limit. */
	for (done = 0; done < len; done += piece) {
		piece = done % 3 ? 70001 : 300007;
		if (piece > len - done)
			piece = len - done;
		assert_int_equal(c.write(c.ctx, log + done, piece), 0);
	}
	assert_int_equal(trace_sender_size(ts), len);
	for (i = 0; i < sizeof(want) / sizeof(*want); i++) {
		if (i == 1) {
			server_push(&f->srv, 416, "Range: 0-777\r\n", NULL);
			continue;
		}
		snprintf(hdr, sizeof(hdr), "Range: 0-%zu\r\n", want[i].to);
		server_push(&f->srv, 202, hdr, NULL);
		if (i == 4)
			server_push(&f->srv, 412, NULL, NULL);
	}
	server_push(&f->srv, 200, NULL, NULL);		/* the final update */
	snprintf(sum, sizeof(sum), "crc32:%08x",
		 (unsigned int)crc32_update(CRC32_INIT, log, len));
	fin.state = GL_STATE_SUCCESS;
	fin.checksum = sum;
	fin.bytesize = len;
	trace_sender_finish(ts, &fin);
	RUN_UNTIL(f, ev.done);
	assert_true(ev.delivered);
	for (i = 0; i < (size_t)server_nr_reqs(&f->srv); i++) {
		if (strcmp(f->srv.reqs[i].method, "PATCH"))
			continue;
		assert_true(nr_patch < sizeof(want) / sizeof(*want));
		snprintf(range, sizeof(range), "%zu-%zu", want[nr_patch].from,
			 want[nr_patch].to - 1);
		assert_patch(&f->srv.reqs[i], range, log + want[nr_patch].from,
			     want[nr_patch].to - want[nr_patch].from);
		nr_patch++;
	}
	assert_int_equal(nr_patch, sizeof(want) / sizeof(*want));
	st = trace_sender_stats(ts);
	assert_true(st.patches_from_file >= 7);
	assert_true(st.file_written <= len);
	/* What the file lacks is in memory: a limit's worth at most. */
	assert_true(st.file_written + TRACE_SENDER_MEMORY_LIMIT >= len);
	free(log);
	trace_sender_free(ts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_url),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_retry_delay),
		cmocka_unit_test(test_range_and_identity),
		cmocka_unit_test(test_network_error_not_retried),
		cmocka_unit_test(test_bad_method_reported_later),
		cmocka_unit_test_setup_teardown(test_request_job_last_update,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_job_outcomes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_job_body_cap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_503_then_success,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_gives_up_after_5,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_retry_on_404,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_honoured,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_over_cap,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_bodies,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_classification,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_requests,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_classification,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_arguments,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle_calls,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_runner_call_sync,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_sender_dynamic_force_send,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_sender_memory,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_sender_overflow,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_sender_big_file,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_trace_sender_keeps_unsent,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
