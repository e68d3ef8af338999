/*
 * One job's keywords, read from its resolved mapping, with GitLab's
 * validation messages (lib/gitlab/ci/config/entry/job.rb and friends).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/pipeline.h"
#include "local/pipeline_int.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const char *const job_keys[] = {
	"after_script", "allow_failure", "artifacts", "before_script",
	"cache", "coverage", "dast_configuration", "dependencies",
	"environment", "except", "extends", "hooks", "id_tokens", "identity",
	"image", "inherit", "interruptible", "manual_confirmation", "needs",
	"only", "pages", "parallel", "publish", "release", "resource_group",
	"retry", "rules", "run", "script", "secrets", "services", "stage",
	"start_in", "tags", "timeout", "trigger", "variables", "when", NULL,
};

static const char *const whens[] = {
	"on_success", "on_failure", "always", "manual", "delayed", "never",
	NULL,
};

void pl_vars_set(struct pl_vars *vars, const char *key, const char *value,
		 bool raw)
{
	size_t i;

	for (i = 0; i < vars->nr; i++)
		if (!strcmp(vars->v[i].key, key)) {
			free(vars->v[i].value);
			vars->v[i].value = xstrdup(value);
			vars->v[i].raw = raw;
			return;
		}
	if (vars->nr == vars->alloc) {
		vars->alloc = vars->alloc ? vars->alloc * 2 : 8;
		vars->v = xreallocarray(vars->v, vars->alloc, sizeof(*vars->v));
	}
	vars->v[vars->nr].key = xstrdup(key);
	vars->v[vars->nr].value = xstrdup(value);
	vars->v[vars->nr].raw = raw;
	vars->nr++;
}

const char *pl_vars_get(const struct pl_vars *vars, const char *key)
{
	size_t i;

	for (i = 0; i < vars->nr; i++)
		if (!strcmp(vars->v[i].key, key))
			return vars->v[i].value;
	return NULL;
}

void pl_vars_copy(struct pl_vars *dst, const struct pl_vars *src)
{
	size_t i;

	for (i = 0; i < src->nr; i++)
		pl_vars_set(dst, src->v[i].key, src->v[i].value, src->v[i].raw);
}

void pl_vars_release(struct pl_vars *vars)
{
	size_t i;

	for (i = 0; i < vars->nr; i++) {
		free(vars->v[i].key);
		free(vars->v[i].value);
	}
	free(vars->v);
	vars->v = NULL;
	vars->nr = vars->alloc = 0;
}

static void owner_prefix(struct buf *err, const struct ynode *n,
			 const char *job)
{
	char where[512];

	ynode_where_key(n, where, sizeof(where));
	buf_reset(err);
	if (*where)
		(void)buf_addf(err, "%s: ", where);
	if (job)
		(void)buf_addf(err, "job '%s': ", job);
}

int pl_vars_parse(struct pl_vars *vars, const struct ynode *n,
		  const char *owner, struct buf *err)
{
	size_t i;

	if (n->kind == YNODE_NULL)
		return 0;
	if (n->kind != YNODE_MAP)
		goto bad;
	for (i = 0; i < n->nr; i++) {
		const struct ynode *v = n->items[i];
		const char *text = ynode_text(v);
		bool raw = false;

		if (v->kind == YNODE_MAP) {
			const struct ynode *value = ynode_get(v, "value");
			const struct ynode *expand = ynode_get(v, "expand");
			size_t k;

			for (k = 0; k < v->nr; k++)
				if (!pl_in_list((const char *const[]){ "value",
						"description", "expand",
						"options", NULL }, v->keys[k])) {
					owner_prefix(err, v->items[k], owner);
					(void)buf_addf(err, "variable '%s': unknown keyword '%s' (value, description, expand, options)",
						       n->keys[i], v->keys[k]);
					return CR_ERR_INVALID;
				}

			text = value ? ynode_text(value) : "";
			raw = expand && ynode_bool(expand) == 0;
		}
		if (!text) {
			owner_prefix(err, v, owner);
			(void)buf_addf(err, "variable '%s' must be a string, a number or a mapping with 'value'",
				       n->keys[i]);
			return CR_ERR_INVALID;
		}
		pl_vars_set(vars, n->keys[i], text, raw);
	}
	return 0;
bad:
	owner_prefix(err, n, owner);
	(void)buf_addstr(err, "'variables' should be a mapping of key value pairs");
	return CR_ERR_INVALID;
}

static int flatten(const struct ynode *n, struct strvec *out, int depth)
{
	size_t i;

	if (n->kind == YNODE_SEQ && depth < 10) {
		for (i = 0; i < n->nr; i++)
			if (flatten(n->items[i], out, depth + 1))
				return -1;
		return 0;
	}
	if (n->kind != YNODE_SCALAR)
		return -1;
	strvec_push(out, n->str);
	return 0;
}

int pl_string_list(const struct ynode *n, const char *job, const char *key,
		   struct strvec *out, struct buf *err)
{
	struct strvec items = STRVEC_INIT;
	size_t i;

	if (n->kind == YNODE_NULL)
		return 0;
	/* Into items first: a non-string half-way leaves out as it was. */
	if (flatten(n, &items, 0) == 0) {
		for (i = 0; i < items.nr; i++)
			strvec_push(out, items.v[i]);
		strvec_clear(&items);
		return 0;
	}
	strvec_clear(&items);
	owner_prefix(err, n, job);
	(void)buf_addf(err, "'%s' should be a string or a list of strings", key);
	return CR_ERR_INVALID;
}

