/*
 * Azure Key Vault (see azure_key_vault.h): challenge, client assertion
 * token, authenticated GET, on the loop.  Error texts start as the SDK's
 * ("getting secret failed: GET <url>", "RESPONSE 404: 404 Not Found",
 * "ERROR CODE: SecretNotFound"), on one line; none holds the JWT, the
 * access token or the value.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "gitlab/gl_json.h"
#include "gitlab/http.h"
#include "secrets/azure_key_vault.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/url_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define AZURE_TIMEOUT_MS 60000L
#define AZURE_MAX_RESPONSE ((size_t)1 << 20)
#define AZURE_API_VERSION "7.5"
#define AZURE_DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define PREFIX "getting secret failed: "

struct azure_kv_op {
	struct gl_http *http;
	struct gl_http_req *req;
	secret_done_cb done;
	void *ctx;
	char *url;		/* the secret's GET URL */
	char *vault_host;	/* host of the vault URL, for the challenge */
	char *tenant_id, *client_id;
	char *jwt;		/* secret */
	char *token;		/* secret: the access token */
};

int azure_kv_challenge_param(const char *challenge, const char *name,
			     struct buf *out)
{
	size_t n = strlen(name);
	const char *p = challenge;

	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (!strncasecmp(p, "Bearer ", 7)) {
			p += 7;
			continue;
		}
		if (!strncasecmp(p, name, n) && p[n] == '=') {
			const char *v = p + n + 1, *end;

			if (*v == '"') {
				v++;
				end = strchr(v, '"');
			} else {
				end = v + strcspn(v, ", ");
			}
			if (!end)
				end = v + strlen(v);
			(void)buf_add(out, v, (size_t)(end - v));
			return 0;
		}
		/* the next parameter: past this one's value */
		p += strcspn(p, "=,");
		if (*p == '=') {
			p++;
			if (*p == '"') {
				p = strchr(p + 1, '"');
				if (p)
					p++;
			} else {
				p += strcspn(p, ",");
			}
		}
	}
	return -1;
}

/* The host of an URL, without user info or port. */
static char *url_hostname(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	if (memchr(p, ':', (size_t)(end - p)))
		end = memchr(p, ':', (size_t)(end - p));
	return xstrndup(p, (size_t)(end - p));
}

/* Whether host is domain or a subdomain of it (the SDK's check). */
static bool host_in_domain(const char *host, const char *domain)
{
	size_t h = strlen(host), d = strlen(domain);

	if (h == d)
		return !strcasecmp(host, domain);
	return h > d && host[h - d - 1] == '.' &&
	       !strcasecmp(host + h - d, domain);
}

static void finish(struct azure_kv_op *op, enum secret_outcome outcome,
		   const char *value, const char *error)
{
	secret_done_cb done = op->done;
	void *ctx = op->ctx;

	op->req = NULL;
	azure_kv_cancel(op);
	done(ctx, outcome, value, error);
}

static void fail_text(struct azure_kv_op *op, const char *text)
{
	finish(op, SECRET_SYSTEM_ERROR, NULL, text);
}

static const char *reason_phrase(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "";
	}
}

/* "GET <url>: RESPONSE 404: 404 Not Found: ERROR CODE: X: message". */
static void response_error(struct buf *out, const char *method,
			   const char *url, const struct gl_http_response *resp)
{
	json_t *root = json_loadb(resp->body.data ? resp->body.data : "",
				  resp->body.len, 0, NULL);
	json_t *e = json_is_object(root) ? json_object_get(root, "error") : NULL;
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	(void)buf_addf(out, "%s %s: RESPONSE %ld: %ld %s: ERROR CODE: %s", method,
		       url, resp->status, resp->status,
		       reason_phrase(resp->status), code ? code : "UNAVAILABLE");
	if (msg)
		(void)buf_addf(out, ": %s", msg);
	json_decref(root);
}

static void on_secret(struct gl_http_response *resp, void *ctx)
{
	struct azure_kv_op *op = ctx;
	struct buf why = BUF_INIT;
	json_t *root, *v;
	char *value;

	op->req = NULL;
	if (!resp->status) {
		(void)buf_addf(&why, PREFIX "GET %s: %s", op->url,
			       resp->error.len ? resp->error.data : "no answer");
		fail_text(op, why.data);
		buf_release(&why);
		return;
	}
	if (resp->result != GL_OK) {
		(void)buf_addstr(&why, PREFIX);
		response_error(&why, "GET", op->url, resp);
		fail_text(op, why.data);
		buf_release(&why);
		return;
	}
	root = json_loadb(resp->body.data ? resp->body.data : "",
			  resp->body.len, 0, NULL);
	v = json_is_object(root) ? json_object_get(root, "value") : NULL;
	if (!json_is_string(v)) {
		gl_json_wipe_decref(root);
		finish(op, SECRET_NOT_FOUND, NULL, NULL);
		return;
	}
	value = xstrdup(json_string_value(v));
	gl_json_wipe_decref(root);
	finish(op, SECRET_OK, value, NULL);
	free_secret(value);
}

