/*
 * HashiCorp Vault: JWT login, then one read (see vault.h).  The error
 * texts follow gitlab-runner's wrapping ("initializing Vault service:
 * preparing authenticated client: ...", "reading secret: reading from
 * Vault: api error: status code 403: permission denied"), so a job log
 * reads the same after a swap; none of them ever holds a value, a token
 * or the JWT.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gitlab/gl_json.h"
#include "gitlab/http.h"
#include "secrets/secret_call.h"
#include "secrets/vault.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/url_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* The Go client's defaults: 60 s a request, 2 retries of a 5xx. */
#define VAULT_TIMEOUT_MS 60000L
#define VAULT_MAX_ATTEMPTS 3
/* How much of a non-JSON error body goes into the job's error line. */
#define VAULT_RAW_ERROR_MAX 200

#define LOGIN_PREFIX "initializing Vault service: preparing authenticated client: "
/* The texts of the two resolvers that read through this client. */
#define VAULT_READ_PREFIX "reading secret: "
#define GSM_READ_PREFIX "getting secret: get secret data: "

enum vault_engine { ENGINE_KV_V2, ENGINE_GENERIC };

struct vault_op {
	struct secret_call call;
	char *base;		/* server URL without a trailing '/' */
	char *namespace;
	char *engine_name;
	enum vault_engine engine;
	bool engine_known;
	struct buf read_path;	/* "<engine path>/data/<path>", cleaned */
	char *field;
	char *token;		/* secret: the client token */
	/* GitLab's secrets manager: the inline auth headers (secret), and
	 * its resolver's rules for the field. */
	bool gsm;
	struct strvec inline_headers;
};

/* ---- paths ---- */

static void push_elements(struct strvec *parts, const char *s)
{
	const char *p = s, *e;

	if (!s)
		return;
	while (*p) {
		size_t n;

		e = strchr(p, '/');
		n = e ? (size_t)(e - p) : strlen(p);
		if (n == 0 || (n == 1 && p[0] == '.')) {
			/* empty or "." */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (parts->nr) {
				free((char *)parts->v[parts->nr - 1]);
				parts->v[--parts->nr] = NULL;
			}
		} else {
			strvec_push_nodup(parts, xstrndup(p, n));
		}
		p += n;
		if (*p == '/')
			p++;
	}
}

void vault_path_join(struct buf *out, const char *a, const char *b,
		     const char *c)
{
	struct strvec parts = STRVEC_INIT;
	size_t i;

	push_elements(&parts, a);
	push_elements(&parts, b);
	push_elements(&parts, c);
	for (i = 0; i < parts.nr; i++)
		(void)buf_addf(out, "%s%s", i ? "/" : "", parts.v[i]);
	strvec_clear(&parts);
}

/* The request URL: the server's, "/v1/" and the API path, escaped. */
static void api_url(const struct vault_op *op, const char *api_path,
		    struct buf *url)
{
	struct buf path = BUF_INIT;

	(void)buf_addf(&path, "/v1/%s", api_path);
	(void)buf_addstr(url, op->base);
	url_path_escape(url, path.data);
	buf_release(&path);
}

static void request_headers(const struct vault_op *op, struct strvec *h,
			    bool with_token)
{
	strvec_push(h, "X-Vault-Request: true");
	if (op->namespace && *op->namespace)
		strvec_pushf(h, "X-Vault-Namespace: %s", op->namespace);
	if (with_token && op->token && *op->token)
		strvec_pushf(h, "X-Vault-Token: %s", op->token);
	for (size_t i = 0; i < op->inline_headers.nr; i++)
		strvec_push(h, op->inline_headers.v[i]);
}

/* An inline auth parameter: base64url, unpadded, of {"key":..,"value":..}. */
static void inline_parameter(struct strvec *h, const char *key,
			     const char *value)
{
	struct buf json = BUF_INIT, b64 = BUF_INIT;
	size_t i;

	gl_json_open(&json, NULL);
	gl_json_str(&json, "key", key);
	gl_json_str(&json, "value", value);
	gl_json_close(&json);
	base64_encode(&b64, json.data, json.len);
	while (b64.len && b64.data[b64.len - 1] == '=')
		buf_setlen(&b64, b64.len - 1);
	for (i = 0; i < b64.len; i++)
		if (b64.data[i] == '+')
			b64.data[i] = '-';
		else if (b64.data[i] == '/')
			b64.data[i] = '_';
	strvec_pushf(h, "X-Vault-Inline-Auth-Parameter-%s: %s", key, b64.data);
	buf_release_secret(&json);
	buf_release_secret(&b64);
}

/* ---- answers ---- */

