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
#include "secrets/secret_call.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/url_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define AZURE_TIMEOUT_MS 60000L
#define AZURE_API_VERSION "7.5"
#define AZURE_DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define PREFIX "getting secret failed: "

struct azure_kv_op {
	struct secret_call call;
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
	json_t *root = secret_response_json(resp);
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

/* The secret's GET failed: no answer, or an error status. */
static void failed_get(struct azure_kv_op *op,
		       const struct gl_http_response *resp)
{
	struct buf why = BUF_INIT;

	if (!resp->status)
		(void)buf_addf(&why, PREFIX "GET %s: %s", op->url,
			       secret_transport_error(resp, "no answer"));
	else {
		(void)buf_addstr(&why, PREFIX);
		response_error(&why, "GET", op->url, resp);
	}
	secret_call_fail(&op->call, why.data);
	buf_release(&why);
}

static void on_secret(struct gl_http_response *resp, void *ctx)
{
	struct azure_kv_op *op = ctx;
	json_t *root, *v;
	char *value;

	op->call.req = NULL;
	if (resp->result != GL_OK || !resp->status) {
		failed_get(op, resp);
		return;
	}
	root = secret_response_json(resp);
	v = json_is_object(root) ? json_object_get(root, "value") : NULL;
	if (!json_is_string(v)) {
		gl_json_wipe_decref(root);
		secret_call_finish(&op->call, SECRET_NOT_FOUND, NULL, NULL);
		return;
	}
	value = xstrdup(json_string_value(v));
	gl_json_wipe_decref(root);
	secret_call_finish(&op->call, SECRET_OK, value, NULL);
	free_secret(value);
}

static void get_secret(struct azure_kv_op *op, bool with_token,
		       gl_http_cb cb)
{
	struct strvec headers = STRVEC_INIT;

	if (!with_token) {
		/* The challenge is a 401, not a failure to retry. */
		secret_call_send_once(&op->call, "GET", op->url, NULL, &headers,
				      cb);
		return;
	}
	strvec_pushf(&headers, "Authorization: Bearer %s", op->token);
	secret_call_send(&op->call, "GET", op->url, NULL, &headers, cb);
}

static void on_token(struct gl_http_response *resp, void *ctx)
{
	struct azure_kv_op *op = ctx;
	struct buf why = BUF_INIT;
	json_t *root;

	op->call.req = NULL;
	root = secret_response_json(resp);
	if (resp->result != GL_OK || !resp->status) {
		const char *e = json_string_value(json_object_get(root, "error"));
		const char *d = json_string_value(json_object_get(root,
							"error_description"));

		(void)buf_addstr(&why, PREFIX "ClientAssertionCredential: Authentication failed: ");
		if (!resp->status)
			(void)buf_addstr(&why, secret_transport_error(resp,
							       "no answer"));
		else
			(void)buf_addf(&why, "RESPONSE %ld %s: %s: %.*s",
				       resp->status,
				       reason_phrase(resp->status),
				       e ? e : "unknown_error",
				       /* its first line only */
				       d ? (int)strcspn(d, "\r\n") : 0,
				       d ? d : "");
		gl_json_wipe_decref(root);
		secret_call_fail(&op->call, why.data);
		buf_release(&why);
		return;
	}
	op->token = secret_json_token(root, "access_token");
	gl_json_wipe_decref(root);
	if (!op->token) {
		secret_call_fail(&op->call, PREFIX "ClientAssertionCredential: Authentication failed: no access_token in the answer");
		return;
	}
	get_secret(op, true, on_secret);
}

static void request_token(struct azure_kv_op *op, const char *resource)
{
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, body = BUF_INIT, scope = BUF_INIT;
	const char *authority = getenv("AZURE_AUTHORITY_HOST");

	(void)buf_addstr(&url, authority && *authority ? authority :
			 AZURE_DEFAULT_AUTHORITY);
	secret_trim_slashes(&url);
	(void)buf_addch(&url, '/');
	url_path_escape(&url, op->tenant_id);
	(void)buf_addstr(&url, "/oauth2/v2.0/token");
	(void)buf_addstr(&scope, resource);
	secret_trim_slashes(&scope);
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
	secret_call_send(&op->call, "POST", url.data, &body, &headers, on_token);
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

	op->call.req = NULL;
	if (resp->status != 401 || !www) {
		/* No challenge: the SDK fails the same way on any answer. */
		if (resp->result != GL_OK || !resp->status)
			failed_get(op, resp);
		else
			secret_call_fail(&op->call, PREFIX "the vault answered without asking for a token");
		return;
	}
	if (azure_kv_challenge_param(www, "resource", &resource) != 0 &&
	    azure_kv_challenge_param(www, "scope", &resource) != 0) {
		secret_call_fail(&op->call, PREFIX "the vault's challenge names no resource or scope");
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
		secret_call_fail(&op->call, why.data);
		buf_release(&why);
		buf_release(&resource);
		return;
	}
	free(host);
	request_token(op, resource.data);
	buf_release(&resource);
}

static void free_op(void *op)
{
	azure_kv_cancel(op);
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
	if (!secret_url_is_http(r->url)) {
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
	secret_call_init(&op->call, http, AZURE_TIMEOUT_MS, done, ctx,
			 free_op, op);
	(void)buf_addstr(&url, r->url);
	secret_trim_slashes(&url);
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
	secret_call_stop(&op->call);
	free(op->url);
	free(op->vault_host);
	free(op->tenant_id);
	free(op->client_id);
	free_secret(op->jwt);
	free_secret(op->token);
	free(op);
}
