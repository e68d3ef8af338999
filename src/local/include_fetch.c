/*
 * HTTP GET of included files with libcurl (gitlab/http.h, one attempt,
 * no retries: GitLab does not retry includes either) and the include
 * cache in --cache-dir.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gitlab/http.h"
#include "local/include_fetch.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

char *include_fetch_cache_path(const struct include_fetch *f, const char *key)
{
	unsigned char sum[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	struct buf b = BUF_INIT;

	if (!f->cache_dir)
		return NULL;
	sha256(key, strlen(key), sum);
	sha256_hex(sum, sizeof(sum), hex);
	(void)buf_addf(&b, "%s/includes/%s.yml", f->cache_dir, hex);
	return buf_detach(&b, NULL);
}

static int cache_read(const char *path, struct buf *body)
{
	FILE *fp = fopen(path, "r");
	char chunk[8192];
	size_t n;

	if (!fp)
		return CR_ERR_NOT_FOUND;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (body->len + n > INCLUDE_FETCH_MAX) {
			fclose(fp);
			return CR_ERR_TOO_LARGE;
		}
		(void)buf_add(body, chunk, n);
	}
	fclose(fp);
	return 0;
}

/*
 * Writes the copy through a temporary file and a rename, so a run that
 * stops half-way never leaves half a file for --offline to read.  A cache
 * that cannot be written does not fail the run: the file was fetched.
 */
static void cache_write(const char *path, const struct buf *body)
{
	struct buf tmp = BUF_INIT, ignored = BUF_INIT;
	int fd;
	bool ok;

	if (fs_make_parent_dirs(path, 0700, &ignored)) {
		buf_release(&ignored);
		return;
	}
	buf_release(&ignored);
	(void)buf_addf(&tmp, "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		buf_release(&tmp);
		return;
	}
	ok = write(fd, body->data, body->len) == (ssize_t)body->len;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp.data, path) != 0)
		(void)unlink(tmp.data);
	buf_release(&tmp);
}

/* What an error answer says: its JSON "message"/"error", else its text. */
static void server_said(const struct gl_http_response *resp, struct buf *out)
{
	json_t *j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	const char *msg = NULL;
	size_t i, n;

	if (j && json_is_object(j)) {
		json_t *m = json_object_get(j, "message");

		if (!m)
			m = json_object_get(j, "error");
		if (json_is_string(m))
			msg = json_string_value(m);
		else if (m) {
			char *dump = json_dumps(m, JSON_COMPACT);

			if (dump)
				(void)buf_addf(out, ": %.200s", dump);
			free(dump);
		}
	}
	if (msg) {
		(void)buf_addf(out, ": %.200s", msg);
	} else if (!j && resp->body.len) {
		/* The first line of a text answer, printable bytes only. */
		(void)buf_addstr(out, ": ");
		for (i = 0, n = 0; i < resp->body.len && n < 200; i++, n++) {
			char c = resp->body.data[i];

			if (c == '\n' || c == '\r')
				break;
			(void)buf_addch(out, c >= 0x20 && c < 0x7f ? c : '?');
		}
	}
	json_decref(j);
}

int include_fetch_get(const struct include_fetch *f, const char *url,
		      const char *key, unsigned flags, struct buf *body,
		      struct buf *err)
{
	struct gl_http_request req = { 0 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct gl_http_options opts = { 0 };
	struct strvec headers = STRVEC_INIT;
	struct buf said = BUF_INIT;
	char *token_line = NULL;
	char *cached = include_fetch_cache_path(f, key);
	int r;

	if (f->offline) {
		r = cached ? cache_read(cached, body) : CR_ERR_NOT_FOUND;
		if (r == CR_ERR_NOT_FOUND)
			buf_seterr(err, "not in the include cache%s%s (--offline)",
				   cached ? " " : "", cached ? cached : "");
		else if (r)
			buf_seterr(err, "the cached copy '%s' is larger than %zu bytes",
				   cached, INCLUDE_FETCH_MAX);
		free(cached);
		return r;
	}
	if ((flags & INCLUDE_FETCH_TOKEN) && f->token && *f->token) {
		struct buf h = BUF_INIT;

		(void)buf_addf(&h, "PRIVATE-TOKEN: %s", f->token);
		token_line = buf_detach(&h, NULL);
		strvec_push_nodup(&headers, token_line);
	}
	opts.max_attempts = 1;
	req.method = "GET";
	req.url = url;
	req.headers = &headers;
	req.max_response = INCLUDE_FETCH_MAX;
	req.no_retry = true;
	/* A web server may redirect (GitLab follows); the API is not asked
	 * to, and the token must not travel to wherever it would point. */
	req.follow_redirects = !(flags & INCLUDE_FETCH_TOKEN);
	req.timeout_ms = (f->timeout_s > 0 ? f->timeout_s :
			  INCLUDE_FETCH_TIMEOUT_S) * 1000;
	(void)gl_http_perform_sync(&opts, &req, &resp);
	switch (resp.result) {
	case GL_OK:
		(void)buf_add(body, resp.body.data, resp.body.len);
		if (cached)
			cache_write(cached, body);
		r = 0;
		break;
	case GL_TOO_LARGE:
		buf_seterr(err, "the answer is larger than %zu bytes",
			   INCLUDE_FETCH_MAX);
		r = CR_ERR_TOO_LARGE;
		break;
	default:
		if (!resp.status) {
			buf_seterr(err, "no answer: %s", resp.error.len ?
				   resp.error.data : gl_result_name(resp.result));
			r = CR_ERR_NETWORK;
			break;
		}
		server_said(&resp, &said);
		buf_seterr(err, "HTTP %ld%s", resp.status, said.data);
		r = resp.status == 404 ? CR_ERR_NOT_FOUND :
			resp.status == 401 || resp.status == 403 ? CR_ERR_AUTH :
			resp.status >= 500 ? CR_ERR_NETWORK : CR_ERR_PROTOCOL;
		break;
	}
	if (token_line)
		explicit_bzero(token_line, strlen(token_line));
	strvec_clear(&headers);
	gl_http_response_release(&resp);
	buf_release(&said);
	free(cached);
	return r;
}
