/* rtup plan and apply. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "edit.h"
#include "git.h"
#include "plan.h"
#include "state.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void subst(const char *fmt, const struct targets *t, struct buf *out)
{
	char v[48];

	for (const char *p = fmt; *p;) {
		if (!strncmp(p, "%runtime%", 9)) {
			buf_addstr(out, t->v[0].runtime);
			p += 9;
		} else if (!strncmp(p, "%version%", 9)) {
			buf_addstr(out, ver_str(&t->v[0].v, 3, v, sizeof(v)));
			p += 9;
		} else
			buf_addch(out, *p++);
	}
}

static json_t *plan_json(const struct repo_plan *p)
{
	json_t *jr = json_object(), *files = json_array();

	json_object_set_new(jr, "repo", json_string(p->repo->name));
	if (p->aborted)
		json_object_set_new(jr, "aborted", json_true());
	for (size_t i = 0; i < p->nr; i++) {
		json_t *jf = json_object(), *je = json_array();

		json_object_set_new(jf, "path", json_string(p->files[i].path));
		json_object_set_new(jf, "sha256", json_string(p->files[i].hash));
		for (size_t k = 0; k < p->files[i].nr; k++) {
			const struct edit *e = &p->files[i].e[k];
			json_t *x = json_object();

			json_object_set_new(x, "start", json_integer((json_int_t)e->start));
			json_object_set_new(x, "end", json_integer((json_int_t)e->end));
			json_object_set_new(x, "line", json_integer(e->line));
			json_object_set_new(x, "text", json_string(e->text));
			json_array_append_new(je, x);
		}
		json_object_set_new(jf, "edits", je);
		json_array_append_new(files, jf);
	}
	json_object_set_new(jr, "files", files);
	return jr;
}

static int plan_from_json(json_t *jr, struct repo_plan *p)
{
	size_t i, k;
	json_t *jf, *je;

	/* an invariant failed at plan time: nothing of it is written */
	p->aborted = json_is_true(json_object_get(jr, "aborted"));
	json_array_foreach(json_object_get(jr, "files"), i, jf) {
		struct file_edits *fe;
		const char *path = json_string_value(json_object_get(jf, "path"));
		const char *h = json_string_value(json_object_get(jf, "sha256"));

		if (!path || !h || strlen(h) != 64)
			return -1;
		p->files = xreallocarray(p->files, p->nr + 1, sizeof(*p->files));
		fe = &p->files[p->nr++];
		memset(fe, 0, sizeof(*fe));
		fe->path = xstrdup(path);
		memcpy(fe->hash, h, 65);
		json_array_foreach(json_object_get(jf, "edits"), k, je) {
			const char *t = json_string_value(json_object_get(je, "text"));

			if (!t)
				return -1;
			fe->e = xreallocarray(fe->e, fe->nr + 1, sizeof(*fe->e));
			fe->e[fe->nr].start = (size_t)json_integer_value(json_object_get(je, "start"));
			fe->e[fe->nr].end = (size_t)json_integer_value(json_object_get(je, "end"));
			fe->e[fe->nr].line = (int)json_integer_value(json_object_get(je, "line"));
			fe->e[fe->nr].text = xstrdup(t);
			fe->nr++;
		}
	}
	return 0;
}

/* Scans root and plans it; r is an exit code. */
static int plan_one(struct opts *o, struct conf *c, struct repo_conf *rp,
		    const char *root, const struct targets *t,
		    struct repo_plan *plan, struct findings *f)
{
	struct pinvec pins = { 0 };
	struct buf err = BUF_INIT;
	int r;

	memset(plan, 0, sizeof(*plan));
	if ((r = cli_scan(c, rp, root, &pins, NULL)))
		return r;
	if (plan_repo(c, rp, root ? root : rp->path, &pins, t,
		      o->fix_toolchain, o->now, plan, f, &err)) {
		fprintf(stderr, "rtup: %s\n", err.data);
		repo_plan_release(plan);
		r = RTUP_EXIT_CONFIG;
	} else {
		leftovers_report(rp, root ? root : rp->path, &pins, plan, t,
				 o->strict, f);
	}
	pinvec_release(&pins);
	buf_release(&err);
	return r;
}