long pl_parse_duration(const char *text)
{
	static const struct { const char *unit; long secs; } units[] = {
		{ "seconds", 1 }, { "second", 1 }, { "secs", 1 }, { "sec", 1 },
		{ "s", 1 }, { "minutes", 60 }, { "minute", 60 }, { "mins", 60 },
		{ "min", 60 }, { "m", 60 }, { "hours", 3600 }, { "hour", 3600 },
		{ "hrs", 3600 }, { "hr", 3600 }, { "h", 3600 },
		{ "days", 86400 }, { "day", 86400 }, { "d", 86400 },
		{ "weeks", 604800 }, { "week", 604800 }, { "w", 604800 },
	};
	const char *p = text;
	long total = 0;
	bool any = false;

	for (;;) {
		char *end;
		long n;
		size_t i, len;

		while (isspace((unsigned char)*p) || *p == ',')
			p++;
		if (!strncmp(p, "and ", 4))
			p += 4;
		if (!*p)
			break;
		if (!isdigit((unsigned char)*p))
			return -1;
		n = strtol(p, &end, 10);
		if (n < 0 || n > 100000000)
			return -1;
		p = end;
		while (*p == ' ')
			p++;
		for (len = 0; isalpha((unsigned char)p[len]); len++)
			;
		if (!len) {
			total += n;	/* bare seconds */
		} else {
			for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
				if (strlen(units[i].unit) == len &&
				    !strncmp(p, units[i].unit, len))
					break;
			if (i == sizeof(units) / sizeof(units[0]))
				return -1;
			total += n * units[i].secs;
			p += len;
		}
		any = true;
	}
	return any ? total : -1;
}

static int bad(struct buf *err, const struct ynode *n, const char *job,
	       const char *what)
{
	owner_prefix(err, n, job);
	(void)buf_addstr(err, what);
	return CR_ERR_INVALID;
}

/* A mapping's keys are all in keys, else "owner: unknown keyword 'x'". */
static int known_keys(const struct ynode *n, const char *const *keys,
		      const char *job, const char *owner, struct buf *err)
{
	size_t i;

	for (i = 0; n->kind == YNODE_MAP && i < n->nr; i++)
		if (!pl_in_list(keys, n->keys[i])) {
			owner_prefix(err, n->items[i], job);
			(void)buf_addf(err, "%s: unknown keyword '%s'", owner,
				       n->keys[i]);
			return CR_ERR_INVALID;
		}
	return 0;
}

static int parse_allow_failure(struct pl_job *job, const struct ynode *n,
			       struct buf *err)
{
	const struct ynode *codes;

	if (ynode_bool(n) >= 0) {
		job->allow_failure = ynode_bool(n);
		return 0;
	}
	if (n->kind == YNODE_MAP && (codes = ynode_get(n, "exit_codes"))) {
		job->allow_failure = 0;
		return pl_string_list(codes, job->name, "allow_failure:exit_codes",
				      &job->allow_exit_codes, err);
	}
	return bad(err, n, job->name,
		   "'allow_failure' should be a boolean or a mapping with 'exit_codes'");
}

void pl_needs_free(struct pl_need *needs, size_t nr)
{
	size_t i;

	for (i = 0; i < nr; i++)
		free(needs[i].job);
	free(needs);
}

