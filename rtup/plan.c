/*
 * Turning pins and targets into edits (design 3.7).  plan_repo() is
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

struct file_edits *plan_file(struct repo_plan *p, const char *path)
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

void plan_edit_at(struct repo_plan *p, const char *path, int line, size_t s,
		  size_t e, const char *text)
{
	struct file_edits *fe = plan_file(p, path);

	if (fe->nr == fe->alloc) {
		fe->alloc = fe->alloc ? 2 * fe->alloc : 4;
		fe->e = xreallocarray(fe->e, fe->alloc, sizeof(*fe->e));
	}
	fe->e[fe->nr].start = s;
	fe->e[fe->nr].end = e;
	fe->e[fe->nr].text = xstrdup(text);
	fe->e[fe->nr].line = line;
	fe->nr++;
}

static void plan_edit(struct repo_plan *p, const struct pin *pin, size_t s,
		      size_t e, const char *text)
{
	if (e - s == strlen(text) && !memcmp(pin->value, text, e - s) &&
	    s == pin->start)
		return;
	plan_edit_at(p, pin->path, pin->line, s, e, text);
}

int pin_ver(const struct pin *p, struct ver *v)
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
	      const struct targets *t, int fix_toolchain, time_t now,
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
	warn_toolchain_below(c, repo, pins, after, f);
	for (size_t i = 0; i < pins->nr; i++)
		if (after[i] && targets_find(t, pins->v[i].runtime))
			warn_fallback_ended(c, repo, &pins->v[i], after[i], now, f);
	plan_redirect_generated(root, repo, out, f);
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