static int load_targets(struct opts *o, struct conf *c, struct targets *t,
			struct findings *f)
{
	struct buf err = BUF_INIT;

	if (targets_resolve(c, &o->to, o->policy, o->runtime, o->now,
			    o->allow_unreleased, t, f, &err)) {
		fprintf(stderr, "rtup: %s\n", err.data);
		buf_release(&err);
		targets_release(t);
		return RTUP_EXIT_CONFIG;
	}
	return 0;
}

int cmd_plan(struct opts *o)
{
	struct findings f = { STRVEC_INIT, 0 };
	struct targets t = { 0 };
	struct conf c;
	json_t *root = json_object(), *repos = json_array();
	int r;

	if ((r = cli_conf(o, &c)))
		goto done;
	if ((r = load_targets(o, &c, &t, &f)))
		goto out;
	for (size_t i = 0; i < c.nrepos && !r; i++) {
		struct repo_plan plan;
		struct buf diff = BUF_INIT, err = BUF_INIT;

		if (!cli_want(o, &c.repos[i]))
			continue;
		if ((r = plan_one(o, &c, &c.repos[i], NULL, &t, &plan, &f)))
			break;
		if (edit_repo(c.repos[i].path, &plan, 0, &diff, &err)) {
			fprintf(stderr, "rtup: %s\n", err.data);
			r = RTUP_EXIT_STATE;
		} else if (o->diff && diff.len) {
			printf("# rtup: repo %s (%s)\n%s", c.repos[i].name,
			       c.repos[i].path, diff.data);
		} else if (!o->diff) {
			for (size_t k = 0; k < plan.nr; k++)
				for (size_t e = 0; e < plan.files[k].nr; e++)
					printf("%s: %s:%d: -> %s\n", c.repos[i].name,
					       plan.files[k].path,
					       plan.files[k].e[e].line,
					       *plan.files[k].e[e].text ?
					       plan.files[k].e[e].text : "(line deleted)");
		}
		json_array_append_new(repos, plan_json(&plan));
		repo_plan_release(&plan);
		buf_release(&diff);
		buf_release(&err);
	}
	for (size_t i = 0; i < f.lines.nr; i++)
		fprintf(o->diff ? stderr : stdout, "%s\n", f.lines.v[i]);
	if (!r && o->plan_out) {
		json_t *jt = json_object();

		for (size_t i = 0; i < t.nr; i++) {
			char v[48];

			json_object_set_new(jt, t.v[i].runtime,
					    json_string(ver_str(&t.v[i].v, 3, v, sizeof(v))));
		}
		json_object_set_new(root, "schema", json_string("rtup-plan/1"));
		json_object_set_new(root, "targets", jt);
		json_object_set(root, "repos", repos);
		if (json_dump_file(root, o->plan_out, JSON_INDENT(2) |
				   JSON_PRESERVE_ORDER)) {
			fprintf(stderr, "rtup: cannot write '%s'\n", o->plan_out);
			r = RTUP_EXIT_CONFIG;
		}
	}
	if (!r && f.serious)
		r = RTUP_EXIT_FINDINGS;
	targets_release(&t);
out:
	findings_release(&f);
	conf_release(&c);
done:
	json_decref(repos);
	json_decref(root);
	return r;
}

/* 1 with the first changed path in first when path has tracked changes. */
static int dirty(const char *path, struct buf *first, struct buf *err)
{
	struct buf out = BUF_INIT;
	int r = git(path, &out, err, "status", "--porcelain",
		    "--untracked-files=no", NULL);

	if (!r && out.len > 3) {
		/* "XY path": the status letters, a blank, the path */
		buf_add(first, out.data + 3, strcspn(out.data + 3, "\n"));
		r = 1;
	}
	buf_release(&out);
	return r;
}

