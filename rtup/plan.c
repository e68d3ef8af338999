/*
 * Resolving targets offline and turning pins into edits.  plan_repo() is
 * pure apart from reading the files it plans against (for their hash).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edit.h"
#include "plan.h"
#include "util/error.h"
#include "util/sha256.h"
#include "util/xalloc.h"
#include "util/banned.h"

void finding_add(struct findings *f, int serious, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < f->lines.nr; i++)
		if (!strcmp(f->lines.v[i], b.data)) {
			buf_release(&b);
			f->serious |= serious;
			return;
		}
	strvec_push_nodup(&f->lines, buf_detach(&b, NULL));
	f->serious |= serious;
}

void findings_release(struct findings *f)
{
	strvec_clear(&f->lines);
	f->serious = 0;
}

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
			if (!fd.r[j].prerelease && ver_same_minor(&fd.r[j].v, &sup[i]))
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

int targets_resolve(const struct conf *c, const struct strvec *to,
		    int policy, const char *only_rt, time_t now,
		    struct targets *t, struct findings *f, struct buf *err)
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
			cap_by_max(conf_policy(c, rt), &fd, x, now, f);
			set_next(&fd, x, now);
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

void repo_plan_release(struct repo_plan *p)
{
	for (size_t i = 0; i < p->nr; i++) {
		for (size_t j = 0; j < p->files[i].nr; j++)
			free(p->files[i].e[j].text);
		free(p->files[i].e);
		free(p->files[i].path);
	}
	free(p->files);
	memset(p, 0, sizeof(*p));
}

static struct file_edits *plan_file(struct repo_plan *p, const char *path)
{
	struct file_edits *fe;

	for (size_t i = 0; i < p->nr; i++)
		if (!strcmp(p->files[i].path, path))
			return &p->files[i];
	if (p->nr == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 8;
		p->files = xreallocarray(p->files, p->alloc, sizeof(*p->files));
	}
	fe = &p->files[p->nr++];
	memset(fe, 0, sizeof(*fe));
	fe->path = xstrdup(path);
	return fe;
}

static void plan_edit(struct repo_plan *p, const struct pin *pin, size_t s,
		      size_t e, const char *text)
{
	struct file_edits *fe;

	if (e - s == strlen(text) && !memcmp(pin->value, text, e - s) &&
	    s == pin->start)
		return;
	fe = plan_file(p, pin->path);
	if (fe->nr == fe->alloc) {
		fe->alloc = fe->alloc ? 2 * fe->alloc : 4;
		fe->e = xreallocarray(fe->e, fe->alloc, sizeof(*fe->e));
	}
	fe->e[fe->nr].start = s;
	fe->e[fe->nr].end = e;
	fe->e[fe->nr].text = xstrdup(text);
	fe->e[fe->nr].line = pin->line;
	fe->nr++;
}

static int pin_ver(const struct pin *p, struct ver *v)
{
	struct buf b = BUF_INIT;
	int r;

	for (const char *s = p->value; *s; s++)
		if (*s != '\\')
			buf_addch(&b, *s);
	r = ver_parse_str(b.data, v);
	buf_release(&b);
	return r;
}

static const struct pin *line_exact(const struct pinvec *pins,
				    const struct pin *w)
{
	for (size_t i = 0; i < pins->nr; i++)
		if (pins->v[i].line == w->line && !strcmp(pins->v[i].path, w->path) &&
		    (pins->v[i].role == ROLE_EXACT || pins->v[i].role == ROLE_MINOR))
			return &pins->v[i];
	return NULL;
}

/* The new text of a window element. */
static int window_value(const struct pinvec *pins, const struct pin *w,
			const struct target *t, const struct rt_policy *pol,
			struct buf *out)
{
	struct ver v, m;
	size_t n = 0;
	int first = -1, last = -1, asc;