/* needs:parallel:matrix: a list of mappings of names to values (or lists). */
static int check_need_matrix(const struct ynode *par, const char *job,
			     const struct ynode **matrix, struct buf *err)
{
	const struct ynode *m;
	size_t i, k;

	if (par->kind != YNODE_MAP || par->nr != 1 ||
	    !(m = ynode_get(par, "matrix")) || m->kind != YNODE_SEQ || !m->nr)
		return bad(err, par, job,
			   "'needs:parallel' should be a mapping with a 'matrix' list");
	for (i = 0; i < m->nr; i++) {
		const struct ynode *e = m->items[i];

		if (e->kind != YNODE_MAP || !e->nr)
			return bad(err, e, job,
				   "each needs:parallel:matrix entry should map variable names to values");
		for (k = 0; k < e->nr; k++) {
			const struct ynode *v = e->items[k];
			size_t j;

			if (v->kind == YNODE_SCALAR)
				continue;
			if (v->kind != YNODE_SEQ || !v->nr)
				return bad(err, v, job,
					   "needs:parallel:matrix values should be strings or lists of strings");
			for (j = 0; j < v->nr; j++)
				if (v->items[j]->kind != YNODE_SCALAR)
					return bad(err, v->items[j], job,
						   "needs:parallel:matrix values should be strings or lists of strings");
		}
	}
	*matrix = m;
	return 0;
}

static int needs_parse(const struct ynode *n, const char *job,
		       struct pl_need **out, size_t *nr, struct buf *err);

int pl_needs_parse(const struct ynode *n, const char *job,
		   struct pl_need **out, size_t *nr, struct buf *err)
{
	int r = needs_parse(n, job, out, nr, err);

	if (r)
		*nr = 0;	/* *out is NULL: nothing for the caller to free */
	return r;
}

static int needs_parse(const struct ynode *n, const char *job,
		       struct pl_need **out, size_t *nr, struct buf *err)
{
	static const char *const need_keys[] = {
		"job", "artifacts", "optional", "parallel", "project", "ref",
		"pipeline", NULL,
	};
	struct pl_need *needs;
	size_t i, k;

	*out = NULL;
	*nr = 0;
	if (n->kind == YNODE_NULL)
		return 0;
	if (n->kind != YNODE_SEQ)
		return bad(err, n, job, "'needs' should be a list");
	needs = xcalloc(n->nr + 1, sizeof(*needs));
	for (i = 0; i < n->nr; i++) {
		const struct ynode *e = n->items[i];
		struct pl_need *need = &needs[*nr];
		const struct ynode *v;
		int r;

		need->artifacts = true;
		/*
		 * Another project's or pipeline's job: GitLab fetches its
		 * artifacts; locally there is nothing to wait for.
		 */
		if (e->kind == YNODE_MAP &&
		    (ynode_get(e, "project") || ynode_get(e, "pipeline")))
			continue;
		if (e->kind == YNODE_SCALAR && *ynode_text(e)) {
			need->job = xstrdup(ynode_text(e));
		} else if (e->kind == YNODE_MAP && (v = ynode_get(e, "job")) &&
			   v->kind == YNODE_SCALAR && *ynode_text(v)) {
			for (k = 0; k < e->nr; k++)
				if (!pl_in_list(need_keys, e->keys[k])) {
					pl_needs_free(needs, *nr);
					return bad(err, e->items[k], job,
						   "unknown 'needs' keyword (job, artifacts, optional, parallel)");
				}
			if (((v = ynode_get(e, "artifacts")) && ynode_bool(v) < 0) ||
			    ((v = ynode_get(e, "optional")) && ynode_bool(v) < 0)) {
				pl_needs_free(needs, *nr);
				return bad(err, v, job,
					   "'needs' artifacts and optional should be true or false");
			}
			if ((v = ynode_get(e, "parallel")) &&
			    (r = check_need_matrix(v, job, &need->matrix, err))) {
				pl_needs_free(needs, *nr);
				return r;
			}
			need->job = xstrdup(ynode_text(ynode_get(e, "job")));
			if ((v = ynode_get(e, "artifacts")))
				need->artifacts = ynode_bool(v) != 0;
			if ((v = ynode_get(e, "optional")))
				need->optional = ynode_bool(v) == 1;
		} else {
			pl_needs_free(needs, *nr);
			return bad(err, e, job,
				   "'needs' entries should be a job name or a mapping with 'job'");
		}
		need->node = e;
		(*nr)++;
	}
	*out = needs;
	return 0;
}

static int parse_needs(struct pl_job *job, const struct ynode *n,
		       struct buf *err)
{
	size_t i;

	job->has_needs = true;
	for (i = 0; n->kind == YNODE_SEQ && i < n->nr; i++)
		if (n->items[i]->kind == YNODE_MAP &&
		    (ynode_get(n->items[i], "project") ||
		     ynode_get(n->items[i], "pipeline")))
			job->remote_needs = true;
	return pl_needs_parse(n, job->name, &job->needs, &job->nr_needs, err);
}

