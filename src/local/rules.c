/*
 * rules:, only/except and workflow:rules over the pipeline model.
 */
#include <ctype.h>
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

/* workflow:rules know fewer keywords (Entry::Rules::Rule for workflow). */
static const char *const workflow_rule_keys[] = {
	"if", "changes", "exists", "when", "variables", "auto_cancel", NULL,
};

/* include:rules fewer still (Entry::Include::Rules::Rule). */
static const char *const include_rule_keys[] = {
	"if", "changes", "exists", "when", NULL,
};

/* The job argument of the functions below for include:rules (by address). */
static const char include_owner[] = "include";

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
	if (job == include_owner)
		(void)buf_addstr(err, "include: ");
	else if (job)
		(void)buf_addf(err, "job '%s': ", job);
	else
		(void)buf_addstr(err, "workflow: ");
	(void)buf_addf(err, fmt, arg);
	return CR_ERR_INVALID;
}

char *rules_expand_existing(const char *text, const struct rules_ctx *ctx)
{
	struct buf b = BUF_INIT;
	const char *p = text;

	while (*p) {
		const char *name, *end, *value = NULL;
		bool brace;
		char *key;

		if (*p != '$' || !ctx || !ctx->lookup) {
			(void)buf_addch(&b, *p++);
			continue;
		}
		brace = p[1] == '{';
		name = p + 1 + brace;
		for (end = name; *end == '_' || isalnum((unsigned char)*end); end++)
			;
		if (end == name || (brace && *end != '}')) {
			(void)buf_addch(&b, *p++);
			continue;
		}
		key = xstrndup(name, (size_t)(end - name));
		value = ctx->lookup(ctx->lookup_ctx, key);
		free(key);
		if (!value) {
			(void)buf_addch(&b, *p++);
			continue;
		}
		(void)buf_addstr(&b, value);
		p = end + brace;
	}
	return buf_detach(&b, NULL);
}

/*
 * The paths a changes:/exists: clause names (a list, or paths: list),
 * with the variables ctx knows expanded (ctx NULL: as written).
 */
static int clause_paths(const struct ynode *n, const char *job,
			const char *key, const struct rules_ctx *ctx,
			struct strvec *out, struct buf *err)
{
	const struct ynode *paths = n;
	size_t i;

	if (n->kind == YNODE_MAP)
		paths = ynode_get(n, "paths");
	if (!paths)
		return bad(err, n, job, "'%s' needs a list of paths", key);
	if (ynode_text(paths) && paths->kind == YNODE_SCALAR) {
		strvec_push_nodup(out, rules_expand_existing(ynode_text(paths), ctx));
		return 0;
	}
	if (paths->kind != YNODE_SEQ)
		return bad(err, n, job, "'%s' needs a list of paths", key);
	for (i = 0; i < paths->nr; i++) {
		if (!ynode_text(paths->items[i]) ||
		    paths->items[i]->kind != YNODE_SCALAR)
			return bad(err, paths->items[i], job,
				   "'%s' entries should be paths", key);
		strvec_push_nodup(out, rules_expand_existing(
					  ynode_text(paths->items[i]), ctx));
	}
	return 0;
}

/* The changed files for a changes: clause n; *changed NULL: unknown. */
static int changed_files(const struct ynode *n, const struct rules_ctx *ctx,
			 const char *job, const struct strvec **changed,
			 struct buf *err)
{
	const struct ynode *cmp = n->kind == YNODE_MAP ?
		ynode_get(n, "compare_to") : NULL;
	char *ref;
	int r;

	*changed = ctx->changed;
	if (!ctx->changes)
		return 0;
	ref = cmp && cmp->kind == YNODE_SCALAR ?
		rules_expand_existing(ynode_text(cmp), ctx) : NULL;
	r = ctx->changes(ctx->changes_ctx, ref, changed, err);
	free(ref);
	if (r) {
		struct buf msg = BUF_INIT;

		(void)buf_addstr(&msg, err->data);
		bad(err, cmp ? cmp : n, job, "%s", msg.data);
		buf_release(&msg);
	}
	return r;
}

static bool changes_match(const struct strvec *changed,
			  const struct strvec *patterns)
{
	size_t i, k;

	if (!changed)
		return true;
	for (i = 0; i < patterns->nr; i++) {
		const char *pat = patterns->v[i];

		while (*pat == '/')
			pat++;
		for (k = 0; k < changed->nr; k++)
			if (yaml_glob_match(pat, changed->v[k]))
				return true;
	}
	return false;
}

