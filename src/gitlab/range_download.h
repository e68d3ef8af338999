/*
 * Parallel ranged downloads, as gitlab-runner's transfer package does them
 * (helpers/transfer): a one-byte probe (GET with "Range: bytes=0-0", not
 * HEAD, which pre-signed GET URLs refuse) answered 206 with a
 * Content-Range total gives the size; the object is then fetched in
 * chunk-sized Range GETs, at most concurrency of them at a time, each
 * written at its offset into the destination file.  A chunk is held in
 * memory until written (concurrency x chunk bytes at most, as there).
 *
 * Used for the distributed cache (FF_USE_PARALLEL_CACHE_TRANSFER,
 * archive/cache_remote.h) and for artifacts that a direct download sends
 * to object storage (FF_USE_PARALLEL_ARTIFACT_TRANSFER,
 * gitlab/artifact_store.h).
 */
#ifndef CR_GL_RANGE_DOWNLOAD_H
#define CR_GL_RANGE_DOWNLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "gitlab/http.h"
#include "util/buf.h"
#include "util/strvec.h"

/* gitlab-runner's defaults (cache_defaults.go; network/gitlab.go's fixed
 * values for artifacts). */
#define RANGE_DEFAULT_CHUNK ((int64_t)16 << 20)
#define RANGE_DEFAULT_CONCURRENCY 16u

/*
 * The total of a Content-Range value "bytes <first>-<last>/<total>", or
 * -1 when there is none ("*", missing, not a positive number).
 */
int64_t range_content_total(const char *value);

/* What the probe found. */
struct range_probe {
	long status;		/* 0: no answer */
	int64_t total;		/* -1 unless 206 with a Content-Range total */
	struct buf why;		/* status_text or the error, for the log */
};

#define RANGE_PROBE_INIT { 0, -1, BUF_INIT }

void range_probe_release(struct range_probe *p);

/*
 * GET url with headers (may be NULL) and "Range: bytes=0-0", once.
 * Fills p (RANGE_PROBE_INIT).
 */
void range_probe_sync(const struct gl_http_options *opts, const char *url,
		      const struct strvec *headers, long timeout_ms,
		      struct range_probe *p);

/* The same on http's loop: cb once, from the loop, unless cancelled. */
struct range_probe_req;
typedef void (*range_probe_cb)(void *ctx, const struct range_probe *p);
struct range_probe_req *range_probe_start(struct gl_http *http,
					  const char *url,
					  const struct strvec *headers,
					  long timeout_ms, range_probe_cb cb,
					  void *ctx);
void range_probe_cancel(struct range_probe_req *pr);

/* One parallel download. */
struct range_download {
	const char *url;
	const struct strvec *headers;	/* may be NULL */
	const char *dest;		/* created or truncated, mode 0600 */
	int64_t total;			/* > 0: the probe's */
	int64_t chunk;			/* > 0 */
	unsigned concurrency;		/* >= 1 */
	long timeout_ms;		/* per chunk request */
};

/*
 * The download on http's loop: d is copied; cb is called once, from the
 * loop, with 0 or a CR_ERR_* and one sentence, unless the download is
 * cancelled first.  Returns NULL with err set when it cannot start (bad
 * sizes, dest cannot be created); cb is then not called.
 */
struct range_dl;
typedef void (*range_done_cb)(void *ctx, int result, const char *err);
struct range_dl *range_download_start(struct gl_http *http,
				      const struct range_download *d,
				      range_done_cb cb, void *ctx,
				      struct buf *err);
void range_download_cancel(struct range_dl *dl);

/*
 * Fetches [0, total) of d->url into d->dest on a private loop.  Each
 * chunk must be answered 206 (or 200 for the first chunk, whose first
 * bytes are then the chunk) with exactly its length; the first chunk that
 * is not ends the download.  Chunks are not tried again here (the caller
 * tries the whole download again, as gitlab-runner does).  Returns 0, or
 * CR_ERR_NETWORK / CR_ERR_IO with one sentence in err.
 */
int range_download_sync(const struct gl_http_options *opts,
			const struct range_download *d, struct buf *err);

#endif
