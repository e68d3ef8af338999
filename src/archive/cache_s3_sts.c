/*
 * STS AssumeRole for the S3 cache's RoleARN, and the credentials cache
 * (cache_s3_sts.h).
 */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "archive/cache_remote.h"
#include "archive/cache_s3_sts.h"
#include "gitlab/http.h"
#include "util/aws_sigv4.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/random.h"
#include "util/sha256.h"
#include "util/strvec.h"
#include "util/timeparse.h"
#include "util/url_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct role_entry {
	char *key;			/* role \0 bucket \0 object \0 u|d */
	size_t key_len;
	struct s3_creds creds;
	struct role_entry *next;
};

struct s3_role_cache {
	/* Held across a lookup, the STS call and the store: two signers
	 * wanting the same role make one call (signers run off the loop
	 * thread: archive/cache_plan.h). */
	pthread_mutex_t lock;
	struct role_entry *head;	/* newest first */
	size_t nr;
	int refs;			/* atomic */
};

struct s3_role_cache *s3_role_cache_new(void)
{
	struct s3_role_cache *c = xcalloc(1, sizeof(*c));

	(void)pthread_mutex_init(&c->lock, NULL);
	c->refs = 1;
	return c;
}

struct s3_role_cache *s3_role_cache_ref(struct s3_role_cache *c)
{
	if (c)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

static void entry_free(struct role_entry *e)
{
	free(e->key);
	s3_creds_release(&e->creds);
	free(e);
}

void s3_role_cache_free(struct s3_role_cache *c)
{
	struct role_entry *e, *next;

	if (!c || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (e = c->head; e; e = next) {
		next = e->next;
		entry_free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void copy_creds(const struct s3_creds *from, struct s3_creds *to)
{
	to->access_key = xstrdup(from->access_key);
	to->secret_key = xstrdup(from->secret_key);
	to->session_token = from->session_token ?
			    xstrdup(from->session_token) : NULL;
	to->expiration = from->expiration;
	to->source_buf = from->source ? xstrdup(from->source) : NULL;
	to->source = to->source_buf;
}

static void cache_key(const struct s3_role_request *r, struct buf *key)
{
	(void)buf_addstr(key, r->role_arn);
	(void)buf_addch(key, '\0');
	(void)buf_addstr(key, r->bucket);
	(void)buf_addch(key, '\0');
	(void)buf_addstr(key, r->object);
	(void)buf_addch(key, '\0');
	(void)buf_addch(key, r->upload ? 'u' : 'd');
}

/* Drops expired entries; returns the one for key if fresh enough. */
static struct role_entry *cache_find(struct s3_role_cache *c,
				     const struct buf *key, time_t now,
				     long min_validity)
{
	struct role_entry **pp = &c->head, *e, *found = NULL;

	while ((e = *pp)) {
		if (e->creds.expiration <= now) {
			*pp = e->next;
			entry_free(e);
			c->nr--;
			continue;
		}
		if (e->key_len == key->len && !memcmp(e->key, key->data, key->len) &&
		    e->creds.expiration - now >= min_validity)
			found = e;
		pp = &e->next;
	}
	return found;
}

static void cache_store(struct s3_role_cache *c, const struct buf *key,
			const struct s3_creds *creds)
{
	struct role_entry *e = xcalloc(1, sizeof(*e)), **pp;

	e->key = xmalloc(key->len);
	memcpy(e->key, key->data, key->len);
	e->key_len = key->len;
	copy_creds(creds, &e->creds);
	e->next = c->head;
	c->head = e;
	if (++c->nr <= STS_CACHE_MAX)
		return;
	/* Full: the oldest goes. */
	for (pp = &c->head; (*pp)->next; pp = &(*pp)->next)
		;
	entry_free(*pp);
	*pp = NULL;
	c->nr--;
}

static const char *partition(const char *region)
{
	if (!strncmp(region, "us-gov-", 7))
		return "aws-us-gov";
	if (!strncmp(region, "cn-", 3))
		return "aws-cn";
	return "aws";
}

static const char *region_of(const struct s3_role_request *r)
{
	return r->region && *r->region ? r->region : S3_DEFAULT_REGION;
}

char *s3_role_session_policy(const struct s3_role_request *r)
{
	json_t *doc = json_object(), *list = json_array(), *st;
	struct buf res = BUF_INIT;
	char *text;

	(void)buf_addf(&res, "arn:%s:s3:::%s/%s", partition(region_of(r)),
		       r->bucket, r->object);
	st = json_pack("{s:s, s:[s], s:s}", "Effect", "Allow", "Action",
		       r->upload ? "s3:PutObject" : "s3:GetObject",
		       "Resource", res.data);
	json_array_append_new(list, st);
	if (r->kms_key_id) {
		st = json_pack("{s:s, s:[s, s], s:s}", "Effect", "Allow",
			       "Action", "kms:Decrypt", "kms:GenerateDataKey",
			       "Resource", r->kms_key_id);
		json_array_append_new(list, st);
	}
	json_object_set_new(doc, "Version", json_string("2012-10-17"));
	json_object_set_new(doc, "Statement", list);
	text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	buf_release(&res);
	return text;
}

/* "https://host[:port]" of STS, without a trailing slash. */
static void sts_endpoint(const char *region, struct buf *out)
{
	const char *ep = getenv("AWS_ENDPOINT_URL_STS");

	if (!ep || !*ep)
		ep = getenv("AWS_ENDPOINT_URL");
	if (ep && *ep)
		(void)buf_addstr(out, ep);
	else
		(void)buf_addf(out, "https://sts.%s.amazonaws.com", region);
	while (out->len && out->data[out->len - 1] == '/')
		buf_setlen(out, out->len - 1);
}

/* The Authorization header of a SigV4-signed POST / with body. */
static void authorization(const struct s3_creds *c, const char *region,
			  const char *host, const char *date,
			  const char *content_type, const char *body,
			  struct buf *out)
{
	struct aws_sigv4_header h[4];
	struct aws_sigv4_request r = { 0 };
	size_t n = 0;

	h[n++] = (struct aws_sigv4_header){ "content-type", content_type };
	h[n++] = (struct aws_sigv4_header){ "host", host };
	h[n++] = (struct aws_sigv4_header){ "x-amz-date", date };
	if (c->session_token)
		h[n++] = (struct aws_sigv4_header){ "x-amz-security-token",
						    c->session_token };
	r.access_key = c->access_key;
	r.secret_key = c->secret_key;
	r.region = region;
	r.service = "sts";
	r.date = date;
	r.method = "POST";
	r.path = "/";
	r.query = "";
	r.headers = h;
	r.nr_headers = n;
	r.body = body;
	r.body_len = strlen(body);
	(void)buf_addstr(out, "Authorization: ");
	aws_sigv4_authorization(&r, out);
}

static int parse_answer(const struct gl_http_response *resp,
			const char *role, struct s3_creds *out,
			struct buf *err)
{
	const char *xml = resp->body.data ? resp->body.data : "";
	char *code, *msg, *exp;
	int r = 0;

	if (resp->status != 200) {
		code = aws_xml_text(xml, "Code");
		msg = aws_xml_text(xml, "Message");
		buf_seterr(err, "failed to assume role %s: %ld %s: %s", role,
			   resp->status, code ? code : "no error code",
			   msg ? msg : "no message");
		free(code);
		free(msg);
		return resp->status == 403 ? CR_ERR_AUTH : CR_ERR_PROTOCOL;
	}
	out->access_key = aws_xml_text(xml, "AccessKeyId");
	out->secret_key = aws_xml_text(xml, "SecretAccessKey");
	out->session_token = aws_xml_text(xml, "SessionToken");
	exp = aws_xml_text(xml, "Expiration");
	if (!out->access_key || !out->secret_key || !out->session_token ||
	    !exp || time_parse_rfc3339(exp, &out->expiration) != 0) {
		buf_seterr(err, "failed to assume role %s: no credentials in the STS answer",
			   role);
		r = CR_ERR_PROTOCOL;
	}
	free(exp);
	return r;
}

static int call_sts(const struct s3_role_request *r, struct s3_creds *out,
		    struct buf *err)
{
	static const char ctype[] = "application/x-www-form-urlencoded; charset=utf-8";
	const char *region = region_of(r), *host, *end;
	struct gl_http_request req = { 0 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	struct strvec headers = STRVEC_INIT;
	struct buf url = BUF_INIT, body = BUF_INIT, hostb = BUF_INIT,
		   auth = BUF_INIT, src = BUF_INIT;
	char *policy = s3_role_session_policy(r), date[32];
	struct tm tm;
	size_t i;
	int rc = 0;

	sts_endpoint(region, &url);
	host = strstr(url.data, "://");
	host = host ? host + 3 : url.data;
	end = host + strcspn(host, "/");
	(void)buf_add(&hostb, host, (size_t)(end - host));
	(void)buf_addch(&url, '/');
	if (!gmtime_r(&r->now, &tm) ||
	    !strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm)) {
		buf_seterr(err, "cannot format the signing time");
		rc = CR_ERR_INVALID;
		goto out;
	}
	(void)buf_addstr(&body, "Action=AssumeRole&DurationSeconds=");
	(void)buf_addf(&body, "%ld&Policy=", STS_SESSION_SECONDS);
	url_query_escape(&body, policy);
	(void)buf_addstr(&body, "&RoleArn=");
	url_query_escape(&body, r->role_arn);
	(void)buf_addf(&body, "&RoleSessionName=gitlab-runner-cache-upload-%08x%08x&Version=2011-06-15",
		       random_u32(), random_u32());
	authorization(r->base, region, hostb.data, date, ctype, body.data, &auth);
	strvec_pushf(&headers, "Content-Type: %s", ctype);
	strvec_pushf(&headers, "X-Amz-Date: %s", date);
	if (r->base->session_token)
		strvec_pushf(&headers, "X-Amz-Security-Token: %s",
			     r->base->session_token);
	strvec_push(&headers, auth.data);
	req.method = "POST";
	req.url = url.data;
	req.headers = &headers;
	req.body = body.data;
	req.body_len = body.len;
	req.timeout_ms = STS_TIMEOUT_MS;
	req.max_response = 64 << 10;
	(void)gl_http_perform_sync(NULL, &req, &resp);
	if (!resp.status) {
		buf_seterr(err, "failed to assume role %s: cannot reach STS at %s: %s",
			   r->role_arn, url.data, resp.error.len ?
			   resp.error.data : "no answer");
		rc = CR_ERR_NETWORK;
		goto out;
	}
	if ((rc = parse_answer(&resp, r->role_arn, out, err)) != 0)
		goto out;
	(void)buf_addf(&src, "role %s", r->role_arn);
	out->source_buf = buf_detach(&src, NULL);
	out->source = out->source_buf;
out:
	if (rc)
		s3_creds_release(out);
	if (resp.body.len)
		explicit_bzero(resp.body.data, resp.body.len);
	gl_http_response_release(&resp);
	for (i = 0; i < headers.nr; i++)
		explicit_bzero((char *)headers.v[i], strlen(headers.v[i]));
	strvec_clear(&headers);
	free(policy);
	buf_release(&url);
	buf_release(&body);
	buf_release(&hostb);
	buf_release_secret(&auth);
	buf_release(&src);
	return rc;
}

int s3_assume_role(const struct s3_role_request *r, struct s3_role_cache *cache,
		   struct s3_creds *out, struct buf *err)
{
	long min_validity = r->timeout < 60 ? 60 : r->timeout;
	struct buf key = BUF_INIT;
	struct role_entry *e;
	int rc = 0;

	if (min_validity > STS_MIN_VALIDITY_CAP_S)
		min_validity = STS_MIN_VALIDITY_CAP_S;
	cache_key(r, &key);
	if (cache)
		(void)pthread_mutex_lock(&cache->lock);
	if (cache && (e = cache_find(cache, &key, r->now, min_validity))) {
		copy_creds(&e->creds, out);
		goto done;
	}
	if ((rc = call_sts(r, out, err)) != 0)
		goto done;
	if (cache)
		cache_store(cache, &key, out);
done:
	if (cache)
		(void)pthread_mutex_unlock(&cache->lock);
	buf_release(&key);
	return rc;
}