/* "api error: status code N: <errors joined by ', '>", as the Go client's. */
static void api_error(struct buf *out, const struct gl_http_response *resp)
{
	json_t *root, *errors, *e;
	size_t i, n = 0;

	(void)buf_addf(out, "api error: status code %ld: ", resp->status);
	root = secret_response_json(resp);
	errors = json_is_object(root) ? json_object_get(root, "errors") : NULL;
	if (json_is_array(errors)) {
		json_array_foreach(errors, i, e)
			if (json_is_string(e))
				(void)buf_addf(out, "%s%s", n++ ? ", " : "",
					       json_string_value(e));
	} else if (resp->body.len) {
		size_t len = resp->body.len;

		while (len && (resp->body.data[len - 1] == '\n' ||
			       resp->body.data[len - 1] == '\r' ||
			       resp->body.data[len - 1] == ' '))
			len--;
		(void)buf_add(out, resp->body.data,
			      len > VAULT_RAW_ERROR_MAX ? VAULT_RAW_ERROR_MAX :
			      len);
	}
	json_decref(root);
}

/* The class of a failed answer (gitlab-runner's classifyError()). */
static enum secret_outcome classify(const struct gl_http_response *resp)
{
	long s = resp->status;

	if (s == 400 || s == 401 || s == 403 || s == 404)
		return SECRET_CONFIG_ERROR;
	if (s >= 500)
		return SECRET_EXTERNAL_ERROR;
	return SECRET_SYSTEM_ERROR;
}

/* Why a request failed: the API's error text, or why there is no answer. */
static void failure_text(struct buf *out, const struct gl_http_response *resp)
{
	if (resp->status)
		api_error(out, resp);
	else
		(void)buf_addstr(out, secret_transport_error(resp,
							     "no answer from Vault"));
}

static void finish(struct vault_op *op, enum secret_outcome outcome,
		   const char *value, const char *error)
{
	secret_call_finish(&op->call, outcome, value, error);
}

static void fail(struct vault_op *op, enum secret_outcome outcome,
		 const char *prefix, const struct gl_http_response *resp)
{
	struct buf why = BUF_INIT;

	(void)buf_addstr(&why, prefix);
	failure_text(&why, resp);
	finish(op, outcome, NULL, why.data);
	buf_release(&why);
}

/* The field's value as gitlab-runner's fmt "%v" shows JSON values. */
static char *value_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_true(v))
		return xstrdup("true");
	if (json_is_false(v))
		return xstrdup("false");
	{
		char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		char *copy = xstrdup(dump ? dump : "");

		free(dump);
		return copy;
	}
}

/* Go's %T of a JSON value the Vault client decoded (UseNumber). */
static const char *go_type(json_t *v)
{
	if (!v || json_is_null(v))
		return "<nil>";
	if (json_is_boolean(v))
		return "bool";
	if (json_is_number(v))
		return "json.Number";
	if (json_is_array(v))
		return "[]interface {}";
	return "map[string]interface {}";
}

/* GitLab's secrets manager: the field must be there and hold a string. */
static void gsm_field(struct vault_op *op, json_t *root, json_t *data)
{
	json_t *v = json_object_get(data, op->field);
	struct buf why = BUF_INIT;
	char *value;

	if (!v)
		(void)buf_addf(&why, "getting secret: field \"%s\" not found in secret",
			       op->field);
	else if (!json_is_string(v))
		(void)buf_addf(&why, "getting secret: field \"%s\" has invalid type %s (expected string)",
			       op->field, go_type(v));
	if (why.len) {
		gl_json_wipe_decref(root);
		finish(op, SECRET_SYSTEM_ERROR, NULL, why.data);
		buf_release(&why);
		return;
	}
	value = xstrdup(json_string_value(v));
	gl_json_wipe_decref(root);
	finish(op, SECRET_OK, value, NULL);
	free_secret(value);
}

