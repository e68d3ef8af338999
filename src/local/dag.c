/*
 * Job instances and their edges.  GitLab's semantics:
 *  - a job without needs waits for every job of the earlier stages;
 *  - needs: [] starts at once; needs on a parallel job waits for all its
 *    instances; needs on a job rules left out is an error unless
 *    optional: true;
 *  - a manual job outside rules may fail (allow_failure defaults to
 *    true); one made manual by a rule may not;
 *  - the matching rule's needs: replaces the job's; needs:parallel:matrix
 *    names instances ("job: [a, b]");
 *  - variables, lowest first: top-level, workflow:rules, the job's own,
 *    its matrix values, its rule's (then --variable, in the payload).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/dag.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define DAG_MAX_INSTANCES 200

struct lookup {
	const struct dag_options *o;
	const struct local_job *j;
	const struct pl_vars *globals;	/* workflow: the top-level variables */
};

static const char *lookup_var(void *ctx, const char *key)
{
	struct lookup *l = ctx;
	const char *v = NULL;

	if (l->o->overrides && (v = pl_vars_get(l->o->overrides, key)))
		return v;
	if (l->j) {
		if ((v = pl_vars_get(&l->j->variables, key)) ||
		    (v = pl_vars_get(&l->j->predef, key)))
			return v;
	}
	if (l->globals && (v = pl_vars_get(l->globals, key)))
		return v;
	return l->o->predefined ? pl_vars_get(l->o->predefined, key) : NULL;
}

const char *dag_job_variable(const struct dag_options *o,
			     const struct local_job *j, const char *key)
{
	struct lookup l = { o, j, NULL };

	return lookup_var(&l, key);
}

static void job_release(struct local_job *j)
{
	free(j->name);
	free(j->when);
	pl_vars_release(&j->variables);
	pl_vars_release(&j->predef);
	free(j->deps);
	free(j->dep_no_artifacts);
	if (j->rule_needs)
		pl_needs_free(j->rule_needs, j->nr_needs);
	j->rule_needs = NULL;
}

void dag_release(struct dag *d)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		job_release(&d->jobs[i]);
	free(d->jobs);
	d->jobs = NULL;
	d->nr = 0;
	pl_vars_release(&d->workflow_variables);
	strvec_clear(&d->triggers);
	strvec_clear(&d->warnings);
}

long dag_find(const struct dag *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nr; i++)
		if (!strcmp(d->jobs[i].name, name))
			return (long)i;
	return -1;
}

/*
 * A job's variables as GitLab's Seed::Build makes them: the pipeline's
 * root variables (top-level ones with workflow:rules variables over them)
 * as inherit:variables allows, then the job's own over those.  Matrix and
 * rules variables come later, over everything.
 */
static void job_variables(struct local_job *j, const struct pipeline *pl,
			  const struct pl_vars *workflow)
{
	const struct pl_job *def = j->def;
	size_t i;

	if (!workflow->nr) {
		pl_vars_copy(&j->variables, &def->variables);
		return;
	}
	for (i = 0; i < pl->variables.nr; i++) {
		const struct pl_var *v = &pl->variables.v[i];
		const char *w = pl_vars_get(workflow, v->key);

		if (pl_job_inherits_variable(def, v->key))
			pl_vars_set(&j->variables, v->key, w ? w : v->value,
				    w ? false : v->raw);
	}
	for (i = 0; i < workflow->nr; i++)
		if (pl_job_inherits_variable(def, workflow->v[i].key) &&
		    !pl_vars_get(&j->variables, workflow->v[i].key))
			pl_vars_set(&j->variables, workflow->v[i].key,
				    workflow->v[i].value, workflow->v[i].raw);
	pl_vars_copy(&j->variables, &def->own_variables);
}

static struct local_job *add_instance(struct dag *d, const struct pl_job *def,
				      const struct pipeline *pl)
{
	struct local_job *j;

	d->jobs = xreallocarray(d->jobs, d->nr + 1, sizeof(*d->jobs));
	j = &d->jobs[d->nr++];
	memset(j, 0, sizeof(*j));
	j->def = def;
	j->stage_idx = pipeline_stage_index(pl, def->stage);
	j->slot = -1;
	j->interruptible = def->interruptible;
	j->allow_exit_codes = true;
	j->needs = def->needs;
	j->nr_needs = def->nr_needs;
	j->has_needs = def->has_needs;
	j->trigger = def->trigger;
	job_variables(j, pl, &d->workflow_variables);
	return j;
}

static void set_predef(struct local_job *j)
{
	char num[16];

	pl_vars_set(&j->predef, "CI_JOB_NAME", j->name, false);
	pl_vars_set(&j->predef, "CI_JOB_STAGE", j->def->stage, false);
	if (j->node_total) {
		snprintf(num, sizeof(num), "%d", j->node_index);
		pl_vars_set(&j->predef, "CI_NODE_INDEX", num, false);
		snprintf(num, sizeof(num), "%d", j->node_total);
		pl_vars_set(&j->predef, "CI_NODE_TOTAL", num, false);
	}
}

