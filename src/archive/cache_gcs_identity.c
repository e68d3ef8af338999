/*
 * The GCE metadata server and the IAM credentials API's signBlob
 * (cache_gcs_identity.h), through the same HTTP client as every other
 * request (SSL_CERT_FILE and SSL_CERT_DIR apply).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "archive/cache_gcs_identity.h"
#include "gitlab/http.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/url_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define SA_PATH "/computeMetadata/v1/instance/service-accounts/default/"

static void wipe_response(struct gl_http_response *resp)
{
	if (resp->body.len)
		explicit_bzero(resp->body.data, resp->body.len);
	gl_http_response_release(resp);
	*resp = (struct gl_http_response)GL_HTTP_RESPONSE_INIT;
}

/* GET http://<host>/computeMetadata/v1/.../default/<what>. */
static int metadata_get(const char *what, struct gl_http_response *resp,
			struct buf *err)
{
	const char *host = getenv("GCE_METADATA_HOST");
	struct gl_http_request req = { 0 };
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT;
	int r = 0;

	if (!host || !*host)
		host = GCE_METADATA_DEFAULT_HOST;
	(void)buf_addf(&url, "http://%s" SA_PATH "%s", host, what);
	strvec_push(&headers, "Metadata-Flavor: Google");
	req.method = "GET";
	req.url = url.data;
	req.headers = &headers;
	req.timeout_ms = GCE_METADATA_TIMEOUT_MS;
	req.max_response = 64 << 10;
	req.no_retry = true;
	(void)gl_http_perform_sync(NULL, &req, resp);
	if (!resp->status) {
		buf_seterr(err, "getting %s from metadata server: cannot reach %s: %s",
			   what, url.data, resp->error.len ? resp->error.data :
			   "no answer");
		r = CR_ERR_NETWORK;
	} else if (resp->status != 200 || !resp->body.len) {
		buf_seterr(err, "getting %s from metadata server: %s answered %ld",
			   what, url.data, resp->status);
		r = resp->status == 404 ? CR_ERR_NOT_FOUND : CR_ERR_PROTOCOL;
	}
	strvec_clear(&headers);
	buf_release(&url);
	return r;
}

int gce_metadata_identity(char **email, char **token, struct buf *err)
{
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	json_error_t jerr;
	json_t *j = NULL;
	const char *tok;
	int r;

	*email = NULL;
	*token = NULL;
	if ((r = metadata_get("email", &resp, err)) != 0)
		goto out;
	*email = xstrndup(resp.body.data, strcspn(resp.body.data, "\r\n"));
	wipe_response(&resp);
	if ((r = metadata_get("token", &resp, err)) != 0)
		goto out;
	j = json_loadb(resp.body.data, resp.body.len, 0, &jerr);
	tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok) {
		buf_seterr(err, "getting token from metadata server: no access_token in its answer");
		r = CR_ERR_PROTOCOL;
		goto out;
	}
	*token = xstrdup(tok);
	explicit_bzero((char *)tok, strlen(tok));
out:
	json_decref(j);
	wipe_response(&resp);
	if (r) {
		free(*email);
		*email = NULL;
	}
	return r;
}

/* The API's error.message, else the status. */
static void api_error(const struct gl_http_response *resp, struct buf *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(resp->body.data, resp->body.len, 0, &jerr);
	const char *msg = json_string_value(json_object_get(
		json_object_get(j, "error"), "message"));

	if (msg)
		buf_seterr(err, "signing blob: %ld %s", resp->status, msg);
	else
		buf_seterr(err, "signing blob: the IAM credentials API answered %ld",
			   resp->status);
	json_decref(j);
}

int gcs_iam_sign_blob(const char *iam_base, const char *email,
		      const char *token, const void *data, size_t len,
		      struct buf *sig, struct buf *err)
{
	struct gl_http_request req = { 0 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, payload = BUF_INIT;
	json_error_t jerr;
	json_t *body = NULL, *j = NULL;
	const char *blob;
	char *text = NULL;
	size_t i;
	int r = 0;

	(void)buf_addf(&url, "%s/v1/projects/-/serviceAccounts/", iam_base);
	url_path_escape(&url, email);
	(void)buf_addstr(&url, ":signBlob");
	base64_encode(&payload, data, len);
	body = json_pack("{s:s}", "payload", payload.data);
	text = json_dumps(body, JSON_COMPACT);
	strvec_pushf(&headers, "Authorization: Bearer %s", token);
	strvec_push(&headers, "Content-Type: application/json");
	req.method = "POST";
	req.url = url.data;
	req.headers = &headers;
	req.body = text;
	req.body_len = strlen(text);
	req.timeout_ms = GCS_IAM_TIMEOUT_MS;
	req.max_response = 64 << 10;
	(void)gl_http_perform_sync(NULL, &req, &resp);
	if (!resp.status) {
		buf_seterr(err, "signing blob: cannot reach %s: %s", url.data,
			   resp.error.len ? resp.error.data : "no answer");
		r = CR_ERR_NETWORK;
		goto out;
	}
	if (resp.status != 200) {
		api_error(&resp, err);
		r = resp.status == 401 || resp.status == 403 ? CR_ERR_AUTH :
		    CR_ERR_PROTOCOL;
		goto out;
	}
	j = json_loadb(resp.body.data, resp.body.len, 0, &jerr);
	blob = json_string_value(json_object_get(j, "signedBlob"));
	if (!blob || base64_decode(blob, sig) != 0) {
		buf_seterr(err, "signing blob: no base64 signedBlob in the answer");
		r = CR_ERR_PROTOCOL;
	}
out:
	for (i = 0; i < headers.nr; i++)
		explicit_bzero((char *)headers.v[i], strlen(headers.v[i]));
	strvec_clear(&headers);
	json_decref(body);
	json_decref(j);
	free(text);
	gl_http_response_release(&resp);
	buf_release(&url);
	buf_release(&payload);
	return r;
}
