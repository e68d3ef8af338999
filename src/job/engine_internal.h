/* Private to the job engine (engine*.c, stage_*.c). */
#ifndef CR_ENGINE_INTERNAL_H
#define CR_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "executor/executor.h"
#include "job/engine.h"
#include "job/script.h"
#include "job/variables.h"
#include "util/buf.h"

struct job_stage;

/*
 * Builds a stage's script into out.  Returns 0 and leaves out empty when
 * the stage has nothing to do (it is then skipped, without a section).
 */
typedef int (*job_stage_build_fn)(struct job *job,
				  const struct job_stage *stage,
				  struct buf *out, struct buf *err);

enum job_stage_phase {
	PHASE_MAIN,		/* prepare_script, get_sources, steps */
	PHASE_AFTER,		/* after_script */
	PHASE_CLEANUP,		/* always runs */
};

struct job_stage {
	char *name;		/* section name: "step_script" */
	char *description;	/* section header */
	enum job_stage_phase phase;
	job_stage_build_fn build;
	size_t step;		/* index into payload steps, for step stages */
	/* A failure here is in the user's script (steps), not preparation. */
	bool is_user_script;
};

struct job {
	struct loop *loop;
	const struct job_payload *payload;
	struct job_settings settings;
	struct trace_sink *sink;
	struct job_callbacks cb;

	const struct executor_ops *ops;
	struct executor *ex;
	enum script_shell shell;
	char short_token[16];

	/* Directories, absolute. */
	char *builds_dir;
	char *project_dir;
	char *tmp_project_dir;	/* RUNNER_TEMP_PROJECT_DIR */
	/* Every variable the job sees, expanded, one per key. */
	struct variables vars;
	/* For each entry of vars: the file a VAR_FILE value is written to,
	 * else NULL. */
	char **var_paths;

	struct job_stage *stages;
	size_t nr_stages, next_stage;
	int running;		/* index of the stage running, -1: none */

	uint64_t start_timer;	/* defers the first stage to the loop */
	uint64_t timeout_timer;
	int64_t timeout_s;
	/* RUNNER_SCRIPT_TIMEOUT / RUNNER_AFTER_SCRIPT_TIMEOUT of one stage. */
	uint64_t stage_timer;
	int64_t stage_timeout_ms;
	bool stage_timed_out;

	/* Outcome so far. */
	bool failed;
	bool prepare_failed;	/* a main stage before the steps failed */
	const char *failure_reason;
	int exit_code;
	struct buf failure_text;	/* the footer's "<error>" */
	bool timed_out;		/* the job's own deadline passed */
	bool script_timed_out;	/* RUNNER_SCRIPT_TIMEOUT passed */
	bool canceled, aborted, interrupted;
	bool finished;
};

/* engine_env.c: directories, variables, file variables. */
int job_env_setup(struct job *job, struct buf *err);
/* Writes the file-type variables (mode 0600); see engine_env.c. */
int job_env_write_files(struct job *job, struct buf *err);
void job_env_remove_files(struct job *job);
/* The exported variables as script_var entries (borrowed from job->vars). */
struct script_var *job_env_script_vars(const struct job *job, size_t *nr);

/* stage_sources.c */
int job_stage_get_sources(struct job *job, const struct job_stage *stage,
			  struct buf *out, struct buf *err);

#endif
