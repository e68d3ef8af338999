/*
 * From the merged YAML tree to the pipeline model: extends, !reference,
 * default:, stages.  The order is GitLab's (Gitlab::Ci::Config#build_config):
 * includes (local/yaml.c), then extends, then !reference tags, then the
 * edge stages .pre/.post.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local/pipeline.h"
#include "local/include_remote.h"
#include "local/pipeline_int.h"
#include "local/rules.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define MAX_EXTENDS_DEPTH 11
#define MAX_REFERENCE_DEPTH 10

/* Top-level keys that are not jobs. */
static const char *const global_keys[] = {
	"stages", "variables", "default", "workflow", "include", "image",
	"services", "cache", "before_script", "after_script", "types",
	"spec", NULL,
};

/* What default: may hold; a job's own value replaces it wholesale. */
static const char *const default_keys[] = {
	"after_script", "artifacts", "before_script", "cache", "hooks",
	"id_tokens", "image", "interruptible", "retry", "services", "tags",
	"timeout", NULL,
};

bool pl_in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

static bool is_job_key(const char *key)
{
	return !pl_in_list(global_keys, key);
}

/* Returns 0 or CR_ERR_INVALID with err set. */
static int resolve_extends(struct ynode *root, size_t i, int *state,
			   int depth, struct buf *err)
{
	struct ynode *job = root->items[i], *ext, *merged;
	struct strvec parents = STRVEC_INIT;
	char where[512];
	size_t k;
	int r = 0;

	if (state[i] == 2)
		return 0;
	ynode_where_key(job, where, sizeof(where));
	if (state[i] == 1) {
		buf_seterr(err, "%s: job '%s': circular dependency detected in 'extends'",
			   where, root->keys[i]);
		return CR_ERR_INVALID;
	}
	if (depth > MAX_EXTENDS_DEPTH) {
		buf_seterr(err, "%s: job '%s': 'extends' is nested more than %d levels",
			   where, root->keys[i], MAX_EXTENDS_DEPTH);
		return CR_ERR_INVALID;
	}
	ext = job->kind == YNODE_MAP ? ynode_get(job, "extends") : NULL;
	if (!ext) {
		state[i] = 2;
		return 0;
	}
	state[i] = 1;
	if ((r = pl_string_list(ext, root->keys[i], "extends", &parents, err)))
		goto out;
	merged = ynode_new(YNODE_MAP, job->file, job->line, job->col);
	merged->kline = job->kline;
	merged->kcol = job->kcol;
	for (k = 0; k < parents.nr; k++) {
		long p = ynode_index(root, parents.v[k]);

		if (p < 0 || root->items[p]->kind != YNODE_MAP) {
			ynode_where(ext, where, sizeof(where));
			buf_seterr(err, "%s: job '%s': unknown key in 'extends': '%s'",
				   where, root->keys[i], parents.v[k]);
			ynode_free(merged);
			r = CR_ERR_INVALID;
			goto out;
		}
		if ((r = resolve_extends(root, (size_t)p, state, depth + 1,
					 err))) {
			ynode_free(merged);
			goto out;
		}
		ynode_merge(merged, root->items[p]);
	}
	ynode_merge(merged, job);
	ynode_remove(merged, "extends");
	/* job is root->items[i]; parents were merged from their own slots. */
	root->items[i] = merged;
	ynode_free(job);
	state[i] = 2;
out:
	strvec_clear(&parents);
	return r;
}

static int resolve_all_extends(struct ynode *root, struct buf *err)
{
	int *state = xcalloc(root->nr + 1, sizeof(*state));
	size_t i;
	int r = 0;

	for (i = 0; i < root->nr && !r; i++)
		if (is_job_key(root->keys[i]))
			r = resolve_extends(root, i, state, 0, err);
	free(state);
	return r;
}

static struct ynode *reference_target(const struct ynode *root,
				      const struct ynode *ref, struct buf *err)
{
	const struct ynode *n = root;
	char where[512];
	size_t i;

	ynode_where(ref, where, sizeof(where));
	if (ref->kind != YNODE_SEQ || !ref->nr) {
		buf_seterr(err, "%s: '!reference' needs a list such as [.job, script]",
			   where);
		return NULL;
	}
	for (i = 0; i < ref->nr; i++) {
		const char *key = ynode_text(ref->items[i]);

		if (!key || !*key) {
			buf_seterr(err, "%s: '!reference' entries must be names",
				   where);
			return NULL;
		}
		n = ynode_get(n, key);
		if (!n) {
			struct buf path = BUF_INIT;
			size_t k;

			for (k = 0; k <= i; k++)
				(void)buf_addf(&path, "%s%s", k ? "." : "",
					       ynode_text(ref->items[k]));
			buf_seterr(err, "%s: '!reference' to '%s', which does not exist",
				   where, path.data);
			buf_release(&path);
			return NULL;
		}
	}
	return ynode_copy(n);
}