static void get_secret(struct azure_kv_op *op, bool with_token,
		       gl_http_cb cb)
{
	struct gl_http_request req = { 0 };
	struct strvec headers = STRVEC_INIT;
	size_t i;

	if (with_token)
		strvec_pushf(&headers, "Authorization: Bearer %s", op->token);
	req.method = "GET";
	req.url = op->url;
	req.headers = &headers;
	req.max_response = AZURE_MAX_RESPONSE;
	req.timeout_ms = AZURE_TIMEOUT_MS;
	/* The challenge is a 401, not a failure to retry. */
	req.no_retry = !with_token;
	op->req = gl_http_start(op->http, &req, cb, op);
	for (i = 0; i < headers.nr; i++)
		explicit_bzero((char *)headers.v[i], strlen(headers.v[i]));
	strvec_clear(&headers);
}

static void on_token(struct gl_http_response *resp, void *ctx)
{
	struct azure_kv_op *op = ctx;
	struct buf why = BUF_INIT;
	json_t *root, *t;

	op->req = NULL;
	root = json_loadb(resp->body.data ? resp->body.data : "",
			  resp->body.len, 0, NULL);
	if (resp->result != GL_OK || !resp->status) {
		const char *e = json_string_value(json_object_get(root, "error"));
		const char *d = json_string_value(json_object_get(root,
							"error_description"));

		(void)buf_addstr(&why, PREFIX "ClientAssertionCredential: Authentication failed: ");
		if (!resp->status)
			(void)buf_addstr(&why, resp->error.len ?
					 resp->error.data : "no answer");
		else
			(void)buf_addf(&why, "RESPONSE %ld %s: %s: %.*s",
				       resp->status,
				       reason_phrase(resp->status),
				       e ? e : "unknown_error",
				       /* its first line only */
				       d ? (int)strcspn(d, "\r\n") : 0,
				       d ? d : "");
		gl_json_wipe_decref(root);
		fail_text(op, why.data);
		buf_release(&why);
		return;
	}
	t = json_is_object(root) ? json_object_get(root, "access_token") : NULL;
	if (!json_is_string(t) || !*json_string_value(t)) {
		gl_json_wipe_decref(root);
		fail_text(op, PREFIX "ClientAssertionCredential: Authentication failed: no access_token in the answer");
		return;
	}
	op->token = xstrdup(json_string_value(t));
	gl_json_wipe_decref(root);
	get_secret(op, true, on_secret);
}