/* Keys of one parallel:matrix entry crunner expands (GitLab allows fewer). */
#define MATRIX_MAX_KEYS 64

/*
 * The value index of each key of a parallel:matrix entry for combination
 * c (0 .. product of the list lengths - 1), the last key varying fastest
 * as GitLab orders the instances; a scalar is a list of one.
 */
static void matrix_combination(const struct ynode *entry, size_t c,
			       size_t idx[MATRIX_MAX_KEYS])
{
	size_t k;

	memset(idx, 0, MATRIX_MAX_KEYS * sizeof(*idx));
	for (k = entry->nr; k-- > 0;) {
		const struct ynode *v = entry->items[k];
		size_t n = v->kind == YNODE_SEQ ? v->nr : 1;

		if (k < MATRIX_MAX_KEYS)
			idx[k] = c % n;
		c /= n;
	}
}

/* One parallel: matrix entry: the cartesian product of its values. */
static int expand_matrix_entry(struct dag *d, const struct pipeline *pl,
			       const struct pl_job *def,
			       const struct ynode *entry, size_t first,
			       struct buf *err)
{
	size_t combos = 1, c, k;
	char where[512];

	if (entry->kind != YNODE_MAP || !entry->nr)
		goto bad;
	for (k = 0; k < entry->nr; k++) {
		const struct ynode *v = entry->items[k];

		if (v->kind == YNODE_SEQ) {
			if (!v->nr)
				goto bad;
			combos *= v->nr;
		} else if (!ynode_text(v)) {
			goto bad;
		}
		if (combos > DAG_MAX_INSTANCES)
			goto big;
	}
	for (c = 0; c < combos; c++) {
		struct local_job *j;
		struct buf name = BUF_INIT;

		if (d->nr - first >= DAG_MAX_INSTANCES)
			goto big;
		j = add_instance(d, def, pl);
		(void)buf_addf(&name, "%s: [", def->name);
		{
			size_t idx[MATRIX_MAX_KEYS];

			matrix_combination(entry, c, idx);
			for (k = 0; k < entry->nr && k < MATRIX_MAX_KEYS; k++) {
				const struct ynode *v = entry->items[k];
				const char *val = v->kind == YNODE_SEQ ?
					ynode_text(v->items[idx[k]]) :
					ynode_text(v);

				if (!val)
					val = "";
				pl_vars_set(&j->variables, entry->keys[k], val,
					    false);
				(void)buf_addf(&name, "%s%s", k ? ", " : "", val);
			}
		}
		(void)buf_addch(&name, ']');
		j->name = buf_detach(&name, NULL);
	}
	return 0;
bad:
	ynode_where(entry, where, sizeof(where));
	buf_seterr(err, "%s: job '%s': each parallel:matrix entry should map variable names to a value or a list of values",
		   where, def->name);
	return CR_ERR_INVALID;
big:
	ynode_where(entry, where, sizeof(where));
	buf_seterr(err, "%s: job '%s': parallel:matrix gives more than %d jobs",
		   where, def->name, DAG_MAX_INSTANCES);
	return CR_ERR_INVALID;
}

static int expand(struct dag *d, const struct pipeline *pl,
		  const struct pl_job *def, struct buf *err)
{
	size_t first = d->nr, i;
	int r, n;

	if (def->matrix) {
		for (i = 0; i < def->matrix->nr; i++)
			if ((r = expand_matrix_entry(d, pl, def,
						     def->matrix->items[i],
						     first, err)))
				return r;
		for (i = first; i < d->nr; i++) {
			d->jobs[i].node_index = (int)(i - first + 1);
			d->jobs[i].node_total = (int)(d->nr - first);
		}
	} else if (def->parallel) {
		for (n = 1; n <= def->parallel; n++) {
			struct local_job *j = add_instance(d, def, pl);
			struct buf name = BUF_INIT;

			(void)buf_addf(&name, "%s %d/%d", def->name, n,
				       def->parallel);
			j->name = buf_detach(&name, NULL);
			j->node_index = n;
			j->node_total = def->parallel;
		}
	} else {
		add_instance(d, def, pl)->name = xstrdup(def->name);
	}
	for (i = first; i < d->nr; i++)
		set_predef(&d->jobs[i]);
	return 0;
}

