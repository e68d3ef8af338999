/*
 * The Engine API transport: libcurl on dockerd's unix socket, one private
 * multi handle per api driven by the loop's fd watches and one timer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "executor/docker_api.h"
#include "util/error.h"
#include "util/curl_loop.h"
#include "util/limits.h"
#include "util/loop.h"
#include "util/tls_env.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct docker_api {
	struct loop *loop;
	struct curl_loop *cl;	/* the multi handle, driven by loop */
	char *host;		/* as given: unix:///path, tcp://h:p */
	char *socket_path;	/* unix://: the socket; NULL for tcp:// */
	char *base;		/* "http://docker" or "http(s)://h:p" */
	char *ca, *cert, *key;	/* TLS files, or NULL */
	int tls_verify;
	char version[16];
	struct docker_api_req *reqs;
};

struct docker_api_req {
	struct docker_api *api;
	struct docker_api_req *prev, *next;
	CURL *easy;
	struct curl_slist *headers;
	char *url, *body;
	size_t body_len;	/* wiped when freed: scripts hold secrets */
	int streaming;
	enum docker_stream_kind kind;
	struct docker_stream dec;
	docker_api_data_cb on_data;
	docker_api_cb cb;
	void *ctx;
	void *owned;		/* freed with the request */
	struct docker_api_response resp;
	char errbuf[CURL_ERROR_SIZE];
};

void docker_api_response_release(struct docker_api_response *resp)
{
	buf_release(&resp->body);
	buf_release(&resp->error);
}

void docker_api_describe(const struct docker_api_response *resp,
			 struct buf *out)
{
	json_t *j;
	const char *msg;

	if (!resp->status) {
		(void)buf_addstr(out, resp->error.len ? resp->error.data :
				 "no answer from the Docker engine");
		return;
	}
	j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	msg = json_string_value(json_object_get(j, "message"));
	if (msg && *msg)
		(void)buf_addstr(out, msg);
	else
		(void)buf_addf(out, "the Docker engine answered HTTP %ld",
			       resp->status);
	json_decref(j);
}

/* ---- the multiplexed stream ---- */

int docker_stream_feed(struct docker_stream *s, const char *data, size_t len,
		       docker_api_data_cb on_data, void *ctx)
{
	while (len) {
		size_t n;

		if (s->failed)
			return CR_ERR_PROTOCOL;
		if (s->left) {
			n = len < s->left ? len : s->left;
			on_data(ctx, s->is_stderr, data, n);
			data += n;
			len -= n;
			s->left -= (uint32_t)n;
			continue;
		}
		n = sizeof(s->head) - s->head_len;
		if (n > len)
			n = len;
		memcpy(s->head + s->head_len, data, n);
		s->head_len += n;
		data += n;
		len -= n;
		if (s->head_len < sizeof(s->head))
			break;
		s->head_len = 0;
		if (s->head[0] > 2 || s->head[1] || s->head[2] || s->head[3]) {
			s->failed = 1;
			return CR_ERR_PROTOCOL;
		}
		s->is_stderr = s->head[0] == 2;
		s->left = (uint32_t)s->head[4] << 24 | (uint32_t)s->head[5] << 16 |
			  (uint32_t)s->head[6] << 8 | (uint32_t)s->head[7];
	}
	return 0;
}

/* ---- libcurl callbacks ---- */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct docker_api_req *req = ctx;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	if (req->streaming && status >= 200 && status <= 299) {
		if (req->kind == DOCKER_STREAM_RAW) {
			req->on_data(req->ctx, 0, data, n);
			return n;
		}
		if (docker_stream_feed(&req->dec, data, n, req->on_data,
				       req->ctx) != 0) {
			buf_seterr(&req->resp.error,
				   "the Docker engine sent a stream that is not stdout/stderr frames");
			return 0;
		}
		return n;
	}
	if (req->resp.body.len + n > CR_MAX_HTTP_BODY)
		return n;	/* past the cap: the rest is dropped */
	(void)buf_add(&req->resp.body, data, n);
	return n;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ctx)
{
	struct docker_api_req *req = ctx;
	size_t n = size * nmemb, len = n;
	static const char name[] = "api-version:";

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > sizeof(name) - 1 &&
	    !strncasecmp(line, name, sizeof(name) - 1)) {
		const char *v = line + sizeof(name) - 1;
		size_t vl = len - (sizeof(name) - 1);

		while (vl && (*v == ' ' || *v == '\t')) {
			v++;
			vl--;
		}
		if (vl < sizeof(req->resp.api_version)) {
			memcpy(req->resp.api_version, v, vl);
			req->resp.api_version[vl] = '\0';
		}
	}
	return n;
}


