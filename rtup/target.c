/*
 * Resolving targets offline (design 3.6): --to, or the policy over the
 * release table (window, soak days, max), followers such as go-fips.
 * Nothing here reads the network.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

const struct target *targets_find(const struct targets *t, const char *rt)
{
	for (size_t i = 0; i < t->nr; i++)
		if (!strcmp(t->v[i].runtime, rt))
			return &t->v[i];
	return NULL;
}

void targets_release(struct targets *t)
{
	for (size_t i = 0; i < t->nr; i++)
		free(t->v[i].runtime);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static struct target *target_add(struct targets *t, const char *rt)
{
	struct target *x;

	t->v = xreallocarray(t->v, t->nr + 1, sizeof(*t->v));
	x = &t->v[t->nr++];
	memset(x, 0, sizeof(*x));
	x->runtime = xstrdup(rt);
	return x;
}

static void cap_by_max(const struct rt_policy *p, const struct feed *fd,
		       struct target *x, time_t now, struct findings *f)
{
	char a[48], b[48];

	if (!p->max.parts || ver_cmp(&x->v, &p->max) <= 0)
		return;
	ver_str(&x->v, 3, a, sizeof(a));
	x->v = p->max;
	for (size_t i = fd->nr; i-- > 0;)
		if (!fd->r[i].prerelease && ver_cmp(&fd->r[i].v, &p->max) <= 0 &&
		    (!fd->r[i].date || fd->r[i].date <= now)) {
			x->v = fd->r[i].v;
			break;
		}
	x->held_by_max = 1;
	finding_add(f, 0, "%s: target %s held by max %s", x->runtime, a,
		    ver_str(&x->v, 3, b, sizeof(b)));
}

/* The newest release out at now, pre-releases included, never below v. */
static void set_next(const struct feed *fd, struct target *x, time_t now)
{
	x->next = x->v;
	for (size_t i = 0; i < fd->nr; i++)
		if ((!fd->r[i].date || fd->r[i].date <= now) &&
		    ver_cmp(&fd->r[i].v, &x->next) > 0)
			x->next = fd->r[i].v;
}

static int resolve_policy(const struct conf *c, const char *rt, time_t now,
			  struct targets *t, struct findings *f,
			  struct buf *err)
{
	const struct rt_policy *p = conf_policy(c, rt);
	struct feed fd;
	struct ver sup[64];
	size_t n;
	const struct release *best = NULL;
	struct target *x;
	int r;

	if ((r = feed_load(c->versions, rt, &fd, err)))
		return r;
	n = feed_supported(&fd, now, sup, (size_t)p->window);
	for (size_t i = n; i-- > 0 && !best;) {
		const struct release *first = NULL;

		if (p->pin_minor.parts && !ver_same_minor(&sup[i], &p->pin_minor))
			continue;
		for (size_t j = 0; j < fd.nr && !first; j++)
			if (!fd.r[j].prerelease &&
			    support_same_line(rt, &fd.r[j].v, &sup[i]))
				first = &fd.r[j];
		if (first && first->date &&
		    first->date + (time_t)p->soak_days * 86400 > now)
			continue;
		best = feed_newest_patch(&fd, &sup[i], now);
	}
	if (!best) {
		buf_seterr(err, "%s/%s.tsv:0: no supported release of '%s' "
			   "at the given date", c->versions, rt, rt);
		feed_release(&fd);
		return CR_ERR_INVALID;
	}
	x = target_add(t, rt);
	x->v = best->v;
	cap_by_max(p, &fd, x, now, f);
	set_next(&fd, x, now);
	feed_release(&fd);
	return 0;
}

static int resolve_follower(const struct conf *c, const char *rt,
			    const struct target *base, struct targets *t,
			    struct findings *f, struct buf *err)
{
	const struct rt_policy *p = conf_policy(c, rt);
	struct feed fd;
	struct buf ignore = BUF_INIT;
	const struct release *best = NULL;
	struct target *x;
	char a[48], b[48];

	if (feed_load(c->versions, rt, &fd, &ignore)) {
		buf_release(&ignore);
		return 0;	/* no table: nothing follows */
	}
	(void)err;
	for (size_t i = 0; i < fd.nr; i++)
		if (!fd.r[i].prerelease && ver_same_minor(&fd.r[i].v, &base->v) &&
		    ver_cmp(&fd.r[i].v, &base->v) <= 0)
			best = &fd.r[i];
	if (best) {
		x = target_add(t, rt);
		x->v = best->v;
		x->next = best->v;
		if (ver_cmp(&best->v, &base->v)) {
			x->lagging = 1;
			x->lag_of = base->v;
			finding_add(f, p->allow_lag_none, "lag: %s %s < %s %s",
				    rt, ver_str(&best->v, 3, a, sizeof(a)),
				    base->runtime,
				    ver_str(&base->v, 3, b, sizeof(b)));
		}
	}
	feed_release(&fd);
	buf_release(&ignore);
	return 0;
}

