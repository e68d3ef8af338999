/*
 * rules:, only/except and workflow:rules over the pipeline model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "local/pipeline_int.h"
#include "local/rules.h"
#include "local/yaml.h"
#include "local/ynode.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const char *const rule_keys[] = {
	"if", "changes", "exists", "when", "allow_failure", "variables",
	"needs", "start_in", "interruptible", NULL,
};

void rules_result_release(struct rules_result *res)
{
	pl_vars_release(&res->variables);
}

static int bad(struct buf *err, const struct ynode *n, const char *job,
	       const char *fmt, const char *arg)
{
	char where[512];

	ynode_where_key(n, where, sizeof(where));
	buf_reset(err);
	if (*where)
		(void)buf_addf(err, "%s: ", where);
	if (job)
		(void)buf_addf(err, "job '%s': ", job);
	else
		(void)buf_addstr(err, "workflow: ");
	(void)buf_addf(err, fmt, arg);
	return CR_ERR_INVALID;
}

/* The paths a changes:/exists: clause names (a list, or paths: list). */
static int clause_paths(const struct ynode *n, const char *job,
			const char *key, struct strvec *out, struct buf *err)
{
	const struct ynode *paths = n;
	size_t i;

	if (n->kind == YNODE_MAP)
		paths = ynode_get(n, "paths");
	if (!paths)
		return bad(err, n, job, "'%s' needs a list of paths", key);
	if (ynode_text(paths)) {
		strvec_push(out, ynode_text(paths));
		return 0;
	}
	if (paths->kind != YNODE_SEQ)
		return bad(err, n, job, "'%s' needs a list of paths", key);
	for (i = 0; i < paths->nr; i++) {
		if (!ynode_text(paths->items[i]))
			return bad(err, paths->items[i], job,
				   "'%s' entries should be paths", key);
		strvec_push(out, ynode_text(paths->items[i]));
	}
	return 0;
}

static bool changes_match(const struct rules_ctx *ctx,
			  const struct strvec *patterns)
{
	size_t i, k;

	if (!ctx->changed)
		return true;
	for (i = 0; i < patterns->nr; i++) {
		const char *pat = patterns->v[i];

		while (*pat == '/')
			pat++;
		for (k = 0; k < ctx->changed->nr; k++)
			if (yaml_glob_match(pat, ctx->changed->v[k]))
				return true;
	}
	return false;
}

static bool exists_match(const struct rules_ctx *ctx,
			 const struct strvec *patterns)
{
	size_t i;
	bool found = false;

	for (i = 0; i < patterns->nr && !found; i++) {
		struct strvec m = STRVEC_INIT;
		size_t k;

		yaml_glob_files(ctx->root_dir, patterns->v[i], &m);
		for (k = 0; k < m.nr && !found; k++) {
			struct buf path = BUF_INIT;
			struct stat st;

			(void)buf_addf(&path, "%s/%s", ctx->root_dir, m.v[k]);
			found = stat(path.data, &st) == 0;
			buf_release(&path);
		}
		strvec_clear(&m);
	}
	return found;
}

static int check_rule(const struct ynode *rule, const char *job,
		      struct buf *err)
{
	const struct ynode *v;
	size_t i;
	int r;

	if (rule->kind != YNODE_MAP)
		return bad(err, rule, job, "%s", "each rule should be a mapping");
	for (i = 0; i < rule->nr; i++)
		if (!pl_in_list(rule_keys, rule->keys[i]))
			return bad(err, rule->items[i], job,
				   "unknown rules keyword '%s'", rule->keys[i]);
	if ((v = ynode_get(rule, "if"))) {
		if (!ynode_text(v))
			return bad(err, v, job, "%s", "'if' should be a string");
		if ((r = rules_expr_check(ynode_text(v), err))) {
			struct buf msg = BUF_INIT;

			(void)buf_addstr(&msg, err->data);
			bad(err, v, job, "%s", msg.data);
			buf_release(&msg);
			return r;
		}
	}
	if ((v = ynode_get(rule, "when")) &&
	    (!ynode_text(v) ||
	     !pl_in_list((const char *const[]){ "on_success", "on_failure",
			"always", "manual", "delayed", "never", NULL },
			ynode_text(v))))
		return bad(err, v, job, "%s",
			   "rules 'when' should be on_success, on_failure, always, manual, delayed or never");
	return 0;
}

int rules_check(const struct ynode *rules, const char *job, struct buf *err)
{
	size_t i;
	int r;

	if (!rules)
		return 0;
	if (rules->kind != YNODE_SEQ)
		return bad(err, rules, job, "%s", "'rules' should be a list");
	for (i = 0; i < rules->nr; i++)
		if ((r = check_rule(rules->items[i], job, err)))
			return r;
	return 0;
}

/* Whether every clause of one rule holds. */
static int rule_matches(const struct ynode *rule, const struct rules_ctx *ctx,
			const char *job, bool *out, struct buf *err)
{
	const struct ynode *v;
	struct strvec paths = STRVEC_INIT;
	int r;

	*out = true;
	if ((v = ynode_get(rule, "if"))) {
		if ((r = rules_expr_eval(ynode_text(v), ctx, out, err))) {
			struct buf msg = BUF_INIT;

			(void)buf_addstr(&msg, err->data);
			bad(err, v, job, "%s", msg.data);
			buf_release(&msg);
			return r;
		}
		if (!*out)
			return 0;
	}
	if ((v = ynode_get(rule, "changes"))) {
		if ((r = clause_paths(v, job, "changes", &paths, err)))
			return r;
		*out = changes_match(ctx, &paths);
		strvec_clear(&paths);
		if (!*out)
			return 0;
	}
	if ((v = ynode_get(rule, "exists"))) {
		if ((r = clause_paths(v, job, "exists", &paths, err)))
			return r;
		*out = exists_match(ctx, &paths);
		strvec_clear(&paths);
	}
	return 0;
}

