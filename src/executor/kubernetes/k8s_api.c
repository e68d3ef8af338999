/*
 * Blocking requests to the Kubernetes API with libcurl.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "executor/kubernetes/k8s_api.h"
#include "util/error.h"
#include "util/limits.h"
#include "util/tls_env.h"
#include "util/xalloc.h"
#include "util/banned.h"
#include "version.h"

#define K8S_DEFAULT_TIMEOUT_MS 30000L

void k8s_response_release(struct k8s_response *r)
{
	buf_release(&r->body);
	buf_release(&r->error);
	r->status = 0;
}

void k8s_api_init(struct k8s_api *api, struct k8s_conn *conn,
		  const atomic_int *cancel)
{
	api->conn = *conn;
	k8s_conn_init(conn);
	api->cancel = cancel;
}

void k8s_api_release(struct k8s_api *api)
{
	k8s_conn_release(&api->conn);
}

/*
 * The client certificate and key (files, or PEM: the connection's, or the
 * exec plugin's current ones), and the bearer token into headers.
 */
static CURLcode setup_credentials(const struct k8s_conn *c, CURL *e,
				  struct curl_slist **headers,
				  unsigned *generation)
{
	struct buf cert = BUF_INIT, key = BUF_INIT;
	char *token = NULL;
	CURLcode cc = CURLE_OK;

	if (c->refresh) {
		k8s_cred_refresh_current(c->refresh, &token, &cert, &key,
					 generation);
	} else {
		(void)buf_add(&cert, c->cert_pem.data, c->cert_pem.len);
		(void)buf_add(&key, c->key_pem.data, c->key_pem.len);
		token = c->token ? xstrdup(c->token) : NULL;
	}
	if (cert.len) {
		struct curl_blob blob = { cert.data, cert.len,
					  CURL_BLOB_COPY };

		cc = curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		(void)curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	} else if (c->cert_file) {
		cc = curl_easy_setopt(e, CURLOPT_SSLCERT, c->cert_file);
	}
	if (cc == CURLE_OK && key.len) {
		struct curl_blob blob = { key.data, key.len, CURL_BLOB_COPY };

		cc = curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		(void)curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	} else if (cc == CURLE_OK && c->key_file) {
		cc = curl_easy_setopt(e, CURLOPT_SSLKEY, c->key_file);
	}
	if (token && headers) {
		struct buf h = BUF_INIT;

		(void)buf_addf(&h, "Authorization: Bearer %s", token);
		*headers = curl_slist_append(*headers, h.data);
		buf_release_secret(&h);
	}
	free_secret(token);
	buf_release(&cert);
	buf_release_secret(&key);
	return cc;
}

static CURLcode setup(const struct k8s_api *api, CURL *e,
		      struct curl_slist **headers, unsigned *generation)
{
	const struct k8s_conn *c = &api->conn;
	CURLcode cc = CURLE_OK;

	(void)curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	(void)curl_easy_setopt(e, CURLOPT_USERAGENT, "crunner/" CR_VERSION);
	if (c->insecure) {
		(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		(void)curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	} else if (c->ca_pem.len) {
		struct curl_blob blob = { c->ca_pem.data, c->ca_pem.len,
					  CURL_BLOB_COPY };

		cc = curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	} else {
		cc = tls_env_apply(e, c->ca_file);
	}
	if (cc == CURLE_OK)
		cc = setup_credentials(c, e, headers, generation);
	return cc;
}

CURLcode k8s_api_setup(const struct k8s_api *api, CURL *e,
		       struct curl_slist **headers)
{
	unsigned generation = 0;

	return setup(api, e, headers, &generation);
}

char *k8s_api_bearer(const struct k8s_api *api)
{
	unsigned generation = 0;
	char *token = NULL;

	if (api->conn.refresh)
		k8s_cred_refresh_current(api->conn.refresh, &token, NULL,
					 NULL, &generation);
	else if (api->conn.token)
		token = xstrdup(api->conn.token);
	return token;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct buf *b = ctx;
	size_t n = size * nmemb;

	if (b->len + n > CR_MAX_HTTP_BODY)
		return 0;
	(void)buf_add(b, data, n);
	return n;
}

static int on_progress(void *ctx, curl_off_t dt, curl_off_t dn,
		       curl_off_t ut, curl_off_t un)
{
	const atomic_int *cancel = ctx;

	(void)dt; (void)dn; (void)ut; (void)un;
	return cancel && atomic_load(cancel) ? 1 : 0;
}

static int call_once(const struct k8s_api *api, const char *method,
		     const char *path, const char *json, long timeout_ms,
		     struct k8s_response *resp, unsigned *generation)
{
	struct curl_slist *headers = NULL;
	struct buf url = BUF_INIT;
	char errbuf[CURL_ERROR_SIZE] = "";
	CURL *e;
	CURLcode cc;