/* Rules decide: included, when, allow_failure, variables. */
static int decide(struct local_job *j, const struct pipeline *pl,
		  const struct dag_options *o, bool *included, struct buf *err)
{
	const struct pl_job *def = j->def;
	struct lookup l = { o, j, NULL };
	struct rules_ctx ctx = o->rules;
	struct rules_result res = RULES_RESULT_INIT;
	const char *when = def->when;
	int allow = def->allow_failure, r = 0;
	bool manual_by_rule = false;

	ctx.lookup = lookup_var;
	ctx.lookup_ctx = &l;
	ctx.workflow_rules = pl->workflow_rules != NULL;
	if (def->rules) {
		if ((r = rules_evaluate(def->rules, &ctx, def->name, &res, err)))
			goto out;
		*included = res.included;
		if (res.when) {
			when = res.when;
			manual_by_rule = !strcmp(when, "manual");
		}
		/*
		 * As GitLab's Seed::Build: a rule's allow_failure wins over
		 * the job's, exit_codes included.
		 */
		if (res.allow_failure >= 0) {
			allow = res.allow_failure;
			j->allow_exit_codes = false;
		}
		if (res.interruptible >= 0)
			j->interruptible = res.interruptible;
		pl_vars_copy(&j->variables, &res.variables);
		/* rules:needs replaces the job's needs wholesale. */
		if (res.included && res.needs) {
			if ((r = pl_needs_parse(res.needs, def->name,
						&j->rule_needs, &j->nr_needs,
						err)))
				goto out;
			j->needs = j->rule_needs;
			j->has_needs = true;
		}
	} else if ((r = rules_only_except(def->only, def->except, &ctx,
					  def->name, included, err))) {
		goto out;
	}
	if (!strcmp(when, "never"))
		*included = false;
	if (allow < 0)
		allow = !strcmp(when, "manual") && !manual_by_rule;
	j->when = xstrdup(!strcmp(when, "delayed") ? "on_success" : when);
	j->allow_failure = allow;
out:
	rules_result_release(&res);
	return r;
}

static bool name_matches(const struct local_job *j, const char *name)
{
	return !strcmp(j->name, name) || !strcmp(j->def->name, name);
}

/*
 * The instances by name, for needs: one entry per instance name and one
 * per definition name that differs from it (a parallel job's "build" names
 * all of "build 1/2", "build 2/2"), sorted by name then instance index: a
 * binary search finds every instance a needs: entry names in the order of
 * d->jobs, where a walk over all jobs per need made linking quadratic.
 */
struct name_index {
	struct name_entry {
		const char *name;
		size_t job;
		bool instance;	/* name is the instance's own, not its job's */
	} *v;
	size_t nr;
};

static int cmp_name_entry(const void *a, const void *b)
{
	const struct name_entry *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->job < y->job ? -1 : x->job > y->job;
}

static void name_index_build(struct name_index *ix, const struct dag *d)
{
	size_t k;

	ix->nr = 0;
	ix->v = xcalloc(2 * d->nr + 1, sizeof(*ix->v));
	for (k = 0; k < d->nr; k++) {
		const struct local_job *j = &d->jobs[k];

		ix->v[ix->nr++] = (struct name_entry){ j->name, k, true };
		if (strcmp(j->def->name, j->name))
			ix->v[ix->nr++] = (struct name_entry){ j->def->name, k,
							       false };
	}
	if (ix->nr)
		qsort(ix->v, ix->nr, sizeof(*ix->v), cmp_name_entry);
}

