/*
 * Value syntaxes config.toml borrows from Go: durations (time.ParseDuration
 * and Duration.String), Docker memory sizes (go-units RAMInBytes) and the
 * date-times gitlab-runner writes for token_obtained_at/token_expires_at.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "config/config_int.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define NS_PER_MS INT64_C(1000000)

struct duration_unit {
	const char *name;
	uint64_t ns;
};

/* Longest names first, so "ms" is not read as "m" followed by "s". */
static const struct duration_unit duration_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },	/* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 },	/* U+03BC Greek mu */
	{ "ms", 1000000 },
	{ "s", UINT64_C(1000000000) },
	{ "m", UINT64_C(60000000000) },
	{ "h", UINT64_C(3600000000000) },
};

static const struct duration_unit *duration_unit(const char **p)
{
	const struct duration_unit *best = NULL;
	size_t i, len, best_len = 0;

	for (i = 0; i < sizeof(duration_units) / sizeof(*duration_units); i++) {
		const char *name = duration_units[i].name;

		len = strlen(name);
		if (len > best_len && !strncmp(*p, name, len)) {
			best = &duration_units[i];
			best_len = len;
		}
	}
	if (best)
		*p += best_len;
	return best;
}

/*
 * Same grammar and limits as Go: [-+]?([0-9]*(\.[0-9]*)?unit)+ or "0",
 * the total at most 2^63-1 ns.
 */
int config_parse_duration(const char *s, int64_t *ms)
{
	const char *p = s;
	uint64_t total = 0, limit = INT64_MAX;
	int neg = 0;

	if (!s)
		return CR_ERR_INVALID;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (!strcmp(p, "0")) {
		*ms = 0;
		return 0;
	}
	if (!*p)
		return CR_ERR_INVALID;
	if (neg)
		limit = (uint64_t)INT64_MAX + 1;
	while (*p) {
		uint64_t whole = 0, frac = 0, scale = 1, v;
		const struct duration_unit *u;
		int digits = 0, overflow = 0;

		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (whole > (UINT64_MAX - 9) / 10)
				overflow = 1;
			else
				whole = whole * 10 + (uint64_t)(*p - '0');
		}
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
				/* Digits past 10^18 cannot change the ns. */
				if (scale > UINT64_C(100000000000000000))
					continue;
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
		if (!digits || overflow)
			return CR_ERR_INVALID;
		if (!(u = duration_unit(&p)))
			return CR_ERR_INVALID;
		if (whole > limit / u->ns)
			return CR_ERR_INVALID;
		v = whole * u->ns;
		/* frac < scale <= 10^18 and u->ns < 2^42: use long double. */
		v += (uint64_t)((long double)frac * (long double)u->ns /
				(long double)scale);
		if (v > limit || total > limit - v)
			return CR_ERR_INVALID;
		total += v;
	}
	*ms = (int64_t)(total / NS_PER_MS);
	if (neg)
		*ms = -*ms;
	return 0;
}

int config_format_duration(int64_t ms, struct buf *out)
{
	uint64_t u, h, m, s, frac;
	int r;

	if (ms == 0)
		return buf_addstr(out, "0s");
	if (ms < 0 && (r = buf_addch(out, '-')) != 0)
		return r;
	u = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	if (u < 1000)
		return buf_addf(out, "%" PRIu64 "ms", u);
	h = u / 3600000;
	m = u / 60000 % 60;
	s = u / 1000 % 60;
	frac = u % 1000;
	if (h && (r = buf_addf(out, "%" PRIu64 "h", h)) != 0)
		return r;
	if ((h || m) && (r = buf_addf(out, "%" PRIu64 "m", m)) != 0)
		return r;
	if ((r = buf_addf(out, "%" PRIu64, s)) != 0)
		return r;
	if (frac) {
		/* Go drops trailing zeros: 1.5s, not 1.500s. */
		int width = 3;

		while (frac % 10 == 0) {
			frac /= 10;
			width--;
		}
		if ((r = buf_addf(out, ".%0*" PRIu64, width, frac)) != 0)
			return r;
	}
	return buf_addch(out, 's');
}

int config_parse_ram_size(const char *s, int64_t *bytes)
{
	static const char units[] = "kmgtp";
	const char *p = s, *unit;
	long double v = 0, scale = 1;
	int digits = 0;

	if (!s)
		return CR_ERR_INVALID;
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		v = v * 10 + (*p - '0');
	if (!digits)
		return CR_ERR_INVALID;
	if (*p == '.') {
		digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			scale /= 10;
			v += (*p - '0') * scale;
		}
		if (!digits)
			return CR_ERR_INVALID;
	}
	if (*p == ' ')
		p++;
	if (*p && (unit = strchr(units, *p | 0x20)) != NULL) {
		for (long i = 0; i <= unit - units; i++)
			v *= 1024;
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p || v >= 9223372036854775807.0L)
		return CR_ERR_INVALID;
	*bytes = (int64_t)v;
	return 0;
}


void config_format_time(time_t t, char out[32])
{
	struct tm tm;

	if (t == 0 || !gmtime_r(&t, &tm)) {
		snprintf(out, 32, "0001-01-01T00:00:00Z");
		return;
	}
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Go's isShellSpecialVar. */
static int is_special_var(char c)
{
	return c && strchr("*#$@!?-0123456789", c) != NULL;
}

static int is_name_char(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

/*
 * Go's getShellName: the name after a '$' at s (len > 0) and how many
 * bytes it takes.  An empty name with w > 0 is bad syntax ("${}", an
 * unclosed "${"), eaten; with w == 0 the '$' stays as it is.
 */
static size_t shell_name(const char *s, const char **name, size_t *nlen)
{
	size_t i;

	*name = s;
	*nlen = 0;
	if (s[0] == '{') {
		if (s[1] && is_special_var(s[1]) && s[2] == '}') {
			*name = s + 1;
			*nlen = 1;
			return 3;
		}
		for (i = 1; s[i]; i++) {
			if (s[i] == '}') {
				if (i == 1)
					return 2;
				*name = s + 1;
				*nlen = i - 1;
				return i + 1;
			}
		}
		return 1;
	}
	if (is_special_var(s[0])) {
		*nlen = 1;
		return 1;
	}
	for (i = 0; is_name_char(s[i]); i++)
		;
	*nlen = i;
	return i;
}

char *config_expand(const char *s,
		    const char *(*lookup)(void *ctx, const char *name),
		    void *ctx)
{
	struct buf out = BUF_INIT;
	const char *p;

	for (p = s; *p; p++) {
		const char *name;
		size_t nlen, w;

		if (*p != '$' || !p[1]) {
			(void)buf_addch(&out, *p);
			continue;
		}
		w = shell_name(p + 1, &name, &nlen);
		if (nlen) {
			char *key = xstrndup(name, nlen);
			const char *v = lookup(ctx, key);

			if (v)
				(void)buf_addstr(&out, v);
			free(key);
		} else if (!w) {
			(void)buf_addch(&out, '$');
		}
		p += w;
	}
	return buf_detach(&out, NULL);
}

static const char *lookup_env(void *ctx, const char *name)
{
	(void)ctx;
	return getenv(name);
}

char *config_expand_env(const char *s)
{
	return config_expand(s, lookup_env, NULL);
}