/* "file:l:c: msg" -> "file:l:c: job 'x': msg" (or "'variables': msg"). */
static void owned_error(struct buf *err, const char *owner)
{
	struct buf msg = BUF_INIT;
	const char *rest = err->data, *p;

	if (!owner)
		return;
	/* The location ends at the first ": " after the line and column. */
	p = strstr(err->data, ": ");
	if (p && p[2] != '\'')
		p = NULL;
	if (p) {
		(void)buf_add(&msg, err->data, (size_t)(p - err->data) + 2);
		rest = p + 2;
	}
	if (is_job_key(owner))
		(void)buf_addf(&msg, "job '%s': %s", owner, rest);
	else
		(void)buf_addf(&msg, "'%s': %s", owner, rest);
	buf_reset(err);
	buf_seterr(err, "%s", msg.data);
	buf_release(&msg);
}

/*
 * Replaces the !reference tags under n; owner is the top-level key they
 * sit under (NULL when n is the root itself), for messages.
 */
static int resolve_references(const struct ynode *root, struct ynode *n,
			      const char *owner, int depth, struct buf *err)
{
	size_t i;
	int r;

	for (i = 0; i < n->nr; i++) {
		struct ynode *c = n->items[i];
		const char *own = owner ? owner :
			(n->keys ? n->keys[i] : NULL);

		if (c->tag && !strcmp(c->tag, "!reference")) {
			struct ynode *t;
			char where[512];

			if (depth >= MAX_REFERENCE_DEPTH) {
				ynode_where(c, where, sizeof(where));
				buf_seterr(err, "%s: '!reference' is nested more than %d levels",
					   where, MAX_REFERENCE_DEPTH);
				owned_error(err, own);
				return CR_ERR_INVALID;
			}
			if (!(t = reference_target(root, c, err))) {
				owned_error(err, own);
				return CR_ERR_INVALID;
			}
			t->kline = c->kline;
			t->kcol = c->kcol;
			/* The copy may itself hold references. */
			if (t->tag && !strcmp(t->tag, "!reference")) {
				struct ynode *holder = ynode_new(YNODE_SEQ, NULL, 0, 0);

				ynode_push(holder, t);
				r = resolve_references(root, holder, own, depth + 1, err);
				t = holder->items[0];
				holder->nr = 0;
				ynode_free(holder);
			} else {
				r = resolve_references(root, t, own, depth + 1, err);
			}
			if (r) {
				ynode_free(t);
				return r;
			}
			ynode_free(c);
			n->items[i] = t;
			continue;
		}
		if ((r = resolve_references(root, c, own, depth, err)))
			return r;
	}
	return 0;
}

/* GitLab's limit on nested script lists (Entry::Commands). */
#define MAX_LIST_NESTING 10

/*
 * Nested lists where GitLab flattens them: a `!reference` to a list of
 * rules (or needs, or caches, or script lines) inside a list gives a
 * list in a list.  n is a job, default: or the top level.
 */
static void flatten_keywords(struct ynode *n)
{
	static const char *const keys[] = {
		"rules", "needs", "cache", "script", "before_script",
		"after_script", "dependencies", NULL,
	};
	struct ynode *rules;
	size_t i;

	if (!n || n->kind != YNODE_MAP)
		return;
	for (i = 0; keys[i]; i++)
		ynode_flatten(ynode_get(n, keys[i]), MAX_LIST_NESTING);
	rules = ynode_get(n, "rules");
	for (i = 0; rules && rules->kind == YNODE_SEQ && i < rules->nr; i++)
		ynode_flatten(ynode_get(rules->items[i], "needs"),
			      MAX_LIST_NESTING);
}

static void flatten_all(struct ynode *root)
{
	size_t i;

	flatten_keywords(root);
	for (i = 0; i < root->nr; i++)
		if (!strcmp(root->keys[i], "workflow") ||
		    !strcmp(root->keys[i], "default") ||
		    is_job_key(root->keys[i]))
			flatten_keywords(root->items[i]);
}

static int read_stages(struct pipeline *pl, struct buf *err)
{
	const struct ynode *st = ynode_get(pl->root, "stages");
	struct strvec user = STRVEC_INIT;
	size_t i;
	int r;

	if (!st)
		st = ynode_get(pl->root, "types");
	strvec_push(&pl->stages, ".pre");
	if (st) {
		if ((r = pl_string_list(st, NULL, "stages", &user, err)))
			return r;
		for (i = 0; i < user.nr; i++)
			if (strcmp(user.v[i], ".pre") && strcmp(user.v[i], ".post"))
				strvec_push(&pl->stages, user.v[i]);
		strvec_clear(&user);
	} else {
		strvec_push(&pl->stages, "build");
		strvec_push(&pl->stages, "test");
		strvec_push(&pl->stages, "deploy");
	}
	strvec_push(&pl->stages, ".post");
	return 0;
}