static int parse_retry(struct pl_job *job, const struct ynode *n,
		       struct buf *err)
{
	const struct ynode *v = n;
	const char *text;

	if (n->kind == YNODE_MAP) {
		if (known_keys(n, (const char *const[]){ "max", "when",
				"exit_codes", NULL }, job->name, "retry", err))
			return CR_ERR_INVALID;
		v = ynode_get(n, "max");
		if (ynode_get(n, "when") &&
		    pl_string_list(ynode_get(n, "when"), job->name, "retry:when",
				   &job->retry_when, err))
			return CR_ERR_INVALID;
		if (ynode_get(n, "exit_codes") &&
		    pl_string_list(ynode_get(n, "exit_codes"), job->name,
				   "retry:exit_codes", &job->retry_exit_codes, err))
			return CR_ERR_INVALID;
		if (!v)
			return 0;
	}
	text = ynode_text(v);
	if (!text || !*text || strspn(text, "0123456789") != strlen(text) ||
	    strlen(text) > 1 || text[0] > '2')
		return bad(err, v, job->name,
			   "'retry' should be a number from 0 to 2 or a mapping with 'max' and 'when'");
	job->retry_max = text[0] - '0';
	return 0;
}

static int parse_parallel(struct pl_job *job, const struct ynode *n,
			  struct buf *err)
{
	const char *text = ynode_text(n);
	char *end;
	long v;

	if (n->kind == YNODE_MAP) {
		const struct ynode *m = ynode_get(n, "matrix");

		if (!m || m->kind != YNODE_SEQ || !m->nr)
			return bad(err, n, job->name,
				   "'parallel' should be a number or a mapping with a 'matrix' list");
		job->matrix = m;
		return 0;
	}
	v = text ? strtol(text, &end, 10) : 0;
	if (!text || !*text || *end || v < 1 || v > 200)
		return bad(err, n, job->name,
			   "'parallel' should be a number from 1 to 200");
	job->parallel = (int)v;
	return 0;
}

static int job_variables(const struct pipeline *pl, struct pl_job *job,
			 struct buf *err)
{
	const struct ynode *inherit = ynode_get(job->node, "inherit");
	const struct ynode *iv = inherit ? ynode_get(inherit, "variables") : NULL;
	const struct ynode *own = ynode_get(job->node, "variables");
	size_t i;
	int r;

	if (inherit && (r = known_keys(inherit, (const char *const[]){
			"default", "variables", NULL }, job->name, "inherit",
				       err)))
		return r;
	job->inherit_all_variables = !iv || ynode_bool(iv) == 1;
	if (iv && ynode_bool(iv) < 0 &&
	    (r = pl_string_list(iv, job->name, "inherit:variables",
				&job->inherit_variables, err)))
		return r;
	for (i = 0; i < pl->variables.nr; i++)
		if (pl_job_inherits_variable(job, pl->variables.v[i].key))
			pl_vars_set(&job->variables, pl->variables.v[i].key,
				    pl->variables.v[i].value,
				    pl->variables.v[i].raw);
	if (own && (r = pl_vars_parse(&job->own_variables, own, job->name, err)))
		return r;
	pl_vars_copy(&job->variables, &job->own_variables);
	return 0;
}

bool pl_job_inherits_variable(const struct pl_job *job, const char *key)
{
	size_t i;

	if (job->inherit_all_variables)
		return true;
	for (i = 0; i < job->inherit_variables.nr; i++)
		if (!strcmp(job->inherit_variables.v[i], key))
			return true;
	return false;
}

/*
 * start_in: only with when: delayed and without rules (a rule has its
 * own), from 1 second to 1 week, as GitLab validates it.
 */
static int check_start_in(const struct pl_job *job, struct buf *err)
{
	const struct ynode *v = ynode_get(job->node, "start_in");
	bool delayed = !strcmp(job->when, "delayed");
	long secs;

	if (!v) {
		if (delayed && !job->rules)
			return bad(err, ynode_get(job->node, "when"), job->name,
				   "when: delayed needs 'start_in'");
		return 0;
	}
	if (job->rules)
		return bad(err, v, job->name,
			   "'start_in' goes in the rule that says when: delayed, not beside rules");
	if (!delayed)
		return bad(err, v, job->name, "'start_in' needs when: delayed");
	secs = ynode_text(v) ? pl_parse_duration(ynode_text(v)) : -1;
	if (secs < 1 || secs > 7 * 86400)
		return bad(err, v, job->name,
			   "'start_in' should be a duration from 1 second to 1 week");
	return 0;
}

