/*
 * Google Cloud Secret Manager (see gcp_secret_manager.h): the STS token
 * exchange, then AccessSecretVersion over REST, on the loop.  Error texts
 * follow gitlab-runner's ("failed to exchange sts token: ...", "failed to
 * get secret: rpc error: code = NotFound desc = ..."); none holds the JWT,
 * the access token or the value.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gitlab/gl_json.h"
#include "gitlab/http.h"
#include "secrets/gcp_secret_manager.h"
#include "secrets/secret_call.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/strvec.h"
#include "util/url_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define GCP_TIMEOUT_MS 60000L
/* What of a refused exchange's body goes into the job's error line. */
#define GCP_BODY_MAX 300

struct gcp_sm_op {
	struct secret_call call;
	char *version_name;	/* projects/p/secrets/s/versions/v */
	char *token;		/* secret: the access token */
};

uint32_t gcp_crc32c(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xffffffffu;
	size_t i;
	int k;

	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
	}
	return crc ^ 0xffffffffu;
}

/* Go filepath.Match of "projects/<x>/secrets/<y>": four parts, no more. */
static bool is_secret_resource(const char *name)
{
	const char *p = name, *slash;
	int part = 0;

	while (1) {
		size_t n;

		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		if (part == 0 && (n != 8 || memcmp(p, "projects", 8) != 0))
			return false;
		if (part == 2 && (n != 7 || memcmp(p, "secrets", 7) != 0))
			return false;
		part++;
		if (!slash)
			break;
		p = slash + 1;
	}
	return part == 4;
}

void gcp_sm_version_name(const struct gcp_sm_request *r, struct buf *out)
{
	if (is_secret_resource(r->name ? r->name : ""))
		(void)buf_addf(out, "%s/versions/%s", r->name,
			       r->version ? r->version : "");
	else
		(void)buf_addf(out, "projects/%s/secrets/%s/versions/%s",
			       r->project_number ? r->project_number : "",
			       r->name ? r->name : "",
			       r->version ? r->version : "");
}

static void base_url(const char *env, const char *host, struct buf *out)
{
	const char *ep = getenv(env);

	(void)buf_addstr(out, ep && *ep ? ep : host);
	secret_trim_slashes(out);
}

/* gRPC's code names for the HTTP statuses Google's REST errors carry. */
static const char *grpc_code(const char *status, long http)
{
	static const struct { const char *rest, *grpc; } names[] = {
		{ "NOT_FOUND", "NotFound" },
		{ "PERMISSION_DENIED", "PermissionDenied" },
		{ "UNAUTHENTICATED", "Unauthenticated" },
		{ "INVALID_ARGUMENT", "InvalidArgument" },
		{ "FAILED_PRECONDITION", "FailedPrecondition" },
		{ "RESOURCE_EXHAUSTED", "ResourceExhausted" },
		{ "UNAVAILABLE", "Unavailable" },
		{ "INTERNAL", "Internal" },
	};
	size_t i;

	for (i = 0; status && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(status, names[i].rest))
			return names[i].grpc;
	if (http == 404)
		return "NotFound";
	if (http == 403)
		return "PermissionDenied";
	if (http == 401)
		return "Unauthenticated";
	return http >= 500 ? "Unavailable" : "Unknown";
}

static void on_access(struct gl_http_response *resp, void *ctx)
{
	struct gcp_sm_op *op = ctx;
	struct buf why = BUF_INIT, data = BUF_INIT;
	json_t *root, *payload, *d, *crc;
	uint32_t want;

	op->call.req = NULL;
	root = secret_response_json(resp);
	if (!resp->status) {
		(void)buf_addf(&why, "failed to get secret: rpc error: code = Unavailable desc = %s",
			       secret_transport_error(resp, "no answer"));
		goto fail;
	}
	if (resp->result != GL_OK) {
		json_t *e = json_is_object(root) ?
			json_object_get(root, "error") : NULL;
		const char *status = json_string_value(json_object_get(e, "status"));
		const char *msg = json_string_value(json_object_get(e, "message"));

		(void)buf_addf(&why, "failed to get secret: rpc error: code = %s desc = %s",
			       grpc_code(status, resp->status),
			       msg ? msg : "no message");
		goto fail;
	}
	payload = json_is_object(root) ? json_object_get(root, "payload") :
		NULL;
	if (!json_is_object(payload)) {
		gl_json_wipe_decref(root);
		secret_call_finish(&op->call, SECRET_NOT_FOUND, NULL, NULL);
		return;
	}
	d = json_object_get(payload, "data");
	if (json_is_string(d) &&
	    base64_decode(json_string_value(d), &data) != 0) {
		(void)buf_addstr(&why, "failed to get secret: the payload's data is not base64");
		goto fail;
	}
	crc = json_object_get(payload, "dataCrc32c");
	want = json_is_string(crc) ?
		(uint32_t)strtoull(json_string_value(crc), NULL, 10) :
		json_is_integer(crc) ? (uint32_t)json_integer_value(crc) : 0;
	if (!crc || gcp_crc32c(data.data ? data.data : "", data.len) != want) {
		(void)buf_addstr(&why, "data corruption detected");
		goto fail;
	}
	gl_json_wipe_decref(root);
	secret_call_finish(&op->call, SECRET_OK, data.data ? data.data : "",
			   NULL);
	buf_release_secret(&data);
	return;
fail:
	gl_json_wipe_decref(root);
	buf_release_secret(&data);
	secret_call_fail(&op->call, why.data);
	buf_release(&why);
}