	if (pin_ver(w, &v))
		return -1;
	if (w->shift) {
		/* .tool-versions: the previous defaults move one place on. */
		const struct pin *ex = line_exact(pins, w);
		struct ver ev;

		if (!ex || pin_ver(ex, &ev) || !ver_cmp(&ev, &t->v))
			return -1;
		if (w->index == 0) {
			buf_addstr(out, ex->value);
			return 0;
		}
		for (size_t i = 0; i < pins->nr; i++)
			if (pins->v[i].group == w->group && pins->v[i].shift &&
			    pins->v[i].index == w->index - 1 &&
			    !strcmp(pins->v[i].path, w->path)) {
				buf_addstr(out, pins->v[i].value);
				return 0;
			}
		return -1;
	}
	for (size_t i = 0; i < pins->nr; i++) {
		const struct pin *o = &pins->v[i];
		struct ver ov;

		if (o->group != w->group || strcmp(o->path, w->path) ||
		    o->role != ROLE_WINDOW || pin_ver(o, &ov))
			continue;
		n++;
		if (o->index == 0)
			first = ov.n[1];
		last = ov.n[1];
	}
	(void)pol;
	asc = first <= last;
	m = t->v;
	m.pre[0] = '\0';
	m.n[1] = asc ? t->v.n[1] - (int)(n - 1) + w->index
		     : t->v.n[1] - w->index;
	if (m.n[1] < 0)
		m.n[1] = 0;
	m.n[2] = 0;
	ver_format(&m, v.parts, out);
	return 0;
}

static void minimum_value(const struct rt_policy *pol, const struct target *t,
			  const struct ver *v, int parts, struct buf *out)
{
	struct ver floor = t->v;

	floor.pre[0] = '\0';
	floor.n[2] = 0;
	if (pol->min_track) {
		;
	} else if (pol->min_raise) {
		floor.n[1] = t->v.n[1] - (pol->window - 1);
		if (floor.n[1] < 0)
			floor.n[1] = 0;
		if (ver_cmp(v, &floor) >= 0) {
			/* Already high enough: patch-zero only fixes the
			 * precision ("go 1.21" reads "go 1.21.0"). */
			if (!pol->min_patch_zero || v->parts == 3)
				return;
			floor = *v;
			floor.n[2] = 0;
			floor.pre[0] = '\0';
		}
	} else
		return;
	if (pol->max.parts && ver_cmp(&floor, &pol->max) > 0)
		return;
	ver_format(&floor, pol->min_patch_zero ? 3 : parts, out);
	{
		struct ver cur;

		/* already written that way: no edit */
		if (ver_parse_str(out->data, &cur) == 0 && !ver_cmp(&cur, v) &&
		    cur.parts == parts)
			buf_reset(out);
	}
}

/*
 * go mod writes the toolchain line as its own paragraph: when it goes, the
 * blank line before it goes too, so no double blank line is left.
 */
static void blank_before(const char *root, const struct pin *p,
			 struct repo_plan *out)
{
	struct buf path = BUF_INIT, data = BUF_INIT, err = BUF_INIT;
	size_t s = p->lstart;

	buf_addf(&path, "%s/%s", root, p->path);
	if (s >= 1 && !edit_read(path.data, &data, &err) && s <= data.len &&
	    data.data[s - 1] == '\n') {
		size_t b = s - 1;

		if (b >= 1 && data.data[b - 1] == '\r')
			b--;
		if (b == 0 || data.data[b - 1] == '\n')
			plan_edit(out, p, b, s, "");
	}
	buf_release(&path);
	buf_release(&data);
	buf_release(&err);
}

/*
 * The invariants of design 3.7 on the planned values (after[i] is pin i's
 * text once the plan is written): exact pins equal the target, minor pins
 * its minor, minimum at most the target and max, every window list holds
 * the target minor, every bound annotation admits the target.  A violation
 * aborts the repository's plan.  Also warns when go lines now have three
 * parts while the window still tests a Go before 1.21, which rejects them.
 */
static void check_planned(const struct conf *c, const struct repo_conf *repo,
			  const struct pinvec *pins, const struct targets *t,
			  char *const *after, struct repo_plan *out,
			  struct findings *f)
{
	int three_part_go = 0, old_window_minor = -1;

