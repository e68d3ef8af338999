/*
 * Cache keys (gitlab-runner's cachekey.Sanitize): whatever the key, the
 * sanitized one is a relative path inside the cache root (no "..", "."
 * or empty component, no leading '/'), and sanitizing it again changes
 * nothing.  The fallback-key trim only ever shortens.
 */
#include "fuzz.h"

#include "archive/cache.h"
#include "util/buf.h"

static void check_inside(const char *key, const char *s)
{
	const char *p = s, *slash;
	size_t n;

	FUZZ_CHECK(*s && *s != '/', "key '%s' gave '%s'", key, s);
	for (;;) {
		slash = strchr(p, '/');
		n = slash ? (size_t)(slash - p) : strlen(p);
		FUZZ_CHECK(n > 0, "key '%s' gave '%s' (empty component)", key,
			   s);
		FUZZ_CHECK(!(n == 1 && p[0] == '.') &&
			   !(n == 2 && p[0] == '.' && p[1] == '.'),
			   "key '%s' gave '%s' (a '.' or '..' component)", key,
			   s);
		if (!slash)
			break;
		p = slash + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out = BUF_INIT, again = BUF_INIT, err = BUF_INIT;
	char *key;

	if (size > 4096)
		return 0;
	key = fuzz_cstr(data, size);
	if (cache_key_sanitize(key, &out, &err) == 0) {
		check_inside(key, out.data);
		FUZZ_CHECK(cache_key_sanitize(out.data, &again, &err) == 0,
			   "'%s' sanitized, then refused: %s", out.data,
			   err.data);
		FUZZ_CHECK(!strcmp(out.data, again.data),
			   "'%s' gave '%s', then '%s'", key, out.data,
			   again.data);
	} else {
		FUZZ_CHECK(err.len > 0, "refused without a message");
	}
	buf_reset(&out);
	cache_fallback_key_trim(key, &out);
	FUZZ_CHECK(out.len <= strlen(key) && !strncmp(out.data, key, out.len),
		   "'%s' trimmed to '%s'", key, out.data);
	free(key);
	buf_release(&out);
	buf_release(&again);
	buf_release(&err);
	return 0;
}
