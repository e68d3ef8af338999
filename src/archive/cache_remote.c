/*
 * The distributed cache: object names, SigV4 pre-signed URLs (written
 * from AWS's "Authenticating Requests: Using Query Parameters"), and the
 * helper's streamed GET and PUT of the archive.
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/cache_remote.h"
#include "archive/cache_s3_creds.h"
#include "archive/cache_s3_location.h"
#include "archive/cache_s3_sts.h"
#include "config/config.h"
#include "gitlab/artifact_store.h"
#include "gitlab/http.h"
#include "util/aws_sigv4.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/sha256.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define ANSI_YELLOW "\033[0;33m"
#define ANSI_RESET "\033[0;m"
/* An error answer's body is read this far for its <Code> and <Message>. */
#define CACHE_ERROR_BODY_MAX ((size_t)16 << 10)

/* RFC 3986 unreserved characters stay, everything else is %XX; '/' stays
 * when keep_slash (an object path). */
static void uri_encode(struct buf *out, const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '~' || (keep_slash && *p == '/')) {
			(void)buf_addch(out, (char)*p);
		} else {
			(void)buf_addch(out, '%');
			(void)buf_addch(out, hex[*p >> 4]);
			(void)buf_addch(out, hex[*p & 15]);
		}
	}
}

/* By header name ("name:value" lines): a name that is a prefix of
 * another comes first, whatever its value. */
static int compare_lines(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t nx = strcspn(x, ":"), ny = strcspn(y, ":");
	int c = strncmp(x, y, nx < ny ? nx : ny);

	return c ? c : (nx > ny) - (nx < ny);
}

/*
 * SigV4's canonical headers ("name:value\n" sorted by name) of host and
 * extra ("name: value" lines), and the ';'-joined names.
 */
static void signed_headers(const char *host, const struct strvec *extra,
			   struct buf *canon, struct buf *names)
{
	struct strvec lines = STRVEC_INIT;
	size_t i;

	strvec_pushf(&lines, "host:%s", host);
	for (i = 0; extra && i < extra->nr; i++) {
		const char *colon = strchr(extra->v[i], ':'), *v;

		if (!colon)
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		strvec_pushf(&lines, "%.*s:%s", (int)(colon - extra->v[i]),
			     extra->v[i], v);
	}
	qsort(lines.v, lines.nr, sizeof(*lines.v), compare_lines);
	for (i = 0; i < lines.nr; i++) {
		const char *colon = strchr(lines.v[i], ':');

		(void)buf_addf(canon, "%s\n", lines.v[i]);
		(void)buf_addf(names, "%s%.*s", i ? ";" : "",
			       (int)(colon - lines.v[i]), lines.v[i]);
	}
	strvec_clear(&lines);
}

int s3_presign_url(const struct s3_presign *p, struct buf *url,
		   struct buf *err)
{
	struct buf host = BUF_INIT, uri = BUF_INIT, query = BUF_INIT,
		   creq = BUF_INIT,
		   cred = BUF_INIT, canon = BUF_INIT, names = BUF_INIT;
	const char *region = p->region && *p->region ? p->region :
			     S3_DEFAULT_REGION;
	char hex[SHA256_HEX_LEN + 1], date[32], day[9];
	struct tm tm;
	size_t i;