/* Stages exactly the planned paths and commits them with the trailer. */
static int commit(const char *wt, const struct repo_plan *p, const char *msg,
		  struct buf *err)
{
	struct buf all = BUF_INIT, m = BUF_INIT;
	unsigned char md[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];
	int r = 0;

	for (size_t i = 0; i < p->nr && !r; i++) {
		buf_addf(&all, "%s\n%s\n", p->files[i].path, p->files[i].hash);
		for (size_t k = 0; k < p->files[i].nr; k++)
			buf_addf(&all, "%zu %zu %s\n", p->files[i].e[k].start,
				 p->files[i].e[k].end, p->files[i].e[k].text);
		r = git(wt, NULL, err, "add", "--", p->files[i].path, NULL);
	}
	sha256(all.data, all.len, md);
	sha256_hex(md, SHA256_LEN, hex);
	buf_addf(&m, "%s\n\nRtup-Plan: %s\n", msg, hex);
	if (!r)
		r = git(wt, NULL, err, "commit", "-q", "-m", m.data, NULL);
	buf_release(&all);
	buf_release(&m);
	return r;
}

/* What apply_repo() did, for the wave gate and apply.json. */
enum outcome {
	OUT_FAILED, OUT_CURRENT, OUT_CHANGED, OUT_ALREADY, OUT_ABORTED,
	OUT_BLOCKED,
};
static const char *const outcome_names[] = {
	"failed", "current", "changed", "already-applied", "aborted",
	"blocked",
};

/* A blocked pin (design 3.6 step 6) holds the repository's wave back. */
static int is_blocked(const struct findings *f, const char *repo)
{
	size_t n = strlen(repo);

	for (size_t i = 0; i < f->lines.nr; i++)
		if (!strncmp(f->lines.v[i], repo, n) &&
		    !strncmp(f->lines.v[i] + n, ": blocked: ", 11))
			return 1;
	return 0;
}

static int apply_repo(struct opts *o, struct conf *c, struct repo_conf *rp,
		      const struct targets *t, struct repo_plan *plan,
		      struct findings *f, enum outcome *oc)
{
	struct buf err = BUF_INIT, branch = BUF_INIT, msg = BUF_INIT;
	struct buf wt = BUF_INIT, out = BUF_INIT;
	struct stat st;
	int r = 0, d;