/* Whether root_dir/path is there (a file, or a directory for "dir/"). */
static bool path_exists(const struct rules_ctx *ctx, const char *path)
{
	struct buf full = BUF_INIT;
	struct stat st;
	bool found;

	(void)buf_addf(&full, "%s/%s", ctx->root_dir, path);
	found = stat(full.data, &st) == 0;
	buf_release(&full);
	return found;
}

static bool exists_match(const struct rules_ctx *ctx,
			 const struct strvec *patterns)
{
	const struct strvec *files = ctx->files ? ctx->files(ctx->files_ctx) :
		NULL;
	size_t i, k;
	bool found = false;

	for (i = 0; i < patterns->nr && !found; i++) {
		const char *pat = patterns->v[i];
		struct strvec m = STRVEC_INIT;

		while (*pat == '/')
			pat++;
		if (files) {
			/*
			 * One list for every glob, rather than a walk each;
			 * "dir/" stands for the files under it.
			 */
			bool glob = strpbrk(pat, "*?[{") != NULL;
			size_t len = strlen(pat);

			for (k = 0; k < files->nr && !found; k++)
				found = (glob ? yaml_glob_match(pat, files->v[k]) :
					 !strcmp(pat, files->v[k]) ||
					 (len && pat[len - 1] == '/' &&
					  !strncmp(pat, files->v[k], len))) &&
					path_exists(ctx, files->v[k]);
			continue;
		}
		yaml_glob_files(ctx->root_dir, pat, &m);
		for (k = 0; k < m.nr && !found; k++)
			found = path_exists(ctx, m.v[k]);
		strvec_clear(&m);
	}
	return found;
}

/* A changes: or exists: clause: its keys, and the paths it must have. */
static int check_paths_clause(const struct ynode *n, const char *job,
			      const char *key, struct buf *err)
{
	struct strvec paths = STRVEC_INIT;
	const struct ynode *v;
	size_t i;
	int r;

	if (n->kind == YNODE_MAP) {
		for (i = 0; i < n->nr; i++) {
			const char *k = n->keys[i];

			if (!strcmp(k, "paths") ||
			    (!strcmp(key, "changes") && !strcmp(k, "compare_to")))
				continue;
			if (!strcmp(key, "exists") && (!strcmp(k, "project") ||
						       !strcmp(k, "ref")))
				return bad(err, n->items[i], job,
					   "'exists:%s' (files of another project or ref) is not supported by crunner exec",
					   k);
			return bad(err, n->items[i], job,
				   !strcmp(key, "changes") ?
				   "unknown rules:changes keyword '%s' (paths, compare_to)" :
				   "unknown rules:exists keyword '%s' (paths, project, ref)",
				   k);
		}
		if ((v = ynode_get(n, "compare_to")) &&
		    (v->kind != YNODE_SCALAR || !*ynode_text(v)))
			return bad(err, v, job, "%s",
				   "'compare_to' should be a branch, a tag or a commit");
	}
	r = clause_paths(n, job, key, NULL, &paths, err);
	strvec_clear(&paths);
	return r;
}

static int check_rule(const struct ynode *rule, const char *job,
		      struct buf *err)
{
	const struct ynode *v, *when;
	size_t i;
	int r;

