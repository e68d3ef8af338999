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
#include "util/proc.h"

struct cache_plan;
struct job_stage;
struct offload;

/*
 * Builds a stage's script into out.  Returns 0 and leaves out empty when
 * the stage has nothing to do (it is then skipped, without a section).
 */
typedef int (*job_stage_build_fn)(struct job *job,
				  const struct job_stage *stage,
				  struct buf *out, struct buf *err);

/*
 * A native stage runs inside crunner instead of as a script: has_work
 * says whether it has anything to do (no: skipped without a section),
 * start begins the work, which ends with job_native_done().
 */
typedef bool (*job_stage_has_work_fn)(struct job *job,
				      const struct job_stage *stage);
typedef void (*job_stage_start_fn)(struct job *job,
				   const struct job_stage *stage);

enum job_stage_phase {
	PHASE_MAIN,		/* prepare_script, get_sources, steps */
	PHASE_AFTER,		/* after_script */
	PHASE_POST,		/* archive_cache*, upload_artifacts_on_* */
	PHASE_CLEANUP,		/* always runs */
};

struct job_stage {
	char *name;		/* section name: "step_script" */
	char *description;	/* section header */
	enum job_stage_phase phase;
	job_stage_build_fn build;	/* script stages */
	job_stage_has_work_fn has_work;	/* native stages */
	job_stage_start_fn start;
	/* Native stages that may run as a script instead (build): when
	 * this says so (executor.h, stage_scripts_everywhere). */
	bool (*as_script)(const struct job *job);
	bool on_failure;	/* PHASE_POST: the variant for a failed job */
	size_t step;		/* index into payload steps, for step stages */
	/* A failure here is in the user's script (steps), not preparation. */
	bool is_user_script;
	/*
	 * The variable that says how often the stage is tried (1-10, spec
	 * 8.2: GET_SOURCES_ATTEMPTS, ...), NULL: once.  A failed try is
	 * retried after a back-off (engine_retry.c).
	 */
	const char *attempts_var;
	/* Runs only before the second try of the stage after it
	 * (clear_worktree, before get_sources). */
	bool before_retry;
	/*
	 * Work before the stage that must not block the loop (the cache
	 * stages' URL signing): returns 1 when it went off the loop thread,
	 * job_stage_prepared() then runs the stage; 0: run it now.
	 */
	int (*prepare)(struct job *job, const struct job_stage *stage);
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
	/* resolve_secrets (stage_secrets.c): the run under way, or NULL;
	 * the variables it resolved (block B of the job's variables). */
	struct job_secrets_run *secrets_run;
	struct variables secret_vars;
	/* job_env_setup()'s result at the start (a refused GIT_CLONE_PATH:
	 * CR_ERR_CONFIG), reported when the executor is prepared. */
	int env_r;
	struct buf env_err;
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
	/* When the open trace section began, loop ms (engine_stage_time.c). */
	uint64_t section_started_ms;
	int64_t stage_timeout_ms;
	bool stage_timed_out;
	/* Stage retries (attempts_var): tries failed so far of the stage
	 * that ran last, the back-off's timer, a before_retry stage due. */
	unsigned stage_failures;
	uint64_t retry_timer;
	bool before_retry_due;
	/* Preparation retries: failed tries, the CLEANUP hook between tries
	 * under way, the 3 s pause's timer. */
	unsigned prepare_failures;
	bool prepare_retry_due;
	uint64_t prepare_retry_timer;

	/* prepare_timeout / get_sources_timeout (engine_deadline.c). */
	enum job_deadline {
		JOB_DEADLINE_NONE,
		JOB_DEADLINE_PREPARE,
		JOB_DEADLINE_GET_SOURCES,
	} deadline;		/* the one running */
	uint64_t deadline_timer;
	int64_t deadline_ms;
	bool deadline_sources_started;

	/* Outcome so far. */
	bool failed;
	bool prepare_failed;	/* a main stage before the steps failed */
	const char *failure_reason;
	int exit_code;
	struct buf failure_text;	/* the footer's "<error>" */
	/* Where the first failure happened: NULL before any stage started
	 * (executor preparation, its hooks), else a stage of stages. */
	const struct job_stage *failure_stage;
	bool timed_out;		/* the job's own deadline passed */
	bool script_timed_out;	/* RUNNER_SCRIPT_TIMEOUT passed */
	bool canceled, aborted, interrupted;
	bool finished;
	/* PHASE_POST: decided once, at the first such stage. */
	bool post_decided, post_on_failure;