	buf_reset(&resp->body);
	buf_reset(&resp->error);
	resp->status = 0;
	if (api->cancel && atomic_load(api->cancel))
		return CR_ERR_CANCELED;
	e = curl_easy_init();
	if (!e) {
		(void)buf_addstr(&resp->error, "cannot start a request");
		return 0;
	}
	(void)buf_addf(&url, "%s%s", api->conn.server, path);
	(void)curl_easy_setopt(e, CURLOPT_URL, url.data);
	(void)curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	(void)curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
	(void)curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ?
			       timeout_ms : K8S_DEFAULT_TIMEOUT_MS);
	(void)curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	(void)curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	(void)curl_easy_setopt(e, CURLOPT_WRITEDATA, &resp->body);
	(void)curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	(void)curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
	(void)curl_easy_setopt(e, CURLOPT_XFERINFODATA, (void *)api->cancel);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (json) {
		headers = curl_slist_append(headers,
					    "Content-Type: application/json");
		(void)curl_easy_setopt(e, CURLOPT_POSTFIELDS, json);
		(void)curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
				       (long)strlen(json));
	}
	cc = setup(api, e, &headers, generation);
	(void)curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
	if (cc == CURLE_OK)
		cc = curl_easy_perform(e);
	if (cc == CURLE_OK) {
		(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE,
					&resp->status);
	} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
		curl_easy_cleanup(e);
		curl_slist_free_all(headers);
		buf_release(&url);
		return CR_ERR_CANCELED;
	} else {
		(void)buf_addf(&resp->error, "%s %s: %s", method, url.data,
			       errbuf[0] ? errbuf : curl_easy_strerror(cc));
	}
	curl_easy_cleanup(e);
	curl_slist_free_all(headers);
	buf_release(&url);
	return 0;
}

int k8s_api_call(const struct k8s_api *api, const char *method,
		 const char *path, const char *json, long timeout_ms,
		 struct k8s_response *resp)
{
	unsigned generation = 0;
	int r = call_once(api, method, path, json, timeout_ms, resp,
			  &generation);

	/*
	 * client-go's exec authenticator: a 401 to the plugin's credential
	 * runs the plugin again, and the request goes once more.
	 */
	if (r == 0 && resp->status == 401 && api->conn.refresh) {
		k8s_cred_refresh_unauthorized(api->conn.refresh, generation);
		r = call_once(api, method, path, json, timeout_ms, resp,
			      &generation);
	}
	return r;
}

void k8s_api_describe(const struct k8s_response *resp, struct buf *out)
{
	json_t *j;
	const char *msg;

	if (!resp->status) {
		(void)buf_addstr(out, resp->error.len ? resp->error.data :
				 "no answer from the Kubernetes API");
		return;
	}
	j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	msg = json_string_value(json_object_get(j, "message"));
	if (msg && *msg)
		(void)buf_addf(out, "%s (HTTP %ld)", msg, resp->status);
	else
		(void)buf_addf(out, "the Kubernetes API answered HTTP %ld",
			       resp->status);
	json_decref(j);
}

void k8s_url_escape(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~')
			(void)buf_addch(out, (char)ch);
		else
			(void)buf_addf(out, "%%%c%c", hex[ch >> 4],
				       hex[ch & 15]);
	}
}

void k8s_core_path(struct buf *out, const char *ns, const char *resource,
		   const char *name)
{
	(void)buf_addstr(out, "/api/v1/namespaces/");
	k8s_url_escape(out, ns);
	(void)buf_addf(out, "/%s", resource);
	if (name) {
		(void)buf_addch(out, '/');
		k8s_url_escape(out, name);
	}
}