	if (!o->allow_dirty && (d = dirty(rp->path, &out, &err)) != 0) {
		if (d > 0)
			fprintf(stderr, "rtup: %s: repository '%s' is dirty "
				"('%s' has changes); commit or stash first (or "
				"--allow-dirty)\n", rp->name, rp->path, out.data);
		else
			fprintf(stderr, "rtup: %s\n", err.data);
		r = RTUP_EXIT_STATE;
		goto out;
	}
	if (plan->aborted) {
		*oc = OUT_ABORTED;
		r = RTUP_EXIT_FINDINGS;
		goto out;
	}
	if (o->no_commit) {
		if (edit_repo(rp->path, plan, 1, NULL, &err)) {
			fprintf(stderr, "rtup: %s\n", err.data);
			r = RTUP_EXIT_STATE;
		} else
			*oc = plan->nr ? OUT_CHANGED : OUT_CURRENT;
		goto out;
	}
	subst(c->branch, t, &branch);
	subst(c->message, t, &msg);
	buf_addf(&wt, "%s/worktrees/%s", c->state_dir, rp->name);
	if (git(rp->path, &out, &err, "rev-parse", "--verify", "--quiet",
		branch.data, NULL) == 0) {
		struct repo_plan again;

		buf_reset(&err);
		if (stat(wt.data, &st) &&
		    git(rp->path, NULL, &err, "worktree", "add", "-q", wt.data,
			branch.data, NULL)) {
			fprintf(stderr, "rtup: %s: %s\n", rp->name, err.data);
			r = RTUP_EXIT_STATE;
			goto out;
		}
		/* Re-plan against the branch: an applied plan gives no edits. */
		if ((r = plan_one(o, c, rp, wt.data, t, &again, f)))
			goto out;
		if (!again.nr) {
			printf("%s: %s already applied\n", rp->name, branch.data);
			*oc = OUT_ALREADY;
		} else if (edit_repo(wt.data, &again, 1, NULL, &err) ||
			   commit(wt.data, &again, msg.data, &err)) {
			fprintf(stderr, "rtup: %s\n", err.data);
			r = RTUP_EXIT_STATE;
		} else {
			printf("%s: committed on %s\n", rp->name, branch.data);
			*oc = OUT_CHANGED;
		}
		repo_plan_release(&again);
		goto out;
	}
	buf_reset(&err);
	if (!plan->nr) {
		printf("%s: current\n", rp->name);
		*oc = OUT_CURRENT;
		goto out;
	}
	if (fs_make_parent_dirs(wt.data, 0755, &err) ||
	    git(rp->path, NULL, &err, "worktree", "add", "-q", "-b",
		branch.data, wt.data, rp->base ? rp->base : "HEAD", NULL)) {
		fprintf(stderr, "rtup: %s: %s\n", rp->name, err.data);
		r = RTUP_EXIT_STATE;
		goto out;
	}
	if (edit_repo(wt.data, plan, 1, NULL, &err)) {
		fprintf(stderr, "rtup: %s\n", err.data);
		/* Leave nothing half-done behind. */
		git(rp->path, NULL, NULL, "worktree", "remove", "--force",
		    wt.data, NULL);
		git(rp->path, NULL, NULL, "branch", "-D", branch.data, NULL);
		r = RTUP_EXIT_STATE;
		goto out;
	}
	if (commit(wt.data, plan, msg.data, &err)) {
		fprintf(stderr, "rtup: %s: %s\n", rp->name, err.data);
		r = RTUP_EXIT_STATE;
		goto out;
	}
	printf("%s: committed on %s\n", rp->name, branch.data);
	*oc = OUT_CHANGED;
out:
	buf_release(&err);
	buf_release(&branch);
	buf_release(&msg);
	buf_release(&wt);
	buf_release(&out);
	return r;
}

static int cmp_wave(const void *a, const void *b)
{
	const struct repo_conf *x = *(struct repo_conf *const *)a;
	const struct repo_conf *y = *(struct repo_conf *const *)b;

	if (x->wave != y->wave)
		return x->wave < y->wave ? -1 : 1;
	return x < y ? -1 : x > y;	/* manifest order within a wave */
}

