/*
 * AWS Secrets Manager (see aws_secrets_manager.h): STS web identity, then
 * GetSecretValue, both on the loop through gl_http.  Error texts follow
 * the Go SDK's ("operation error Secrets Manager: GetSecretValue, https
 * response error StatusCode: 400, RequestID: ..., ResourceNotFoundException:
 * ..."); none holds the JWT, a credential or the value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gitlab/gl_json.h"
#include "gitlab/http.h"
#include "secrets/aws_secrets_manager.h"
#include "secrets/secret_call.h"
#include "util/aws_sigv4.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/url_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* gitlab-runner's contextTimeout for the whole resolution. */
#define AWS_TIMEOUT_MS 30000L

#define SM_OP "operation error Secrets Manager: GetSecretValue, "
#define STS_OP SM_OP "get identity: get credentials: failed to refresh cached credentials, failed to retrieve credentials, operation error STS: AssumeRoleWithWebIdentity, "

struct aws_sm_op {
	struct secret_call call;
	char *secret_id, *version_id, *version_stage, *field, *region;
	/* Credentials (secret): STS's, or the environment's. */
	char *access_key, *secret_key, *session_token;
};

/* ---- endpoints ---- */

static void endpoint(const char *env, const char *service, const char *region,
		     struct buf *out)
{
	const char *ep = getenv(env);

	if (!ep || !*ep)
		ep = getenv("AWS_ENDPOINT_URL");
	if (ep && *ep)
		(void)buf_addstr(out, ep);
	else
		(void)buf_addf(out, "https://%s.%s.amazonaws.com", service,
			       region);
	secret_trim_slashes(out);
}

/* The Host libcurl sends for url: host[:port], a default port left out. */
static void url_host(const char *url, struct buf *out)
{
	const char *p = strstr(url, "://"), *end, *at;
	bool https = !strncmp(url, "https:", 6);
	size_t n;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	at = memchr(p, '@', (size_t)(end - p));
	if (at)
		p = at + 1;
	n = (size_t)(end - p);
	if (https && n > 4 && !memcmp(end - 4, ":443", 4))
		n -= 4;
	else if (!https && n > 3 && !memcmp(end - 3, ":80", 3))
		n -= 3;
	(void)buf_add(out, p, n);
}

/* ---- answers ---- */

/* "https response error StatusCode: N, RequestID: R, Code: message". */
static void response_error(struct buf *out,
			   const struct gl_http_response *resp,
			   const char *code, const char *message)
{
	const char *rid = gl_http_response_header(resp, "x-amzn-RequestId");

	(void)buf_addf(out, "https response error StatusCode: %ld, RequestID: %s, %s: %s",
		       resp->status, rid ? rid : "", code, message);
}

/* What the SDK shows for a missing or empty code or message. */
static const char *or_unknown(const char *s)
{
	return s && *s ? s : "UnknownError";
}

/* A float64 as Go's fmt %v prints it: shortest digits, %e from 1e+06. */
static void go_float(double v, struct buf *out)
{
	char text[64], digits[32];
	int prec, exp = 0, nd = 0, i;
	char *e;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(text, sizeof(text), "%.*e", prec - 1, v);
		if (strtod(text, NULL) == v)
			break;
	}
	/* text is [-]d[.ddd]e±XX */
	for (e = text; *e && *e != 'e'; e++)
		if (*e >= '0' && *e <= '9' && nd < (int)sizeof(digits) - 1)
			digits[nd++] = *e;
	digits[nd] = '\0';
	if (*e == 'e')
		exp = (int)strtol(e + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		digits[--nd] = '\0';
	if (v < 0)
		(void)buf_addch(out, '-');
	if (exp < -4 || exp >= 6) {
		(void)buf_addch(out, digits[0]);
		if (nd > 1)
			(void)buf_addf(out, ".%s", digits + 1);
		(void)buf_addf(out, "e%c%02d", exp < 0 ? '-' : '+',
			       exp < 0 ? -exp : exp);
		return;
	}
	if (exp < 0) {
		(void)buf_addstr(out, "0.");
		for (i = -1; i > exp; i--)
			(void)buf_addch(out, '0');
		(void)buf_addstr(out, digits);
		return;
	}
	for (i = 0; i <= exp; i++)
		(void)buf_addch(out, i < nd ? digits[i] : '0');
	if (nd > exp + 1)
		(void)buf_addf(out, ".%s", digits + exp + 1);
}

