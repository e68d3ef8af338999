/*
 * rtup check: the pins of each runtime against the reference pin (CI
 * first, then idiomatic files ...), toolchain policy, and lag against the
 * release table when there is one.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

const struct pin *ref_pin(const struct pinvec *pins, const char *rt)
{
	const struct pin *best = NULL;

	for (size_t i = 0; i < pins->nr; i++) {
		const struct pin *p = &pins->v[i];
		struct ver v;

		if (strcmp(p->runtime, rt) || (p->role != ROLE_EXACT &&
					       p->role != ROLE_MINOR) ||
		    ver_parse_str(p->value, &v))
			continue;
		if (!best || p->rank < best->rank)
			best = p;
	}
	return best;
}

void lag_status(const struct conf *c, const char *rt, const struct ver *v,
		time_t now, struct buf *out)
{
	const struct rt_policy *p = conf_policy(c, rt);
	struct buf ignore = BUF_INIT;
	struct feed fd;
	int behind = 0;

	if (feed_load(c->versions, rt, &fd, &ignore)) {
		buf_release(&ignore);
		return;
	}
	if (p->adopt_days) {
		for (size_t i = 0; i < fd.nr; i++) {
			const struct release *r = &fd.r[i];

			if (!r->prerelease && r->v.n[2] == 0 && r->date &&
			    r->date + (time_t)p->adopt_days * 86400 <= now &&
			    (r->v.n[0] > v->n[0] ||
			     (r->v.n[0] == v->n[0] && r->v.n[1] > v->n[1]))) {
				buf_addstr(out, "lagging(minor)");
				goto out;
			}
		}
	}
	{
		struct ver sup[64];
		size_t n = feed_supported(&fd, now, sup, 64);

		/* Below the oldest supported line, or on a line that has
		 * ended (an odd Node major newer than an LTS one). */
		if ((n && (v->n[0] < sup[0].n[0] ||
			   (v->n[0] == sup[0].n[0] && v->n[1] < sup[0].n[1]))) ||
		    feed_line_supported(&fd, v, now) == 0) {
			buf_addstr(out, "lagging(minor EOL)");
			goto out;
		}
	}
	if (v->parts == 3 && p->lag_warn > 0) {
		for (size_t i = 0; i < fd.nr; i++)
			if (!fd.r[i].prerelease && ver_same_minor(&fd.r[i].v, v) &&
			    ver_cmp(&fd.r[i].v, v) > 0 &&
			    (!fd.r[i].date || fd.r[i].date <= now) &&
			    (!p->max.parts || ver_cmp(&fd.r[i].v, &p->max) <= 0))
				behind++;
		if (behind >= p->lag_warn)
			buf_addf(out, "lagging(%d patch%s)", behind,
				 behind == 1 ? "" : "es");
	}
out:
	feed_release(&fd);
	buf_release(&ignore);
}

/*
 * "path value"; the alias too ("path nodejs value") when the file pins
 * more than one runtime, so the line is found at a glance.
 */
static void describe(const struct pinvec *pins, const struct pin *p,
		     struct buf *b)
{
	int several = 0;

	for (size_t i = 0; i < pins->nr && !several; i++)
		several = !strcmp(pins->v[i].path, p->path) &&
			  strcmp(pins->v[i].runtime, p->runtime);
	buf_addstr(b, p->path);
	if (p->name && several)
		buf_addf(b, " %s", p->name);
	buf_addf(b, " %s", p->value);
}

void pins_runtimes(const struct pinvec *pins, struct strvec *out)
{
	for (size_t k = 0; k < runtimes_nr; k++)
		for (size_t i = 0; i < pins->nr; i++)
			if (!strcmp(pins->v[i].runtime, runtimes[k].name)) {
				strvec_push(out, runtimes[k].name);
				break;
			}
	/* runtimes of [rule]s only, in the order they turn up */
	for (size_t i = 0; i < pins->nr; i++) {
		int seen = !!runtime_find(pins->v[i].runtime);

		for (size_t j = 0; j < out->nr && !seen; j++)
			seen = !strcmp(out->v[j], pins->v[i].runtime);
		if (!seen)
			strvec_push(out, pins->v[i].runtime);
	}
}

/*
 * a against b on their first parts numbers (1 to 3); at 3 the pre-release
 * counts too, as in ver_cmp().
 */