/* The first entry named name, or ix->nr when none. */
static size_t name_index_first(const struct name_index *ix, const char *name)
{
	size_t lo = 0, hi = ix->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(ix->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ix->nr && !strcmp(ix->v[lo].name, name) ? lo : ix->nr;
}

/* dag_find() through the index: the first instance called name, or -1. */
static long name_index_instance(const struct name_index *ix, const char *name)
{
	size_t i;

	for (i = name_index_first(ix, name);
	     i < ix->nr && !strcmp(ix->v[i].name, name); i++)
		if (ix->v[i].instance)
			return (long)ix->v[i].job;
	return -1;
}

static void add_dep(struct local_job *j, size_t dep, bool no_artifacts)
{
	size_t i;

	for (i = 0; i < j->nr_deps; i++)
		if (j->deps[i] == dep)
			return;
	j->deps = xreallocarray(j->deps, j->nr_deps + 1, sizeof(*j->deps));
	j->dep_no_artifacts = xreallocarray(j->dep_no_artifacts,
					    j->nr_deps + 1,
					    sizeof(*j->dep_no_artifacts));
	j->deps[j->nr_deps] = dep;
	j->dep_no_artifacts[j->nr_deps++] = no_artifacts;
}

/*
 * The instance names a needs:parallel:matrix entry picks: "job: [a, b]"
 * for each combination of its values, in the entry's key order (GitLab
 * wants it to be the needed job's).  $[[ matrix.NAME ]] in a value is the
 * needing job's own matrix value.  Returns 0 or CR_ERR_INVALID.
 */
static int need_matrix_names(const struct local_job *j,
			     const struct pl_need *need, struct strvec *names,
			     struct buf *err)
{
	const struct ynode *m = need->matrix;
	char where[512];
	size_t e, k, c;

	for (e = 0; e < m->nr; e++) {
		const struct ynode *entry = m->items[e];
		size_t combos = 1;

		for (k = 0; k < entry->nr; k++)
			if (entry->items[k]->kind == YNODE_SEQ)
				combos *= entry->items[k]->nr;
		if (combos > DAG_MAX_INSTANCES)
			combos = DAG_MAX_INSTANCES;
		for (c = 0; c < combos; c++) {
			struct buf name = BUF_INIT;
			size_t idx[MATRIX_MAX_KEYS];

			matrix_combination(entry, c, idx);
			(void)buf_addf(&name, "%s: [", need->job);
			for (k = 0; k < entry->nr && k < MATRIX_MAX_KEYS; k++) {
				const struct ynode *v = entry->items[k];
				const char *val = ynode_text(v->kind == YNODE_SEQ ?
							     v->items[idx[k]] : v);
				const char *open = strstr(val, "$[[");

				(void)buf_addstr(&name, k ? ", " : "");
				if (!open) {
					(void)buf_addstr(&name, val);
					continue;
				}
				/* A matrix expression: the needing job's value. */
				{
					const char *close = strstr(open, "]]");
					const char *p = open + 3, *got = NULL;
					char *var;

					while (*p == ' ')
						p++;
					if (close && !strncmp(p, "matrix.", 7)) {
						size_t len;

						p += 7;
						for (len = 0; p + len < close &&
						     p[len] != ' '; len++)
							;
						var = xstrndup(p, len);
						if (j->def->matrix)
							got = pl_vars_get(&j->variables,
									  var);
						free(var);
					}
					if (!got) {
						ynode_where(v, where, sizeof(where));
						buf_seterr(err, "%s: job '%s': '%s' names no matrix value of this job",
							   where, j->name, val);
						buf_release(&name);
						return CR_ERR_INVALID;
					}
					(void)buf_add(&name, val, (size_t)(open - val));
					(void)buf_addstr(&name, got);
					(void)buf_addstr(&name, close + 2);
				}
			}
			(void)buf_addch(&name, ']');
			strvec_push_nodup(names, buf_detach(&name, NULL));
		}
	}
	return 0;
}

/*
 * The job definition a needs: or dependencies: name stands for: a job,
 * or one instance of a parallel one ("build: [x86_64, linux]",
 * "test 1/4"), as GitLab's normalizer names them.  NULL when none.
 */
static const struct pl_job *defined_job(const struct pipeline *pl,
					const char *name)
{
	const struct pl_job *def = pipeline_find(pl, name);
	size_t len = strlen(name);
	const char *p;
	char *base;

	if (def || !len)
		return def;
	if (name[len - 1] == ']' && (p = strstr(name, ": ["))) {
		base = xstrndup(name, (size_t)(p - name));
		def = pipeline_find(pl, base);
		free(base);
		return def && def->matrix ? def : NULL;
	}
	if ((p = strrchr(name, ' ')) && p > name) {
		int n, total, used = 0;

		if (sscanf(p + 1, "%d/%d%n", &n, &total, &used) != 2 ||
		    p[1 + used] || n < 1 || n > total)
			return NULL;
		base = xstrndup(name, (size_t)(p - name));
		def = pipeline_find(pl, base);
		free(base);
		return def && def->parallel == total ? def : NULL;
	}
	return NULL;
}

/*
 * A job without needs: every job of the earlier stages, which (d->jobs
 * being in stage order) are the first ones; the list is made in one
 * allocation, without add_dep()'s duplicate check, since j has none yet.
 */
static void link_stages(const struct dag *d, struct local_job *j)
{
	size_t k, n = 0;

	while (n < d->nr && d->jobs[n].stage_idx < j->stage_idx)
		n++;
	if (!n)
		return;
	j->deps = xreallocarray(j->deps, n, sizeof(*j->deps));
	j->dep_no_artifacts = xreallocarray(j->dep_no_artifacts, n,
					    sizeof(*j->dep_no_artifacts));
	for (k = 0; k < n; k++) {
		j->deps[k] = k;
		j->dep_no_artifacts[k] = false;
	}
	j->nr_deps = n;
}

static int link_needs(struct dag *d, const struct name_index *ix,
		      const struct pipeline *pl, struct local_job *j,
		      struct buf *err)
{
	char where[512];
	size_t n, k, i;

	j->deps_from_needs = j->has_needs;
	if (!j->has_needs) {
		link_stages(d, j);
		return 0;
	}
	for (n = 0; n < j->nr_needs; n++) {
		const struct pl_need *need = &j->needs[n];
		struct strvec names = STRVEC_INIT;
		bool found = false;
		int r;

		if (need->matrix) {
			if ((r = need_matrix_names(j, need, &names, err)))
				return r;
			for (i = 0; i < names.nr; i++) {
				long at = name_index_instance(ix, names.v[i]);

				if (at >= 0) {
					add_dep(j, (size_t)at, !need->artifacts);
					continue;
				}
				if (need->optional)
					continue;
				ynode_where(need->node, where, sizeof(where));
				if (pipeline_find(pl, need->job))
					buf_seterr(err, "%s: job '%s' needs '%s', which is not one of the instances of '%s' in the pipeline (the matrix keys go in the order of its parallel:matrix)",
						   where, j->name, names.v[i],
						   need->job);
				else
					buf_seterr(err, "%s: job '%s' needs '%s', which is not defined",
						   where, j->name, need->job);
				strvec_clear(&names);
				return CR_ERR_INVALID;
			}
			strvec_clear(&names);
			continue;
		}
		for (k = name_index_first(ix, need->job);
		     k < ix->nr && !strcmp(ix->v[k].name, need->job); k++) {
			add_dep(j, ix->v[k].job, !need->artifacts);
			found = true;
		}
		if (found || need->optional)
			continue;
		ynode_where(need->node, where, sizeof(where));
		if (defined_job(pl, need->job))
			buf_seterr(err, "%s: job '%s' needs '%s', which rules left out of the pipeline (use optional: true)",
				   where, j->name, need->job);
		else
			buf_seterr(err, "%s: job '%s' needs '%s', which is not defined",
				   where, j->name, need->job);
		return CR_ERR_INVALID;
	}
	return 0;
}

/*
 * The instance name combination c of a parallel:matrix entry gives
 * ("job: [v1, v2]", GitLab's MatrixStrategy#name), into name; false when
 * a value holds a $[[ matrix.NAME ]] expression (only the needing
 * instance can say what that names).
 */
static bool matrix_instance_name(const char *job, const struct ynode *entry,
				 size_t c, struct buf *name)
{
	size_t idx[MATRIX_MAX_KEYS], k;

	buf_reset(name);
	matrix_combination(entry, c, idx);
	(void)buf_addf(name, "%s: [", job);
	for (k = 0; k < entry->nr && k < MATRIX_MAX_KEYS; k++) {
		const struct ynode *v = entry->items[k];
		const char *val = ynode_text(v->kind == YNODE_SEQ ?
					     v->items[idx[k]] : v);

		if (!val)
			val = "";
		if (strstr(val, "$[["))
			return false;
		(void)buf_addf(name, "%s%s", k ? ", " : "", val);
	}
	(void)buf_addch(name, ']');
	return true;
}

/* The number of instances a parallel:matrix entry makes (capped). */
static size_t matrix_combinations(const struct ynode *entry)
{
	size_t combos = 1, k;

	for (k = 0; entry->kind == YNODE_MAP && k < entry->nr; k++)
		if (entry->items[k]->kind == YNODE_SEQ) {
			combos *= entry->items[k]->nr ? entry->items[k]->nr : 1;
			if (combos > DAG_MAX_INSTANCES)
				return DAG_MAX_INSTANCES;
		}
	return combos;
}

/* Whether def's parallel:matrix makes an instance called name. */
static bool matrix_has_instance(const struct pl_job *def, const char *name)
{
	struct buf have = BUF_INIT;
	bool found = false;
	size_t e, c;

	for (e = 0; def->matrix && e < def->matrix->nr && !found; e++) {
		const struct ynode *entry = def->matrix->items[e];

		for (c = 0; c < matrix_combinations(entry) && !found; c++)
			found = matrix_instance_name(def->name, entry, c, &have) &&
				!strcmp(have.data, name);
	}
	buf_release(&have);
	return found;
}

/*
 * needs:parallel:matrix on a matrix job, checked as GitLab's YamlProcessor
 * does once Config::Normalizer has named the instances: each combination
 * of the entry's values is one instance name, built from the values alone,
 * so an entry that gives a subset of the job's variables (or gives them in
 * another order) names no instance: "undefined need", whatever rules
 * decide.  GitLab does not select the instances a subset matches
 * (normalizer.rb expand_parallelized_needs; the proposal of MR 130957 is
 * not what it does).  Optional needs may name nothing; entries with
 * $[[ matrix.NAME ]] are checked per instance by link_needs().
 */
static int check_need_matrix(const struct pl_job *def,
			     const struct pl_need *need,
			     const struct pl_job *other, struct buf *err)
{
	struct buf name = BUF_INIT;
	char where[512];
	size_t e, c;

	if (need->optional || !other->matrix)
		return 0;
	for (e = 0; e < need->matrix->nr; e++) {
		const struct ynode *entry = need->matrix->items[e];

		for (c = 0; c < matrix_combinations(entry); c++) {
			if (!matrix_instance_name(other->name, entry, c, &name) ||
			    matrix_has_instance(other, name.data))
				continue;
			ynode_where(need->node, where, sizeof(where));
			buf_seterr(err, "%s: %s job: undefined need: %s (needs:parallel:matrix names one instance by every variable of the parallel:matrix of '%s', in its order; GitLab selects no instances by a subset)",
				   where, def->name, name.data, other->name);
			buf_release(&name);
			return CR_ERR_INVALID;
		}
	}
	buf_release(&name);
	return 0;
}

/*
 * What GitLab checks when it loads the file, whatever rules decide later:
 * every needs (the job's and each rule's) names a job defined in the same
 * or an earlier stage, once (optional ones may be missing).
 */
static int check_needs_list(const struct pipeline *pl, const struct pl_job *def,
			    const struct pl_need *needs, size_t nr,
			    struct buf *err)
{
	char where[512];
	size_t i, k;

	for (i = 0; i < nr; i++) {
		const struct pl_need *need = &needs[i];
		const struct pl_job *other = defined_job(pl, need->job);

		ynode_where(need->node, where, sizeof(where));
		if (!other && !need->optional) {
			buf_seterr(err, "%s: job '%s' needs '%s', which is not defined",
				   where, def->name, need->job);
			return CR_ERR_INVALID;
		}
		if (other && need->matrix &&
		    check_need_matrix(def, need, other, err))
			return CR_ERR_INVALID;
		if (other && pipeline_stage_index(pl, other->stage) >
		    pipeline_stage_index(pl, def->stage)) {
			buf_seterr(err, "%s: job '%s' needs '%s', which is in a later stage ('%s' after '%s')",
				   where, def->name, need->job, other->stage,
				   def->stage);
			return CR_ERR_INVALID;
		}
		for (k = 0; k < i; k++)
			if (!strcmp(needs[k].job, need->job) && !need->matrix &&
			    !needs[k].matrix) {
				buf_seterr(err, "%s: job '%s' needs '%s' twice",
					   where, def->name, need->job);
				return CR_ERR_INVALID;
			}
	}
	return 0;
}

static int check_needs(const struct pipeline *pl, const struct pl_job *def,
		       struct buf *err)
{
	const struct ynode *rules = def->rules;
	size_t i;
	int r;

	if ((r = check_needs_list(pl, def, def->needs, def->nr_needs, err)))
		return r;
	for (i = 0; rules && i < rules->nr; i++) {
		const struct ynode *v = ynode_get(rules->items[i], "needs");
		struct pl_need *needs = NULL;
		size_t nr = 0;

		if (!v)
			continue;
		if (!(r = pl_needs_parse(v, def->name, &needs, &nr, err)))
			r = check_needs_list(pl, def, needs, nr, err);
		pl_needs_free(needs, nr);
		if (r)
			return r;
	}
	return 0;
}

static int check_dependencies(const struct local_job *j,
			      const struct pipeline *pl, struct buf *err)
{
	char where[512];
	size_t i;

	for (i = 0; i < j->def->dependencies.nr; i++) {
		const char *name = j->def->dependencies.v[i];
		const struct pl_job *def;
		bool ok;

		/*
		 * As GitLab's YamlProcessor: a job defined in the same or an
		 * earlier stage, whether or not rules keep it (with needs:,
		 * the need says whether it may be missing).
		 */
		def = defined_job(pl, name);
		ok = def && pipeline_stage_index(pl, def->stage) <= j->stage_idx;
		if (ok)
			continue;
		ynode_where_key(ynode_get(j->def->node, "dependencies"), where,
				sizeof(where));
		buf_seterr(err, "%s: job '%s': dependencies '%s' is not defined in the current or a prior stage",
			   where, j->name, name);
		return CR_ERR_INVALID;
	}
	return 0;
}

/* The needs entry of j that names instance dep (for messages); NULL if none. */
static const struct ynode *need_node(const struct dag *d,
				     const struct local_job *j, size_t dep)
{
	const struct local_job *p = &d->jobs[dep];
	size_t n;

	for (n = 0; n < j->nr_needs; n++)
		if (name_matches(p, j->needs[n].job))
			return j->needs[n].node;
	return j->nr_needs ? j->needs[0].node : NULL;
}

/* Cycles through needs: a depth-first walk with colours. */
static int visit(const struct dag *d, size_t i, int *colour, struct buf *err)
{
	char where[512];
	size_t k;

	colour[i] = 1;
	for (k = 0; k < d->jobs[i].nr_deps; k++) {
		size_t dep = d->jobs[i].deps[k];

		if (colour[dep] == 1) {
			ynode_where(need_node(d, &d->jobs[i], dep), where,
				    sizeof(where));
			buf_seterr(err, "%s%sjob '%s': circular dependency detected in 'needs' (it needs '%s', which comes back to it)",
				   where, *where ? ": " : "", d->jobs[i].name,
				   d->jobs[dep].name);
			return CR_ERR_INVALID;
		}
		if (!colour[dep] && visit(d, dep, colour, err))
			return CR_ERR_INVALID;
	}
	colour[i] = 2;
	return 0;
}

static int cmp_order(const void *a, const void *b)
{
	const struct local_job *x = a, *y = b;

	if (x->stage_idx != y->stage_idx)
		return x->stage_idx - y->stage_idx;
	if (x->def->index != y->def->index)
		return x->def->index - y->def->index;
	return x->node_index - y->node_index;
}

/* Keeps the selected jobs (and, with --needs, what they need). */
static int select_jobs(struct dag *d, const struct dag_options *o,
		       struct buf *err)
{
	bool *keep = xcalloc(d->nr + 1, sizeof(*keep));
	long *map = xcalloc(d->nr + 1, sizeof(*map));
	size_t i, k, n = 0;
	bool grew;

	for (i = 0; i < o->nr_names; i++) {
		bool any = false;

		for (k = 0; k < d->nr; k++)
			if (name_matches(&d->jobs[k], o->names[i])) {
				keep[k] = any = true;
				d->jobs[k].run_manual = true;
			}
		if (!any) {
			buf_seterr(err, "no job named '%s' in the pipeline (left out by rules, or not defined)",
				   o->names[i]);
			free(keep);
			free(map);
			return CR_ERR_NOT_FOUND;
		}
	}
	do {
		grew = false;
		for (k = 0; o->with_needs && k < d->nr; k++)
			for (i = 0; keep[k] && i < d->jobs[k].nr_deps; i++)
				if (!keep[d->jobs[k].deps[i]])
					keep[d->jobs[k].deps[i]] = grew = true;
	} while (grew);
	for (k = 0; k < d->nr; k++) {
		if (keep[k]) {
			map[k] = (long)n;
			if (n != k)
				d->jobs[n] = d->jobs[k];
			n++;
		} else {
			map[k] = -1;
			job_release(&d->jobs[k]);
		}
	}
	d->nr = n;
	for (k = 0; k < d->nr; k++) {
		struct local_job *j = &d->jobs[k];
		size_t w = 0;

		for (i = 0; i < j->nr_deps; i++)
			if (map[j->deps[i]] >= 0) {
				j->dep_no_artifacts[w] = j->dep_no_artifacts[i];
				j->deps[w++] = (size_t)map[j->deps[i]];
			}
		j->nr_deps = w;
	}
	free(keep);
	free(map);
	return 0;
}

/* Marks the definition name stands for; an error when it is broken. */
static int want_name(const struct pipeline *pl, const char *name, bool *want,
		     bool *grew, struct buf *err)
{
	const struct pl_job *def = defined_job(pl, name);
	size_t i;

	for (i = 0; !def && i < pl->broken.nr; i++)
		if (!strcmp(pl->broken.v[i], name)) {
			buf_seterr(err, "%s", pl->broken_errors.v[i]);
			return CR_ERR_INVALID;
		}
	if (def && !want[def->index]) {
		want[def->index] = true;
		*grew = true;
	}
	return 0;
}

/* The names a needs: list gives (entries without one are skipped). */
static int want_needs(const struct pipeline *pl, const struct ynode *needs,
		      bool *want, bool *grew, struct buf *err)
{
	size_t i;
	int r;

	for (i = 0; needs && needs->kind == YNODE_SEQ && i < needs->nr; i++) {
		const struct ynode *e = needs->items[i];
		const char *name = e->kind == YNODE_MAP ?
			ynode_text(ynode_get(e, "job")) : ynode_text(e);

		if (name && (r = want_name(pl, name, want, grew, err)))
			return r;
	}
	return 0;
}

/*
 * The definitions `crunner exec JOB...` may run: the named jobs and what
 * they need or depend on, all the earlier stages too with --needs.  An
 * error in one of them (or a wanted job that failed to parse) stays an
 * error; the rest are warnings.
 */
static int wanted_jobs(const struct pipeline *pl, const struct dag_options *o,
		       bool *want, struct buf *err)
{
	bool grew = true;
	size_t i, k;
	int r;

	for (i = 0; i < o->nr_names; i++) {
		for (k = 0; k < pl->nr_jobs; k++)
			if (!strcmp(pl->jobs[k]->name, o->names[i]))
				want[k] = true;
		if ((r = want_name(pl, o->names[i], want, &grew, err)))
			return r;
	}
	while (grew) {
		grew = false;
		for (i = 0; i < pl->nr_jobs; i++) {
			const struct pl_job *def = pl->jobs[i];
			const struct ynode *rules = def->rules;

			if (!want[i])
				continue;
			if ((r = want_needs(pl, ynode_get(def->node, "needs"),
					    want, &grew, err)))
				return r;
			for (k = 0; rules && rules->kind == YNODE_SEQ &&
			     k < rules->nr; k++)
				if ((r = want_needs(pl, ynode_get(rules->items[k],
								  "needs"),
						    want, &grew, err)))
					return r;
			for (k = 0; k < def->dependencies.nr; k++)
				if ((r = want_name(pl, def->dependencies.v[k],
						   want, &grew, err)))
					return r;
			for (k = 0; o->with_needs && !def->has_needs &&
			     k < pl->nr_jobs; k++)
				if (!want[k] &&
				    pipeline_stage_index(pl, pl->jobs[k]->stage) <
				    pipeline_stage_index(pl, def->stage))
					want[k] = grew = true;
		}
	}
	return 0;
}

/*
 * r from checking job i: kept when the job may run, else a warning in
 * d->warnings (and *skip set); 0 then.
 */
static int job_error(struct dag *d, const bool *want, size_t i, int r,
		     bool *skip, struct buf *err)
{
	if (!r || !want || want[i])
		return r;
	strvec_push(&d->warnings, err->data);
	buf_reset(err);
	*skip = true;
	return 0;
}

static int workflow(struct dag *d, const struct pipeline *pl,
		    const struct dag_options *o, struct buf *err)
{
	struct lookup l = { o, NULL, &pl->variables };
	struct rules_ctx ctx = o->rules;
	struct rules_result res = RULES_RESULT_INIT;
	int r;

	if (!pl->workflow_rules)
		return 0;
	ctx.lookup = lookup_var;
	ctx.lookup_ctx = &l;
	if ((r = rules_evaluate(pl->workflow_rules, &ctx, NULL, &res, err)) == 0) {
		d->workflow_skipped = !res.included;
		pl_vars_copy(&d->workflow_variables, &res.variables);
	}
	rules_result_release(&res);
	return r;
}

/* Whether every job of d is in the .pre or .post stage. */
static bool edge_stages_only(const struct dag *d, const struct pipeline *pl)
{
	size_t i;

	for (i = 0; i < d->nr; i++) {
		const char *stage = pl->stages.v[d->jobs[i].stage_idx];

		if (strcmp(stage, ".pre") && strcmp(stage, ".post"))
			return false;
	}
	return true;
}

int dag_build(struct dag *d, const struct pipeline *pl,
	      const struct dag_options *o, struct buf *err)
{
	struct name_index ix = { NULL, 0 };
	int *colour = NULL;
	bool *want = NULL, *skip = xcalloc(pl->nr_jobs + 1, sizeof(*skip));
	size_t i, k;
	int r;

	if (o->nr_names) {
		want = xcalloc(pl->nr_jobs + 1, sizeof(*want));
		if ((r = wanted_jobs(pl, o, want, err)))
			goto out;
		for (i = 0; i < pl->broken.nr; i++)
			strvec_push(&d->warnings, pl->broken_errors.v[i]);
	}
	/*
	 * Every rule and needs is checked first, even of jobs rules drop or
	 * of a pipeline workflow:rules refuses, as GitLab checks the file.
	 */
	if (pl->workflow_rules &&
	    (r = rules_check(pl->workflow_rules, NULL, err)))
		goto out;
	for (i = 0; i < pl->nr_jobs; i++) {
		r = rules_check(pl->jobs[i]->rules, pl->jobs[i]->name, err);
		if (!r)
			r = check_needs(pl, pl->jobs[i], err);
		if ((r = job_error(d, want, i, r, &skip[i], err)))
			goto out;
	}
	if ((r = workflow(d, pl, o, err)) || d->workflow_skipped)
		goto out;
	for (i = 0; i < pl->nr_jobs; i++) {
		const struct pl_job *def = pl->jobs[i];
		size_t first = d->nr, w;

		if (skip[i])
			continue;
		r = expand(d, pl, def, err);
		if (r && !job_error(d, want, i, r, &skip[i], err)) {
			for (k = first; k < d->nr; k++)
				job_release(&d->jobs[k]);
			d->nr = first;
			continue;
		}
		if (r)
			goto out;
		for (w = k = first; k < d->nr; k++) {
			struct local_job *j = &d->jobs[k];
			bool inc = true;

			if ((r = decide(j, pl, o, &inc, err))) {
				size_t m;

				for (m = first; m < w; m++)
					job_release(&d->jobs[m]);
				for (m = k; m < d->nr; m++)
					job_release(&d->jobs[m]);
				d->nr = w = first;
				if (!job_error(d, want, i, r, &skip[i], err))
					break;
				goto out;
			}
			if (!inc) {
				job_release(j);
				continue;
			}
			if (j->trigger)
				strvec_push(&d->triggers, j->name);
			if (w != k)
				d->jobs[w] = *j;
			w++;
		}
		d->nr = w;
	}
	/*
	 * As GitLab's Populate: jobs of .pre and .post alone are no
	 * pipeline ("The rules configuration prevented any jobs from being
	 * added to the pipeline").
	 */
	if (d->nr && edge_stages_only(d, pl)) {
		for (k = 0; k < d->nr; k++)
			job_release(&d->jobs[k]);
		d->nr = 0;
		strvec_clear(&d->triggers);
		d->edge_only = true;
		goto out;
	}
	/* None when every job is a trigger: qsort(NULL, 0) is undefined. */
	if (d->nr)
		qsort(d->jobs, d->nr, sizeof(*d->jobs), cmp_order);
	name_index_build(&ix, d);
	for (i = 0; i < d->nr; i++) {
		size_t at = (size_t)d->jobs[i].def->index;

		r = link_needs(d, &ix, pl, &d->jobs[i], err);
		if (!r)
			r = check_dependencies(&d->jobs[i], pl, err);
		if ((r = job_error(d, want, at, r, &skip[at], err)))
			goto out;
	}
	colour = xcalloc(d->nr + 1, sizeof(*colour));
	for (i = 0; i < d->nr && !r; i++)
		if (!colour[i])
			r = visit(d, i, colour, err);
	free(colour);
	if (r)
		goto out;
	for (i = 0; i < d->nr; i++)
		for (k = 0; k < o->nr_manual; k++)
			if (name_matches(&d->jobs[i], o->manual[k]))
				d->jobs[i].run_manual = true;
	for (k = 0; k < o->nr_manual; k++)
		if (dag_find(d, o->manual[k]) < 0) {
			bool any = false;

			for (i = 0; i < d->nr && !any; i++)
				any = name_matches(&d->jobs[i], o->manual[k]);
			if (!any) {
				buf_seterr(err, "--manual: no job named '%s' in the pipeline",
					   o->manual[k]);
				r = CR_ERR_NOT_FOUND;
				goto out;
			}
		}
	r = o->nr_names ? select_jobs(d, o, err) : 0;
out:
	free(ix.v);
	free(want);
	free(skip);
	return r;
}