/* ---- requests ---- */

static void req_unlink(struct docker_api_req *req)
{
	struct docker_api *api = req->api;

	if (req->prev)
		req->prev->next = req->next;
	else
		api->reqs = req->next;
	if (req->next)
		req->next->prev = req->prev;
	req->prev = req->next = NULL;
}

static void req_free(struct docker_api_req *req)
{
	struct curl_slist *h;

	if (req->easy)
		curl_easy_cleanup(req->easy);
	/* A registry auth header holds a password. */
	for (h = req->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(req->headers);
	free(req->url);
	if (req->body)
		memset(req->body, 0, req->body_len);
	free(req->body);
	free(req->owned);
	docker_api_response_release(&req->resp);
	free(req);
}

static void finish_req(struct docker_api_req *req, CURLcode code)
{
	struct docker_api_response *resp = &req->resp;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	if (code != CURLE_OK && !resp->error.len)
		buf_seterr(&resp->error, "cannot talk to the Docker engine at '%s': %s",
			   req->api->host,
			   req->errbuf[0] ? req->errbuf : curl_easy_strerror(code));
	/* A transfer cut short (stream error, timeout) is no answer. */
	if (code != CURLE_OK)
		resp->status = 0;
	req->cb(resp, req->ctx);
}

static struct docker_api_req *req_new_body(struct docker_api *api,
					   const char *method,
					   const char *path,
					   const char *ctype,
					   const void *body, size_t len,
					   long timeout_ms);

static struct docker_api_req *req_new(struct docker_api *api,
				      const char *method, const char *path,
				      const char *json, long timeout_ms)
{
	return req_new_body(api, method, path, json ? "application/json" :
			    NULL, json, json ? strlen(json) : 0, timeout_ms);
}

static struct docker_api_req *req_new_body(struct docker_api *api,
					   const char *method,
					   const char *path,
					   const char *ctype,
					   const void *body, size_t len,
					   long timeout_ms)
{
	struct docker_api_req *req = xcalloc(1, sizeof(*req));
	struct buf url = BUF_INIT;

	req->api = api;
	req->resp = (struct docker_api_response)DOCKER_API_RESPONSE_INIT;
	req->dec = (struct docker_stream)DOCKER_STREAM_INIT;
	if (!strcmp(path, "/_ping"))
		(void)buf_addf(&url, "%s%s", api->base, path);
	else
		(void)buf_addf(&url, "%s/v%s%s", api->base, api->version, path);
	req->url = buf_detach(&url, NULL);
	req->easy = curl_easy_init();
	if (!req->easy) {
		fprintf(stderr, "fatal: cannot create a libcurl handle\n");
		abort();
	}
	if (api->socket_path)
		curl_easy_setopt(req->easy, CURLOPT_UNIX_SOCKET_PATH,
				 api->socket_path);
	/* DOCKER_CERT_PATH's ca.pem, else SSL_CERT_FILE / SSL_CERT_DIR. */
	(void)tls_env_apply(req->easy, api->ca);
	if (api->cert)
		curl_easy_setopt(req->easy, CURLOPT_SSLCERT, api->cert);
	if (api->key)
		curl_easy_setopt(req->easy, CURLOPT_SSLKEY, api->key);
	if (!strncmp(api->base, "https:", 6) && !api->tls_verify) {
		/* docker's tls without tlsverify: encrypted, not verified */
		curl_easy_setopt(req->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(req->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	curl_easy_setopt(req->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(req->easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(req->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(req->easy, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(req->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(req->easy, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(req->easy, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(req->easy, CURLOPT_PRIVATE, req);
	curl_easy_setopt(req->easy, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	if (timeout_ms >= 0)
		curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS,
				 timeout_ms ? timeout_ms : DOCKER_API_TIMEOUT_MS);
	req->headers = curl_slist_append(NULL, "Expect:");
	if (ctype) {
		struct buf h = BUF_INIT;

		req->body = xmalloc(len + 1);
		req->body_len = len;
		memcpy(req->body, body, len);
		req->body[len] = '\0';
		(void)buf_addf(&h, "Content-Type: %s", ctype);
		req->headers = curl_slist_append(req->headers, h.data);
		buf_release(&h);
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(req->easy, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, req->headers);
	return req;
}

static struct docker_api_req *req_start(struct docker_api_req *req,
					docker_api_cb cb, void *ctx)
{
	struct docker_api *api = req->api;

	req->cb = cb;
	req->ctx = ctx;
	req->next = api->reqs;
	if (api->reqs)
		api->reqs->prev = req;
	api->reqs = req;
	/* libcurl starts it from its timer: never inside this call. */
	curl_multi_add_handle(curl_loop_multi(api->cl), req->easy);
	return req;
}

struct docker_api_req *docker_api_call(struct docker_api *api,
				       const char *method, const char *path,
				       const char *json, long timeout_ms,
				       docker_api_cb cb, void *ctx)
{
	return req_start(req_new(api, method, path, json, timeout_ms), cb, ctx);
}

struct docker_api_req *docker_api_call_body(struct docker_api *api,
					    const char *method,
					    const char *path,
					    const char *content_type,
					    const void *body, size_t len,
					    docker_api_cb cb, void *ctx)
{
	return req_start(req_new_body(api, method, path, content_type, body,
				      len, 0), cb, ctx);
}

struct docker_api_req *docker_api_stream(struct docker_api *api,
					 const char *method, const char *path,
					 const char *header,
					 enum docker_stream_kind kind,
					 docker_api_data_cb on_data,
					 docker_api_cb cb, void *ctx)
{
	struct docker_api_req *req = req_new(api, method, path, NULL, -1);

	if (header) {
		req->headers = curl_slist_append(req->headers, header);
		curl_easy_setopt(req->easy, CURLOPT_HTTPHEADER, req->headers);
	}

	req->streaming = 1;
	req->kind = kind;
	req->on_data = on_data;
	return req_start(req, cb, ctx);
}

void docker_api_cancel(struct docker_api_req *req)
{
	if (!req)
		return;
	curl_multi_remove_handle(curl_loop_multi(req->api->cl), req->easy);
	req_unlink(req);
	req_free(req);
}

struct negotiate {
	struct docker_api *api;
	docker_api_cb cb;
	void *ctx;
};

/* The engine's version when older than ours: the one both speak. */
static void adopt_version(struct docker_api *api,
			  const struct docker_api_response *resp)
{
	unsigned major = 0, minor = 0;

	if (resp->status == 200 &&
	    sscanf(resp->api_version, "%u.%u", &major, &minor) == 2 &&
	    major == DOCKER_API_MAX_MAJOR && minor >= DOCKER_API_MIN_MINOR &&
	    minor < DOCKER_API_MAX_MINOR)
		snprintf(api->version, sizeof(api->version), "%u.%u", major,
			 minor);
}

static void on_ping(struct docker_api_response *resp, void *ctx)
{
	struct negotiate *n = ctx;

	adopt_version(n->api, resp);
	n->cb(resp, n->ctx);
}

struct docker_api_req *docker_api_negotiate(struct docker_api *api,
					    docker_api_cb cb, void *ctx)
{
	struct negotiate *n = xcalloc(1, sizeof(*n));
	struct docker_api_req *req;

	n->api = api;
	n->cb = cb;
	n->ctx = ctx;
	req = req_new(api, "GET", "/_ping", NULL, 0);
	req->owned = n;
	return req_start(req, on_ping, n);
}

static void on_sync_done(struct docker_api_response *resp, void *ctx)
{
	struct docker_api_response *out = ctx;

	out->status = resp->status;
	memcpy(out->api_version, resp->api_version, sizeof(out->api_version));
	buf_reset(&out->body);
	(void)buf_add(&out->body, resp->body.data, resp->body.len);
	buf_reset(&out->error);
	(void)buf_add(&out->error, resp->error.data, resp->error.len);
}

int docker_api_call_sync(struct docker_api *api, const char *method,
			 const char *path, long timeout_ms,
			 struct docker_api_response *resp)
{
	struct docker_api_req *req = req_new(api, method, path, NULL,
					     timeout_ms);
	CURLcode code;

	/* A private easy transfer: the multi handle and loop stay untouched. */
	code = curl_easy_perform(req->easy);
	req->cb = on_sync_done;
	req->ctx = resp;
	finish_req(req, code);
	req_free(req);
	return 0;
}

int docker_api_negotiate_sync(struct docker_api *api,
			      struct docker_api_response *resp)
{
	docker_api_call_sync(api, "GET", "/_ping", 10000L, resp);
	adopt_version(api, resp);
	return resp->status == 200 ? 0 : CR_ERR_NETWORK;
}

/* ---- the client ---- */

/* A transfer ended (curl_loop removed it from the multi handle). */
static void on_transfer_done(void *ctx, CURL *easy, CURLcode code)
{
	struct docker_api_req *req = NULL;

	(void)ctx;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
	if (!req)
		return;
	req_unlink(req);
	finish_req(req, code);
	req_free(req);
}

int docker_api_url(const char *host, int tls, struct buf *base,
		   struct buf *socket_path, struct buf *err)
{
	const char *hp;
	size_t n;

	if (!strncmp(host, "unix://", 7)) {
		if (!host[7] || host[7] != '/') {
			buf_seterr(err, "docker host '%s' names no absolute socket path",
				   host);
			return CR_ERR_INVALID;
		}
		(void)buf_addstr(socket_path, host + 7);
		(void)buf_addstr(base, "http://docker");
		return 0;
	}
	if (strncmp(host, "tcp://", 6) && strncmp(host, "http://", 7) &&
	    strncmp(host, "https://", 8)) {
		buf_seterr(err, "docker host '%s' is not supported by crunner: unix://, tcp://, http:// or https:// are",
			   host);
		return CR_ERR_UNSUPPORTED;
	}
	hp = strstr(host, "://") + 3;
	n = strcspn(hp, "/");
	if (!n) {
		buf_seterr(err, "docker host '%s' names no address", host);
		return CR_ERR_INVALID;
	}
	if (!strncmp(host, "https://", 8))
		tls = 1;
	/* The engine's ports: 2375 plain, 2376 with TLS, as docker's CLI. */
	(void)buf_addf(base, "%s://%.*s", tls ? "https" : "http", (int)n, hp);
	if (!memchr(hp, ':', n) || (hp[0] == '[' && hp[n - 1] == ']'))
		(void)buf_addf(base, ":%d", tls ? 2376 : 2375);
	return 0;
}

static char *tls_file(const char *dir, const char *name)
{
	struct buf b = BUF_INIT;

	(void)buf_addf(&b, "%s/%s", dir, name);
	return buf_detach(&b, NULL);
}

int docker_api_new(struct loop *loop, const char *host,
		   const struct docker_api_tls *tls, struct docker_api **out,
		   struct buf *err)
{
	struct buf base = BUF_INIT, sock = BUF_INIT;
	struct docker_api *api;
	const char *cert_path = tls ? tls->cert_path : NULL;
	int verify = tls ? tls->verify : 0, r;

	if (!host || !*host)
		host = getenv("DOCKER_HOST");
	if (!host || !*host)
		host = DOCKER_DEFAULT_HOST;
	/* As docker's CLI: DOCKER_CERT_PATH and DOCKER_TLS_VERIFY. */
	if ((!cert_path || !*cert_path) && getenv("DOCKER_CERT_PATH") &&
	    *getenv("DOCKER_CERT_PATH"))
		cert_path = getenv("DOCKER_CERT_PATH");
	if (!verify && getenv("DOCKER_TLS_VERIFY") &&
	    *getenv("DOCKER_TLS_VERIFY"))
		verify = 1;
	if ((r = docker_api_url(host, verify || (cert_path && *cert_path &&
				strncmp(host, "unix://", 7)), &base, &sock,
				err)) != 0) {
		buf_release(&base);
		buf_release(&sock);
		return r;
	}
	api = xcalloc(1, sizeof(*api));
	api->loop = loop;
	api->host = xstrdup(host);
	api->base = buf_detach(&base, NULL);
	api->socket_path = sock.len ? buf_detach(&sock, NULL) : NULL;
	buf_release(&sock);
	if (!strncmp(api->base, "https:", 6)) {
		api->tls_verify = verify;
		if (cert_path && *cert_path) {
			api->ca = tls_file(cert_path, "ca.pem");
			api->cert = tls_file(cert_path, "cert.pem");
			api->key = tls_file(cert_path, "key.pem");
		}
	}
	snprintf(api->version, sizeof(api->version), "%d.%d",
		 DOCKER_API_MAX_MAJOR, DOCKER_API_MAX_MINOR);
	api->cl = curl_loop_new(loop, on_transfer_done, api);
	*out = api;
	return 0;
}

void docker_api_free(struct docker_api *api)
{
	if (!api)
		return;
	while (api->reqs)
		docker_api_cancel(api->reqs);
	curl_loop_free(api->cl);
	free(api->socket_path);
	free(api->host);
	free(api->base);
	free(api->ca);
	free(api->cert);
	free(api->key);
	free(api);
}

const char *docker_api_version(const struct docker_api *api)
{
	return api->version;
}

const char *docker_api_host(const struct docker_api *api)
{
	return api->host;
}
