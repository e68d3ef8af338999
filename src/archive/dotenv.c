/*
 * dotenv report parsing, with GitLab's rules (see dotenv.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "archive/dotenv.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void trim(const char **s, const char **e)
{
	while (*s < *e && isspace((unsigned char)**s))
		(*s)++;
	while (*e > *s && isspace((unsigned char)(*e)[-1]))
		(*e)--;
}

static bool key_valid(const char *s, const char *e)
{
	if (s == e)
		return false;
	for (; s < e; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static int parse(const char *text, size_t len, size_t max_size,
		 struct strvec *keys, struct strvec *values, struct buf *err)
{
	const char *p = text, *end = text + len;
	size_t lineno = 0, i;

	if (max_size && len > max_size) {
		buf_seterr(err, "dotenv report larger than %zu bytes",
			   DOTENV_MAX_SIZE);
		return CR_ERR_TOO_LARGE;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *eq, *ks, *ke, *vs, *ve;
		char *key, *value;

		lineno++;
		ks = p;
		p = nl ? nl + 1 : end;
		ke = le;
		trim(&ks, &ke);
		if (ks == ke)
			continue;	/* blank line */
		if (!(eq = memchr(ks, '=', (size_t)(ke - ks)))) {
			buf_seterr(err, "dotenv report line %zu: invalid format, KEY=VALUE expected",
				   lineno);
			return CR_ERR_INVALID;
		}
		vs = eq + 1;
		ve = ke;
		ke = eq;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (!key_valid(ks, ke)) {
			buf_seterr(err, "dotenv report line %zu: invalid key", lineno);
			return CR_ERR_INVALID;
		}
		if (ve - vs >= 2 && (*vs == '"' || *vs == '\'') &&
		    ve[-1] == *vs) {
			vs++;
			ve--;
		}
		key = xmemdup(ks, (size_t)(ke - ks));
		value = xmemdup(vs, (size_t)(ve - vs));
		for (i = 0; i < keys->nr; i++)
			if (!strcmp(keys->v[i], key))
				break;
		if (i < keys->nr) {
			free((char *)values->v[i]);
			values->v[i] = value;
			free(key);
			continue;
		}
		if (keys->nr >= DOTENV_MAX_VARIABLES) {
			free(key);
			free(value);
			buf_seterr(err, "dotenv report has more than %d variables",
				   DOTENV_MAX_VARIABLES);
			return CR_ERR_TOO_LARGE;
		}
		strvec_push_nodup(keys, key);
		strvec_push_nodup(values, value);
	}
	return 0;
}

int dotenv_parse(const char *text, size_t len, struct strvec *keys,
		 struct strvec *values, struct buf *err)
{
	return parse(text, len, DOTENV_MAX_SIZE, keys, values, err);
}

int dotenv_parse_blob(const char *text, size_t len, struct strvec *keys,
		      struct strvec *values, struct buf *err)
{
	return parse(text, len, 0, keys, values, err);
}