int pipeline_stage_index(const struct pipeline *pl, const char *stage)
{
	size_t i;

	for (i = 0; i < pl->stages.nr; i++)
		if (!strcmp(pl->stages.v[i], stage))
			return (int)i;
	return -1;
}

/* default: (and the legacy top-level keys) into a job, honouring inherit. */
static int apply_defaults(const struct pipeline *pl, struct ynode *job,
			  const char *name, struct buf *err)
{
	const struct ynode *def = ynode_get(pl->root, "default");
	const struct ynode *inherit = ynode_get(job, "inherit");
	const struct ynode *idef = inherit ? ynode_get(inherit, "default") : NULL;
	struct strvec only = STRVEC_INIT;
	bool all = true;
	size_t i;
	int r;

	if (idef) {
		if (ynode_bool(idef) == 0)
			return 0;
		if (ynode_bool(idef) != 1) {
			if ((r = pl_string_list(idef, name, "inherit:default",
						&only, err)))
				return r;
			all = false;
		}
	}
	for (i = 0; default_keys[i]; i++) {
		const char *k = default_keys[i];
		const struct ynode *v = def ? ynode_get(def, k) : NULL;
		size_t j;
		bool listed = all;

		if (!v && pl_in_list((const char *const[]){ "image", "services",
				"cache", "before_script", "after_script", NULL }, k))
			v = ynode_get(pl->root, k);
		for (j = 0; !all && j < only.nr; j++)
			listed = listed || !strcmp(only.v[j], k);
		if (v && listed && (!ynode_get(job, k) ||
				    ynode_get(job, k)->kind == YNODE_NULL))
			ynode_set(job, k, ynode_copy(v));
	}
	strvec_clear(&only);
	return 0;
}

/*
 * A keyword set to null is not specified (GitLab's Entry::Unspecified):
 * `parallel: null` after extends: drops the parent's, and default:
 * applies as if the job had not named the keyword.
 */
static void drop_null_keywords(struct ynode *job)
{
	size_t i = 0;

	while (i < job->nr)
		if (job->items[i]->kind == YNODE_NULL && !job->items[i]->tag)
			ynode_remove(job, job->keys[i]);
		else
			i++;
}

static int check_default(const struct ynode *def, struct buf *err)
{
	char where[512];
	size_t i;

	if (!def)
		return 0;
	if (def->kind != YNODE_MAP) {
		ynode_where(def, where, sizeof(where));
		buf_seterr(err, "%s: 'default' must be a mapping", where);
		return CR_ERR_INVALID;
	}
	for (i = 0; i < def->nr; i++)
		if (!pl_in_list(default_keys, def->keys[i])) {
			ynode_where_key(def->items[i], where, sizeof(where));
			buf_seterr(err, "%s: default: unknown keyword '%s'", where,
				   def->keys[i]);
			return CR_ERR_INVALID;
		}
	return 0;
}

static void job_free(struct pl_job *j);

