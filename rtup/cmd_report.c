/*
 * rtup report (design 3.10): one row per repository and runtime, before
 * (the checkout) and after (the worktree apply made, else the checkout),
 * one status from a fixed set, the pins that are not rewritten, mis-bound
 * annotations, FIPS lag and wave progress.  JSON follows
 * schema/report-v1.json ("rtup-report/1"); Markdown renders the same rows.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan.h"
#include "state.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* exact, minimum and window of one runtime in one tree */
static json_t *values(const struct pinvec *pins, const char *rt)
{
	const struct pin *ref = ref_pin(pins, rt), *min = NULL;
	json_t *j = json_object(), *win = json_array();
	int group = -1;
	struct ver a, b;

	for (size_t i = 0; i < pins->nr; i++) {
		const struct pin *p = &pins->v[i];

		if (strcmp(p->runtime, rt))
			continue;
		if (p->role == ROLE_MINIMUM && !ver_parse_str(p->value, &a) &&
		    (!min || (!ver_parse_str(min->value, &b) &&
			      ver_cmp(&a, &b) < 0)))
			min = p;
		if (p->role == ROLE_WINDOW && !p->shift && group < 0)
			group = (int)i;
	}
	for (size_t i = group < 0 ? pins->nr : (size_t)group; i < pins->nr; i++)
		if (pins->v[i].role == ROLE_WINDOW &&
		    pins->v[i].group == pins->v[group].group &&
		    !strcmp(pins->v[i].path, pins->v[group].path))
			json_array_append_new(win, json_string(pins->v[i].value));
	json_object_set_new(j, "exact", ref ? json_string(ref->value) : json_null());
	json_object_set_new(j, "minimum", min ? json_string(min->value) : json_null());
	json_object_set_new(j, "window", win);
	return j;
}

static json_t *pin_ref(const struct pin *p, const char *extra)
{
	json_t *j = json_pack("{s:s,s:i,s:s}", "path", p->path, "line",
			      p->line, "value", p->value);

	if (extra)
		json_object_set_new(j, "note", json_string(extra));
	return j;
}

/* The value a derived pin (${GO_VERSION}) stands for: the pin that
 * defines its variable in the same tree, or NULL. */
static const char *resolved(const struct pinvec *pins, const struct pin *d)
{
	if (!d->name)
		return NULL;
	for (size_t i = 0; i < pins->nr; i++)
		if (pins->v[i].role != ROLE_DERIVED && pins->v[i].name &&
		    !strcmp(pins->v[i].name, d->name) &&
		    !strcmp(pins->v[i].runtime, d->runtime))
			return pins->v[i].value;
	return NULL;
}

/* The first finding of apply.json for repo that matches kind and rt. */
static const char *finding_of(json_t *astate, const char *repo,
			      const char *kind, const char *rt)
{
	json_t *l = json_object_get(astate, "_findings"), *e;
	size_t i, n = strlen(repo);
	char word[64];

	snprintf(word, sizeof(word), " %s ", rt);
	json_array_foreach(l, i, e) {
		const char *s = json_string_value(e);

		if (s && !strncmp(s, repo, n) && !strncmp(s + n, ": ", 2) &&
		    !strncmp(s + n + 2, kind, strlen(kind)) && strstr(s, word))
			return s + n + 2 + strlen(kind);
	}
	return NULL;
}

/* Whether any pin of rt reads differently in the two trees. */
static int pins_differ(const struct pinvec *a, const struct pinvec *b,
		       const char *rt)
{
	size_t na = 0, nb = 0;

	for (size_t i = 0; i < a->nr; i++) {
		int same = 0;

		if (strcmp(a->v[i].runtime, rt))
			continue;
		na++;
		for (size_t j = 0; j < b->nr && !same; j++)
			same = !strcmp(b->v[j].runtime, rt) &&
			       !strcmp(b->v[j].path, a->v[i].path) &&
			       b->v[j].line == a->v[i].line &&
			       !strcmp(b->v[j].value, a->v[i].value);
		if (!same)
			return 1;
	}
	for (size_t j = 0; j < b->nr; j++)
		nb += !strcmp(b->v[j].runtime, rt);
	return na != nb;
}

struct row_in {
	struct opts *o;
	const struct conf *c;
	const struct repo_conf *rp;
	const char *rt;
	const struct pinvec *before, *after;
	json_t *astate, *vstate;
};

