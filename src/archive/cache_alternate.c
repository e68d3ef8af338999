/*
 * FF_HASH_CACHE_KEYS' other naming scheme, in the helper (cache_remote.h):
 * gitlab-runner's cache-extractor selectPresignedURL() and
 * cache-archiver tryRenameAlternateFile().
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <curl/curl.h>

#include "archive/cache_remote.h"
#include "gitlab/http.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/banned.h"

#define ANSI_YELLOW "\033[0;33m"
#define ANSI_RESET "\033[0;m"

/*
 * fetchPresignedTimestamp(): HEAD url, its Last-Modified; false when
 * the answer is not a 200 with a date (404, a 403 without ListBucket, no
 * answer), which makes that object "unavailable".
 */
static bool object_time(const char *url, const struct strvec *headers,
			time_t *when)
{
	struct gl_http_request req = { 0 };
	struct gl_http_response resp = GL_HTTP_RESPONSE_INIT;
	const char *v;
	bool ok = false;

	req.method = "HEAD";
	req.url = url;
	req.headers = headers;
	req.timeout_ms = CACHE_REQUEST_TIMEOUT_MS;
	req.no_retry = true;
	req.max_response = 4096;
	req.truncate_response = true;
	(void)gl_http_perform_sync(NULL, &req, &resp);
	if (resp.status == 200 &&
	    (v = gl_http_response_header(&resp, "Last-Modified")) &&
	    (*when = curl_getdate(v, NULL)) != (time_t)-1)
		ok = true;
	gl_http_response_release(&resp);
	return ok;
}

const char *cache_remote_select(const char *url, const char *head_url,
				const char *alt_url, const char *alt_head_url,
				const struct strvec *headers, FILE *out)
{
	time_t primary = 0, alternate = 0;
	bool has_primary, has_alternate;

	if (!alt_url || !*alt_url)
		return url;
	has_primary = object_time(head_url && *head_url ? head_url : url,
				  headers, &primary);
	has_alternate = object_time(alt_head_url && *alt_head_url ?
				    alt_head_url : alt_url, headers,
				    &alternate);
	if (!has_primary && has_alternate) {
		fprintf(out, "Selecting alternate cache URL: primary not available\n");
		fflush(out);
		return alt_url;
	}
	if (has_primary && has_alternate && alternate > primary) {
		fprintf(out, "Selecting alternate cache URL: newer timestamp\n");
		fflush(out);
		return alt_url;
	}
	fprintf(out, "Selecting primary cache URL\n");
	fflush(out);
	return url;
}

void cache_rename_alternate(const char *file, const char *alt, FILE *out)
{
	struct stat st;
	struct buf err = BUF_INIT;

	if (!alt || !*alt || !strcmp(alt, file))
		return;
	if (stat(file, &st) == 0)
		return;
	if (errno != ENOENT) {
		fprintf(out, ANSI_YELLOW "WARNING: Failed to stat primary cache file: %s"
			ANSI_RESET "\n", strerror(errno));
		goto out;
	}
	if (stat(alt, &st) != 0)
		return;
	if (fs_make_parent_dirs(file, 0700, &err) != 0) {
		fprintf(out, ANSI_YELLOW "WARNING: Failed to create directory for cache file rename: %s"
			ANSI_RESET "\n", err.data);
		goto out;
	}
	if (rename(alt, file) != 0) {
		fprintf(out, ANSI_YELLOW "WARNING: Failed to rename alternate cache file to primary: %s"
			ANSI_RESET "\n", strerror(errno));
		goto out;
	}
	fprintf(out, "Renamed alternate cache file to primary\n");
out:
	fflush(out);
	buf_release(&err);
}