static int build(struct pipeline *pl, struct buf *err)
{
	const struct ynode *vars, *wf;
	char where[512];
	size_t i;
	int r;

	if (pl->root->kind != YNODE_MAP) {
		ynode_where(pl->root, where, sizeof(where));
		buf_seterr(err, "%s: the top level must be a mapping", where);
		return CR_ERR_INVALID;
	}
	if ((r = resolve_all_extends(pl->root, err)) ||
	    (r = resolve_references(pl->root, pl->root, NULL, 0, err)))
		return r;
	flatten_all(pl->root);
	if ((r = read_stages(pl, err)) ||
	    (r = check_default(ynode_get(pl->root, "default"), err)))
		return r;
	vars = ynode_get(pl->root, "variables");
	if (vars && (r = pl_vars_parse(&pl->variables, vars, NULL, err)))
		return r;
	wf = ynode_get(pl->root, "workflow");
	if (wf) {
		if (wf->kind != YNODE_MAP) {
			ynode_where(wf, where, sizeof(where));
			buf_seterr(err, "%s: 'workflow' must be a mapping", where);
			return CR_ERR_INVALID;
		}
		for (i = 0; i < wf->nr; i++)
			if (!pl_in_list((const char *const[]){ "rules", "name",
					"auto_cancel", NULL }, wf->keys[i])) {
				ynode_where_key(wf->items[i], where,
						sizeof(where));
				buf_seterr(err, "%s: workflow: unknown keyword '%s'",
					   where, wf->keys[i]);
				return CR_ERR_INVALID;
			}
		pl->workflow_rules = ynode_get(wf, "rules");
	}
	for (i = 0; i < pl->root->nr; i++) {
		const char *name = pl->root->keys[i];
		struct ynode *node = pl->root->items[i];
		struct pl_job *job;

		if (!is_job_key(name) || name[0] == '.')
			continue;
		if (node->kind != YNODE_MAP) {
			ynode_where_key(node, where, sizeof(where));
			buf_seterr(err, "%s: job '%s': config should be a mapping (unknown top-level keyword?)",
				   where, name);
			return CR_ERR_INVALID;
		}
		node = ynode_copy(node);
		if ((r = apply_defaults(pl, node, name, err))) {
			ynode_free(node);
			return r;
		}
		drop_null_keywords(node);
		job = xcalloc(1, sizeof(*job));
		job->node = node;
		job->index = (int)pl->nr_jobs;
		pl->jobs = xreallocarray(pl->jobs, pl->nr_jobs + 1,
					 sizeof(*pl->jobs));
		pl->jobs[pl->nr_jobs++] = job;
		if ((r = pl_job_parse(pl, job, name, err))) {
			if (!pl->keep_job_errors)
				return r;
			strvec_push(&pl->broken, name);
			strvec_push(&pl->broken_errors, err->data);
			buf_reset(err);
			job_free(pl->jobs[--pl->nr_jobs]);
		}
	}
	if (!pl->nr_jobs && pl->broken.nr) {
		buf_seterr(err, "%s", pl->broken_errors.v[0]);
		return CR_ERR_INVALID;
	}
	if (!pl->nr_jobs) {
		ynode_where(pl->root, where, sizeof(where));
		buf_seterr(err, "%s: jobs config should contain at least one visible job",
			   where);
		return CR_ERR_INVALID;
	}
	return 0;
}

static int include_keep(void *ctx, const struct ynode *rules, bool *keep,
			struct buf *err)
{
	return rules_include(rules, ctx, keep, err);
}

static char *include_expand(void *ctx, const char *path)
{
	return rules_expand_existing(path, ctx);
}

int pipeline_load(struct pipeline *pl, const char *root_dir, const char *file,
		  const struct rules_ctx *include_ctx, struct buf *err)
{
	return pipeline_load_remote(pl, root_dir, file, include_ctx, NULL, err);
}

int pipeline_load_remote(struct pipeline *pl, const char *root_dir,
			 const char *file, const struct rules_ctx *include_ctx,
			 struct include_remote *remote, struct buf *err)
{
	struct yaml_include_ctx ic = { 0 };
	int r;

	if (include_ctx) {
		ic.keep = include_keep;
		ic.expand = include_expand;
		ic.ctx = (void *)include_ctx;
	}
	if (remote) {
		ic.fetch = include_remote_fetch;
		ic.fetch_ctx = remote;
	}
	r = yaml_load_pipeline(&pl->files, root_dir, file,
			       include_ctx || remote ? &ic : NULL, &pl->root,
			       err);
	return r ? r : build(pl, err);
}

int pipeline_load_string(struct pipeline *pl, const char *text,
			 struct buf *err)
{
	int r = yaml_load_string(&pl->files, text, strlen(text),
				 ".gitlab-ci.yml", &pl->root, err);

	return r ? r : build(pl, err);
}

static void job_free(struct pl_job *j)
{
	if (!j)
		return;
	free(j->name);
	free(j->stage);
	ynode_free(j->node);
	strvec_clear(&j->before_script);
	strvec_clear(&j->script);
	strvec_clear(&j->after_script);
	pl_vars_release(&j->variables);
	pl_vars_release(&j->own_variables);
	strvec_clear(&j->inherit_variables);
	free(j->when);
	strvec_clear(&j->allow_exit_codes);
	pl_needs_free(j->needs, j->nr_needs);
	strvec_clear(&j->dependencies);
	strvec_clear(&j->retry_when);
	strvec_clear(&j->retry_exit_codes);
	free(j);
}

void pipeline_release(struct pipeline *pl)
{
	size_t i;

	for (i = 0; i < pl->nr_jobs; i++)
		job_free(pl->jobs[i]);
	free(pl->jobs);
	pl->jobs = NULL;
	pl->nr_jobs = 0;
	ynode_free(pl->root);
	pl->root = NULL;
	strvec_clear(&pl->stages);
	pl_vars_release(&pl->variables);
	strvec_clear(&pl->broken);
	strvec_clear(&pl->broken_errors);
	yfiles_release(&pl->files);
	pl->workflow_rules = NULL;
}

struct pl_job *pipeline_find(const struct pipeline *pl, const char *name)
{
	size_t i;

	for (i = 0; i < pl->nr_jobs; i++)
		if (!strcmp(pl->jobs[i]->name, name))
			return pl->jobs[i];
	return NULL;
}
