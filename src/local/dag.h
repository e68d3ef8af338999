/*
 * The jobs a local pipeline gets and the order they may run in:
 * workflow:rules, rules/only/except per job, parallel: N and
 * parallel: matrix expanded into instances, needs (a DAG, with optional
 * and artifacts: false) or stage order, dependencies checked, and the
 * selection of `crunner exec JOB...` (--needs adds what those need).
 *
 * The caller does:
 *  1. fills struct dag_options (the variables the rules see, the
 *     selection);
 *  2. dag_build(): on failure err has one sentence and nothing runs;
 *     d->workflow_skipped says workflow:rules created no pipeline;
 *  3. reads d->jobs (in stage, then definition order) and their deps;
 *  4. dag_release().
 */
#ifndef CR_LOCAL_DAG_H
#define CR_LOCAL_DAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "local/pipeline.h"
#include "local/rules.h"

struct buf;

enum lj_state {
	LJ_PENDING,
	LJ_RUNNING,
	LJ_SUCCESS,
	LJ_WARNED,	/* failed, failure allowed */
	LJ_FAILED,
	LJ_SKIPPED,	/* not run: what it depends on decided so */
	LJ_MANUAL,	/* a manual job nobody asked for */
	LJ_CANCELED,
};

struct local_job {
	char *name;			/* instance name: "test 1/2", "t: [a]" */
	const struct pl_job *def;
	int stage_idx;
	char *when;			/* effective when */
	bool allow_failure;
	struct pl_vars variables;	/* job + matrix + rules variables */
	struct pl_vars predef;		/* CI_JOB_NAME, CI_NODE_INDEX... */
	int node_index, node_total;	/* parallel; 0 when not parallel */
	size_t *deps;			/* indices into dag.jobs */
	size_t nr_deps;
	bool deps_from_needs;
	bool *dep_no_artifacts;		/* needs: artifacts: false, per dep */
	bool run_manual;		/* asked for with --manual or by name */
	bool interruptible;		/* the job's, or its rule's */
	bool allow_exit_codes;		/* allow_failure: exit_codes applies
					 * (a rule's allow_failure drops it) */
	const struct pl_need *needs;	/* the rule's needs: when one, else the job's */
	size_t nr_needs;
	bool has_needs;
	bool trigger;			/* a trigger: job, never run here */
	struct pl_need *rule_needs;	/* owned: the matching rule's needs: */

	/* Filled by the scheduler. */
	enum lj_state state;
	bool blocked;			/* skipped behind a blocking manual job */
	int exit_code;
	int attempts;
	int slot;
	uint64_t start_ms, duration_ms;
	char failure_reason[48];
	/*
	 * Where a failed job failed, for the summary: "pre_script" (as
	 * gitlab-ci-local says) when in before_script or script, else the
	 * engine's stage: "prepare_executor", "get_sources", ...
	 */
	char failure_stage[48];
	char coverage[32];		/* coverage: regex's number; "" none */
};

struct dag {
	struct local_job *jobs;
	size_t nr;
	bool workflow_skipped;
	bool edge_only;		/* rules left only .pre/.post jobs: no pipeline */
	struct pl_vars workflow_variables;
	/*
	 * The trigger: jobs of the pipeline (after rules): part of it, as
	 * in GitLab, but never run here (downstream pipelines need GitLab).
	 */
	struct strvec triggers;
	/*
	 * With job names given: the errors of jobs that will not run and
	 * that no job which will run needs (the caller prints them).
	 */
	struct strvec warnings;
};

#define DAG_INIT { NULL, 0, false, false, PL_VARS_INIT, STRVEC_INIT, STRVEC_INIT }

struct dag_options {
	/* exists:, changes:, ref and source for rules. */
	struct rules_ctx rules;
	const struct pl_vars *predefined;	/* pipeline-level CI_* */
	const struct pl_vars *overrides;	/* --variable */
	const char *const *names;	/* JOB arguments; NULL: every job */
	size_t nr_names;
	bool with_needs;		/* --needs */
	const char *const *manual;	/* --manual JOB */
	size_t nr_manual;
};

int dag_build(struct dag *d, const struct pipeline *pl,
	      const struct dag_options *o, struct buf *err);
void dag_release(struct dag *d);

/* Index of the instance named name, or -1. */
long dag_find(const struct dag *d, const char *name);

/* A variable as a job instance sees it (overrides, job, CI_JOB_*, pipeline). */
const char *dag_job_variable(const struct dag_options *o,
			     const struct local_job *j, const char *key);

#endif