static json_t *row(struct row_in *in, int *bad)
{
	json_t *r = json_object(), *fl = json_array(), *de = json_array();
	json_t *mis = json_array(), *jb = values(in->before, in->rt);
	json_t *reasons = json_array();
	json_t *ja = values(in->after, in->rt);
	const char *vs = state_repo_str(in->vstate, in->rp->name, NULL);
	const char *oc = state_repo_str(in->astate, in->rp->name, "outcome");
	const struct rt_policy *pol = conf_policy(in->c, in->rt);
	const char *ex = json_string_value(json_object_get(ja, "exact"));
	struct findings f = { STRVEC_INIT, 0 };
	struct buf st = BUF_INIT, lag = BUF_INIT;
	const char *blocked;
	struct ver v;
	int inc = 0;

	for (size_t i = 0; i < in->after->nr; i++) {
		const struct pin *p = &in->after->v[i];

		if (strcmp(p->runtime, in->rt))
			continue;
		if (p->role == ROLE_FLOATING)
			json_array_append_new(fl, pin_ref(p, NULL));
		else if (p->role == ROLE_DERIVED) {
			json_t *j = pin_ref(p, NULL);
			const char *rv = resolved(in->after, p);

			if (rv)
				json_object_set_new(j, "resolved", json_string(rv));
			json_array_append_new(de, j);
		}
		else if (p->role == ROLE_ANNOTATION && p->note)
			json_array_append_new(mis, pin_ref(p, p->note));
	}
	check_repo_rt(in->c, in->rp, in->after, in->rt, in->o->now, &f);
	for (size_t i = 0; i < f.lines.nr; i++) {
		const char *why = strstr(f.lines.v[i], ": inconsistent: ");

		if (why) {
			inc = 1;
			json_array_append_new(reasons, json_string(why + 16));
		}
	}
	if (ex && !ver_parse_str(ex, &v))
		lag_status(in->c, in->rt, &v, in->o->now, &lag);
	blocked = finding_of(in->astate, in->rp->name, "blocked: ", in->rt);
	if (vs && !strncmp(vs, "verify-failed", 13))
		buf_addstr(&st, vs);
	else if (vs && !strncmp(vs, "timeout(", 8))
		buf_addf(&st, "verify-failed(%.*s: timeout)",
			 (int)strlen(vs) - 9, vs + 8);
	else if (vs && !strncmp(vs, "unverifiable", 12))
		buf_addstr(&st, "unverifiable");
	else if (blocked)
		buf_addf(&st, "blocked(%s)", blocked);
	else if (inc || (oc && !strcmp(oc, "aborted")))
		buf_addstr(&st, "inconsistent");
	else if (ex && pol->max.parts && !ver_parse_str(ex, &v) &&
		 ver_cmp(&v, &pol->max) > 0)
		buf_addstr(&st, "ahead-of-max");
	else if (lag.len)
		buf_add(&st, lag.data, lag.len);
	else if (pins_differ(in->before, in->after, in->rt))
		buf_addstr(&st, "updated");
	else
		buf_addstr(&st, "current");
	*bad |= !strncmp(st.data, "lagging", 7) ||
		!strcmp(st.data, "inconsistent") ||
		!strncmp(st.data, "blocked", 7) ||
		!strncmp(st.data, "verify-failed", 13);
	json_object_set_new(r, "repo", json_string(in->rp->name));
	json_object_set_new(r, "wave", json_integer(in->rp->wave));
	json_object_set_new(r, "runtime", json_string(in->rt));
	json_object_set_new(r, "before", jb);
	json_object_set_new(r, "after", ja);
	json_object_set_new(r, "status", json_string(st.data));
	json_object_set_new(r, "apply", json_string(oc ? oc : "not-run"));
	json_object_set_new(r, "verify", json_string(vs ? vs : "not-run"));
	json_object_set_new(r, "floating", fl);
	json_object_set_new(r, "derived", de);
	json_object_set_new(r, "misbound_annotations", mis);
	/* Why a row is inconsistent, and its lag even when another status
	 * wins (an inconsistent repo can be on an ended line too). */
	if (json_array_size(reasons))
		json_object_set(r, "reasons", reasons);
	if (lag.len)
		json_object_set_new(r, "lag", json_string(lag.data));
	json_decref(reasons);
	findings_release(&f);
	buf_release(&st);
	buf_release(&lag);
	return r;
}

