/*
 * Support windows: how long a runtime keeps a release line supported when
 * its release table gives no eol= date for that line.  A line is a minor
 * (go 1.26, ruby 3.3, python 3.12) or, for Node, a major (node 22).  Each
 * runtime's own published rule:
 *
 *  go, go-fips  a minor until the stable minor two after it is out
 *               (go.dev/doc/devel/release: "each major Go release is
 *               supported until there are two newer major releases");
 *  node         even majors become LTS and end on April 30 of the third
 *               year after their release year; odd majors are never LTS,
 *               end on June 1 of the year after their release, and are
 *               never a target (nodejs.org/about/previous-releases);
 *  ruby         a minor ends on March 31 of the fourth year after its
 *               .0 (released each December: about three years and a
 *               quarter of normal and security maintenance);
 *  python       a minor ends five years after its .0 (PEP 602).
 *
 * These are the rules' dates; the real end can move by weeks (node 16
 * ended early, ruby 3.0 on April 23), so an eol= row in the table wins.
 * A runtime with no rule here follows Go's.
 */
#include <string.h>
#include <time.h>

#include "rtup.h"
#include "util/banned.h"

enum line_rule { RULE_TWO_MINORS, RULE_NODE, RULE_RUBY, RULE_PYTHON };

static enum line_rule rule_of(const char *runtime)
{
	const struct runtime_desc *d = runtime_find(runtime);

	if (d && d->follows)
		d = runtime_find(d->follows);
	if (!d)
		return RULE_TWO_MINORS;
	if (!strcmp(d->name, "node"))
		return RULE_NODE;
	if (!strcmp(d->name, "ruby"))
		return RULE_RUBY;
	if (!strcmp(d->name, "python"))
		return RULE_PYTHON;
	return RULE_TWO_MINORS;
}

int support_line_parts(const char *runtime)
{
	return rule_of(runtime) == RULE_NODE ? 1 : 2;
}

int support_same_line(const char *runtime, const struct ver *a,
		      const struct ver *b)
{
	if (support_line_parts(runtime) == 1)
		return a->n[0] == b->n[0];
	return ver_same_minor(a, b);
}

int support_is_target_line(const char *runtime, const struct ver *line)
{
	return rule_of(runtime) != RULE_NODE || line->n[0] % 2 == 0;
}

/* 00:00 UTC on month/day of a year. */
static time_t day_of(int year, int month, int day)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = month - 1;
	tm.tm_mday = day;
	return timegm(&tm);
}

static int year_of(time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm))
		return 1970;
	return tm.tm_year + 1900;
}

/* The end of the line that starts with the stable release first, by the
 * runtime's rule; 0 when the rule needs a date the table lacks. */
static time_t rule_end(enum line_rule rule, const struct release *first)
{
	struct tm tm;

	if (!first->date)
		return 0;
	switch (rule) {
	case RULE_NODE:
		if (first->v.n[0] % 2 == 0)
			return day_of(year_of(first->date) + 3, 4, 30);
		return day_of(year_of(first->date) + 1, 6, 1);
	case RULE_RUBY:
		return day_of(year_of(first->date) + 4, 3, 31);
	case RULE_PYTHON:
		if (!gmtime_r(&first->date, &tm))
			return 0;
		tm.tm_year += 5;
		return timegm(&tm);
	case RULE_TWO_MINORS:
		break;
	}
	return 0;
}

int support_line_supported(const struct feed *f, const struct release *first,
			   time_t now)
{
	enum line_rule rule = rule_of(f->runtime);
	time_t end;

	for (size_t i = 0; i < f->nr; i++)
		if (f->r[i].eol && support_same_line(f->runtime, &f->r[i].v,
						     &first->v))
			return now < f->r[i].eol;
	if (rule != RULE_TWO_MINORS) {
		end = rule_end(rule, first);
		return !end || now < end;
	}
	/* Any stable release two or more minors on, not only M+2.0: a
	 * table may skip a minor. */
	for (size_t i = 0; i < f->nr; i++) {
		const struct release *succ = &f->r[i];

		if (!succ->prerelease && succ->v.n[0] == first->v.n[0] &&
		    succ->v.n[1] >= first->v.n[1] + 2 &&
		    (!succ->date || succ->date <= now))
			return 0;
	}
	return 1;
}