	if (!p->bucket || !*p->bucket) {
		buf_seterr(err, "no S3 bucket name (BucketName)");
		return CR_ERR_INVALID;
	}
	if (!p->access_key || !*p->access_key || !p->secret_key ||
	    !*p->secret_key) {
		buf_seterr(err, "no S3 credentials (AccessKey, SecretKey)");
		return CR_ERR_INVALID;
	}
	if (p->expires < S3_PRESIGN_MIN_EXPIRES ||
	    p->expires > S3_PRESIGN_MAX_EXPIRES) {
		buf_seterr(err, "pre-signed URL lifetime %ld s out of range",
			   p->expires);
		return CR_ERR_INVALID;
	}
	if (!gmtime_r(&p->now, &tm) ||
	    !strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm)) {
		buf_seterr(err, "cannot format the signing time");
		return CR_ERR_INVALID;
	}
	memcpy(day, date, 8);
	day[8] = '\0';

	if (!p->path_style)
		(void)buf_addf(&host, "%s.", p->bucket);
	(void)buf_addstr(&host, p->server && *p->server ? p->server :
			 S3_DEFAULT_SERVER);
	for (i = 0; i < host.len; i++)
		if (host.data[i] >= 'A' && host.data[i] <= 'Z')
			host.data[i] = (char)(host.data[i] - 'A' + 'a');
	(void)buf_addch(&uri, '/');
	if (p->path_style) {
		uri_encode(&uri, p->bucket, false);
		if (!p->subresource)
			(void)buf_addch(&uri, '/');
	}
	if (!p->subresource)
		uri_encode(&uri, p->object ? p->object : "", true);

	(void)buf_addf(&cred, "%s/%s/%s/s3/aws4_request", p->access_key, day,
		       region);
	/* Parameters in byte order, as the canonical request wants them. */
	(void)buf_addstr(&query, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=");
	uri_encode(&query, cred.data, false);
	(void)buf_addf(&query, "&X-Amz-Date=%s&X-Amz-Expires=%ld", date,
		       p->expires);
	if (p->session_token && *p->session_token) {
		(void)buf_addstr(&query, "&X-Amz-Security-Token=");
		uri_encode(&query, p->session_token, false);
	}
	signed_headers(host.data, p->headers, &canon, &names);
	(void)buf_addstr(&query, "&X-Amz-SignedHeaders=");
	uri_encode(&query, names.data, false);
	/* Lower case sorts after every X-Amz- parameter. */
	if (p->subresource)
		(void)buf_addf(&query, "&%s=", p->subresource);

	(void)buf_addf(&creq, "%s\n%s\n%s\n%s\n%s\nUNSIGNED-PAYLOAD",
		       p->method, uri.data, query.data, canon.data, names.data);
	aws_sigv4_signature(p->secret_key, date, day, region, "s3", &creq,
			    hex);

	(void)buf_addf(url, "%s://%s%s?%s&X-Amz-Signature=%s",
		       p->insecure ? "http" : "https", host.data, uri.data,
		       query.data, hex);
	buf_release(&host);
	buf_release(&uri);
	buf_release(&query);
	buf_release(&creq);
	buf_release(&cred);
	buf_release(&canon);
	buf_release(&names);
	return 0;
}

/* Appends the components of s to parts as path.Clean would resolve them;
 * returns -1 when ".." would climb above floor components. */
static int push_clean(struct strvec *parts, const char *s, size_t floor)
{
	char *copy = xstrdup(s ? s : ""), *save = NULL, *c;
	int r = 0;

	for (c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			if (parts->nr <= floor) {
				r = -1;
				if (!floor)
					continue;	/* above the root: stays at it */
				break;
			}
			free((char *)parts->v[--parts->nr]);
			parts->v[parts->nr] = NULL;
			continue;
		}
		strvec_push(parts, c);
	}
	free(copy);
	return floor ? r : 0;
}

int cache_object_name(const char *path, bool shared, const char *short_token,
		      int64_t project_id, const char *key, struct buf *out,
		      struct buf *err)
{
	struct strvec parts = STRVEC_INIT;
	char id[32];
	size_t base, i;
	int r = 0;

	if (!key || !*key) {
		buf_seterr(err, "empty cache key");
		return CR_ERR_INVALID;
	}
	(void)push_clean(&parts, path, 0);
	if (!shared) {
		strvec_push(&parts, "runner");
		(void)push_clean(&parts, short_token, 0);
	}
	strvec_push(&parts, "project");
	snprintf(id, sizeof(id), "%" PRId64, project_id);
	strvec_push(&parts, id);
	base = parts.nr;
	if (push_clean(&parts, key, base) != 0 || parts.nr == base) {
		buf_seterr(err, "computed cache path outside of project bucket. Please remove `../` from cache key");
		r = CR_ERR_INVALID;
		goto out;
	}
	for (i = 0; i < parts.nr; i++)
		(void)buf_addf(out, "%s%s", i ? "/" : "", parts.v[i]);
out:
	strvec_clear(&parts);
	return r;
}