static int write_out(const char *dest, const char *text)
{
	FILE *fp;

	if (!strcmp(dest, "-")) {
		fputs(text, stdout);
		return 0;
	}
	if (!(fp = fopen(dest, "w")) || fputs(text, fp) < 0 || fclose(fp)) {
		fprintf(stderr, "rtup: cannot write '%s'\n", dest);
		return RTUP_EXIT_CONFIG;
	}
	return 0;
}

static const char *str_or(json_t *j, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s ? s : dflt;
}

/* A string or a list of strings as Markdown text; "-" for none. */
static void md_value(struct buf *md, json_t *v)
{
	size_t i;
	json_t *e;

	if (json_is_string(v)) {
		buf_addstr(md, json_string_value(v));
	} else if (json_is_array(v) && json_array_size(v)) {
		json_array_foreach(v, i, e)
			buf_addf(md, "%s%s", i ? ", " : "", json_string_value(e));
	} else
		buf_addch(md, '-');
}

/* "before → after" when they differ, else the value once. */
static void md_change(struct buf *md, json_t *before, json_t *after)
{
	if (!json_equal(before, after)) {
		md_value(md, before);
		buf_addstr(md, " \xe2\x86\x92 ");
	}
	md_value(md, after);
}

static void md_render(json_t *root, struct buf *md)
{
	json_t *rows = json_object_get(root, "rows"), *r, *e, *w;
	size_t i, k;

	buf_addf(md, "# rtup report (%s)\n\n", str_or(root, "now", "-"));
	buf_addstr(md, "| repo | wave | runtime | before | after | status | "
		   "verify | minimum | window |\n"
		   "|---|---|---|---|---|---|---|---|---|\n");
	json_array_foreach(rows, i, r) {
		json_t *b = json_object_get(r, "before"), *a = json_object_get(r, "after");

		const char *lag = str_or(r, "lag", NULL);

		buf_addf(md, "| %s | %d | %s | %s | %s | %s%s%s | %s | ",
			 str_or(r, "repo", ""),
			 (int)json_integer_value(json_object_get(r, "wave")),
			 str_or(r, "runtime", ""), str_or(b, "exact", "-"),
			 str_or(a, "exact", "-"), str_or(r, "status", ""),
			 lag && strcmp(lag, str_or(r, "status", "")) ? ", " : "",
			 lag && strcmp(lag, str_or(r, "status", "")) ? lag : "",
			 str_or(r, "verify", ""));
		md_change(md, json_object_get(b, "minimum"),
			  json_object_get(a, "minimum"));
		buf_addstr(md, " | ");
		md_change(md, json_object_get(b, "window"),
			  json_object_get(a, "window"));
		buf_addstr(md, " |\n");
	}
	buf_addstr(md, "\n## Why inconsistent\n\n");
	json_array_foreach(rows, i, r)
		json_array_foreach(json_object_get(r, "reasons"), k, e)
			buf_addf(md, "- %s %s: %s\n", str_or(r, "repo", ""),
				 str_or(r, "runtime", ""), json_string_value(e));
	buf_addstr(md, "\n## Not rewritten\n\n");
	json_array_foreach(rows, i, r) {
		static const char *const kinds[] = { "floating", "derived",
						     "misbound_annotations" };

		for (size_t n = 0; n < 3; n++)
			json_array_foreach(json_object_get(r, kinds[n]), k, e)
				buf_addf(md, "- %s: %s `%s:%d` `%s`%s%s%s%s\n",
					 str_or(r, "repo", ""), kinds[n],
					 str_or(e, "path", ""),
					 (int)json_integer_value(json_object_get(e, "line")),
					 str_or(e, "value", ""),
					 json_object_get(e, "resolved") ? " = " : "",
					 str_or(e, "resolved", ""),
					 json_object_get(e, "note") ? ": " : "",
					 str_or(e, "note", ""));
	}
	buf_addstr(md, "\n## FIPS lag\n\n");
	json_array_foreach(json_object_get(root, "fips_lag"), i, e)
		buf_addf(md, "- %s\n", json_string_value(e));
	buf_addstr(md, "\n## Waves\n\n| wave | repos | updated | verified |\n"
		   "|---|---|---|---|\n");
	json_array_foreach(json_object_get(root, "waves"), i, w)
		buf_addf(md, "| %d | %d | %d | %d |\n",
			 (int)json_integer_value(json_object_get(w, "wave")),
			 (int)json_integer_value(json_object_get(w, "repos")),
			 (int)json_integer_value(json_object_get(w, "updated")),
			 (int)json_integer_value(json_object_get(w, "verified")));
}

