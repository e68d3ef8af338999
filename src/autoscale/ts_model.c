/*
 * Taskscaler's decisions (ts_model.h), as docs/autoscale-plugins.md
 * ("Taskscaler") describes them.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "autoscale/ts_model.h"
#include "config/config.h"
#include "util/buf.h"
#include "util/tzfile.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

void ts_params_init(struct ts_params *p, int capacity_per_instance,
		    int max_use_count, int max_instances, int provider_max)
{
	p->capacity = capacity_per_instance < 1 ? 1 : capacity_per_instance;
	p->max_use = max_use_count > 0 ? max_use_count : 0;
	p->max_instances = max_instances > 0 ? max_instances : 0;
	if (provider_max > 0 &&
	    (!p->max_instances || provider_max < p->max_instances))
		p->max_instances = provider_max;
}

int ts_slots_per_instance(const struct ts_params *p)
{
	return p->max_use && p->max_use < p->capacity ? p->max_use
						       : p->capacity;
}

int ts_inst_free(const struct ts_params *p, const struct ts_inst *i)
{
	int free_slots;

	if (!i->ready || i->removing)
		return 0;
	free_slots = p->capacity - i->acquired;
	if (p->max_use && p->max_use - i->used < free_slots)
		free_slots = p->max_use - i->used;
	return free_slots > 0 ? free_slots : 0;
}

void ts_totals_sum(const struct ts_params *p, const struct ts_inst *v,
		   size_t n, int pending, int reserved, struct ts_totals *t)
{
	int per = ts_slots_per_instance(p);
	size_t k;

	memset(t, 0, sizeof(*t));
	for (k = 0; k < n; k++) {
		const struct ts_inst *i = &v[k];
		int f = ts_inst_free(p, i);

		t->instances++;
		t->acquired += i->acquired;
		t->ready_free += f;
		if (i->ready && !i->removing)
			t->unavailable += p->capacity - i->acquired - f;
		else if (i->creating && !i->removing)
			t->coming += per;
	}
	t->coming += pending * per;
	t->instances += pending;
	t->reserved = reserved;
}

/* ---- cron periods ---- */

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const day_names[] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL
};

/* A number or a name (names[i] is first + i); -1 when neither. */
static int field_value(const char **s, int first,
		       const char *const *names)
{
	char *end;
	long v;
	size_t i;

	if (isdigit((unsigned char)**s)) {
		v = strtol(*s, &end, 10);
		*s = end;
		return v > 1000 ? -1 : (int)v;
	}
	for (i = 0; names && names[i]; i++)
		if (!strncasecmp(*s, names[i], 3)) {
			*s += 3;
			return first + (int)i;
		}
	return -1;
}

/*
 * Whether value is in one cron field ("*", "1-5", "*\/15", "mon,wed").
 * -1: not valid.
 */
static int field_matches(const char *f, size_t len, int value, int lo,
			 int hi, const char *const *names)
{
	char text[64];
	const char *s = text;
	int hit = 0;

	if (!len || len >= sizeof(text))
		return -1;
	memcpy(text, f, len);
	text[len] = '\0';
	for (;;) {
		int a, b, step = 1;

		if (*s == '*') {
			a = lo;
			b = hi;
			s++;
		} else {
			if ((a = field_value(&s, lo, names)) < 0)
				return -1;
			b = a;
			if (*s == '-') {
				s++;
				if ((b = field_value(&s, lo, names)) < 0)
					return -1;
			}
		}
		if (*s == '/') {
			char *end;

			step = (int)strtol(s + 1, &end, 10);
			if (end == s + 1 || step < 1)
				return -1;
			s = end;
		}
		if (a < lo || b > hi || a > b)
			return -1;
		if (value >= a && value <= b && (value - a) % step == 0)
			hit = 1;
		if (*s == '\0')
			return hit;
		if (*s++ != ',')
			return -1;
	}
}

int ts_period_matches(const char *period, const struct tm *tm,
		      struct buf *err)
{
	/* minute, hour, day of month, month, day of week */
	static const int lo[5] = { 0, 0, 1, 1, 0 }, hi[5] = { 59, 23, 31, 12, 7 };
	int value[5] = { tm->tm_min, tm->tm_hour, tm->tm_mday,
			 tm->tm_mon + 1, tm->tm_wday };
	const char *s = period;
	int k, all = 1;

	for (k = 0; k < 5; k++) {
		const char *const *names = k == 3 ? month_names :
			k == 4 ? day_names : NULL;
		size_t len;
		int m;

		while (*s == ' ' || *s == '\t')
			s++;
		len = strcspn(s, " \t");
		m = field_matches(s, len, value[k], lo[k], hi[k], names);
		/* Sunday is 0 and 7. */
		if (k == 4 && m == 0 && value[k] == 0)
			m = field_matches(s, len, 7, lo[k], hi[k], names);
		if (m < 0)
			goto bad;
		all &= m;
		s += len;
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s)
		goto bad;
	return all;
bad:
	buf_seterr(err, "autoscaler policy period '%s' is not a valid cron "
		   "expression (minute hour day-of-month month day-of-week)",
		   period);
	return -1;
}

/*
 * now in the zone tz (NULL or "Local": local time).  The zone's file is
 * read here (util/tzfile.h): $TZ is never set, so a worker thread's
 * getenv or localtime cannot race it.
 */
static int zone_time(const char *tz, time_t now, struct tm *out,
		     struct buf *err)
{
	struct buf why = BUF_INIT;
	int r;