	if (rule->kind != YNODE_MAP)
		return bad(err, rule, job, "%s", "each rule should be a mapping");
	for (i = 0; i < rule->nr; i++)
		if (!pl_in_list(job == include_owner ? include_rule_keys :
				job ? rule_keys : workflow_rule_keys,
				rule->keys[i]))
			return bad(err, rule->items[i], job,
				   "unknown rules keyword '%s'", rule->keys[i]);
	if ((v = ynode_get(rule, "if"))) {
		if (!ynode_text(v) || v->kind != YNODE_SCALAR)
			return bad(err, v, job, "%s", "'if' should be a string");
		if ((r = rules_expr_check(ynode_text(v), err))) {
			struct buf msg = BUF_INIT;

			(void)buf_addstr(&msg, err->data);
			bad(err, v, job, "%s", msg.data);
			buf_release(&msg);
			return r;
		}
	}
	if ((v = ynode_get(rule, "changes")) &&
	    (r = check_paths_clause(v, job, "changes", err)))
		return r;
	if ((v = ynode_get(rule, "exists")) &&
	    (r = check_paths_clause(v, job, "exists", err)))
		return r;
	when = ynode_get(rule, "when");
	if (when &&
	    (!ynode_text(when) || when->kind != YNODE_SCALAR ||
	     !pl_in_list(job && job != include_owner ?
			(const char *const[]){ "on_success", "on_failure",
			"always", "manual", "delayed", "never", NULL } :
			(const char *const[]){ "always", "never", NULL },
			ynode_text(when))))
		return bad(err, when, job, "%s", job && job != include_owner ?
			   "rules 'when' should be on_success, on_failure, always, manual, delayed or never" :
			   "rules 'when' should be always or never");
	if ((v = ynode_get(rule, "start_in"))) {
		long secs = ynode_text(v) ? pl_parse_duration(ynode_text(v)) : -1;

		if (!when || strcmp(ynode_text(when), "delayed"))
			return bad(err, v, job, "%s",
				   "rules 'start_in' needs when: delayed in the same rule");
		if (secs < 1 || secs > 7 * 86400)
			return bad(err, v, job, "%s",
				   "rules 'start_in' should be a duration from 1 second to 1 week");
	} else if (when && !strcmp(ynode_text(when), "delayed")) {
		return bad(err, when, job, "%s",
			   "rules 'when: delayed' needs 'start_in' in the same rule");
	}
	if ((v = ynode_get(rule, "allow_failure")) && ynode_bool(v) < 0)
		return bad(err, v, job, "%s",
			   "rules 'allow_failure' should be true or false");
	if ((v = ynode_get(rule, "interruptible")) && ynode_bool(v) < 0)
		return bad(err, v, job, "%s",
			   "rules 'interruptible' should be true or false");
	if ((v = ynode_get(rule, "variables"))) {
		struct pl_vars vars = PL_VARS_INIT;

		r = pl_vars_parse(&vars, v, job, err);
		pl_vars_release(&vars);
		if (r)
			return r;
	}
	if ((v = ynode_get(rule, "needs"))) {
		struct pl_need *needs = NULL;
		size_t nr = 0;

		r = pl_needs_parse(v, job, &needs, &nr, err);
		pl_needs_free(needs, nr);
		if (r)
			return r;
	}
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
	const struct strvec *changed;
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
		if ((r = clause_paths(v, job, "changes", ctx, &paths, err)) ||
		    (r = changed_files(v, ctx, job, &changed, err))) {
			strvec_clear(&paths);
			return r;
		}
		*out = changes_match(changed, &paths);
		strvec_clear(&paths);
		if (!*out)
			return 0;
	}
	if ((v = ynode_get(rule, "exists"))) {
		if ((r = clause_paths(v, job, "exists", ctx, &paths, err)))
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
		if ((v = ynode_get(rule, "interruptible")))
			res->interruptible = ynode_bool(v) == 1;
		res->needs = ynode_get(rule, "needs");
		if ((v = ynode_get(rule, "variables")) &&
		    (r = pl_vars_parse(&res->variables, v, job, err)))
			return r;
		res->included = !res->when || strcmp(res->when, "never");
		return 0;
	}
	return 0;
}

int rules_include(const struct ynode *rules, const struct rules_ctx *ctx,
		  bool *keep, struct buf *err)
{
	struct rules_result res = RULES_RESULT_INIT;
	int r = rules_evaluate(rules, ctx, include_owner, &res, err);

	*keep = !r && res.included;
	rules_result_release(&res);
	return r;
}

/*
 * Whether a refs keyword names the pipeline's source, as GitLab's Refs
 * policy: the source without "_event", or its plural (ActiveSupport's
 * pluralize for these names: push -> pushes, merge_request ->
 * merge_requests, trigger -> triggers).
 */
static bool source_matches(const char *entry, const char *src)
{
	char base[96];
	size_t n = strlen(src);

	if (n > 6 && !strcmp(src + n - 6, "_event"))
		n -= 6;
	if (n + 3 > sizeof(base))
		return false;
	memcpy(base, src, n);
	base[n] = 0;
	if (!strcmp(entry, base))
		return true;
	if ((n >= 2 && (!strcmp(base + n - 2, "sh") ||
			!strcmp(base + n - 2, "ch") ||
			!strcmp(base + n - 2, "ss"))) ||
	    (n && (base[n - 1] == 'x' || base[n - 1] == 'z')))
		memcpy(base + n, "es", 3);
	else
		memcpy(base + n, "s", 2);
	return !strcmp(entry, base);
}

