/*
 * Which jobs a pipeline gets: rules (if/changes/exists), only/except and
 * workflow:rules, as GitLab evaluates them
 * (lib/gitlab/ci/build/rules, lib/gitlab/ci/pipeline/expression).
 *
 * The if-expression grammar:
 *   expr    := and ( '||' and )*
 *   and     := compare ( '&&' compare )*
 *   compare := operand [ ( '==' | '!=' | '=~' | '!~' ) operand ]
 *   operand := '(' expr ')' | $VAR | ${VAR} | "string" | 'string'
 *            | /regex/flags | null
 * A lone variable is true when it is set and not empty; `$X == null` is
 * true when X is not set; `=~` with an unset left side is false (and `!~`
 * true).  The right side of =~ and !~ is a /pattern/ or a variable whose
 * value is one; flags i, m, s and x are known.  Regexes are PCRE2.
 */
#ifndef CR_LOCAL_RULES_H
#define CR_LOCAL_RULES_H

#include <stdbool.h>

#include "local/pipeline.h"

struct buf;
struct strvec;
struct ynode;

struct rules_ctx {
	/* The value of a variable, or NULL when it is not set. */
	const char *(*lookup)(void *ctx, const char *name);
	void *lookup_ctx;
	const char *root_dir;		/* where exists: looks */
	const struct strvec *changed;	/* NULL: changes: is always true */
	const char *ref;		/* branch or tag name */
	bool ref_is_tag;
	const char *source;		/* CI_PIPELINE_SOURCE */
	/*
	 * The pipeline has workflow:rules: jobs without only/except get no
	 * default `only: [branches, tags]` (GitLab's Processable#compose!).
	 */
	bool workflow_rules;
	/*
	 * The files changes: matches against, compare_to NULL for the
	 * pipeline's own changes; *out NULL: unknown, changes: holds.  Returns
	 * CR_ERR_INVALID with err for a compare_to that names no commit.
	 * NULL: `changed` above is used, for compare_to too.
	 */
	int (*changes)(void *ctx, const char *compare_to,
		       const struct strvec **out, struct buf *err);
	void *changes_ctx;
	/*
	 * Every file of the project under root_dir (relative paths), which
	 * exists: globs are matched against; NULL (or a NULL answer): the
	 * tree under root_dir is walked for each glob.
	 */
	const struct strvec *(*files)(void *ctx);
	void *files_ctx;
};

/* Parses and evaluates one expression; CR_ERR_INVALID with err on bad syntax. */
int rules_expr_eval(const char *expr, const struct rules_ctx *ctx, bool *out,
		    struct buf *err);
/* Only checks the syntax (and compiles the regexes). */
int rules_expr_check(const char *expr, struct buf *err);

struct rules_result {
	bool included;
	const char *when;		/* NULL: the job's own when */
	int allow_failure;		/* -1: not set by the rule */
	int interruptible;		/* -1: not set by the rule */
	struct pl_vars variables;	/* the matching rule's variables */
	const struct ynode *needs;	/* the rule's needs: (borrowed), or NULL */
};

#define RULES_RESULT_INIT { false, NULL, -1, -1, PL_VARS_INIT, NULL }

void rules_result_release(struct rules_result *res);

/*
 * Evaluates a rules: list: the first rule whose clauses all hold decides.
 * No matching rule, or when: never, leaves res->included false.
 */
int rules_evaluate(const struct ynode *rules, const struct rules_ctx *ctx,
		   const char *job, struct rules_result *res, struct buf *err);

/*
 * An include: entry's rules (if, exists, changes; when: always or never):
 * *keep is whether its file is included.
 */
int rules_include(const struct ynode *rules, const struct rules_ctx *ctx,
		  bool *keep, struct buf *err);

/* only/except (refs, variables, changes); both may be NULL. */
int rules_only_except(const struct ynode *only, const struct ynode *except,
		      const struct rules_ctx *ctx, const char *job,
		      bool *included, struct buf *err);

/*
 * text with $VAR and ${VAR} replaced where ctx knows VAR; an unknown one
 * stays as it is (GitLab's expand_existing, for changes:, exists: and
 * compare_to).  A new string.
 */
char *rules_expand_existing(const char *text, const struct rules_ctx *ctx);

/* Checks a rules: list (keys and expressions) before anything runs. */
int rules_check(const struct ynode *rules, const char *job, struct buf *err);

#endif
