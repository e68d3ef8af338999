/*
 * GCS V2 signed URLs for the distributed cache (cache_gcs.h says which
 * string is signed, by whom, and why V2).
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "archive/cache_gcs.h"
#include "archive/cache_gcs_identity.h"
#include "config/config.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/rsa_sign.h"
#include "util/strvec.h"
#include "util/url_escape.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* A service account file is a few kilobytes. */
#define GCS_CREDENTIALS_MAX (1L << 20)

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static int compare_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The canonical extension headers: x-goog-* names lower-cased, values
 * trimmed, sorted as "name:value" strings (Go's v2SanitizeHeaders). */
static void canonical_headers(const struct strvec *headers, struct buf *out)
{
	struct strvec lines = STRVEC_INIT;
	size_t i;

	for (i = 0; headers && i < headers->nr; i++) {
		const char *h = headers->v[i], *colon = strchr(h, ':'), *v, *e;
		struct buf line = BUF_INIT;
		size_t n;

		while (*h == ' ' || *h == '\t')
			h++;
		if (!colon || strncasecmp(h, "x-goog-", 7) ||
		    !strncasecmp(h, "x-goog-encryption-key", 21))
			continue;
		for (n = (size_t)(colon - h); n && (h[n - 1] == ' ' || h[n - 1] == '\t'); n--)
			;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--)
			;
		if (e == v)
			continue;	/* Go drops headers without a value */
		for (; n; n--, h++)
			(void)buf_addch(&line, (char)(*h >= 'A' && *h <= 'Z' ?
						   *h - 'A' + 'a' : *h));
		(void)buf_addf(&line, ":%.*s", (int)(e - v), v);
		strvec_push_nodup(&lines, buf_detach(&line, NULL));
	}
	qsort(lines.v, lines.nr, sizeof(*lines.v), compare_str);
	for (i = 0; i < lines.nr; i++)
		(void)buf_addf(out, "%s\n", lines.v[i]);
	strvec_clear(&lines);
}

static void escaped_path(const char *bucket, const char *object,
			 struct buf *out)
{
	struct buf raw = BUF_INIT;

	(void)buf_addf(&raw, "/%s/%s", bucket, object ? object : "");
	url_path_escape(out, raw.data);
	buf_release(&raw);
}

void gcs_v2_string_to_sign(const struct gcs_v2_request *r, struct buf *out)
{
	(void)buf_addf(out, "%s\n\n%s\n%lld\n", r->method,
		       r->content_type ? r->content_type : "",
		       (long long)r->expires);
	canonical_headers(r->headers, out);
	escaped_path(r->bucket, r->object, out);
}

void gcs_storage_base(const char *universe, struct buf *out)
{
	const char *emu = getenv("STORAGE_EMULATOR_HOST"), *sep;

	if (emu && *emu) {
		sep = strstr(emu, "://");
		if (sep && (size_t)(sep - emu) == 4 && !strncasecmp(emu, "http", 4))
			(void)buf_addf(out, "http://%s", sep + 3);
		else
			(void)buf_addf(out, "https://%s", sep ? sep + 3 : emu);
		while (out->len && out->data[out->len - 1] == '/')
			buf_setlen(out, out->len - 1);
		return;
	}
	(void)buf_addf(out, "https://storage.%s", universe && *universe ?
		       universe : GCS_DEFAULT_UNIVERSE);
}

/* A service_account JSON file: its e-mail and key, where the config has
 * none of its own. */
static int from_file(const char *path, const struct config_cache_gcs *cfg,
		     struct gcs_signer *s, struct buf *err)
{
	json_error_t jerr;
	json_t *j = NULL;
	const char *type, *email, *key;
	struct stat st;
	int r = CR_ERR_INVALID;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		buf_seterr(err, "error while reading credentials file %s: not a readable file",
			   path);
		return CR_ERR_IO;
	}
	if (st.st_size > GCS_CREDENTIALS_MAX) {
		buf_seterr(err, "credentials file %s is larger than %ld bytes",
			   path, GCS_CREDENTIALS_MAX);
		return CR_ERR_INVALID;
	}
	if (!(j = json_load_file(path, 0, &jerr)) || !json_is_object(j)) {
		buf_seterr(err, "error while parsing credentials file %s: %s",
			   path, j ? "not a JSON object" : jerr.text);
		goto out;
	}
	type = json_string_value(json_object_get(j, "type"));
	email = json_string_value(json_object_get(j, "client_email"));
	key = json_string_value(json_object_get(j, "private_key"));
	if (!type || strcmp(type, "service_account")) {
		buf_seterr(err, "unsupported credentials file type: %s (crunner signs with service_account files only)",
			   type ? type : "(none)");
		goto out;
	}
	s->access_id = dup_or_null(cfg->access_id && *cfg->access_id ?
				   cfg->access_id : email);
	s->private_key = dup_or_null(cfg->private_key && *cfg->private_key ?
				     cfg->private_key : key);
	if (!s->access_id || !s->private_key) {
		buf_seterr(err, "credentials file %s has no client_email or private_key",
			   path);
		goto out;
	}
	{
		struct buf src = BUF_INIT;

		(void)buf_addf(&src, "credentials file %s", path);
		s->source = buf_detach(&src, NULL);
	}
	r = 0;