bool cache_remote_enabled(const struct config_cache *cfg)
{
	return cfg && cfg->type && *cfg->type;
}

int s3_sse_headers(const struct config_cache_s3 *s3, struct strvec *headers,
		   struct buf *err)
{
	const char *type = s3->server_side_encryption, *kms = NULL;

	if (!type || !*type)
		return 0;
	if (!strcasecmp(type, "S3") || !strcasecmp(type, "AES256")) {
		strvec_push(headers, "x-amz-server-side-encryption: AES256");
		return 0;
	}
	if (!strcasecmp(type, "KMS") || !strcasecmp(type, "AWS:KMS"))
		kms = "aws:kms";
	else if (!strcasecmp(type, "DSSE-KMS") ||
		 !strcasecmp(type, "AWS:KMS:DSSE"))
		kms = "aws:kms:dsse";
	if (!kms) {
		buf_seterr(err, "unknown ServerSideEncryption value: %s", type);
		return CR_ERR_INVALID;
	}
	strvec_pushf(headers, "x-amz-server-side-encryption: %s", kms);
	/* The SDK leaves an empty key id out: the bucket's default key. */
	if (s3->server_side_encryption_key_id &&
	    *s3->server_side_encryption_key_id)
		strvec_pushf(headers,
			     "x-amz-server-side-encryption-aws-kms-key-id: %s",
			     s3->server_side_encryption_key_id);
	return 0;
}

enum s3_auth s3_auth_type(const struct config_cache_s3 *s3)
{
	const char *t = s3->authentication_type;

	if (t && *t) {
		if (!strcasecmp(t, "access-key"))
			return S3_AUTH_ACCESS_KEY;
		if (!strcasecmp(t, "iam"))
			return S3_AUTH_IAM;
		return S3_AUTH_UNKNOWN;
	}
	/* gitlab-runner's AuthType(): anything missing means IAM. */
	if (!s3->server_address || !*s3->server_address ||
	    !s3->access_key || !*s3->access_key ||
	    !s3->secret_key || !*s3->secret_key)
		return S3_AUTH_IAM;
	return S3_AUTH_ACCESS_KEY;
}

/* GetEndpoint() of gitlab-runner is the AWS default: https://s3.amazonaws.com. */
static bool aws_default_endpoint(const struct config_cache_s3 *s3)
{
	const char *a = s3->server_address;

	if (!a || !*a)
		return true;
	return !s3->insecure && (!strcasecmp(a, S3_DEFAULT_SERVER) ||
				 !strcasecmp(a, S3_DEFAULT_SERVER ":443"));
}

const char *s3_aws_dns_suffix(const char *region)
{
	return region && !strncmp(region, "cn-", 3) ? "amazonaws.com.cn" :
	       "amazonaws.com";
}

/* Whether host is on AWS (amazonaws.com or amazonaws.com.cn). */
static bool aws_host(const char *host)
{
	size_t len = strlen(host);

	return (len >= 13 && !strcasecmp(host + len - 13, "amazonaws.com")) ||
	       (len >= 16 && !strcasecmp(host + len - 16, "amazonaws.com.cn"));
}