	if (!tz || !*tz) {
		localtime_r(&now, out);
		return 0;
	}
	if ((r = tzfile_local_time(tz, now, out, &why)) != 0) {
		buf_seterr(err, "autoscaler policy %s", why.data);
		r = CR_ERR_CONFIG;
	}
	buf_release(&why);
	return r;
}

int ts_policy_active(const struct config_autoscaler_policy *v, size_t n,
		     time_t now, struct ts_policy *out, struct buf *err)
{
	size_t k, j;
	int r;

	memset(out, 0, sizeof(*out));
	for (k = n; k-- > 0;) {
		const struct config_autoscaler_policy *p = &v[k];
		struct tm tm;
		int hit = !p->periods.nr;

		if ((r = zone_time(p->timezone, now, &tm, err)) != 0)
			return r;
		for (j = 0; j < p->periods.nr && !hit; j++) {
			int m = ts_period_matches(p->periods.v[j], &tm, err);

			if (m < 0)
				return CR_ERR_CONFIG;
			hit = m;
		}
		if (!hit)
			continue;
		out->idle_count = p->idle_count;
		out->idle_time_ms = p->idle_time_ms;
		out->scale_factor = p->scale_factor;
		out->scale_factor_limit = p->scale_factor_limit;
		out->preemptive = p->preemptive_mode == CONFIG_UNSET ?
			p->idle_count > 0 : p->preemptive_mode == CONFIG_TRUE;
		return 0;
	}
	return 0;
}

/* ---- scaling ---- */

int ts_idle_target(const struct ts_policy *pol, int in_use)
{
	int target = pol->idle_count;

	if (pol->scale_factor > 0) {
		double f = ceil((double)in_use * pol->scale_factor);
		int extra = f > 1e6 ? 1000000 : (int)f;

		if (pol->scale_factor_limit > 0 &&
		    extra > pol->scale_factor_limit)
			extra = pol->scale_factor_limit;
		if (extra > target)
			target = extra;
	}
	return target;
}

int ts_scale_up(const struct ts_params *p, const struct ts_policy *pol,
		const struct ts_totals *t, int pending, int allowance)
{
	int per = ts_slots_per_instance(p);
	int target = ts_idle_target(pol, t->acquired + t->reserved);
	int need = t->reserved + target - (t->ready_free + t->coming);
	int n;

	(void)pending;	/* counted in t->instances and t->coming */
	if (need <= 0)
		return 0;
	n = (need + per - 1) / per;
	if (p->max_instances && n > p->max_instances - t->instances)
		n = p->max_instances - t->instances;
	if (allowance >= 0 && n > allowance)
		n = allowance;
	return n > 0 ? n : 0;
}

static int by_idle_since(const void *a, const void *b, void *v)
{
	const struct ts_inst *x = (const struct ts_inst *)v +
		*(const size_t *)a;
	const struct ts_inst *y = (const struct ts_inst *)v +
		*(const size_t *)b;

	if (x->idle_since_ms != y->idle_since_ms)
		return x->idle_since_ms < y->idle_since_ms ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

size_t ts_scale_down(const struct ts_params *p, const struct ts_policy *pol,
		     const struct ts_inst *v, size_t n,
		     const struct ts_totals *t, uint64_t now_ms, size_t *out)
{
	int surplus = t->ready_free + t->coming -
		(t->reserved + ts_idle_target(pol, t->acquired + t->reserved));
	size_t *cand = xcalloc(n ? n : 1, sizeof(*cand));
	size_t nr = 0, nc = 0, k;

	for (k = 0; k < n; k++) {
		const struct ts_inst *i = &v[k];

		if (!i->ready || i->removing || i->acquired)
			continue;
		if (p->max_use && i->used >= p->max_use)
			out[nr++] = k;	/* retired */
		else
			cand[nc++] = k;
	}
	qsort_r(cand, nc, sizeof(*cand), by_idle_since, (void *)v);
	for (k = 0; k < nc; k++) {
		const struct ts_inst *i = &v[cand[k]];
		int f = ts_inst_free(p, i);

		if (now_ms < i->idle_since_ms ||
		    (int64_t)(now_ms - i->idle_since_ms) < pol->idle_time_ms)
			continue;
		if (surplus - f < 0)
			continue;
		surplus -= f;
		out[nr++] = cand[k];
	}
	free(cand);
	return nr;
}

int ts_can_reserve(const struct ts_params *p, const struct ts_policy *pol,
		   const struct ts_totals *t, int throttling, int addable)
{
	int per = ts_slots_per_instance(p);

	if (pol->preemptive)
		return t->reserved < t->ready_free;
	if (p->max_instances &&
	    t->acquired + t->reserved >=
	    p->max_instances * per - t->unavailable)
		return 0;
	if (throttling &&
	    t->reserved >= t->ready_free + t->coming + addable * per)
		return 0;
	return 1;
}

long ts_pick(const struct ts_params *p, const struct ts_inst *v, size_t n)
{
	long best = -1;
	size_t k;

	for (k = 0; k < n; k++) {
		if (!ts_inst_free(p, &v[k]))
			continue;
		if (best < 0 || v[k].acquired > v[best].acquired)
			best = (long)k;
	}
	return best;
}

int ts_free_slot(const int *held, size_t n, int capacity)
{
	int slot;

	for (slot = 0; slot < capacity; slot++) {
		size_t k;

		for (k = 0; k < n && held[k] != slot; k++)
			;
		if (k == n)
			return slot;
	}
	return -1;
}