int rules_evaluate(const struct ynode *rules, const struct rules_ctx *ctx,
		   const char *job, struct rules_result *res, struct buf *err)
{
	size_t i;
	int r;

	res->included = false;
	if ((r = rules_check(rules, job, err)))
		return r;
	for (i = 0; i < rules->nr; i++) {
		const struct ynode *rule = rules->items[i], *v;
		bool match;

		if ((r = rule_matches(rule, ctx, job, &match, err)))
			return r;
		if (!match)
			continue;
		if ((v = ynode_get(rule, "when")))
			res->when = ynode_text(v);
		if ((v = ynode_get(rule, "allow_failure")))
			res->allow_failure = ynode_bool(v) == 1;
		if ((v = ynode_get(rule, "variables")) &&
		    (r = pl_vars_parse(&res->variables, v, job, err)))
			return r;
		res->included = !res->when || strcmp(res->when, "never");
		return 0;
	}
	return 0;
}

static bool ref_matches(const char *entry, const struct rules_ctx *ctx)
{
	const char *ref = ctx->ref ? ctx->ref : "";
	const char *src = ctx->source ? ctx->source : "push";

	if (!strcmp(entry, "branches"))
		return !ctx->ref_is_tag;
	if (!strcmp(entry, "tags"))
		return ctx->ref_is_tag;
	if (!strcmp(entry, "pushes"))
		return !strcmp(src, "push");
	if (!strcmp(entry, "merge_requests"))
		return !strcmp(src, "merge_request_event");
	if (!strcmp(entry, "schedules"))
		return !strcmp(src, "schedule");
	if (!strcmp(entry, "web") || !strcmp(entry, "api") ||
	    !strcmp(entry, "triggers") || !strcmp(entry, "pipelines") ||
	    !strcmp(entry, "chat") || !strcmp(entry, "external") ||
	    !strcmp(entry, "external_pull_requests"))
		return !strcmp(src, !strcmp(entry, "triggers") ? "trigger" :
			       !strcmp(entry, "pipelines") ? "pipeline" : entry);
	if (entry[0] == '/') {
		struct buf expr = BUF_INIT, err = BUF_INIT;
		struct rules_ctx c = *ctx;
		bool out = false;

		/* Reuse the expression engine: "$REF =~ /re/flags". */
		(void)buf_addf(&expr, "'%s' =~ %s", ref, entry);
		if (strchr(ref, '\'') ||
		    rules_expr_eval(expr.data, &c, &out, &err))
			out = false;
		buf_release(&expr);
		buf_release(&err);
		return out;
	}
	return !strcmp(entry, ref);
}

/* One only:/except: value; *out is whether all its keys match. */
static int policy_matches(const struct ynode *n, const struct rules_ctx *ctx,
			  const char *job, const char *key, bool *out,
			  struct buf *err)
{
	struct strvec list = STRVEC_INIT;
	const struct ynode *refs = n, *vars = NULL, *changes = NULL;
	size_t i;
	bool any;
	int r = 0;

	*out = true;
	if (n->kind == YNODE_MAP) {
		refs = ynode_get(n, "refs");
		vars = ynode_get(n, "variables");
		changes = ynode_get(n, "changes");
		for (i = 0; i < n->nr; i++)
			if (strcmp(n->keys[i], "refs") &&
			    strcmp(n->keys[i], "variables") &&
			    strcmp(n->keys[i], "changes") &&
			    strcmp(n->keys[i], "kubernetes"))
				return bad(err, n->items[i], job,
					   "unknown only/except keyword '%s'",
					   n->keys[i]);
	}
	if (refs) {
		if ((r = pl_string_list(refs, job, key, &list, err)))
			return r;
		for (any = false, i = 0; i < list.nr && !any; i++)
			any = ref_matches(list.v[i], ctx);
		strvec_clear(&list);
		*out = any;
	}
	if (*out && vars) {
		if ((r = pl_string_list(vars, job, key, &list, err)))
			return r;
		for (any = false, i = 0; i < list.nr && !any && !r; i++)
			r = rules_expr_eval(list.v[i], ctx, &any, err);
		strvec_clear(&list);
		if (r)
			return r;
		*out = any;
	}
	if (*out && changes) {
		if ((r = clause_paths(changes, job, "changes", &list, err)))
			return r;
		*out = changes_match(ctx, &list);
		strvec_clear(&list);
	}
	return 0;
}

int rules_only_except(const struct ynode *only, const struct ynode *except,
		      const struct rules_ctx *ctx, const char *job,
		      bool *included, struct buf *err)
{
	bool match = true;
	int r;

	if (only) {
		if ((r = policy_matches(only, ctx, job, "only", &match, err)))
			return r;
	} else {
		match = ref_matches("branches", ctx) || ref_matches("tags", ctx);
	}
	if (match && except) {
		bool ex;

		if ((r = policy_matches(except, ctx, job, "except", &ex, err)))
			return r;
		match = !ex;
	}
	*included = match;
	return 0;
}