int s3_endpoint(const struct config_cache_s3 *s3, struct buf *server,
		bool *path_style, struct buf *err)
{
	const char *region = s3->bucket_location && *s3->bucket_location ?
			     s3->bucket_location : S3_DEFAULT_REGION;
	const char *bucket = s3->bucket_name ? s3->bucket_name : "";
	bool dual = s3->dual_stack != CONFIG_FALSE;
	size_t len;

	if (!aws_default_endpoint(s3)) {
		/* A BaseEndpoint: no dual-stack or acceleration host. */
		(void)buf_addstr(server, s3->server_address);
		len = strcspn(server->data, ":");
		server->data[len] = '\0';	/* the host, for a moment */
		if (s3->path_style != CONFIG_UNSET)
			*path_style = s3->path_style == CONFIG_TRUE;
		else
			*path_style = !(aws_host(server->data) &&
					!strchr(bucket, '.'));
		if (len < server->len)
			server->data[len] = ':';
		return 0;
	}
	/* AWS itself: the SDK's regional, dual-stack and accelerate hosts. */
	*path_style = s3->path_style == CONFIG_TRUE ||
		      (s3->path_style == CONFIG_UNSET && strchr(bucket, '.'));
	if (s3->accelerate) {
		if (*path_style) {
			buf_seterr(err, "S3 Accelerate needs virtual-host addressing (PathStyle off, a bucket name without dots)");
			return CR_ERR_INVALID;
		}
		if (!strcmp(s3_aws_dns_suffix(region), "amazonaws.com.cn")) {
			buf_seterr(err, "S3 Accelerate cannot be used in this region (%s)",
				   region);
			return CR_ERR_INVALID;
		}
		(void)buf_addf(server, "s3-accelerate%s.%s",
			       dual ? ".dualstack" : "", s3_aws_dns_suffix(region));
		return 0;
	}
	(void)buf_addf(server, "s3%s.%s.%s", dual ? ".dualstack" : "",
		       region, s3_aws_dns_suffix(region));
	return 0;
}

/* gitlab-runner's getARNForGoCloud(): RoleARN, else UploadRoleARN for an
 * upload; NULL: none. */
static const char *role_for(const struct config_cache_s3 *s3, bool upload)
{
	if (s3->role_arn && *s3->role_arn)
		return s3->role_arn;
	if (upload && s3->upload_role_arn && *s3->upload_role_arn)
		return s3->upload_role_arn;
	return NULL;
}

/* The runner's own credentials: access keys or the IAM chain. */
static int base_creds(const struct config_cache_s3 *s3, enum s3_auth auth,
		      time_t now, struct s3_creds *c, struct buf *err)
{
	if (auth == S3_AUTH_IAM)
		return s3_creds_resolve(now, c, err);
	if (!s3->access_key || !*s3->access_key || !s3->secret_key ||
	    !*s3->secret_key) {
		buf_seterr(err, "no S3 credentials (AccessKey, SecretKey)");
		return CR_ERR_INVALID;
	}
	c->access_key = xstrdup(s3->access_key);
	c->secret_key = xstrdup(s3->secret_key);
	c->session_token = s3->session_token && *s3->session_token ?
			   xstrdup(s3->session_token) : NULL;
	c->source = "config.toml";
	return 0;
}

int cache_remote_url(const struct config_cache *cfg, const char *method,
		     const char *object, time_t now, long expires,
		     struct buf *url, struct strvec *headers, struct buf *err)
{
	return cache_s3_url(cfg, method, object, now, expires, NULL, url,
			    headers, err);
}

int cache_s3_url(const struct config_cache *cfg, const char *method,
		 const char *object, time_t now, long expires,
		 struct s3_role_cache *roles, struct buf *url,
		 struct strvec *headers, struct buf *err)
{
	const struct config_cache_s3 *s3 = &cfg->s3;
	struct config_cache_s3 located;
	struct s3_presign p = { 0 };
	struct s3_creds creds = S3_CREDS_INIT, base = S3_CREDS_INIT;
	struct buf server = BUF_INIT, region = BUF_INIT;
	bool upload = !strcmp(method, "PUT");
	const char *role = role_for(s3, upload);
	enum s3_auth auth;
	int r;