static bool ref_matches(const char *entry, const struct rules_ctx *ctx)
{
	const char *ref = ctx->ref ? ctx->ref : "";
	const char *src = ctx->source ? ctx->source : "push";
	/* As Ci::Pipeline#branch?: a merge request pipeline is none. */
	bool branch = !ctx->ref_is_tag &&
		strcmp(src, "merge_request_event") != 0;

	if ((!strcmp(entry, "branches") && branch) ||
	    (!strcmp(entry, "tags") && ctx->ref_is_tag) ||
	    source_matches(entry, src))
		return true;
	/* Ref names and patterns match only branch and tag pipelines. */
	if (!branch && !ctx->ref_is_tag)
		return false;
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

/*
 * One refs entry: "pattern@group/project" holds only in that project (as
 * GitLab's Refs policy, split at the first '@'; a regex writes '@' as
 * \x40), and then only if the pattern matches.
 */
static bool ref_entry_matches(const char *entry, const struct rules_ctx *ctx)
{
	const char *at = strchr(entry, '@'), *path;
	char *pattern;
	bool match;

	if (!at)
		return ref_matches(entry, ctx);
	path = ctx->lookup ? ctx->lookup(ctx->lookup_ctx, "CI_PROJECT_PATH") :
		NULL;
	if (!path || strcmp(path, at + 1))
		return false;
	pattern = xstrndup(entry, (size_t)(at - entry));
	match = ref_matches(pattern, ctx);
	free(pattern);
	return match;
}

/*
 * One only:/except: value, as GitLab's Seed::Build: only: holds when every
 * key it has matches (all_of_only?), except: when any does
 * (none_of_except?).  `kubernetes: active` never matches: exec knows no
 * cluster of the project.
 */
static int policy_matches(const struct ynode *n, const struct rules_ctx *ctx,
			  const char *job, const char *key, bool *out,
			  struct buf *err)
{
	struct strvec list = STRVEC_INIT;
	const struct ynode *refs = n, *vars = NULL, *changes = NULL,
		*kube = NULL;
	bool all = !strcmp(key, "only");	/* else any key */
	size_t i;
	bool any;
	int r = 0;

	if (n->kind == YNODE_MAP) {
		refs = ynode_get(n, "refs");
		vars = ynode_get(n, "variables");
		changes = ynode_get(n, "changes");
		kube = ynode_get(n, "kubernetes");
		for (i = 0; i < n->nr; i++)
			if (strcmp(n->keys[i], "refs") &&
			    strcmp(n->keys[i], "variables") &&
			    strcmp(n->keys[i], "changes") &&
			    strcmp(n->keys[i], "kubernetes"))
				return bad(err, n->items[i], job,
					   "unknown only/except keyword '%s'",
					   n->keys[i]);
		if (kube && (kube->kind != YNODE_SCALAR ||
			     strcmp(ynode_text(kube), "active")))
			return bad(err, kube, job,
				   "%s:kubernetes can only be 'active'", key);
	}
	/* No key: only: holds, except: does not. */
	*out = all;
	if (refs) {
		if ((r = pl_string_list(refs, job, key, &list, err)))
			return r;
		for (any = false, i = 0; i < list.nr && !any; i++)
			any = ref_entry_matches(list.v[i], ctx);
		strvec_clear(&list);
		if (any != all)
			return (*out = any), 0;
	}
	if (vars) {
		if ((r = pl_string_list(vars, job, key, &list, err)))
			return r;
		for (any = false, i = 0; i < list.nr && !any && !r; i++)
			r = rules_expr_eval(list.v[i], ctx, &any, err);
		strvec_clear(&list);
		if (r)
			return r;
		if (any != all)
			return (*out = any), 0;
	}
	if (changes) {
		const struct strvec *changed;

		if ((r = clause_paths(changes, job, "changes", ctx, &list, err)) ||
		    (r = changed_files(changes, ctx, job, &changed, err))) {
			strvec_clear(&list);
			return r;
		}
		any = changes_match(changed, &list);
		strvec_clear(&list);
		if (any != all)
			return (*out = any), 0;
	}
	if (kube && all)
		*out = false;
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
	} else if (!ctx->workflow_rules) {
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