int cmd_apply(struct opts *o)
{
	struct findings f = { STRVEC_INIT, 0 };
	struct targets t = { 0 };
	struct repo_conf **order = NULL;
	json_t *saved = NULL, *vstate = NULL, *astate = NULL;
	struct conf c;
	int r, worst = 0, gate = -1;

	if ((r = cli_conf(o, &c)))
		return r;
	if (o->plan_in) {
		json_error_t je;
		json_t *jt;
		const char *k;
		json_t *v;

		if (access(o->plan_in, R_OK)) {
			fprintf(stderr, "rtup: cannot read plan '%s': %s\n",
				o->plan_in, strerror(errno));
			r = RTUP_EXIT_CONFIG;
			goto out;
		}
		if (!(saved = json_load_file(o->plan_in, 0, &je)) ||
		    !json_is_object(jt = json_object_get(saved, "targets"))) {
			fprintf(stderr, "rtup: %s:%d: not an rtup plan\n",
				o->plan_in, saved ? 1 : je.line);
			r = RTUP_EXIT_CONFIG;
			goto out;
		}
		json_object_foreach(jt, k, v) {
			struct buf e = BUF_INIT;

			buf_addf(&e, "%s@%s", k, json_string_value(v));
			strvec_push(&o->to, e.data);
			buf_release(&e);
		}
	}
	if ((r = load_targets(o, &c, &t, &f)))
		goto out;
	vstate = state_load(&c, "verify");
	astate = state_load(&c, "apply");
	order = xcalloc(c.nrepos, sizeof(*order));
	for (size_t i = 0; i < c.nrepos; i++)
		order[i] = &c.repos[i];
	qsort(order, c.nrepos, sizeof(*order), cmp_wave);
	for (size_t i = 0; i < c.nrepos; i++) {
		struct repo_plan plan = { 0 };
		struct repo_conf *rp = order[i];
		enum outcome oc = OUT_FAILED;
		const char *vs;

		if (!cli_want(o, rp))
			continue;
		/*
		 * Design 3.8: wave N+1 only once every repository of the
		 * earlier waves is current or verified.  --repo picks one
		 * repository on purpose, so it is not held.
		 */
		if (gate >= 0 && rp->wave > gate && !o->ignore_waves && !o->repo) {
			printf("%s: held: wave %d is not verified yet (rtup "
			       "verify, or --ignore-waves)\n", rp->name, gate);
			json_object_set_new(astate, rp->name, json_pack("{s:s}",
					    "outcome", "held"));
			continue;
		}
		if (saved) {
			size_t k;
			json_t *jr;

			plan.repo = rp;
			json_array_foreach(json_object_get(saved, "repos"), k, jr)
				if (!strcmp(json_string_value(json_object_get(jr, "repo")) ?
					    json_string_value(json_object_get(jr, "repo")) : "",
					    rp->name) && plan_from_json(jr, &plan)) {
					fprintf(stderr, "rtup: %s: bad entry for '%s'\n",
						o->plan_in, rp->name);
					r = RTUP_EXIT_CONFIG;
				}
		} else
			r = plan_one(o, &c, rp, NULL, &t, &plan, &f);
		if (!r)
			r = apply_repo(o, &c, rp, &t, &plan, &f, &oc);
		repo_plan_release(&plan);
		if (oc == OUT_CURRENT && is_blocked(&f, rp->name))
			oc = OUT_BLOCKED;
		if (oc == OUT_CHANGED)
			json_object_del(vstate, rp->name);	/* stale now */
		vs = state_repo_str(vstate, rp->name, NULL);
		if (((oc != OUT_CURRENT && !(oc == OUT_ALREADY && vs &&
					     !strcmp(vs, "verified"))) ||
		     is_blocked(&f, rp->name)) && gate < 0)
			gate = rp->wave;
		json_object_set_new(astate, rp->name, json_pack("{s:s}",
				    "outcome", outcome_names[oc]));
		if (r > worst)
			worst = r;
		if (r == RTUP_EXIT_CONFIG)
			break;
		r = 0;
	}
	for (size_t i = 0; i < f.lines.nr; i++)
		printf("%s\n", f.lines.v[i]);
	if (worst != RTUP_EXIT_CONFIG) {
		json_t *jt = json_object(), *jf = json_array();
		struct buf err = BUF_INIT;

		for (size_t i = 0; i < t.nr; i++) {
			char v[48];

			json_object_set_new(jt, t.v[i].runtime, json_string(
				ver_str(&t.v[i].v, 3, v, sizeof(v))));
		}
		for (size_t i = 0; i < f.lines.nr; i++)
			json_array_append_new(jf, json_string(f.lines.v[i]));
		json_object_set_new(astate, "_targets", jt);
		json_object_set_new(astate, "_findings", jf);
		if (state_save(&c, "apply", astate, &err) ||
		    state_save(&c, "verify", vstate, &err))
			fprintf(stderr, "rtup: %s\n", err.data);
		buf_release(&err);
	}
	r = worst ? worst : f.serious ? RTUP_EXIT_FINDINGS : 0;
	targets_release(&t);
out:
	free(order);
	json_decref(saved);
	json_decref(vstate);
	json_decref(astate);
	findings_release(&f);
	conf_release(&c);
	return r;
}
