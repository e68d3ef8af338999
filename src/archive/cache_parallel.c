/*
 * FF_USE_PARALLEL_CACHE_TRANSFER's download (cache_remote.h), as
 * gitlab-runner's cache-extractor tryPresignedParallelDownload(): a
 * one-byte Range probe, then parallel Range GETs when the object is
 * larger than one chunk.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive/cache_remote.h"
#include "gitlab/range_download.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

#define ANSI_YELLOW "\033[0;33m"
#define ANSI_RESET "\033[0;m"

static const char *base_name(const char *file)
{
	const char *slash = strrchr(file, '/');

	return slash ? slash + 1 : file;
}

int cache_parallel_download(const char *url, const struct strvec *headers,
			    const char *file, const struct cache_parallel *par,
			    FILE *out)
{
	struct range_probe probe = RANGE_PROBE_INIT;
	struct range_download d = { 0 };
	struct buf clean = BUF_INIT, tmp = BUF_INIT, err = BUF_INIT;
	int64_t chunk = par->chunk > 0 ? par->chunk : RANGE_DEFAULT_CHUNK;
	unsigned attempt;
	int r = CACHE_PARALLEL_FALLBACK;

	range_probe_sync(NULL, url, headers, CACHE_REQUEST_TIMEOUT_MS, &probe);
	if (probe.total < 0) {
		if (probe.status == 200)
			fprintf(out, "Presigned URL did not honor Range request, using sequential download\n");
		goto out;
	}
	if (probe.total <= chunk)
		goto out;
	cache_remote_clean_url(url, &clean);
	(void)buf_addf(&tmp, "%s.download-%ld", file, (long)getpid());
	fprintf(out, "Downloading %s from %s (parallel)\n", base_name(file),
		clean.data);
	fflush(out);
	d.url = url;
	d.headers = headers;
	d.dest = tmp.data;
	d.total = probe.total;
	d.chunk = chunk;
	d.concurrency = (unsigned)(par->concurrency > 1024 ? 1024 :
				   par->concurrency);
	d.timeout_ms = CACHE_REQUEST_TIMEOUT_MS;
	for (attempt = 1;; attempt++) {
		buf_reset(&err);
		r = range_download_sync(NULL, &d, &err);
		if (!r || r == CR_ERR_IO || attempt >= CACHE_TRANSFER_ATTEMPTS)
			break;
		fprintf(out, "Retrying in %d s (attempt %u of %d): %s\n",
			CACHE_RETRY_WAIT_S, attempt + 1,
			CACHE_TRANSFER_ATTEMPTS, err.data);
		fflush(out);
		sleep(CACHE_RETRY_WAIT_S);
	}
	if (r) {
		fprintf(out, ANSI_YELLOW "WARNING: Downloading cache from %s failed: %s"
			ANSI_RESET "\n", clean.data, err.data);
		fflush(out);
		unlink(tmp.data);
	} else if (rename(tmp.data, file) != 0) {
		fprintf(out, ANSI_YELLOW "WARNING: cannot rename %s: %s"
			ANSI_RESET "\n", tmp.data, strerror(errno));
		fflush(out);
		unlink(tmp.data);
		r = CR_ERR_IO;
	}
out:
	range_probe_release(&probe);
	buf_release(&clean);
	buf_release(&tmp);
	buf_release(&err);
	return r;
}