	/* Executor hooks (executor.h; the custom executor). */
	int hook;		/* the hook running, -1: none */
	bool hooks_started, cleanup_hook_done;
	bool hook_failed;	/* config or prepare hook: no stage scripts */
	struct buf stage_error;	/* a backend's reason for a system failure */
	/* From the executor's settings (config_exec), NULL: the defaults. */
	char *exec_builds_dir;
	char *cache_dir;	/* from the executor (custom config_exec), or NULL */
	char *hostname;
	/* <builds_dir>/<path> instead of <builds_dir>/<token>/<n>/<path>. */
	bool builds_dir_private;
	/* The job's dirs and file variables are not on this host: the
	 * executor's scripts make them (executor_settings.files_elsewhere). */
	bool files_elsewhere;
	/* The user the job runs as (settings.user resolved); NULL: ours. */
	struct run_as *run_as;

	/* A stage's prepare under way (struct job_stage.prepare), for the
	 * stage taken last: the cache URLs being signed off the loop thread,
	 * the plan they make for the stage (stage_cache.c), a timer going on
	 * without the stage after a cancel or timeout. */
	struct offload *cache_offload;
	struct cache_plan *cache_plan;
	uint64_t prepare_skip_timer;

	/* The native stage running (stage_artifacts.c, stage_cache.c). */
	struct job_native {
		struct proc helper;
		bool helper_running, helper_eof, helper_exited;
		void (*helper_done)(struct job *job, int exit_status);
		struct job_store_op *op;	/* a store call under way */
		uint64_t done_timer;
		int done_status, done_err;
		size_t item;		/* artifact, dependency or cache index */
		size_t key;		/* cache: which of keys is tried */
		unsigned attempt;
		uint64_t wait_timer;	/* back-off before the next try */
		struct strvec keys;	/* cache: key then fallback keys */
		char *tmp_path;		/* archive file between steps */
		/* Environment changes ("NAME=value") for the next helper only;
		 * job_helper_start() consumes them. */
		struct strvec helper_env;
		int status;		/* the stage's exit status so far */
	} native;
};

/* The git config file get_sources includes, in tmp_project_dir. */
#define JOB_GIT_CREDENTIALS "git-credentials.conf"
/*
 * FF_GIT_URLS_WITHOUT_TOKENS: the file GIT_CONFIG_GLOBAL names in every
 * stage, in tmp_project_dir (gitlab-runner's seed file, same name): it
 * includes the user's ~/.gitconfig and JOB_GIT_CREDENTIALS, and takes the
 * job's "git config --global" writes (safe.directory among them).
 */
#define JOB_GIT_CONFIG_GLOBAL ".glr.gconf"

/*
 * engine_env.c: directories, variables, file variables.  A GIT_CLONE_PATH
 * the runner refuses is CR_ERR_CONFIG with the reason in err; the job
 * then has the default dirs and its variables all the same.
 */
/* CI_SERVER_TLS_CA_FILE, _CERT_FILE, _KEY_FILE (engine_tls.c). */
void job_add_tls_variables(const struct job *job, struct variables *all);
int job_env_setup(struct job *job, struct buf *err);

/*
 * log_images.c: with FF_LOG_IMAGES_CONFIGURED_FOR_JOB, the job's image
 * and service images in the runner's log, as gitlab-runner's.
 */
void job_log_images(const struct job *job);
/* Directories and variables again, after the executor's CONFIG hook. */
int job_env_rebuild(struct job *job, struct buf *err);
/* Writes the file-type variables (mode 0600); see engine_env.c. */
int job_env_write_files(struct job *job, struct buf *err);
/*
 * Removes the file variables, the git credentials include
 * (JOB_GIT_CREDENTIALS) and JOB_GIT_CONFIG_GLOBAL from the job's
 * temporary dir, when they are on this machine.
 */
void job_env_remove_files(struct job *job);
/* The exported variables as script_var entries (borrowed from job->vars). */
struct script_var *job_env_script_vars(const struct job *job, size_t *nr);

/* engine.c: ends the running native stage (from the loop, later). */
void job_native_done(struct job *job, int exit_status, int err);
/*
 * A build stage's trace section (engine_stage_time.c): the markers, and
 * with FF_EXPORT_HIGH_CARDINALITY_METRICS the stage's duration to
 * settings.on_stage_duration when it ends.
 */
