/*
 * The fleet manifest, rtup.toml, read with crunner's TOML parser.  Every
 * error names "file:line" so the user can go straight to it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "rtup.h"
#include "config/toml.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct pinfo {
	const char *file;
	struct buf *err;
};

static int bad(struct pinfo *pi, const struct toml_value *v, const char *what,
	       const char *key)
{
	buf_seterr(pi->err, "%s:%d: '%s' %s", pi->file, v ? v->line : 0, key,
		   what);
	return CR_ERR_INVALID;
}

static int get_str(struct pinfo *pi, const struct toml_value *v,
		   const char *key, char **out)
{
	if (v->type != TOML_STRING)
		return bad(pi, v, "must be a string", key);
	free(*out);
	*out = xstrdup(v->u.str.ptr);
	return 0;
}

static int get_int(struct pinfo *pi, const struct toml_value *v,
		   const char *key, int *out)
{
	if (v->type != TOML_INTEGER || v->u.integer < 0 ||
	    v->u.integer > INT_MAX)
		return bad(pi, v, "must be a non-negative integer", key);
	*out = (int)v->u.integer;
	return 0;
}

/* A string or an array of strings, appended to sv. */
static int get_list(struct pinfo *pi, const struct toml_value *v,
		    const char *key, struct strvec *sv)
{
	if (v->type == TOML_STRING) {
		strvec_push(sv, v->u.str.ptr);
		return 0;
	}
	if (v->type != TOML_ARRAY)
		return bad(pi, v, "must be a string or an array of strings",
			   key);
	for (size_t i = 0; i < v->u.array.nr; i++) {
		if (v->u.array.items[i]->type != TOML_STRING)
			return bad(pi, v->u.array.items[i],
				   "must hold strings only", key);
		strvec_push(sv, v->u.array.items[i]->u.str.ptr);
	}
	return 0;
}

static int get_ver(struct pinfo *pi, const struct toml_value *v,
		   const char *key, struct ver *out)
{
	if (v->type != TOML_STRING || ver_parse_str(v->u.str.ptr, out))
		return bad(pi, v, "must be a version string such as \"1.26.5\"",
			   key);
	return 0;
}

static char *abs_path(const char *dir, const char *p)
{
	struct buf b = BUF_INIT;

	if (p[0] != '/')
		buf_addf(&b, "%s/", dir);
	buf_addstr(&b, p);
	while (b.len > 1 && b.data[b.len - 1] == '/')
		buf_setlen(&b, b.len - 1);
	return buf_detach(&b, NULL);
}

static int load_rtup(struct pinfo *pi, const struct toml_value *t,
		     struct conf *c)
{
	for (size_t i = 0; i < t->u.table.nr; i++) {
		const char *k = t->u.table.items[i].key;
		const struct toml_value *v = t->u.table.items[i].value;
		int r = 0;

		if (!strcmp(k, "versions"))
			r = get_str(pi, v, k, &c->versions);
		else if (!strcmp(k, "toolchains"))
			r = get_str(pi, v, k, &c->toolchains);
		else if (!strcmp(k, "branch"))
			r = get_str(pi, v, k, &c->branch);
		else if (!strcmp(k, "message"))
			r = get_str(pi, v, k, &c->message);
		else if (!strcmp(k, "state"))
			r = get_str(pi, v, k, &c->state_dir);
		else if (!strcmp(k, "docs") || !strcmp(k, "offline")) {
			if (v->type != TOML_BOOL)
				return bad(pi, v, "must be true or false", k);
			*(!strcmp(k, "docs") ? &c->docs : &c->offline) =
				v->u.boolean;
		} else
			return bad(pi, v, "is not a key of [rtup]", k);
		if (r)
			return r;
	}
	return 0;
}

static void policy_defaults(struct rt_policy *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->name = xstrdup(name);
	p->window = 2;
	p->lag_warn = 1;
	p->toolchain = TC_KEEP;
}

static int load_minimum(struct pinfo *pi, const struct toml_value *v,
			struct rt_policy *p)
{
	char *s = NULL, *save = NULL;
	int r = 0;