/* field of the secret string as a flat JSON object (extractFlatJSONField). */
static void pick_field(struct aws_sm_op *op, const char *text)
{
	struct buf value = BUF_INIT, why = BUF_INIT;
	json_t *root = json_loads(text, 0, NULL), *v;

	if (!json_is_object(root)) {
		(void)buf_addf(&why, "failed to parse JSON for secret '%s': not a JSON object",
			       op->secret_id);
		goto fail;
	}
	if (!(v = json_object_get(root, op->field))) {
		(void)buf_addf(&why, "key '%s' not found in AWS Secrets Manager response for secret '%s'",
			       op->field, op->secret_id);
		goto fail;
	}
	if (json_is_string(v))
		(void)buf_addstr(&value, json_string_value(v));
	else if (json_is_boolean(v))
		(void)buf_addstr(&value, json_is_true(v) ? "true" : "false");
	else if (json_is_number(v))
		go_float(json_number_value(v), &value);
	else {
		(void)buf_addf(&why, "key '%s' in aws secrets manager response for secret '%s' is not a string, number or boolean",
			       op->field, op->secret_id);
		goto fail;
	}
	gl_json_wipe_decref(root);
	secret_call_finish(&op->call, SECRET_OK, value.data ? value.data : "",
			   NULL);
	buf_release_secret(&value);
	return;
fail:
	gl_json_wipe_decref(root);
	secret_call_fail(&op->call, why.data);
	buf_release(&why);
}

static void on_secret(struct gl_http_response *resp, void *ctx)
{
	struct aws_sm_op *op = ctx;
	json_t *root, *s;
	struct buf why = BUF_INIT;

	op->call.req = NULL;
	root = secret_response_json(resp);
	if (!resp->status) {
		(void)buf_addf(&why, SM_OP "%s",
			       secret_transport_error(resp, "no answer"));
		goto fail;
	}
	if (resp->result != GL_OK) {
		const char *code = NULL, *msg = NULL, *hash;

		if (json_is_object(root)) {
			code = json_string_value(json_object_get(root, "__type"));
			msg = json_string_value(json_object_get(root, "message"));
			if (!msg)
				msg = json_string_value(json_object_get(root,
								"Message"));
		}
		if (!code)
			code = gl_http_response_header(resp, "X-Amzn-ErrorType");
		/* "com.amazonaws...#ResourceNotFoundException" */
		if (code && (hash = strrchr(code, '#')))
			code = hash + 1;
		(void)buf_addstr(&why, SM_OP);
		response_error(&why, resp, or_unknown(code), or_unknown(msg));
		goto fail;
	}
	s = json_is_object(root) ? json_object_get(root, "SecretString") : NULL;
	if (!json_is_string(s))
		s = json_is_object(root) ? json_object_get(root, "SecretBinary") :
			NULL;
	if (!json_is_string(s)) {
		(void)buf_addstr(&why, "secret contains no value");
		goto fail;
	}
	if (op->field && *op->field) {
		char *text = xstrdup(json_string_value(s));

		gl_json_wipe_decref(root);
		pick_field(op, text);
		free_secret(text);
		return;
	}
	{
		char *text = xstrdup(json_string_value(s));

		gl_json_wipe_decref(root);
		secret_call_finish(&op->call, SECRET_OK, text, NULL);
		free_secret(text);
	}
	return;
fail:
	gl_json_wipe_decref(root);
	secret_call_fail(&op->call, why.data);
	buf_release(&why);
}

static void start_read(struct aws_sm_op *op)
{
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, host = BUF_INIT, body = BUF_INIT;
	struct buf auth = BUF_INIT;
	struct aws_sigv4_header h[5];
	struct aws_sigv4_request sr = { 0 };
	char date[17];
	size_t n = 0, i;

	endpoint("AWS_ENDPOINT_URL_SECRETS_MANAGER", "secretsmanager",
		 op->region, &url);
	(void)buf_addch(&url, '/');
	url_host(url.data, &host);
	gl_json_open(&body, NULL);
	gl_json_str(&body, "SecretId", op->secret_id);
	if (op->version_id && *op->version_id)
		gl_json_str(&body, "VersionId", op->version_id);
	if (op->version_stage && *op->version_stage)
		gl_json_str(&body, "VersionStage", op->version_stage);
	gl_json_close(&body);
	aws_sigv4_now(date);
	h[n++] = (struct aws_sigv4_header){ "content-type",
					     "application/x-amz-json-1.1" };
	h[n++] = (struct aws_sigv4_header){ "host", host.data };
	h[n++] = (struct aws_sigv4_header){ "x-amz-date", date };
	if (op->session_token && *op->session_token)
		h[n++] = (struct aws_sigv4_header){ "x-amz-security-token",
						     op->session_token };
	h[n++] = (struct aws_sigv4_header){ "x-amz-target",
					     "secretsmanager.GetSecretValue" };
	sr.access_key = op->access_key;
	sr.secret_key = op->secret_key;
	sr.region = op->region;
	sr.service = "secretsmanager";
	sr.date = date;
	sr.method = "POST";
	sr.path = "/";
	sr.query = "";
	sr.headers = h;
	sr.nr_headers = n;
	sr.body = body.data;
	sr.body_len = body.len;
	aws_sigv4_authorization(&sr, &auth);
	for (i = 0; i < n; i++)
		if (strcmp(h[i].name, "host") != 0)
			strvec_pushf(&headers, "%s: %s", h[i].name, h[i].value);
	strvec_pushf(&headers, "Authorization: %s", auth.data);
	secret_call_send(&op->call, "POST", url.data, &body, &headers,
			 on_secret);
	buf_release(&url);
	buf_release(&host);
	buf_release(&body);
	buf_release(&auth);
}

