/*
 * TZif files (RFC 8536) and their POSIX TZ footers, read without $TZ
 * (util/tzfile.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/tzfile.h"
#include "util/banned.h"

#define TZIF_MAX_SIZE (1 << 20)

/* ---- POSIX TZ strings ---- */

static int is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d (m 1..12), proleptic Gregorian. */
static long days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void skip_name(const char **p)
{
	if (**p == '<') {
		const char *end = strchr(*p, '>');

		*p = end ? end + 1 : *p + strlen(*p);
		return;
	}
	while (isalpha((unsigned char)**p))
		(*p)++;
}

/* [+-]hh[:mm[:ss]] into seconds (sign as written). */
static int parse_hms(const char **p, long *out)
{
	long sign = 1, v = 0, part;
	int i;

	if (**p == '+' || **p == '-')
		sign = *(*p)++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)**p))
		return -1;
	for (i = 0; i < 3; i++) {
		part = 0;
		if (!isdigit((unsigned char)**p))
			return -1;
		while (isdigit((unsigned char)**p))
			part = part * 10 + (*(*p)++ - '0');
		v += part * (i == 0 ? 3600 : i == 1 ? 60 : 1);
		if (**p != ':')
			break;
		(*p)++;
	}
	*out = sign * v;
	return 0;
}

struct date_rule {
	char kind;		/* 'J', 'n' (zero-based day), 'M' */
	int a, b, c;		/* J/n: day; M: month, week, weekday */
	long time;		/* seconds after local midnight; default 2h */
};

static int parse_date(const char **p, struct date_rule *r)
{
	char *end;

	memset(r, 0, sizeof(*r));
	r->time = 7200;
	if (**p == 'M') {
		r->kind = 'M';
		r->a = (int)strtol(*p + 1, &end, 10);
		if (*end != '.')
			return -1;
		r->b = (int)strtol(end + 1, &end, 10);
		if (*end != '.')
			return -1;
		r->c = (int)strtol(end + 1, &end, 10);
		if (r->a < 1 || r->a > 12 || r->b < 1 || r->b > 5 ||
		    r->c < 0 || r->c > 6)
			return -1;
	} else if (**p == 'J') {
		r->kind = 'J';
		r->a = (int)strtol(*p + 1, &end, 10);
		if (end == *p + 1 || r->a < 1 || r->a > 365)
			return -1;
	} else if (isdigit((unsigned char)**p)) {
		r->kind = 'n';
		r->a = (int)strtol(*p, &end, 10);
		if (r->a > 365)
			return -1;
	} else {
		return -1;
	}
	*p = end;
	if (**p == '/') {
		(*p)++;
		if (parse_hms(p, &r->time))
			return -1;
	}
	return 0;
}

/* The day (days since the epoch) rule r falls on in year y. */
static long rule_day(const struct date_rule *r, long y)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
				     30, 31 };
	long jan1 = days_from_civil(y, 1, 1), first, day;
	int wd1, len;

	if (r->kind == 'J')
		return jan1 + r->a - 1 + (is_leap(y) && r->a >= 60);
	if (r->kind == 'n')
		return jan1 + r->a;
	first = days_from_civil(y, r->a, 1);
	wd1 = (int)(((first % 7) + 7 + 4) % 7);	/* 1970-01-01: Thursday */
	day = 1 + (r->c - wd1 + 7) % 7 + (r->b - 1) * 7;
	len = mdays[r->a - 1] + (r->a == 2 && is_leap(y));
	while (day > len)
		day -= 7;
	return first + day - 1;
}

int tzfile_posix_offset(const char *rule, time_t t, long *offset)
{
	const char *p = rule;
	long std, dst, start, end, y;
	struct date_rule rs, re;
	struct tm tm;
	time_t local;

	skip_name(&p);
	if (p == rule || parse_hms(&p, &std))
		return -1;
	std = -std;			/* POSIX counts west of UTC */
	if (!*p) {
		*offset = std;
		return 0;
	}
	skip_name(&p);
	dst = std + 3600;
	if (*p && *p != ',') {
		if (parse_hms(&p, &dst))
			return -1;
		dst = -dst;
	}
	if (!*p) {			/* no rule: the US one, as glibc */
		p = ",M3.2.0,M11.1.0";
	}
	if (*p++ != ',' || parse_date(&p, &rs) || *p++ != ',' ||
	    parse_date(&p, &re) || *p)
		return -1;
	local = t + std;
	if (!gmtime_r(&local, &tm))
		return -1;
	y = tm.tm_year + 1900L;
	start = rule_day(&rs, y) * 86400 + rs.time - std;
	end = rule_day(&re, y) * 86400 + re.time - dst;
	if (start < end)
		*offset = t >= start && t < end ? dst : std;
	else
		*offset = t >= end && t < start ? std : dst;
	return 0;
}