	if ((r = get_str(pi, v, "minimum", &s)))
		return r;
	for (char *w = strtok_r(s, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		while (*w == ' ')
			w++;
		if (!strcmp(w, "keep"))
			;
		else if (!strcmp(w, "raise-to-oldest-supported"))
			p->min_raise = 1;
		else if (!strcmp(w, "track-minor"))
			p->min_track = 1;
		else if (!strcmp(w, "patch-zero"))
			p->min_patch_zero = 1;
		else {
			r = bad(pi, v, "holds an unknown policy (keep, "
				"raise-to-oldest-supported, track-minor, "
				"patch-zero)", "minimum");
			break;
		}
	}
	free(s);
	return r;
}

static int load_runtime(struct pinfo *pi, const char *name,
			const struct toml_value *t, struct rt_policy *p)
{
	char *s = NULL;
	int r = 0;

	policy_defaults(p, name);
	for (size_t i = 0; i < t->u.table.nr && !r; i++) {
		const char *k = t->u.table.items[i].key;
		const struct toml_value *v = t->u.table.items[i].value;

		if (!strcmp(k, "track")) {
			if ((r = get_str(pi, v, k, &s)))
				break;
			if (!strcmp(s, "latest-minor"))
				p->track_minor = 1;
			else if (!strncmp(s, "pin:", 4)) {
				if (ver_parse_str(s + 4, &p->pin_minor))
					r = bad(pi, v, "has a bad pin:", k);
			} else if (strcmp(s, "latest-patch"))
				r = bad(pi, v, "must be latest-patch, "
					"latest-minor or pin:X.Y", k);
		} else if (!strcmp(k, "window"))
			r = get_int(pi, v, k, &p->window);
		else if (!strcmp(k, "soak-days"))
			r = get_int(pi, v, k, &p->soak_days);
		else if (!strcmp(k, "adopt-deadline-days"))
			r = get_int(pi, v, k, &p->adopt_days);
		else if (!strcmp(k, "lag-warn"))
			r = get_int(pi, v, k, &p->lag_warn);
		else if (!strcmp(k, "max"))
			r = get_ver(pi, v, k, &p->max);
		else if (!strcmp(k, "minimum"))
			r = load_minimum(pi, v, p);
		else if (!strcmp(k, "follows"))
			r = get_str(pi, v, k, &p->follows);
		else if (!strcmp(k, "allow-lag")) {
			if ((r = get_str(pi, v, k, &s)))
				break;
			p->allow_lag_none = !strcmp(s, "none");
		} else if (!strcmp(k, "toolchain")) {
			if ((r = get_str(pi, v, k, &s)))
				break;
			if (!strcmp(s, "forbid"))
				p->toolchain = TC_FORBID;
			else if (!strcmp(s, "sync"))
				p->toolchain = TC_SYNC;
			else if (strcmp(s, "keep"))
				r = bad(pi, v, "must be forbid, sync or keep", k);
		} else
			r = bad(pi, v, "is not a key of [runtime]", k);
	}
	if (!r && p->window < 1)
		r = bad(pi, t, "window must be at least 1", name);
	free(s);
	return r;
}

static int load_repo(struct pinfo *pi, const struct conf *c, const char *name,
		     const struct toml_value *t, struct repo_conf *rp)
{
	char *path = NULL;
	int r = 0;

	rp->name = xstrdup(name);
	rp->wave = 1;
	rp->offline = -1;
	rp->line = t->line;
	for (size_t i = 0; i < t->u.table.nr && !r; i++) {
		const char *k = t->u.table.items[i].key;
		const struct toml_value *v = t->u.table.items[i].value;

		if (!strcmp(k, "path"))
			r = get_str(pi, v, k, &path);
		else if (!strcmp(k, "wave"))
			r = get_int(pi, v, k, &rp->wave);
		else if (!strcmp(k, "base"))
			r = get_str(pi, v, k, &rp->base);
		else if (!strcmp(k, "exclude"))
			r = get_list(pi, v, k, &rp->exclude);
		else if (!strcmp(k, "role")) {
			r = get_list(pi, v, k, &rp->roles);
			for (size_t j = 0; !r && j < rp->roles.nr; j++) {
				const char *colon = strrchr(rp->roles.v[j], ':');
				enum role ro;

				if (!colon || role_parse(colon + 1, &ro))
					r = bad(pi, v, "entries must be "
						"PATH:ROLE with a known role", k);
			}
		} else if (!strcmp(k, "verify"))
			r = get_list(pi, v, k, &rp->verify);
		else if (!strcmp(k, "env")) {
			r = get_list(pi, v, k, &rp->env);
			for (size_t j = 0; !r && j < rp->env.nr; j++)
				if (!strchr(rp->env.v[j], '='))
					r = bad(pi, v, "entries must be NAME=VALUE", k);
		} else if (!strcmp(k, "indirect")) {
			r = get_list(pi, v, k, &rp->indirect);
			for (size_t j = 0; !r && j < rp->indirect.nr; j++)
				if (!strchr(rp->indirect.v[j], ':') ||
				    !strstr(rp->indirect.v[j], " via "))
					r = bad(pi, v, "entries must be "
						"'FILE:VAR RUNTIME via MAP'", k);
		} else if (!strcmp(k, "verify-job"))
			r = get_str(pi, v, k, &rp->verify_job);
		else if (!strcmp(k, "binary"))
			r = get_str(pi, v, k, &rp->binary);
		else if (!strcmp(k, "offline")) {
			if (v->type != TOML_BOOL)
				r = bad(pi, v, "must be true or false", k);
			else
				rp->offline = v->u.boolean;
		}
		else
			r = bad(pi, v, "is not a key of [repo]", k);
	}
	if (!r && !path)
		r = bad(pi, t, "has no path", name);
	if (!r)
		rp->path = abs_path(c->dir, path);
	free(path);
	return r;
}

static int load_rule(struct pinfo *pi, const char *name,
		     const struct toml_value *t, struct rule *ru)
{
	char *role = NULL, *regex = NULL;
	const struct toml_value *rv = t;
	int r = 0;

	ru->name = xstrdup(name);
	ru->group = 1;
	for (size_t i = 0; i < t->u.table.nr && !r; i++) {
		const char *k = t->u.table.items[i].key;
		const struct toml_value *v = t->u.table.items[i].value;

		if (!strcmp(k, "runtime"))
			r = get_str(pi, v, k, &ru->runtime);
		else if (!strcmp(k, "role"))
			r = get_str(pi, v, k, &role);
		else if (!strcmp(k, "files"))
			r = get_list(pi, v, k, &ru->files);
		else if (!strcmp(k, "regex")) {
			rv = v;
			r = get_str(pi, v, k, &regex);
		} else if (!strcmp(k, "group"))
			r = get_int(pi, v, k, &ru->group);
		else
			r = bad(pi, v, "is not a key of [rule]", k);
	}
	if (!r && (!ru->runtime || !regex || !ru->files.nr))
		r = bad(pi, t, "needs runtime, files and regex", name);
	if (!r && role_parse(role ? role : "exact", &ru->role))
		r = bad(pi, t, "has an unknown role", name);
	if (!r) {
		int rc = regcomp(&ru->re, regex, REG_EXTENDED | REG_NEWLINE);

		if (rc) {
			char msg[256];

			regerror(rc, &ru->re, msg, sizeof(msg));
			buf_seterr(pi->err, "%s:%d: invalid regex '%s' in rule "
				   "'%s': %s", pi->file, rv->line, regex, name,
				   msg);
			r = CR_ERR_INVALID;
		} else {
			ru->compiled = 1;
			if ((size_t)ru->group > ru->re.re_nsub)
				r = bad(pi, rv, "has fewer groups than 'group'",
					"regex");
		}
	}
	free(role);
	free(regex);
	return r;
}

static int section(struct pinfo *pi, const struct toml_value *v,
		   const char *name)
{
	if (v->type != TOML_TABLE)
		return bad(pi, v, "must be a table of tables", name);
	for (size_t i = 0; i < v->u.table.nr; i++)
		if (v->u.table.items[i].value->type != TOML_TABLE)
			return bad(pi, v->u.table.items[i].value,
				   "must be a table", v->u.table.items[i].key);
	return 0;
}

static void conf_finish(struct conf *c);

int conf_load(const char *path, struct conf *c, struct buf *err)
{
	struct toml_value *root = NULL;
	struct pinfo pi = { path, err };
	char *slash, *real = NULL;
	int r = CR_ERR_INTERNAL;

	memset(c, 0, sizeof(*c));
	c->path = xstrdup(path);
	c->docs = 1;
	if (!(real = realpath(path, NULL))) {
		buf_seterr(err, "cannot read manifest '%s'", path);
		r = CR_ERR_NOT_FOUND;
		goto out;
	}
	slash = strrchr(real, '/');
	c->dir = slash == real ? xstrdup("/") : xstrndup(real, slash - real);
	if ((r = toml_parse_file(path, &root, err)) != 0)
		goto out;
	for (size_t i = 0; i < root->u.table.nr; i++) {
		const char *k = root->u.table.items[i].key;
		const struct toml_value *v = root->u.table.items[i].value;
		size_t n;

		if (!strcmp(k, "rtup")) {
			if (v->type != TOML_TABLE) {
				r = bad(&pi, v, "must be a table", k);
				goto out;
			}
			if ((r = load_rtup(&pi, v, c)))
				goto out;
			continue;
		}
		if (strcmp(k, "runtime") && strcmp(k, "repo") &&
		    strcmp(k, "rule")) {
			r = bad(&pi, v, "is not a manifest section (rtup, "
				"runtime, repo, rule)", k);
			goto out;
		}
		if ((r = section(&pi, v, k)))
			goto out;
		n = v->u.table.nr;
		for (size_t j = 0; j < n; j++) {
			const char *name = v->u.table.items[j].key;
			const struct toml_value *t = v->u.table.items[j].value;

			if (!strcmp(k, "runtime")) {
				c->rt = xreallocarray(c->rt, c->nrt + 1,
						      sizeof(*c->rt));
				r = load_runtime(&pi, name, t, &c->rt[c->nrt++]);
			} else if (!strcmp(k, "repo")) {
				c->repos = xreallocarray(c->repos, c->nrepos + 1,
							 sizeof(*c->repos));
				memset(&c->repos[c->nrepos], 0, sizeof(*c->repos));
				r = load_repo(&pi, c, name, t,
					      &c->repos[c->nrepos++]);
			} else {
				c->rules = xreallocarray(c->rules, c->nrules + 1,
							 sizeof(*c->rules));
				memset(&c->rules[c->nrules], 0, sizeof(*c->rules));
				r = load_rule(&pi, name, t, &c->rules[c->nrules++]);
			}
			if (r)
				goto out;
		}
	}
	if (!c->nrepos) {
		buf_seterr(err, "%s:1: the manifest lists no [repo.NAME]", path);
		r = CR_ERR_INVALID;
		goto out;
	}
	conf_finish(c);
	r = 0;
out:
	free(real);
	toml_value_free(root);
	return r;
}

int conf_default(const char *dir, struct conf *c, struct buf *err)
{
	char *real = realpath(dir, NULL), *base;
	struct repo_conf *rp;

	memset(c, 0, sizeof(*c));
	if (!real) {
		buf_seterr(err, "cannot read directory '%s'", dir);
		return CR_ERR_NOT_FOUND;
	}
	c->path = xstrdup("(no manifest)");
	c->dir = real;
	c->docs = 1;
	c->repos = xcalloc(1, sizeof(*c->repos));
	c->nrepos = 1;
	rp = &c->repos[0];
	base = strrchr(real, '/');
	rp->name = xstrdup(base && base[1] ? base + 1 : real);
	rp->path = xstrdup(real);
	rp->wave = 1;
	rp->offline = -1;
	conf_finish(c);
	return 0;
}

/* Defaults of what the manifest may leave out, paths made absolute. */
static void conf_finish(struct conf *c)
{
	{
		char *v = abs_path(c->dir, c->versions ? c->versions : "versions");
		char *t = abs_path(c->dir, c->toolchains ? c->toolchains : "toolchains");
		char *s = abs_path(c->dir, c->state_dir ? c->state_dir : ".rtup");

		free(c->versions);
		free(c->toolchains);
		free(c->state_dir);
		c->versions = v;
		c->toolchains = t;
		c->state_dir = s;
	}
	if (!c->branch)
		c->branch = xstrdup("rtup/%runtime%-%version%");
	if (!c->message)
		c->message = xstrdup("Bump %runtime% to %version%\n\n"
				     "Changelog: changed");
}

void conf_release(struct conf *c)
{
	free(c->path);
	free(c->dir);
	free(c->versions);
	free(c->toolchains);
	free(c->branch);
	free(c->message);
	free(c->state_dir);
	for (size_t i = 0; i < c->nrt; i++) {
		free(c->rt[i].name);
		free(c->rt[i].follows);
	}
	free(c->rt);
	for (size_t i = 0; i < c->nrepos; i++) {
		struct repo_conf *rp = &c->repos[i];

		free(rp->name);
		free(rp->path);
		free(rp->base);
		free(rp->verify_job);
		free(rp->binary);
		strvec_clear(&rp->exclude);
		strvec_clear(&rp->roles);
		strvec_clear(&rp->verify);
		strvec_clear(&rp->env);
		strvec_clear(&rp->indirect);
	}
	free(c->repos);
	for (size_t i = 0; i < c->nrules; i++) {
		free(c->rules[i].name);
		free(c->rules[i].runtime);
		strvec_clear(&c->rules[i].files);
		if (c->rules[i].compiled)
			regfree(&c->rules[i].re);
	}
	free(c->rules);
	memset(c, 0, sizeof(*c));
}

const struct rt_policy *conf_policy(const struct conf *c, const char *rt)
{
	static struct rt_policy defaults = { .window = 2, .lag_warn = 1 };

	for (size_t i = 0; i < c->nrt; i++)
		if (!strcmp(c->rt[i].name, rt))
			return &c->rt[i];
	return &defaults;
}

struct repo_conf *conf_repo(const struct conf *c, const char *name)
{
	for (size_t i = 0; i < c->nrepos; i++)
		if (!strcmp(c->repos[i].name, name))
			return &c->repos[i];
	return NULL;
}