	for (size_t i = 0; i < pins->nr; i++) {
		const struct pin *p = &pins->v[i];
		const struct target *tg = targets_find(t, p->runtime);
		const struct rt_policy *pol = conf_policy(c, p->runtime);
		struct ver v;
		const char *bad = NULL;

		if (!tg || !after[i] || ver_parse_str(after[i], &v))
			continue;
		switch (p->role) {
		case ROLE_EXACT:
			if (ver_cmp(&v, &tg->v) && !(v.parts < 3 &&
						    ver_same_minor(&v, &tg->v)))
				bad = "exact pin is not the target";
			break;
		case ROLE_MINOR:
			if (!ver_same_minor(&v, &tg->v))
				bad = "minor pin is not the target's minor";
			break;
		case ROLE_MINIMUM:
			if (ver_cmp(&v, &tg->v) > 0 ||
			    (pol->max.parts && ver_cmp(&v, &pol->max) > 0))
				bad = "minimum above the target or max";
			if (!strcmp(p->runtime, "go") && v.parts == 3 &&
			    strcmp(after[i], p->value))
				three_part_go = 1;
			break;
		case ROLE_WINDOW: {
			int found = 0;

			if (!strcmp(p->runtime, "go") &&
			    (old_window_minor < 0 || v.n[1] < old_window_minor) &&
			    v.n[0] == 1)
				old_window_minor = v.n[1];
			if (p->shift || p->index)
				break;
			for (size_t j = 0; j < pins->nr; j++) {
				struct ver w;

				if (pins->v[j].role == ROLE_WINDOW &&
				    pins->v[j].group == p->group &&
				    !strcmp(pins->v[j].path, p->path) && after[j] &&
				    !ver_parse_str(after[j], &w) &&
				    ver_same_minor(&w, &tg->v))
					found = 1;
			}
			if (!found)
				bad = "window list lacks the target minor";
			break;
		}
		default:
			break;
		}
		if (bad) {
			finding_add(f, 1, "%s: inconsistent: %s:%d: %s "
				    "(planned %s); nothing written", repo->name,
				    p->path, p->line, bad, after[i]);
			out->aborted = 1;
		}
	}
	if (three_part_go && old_window_minor >= 0 && old_window_minor < 21)
		finding_add(f, 0, "%s: warning: go lines now read x.y.0, but the "
			    "window still tests go 1.%d, which rejects a "
			    "three-part go line (go 1.21 or later needed)",
			    repo->name, old_window_minor);
}