static void on_read(struct gl_http_response *resp, void *ctx)
{
	struct vault_op *op = ctx;
	json_t *root = NULL, *data, *v;
	char *value;

	op->call.req = NULL;
	/* A 404 is the Go client's "no secret" (nil, nil). */
	if (resp->status == 404) {
		finish(op, SECRET_NOT_FOUND, NULL, NULL);
		return;
	}
	if (resp->result != GL_OK) {
		/* gitlab-runner's GitLab resolver does not classify. */
		fail(op, resp->status && !op->gsm ? classify(resp) :
		     SECRET_SYSTEM_ERROR, op->gsm ?
		     GSM_READ_PREFIX "reading from Vault: " :
		     VAULT_READ_PREFIX "reading from Vault: ", resp);
		return;
	}
	root = secret_response_json(resp);
	if (!json_is_object(root)) {
		gl_json_wipe_decref(root);
		finish(op, SECRET_SYSTEM_ERROR, NULL, op->gsm ?
		       GSM_READ_PREFIX "reading from Vault: the answer is not a JSON object" :
		       VAULT_READ_PREFIX "reading from Vault: the answer is not a JSON object");
		return;
	}
	data = json_object_get(root, "data");
	if (op->engine == ENGINE_KV_V2 && json_is_object(data)) {
		data = json_object_get(data, "data");
		if (data && !json_is_null(data) && !json_is_object(data)) {
			struct buf why = BUF_INIT;

			(void)buf_addf(&why, "%sdata for key %s cannot be coerced to 'map[string]any'",
				       op->gsm ? GSM_READ_PREFIX :
				       VAULT_READ_PREFIX, op->read_path.data);
			gl_json_wipe_decref(root);
			finish(op, SECRET_SYSTEM_ERROR, NULL, why.data);
			buf_release(&why);
			return;
		}
	}
	if (op->gsm && json_is_object(data)) {
		gsm_field(op, root, data);
		return;
	}
	v = json_is_object(data) ? json_object_get(data, op->field) : NULL;
	if (!v || json_is_null(v)) {
		gl_json_wipe_decref(root);
		finish(op, SECRET_NOT_FOUND, NULL, NULL);
		return;
	}
	value = value_text(v);
	gl_json_wipe_decref(root);
	finish(op, SECRET_OK, value, NULL);
	free_secret(value);
}

static void start_read(struct vault_op *op)
{
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT;

	api_url(op, op->read_path.data, &url);
	request_headers(op, &headers, true);
	secret_call_send(&op->call, "GET", url.data, NULL, &headers, on_read);
	buf_release(&url);
}

/* The client token of a login answer: auth.client_token, else data.id. */
static char *login_token(json_t *root)
{
	json_t *auth = json_object_get(root, "auth"), *t = NULL, *data;

	if (json_is_object(auth))
		t = json_object_get(auth, "client_token");
	if (!json_is_string(t) || !*json_string_value(t)) {
		data = json_object_get(root, "data");
		t = json_is_object(data) ? json_object_get(data, "id") : NULL;
	}
	return xstrdup(json_is_string(t) ? json_string_value(t) : "");
}

static void on_login(struct gl_http_response *resp, void *ctx)
{
	struct vault_op *op = ctx;
	json_t *root;

	op->call.req = NULL;
	if (resp->result != GL_OK) {
		fail(op, resp->status ? classify(resp) : SECRET_SYSTEM_ERROR,
		     LOGIN_PREFIX "authenticating Vault client: writing to Vault: ",
		     resp);
		return;
	}
	root = secret_response_json(resp);
	if (!json_is_object(root)) {
		gl_json_wipe_decref(root);
		finish(op, SECRET_SYSTEM_ERROR, NULL, LOGIN_PREFIX
		       "authenticating Vault client: getting token from the authentication response: no result from Vault");
		return;
	}
	op->token = login_token(root);
	gl_json_wipe_decref(root);
	/* gitlab-runner picks the engine only once logged in. */
	if (!op->engine_known) {
		struct buf why = BUF_INIT;

		(void)buf_addf(&why, "requesting SecretEngine factory: factory for secret engine \"%s\" is not registered",
			       op->engine_name);
		finish(op, SECRET_SYSTEM_ERROR, NULL, why.data);
		buf_release(&why);
		return;
	}
	start_read(op);
}

/* {"jwt": ..., "role": ...}: only the keys the jwt method allows. */
static int login_body(const struct vault_secret_request *r, struct buf *body,
		      struct buf *err)
{
	static const char *const allowed[] = { "jwt", "role" };
	const char *values[2] = { NULL, NULL };
	size_t i, k;

	for (i = 0; r->auth_keys && i < r->auth_keys->nr; i++)
		for (k = 0; k < 2; k++)
			if (!strcmp(r->auth_keys->v[i], allowed[k]))
				values[k] = r->auth_values->v[i];
	if (!values[0]) {
		buf_seterr(err, LOGIN_PREFIX "initializing auth method adapter: filtering auth method configuration: missing required auth method configuration key \"jwt\"");
		return -1;
	}
	gl_json_open(body, NULL);
	for (k = 0; k < 2; k++)
		if (values[k])
			gl_json_str(body, allowed[k], values[k]);
	gl_json_close(body);
	return 0;
}

/* The engine's read path into op; false when the engine is unknown. */
static bool set_engine(struct vault_op *op, const char *name,
		       const char *engine_path, const char *path)
{
	op->engine_name = xstrdup(name ? name : "");
	if (!strcmp(op->engine_name, "kv-v2")) {
		op->engine = ENGINE_KV_V2;
		vault_path_join(&op->read_path, engine_path, "data", path);
		return true;
	}
	if (!strcmp(op->engine_name, "kv-v1") ||
	    !strcmp(op->engine_name, "generic")) {
		op->engine = ENGINE_GENERIC;
		vault_path_join(&op->read_path, engine_path, path, NULL);
		return true;
	}
	return false;
}

