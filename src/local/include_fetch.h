/*
 * Fetching the files remote includes name, through the include cache.
 *
 * Every file fetched is written to <cache_dir>/includes/<sha256 of key>
 * (mode 0600), key being what identifies the file ("project <instance>
 * <path> <ref> <file>", "remote <url>"...).  Online, a file is always
 * fetched again (a branch moves) and the cache refreshed; with offline
 * set, only the cache is read and nothing goes to the network.
 */
#ifndef CR_LOCAL_INCLUDE_FETCH_H
#define CR_LOCAL_INCLUDE_FETCH_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

/* An included file (or an API answer about one) is at most this big. */
#define INCLUDE_FETCH_MAX ((size_t)8 << 20)
/* Whole-request timeout when --include-timeout does not say. */
#define INCLUDE_FETCH_TIMEOUT_S 30L

struct include_fetch {
	const char *cache_dir;	/* NULL: no cache (and offline fails) */
	const char *token;	/* PRIVATE-TOKEN for the instance; NULL: none */
	bool offline;
	long timeout_s;		/* 0: INCLUDE_FETCH_TIMEOUT_S */
};

enum include_fetch_flags {
	INCLUDE_FETCH_TOKEN = 1 << 0,	/* send the token (instance API only) */
};

/*
 * GET url (key names it in the cache) into body.  On failure err holds
 * "<what the server said or why there is no answer>" (never the token),
 * and the code says which: CR_ERR_NOT_FOUND (404, or offline and not in
 * the cache), CR_ERR_AUTH (401, 403), CR_ERR_NETWORK (no answer, 5xx),
 * CR_ERR_TOO_LARGE, CR_ERR_PROTOCOL (any other status).
 */
int include_fetch_get(const struct include_fetch *f, const char *url,
		      const char *key, unsigned flags, struct buf *body,
		      struct buf *err);

/* Where key's copy is (or would be) kept: a new string, NULL without cache. */
char *include_fetch_cache_path(const struct include_fetch *f, const char *key);

#endif
