/*
 * GetBucketLocation for a bucket whose region the config leaves out
 * (gitlab-runner's cache/s3v2 detectBucketLocation()).
 */
#include <string.h>

#include "archive/cache_remote.h"
#include "archive/cache_s3_creds.h"
#include "archive/cache_s3_location.h"
#include "config/config.h"
#include "gitlab/artifact_store.h"
#include "gitlab/http.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/log.h"
#include "util/banned.h"

/* The answer is one short XML element. */
#define LOCATION_BODY_MAX ((size_t)16 << 10)
#define LOCATION_TIMEOUT_MS (30L * 1000)

int s3_location_from_xml(const char *body, struct buf *out)
{
	const char *b = strstr(body, "<LocationConstraint"), *e;

	if (!b || !(b = strchr(b, '>')))
		return CR_ERR_PROTOCOL;
	if (b[-1] == '/') {		/* <LocationConstraint .../>: empty */
		(void)buf_addstr(out, S3_DEFAULT_REGION);
		return 0;
	}
	b++;
	if (!(e = strstr(b, "</LocationConstraint>")))
		return CR_ERR_PROTOCOL;
	if (e == b)
		(void)buf_addstr(out, S3_DEFAULT_REGION);
	else if (e - b == 2 && !strncmp(b, "EU", 2))
		(void)buf_addstr(out, "eu-west-1");
	else
		(void)buf_add(out, b, (size_t)(e - b));
	return 0;
}

/* The signed GET /<bucket>?location URL into url. */
static int location_url(const struct config_cache_s3 *s3,
			const struct s3_creds *creds, time_t now,
			struct buf *url, struct buf *err)
{
	struct config_cache_s3 plain = *s3;
	struct s3_presign p = { 0 };
	struct buf server = BUF_INIT;
	int r;

	/* The SDK's client for the question: BaseEndpoint or the global
	 * endpoint, never dual-stack or accelerated. */
	plain.dual_stack = CONFIG_FALSE;
	plain.accelerate = false;
	if ((r = s3_endpoint(&plain, &server, &p.path_style, err)) != 0)
		goto out;
	if (!strcmp(server.data, "s3." S3_DEFAULT_REGION ".amazonaws.com")) {
		buf_reset(&server);
		(void)buf_addstr(&server, S3_DEFAULT_SERVER);
	}
	p.method = "GET";
	p.insecure = s3->insecure;
	p.server = server.data;
	p.bucket = s3->bucket_name;
	p.subresource = "location";
	p.region = S3_DEFAULT_REGION;
	p.access_key = creds->access_key;
	p.secret_key = creds->secret_key;
	p.session_token = creds->session_token;
	p.now = now;
	p.expires = 60;
	r = s3_presign_url(&p, url, err);
out:
	buf_release(&server);
	return r;
}

void s3_detect_bucket_location(const struct config_cache_s3 *s3,
			       const struct s3_creds *creds, time_t now,
			       struct buf *out)
{
	struct gl_http_request req = { 0 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct buf url = BUF_INIT, err = BUF_INIT, clean = BUF_INIT;
	char status[64];

	if (location_url(s3, creds, now, &url, &err) != 0)
		goto fallback;
	cache_remote_clean_url(url.data, &clean);
	req.method = "GET";
	req.url = url.data;
	req.timeout_ms = LOCATION_TIMEOUT_MS;
	req.max_response = LOCATION_BODY_MAX;
	(void)gl_http_perform_sync(NULL, &req, &resp);
	if (resp.result != GL_OK) {
		if (resp.status)
			gl_artifact_status_text(resp.status, status,
						sizeof(status));
		buf_seterr(&err, "GET %s?location: %s", clean.data,
			   resp.status ? status : resp.error.len ?
			   resp.error.data : "no answer");
		goto fallback;
	}
	if (s3_location_from_xml(resp.body.data, out) == 0) {
		log_debug("S3 bucket %s is in %s", s3->bucket_name, out->data);
		goto done;
	}
	buf_seterr(&err, "GET %s?location: no LocationConstraint in the answer",
		   clean.data);
fallback:
	log_warn("Failed to detect S3 bucket location, falling back to default region %s: %s",
		 S3_DEFAULT_REGION, err.data);
	buf_reset(out);
	(void)buf_addstr(out, S3_DEFAULT_REGION);
done:
	gl_http_response_release(&resp);
	buf_release_secret(&url);
	buf_release(&err);
	buf_release(&clean);
}