static void free_op(void *op)
{
	vault_cancel(op);
}

static struct vault_op *new_op(struct gl_http *http, const char *url,
			       const char *namespace, const char *field,
			       secret_done_cb done, void *ctx)
{
	struct vault_op *op = xcalloc(1, sizeof(*op));
	size_t n;

	secret_call_init(&op->call, http, VAULT_TIMEOUT_MS, done, ctx, free_op,
			 op);
	op->base = xstrdup(url);
	n = strlen(op->base);
	while (n > 0 && op->base[n - 1] == '/')
		op->base[--n] = '\0';
	op->namespace = xstrdup(namespace ? namespace : "");
	op->field = xstrdup(field ? field : "");
	buf_init(&op->read_path, 0);
	strvec_init(&op->inline_headers);
	return op;
}

/* GitLab's secrets manager: no login, the read authenticates inline. */
static struct vault_op *start_inline(struct gl_http *http,
				     const struct vault_secret_request *r,
				     secret_done_cb done, void *ctx,
				     struct buf *err)
{
	struct vault_op *op;

	/* gitlab-runner's WithInlineAuth: every missing piece, joined. */
	if (!*r->inline_auth_path || !r->inline_jwt || !*r->inline_jwt ||
	    !r->inline_role || !*r->inline_role) {
		buf_seterr(err, "creating vault client: configuring inline auth: ");
		if (!*r->inline_auth_path)
			(void)buf_addstr(err, "inline auth path is required\n");
		if (!r->inline_jwt || !*r->inline_jwt)
			(void)buf_addstr(err, "inline auth JWT is required\n");
		if (!r->inline_role || !*r->inline_role)
			(void)buf_addstr(err, "inline auth role is required\n");
		buf_setlen(err, err->len - 1);
		return NULL;
	}
	if (!secret_url_is_http(r->url)) {
		buf_seterr(err, "creating vault client: creating new Vault client: the server URL \"%s\" is not an http or https URL",
			   r->url ? r->url : "");
		return NULL;
	}
	op = new_op(http, r->url, "", r->field, done, ctx);
	op->gsm = true;
	if (!set_engine(op, r->engine_name, r->engine_path, r->path)) {
		buf_seterr(err, "getting secret: getting secret engine: factory for secret engine \"%s\" is not registered",
			   op->engine_name);
		vault_cancel(op);
		return NULL;
	}
	strvec_pushf(&op->inline_headers, "X-Vault-Inline-Auth-Path: %s",
		     r->inline_auth_path);
	inline_parameter(&op->inline_headers, "jwt", r->inline_jwt);
	inline_parameter(&op->inline_headers, "role", r->inline_role);
	start_read(op);
	return op;
}

struct vault_op *vault_resolve(struct gl_http *http,
			       const struct vault_secret_request *r,
			       secret_done_cb done, void *ctx,
			       enum secret_outcome *outcome, struct buf *err)
{
	struct strvec headers = STRVEC_INIT;
	struct buf body = BUF_INIT, url = BUF_INIT, login = BUF_INIT;
	struct vault_op *op;

	*outcome = SECRET_SYSTEM_ERROR;
	if (r->inline_auth_path)
		return start_inline(http, r, done, ctx, err);
	if (strcmp(r->auth_name ? r->auth_name : "", "jwt") != 0) {
		buf_seterr(err, LOGIN_PREFIX "initializing auth method factory: factory for auth method \"%s\" is not registered",
			   r->auth_name ? r->auth_name : "");
		return NULL;
	}
	if (!secret_url_is_http(r->url)) {
		buf_seterr(err, LOGIN_PREFIX "creating new Vault client: the server URL \"%s\" is not an http or https URL",
			   r->url ? r->url : "");
		return NULL;
	}
	if (login_body(r, &body, err) != 0)
		return NULL;

	op = new_op(http, r->url, r->namespace, r->field, done, ctx);
	op->engine_known = set_engine(op, r->engine_name, r->engine_path,
				      r->path);

	vault_path_join(&login, "auth", r->auth_path, "login");
	api_url(op, login.data, &url);
	request_headers(op, &headers, false);
	strvec_push(&headers, "Content-Type: application/json");
	secret_call_send(&op->call, "PUT", url.data, &body, &headers, on_login);
	buf_release_secret(&body);
	buf_release(&url);
	buf_release(&login);
	return op;
}

void vault_cancel(struct vault_op *op)
{
	if (!op)
		return;
	secret_call_stop(&op->call);
	free(op->base);
	free(op->namespace);
	free(op->engine_name);
	free(op->field);
	buf_release(&op->read_path);
	free_secret(op->token);
	secret_wipe_headers(&op->inline_headers);
	free(op);
}