void job_section_start(struct job *job, const char *name, const char *header);
void job_section_end(struct job *job, const char *name);
/* engine.c: records the job's first failure; later ones are ignored. */
void job_set_failure(struct job *job, const char *reason, int exit_code,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* engine.c: starts the next wanted stage, or finishes the job. */
void job_run_next_stage(struct job *job);
/*
 * engine.c: prepare_executor and what follows it, once the secrets are
 * resolved (or at once for a job without secrets); from the loop.
 */
void job_prepare_executor(struct job *job);

/*
 * stage_secrets.c: resolve_secrets, before the executor is prepared (spec
 * 8.1).  start runs it (from the loop); its end calls
 * job_prepare_executor() or, on failure, job_finish().  stop cancels what
 * is under way (a cancel: the job fails as set already); free releases
 * it (job_free).
 */
void job_secrets_start(struct job *job);
void job_secrets_stop(struct job *job);
void job_secrets_free(struct job *job);

/* engine.c: the CLEANUP hook if due, else the result to the job source. */
void job_finish(struct job *job);
/* engine.c: a stage's or hook's output into the trace (executor_output_cb). */
void job_stage_output(void *ctx, int is_stderr, const char *data, size_t len);

/* engine_plan.c: the stage list (job->stages), in gitlab-runner's order. */
void job_plan_stages(struct job *job);
/* engine_plan.c: whether the stage runs inside crunner, not as a script. */
bool job_stage_native(const struct job *job, const struct job_stage *s);
/*
 * engine_plan.c: the enum script_flags of the job's user scripts, from its
 * variables and the runner's feature flags (FF_ENABLE_BASH_EXIT_CODE_CHECK,
 * CI_DEBUG_TRACE).
 */
unsigned job_script_flags(const struct job *job);

/*
 * engine_retry.c: whether the stage that just failed is tried again; if so
 * the back-off is under way and the job moves on by itself (the caller
 * returns).  Resets the count otherwise.
 */
bool job_retry_stage(struct job *job, const struct job_stage *stage);
/*
 * engine_retry.c: whether a CONFIG or PREPARE hook that failed with err
 * (a system failure; not a cancel, a timeout or a build failure) is tried
 * again: then the CLEANUP hook runs now, and once it ended
 * job_retry_prepare_wait() starts the pause before CONFIG again.
 */
bool job_retry_prepare(struct job *job, int err, const char *why);
void job_retry_prepare_wait(struct job *job);
/* engine_retry.c: a cancel or the deadline ends a back-off at once. */
void job_retry_hurry(struct job *job);

/*
 * engine_deadline.c: prepare_timeout from the job's start, then
 * get_sources_timeout from the first get_sources try; each stage is
 * entered before it runs.  stop cancels the one running.
 */
void job_deadline_start(struct job *job);
void job_deadline_enter(struct job *job, const struct job_stage *stage);
void job_deadline_stop(struct job *job);
/* A deadline passed: the running stage, a back-off, a setup hook stop. */
void job_stop_for_timeout(struct job *job);
/* engine_retry.c: how often a stage is tried: the variable var (1-10),
 * 1 when unset or var is NULL. */
unsigned job_attempts(const struct job *job, const char *var);
/*
 * stage_artifacts.c: "--compression-level" and the value of var
 * (ARTIFACT_COMPRESSION_LEVEL, CACHE_COMPRESSION_LEVEL) onto a helper
 * command line, when var is set and FF_USE_FASTZIP is on.
 */
void job_push_compression_level(const struct job *job, const char *var,
				struct strvec *args);
/* engine_retry.c: the back-off before try number failures + 1, ms
 * (util/backoff.h); 0 with FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY=false. */
long job_retry_delay_ms(const struct job *job, unsigned failures);

/* engine_hooks.c: starts an executor hook (executor.h); its end moves the
 * job on (next hook, the stages, or the result). */
void job_start_hook(struct job *job, enum executor_hook which);

/*
 * engine_helper.c: runs crunner's artifacts-helper verb with args (after
 * the verb) in dir, its output into the job's trace; done gets the exit
 * status.  Returns 0, or -1 after writing an error line to the trace.
 */
int job_helper_start(struct job *job, const struct strvec *args,
		     const char *dir,
		     void (*done)(struct job *job, int exit_status));
/*
 * Stage scripts that run the helper where the job runs (executor.h,
 * stage_scripts_everywhere).  A runner line goes into the trace now (body
 * NULL: native stages) or as an echo into the script body.
 */
void job_say(struct job *job, struct buf *body, enum script_echo_kind kind,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The body's start: exports env ("NAME=value"; secrets never reach the
 * trace: no xtrace), cd to the project dir, picks the helper program. */
int job_helper_script_begin(struct job *job, struct buf *body,
			    const struct strvec *env);
/* "$_cr_helper" artifacts-helper args..., quoted, without a check. */
int job_helper_script_command(struct job *job, struct buf *body,
			      const struct strvec *args);
/* Wraps body into the whole script (out); 0, or CR_ERR_* with err. */
int job_helper_script_end(struct job *job, const char *what,
			  struct buf *body, struct buf *out, struct buf *err);
/* Whether this stage runs as a script through the executor. */
bool job_stage_scripts(const struct job *job);
/* cleanup_file_variables as a script (rm of the file variables). */
int job_cleanup_script(struct job *job, const struct job_stage *stage,
		       struct buf *out, struct buf *err);
/*
 * stage_sources.c: FF_ENABLE_JOB_CLEANUP's commands (none without the flag)
 * appended to a cleanup stage's body.
 */
int job_cleanup_build_dir(const struct job *job, struct buf *body);

/* Stops what a native stage has under way (helper, store call, timer). */
void job_native_stop(struct job *job);
/* Whether a stage's when (on_success, on_failure, always) fits. */
bool job_when_matches(const char *when, bool on_failure);

/* stage_artifacts.c */
bool job_download_has_work(struct job *job, const struct job_stage *stage);
void job_download_start(struct job *job, const struct job_stage *stage);
bool job_upload_has_work(struct job *job, const struct job_stage *stage);
void job_upload_start(struct job *job, const struct job_stage *stage);

/* The same stages as scripts (stage_scripts_everywhere); artifacts only
 * when the store has helper_env. */
bool job_artifact_scripts(const struct job *job);
int job_download_script(struct job *job, const struct job_stage *stage,
			struct buf *out, struct buf *err);
int job_upload_script(struct job *job, const struct job_stage *stage,
		      struct buf *out, struct buf *err);
int job_restore_cache_script(struct job *job, const struct job_stage *stage,
			     struct buf *out, struct buf *err);
int job_archive_cache_script(struct job *job, const struct job_stage *stage,
			     struct buf *out, struct buf *err);

/* stage_cache.c */
bool job_restore_cache_has_work(struct job *job,
				const struct job_stage *stage);
void job_restore_cache_start(struct job *job, const struct job_stage *stage);
bool job_archive_cache_has_work(struct job *job,
				const struct job_stage *stage);
void job_archive_cache_start(struct job *job, const struct job_stage *stage);
/*
 * A cache stage's prepare: with a distributed cache, every URL the stage
 * needs is signed off the loop thread (archive/cache_plan.h), then
 * job_stage_prepared().  job_cache_prepare_cancel(): true when signing
 * was under way (now dropped: no callback); job_cache_plan_drop() frees
 * the plan a stage used.
 */
int job_cache_prepare(struct job *job, const struct job_stage *stage);
bool job_cache_prepare_cancel(struct job *job);
void job_cache_plan_drop(struct job *job);
/* engine.c: the prepare of the stage taken last is done: runs it. */
void job_stage_prepared(struct job *job);

/* stage_sources.c */
/*
 * GIT_STRATEGY as gitlab-runner resolves it: the variable when it names a
 * strategy, else fetch when GitLab allows it (allow_git_fetch), else clone.
 * A static string: "clone", "fetch", "none" or "empty".
 */
const char *job_git_strategy(const struct job *job);

/* git_cleanup.c: clean_git_config, as gitlab-runner decides it. */
bool job_git_config_cleanup_wanted(const struct job *job);
/*
 * Appends the POSIX shell lines that remove the worktree's .git/config
 * and .git/hooks (and the submodules' under .git/modules when
 * GIT_SUBMODULE_STRATEGY is normal or recursive); nothing when not wanted.
 */
int job_git_config_cleanup(const struct job *job, struct buf *body);
int job_stage_get_sources(struct job *job, const struct job_stage *stage,
			  struct buf *out, struct buf *err);
/* get_sources without git on this host (none, empty) runs natively. */
bool job_get_sources_as_script(const struct job *job);
bool job_get_sources_has_work(struct job *job, const struct job_stage *stage);
void job_get_sources_start(struct job *job, const struct job_stage *stage);
/* Before get_sources' second try: tracked and untracked files removed. */
int job_stage_clear_worktree(struct job *job, const struct job_stage *stage,
			     struct buf *out, struct buf *err);

#endif
