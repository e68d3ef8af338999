/*
 * Azure Blob Storage service SAS URLs for the distributed cache (see
 * cache_azure.h for the string to sign and where it comes from).
 */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "archive/cache_azure.h"
#include "config/config.h"
#include "util/base64.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/url_escape.h"
#include "util/banned.h"

static int format_time(time_t t, char *out, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return -1;
	return 0;
}

static void add_param(struct buf *q, const char *name, const char *value)
{
	if (q->len)
		(void)buf_addch(q, '&');
	(void)buf_addf(q, "%s=", name);
	url_query_escape(q, value);
}

int azure_sas_token(const struct azure_sas *s, struct buf *out,
		    struct buf *err)
{
	struct buf key = BUF_INIT, sts = BUF_INIT, sig = BUF_INIT,
		   query = BUF_INIT;
	unsigned char mac[SHA256_LEN];
	char start[32], expiry[32];
	const char *c;
	int r = CR_ERR_INVALID;

	if (!s->account || !*s->account) {
		buf_seterr(err, "missing Azure storage account name");
		goto out;
	}
	if (!s->key || !*s->key) {
		buf_seterr(err, "missing Azure storage account key");
		goto out;
	}
	if (!s->container || !*s->container) {
		buf_seterr(err, "ContainerName can't be empty");
		goto out;
	}
	if (base64_decode(s->key, &key) != 0 || !key.len) {
		buf_seterr(err, "creating Azure signature: the account key is not base64");
		goto out;
	}
	if (format_time(s->start, start, sizeof(start)) ||
	    format_time(s->expiry, expiry, sizeof(expiry))) {
		buf_seterr(err, "cannot format the SAS start and expiry times");
		goto out;
	}
	(void)buf_addf(&sts, "%s\n%s\n%s\n/blob/%s/%s/", s->permissions,
		       start, expiry, s->account, s->container);
	/* The SDK signs '\' in a blob name as '/', as the service reads it. */
	for (c = s->blob ? s->blob : ""; *c; c++)
		(void)buf_addch(&sts, *c == '\\' ? '/' : *c);
	/* si, sip; spr, sv, sr; snapshot, ses, rscc, rscd, rsce, rscl, rsct */
	(void)buf_addf(&sts, "\n\n\nhttps\n%s\nb\n\n\n\n\n\n\n", AZURE_SAS_VERSION);
	hmac_sha256(key.data, key.len, sts.data, sts.len, mac);
	base64_encode(&sig, mac, sizeof(mac));

	/* url.Values.Encode(): sorted by name. */
	add_param(&query, "se", expiry);
	add_param(&query, "sig", sig.data);
	add_param(&query, "sp", s->permissions);
	add_param(&query, "spr", "https");
	add_param(&query, "sr", "b");
	add_param(&query, "st", start);
	add_param(&query, "sv", AZURE_SAS_VERSION);
	(void)buf_add(out, query.data, query.len);
	r = 0;
out:
	explicit_bzero(mac, sizeof(mac));
	buf_release_secret(&key);
	buf_release(&sts);
	buf_release(&sig);
	buf_release(&query);
	return r;
}

int azure_blob_url(const struct config_cache_azure *cfg, const char *method,
		   const char *object, time_t now, long expires,
		   struct buf *url, struct buf *err)
{
	struct azure_sas s = { 0 };
	struct buf token = BUF_INIT;
	const char *domain;
	int r;

	if (!cfg->account_name || !*cfg->account_name) {
		buf_seterr(err, "config for Azure present, but account name is not configured");
		return CR_ERR_INVALID;
	}
	if (!cfg->container_name || !*cfg->container_name) {
		buf_seterr(err, "ContainerName can't be empty");
		return CR_ERR_INVALID;
	}
	if (!cfg->account_key || !*cfg->account_key) {
		/* gitlab-runner then asks Entra ID for a user delegation key. */
		buf_seterr(err, "Azure without AccountKey (a user delegation SAS through Microsoft Entra ID) is not supported");
		return CR_ERR_UNSUPPORTED;
	}
	if (expires < 1) {
		buf_seterr(err, "SAS lifetime %ld s out of range", expires);
		return CR_ERR_INVALID;
	}
	while (object && *object == '/')
		object++;
	s.account = cfg->account_name;
	s.key = cfg->account_key;
	s.container = cfg->container_name;
	s.blob = object ? object : "";
	s.permissions = !strcasecmp(method, "PUT") ? "w" : "r";
	s.start = now - AZURE_SAS_START_SKEW;
	s.expiry = now + expires;
	if ((r = azure_sas_token(&s, &token, err)) != 0)
		goto out;
	domain = cfg->storage_domain && *cfg->storage_domain ?
		 cfg->storage_domain : AZURE_DEFAULT_DOMAIN;
	(void)buf_addf(url, "https://%s.%s/", cfg->account_name, domain);
	url_path_escape(url, cfg->container_name);
	(void)buf_addch(url, '/');
	url_path_escape(url, s.blob);
	(void)buf_addf(url, "?%s", token.data);
out:
	buf_release_secret(&token);
	return r;
}