/* ---- TZif ---- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
		(uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	uint32_t isut, isstd, leap, time, type, chars;
};

static int read_header(const unsigned char *d, size_t len, size_t at,
		       struct tzif_counts *c)
{
	if (at + 44 > len || memcmp(d + at, "TZif", 4))
		return -1;
	c->isut = be32(d + at + 20);
	c->isstd = be32(d + at + 24);
	c->leap = be32(d + at + 28);
	c->time = be32(d + at + 32);
	c->type = be32(d + at + 36);
	c->chars = be32(d + at + 40);
	if (!c->type || c->type > 256 || c->time > 100000 ||
	    c->leap > 100000 || c->chars > 100000)
		return -1;
	return 0;
}

static size_t block_size(const struct tzif_counts *c, size_t tsize)
{
	return c->time * tsize + c->time + c->type * 6 + c->chars +
		c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* The UTC offset at t from the file's data; -1: damaged. */
static int tzif_offset(const unsigned char *d, size_t len, time_t t,
		       long *offset)
{
	struct tzif_counts c;
	size_t at = 0, tsize = 4, i, times, idx, types, footer;
	int64_t last = 0;
	long type = -1;

	if (read_header(d, len, 0, &c))
		return -1;
	if (d[4] >= '2') {	/* skip the 32-bit block for the 64-bit one */
		at = 44 + block_size(&c, 4);
		if (read_header(d, len, at, &c))
			return -1;
		tsize = 8;
	}
	times = at + 44;
	idx = times + c.time * tsize;
	types = idx + c.time;
	footer = at + 44 + block_size(&c, tsize);
	if (footer > len)
		return -1;
	for (i = 0; i < c.time; i++) {
		int64_t when = tsize == 8 ? be64(d + times + i * 8) :
			(int32_t)be32(d + times + i * 4);

		if (when > (int64_t)t)
			break;
		last = when;
		type = d[idx + i];
		if ((uint32_t)type >= c.type)
			return -1;
	}
	/* Past the last transition: the footer's rule, when there is one. */
	if (tsize == 8 && i == c.time && footer + 1 < len &&
	    d[footer] == '\n') {
		const char *start = (const char *)d + footer + 1;
		const char *nl = memchr(start, '\n', len - footer - 1);
		char rule[128];

		if (nl && nl > start && (size_t)(nl - start) < sizeof(rule) &&
		    (c.time == 0 || (int64_t)t >= last)) {
			memcpy(rule, start, (size_t)(nl - start));
			rule[nl - start] = '\0';
			if (tzfile_posix_offset(rule, t, offset) == 0)
				return 0;
		}
	}
	if (type < 0)
		type = 0;	/* before the first transition: type 0 */
	*offset = (long)(int32_t)be32(d + types + (size_t)type * 6);
	return 0;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *d;
	size_t n;

	if (!f)
		return -1;
	d = malloc(TZIF_MAX_SIZE);
	if (!d) {
		fclose(f);
		return -1;
	}
	n = fread(d, 1, TZIF_MAX_SIZE, f);
	fclose(f);
	*out = d;
	*len = n;
	return 0;
}

int tzfile_local_time(const char *zone, time_t t, struct tm *out,
		      struct buf *err)
{
	const char *dir = getenv("TZDIR");
	struct buf path = BUF_INIT;
	unsigned char *d = NULL;
	size_t len = 0;
	long offset = 0;
	time_t local;
	int r = 0;

	if (!zone || !*zone || !strcmp(zone, "UTC")) {
		gmtime_r(&t, out);
		return 0;
	}
	if (!strcmp(zone, "Local")) {
		localtime_r(&t, out);
		return 0;
	}
	if (zone[0] == '/' || strstr(zone, "..")) {
		buf_seterr(err, "timezone '%s' is unknown", zone);
		return CR_ERR_CONFIG;
	}
	buf_addf(&path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo",
		 zone);
	if (read_file(path.data, &d, &len)) {
		buf_seterr(err, "timezone '%s' is unknown", zone);
		r = CR_ERR_CONFIG;
	} else if (tzif_offset(d, len, t, &offset)) {
		buf_seterr(err, "timezone '%s': %s is not a valid TZif file",
			   zone, path.data);
		r = CR_ERR_INVALID;
	} else {
		local = t + offset;
		gmtime_r(&local, out);
	}
	free(d);
	buf_release(&path);
	return r;
}
