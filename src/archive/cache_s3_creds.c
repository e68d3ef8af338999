/*
 * The AWS default credential chain, as far as a runner host needs it
 * (cache_s3_creds.h): the environment, then IMDSv2.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/cache_s3_creds.h"
#include "gitlab/http.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/timeparse.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define IMDS_CREDS_PATH "/latest/meta-data/iam/security-credentials/"

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void s3_creds_release(struct s3_creds *c)
{
	free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->session_token);
	free(c->source_buf);
	memset(c, 0, sizeof(*c));
}

/* One request to the metadata service; the body stays in resp. */
static int imds_call(const char *method, const char *url,
		     const struct strvec *headers,
		     struct gl_http_response *resp, struct buf *err)
{
	struct gl_http_request req = { 0 };

	req.method = method;
	req.url = url;
	req.headers = headers;
	req.timeout_ms = IMDS_TIMEOUT_MS;
	req.max_response = 64 << 10;
	req.no_retry = true;
	if (!strcmp(method, "PUT")) {
		req.body = "";
		req.body_len = 0;
	}
	(void)gl_http_perform_sync(NULL, &req, resp);
	if (!resp->status) {
		buf_seterr(err, "cannot reach the instance metadata service at %s: %s",
			   url, resp->error.len ? resp->error.data : "no answer");
		return CR_ERR_NETWORK;
	}
	return 0;
}

static int from_json(const char *body, const char *role, time_t now,
		     struct s3_creds *c, struct buf *err)
{
	json_error_t jerr;
	json_t *j = json_loads(body, 0, &jerr);
	const char *ak, *sk, *tok, *exp, *code;
	int r = CR_ERR_PROTOCOL;

	if (!j || !json_is_object(j)) {
		buf_seterr(err, "instance profile %s: credentials are not JSON", role);
		goto out;
	}
	code = json_string_value(json_object_get(j, "Code"));
	ak = json_string_value(json_object_get(j, "AccessKeyId"));
	sk = json_string_value(json_object_get(j, "SecretAccessKey"));
	tok = json_string_value(json_object_get(j, "Token"));
	exp = json_string_value(json_object_get(j, "Expiration"));
	if (code && strcmp(code, "Success")) {
		buf_seterr(err, "instance profile %s: the metadata service says %s",
			   role, code);
		goto out;
	}
	if (!ak || !*ak || !sk || !*sk) {
		buf_seterr(err, "instance profile %s: no AccessKeyId or SecretAccessKey",
			   role);
		goto out;
	}
	if (exp && time_parse_rfc3339(exp, &c->expiration) != 0) {
		buf_seterr(err, "instance profile %s: bad Expiration '%s'", role,
			   exp);
		goto out;
	}
	if (c->expiration && c->expiration - now < S3_CREDS_MIN_VALIDITY_S) {
		buf_seterr(err, "instance profile %s: the credentials expire at %s",
			   role, exp);
		goto out;
	}
	c->access_key = xstrdup(ak);
	c->secret_key = xstrdup(sk);
	c->session_token = tok && *tok ? xstrdup(tok) : NULL;
	r = 0;
out:
	json_decref(j);
	return r;
}

static int from_imds(time_t now, struct s3_creds *c, struct buf *err)
{
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, role = BUF_INIT;
	size_t len;
	int r;

	if (!ep || !*ep)
		ep = IMDS_DEFAULT_ENDPOINT;
	len = strlen(ep);
	while (len && ep[len - 1] == '/')
		len--;

	/* IMDSv2: a session token first, sent with every later request. */
	(void)buf_addf(&url, "%.*s/latest/api/token", (int)len, ep);
	strvec_pushf(&headers, "X-aws-ec2-metadata-token-ttl-seconds: %d",
		     IMDS_TOKEN_TTL_S);
	if ((r = imds_call("PUT", url.data, &headers, &resp, err)))
		goto out;
	strvec_clear(&headers);
	if (resp.status == 200 && resp.body.len) {
		strvec_pushf(&headers, "X-aws-ec2-metadata-token: %s",
			     resp.body.data);
	} else if (resp.status != 404 && resp.status != 405) {
		/* 404/405: a service without IMDSv2; the SDK goes on with v1. */
		buf_seterr(err, "the instance metadata service refused a session token (%ld)",
			   resp.status);
		r = CR_ERR_AUTH;
		goto out;
	}
	gl_http_response_release(&resp);
	resp = (struct gl_http_response)GL_HTTP_RESPONSE_INIT;

	buf_reset(&url);
	(void)buf_addf(&url, "%.*s" IMDS_CREDS_PATH, (int)len, ep);
	if ((r = imds_call("GET", url.data, &headers, &resp, err)))
		goto out;
	(void)buf_add(&role, resp.body.data, strcspn(resp.body.data, "\r\n"));
	if (resp.status != 200 || !role.len) {
		buf_seterr(err, "no instance profile: the metadata service answered %ld",
			   resp.status);
		r = CR_ERR_NOT_FOUND;
		goto out;
	}
	gl_http_response_release(&resp);
	resp = (struct gl_http_response)GL_HTTP_RESPONSE_INIT;

	(void)buf_addstr(&url, role.data);
	if ((r = imds_call("GET", url.data, &headers, &resp, err)))
		goto out;
	if (resp.status != 200) {
		buf_seterr(err, "instance profile %s: the metadata service answered %ld",
			   role.data, resp.status);
		r = CR_ERR_PROTOCOL;
		goto out;
	}
	if ((r = from_json(resp.body.data, role.data, now, c, err)))
		goto out;
	{
		struct buf src = BUF_INIT;

		(void)buf_addf(&src, "instance profile %s", role.data);
		c->source_buf = buf_detach(&src, NULL);
		c->source = c->source_buf;
	}
out:
	if (resp.body.len)
		explicit_bzero(resp.body.data, resp.body.len);
	gl_http_response_release(&resp);
	for (len = 0; len < headers.nr; len++)
		explicit_bzero((char *)headers.v[len], strlen(headers.v[len]));
	strvec_clear(&headers);
	buf_release(&url);
	buf_release(&role);
	return r;
}

int s3_creds_resolve(time_t now, struct s3_creds *c, struct buf *err)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID"),
		   *sk = getenv("AWS_SECRET_ACCESS_KEY"),
		   *tok = getenv("AWS_SESSION_TOKEN"),
		   *off = getenv("AWS_EC2_METADATA_DISABLED");

	if (ak && *ak && sk && *sk) {
		c->access_key = xstrdup(ak);
		c->secret_key = xstrdup(sk);
		c->session_token = tok && *tok ? xstrdup(tok) : NULL;
		c->source = "environment";
		return 0;
	}
	if (off && !strcasecmp(off, "true")) {
		buf_seterr(err, "no AWS credentials: none in the environment and AWS_EC2_METADATA_DISABLED is true");
		return CR_ERR_NOT_FOUND;
	}
	return from_imds(now, c, err);
}