static void on_sts(struct gl_http_response *resp, void *ctx)
{
	struct aws_sm_op *op = ctx;
	const char *xml = resp->body.data ? resp->body.data : "";
	op->call.req = NULL;
	if (!resp->status) {
		secret_call_failf(&op->call, STS_OP "%s",
				  secret_transport_error(resp, "no answer"));
		return;
	}
	if (resp->result != GL_OK) {
		char *code = aws_xml_text(xml, "Code"), *msg = aws_xml_text(xml, "Message");
		struct buf why = BUF_INIT;

		(void)buf_addstr(&why, STS_OP);
		response_error(&why, resp, code ? code : "UnknownError",
			       msg ? msg : "UnknownError");
		free(code);
		free(msg);
		secret_call_fail(&op->call, why.data);
		buf_release(&why);
		return;
	}
	op->access_key = aws_xml_text(xml, "AccessKeyId");
	op->secret_key = aws_xml_text(xml, "SecretAccessKey");
	op->session_token = aws_xml_text(xml, "SessionToken");
	if (!op->access_key || !op->secret_key) {
		secret_call_fail(&op->call, STS_OP "no credentials in the STS answer");
		return;
	}
	start_read(op);
}

static void start_sts(struct aws_sm_op *op, const struct aws_sm_request *r)
{
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, body = BUF_INIT;

	endpoint("AWS_ENDPOINT_URL_STS", "sts", op->region, &url);
	(void)buf_addch(&url, '/');
	(void)buf_addstr(&body, "Action=AssumeRoleWithWebIdentity&RoleArn=");
	url_query_escape(&body, r->role_arn);
	(void)buf_addstr(&body, "&RoleSessionName=");
	url_query_escape(&body, r->role_session_name ? r->role_session_name :
			 "");
	(void)buf_addstr(&body, "&Version=2011-06-15&WebIdentityToken=");
	url_query_escape(&body, r->jwt ? r->jwt : "");
	strvec_push(&headers, "Content-Type: application/x-www-form-urlencoded");
	secret_call_send(&op->call, "POST", url.data, &body, &headers, on_sts);
	buf_release(&url);
	buf_release_secret(&body);
}

static void free_op(void *op)
{
	aws_sm_cancel(op);
}

static char *dup_or_empty(const char *s)
{
	return xstrdup(s ? s : "");
}

struct aws_sm_op *aws_sm_resolve(struct gl_http *http,
				 const struct aws_sm_request *r,
				 secret_done_cb done, void *ctx,
				 enum secret_outcome *outcome, struct buf *err)
{
	struct aws_sm_op *op;
	const char *role = r->role_arn ? r->role_arn : "";

	*outcome = SECRET_SYSTEM_ERROR;
	if (!*role && r->jwt && *r->jwt) {
		buf_seterr(err, "Role ARN is required when using JWT for AWS authentication");
		return NULL;
	}
	if (!r->region || !*r->region) {
		buf_seterr(err, "failed to load AWS config: no region (region or server.region)");
		return NULL;
	}
	if (!*role && (!getenv("AWS_ACCESS_KEY_ID") ||
		       !*getenv("AWS_ACCESS_KEY_ID") ||
		       !getenv("AWS_SECRET_ACCESS_KEY"))) {
		buf_seterr(err, SM_OP "get identity: get credentials: no role ARN and no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in crunner's environment (the SDK's other credential sources are not read)");
		return NULL;
	}
	op = xcalloc(1, sizeof(*op));
	secret_call_init(&op->call, http, AWS_TIMEOUT_MS, done, ctx, free_op,
			 op);
	op->secret_id = dup_or_empty(r->secret_id);
	op->version_id = dup_or_empty(r->version_id);
	op->version_stage = dup_or_empty(r->version_stage);
	op->field = dup_or_empty(r->field);
	op->region = dup_or_empty(r->region);
	if (*role) {
		start_sts(op, r);
		return op;
	}
	op->access_key = xstrdup(getenv("AWS_ACCESS_KEY_ID"));
	op->secret_key = xstrdup(getenv("AWS_SECRET_ACCESS_KEY"));
	op->session_token = dup_or_empty(getenv("AWS_SESSION_TOKEN"));
	start_read(op);
	return op;
}

void aws_sm_cancel(struct aws_sm_op *op)
{
	if (!op)
		return;
	secret_call_stop(&op->call);
	free(op->secret_id);
	free(op->version_id);
	free(op->version_stage);
	free(op->field);
	free(op->region);
	free_secret(op->access_key);
	free_secret(op->secret_key);
	free_secret(op->session_token);
	free(op);
}
