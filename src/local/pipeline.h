/*
 * The pipeline model of a .gitlab-ci.yml, as GitLab builds it before it
 * creates jobs: includes merged, `extends` resolved (several parents,
 * several levels, deep merge, cycles refused), `!reference` tags
 * replaced, `default:` and the legacy top-level defaults applied,
 * `inherit:` honoured, `.pre`/`.post` added around the stages, hidden
 * jobs (".name") dropped.
 *
 * The caller does:
 *  1. struct pipeline pl = PIPELINE_INIT;
 *  2. pipeline_load() (or pipeline_load_string() in tests): on failure
 *     err holds "file:line:col: job 'x': ..." and nothing is usable;
 *  3. reads pl.jobs (definition order), pl.stages, pl.variables;
 *  4. pipeline_release().
 */
#ifndef CR_LOCAL_PIPELINE_H
#define CR_LOCAL_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "local/yaml.h"
#include "util/strvec.h"

struct buf;
struct ynode;

struct pl_var {
	char *key;
	char *value;
	bool raw;		/* expand: false */
};

/* Ordered variables; setting a key again replaces its value in place. */
struct pl_vars {
	struct pl_var *v;
	size_t nr, alloc;
};

#define PL_VARS_INIT { NULL, 0, 0 }

void pl_vars_set(struct pl_vars *vars, const char *key, const char *value,
		 bool raw);
const char *pl_vars_get(const struct pl_vars *vars, const char *key);
void pl_vars_copy(struct pl_vars *dst, const struct pl_vars *src);
void pl_vars_release(struct pl_vars *vars);
/* Reads a `variables:` mapping (plain values or value/description). */
int pl_vars_parse(struct pl_vars *vars, const struct ynode *n,
		  const char *owner, struct buf *err);

struct pl_need {
	char *job;
	bool artifacts;		/* default true */
	bool optional;
	const struct ynode *matrix;	/* needs:parallel:matrix; borrowed */
	const struct ynode *node;	/* the entry, for messages; borrowed */
};

/*
 * A `needs:` list (job's or a rule's) into a new array the caller frees
 * with pl_needs_free(); the entries borrow from n.  job names the owner
 * in messages.
 */
int pl_needs_parse(const struct ynode *n, const char *job,
		   struct pl_need **needs, size_t *nr, struct buf *err);
void pl_needs_free(struct pl_need *needs, size_t nr);

struct pl_job {
	char *name;
	char *stage;
	struct ynode *node;	/* the resolved mapping; owned */
	int index;		/* definition order */
	struct strvec before_script, script, after_script;
	struct pl_vars variables;	/* job variables (with inherited globals) */
	struct pl_vars own_variables;	/* the job's own `variables:` only */
	bool inherit_all_variables;	/* inherit: variables (true or a list) */
	struct strvec inherit_variables;	/* the list, when one */
	const struct ynode *rules, *only, *except;	/* borrowed from node */
	char *when;			/* "on_success" when not set */
	int allow_failure;		/* -1: not set, 0, 1 */
	struct strvec allow_exit_codes;	/* allow_failure: exit_codes */
	bool has_needs;
	struct pl_need *needs;
	size_t nr_needs;
	bool has_dependencies;
	struct strvec dependencies;
	int parallel;			/* parallel: N; 0 for none */
	const struct ynode *matrix;	/* parallel: matrix; borrowed */
	int retry_max;
	struct strvec retry_when;	/* empty: "always" */
	struct strvec retry_exit_codes;
	long timeout_s;			/* 0: the default */
	bool interruptible;
	bool trigger;			/* a trigger job: not run locally */
	bool remote_needs;		/* needs: project: or pipeline: (skipped) */
};

struct pipeline {
	struct yfiles files;
	struct ynode *root;
	struct strvec stages;		/* with .pre first and .post last */
	struct pl_vars variables;	/* top-level variables */
	const struct ynode *workflow_rules;	/* borrowed from root */
	struct pl_job **jobs;
	size_t nr_jobs;
	/*
	 * Set by the caller before loading: a job whose keywords are wrong
	 * is left out, its name in broken and its error in broken_errors,
	 * instead of failing the load (crunner exec JOB... runs the others).
	 */
	bool keep_job_errors;
	struct strvec broken, broken_errors;
};

#define PIPELINE_INIT { YFILES_INIT, NULL, STRVEC_INIT, PL_VARS_INIT, NULL, \
	NULL, 0, false, STRVEC_INIT, STRVEC_INIT }

/*
 * include_ctx: what include:rules and variables in include paths see
 * (predefined and pipeline variables only, as in GitLab: includes come
 * before the file's own variables); NULL: every include, paths as written.
 */
struct rules_ctx;
int pipeline_load(struct pipeline *pl, const char *root_dir, const char *file,
		  const struct rules_ctx *include_ctx, struct buf *err);
/*
 * pipeline_load() that also reads remote, project, template and component
 * includes through remote (local/include_remote.h; NULL: refused).
 */
struct include_remote;
int pipeline_load_remote(struct pipeline *pl, const char *root_dir,
			 const char *file, const struct rules_ctx *include_ctx,
			 struct include_remote *remote, struct buf *err);
int pipeline_load_string(struct pipeline *pl, const char *text,
			 struct buf *err);
void pipeline_release(struct pipeline *pl);

struct pl_job *pipeline_find(const struct pipeline *pl, const char *name);

/* Whether job takes the top-level (and workflow) variable key (inherit:). */
bool pl_job_inherits_variable(const struct pl_job *job, const char *key);
/* Position of stage in pl->stages, or -1. */
int pipeline_stage_index(const struct pipeline *pl, const char *stage);

/*
 * A GitLab duration ("1h 30m", "90 minutes", "3600") in seconds; -1 when
 * it is not one.
 */
long pl_parse_duration(const char *text);

#endif