static void day_str(time_t when, char out[16])
{
	struct tm tm;

	gmtime_r(&when, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

/*
 * A --to target must be a release of the table (a minor: one of its
 * releases), out at now unless allow_unreleased.  The error names the
 * table and what it does have.
 */
static int check_to(const struct conf *c, const char *rt, const struct feed *fd,
		    const struct ver *v, time_t now, int allow_unreleased,
		    struct buf *err)
{
	const struct release *hit = NULL, *newest_minor = NULL;
	char a[48], b[48], d1[16], d2[16];

	for (size_t i = 0; i < fd->nr; i++) {
		const struct release *r = &fd->r[i];

		if (ver_same_minor(&r->v, v) && !r->prerelease)
			newest_minor = r;
		if (v->parts >= 3 ? !ver_cmp(&r->v, v) :
		    (ver_same_minor(&r->v, v) && !r->prerelease &&
		     (!hit || !r->date || r->date <= now)))
			hit = r;
	}
	ver_str(v, v->parts, a, sizeof(a));
	if (!hit) {
		if (newest_minor)
			buf_seterr(err, "--to %s@%s: no such release in %s/%s.tsv "
				   "(its newest %s %d.%d release is %s)", rt, a,
				   c->versions, rt, rt, v->n[0], v->n[1],
				   ver_str(&newest_minor->v, 3, b, sizeof(b)));
		else
			buf_seterr(err, "--to %s@%s: no %s %d.%d release in %s/%s.tsv",
				   rt, a, rt, v->n[0], v->n[1], c->versions, rt);
		return CR_ERR_USAGE;
	}
	if (hit->date && hit->date > now && !allow_unreleased) {
		day_str(hit->date, d1);
		day_str(now, d2);
		buf_seterr(err, "--to %s@%s: released %s, after the plan date %s "
			   "(%s/%s.tsv); --allow-unreleased plans for it anyway",
			   rt, a, d1, d2, c->versions, rt);
		return CR_ERR_USAGE;
	}
	return 0;
}

int targets_resolve(const struct conf *c, const struct strvec *to,
		    int policy, const char *only_rt, time_t now,
		    int allow_unreleased, struct targets *t,
		    struct findings *f, struct buf *err)
{
	int r = 0;
	size_t base_nr;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < to->nr && !r; i++) {
		const char *at = strchr(to->v[i], '@');
		struct target *x;
		struct feed fd;
		char *rt;

		if (!at || at == to->v[i]) {
			buf_seterr(err, "--to wants RUNTIME@VERSION, not '%s'",
				   to->v[i]);
			return CR_ERR_USAGE;
		}
		rt = xstrndup(to->v[i], at - to->v[i]);
		x = target_add(t, rt);
		if (ver_parse_str(at + 1, &x->v) || x->v.parts < 2) {
			buf_seterr(err, "--to: bad version '%s'", at + 1);
			r = CR_ERR_USAGE;
		} else if ((r = feed_load(c->versions, rt, &fd, err)) == 0) {
			r = check_to(c, rt, &fd, &x->v, now, allow_unreleased,
				     err);
			if (!r) {
				cap_by_max(conf_policy(c, rt), &fd, x, now, f);
				set_next(&fd, x, now);
			}
			feed_release(&fd);
		}
		free(rt);
	}
	if (!r && policy) {
		if (only_rt)
			r = resolve_policy(c, only_rt, now, t, f, err);
		for (size_t i = 0; !only_rt && !r && i < c->nrt; i++)
			if (!c->rt[i].follows && !targets_find(t, c->rt[i].name))
				r = resolve_policy(c, c->rt[i].name, now, t, f, err);
		if (!r && !only_rt && !c->nrt)
			r = resolve_policy(c, "go", now, t, f, err);
	}
	base_nr = t->nr;
	for (size_t i = 0; !r && i < runtimes_nr; i++) {
		const char *fol = runtimes[i].follows;
		const struct rt_policy *p = conf_policy(c, runtimes[i].name);

		if (p->follows)
			fol = p->follows;
		if (!fol || targets_find(t, runtimes[i].name))
			continue;
		for (size_t j = 0; j < base_nr; j++)
			if (!strcmp(t->v[j].runtime, fol)) {
				struct target base = t->v[j];

				r = resolve_follower(c, runtimes[i].name, &base,
						     t, f, err);
				break;
			}
	}
	if (!r && !t->nr) {
		buf_seterr(err, "no target: give --to RUNTIME@VERSION or --policy");
		r = CR_ERR_USAGE;
	}
	return r;
}
