/*
 * CI_ENVIRONMENT_* of a local job (contract in environment.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "local/environment.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/sha256.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define SLUG_MAX 24
#define SLUG_CUT 17		/* what is kept before the suffix */
#define SUFFIX_LEN 6

static int name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

char *env_expand(const char *text, env_lookup_fn lookup, void *ctx)
{
	struct buf out = BUF_INIT;
	const char *p = text;

	while (*p) {
		const char *start, *end, *value;
		char *key;

		if (*p != '$' && *p != '%') {
			(void)buf_addch(&out, *p++);
			continue;
		}
		if (p[0] == '$' && p[1] == '{') {
			start = p + 2;
			end = strchr(start, '}');
			if (!end || end == start) {
				(void)buf_addch(&out, *p++);
				continue;
			}
			key = xstrndup(start, (size_t)(end - start));
			p = end + 1;
		} else {
			for (start = end = p + 1; name_char(*end); end++)
				;
			if (end == start || (*p == '%' && *end != '%')) {
				(void)buf_addch(&out, *p++);
				continue;
			}
			key = xstrndup(start, (size_t)(end - start));
			p = *p == '%' ? end + 1 : end;
		}
		value = lookup(ctx, key);
		if (value)
			(void)buf_addstr(&out, value);
		free(key);
	}
	return buf_detach(&out, NULL);
}

/*
 * The last six base-36 digits of the name's SHA-256 read as a number
 * (Ruby: hexdigest.to_i(16).to_s(36).last(6)): the number modulo 36^6.
 */
static void slug_suffix(const char *name, char out[SUFFIX_LEN + 1])
{
	static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	const unsigned long mod = 36ul * 36 * 36 * 36 * 36 * 36;
	unsigned char sum[SHA256_LEN];
	unsigned long rem = 0;
	size_t i;
	int k;

	sha256(name, strlen(name), sum);
	for (i = 0; i < SHA256_LEN; i++)
		rem = (rem * 256 + sum[i]) % mod;
	for (k = SUFFIX_LEN - 1; k >= 0; k--) {
		out[k] = digits[rem % 36];
		rem /= 36;
	}
	out[SUFFIX_LEN] = 0;
}

char *env_slug(const char *name)
{
	struct buf b = BUF_INIT;
	const char *p;
	char suffix[SUFFIX_LEN + 1];

	/* Lower-case letters and digits; anything else a dash, runs squeezed. */
	if (!(*name >= 'a' && *name <= 'z') &&
	    !(*name >= 'A' && *name <= 'Z'))
		(void)buf_addstr(&b, "env-");
	for (p = name; *p; p++) {
		char c = (char)tolower((unsigned char)*p);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (c == '-' && b.len && b.data[b.len - 1] == '-')
			continue;
		(void)buf_addch(&b, c);
	}
	if (b.len > SLUG_MAX || strcmp(b.data, name)) {
		/* Changed or too long: cut, and made unique again by a hash. */
		if (b.len > SLUG_CUT)
			buf_setlen(&b, SLUG_CUT);
		if (!b.len || b.data[b.len - 1] != '-')
			(void)buf_addch(&b, '-');
		slug_suffix(name, suffix);
		(void)buf_addstr(&b, suffix);
	} else if (b.len && b.data[b.len - 1] == '-') {
		buf_setlen(&b, b.len - 1);
	}
	return buf_detach(&b, NULL);
}

static int contains_any(const char *name, const char *const *words)
{
	for (; *words; words++)
		if (strcasestr(name, *words))
			return 1;
	return 0;
}

const char *env_tier_guess(const char *name)
{
	/* Environment#guess_tier's patterns, in its order. */
	static const char *const development[] = { "dev", "review", "trunk",
						   NULL };
	static const char *const testing[] = { "test", "tst", "int", "acpt",
					       "accept", "qa", "qc", "control",
					       "quality", NULL };
	static const char *const staging[] = { "stg", "stag", "model", "modl",
					       "pre", "demo", "non", NULL };
	static const char *const production[] = { "prd", "prod", "live",
						  NULL };

	if (contains_any(name, development))
		return "development";
	if (contains_any(name, testing))
		return "testing";
	if (contains_any(name, staging))
		return "staging";
	if (contains_any(name, production))
		return "production";
	return "other";
}

static const char *text_of(const struct ynode *map, const char *key)
{
	const struct ynode *n = map ? ynode_get(map, key) : NULL;

	return n && n->kind == YNODE_SCALAR ? ynode_text(n) : NULL;
}

void env_variables(const struct ynode *node, env_lookup_fn lookup, void *ctx,
		   struct pl_vars *out)
{
	const struct ynode *map = NULL;
	const char *raw_name, *raw_url, *action, *tier;
	char *name, *slug, *url;

	if (!node)
		return;
	if (node->kind == YNODE_SCALAR) {
		raw_name = ynode_text(node);
	} else if (node->kind == YNODE_MAP) {
		map = node;
		raw_name = text_of(map, "name");
	} else {
		return;
	}
	if (!raw_name)
		return;
	name = env_expand(raw_name, lookup, ctx);
	if (!*name) {
		free(name);
		return;
	}
	raw_url = text_of(map, "url");
	action = text_of(map, "action");
	tier = text_of(map, "deployment_tier");
	slug = env_slug(name);
	pl_vars_set(out, "CI_ENVIRONMENT_NAME", name, true);
	pl_vars_set(out, "CI_ENVIRONMENT_SLUG", slug, true);
	if (raw_url) {
		url = env_expand(raw_url, lookup, ctx);
		pl_vars_set(out, "CI_ENVIRONMENT_URL", url, true);
		free(url);
	}
	pl_vars_set(out, "CI_ENVIRONMENT_ACTION", action ? action : "start",
		    false);
	pl_vars_set(out, "CI_ENVIRONMENT_TIER",
		    tier ? tier : env_tier_guess(name), false);
	free(slug);
	free(name);
}
