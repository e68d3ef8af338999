/*
 * The distributed cache on Azure Blob Storage ([runners.cache] Type =
 * "azure"), as gitlab-runner does it with an AccountName and AccountKey:
 * a service SAS for the one blob (read for a download, write for an
 * upload; https only; valid from an hour ago until the job's timeout),
 * signed with HMAC-SHA256 under the decoded account key, and the blob
 * reached at https://<AccountName>.<StorageDomain>/<ContainerName>/<name>.
 * The archive helper GETs or PUTs (one Put Blob, block blob) the archive
 * through that URL; the key never leaves crunner.
 *
 * gitlab-runner (cache/azure) signs with the azblob SDK's service SAS
 * (sas.BlobSignatureValues.SignWithSharedKey); crunner writes the same
 * string to sign, the layout of service version 2020-12-06 and later:
 *
 *   sp \n st \n se \n /blob/<account>/<container>/<blob> \n si \n sip \n
 *   spr \n sv \n sr \n snapshot time \n ses \n rscc \n rscd \n rsce \n
 *   rscl \n rsct
 *
 * and encodes the parameters as Go's url.Values.Encode() does (sorted by
 * name, query-escaped).
 */
#ifndef CR_ARCHIVE_CACHE_AZURE_H
#define CR_ARCHIVE_CACHE_AZURE_H

#include <time.h>

struct buf;
struct config_cache_azure;

#define AZURE_DEFAULT_DOMAIN "blob.core.windows.net"
/* The service version crunner signs (sv) and sends (x-ms-version). */
#define AZURE_SAS_VERSION "2025-11-05"
/* gitlab-runner starts a SAS one hour in the past, for clock skew. */
#define AZURE_SAS_START_SKEW 3600L

/* One service SAS for a blob. */
struct azure_sas {
	const char *account;		/* AccountName */
	const char *key;		/* AccountKey, base64 as configured */
	const char *container;
	const char *blob;		/* the object name, not encoded */
	const char *permissions;	/* "r" or "w" */
	time_t start;
	time_t expiry;
};

/*
 * The SAS query string of s (sv, spr, st, se, sr, sp, sig; sorted, no
 * leading '?') appended to out.  Returns 0, or CR_ERR_INVALID with one
 * sentence in err (no account, no key, a key that is not base64).
 */
int azure_sas_token(const struct azure_sas *s, struct buf *out,
		    struct buf *err);

/*
 * The signed blob URL for method ("GET" or "PUT") on object with the
 * [runners.cache.azure] settings cfg, valid for expires seconds from now.
 * Returns 0, or CR_ERR_INVALID / CR_ERR_UNSUPPORTED with one sentence in
 * err (gitlab-runner's wording where it has one).
 */
int azure_blob_url(const struct config_cache_azure *cfg, const char *method,
		   const char *object, time_t now, long expires,
		   struct buf *url, struct buf *err);

#endif