int plan_repo(const struct conf *c, const struct repo_conf *repo,
	      const char *root, const struct pinvec *pins,
	      const struct targets *t, int fix_toolchain,
	      struct repo_plan *out, struct findings *f, struct buf *err)
{
	struct buf text = BUF_INIT, path = BUF_INIT, content = BUF_INIT;
	char vs[48], **after = NULL;
	int r = CR_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	out->repo = repo;
	after = xcalloc(pins->nr + 1, sizeof(*after));
	for (size_t i = 0; i < pins->nr; i++) {
		const struct pin *p = &pins->v[i];
		const struct target *tg = targets_find(t, p->runtime);
		const struct rt_policy *pol = conf_policy(c, p->runtime);
		struct ver v;

		if (!tg)
			continue;
		buf_reset(&text);
		if (p->role != ROLE_INDIRECT && p->role != ROLE_FLOATING &&
		    p->role != ROLE_DERIVED && pin_ver(p, &v))
			continue;
		switch (p->role) {
		case ROLE_EXACT:
		case ROLE_DOCS:
		case ROLE_MINOR:
			ver_format(&tg->v, v.parts, &text);
			break;
		case ROLE_NEXT:
			/* a pre-release keeps its own spelling (1.27rc1) */
			ver_format(&tg->next, *tg->next.pre ? tg->next.parts :
				   v.parts, &text);
			break;
		case ROLE_MINIMUM:
			minimum_value(pol, tg, &v, v.parts, &text);
			if (text.len) {
				struct ver nv;

				ver_parse_str(text.data, &nv);
				if (ver_cmp(&nv, &tg->v) > 0) {
					finding_add(f, 1, "%s: inconsistent: "
						    "%s minimum %s above target",
						    repo->name, p->path, text.data);
					out->aborted = 1;
				}
			}
			break;
		case ROLE_TOOLCHAIN:
			if (pol->toolchain == TC_SYNC)
				ver_format(&tg->v, 3, &text);
			else if (pol->toolchain == TC_FORBID && fix_toolchain) {
				plan_edit(out, p, p->lstart, p->lend, "");
				blank_before(root, p, out);
				continue;
			} else if (pol->toolchain == TC_FORBID)
				finding_add(f, 1, "%s: %s:%d: toolchain "
					    "directive present (policy forbid)",
					    repo->name, p->path, p->line);
			break;
		case ROLE_WINDOW:
			window_value(pins, p, tg, pol, &text);
			break;
		case ROLE_ANNOTATION:
			if (!p->note)
				buf_addf(&text, "%d\\.%d", tg->v.n[0], tg->v.n[1]);
			break;
		case ROLE_INDIRECT: {
			char *rev = NULL;
			struct buf e2 = BUF_INIT;

			if (map_lookup(c->versions, p->note, p->runtime, &tg->v,
				       &rev, &e2)) {
				buf_seterr(err, "%s", e2.data);
				buf_release(&e2);
				r = CR_ERR_INVALID;
				goto out;
			}
			buf_release(&e2);
			if (rev)
				buf_addstr(&text, rev);
			else
				finding_add(f, 1, "%s: blocked: no %s revision "
					    "provides %s %s", repo->name, p->note,
					    p->runtime,
					    ver_str(&tg->v, 3, vs, sizeof(vs)));
			free(rev);
			break;
		}
		default:
			break;
		}
		if (text.len)
			plan_edit(out, p, p->start, p->end, text.data);
		after[i] = xstrdup(text.len ? text.data : p->value);
	}
	check_planned(c, repo, pins, t, after, out, f);
	/* Hash each file the edits were computed against. */
	for (size_t i = 0; i < out->nr; i++) {
		struct file_edits *fe = &out->files[i];
		unsigned char md[SHA256_LEN];
		FILE *fp;

		buf_reset(&path);
		buf_reset(&content);
		buf_addf(&path, "%s/%s", root, fe->path);
		if (!(fp = fopen(path.data, "rb"))) {
			buf_seterr(err, "cannot read '%s'", path.data);
			r = CR_ERR_IO;
			goto out;
		}
		for (;;) {
			char chunk[8192];
			size_t n = fread(chunk, 1, sizeof(chunk), fp);

			if (!n)
				break;
			buf_add(&content, chunk, n);
		}
		fclose(fp);
		sha256(content.data, content.len, md);
		sha256_hex(md, SHA256_LEN, fe->hash);
	}
	r = 0;
out:
	for (size_t i = 0; after && i < pins->nr; i++)
		free(after[i]);
	free(after);
	buf_release(&text);
	buf_release(&path);
	buf_release(&content);
	return r;
}

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

		if (n && (v->n[0] < sup[0].n[0] ||
			  (v->n[0] == sup[0].n[0] && v->n[1] < sup[0].n[1]))) {
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

void check_repo(const struct conf *c, const struct repo_conf *repo,
		const struct pinvec *pins, time_t now, struct findings *f)
{
	for (size_t k = 0; k < runtimes_nr; k++)
		check_repo_rt(c, repo, pins, runtimes[k].name, now, f);
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
			cmp = (rv.parts < 3 || p->role == ROLE_MINOR ||
			       p->role == ROLE_WINDOW || p->role == ROLE_ANNOTATION) ?
			      (v.n[0] != rv.n[0] ? (v.n[0] < rv.n[0] ? -1 : 1) :
			       v.n[1] != rv.n[1] ? (v.n[1] < rv.n[1] ? -1 : 1) : 0) :
			      ver_cmp(&v, &rv);
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
				bad = ver_cmp(&v, &rv) > 0;
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