static void start_access(struct gcp_sm_op *op)
{
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, path = BUF_INIT;

	base_url("CRUNNER_GCP_SECRET_MANAGER_URL",
		 "https://secretmanager.googleapis.com", &url);
	(void)buf_addf(&path, "/v1/%s:access", op->version_name);
	url_path_escape(&url, path.data);
	strvec_pushf(&headers, "Authorization: Bearer %s", op->token);
	secret_call_send(&op->call, "GET", url.data, NULL, &headers, on_access);
	buf_release(&url);
	buf_release(&path);
}

static void on_token(struct gl_http_response *resp, void *ctx)
{
	struct gcp_sm_op *op = ctx;
	struct buf why = BUF_INIT;
	json_t *root;

	op->call.req = NULL;
	if (!resp->status) {
		(void)buf_addf(&why, "failed to exchange sts token: %s",
			       secret_transport_error(resp, "no answer"));
		goto fail;
	}
	if (resp->result != GL_OK) {
		size_t n = resp->body.len;

		while (n && (resp->body.data[n - 1] == '\n' ||
			     resp->body.data[n - 1] == ' '))
			n--;
		(void)buf_addf(&why, "failed to exchange sts token: googleapi: got HTTP response code %ld with body: ",
			       resp->status);
		(void)buf_add(&why, resp->body.data ? resp->body.data : "",
			      n > GCP_BODY_MAX ? GCP_BODY_MAX : n);
		goto fail;
	}
	root = secret_response_json(resp);
	op->token = secret_json_token(root, "access_token");
	gl_json_wipe_decref(root);
	if (!op->token) {
		(void)buf_addstr(&why, "failed to exchange sts token: no access_token in the answer");
		goto fail;
	}
	start_access(op);
	return;
fail:
	secret_call_fail(&op->call, why.data);
	buf_release(&why);
}

static void free_op(void *op)
{
	gcp_sm_cancel(op);
}

struct gcp_sm_op *gcp_sm_resolve(struct gl_http *http,
				 const struct gcp_sm_request *r,
				 secret_done_cb done, void *ctx,
				 enum secret_outcome *outcome, struct buf *err)
{
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, body = BUF_INIT, audience = BUF_INIT;
	struct buf name = BUF_INIT;
	struct gcp_sm_op *op;

	(void)err;
	*outcome = SECRET_SYSTEM_ERROR;
	op = xcalloc(1, sizeof(*op));
	secret_call_init(&op->call, http, GCP_TIMEOUT_MS, done, ctx, free_op,
			 op);
	gcp_sm_version_name(r, &name);
	op->version_name = buf_detach(&name, NULL);

	(void)buf_addf(&audience, "//iam.googleapis.com/projects/%s/locations/global/workloadIdentityPools/%s/providers/%s",
		       r->project_number ? r->project_number : "",
		       r->pool_id ? r->pool_id : "",
		       r->provider_id ? r->provider_id : "");
	gl_json_open(&body, NULL);
	gl_json_str(&body, "audience", audience.data);
	gl_json_str(&body, "grantType",
		    "urn:ietf:params:oauth:grant-type:token-exchange");
	gl_json_str(&body, "requestedTokenType",
		    "urn:ietf:params:oauth:token-type:access_token");
	gl_json_str(&body, "scope",
		    "https://www.googleapis.com/auth/cloud-platform");
	gl_json_str(&body, "subjectToken", r->jwt ? r->jwt : "");
	gl_json_str(&body, "subjectTokenType",
		    "urn:ietf:params:oauth:token-type:id_token");
	gl_json_close(&body);
	base_url("CRUNNER_GCP_STS_URL", "https://sts.googleapis.com", &url);
	(void)buf_addstr(&url, "/v1/token");
	strvec_push(&headers, "Content-Type: application/json");
	secret_call_send(&op->call, "POST", url.data, &body, &headers, on_token);
	buf_release(&url);
	buf_release_secret(&body);
	buf_release(&audience);
	return op;
}

void gcp_sm_cancel(struct gcp_sm_op *op)
{
	if (!op)
		return;
	secret_call_stop(&op->call);
	free(op->version_name);
	free_secret(op->token);
	free(op);
}