	if (strcasecmp(cfg->type, "s3")) {
		buf_seterr(err, "cache type %s is not supported (only s3)",
			   cfg->type);
		return CR_ERR_UNSUPPORTED;
	}
	if ((auth = s3_auth_type(s3)) == S3_AUTH_UNKNOWN) {
		buf_seterr(err, "S3 authentication type %s is not supported (access-key or iam)",
			   s3->authentication_type);
		return CR_ERR_UNSUPPORTED;
	}
	/* No BucketLocation: the bucket's region, asked with the runner's
	 * own credentials (gitlab-runner's detectBucketLocation()). */
	if (!s3->bucket_location || !*s3->bucket_location) {
		if ((r = base_creds(s3, auth, now, &base, err)) != 0)
			goto out;
		s3_detect_bucket_location(s3, &base, now, &region);
		located = *s3;
		located.bucket_location = region.data;
		s3 = &located;
	}
	if ((r = s3_endpoint(s3, &server, &p.path_style, err)) != 0)
		goto out;
	if (role) {
		struct s3_role_request rr = { 0 };
		struct buf sse = BUF_INIT;
		struct strvec h = STRVEC_INIT;

		if (!base.access_key &&
		    (r = base_creds(s3, auth, now, &base, err)) != 0)
			goto out;
		rr.role_arn = role;
		rr.bucket = s3->bucket_name ? s3->bucket_name : "";
		rr.object = object ? object : "";
		rr.upload = upload;
		rr.region = s3->bucket_location;
		/* The KMS statement goes with KMS and DSSE-KMS encryption. */
		if (s3_sse_headers(s3, &h, &sse) == 0 && h.nr &&
		    strstr(h.v[0], "aws:kms"))
			rr.kms_key_id = s3->server_side_encryption_key_id;
		strvec_clear(&h);
		buf_release(&sse);
		rr.base = &base;
		rr.now = now;
		rr.timeout = expires;
		/* gitlab-runner's disableCredCache: no lookup, no keeping. */
		if ((r = s3_assume_role(&rr,
					s3->disable_assume_role_credentials_caching ?
					NULL : roles, &creds, err)) != 0)
			goto out;
	} else if (auth == S3_AUTH_IAM) {
		if ((r = s3_creds_resolve(now, &creds, err)) != 0)
			goto out;
	}
	/* A URL outliving its credentials would be refused anyway. */
	if ((role || auth == S3_AUTH_IAM) && creds.expiration &&
	    creds.expiration - now < expires)
		expires = (long)(creds.expiration - now);
	p.method = method;
	p.insecure = s3->insecure;
	p.server = server.data;
	p.bucket = s3->bucket_name;
	p.object = object;
	p.region = s3->bucket_location;
	if (role || auth == S3_AUTH_IAM) {
		p.access_key = creds.access_key;
		p.secret_key = creds.secret_key;
		p.session_token = creds.session_token;
	} else {
		p.access_key = s3->access_key;
		p.secret_key = s3->secret_key;
		p.session_token = s3->session_token;
	}
	p.now = now;
	p.expires = expires < S3_PRESIGN_MIN_EXPIRES ? S3_PRESIGN_MIN_EXPIRES :
		    expires > S3_PRESIGN_MAX_EXPIRES ? S3_PRESIGN_MAX_EXPIRES :
		    expires;
	/*
	 * gitlab-runner's PutObject carries the SSE headers, signed.  An
	 * unknown type is, as there, a warning in the runner's log and no
	 * encryption header.
	 */
	if (headers && !strcmp(method, "PUT")) {
		struct buf why = BUF_INIT;

		if (s3_sse_headers(s3, headers, &why) != 0)
			log_warn("%s", why.data);
		buf_release(&why);
		p.headers = headers;
	}
	r = s3_presign_url(&p, url, err);
out:
	s3_creds_release(&creds);
	s3_creds_release(&base);
	buf_release(&server);
	buf_release(&region);
	return r;
}