/* Wave progress: repositories, updated ones (branch or edit), verified. */
static json_t *waves(const struct conf *c, json_t *astate, json_t *vstate)
{
	json_t *out = json_array();
	int lo = -1, hi = -1;

	for (size_t i = 0; i < c->nrepos; i++) {
		if (lo < 0 || c->repos[i].wave < lo)
			lo = c->repos[i].wave;
		if (c->repos[i].wave > hi)
			hi = c->repos[i].wave;
	}
	for (int w = lo; w >= 0 && w <= hi; w++) {
		int n = 0, up = 0, ver = 0;

		for (size_t i = 0; i < c->nrepos; i++) {
			const char *oc = state_repo_str(astate, c->repos[i].name, "outcome");
			const char *vs = state_repo_str(vstate, c->repos[i].name, NULL);

			if (c->repos[i].wave != w)
				continue;
			n++;
			up += oc && (!strcmp(oc, "changed") ||
				     !strcmp(oc, "already-applied"));
			ver += vs && !strcmp(vs, "verified");
		}
		if (n)
			json_array_append_new(out, json_pack("{s:i,s:i,s:i,s:i}",
				"wave", w, "repos", n, "updated", up,
				"verified", ver));
	}
	return out;
}

int cmd_report(struct opts *o)
{
	json_t *root = json_object(), *rows = json_array(), *lag = json_array();
	json_t *astate = NULL, *vstate = NULL, *e;
	struct buf md = BUF_INIT, tree = BUF_INIT;
	struct conf c;
	char now[16];
	struct tm tm;
	int r, bad = 0;
	size_t i;

	/* --json takes its file as an optional argument: "--json FILE"
	 * leaves FILE as the operand. */
	if (o->json && !o->json_out && o->args.nr == 1)
		o->json_out = o->args.v[0];
	else if (o->args.nr) {
		fprintf(stderr, "rtup: report takes no operand '%s'\n",
			o->args.v[0]);
		r = RTUP_EXIT_CONFIG;
		goto done;
	}
	if ((r = cli_conf(o, &c)))
		goto done;
	astate = state_load(&c, "apply");
	vstate = state_load(&c, "verify");
	for (size_t n = 0; n < c.nrepos && !r; n++) {
		struct repo_conf *rp = &c.repos[n];
		struct pinvec before = { 0 }, after = { 0 };

		if (!cli_want(o, rp))
			continue;
		repo_tree(&c, rp, &tree);
		if (!(r = cli_scan(&c, rp, NULL, &before, NULL)) &&
		    !(r = cli_scan(&c, rp, tree.data, &after, NULL))) {
			struct strvec rts = STRVEC_INIT;

			pins_runtimes(&after, &rts);
			for (size_t k = 0; k < rts.nr; k++) {
				struct row_in in = { o, &c, rp, rts.v[k], &before,
						     &after, astate, vstate };

				json_array_append_new(rows, row(&in, &bad));
			}
			strvec_clear(&rts);
		}
		pinvec_release(&before);
		pinvec_release(&after);
	}
	if (r)
		goto out;
	json_array_foreach(json_object_get(astate, "_findings"), i, e)
		if (json_is_string(e) && !strncmp(json_string_value(e), "lag: ", 5))
			json_array_append(lag, e);
	gmtime_r(&o->now, &tm);
	strftime(now, sizeof(now), "%Y-%m-%d", &tm);
	json_object_set_new(root, "schema", json_string("rtup-report/1"));
	json_object_set_new(root, "now", json_string(now));
	e = json_object_get(astate, "_targets");
	json_object_set_new(root, "targets", e ? json_deep_copy(e) : json_object());
	json_object_set(root, "rows", rows);
	json_object_set(root, "fips_lag", lag);
	json_object_set_new(root, "waves", waves(&c, astate, vstate));
	if (o->json || !o->md_out) {
		char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		struct buf b = BUF_INIT;

		buf_addf(&b, "%s\n", s);
		r = write_out(o->json_out ? o->json_out : "-", b.data);
		buf_release(&b);
		free(s);
	}
	if (!r && o->md_out) {
		md_render(root, &md);
		r = write_out(o->md_out, md.data);
	}
	if (!r && bad)
		r = RTUP_EXIT_FINDINGS;
out:
	conf_release(&c);
done:
	json_decref(astate);
	json_decref(vstate);
	json_decref(rows);
	json_decref(lag);
	json_decref(root);
	buf_release(&md);
	buf_release(&tree);
	return r;
}