int pl_job_parse(struct pipeline *pl, struct pl_job *job, const char *name,
		 struct buf *err)
{
	struct ynode *n = job->node;
	const struct ynode *v;
	size_t i;
	int r;

	job->name = xstrdup(name);
	job->allow_failure = -1;
	for (i = 0; i < n->nr; i++)
		if (!pl_in_list(job_keys, n->keys[i])) {
			owner_prefix(err, n->items[i], name);
			(void)buf_addf(err, "unknown keyword '%s'", n->keys[i]);
			return CR_ERR_INVALID;
		}
	v = ynode_get(n, "stage");
	job->stage = xstrdup(v && ynode_text(v) && *ynode_text(v) ?
			     ynode_text(v) : "test");
	if (pipeline_stage_index(pl, job->stage) < 0) {
		struct buf list = BUF_INIT;

		for (i = 0; i < pl->stages.nr; i++)
			(void)buf_addf(&list, "%s%s", i ? ", " : "",
				       pl->stages.v[i]);
		owner_prefix(err, v ? v : n, name);
		(void)buf_addf(err, "chosen stage '%s' does not exist; available stages are %s",
			       job->stage, list.data);
		buf_release(&list);
		return CR_ERR_INVALID;
	}
	job->trigger = ynode_get(n, "trigger") != NULL;
	if ((v = ynode_get(n, "script")) &&
	    (r = pl_string_list(v, name, "script", &job->script, err)))
		return r;
	if (!v && !job->trigger)
		return bad(err, n, name,
			   "config should implement the script:, run:, or trigger: keyword");
	if ((v = ynode_get(n, "before_script")) &&
	    (r = pl_string_list(v, name, "before_script", &job->before_script,
				err)))
		return r;
	if ((v = ynode_get(n, "after_script")) &&
	    (r = pl_string_list(v, name, "after_script", &job->after_script,
				err)))
		return r;
	if ((r = job_variables(pl, job, err)))
		return r;
	job->rules = ynode_get(n, "rules");
	job->only = ynode_get(n, "only");
	job->except = ynode_get(n, "except");
	if (job->rules && (job->only || job->except))
		return bad(err, job->rules, name,
			   "may not use rules with only or except");
	if (job->rules && job->rules->kind != YNODE_SEQ)
		return bad(err, job->rules, name, "'rules' should be a list");
	v = ynode_get(n, "when");
	job->when = xstrdup(v && ynode_text(v) && *ynode_text(v) ?
			    ynode_text(v) : "on_success");
	if (!pl_in_list(whens, job->when) || (v && v->kind != YNODE_SCALAR))
		return bad(err, v, name,
			   "'when' should be on_success, on_failure, always, manual, delayed or never");
	if ((r = check_start_in(job, err)))
		return r;
	if ((v = ynode_get(n, "allow_failure")) &&
	    (r = parse_allow_failure(job, v, err)))
		return r;
	if ((v = ynode_get(n, "needs")) && (r = parse_needs(job, v, err)))
		return r;
	if ((v = ynode_get(n, "dependencies"))) {
		job->has_dependencies = true;
		if ((r = pl_string_list(v, name, "dependencies",
					&job->dependencies, err)))
			return r;
	}
	/* As GitLab's job entry: with needs, dependencies come from them. */
	for (i = 0; job->has_needs && i < job->dependencies.nr; i++) {
		const char *dep = job->dependencies.v[i];
		size_t k;
		bool in_needs = false;

		for (k = 0; k < job->nr_needs && !in_needs; k++)
			in_needs = !strcmp(job->needs[k].job, dep);
		if (!in_needs) {
			owner_prefix(err, ynode_get(n, "dependencies"), name);
			(void)buf_addf(err, "dependencies: '%s' should be part of needs",
				       dep);
			return CR_ERR_INVALID;
		}
	}
	if ((v = ynode_get(n, "parallel")) && (r = parse_parallel(job, v, err)))
		return r;
	if ((v = ynode_get(n, "retry")) && (r = parse_retry(job, v, err)))
		return r;
	if ((v = ynode_get(n, "timeout"))) {
		const char *t = ynode_text(v);

		job->timeout_s = t ? pl_parse_duration(t) : -1;
		if (job->timeout_s <= 0)
			return bad(err, v, name,
				   "'timeout' should be a duration such as '1h 30m'");
	}
	if ((v = ynode_get(n, "interruptible"))) {
		if (ynode_bool(v) < 0)
			return bad(err, v, name,
				   "'interruptible' should be true or false");
		job->interruptible = ynode_bool(v) == 1;
	}
	return 0;
}