void cache_remote_clean_url(const char *url, struct buf *out)
{
	const char *q = strchr(url, '?');

	(void)buf_add(out, url, q ? (size_t)(q - url) : strlen(url));
}

static void warn(FILE *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(FILE *out, const char *fmt, ...)
{
	va_list ap;

	fputs(ANSI_YELLOW "WARNING: ", out);
	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputs(ANSI_RESET "\n", out);
	fflush(out);
}

/* The text of element name in an XML error body, printable characters
 * only, appended to out; false when there is none. */
static bool xml_element(const struct buf *body, const char *name,
			struct buf *out)
{
	char open[32], close[32];
	const char *b, *e, *p;

	if (!body->len)
		return false;
	snprintf(open, sizeof(open), "<%s>", name);
	snprintf(close, sizeof(close), "</%s>", name);
	if (!(b = strstr(body->data, open)))
		return false;
	b += strlen(open);
	if (!(e = strstr(b, close)) || e == b)
		return false;
	for (p = b; p < e && p - b < 200; p++)
		(void)buf_addch(out, (*p >= ' ' && *p != 0x7f) ? *p : ' ');
	return true;
}

/*
 * "403 Forbidden (code: AccessDenied, message: Request has expired)": the
 * status and, as gitlab-runner's retryOnServerError() adds them, the
 * <Code> and <Message> of the XML error body S3, GCS and Azure answer
 * with; without an answer, why.
 */
static void status_of(const struct gl_http_response *resp, struct buf *out)
{
	char status[64];
	struct buf code = BUF_INIT, msg = BUF_INIT;
	bool has_code, has_msg;

	if (!resp->status) {
		(void)buf_addstr(out, resp->error.len ? resp->error.data :
				 "no answer");
		return;
	}
	gl_artifact_status_text(resp->status, status, sizeof(status));
	(void)buf_addstr(out, status);
	has_code = xml_element(&resp->body, "Code", &code);
	has_msg = xml_element(&resp->body, "Message", &msg);
	if (has_code || has_msg)
		(void)buf_addf(out, " (%s%s%s%s%s)", has_code ? "code: " : "",
			       has_code ? code.data : "",
			       has_code && has_msg ? ", " : "",
			       has_msg ? "message: " : "",
			       has_msg ? msg.data : "");
	buf_release(&code);
	buf_release(&msg);
}

/* Whether gitlab-runner's helpers try a transfer again after resp. */
static bool transfer_retryable(const struct gl_http_response *resp)
{
	if (!resp->status)
		return resp->result != GL_OK;
	return resp->status / 100 == 5;
}

/*
 * req once, and again after a 5xx or no answer, up to
 * CACHE_TRANSFER_ATTEMPTS in all; each retry is one plain line in out
 * (the failure itself is the caller's one warning).  resp holds the last
 * answer.
 */
static void perform_transfer(struct gl_http_request *req,
			     struct gl_http_response *resp, FILE *out)
{
	unsigned attempt;

	req->no_retry = true;
	req->max_response = CACHE_ERROR_BODY_MAX;
	req->truncate_response = true;
	for (attempt = 1;; attempt++) {
		struct buf why = BUF_INIT;

		(void)gl_http_perform_sync(NULL, req, resp);
		if (resp->result == GL_OK || !transfer_retryable(resp) ||
		    attempt >= CACHE_TRANSFER_ATTEMPTS)
			return;
		status_of(resp, &why);
		fprintf(out, "Retrying in %d s (attempt %u of %d): %s\n",
			CACHE_RETRY_WAIT_S, attempt + 1,
			CACHE_TRANSFER_ATTEMPTS, why.data);
		fflush(out);
		buf_release(&why);
		gl_http_response_release(resp);
		*resp = (struct gl_http_response)GL_HTTP_RESPONSE_INIT;
		sleep(CACHE_RETRY_WAIT_S);
	}
}

int cache_remote_download(const char *url, const struct strvec *headers,
			  const char *file, const struct cache_parallel *par,
			  FILE *out)
{
	struct gl_http_request req = { 0 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct buf clean = BUF_INIT, tmp = BUF_INIT, err = BUF_INIT,
		   status = BUF_INIT;
	int r = 0;

	cache_remote_clean_url(url, &clean);
	if (fs_make_parent_dirs(file, 0700, &err) != 0) {
		warn(out, "%s", err.data);
		r = CR_ERR_IO;
		goto out;
	}
	if (par && par->on && par->concurrency > 1 &&
	    (r = cache_parallel_download(url, headers, file, par, out)) !=
	    CACHE_PARALLEL_FALLBACK)
		goto out;
	r = 0;
	(void)buf_addf(&tmp, "%s.download-%ld", file, (long)getpid());
	fprintf(out, "Downloading %s from %s\n", strrchr(file, '/') ?
		strrchr(file, '/') + 1 : file, clean.data);
	fflush(out);
	req.method = "GET";
	req.url = url;
	req.headers = headers;
	req.timeout_ms = CACHE_REQUEST_TIMEOUT_MS;
	req.download_file = tmp.data;
	perform_transfer(&req, &resp, out);
	status_of(&resp, &status);
	if (resp.status == 404) {
		warn(out, "No cache at %s (%s)", clean.data, status.data);
		r = CR_ERR_NOT_FOUND;
	} else if (resp.result != GL_OK) {
		warn(out, "Downloading cache from %s failed: %s", clean.data,
		     status.data);
		r = CR_ERR_NETWORK;
	} else if (rename(tmp.data, file) != 0) {
		warn(out, "cannot rename %s: %s", tmp.data, strerror(errno));
		r = CR_ERR_IO;
	}
	if (r)
		unlink(tmp.data);
out:
	gl_http_response_release(&resp);
	buf_release(&clean);
	buf_release(&tmp);
	buf_release(&err);
	buf_release(&status);
	return r;
}

static bool has_header(const struct strvec *headers, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < headers->nr; i++)
		if (!strncasecmp(headers->v[i], name, n) &&
		    headers->v[i][n] == ':')
			return true;
	return false;
}

int cache_remote_upload(const char *url, const struct strvec *extra,
			const char *file, int64_t max_size, FILE *out)
{
	struct gl_http_request req = { 0 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct strvec headers = STRVEC_INIT;
	struct buf clean = BUF_INIT, status = BUF_INIT;
	struct stat st;
	int r = 0;

	if (stat(file, &st) != 0) {
		warn(out, "cannot read %s: %s", file, strerror(errno));
		return CR_ERR_IO;
	}
	cache_remote_clean_url(url, &clean);
	if (max_size > 0 && (int64_t)st.st_size > max_size) {
		warn(out, "Cache archive size (%lld bytes) is over the maximum uploaded archive size (%lld bytes): not uploading it to %s",
		     (long long)st.st_size, (long long)max_size, clean.data);
		buf_release(&clean);
		return 0;
	}
	fprintf(out, "Uploading %s to %s\n", strrchr(file, '/') ?
		strrchr(file, '/') + 1 : file, clean.data);
	fflush(out);
	/* As gitlab-runner's archiver: extra headers, then a default type. */
	if (extra)
		strvec_pushv(&headers, (const char **)extra->v);
	if (!has_header(&headers, "Content-Type"))
		strvec_push(&headers, "Content-Type: application/octet-stream");
	req.method = "PUT";
	req.url = url;
	req.headers = &headers;
	req.timeout_ms = CACHE_REQUEST_TIMEOUT_MS;
	req.put_file = file;
	perform_transfer(&req, &resp, out);
	if (resp.result != GL_OK) {
		status_of(&resp, &status);
		warn(out, "Uploading cache to %s failed: %s", clean.data,
		     status.data);
		r = CR_ERR_NETWORK;
	}
	gl_http_response_release(&resp);
	strvec_clear(&headers);
	buf_release(&clean);
	buf_release(&status);
	return r;
}