static void request_token(struct azure_kv_op *op, const char *resource)
{
	struct gl_http_request req = { 0 };
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, body = BUF_INIT, scope = BUF_INIT;
	const char *authority = getenv("AZURE_AUTHORITY_HOST");

	(void)buf_addstr(&url, authority && *authority ? authority :
			 AZURE_DEFAULT_AUTHORITY);
	while (url.len && url.data[url.len - 1] == '/')
		buf_setlen(&url, url.len - 1);
	(void)buf_addch(&url, '/');
	url_path_escape(&url, op->tenant_id);
	(void)buf_addstr(&url, "/oauth2/v2.0/token");
	(void)buf_addstr(&scope, resource);
	while (scope.len && scope.data[scope.len - 1] == '/')
		buf_setlen(&scope, scope.len - 1);
	(void)buf_addstr(&scope, "/.default");
	(void)buf_addstr(&body, "client_assertion=");
	url_query_escape(&body, op->jwt);
	(void)buf_addstr(&body, "&client_assertion_type=");
	url_query_escape(&body, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
	(void)buf_addstr(&body, "&client_id=");
	url_query_escape(&body, op->client_id);
	(void)buf_addstr(&body, "&grant_type=client_credentials&scope=");
	url_query_escape(&body, scope.data);
	strvec_push(&headers, "Content-Type: application/x-www-form-urlencoded");
	req.method = "POST";
	req.url = url.data;
	req.headers = &headers;
	req.body = body.data;
	req.body_len = body.len;
	req.max_response = AZURE_MAX_RESPONSE;
	req.timeout_ms = AZURE_TIMEOUT_MS;
	op->req = gl_http_start(op->http, &req, on_token, op);
	strvec_clear(&headers);
	buf_release(&url);
	buf_release_secret(&body);
	buf_release(&scope);
}

/* The unauthenticated GET's answer: the vault's challenge. */
static void on_challenge(struct gl_http_response *resp, void *ctx)
{
	struct azure_kv_op *op = ctx;
	struct buf resource = BUF_INIT, why = BUF_INIT;
	const char *www = gl_http_response_header(resp, "WWW-Authenticate");
	char *host;

	op->req = NULL;
	if (resp->status != 401 || !www) {
		/* No challenge: the SDK fails the same way on any answer. */
		if (!resp->status)
			(void)buf_addf(&why, PREFIX "GET %s: %s", op->url,
				       resp->error.len ? resp->error.data :
				       "no answer");
		else if (resp->result != GL_OK) {
			(void)buf_addstr(&why, PREFIX);
			response_error(&why, "GET", op->url, resp);
		} else
			(void)buf_addstr(&why, PREFIX "the vault answered without asking for a token");
		fail_text(op, why.data);
		buf_release(&why);
		return;
	}
	if (azure_kv_challenge_param(www, "resource", &resource) != 0 &&
	    azure_kv_challenge_param(www, "scope", &resource) != 0) {
		fail_text(op, PREFIX "the vault's challenge names no resource or scope");
		buf_release(&resource);
		return;
	}
	if (resource.len > 9 &&
	    !strcmp(resource.data + resource.len - 9, "/.default"))
		buf_setlen(&resource, resource.len - 9);
	host = url_hostname(resource.data);
	if (!host_in_domain(op->vault_host, host)) {
		(void)buf_addf(&why, PREFIX "challenge resource '%s' doesn't match the requested domain. Set DisableChallengeResourceVerification to true in your client options to disable. See https://aka.ms/azsdk/blog/vault-uri for more information",
			       host);
		free(host);
		fail_text(op, why.data);
		buf_release(&why);
		buf_release(&resource);
		return;
	}
	free(host);
	request_token(op, resource.data);
	buf_release(&resource);
}

struct azure_kv_op *azure_kv_resolve(struct gl_http *http,
				     const struct azure_kv_request *r,
				     secret_done_cb done, void *ctx,
				     enum secret_outcome *outcome,
				     struct buf *err)
{
	struct azure_kv_op *op;
	struct buf url = BUF_INIT, path = BUF_INIT;

	*outcome = SECRET_SYSTEM_ERROR;
	if (!r->url || (strncmp(r->url, "https://", 8) != 0 &&
			strncmp(r->url, "http://", 7) != 0)) {
		buf_seterr(err, "initializing azure key Vault service: the vault URL \"%s\" is not an https URL",
			   r->url ? r->url : "");
		return NULL;
	}
	if (!r->tenant_id || !*r->tenant_id) {
		buf_seterr(err, "getting credential failed: invalid tenantID. You can locate your tenantID by following the instructions listed here: https://learn.microsoft.com/partner-center/find-ids-and-domain-names");
		return NULL;
	}
	if (!r->name || !*r->name) {
		buf_seterr(err, PREFIX "parameter name cannot be empty");
		return NULL;
	}
	op = xcalloc(1, sizeof(*op));
	op->http = http;
	op->done = done;
	op->ctx = ctx;
	(void)buf_addstr(&url, r->url);
	while (url.len && url.data[url.len - 1] == '/')
		buf_setlen(&url, url.len - 1);
	(void)buf_addf(&path, "/secrets/%s/%s", r->name,
		       r->version ? r->version : "");
	url_path_escape(&url, path.data);
	(void)buf_addstr(&url, "?api-version=" AZURE_API_VERSION);
	op->url = buf_detach(&url, NULL);
	op->vault_host = url_hostname(r->url);
	op->tenant_id = xstrdup(r->tenant_id);
	op->client_id = xstrdup(r->client_id ? r->client_id : "");
	op->jwt = xstrdup(r->jwt ? r->jwt : "");
	buf_release(&path);
	get_secret(op, false, on_challenge);
	return op;
}

void azure_kv_cancel(struct azure_kv_op *op)
{
	if (!op)
		return;
	if (op->req)
		gl_http_cancel(op->req);
	free(op->url);
	free(op->vault_host);
	free(op->tenant_id);
	free(op->client_id);
	free_secret(op->jwt);
	free_secret(op->token);
	free(op);
}