static int ver_cmp_at(const struct ver *a, const struct ver *b, int parts)
{
	if (parts >= 3)
		return ver_cmp(a, b);
	for (int i = 0; i < parts && i < 2; i++)
		if (a->n[i] != b->n[i])
			return a->n[i] < b->n[i] ? -1 : 1;
	return 0;
}

void check_repo(const struct conf *c, const struct repo_conf *repo,
		const struct pinvec *pins, time_t now, struct findings *f)
{
	struct strvec rts = STRVEC_INIT;

	pins_runtimes(pins, &rts);
	for (size_t k = 0; k < rts.nr; k++)
		check_repo_rt(c, repo, pins, rts.v[k], now, f);
	strvec_clear(&rts);
}

void check_repo_rt(const struct conf *c, const struct repo_conf *repo,
		   const struct pinvec *pins, const char *rt, time_t now,
		   struct findings *f)
{
	{
		const struct pin *ref = ref_pin(pins, rt);
		const struct rt_policy *pol = conf_policy(c, rt);
		struct buf refd = BUF_INIT, lag = BUF_INIT;
		struct ver rv;

		for (size_t i = 0; i < pins->nr; i++) {
			const struct pin *p = &pins->v[i];

			if (strcmp(p->runtime, rt))
				continue;
			if (p->role == ROLE_TOOLCHAIN && pol->toolchain == TC_FORBID)
				finding_add(f, 1, "%s: %s:%d: toolchain directive "
					    "present (policy forbid)", repo->name,
					    p->path, p->line);
			if (p->role == ROLE_ANNOTATION && p->note)
				finding_add(f, 0, "%s: %s:%d: warning: %s",
					    repo->name, p->path, p->line, p->note);
			warn_fallback_ended(c, repo, p, p->value, now, f);
		}
		if (!ref || ver_parse_str(ref->value, &rv)) {
			buf_release(&refd);
			return;
		}
		if (ref->ci)
			buf_addf(&refd, "CI %s (%s)", ref->value,
				 ref->name ? ref->name : ref->path);
		else
			describe(pins, ref, &refd);
		for (size_t i = 0; i < pins->nr; i++) {
			const struct pin *p = &pins->v[i];
			struct buf d = BUF_INIT;
			struct ver v;
			int cmp, bad = 0;

			if (p == ref || strcmp(p->runtime, rt) || pin_ver(p, &v))
				continue;
			/* At the precision both pins state: a go.mod
			 * "go 1.25.8" agrees with a CI "1.25". */
			cmp = ver_cmp_at(&v, &rv,
					 (p->role == ROLE_MINOR ||
					  p->role == ROLE_WINDOW ||
					  p->role == ROLE_ANNOTATION) ? 2 :
					 v.parts < rv.parts ? v.parts : rv.parts);
			switch (p->role) {
			case ROLE_EXACT:
			case ROLE_MINOR:
			case ROLE_DOCS:
				bad = cmp != 0;
				break;
			case ROLE_ANNOTATION:
				bad = !p->note && cmp != 0;
				break;
			case ROLE_MINIMUM:
				bad = cmp > 0;
				break;
			case ROLE_WINDOW: {
				int found = 0;

				for (size_t j = 0; j < pins->nr; j++) {
					struct ver w;

					if (pins->v[j].group == p->group &&
					    !strcmp(pins->v[j].path, p->path) &&
					    pins->v[j].role == ROLE_WINDOW &&
					    !pin_ver(&pins->v[j], &w) &&
					    ver_same_minor(&w, &rv))
						found = 1;
				}
				/* .tool-versions keeps older defaults */
				bad = !found && !p->shift && p->index == 0;
				break;
			}
			default:
				break;
			}
			if (bad) {
				describe(pins, p, &d);
				finding_add(f, 1, "%s: inconsistent: %s is %s "
					    "%s (line %d)", repo->name, d.data,
					    cmp > 0 ? "ahead of" : cmp < 0 ?
					    "behind" : "different from",
					    refd.data, p->line);
			}
			buf_release(&d);
		}
		lag_status(c, rt, &rv, now, &lag);
		if (lag.len)
			finding_add(f, 1, "%s: %s %s: %s", repo->name, rt,
				    ref->value, lag.data);
		buf_release(&lag);
		buf_release(&refd);
	}
}