out:
	if (j) {
		json_t *k = json_object_get(j, "private_key");

		if (json_is_string(k))
			explicit_bzero((char *)json_string_value(k),
				       json_string_length(k));
	}
	json_decref(j);
	return r;
}

int gcs_signer_resolve(const struct config_cache_gcs *cfg,
		       struct gcs_signer *s, struct buf *err)
{
	const char *adc = getenv("GOOGLE_APPLICATION_CREDENTIALS");
	bool id = cfg->access_id && *cfg->access_id,
	     key = cfg->private_key && *cfg->private_key;
	int r;

	if (cfg->credentials_file && *cfg->credentials_file)
		return from_file(cfg->credentials_file, cfg, s, err);
	if (id || key) {
		if (!id || !key) {
			buf_seterr(err, "GCS config present, but credentials are not configured (AccessID and PrivateKey go together)");
			return CR_ERR_INVALID;
		}
		s->access_id = xstrdup(cfg->access_id);
		s->private_key = xstrdup(cfg->private_key);
		s->source = xstrdup("AccessID and PrivateKey");
		return 0;
	}
	/* Application default credentials, as gcsv2's storage client (the
	 * legacy adapter goes to the metadata server). */
	if (adc && *adc && !cfg->legacy_adapter)
		return from_file(adc, cfg, s, err);
	if ((r = gce_metadata_identity(&s->access_id, &s->token, err)) != 0)
		return r;
	{
		struct buf b = BUF_INIT;

		(void)buf_addf(&b, "https://iamcredentials.%s",
			       cfg->universe_domain && *cfg->universe_domain ?
			       cfg->universe_domain : GCS_DEFAULT_UNIVERSE);
		s->iam_base = buf_detach(&b, NULL);
	}
	s->source = xstrdup("the GCE metadata server's service account");
	return 0;
}

int gcs_signer_sign(const struct gcs_signer *s, const void *data, size_t len,
		    struct buf *sig, struct buf *err)
{
	if (s->private_key)
		return rsa_sha256_sign(s->private_key, data, len, sig, err);
	return gcs_iam_sign_blob(s->iam_base, s->access_id, s->token, data,
				 len, sig, err);
}

void gcs_signer_release(struct gcs_signer *s)
{
	free(s->access_id);
	wipe_free(s->private_key);
	wipe_free(s->token);
	free(s->iam_base);
	free(s->source);
	memset(s, 0, sizeof(*s));
}

int gcs_signed_url(const struct config_cache *cfg, const char *method,
		   const char *object, time_t now, long expires,
		   struct buf *url, struct strvec *headers, struct buf *err)
{
	const struct config_cache_gcs *gcs = &cfg->gcs;
	struct gcs_signer signer = GCS_SIGNER_INIT;
	struct gcs_v2_request req = { 0 };
	struct strvec signed_headers = STRVEC_INIT;
	struct buf sts = BUF_INIT, sig = BUF_INIT, b64 = BUF_INIT,
		   why = BUF_INIT;
	bool put = !strcmp(method, "PUT");
	size_t first_new, i;
	int r;

	if (!gcs->bucket_name || !*gcs->bucket_name) {
		buf_seterr(err, "config BucketName cannot be empty");
		return CR_ERR_INVALID;
	}
	if (expires < 1) {
		buf_seterr(err, "signed URL lifetime %ld s out of range", expires);
		return CR_ERR_INVALID;
	}
	if ((r = gcs_signer_resolve(gcs, &signer, &why)) != 0) {
		buf_seterr(err, "error while resolving GCS credentials: %s",
			   why.data);
		goto out;
	}
	/* Headers already in headers (metadata) are signed too. */
	if (put && headers)
		strvec_pushv(&signed_headers, (const char **)headers->v);
	first_new = signed_headers.nr;
	if (put && cfg->max_uploaded_archive_size > 0)
		strvec_pushf(&signed_headers, "X-Goog-Content-Length-Range: 0,%lld",
			     (long long)cfg->max_uploaded_archive_size);
	req.method = method;
	req.content_type = put ? GCS_UPLOAD_CONTENT_TYPE : NULL;
	req.headers = &signed_headers;
	req.bucket = gcs->bucket_name;
	req.object = object;
	req.expires = now + expires;
	gcs_v2_string_to_sign(&req, &sts);
	if ((r = gcs_signer_sign(&signer, sts.data, sts.len, &sig, &why)) != 0) {
		buf_seterr(err, "error while generating GCS signed URL (%s): %s",
			   signer.source, why.data);
		goto out;
	}
	base64_encode(&b64, sig.data, sig.len);
	gcs_storage_base(gcs->universe_domain, url);
	escaped_path(gcs->bucket_name, object, url);
	(void)buf_addf(url, "?Expires=%lld&GoogleAccessId=",
		       (long long)req.expires);
	url_query_escape(url, signer.access_id);
	(void)buf_addstr(url, "&Signature=");
	url_query_escape(url, b64.data);
	for (i = first_new; headers && i < signed_headers.nr; i++)
		strvec_push(headers, signed_headers.v[i]);
out:
	gcs_signer_release(&signer);
	strvec_clear(&signed_headers);
	buf_release(&sts);
	buf_release(&sig);
	buf_release(&b64);
	buf_release(&why);
	return r;
}
