/*
 * Executors: where a job's stage scripts run (shell, later docker, custom).
 * The engine generates each stage script (job/script.h); the executor
 * decides where and how it runs, and hands the output back.
 *
 * The engine does, for one job:
 *  1. ops = executor_find(name);            NULL: no such executor
 *  2. ops->prepare(&opts, &ex, err);        per-job setup (builds dir,
 *                                           private temporary dir, ...)
 *  3. for each stage, one at a time:
 *       executor_run(ex, &stage, err);      starts it and returns at once;
 *     the loop then delivers the output through stage.on_output and, exactly
 *     once, the end through stage.on_exit;
 *  4. executor_cancel(ex, CR_ERR_CANCELED or CR_ERR_TIMEOUT) at any time
 *     (the job was cancelled, or a deadline passed): the stage is stopped
 *     gracefully, then forcibly, and on_exit reports the reason;
 *  5. executor_cleanup(ex): frees everything; a stage still running is
 *     killed at once and its on_exit is never called.
 *
 * Everything runs on opts.loop's thread.  Callbacks are never called from
 * inside executor_run(), executor_cancel() or executor_cleanup().
 *
 * Hooks (optional, ops->hook; the custom executor): a backend that runs
 * programs of its own around the stages gets, from the engine:
 *  2a. executor_hook(ex, EXECUTOR_HOOK_CONFIG, ...) right after prepare;
 *      once it ended well, ops->settings(ex) says what it decided (builds
 *      dir, shell, ...) and the engine rebuilds the job's directories and
 *      variables from it before anything else runs;
 *  2b. executor_hook(ex, EXECUTOR_HOOK_PREPARE, ...);
 *  3.  the stages, as above (skipped when a hook failed);
 *  3a. executor_hook(ex, EXECUTOR_HOOK_CLEANUP, ...) always, also after a
 *      failure, a timeout or a cancel, before the job's result is final.
 * A hook runs like a stage: it starts and returns at once, output comes
 * through on_output (CLEANUP's goes to crunner's log instead, as
 * gitlab-runner does) and the end through on_exit, exactly once;
 * executor_cancel() stops it as it stops a stage.
 */
#ifndef CR_EXECUTOR_H
#define CR_EXECUTOR_H

#include <stddef.h>

#include "job/script.h"

struct buf;
struct job_payload;
struct loop;
struct executor;
struct host_cache;
struct ig_connect_info;
struct runner_config;
struct run_as;
struct variables;

/* What the engine tells an executor about the job; borrowed by prepare. */
struct executor_options {
	struct loop *loop;	/* the loop the job runs on */
	/* builds_dir from config.toml, created if missing; NULL: none. */
	const char *builds_dir;
	/* Where the per-job temporary dir goes; NULL: $TMPDIR or /tmp. */
	const char *tmp_dir;
	enum script_shell shell;	/* the scripts' shell */
	/* The shell program; NULL: "bash" or "sh", looked up in PATH. */
	const char *shell_path;
	/*
	 * The scripts' process environment ("NAME=value", NULL-terminated),
	 * before the script's own exports; NULL: crunner's environment, as
	 * gitlab-runner's shell executor does.
	 */
	const char *const *environ;
	/* SIGTERM to SIGKILL on cancel, ms; 0: EXECUTOR_KILL_GRACE_MS. */
	long kill_grace_ms;
	/*
	 * After the script's shell exits, its process group is killed and the
	 * output read until end of file; a process that left the group but
	 * holds the output open is given this long, ms; 0: EXECUTOR_DRAIN_MS.
	 */
	long drain_ms;
	/*
	 * For backends that hand the job to programs of their own (custom);
	 * borrowed until cleanup, NULL when the engine has none.
	 */
	const struct runner_config *runner;	/* [runners.custom], ... */
	const struct job_payload *payload;	/* its JSON: JOB_RESPONSE_FILE */
	/*
	 * The job's variables (CUSTOM_ENV_*).  Read again whenever a program
	 * starts: the engine rebuilds them in place after the CONFIG hook.
	 */
	const struct variables *variables;
	/*
	 * GIT_STRATEGY as the engine resolved it (unset: fetch when GitLab
	 * allows it): "clone", "fetch", "none" or "empty"; NULL: unknown.
	 */
	const char *git_strategy;
	const char *system_id;	/* the runner's; NULL: none */
	/*
	 * The user the scripts run as (shell: config.toml's `user`, `run
	 * --user`); NULL: crunner's own.  Borrowed until cleanup.
	 */
	const struct run_as *user;
	/*
	 * The instance an autoscaler acquired for this job ([runners.autoscaler]:
	 * the instance and docker-autoscaler executors): its address and SSH
	 * credentials (src/autoscale/instance_group.h).  The stages (instance)
	 * or the Docker API (docker-autoscaler) are reached over SSH there.
	 * NULL: no instance.  Borrowed until cleanup.
	 */
	const struct ig_connect_info *instance;
	/*
	 * With instance: the acquisition's slot number on it (0..capacity-1,
	 * taskscaler_slot()); [[runners]] use_slot_cgroups names the slot's
	 * cgroup after it (config_slot_cgroup()).
	 */
	int instance_slot;
	/*
	 * Host facts kept between this process's jobs (host_cache.h): when
	 * stale private dirs were last swept, where the shell was found.
	 * NULL: sweep and look up for every job.  Borrowed until cleanup.
	 */
	struct host_cache *host_cache;
};

/* The hooks around the stages; see the top of this file. */
enum executor_hook {
	EXECUTOR_HOOK_CONFIG,	/* custom: config_exec */
	EXECUTOR_HOOK_PREPARE,	/* custom: prepare_exec */
	EXECUTOR_HOOK_CLEANUP,	/* custom: cleanup_exec */
};

/*
 * What the CONFIG hook decided (custom: config_exec's JSON).  NULL, or -1
 * for builds_dir_is_shared, keeps the engine's own choice.  Owned by the
 * executor, valid until cleanup.
 */
struct executor_settings {
	const char *builds_dir;
	const char *cache_dir;
	int builds_dir_is_shared;	/* 1, 0, or -1 */
	const char *hostname;		/* "Running on <hostname>..." */
	/*
	 * The project dir, its temp dir and the file variables are not on
	 * this host (docker's build volume): the backend's own stage scripts
	 * make them where the job runs, crunner does not.  0 (the default):
	 * crunner makes them here.
	 */
	int files_elsewhere;
	const char *shell;		/* the scripts' shell, as in config.toml */
	/* The executor's line in the trace: "Using Custom executor...". */
	const char *banner;
};

#define EXECUTOR_KILL_GRACE_MS 10000L
#define EXECUTOR_DRAIN_MS 2000L

/*
 * Output of a stage: bytes as they come, stdout and stderr separately
 * (is_stderr).  It may call executor_cancel(), not executor_cleanup().
 */
typedef void (*executor_output_cb)(void *ctx, int is_stderr, const char *data,
				   size_t len);
/*
 * End of a stage.  exit_status is the script's exit code, or 128 + signal
 * (-1 when it never got one).  err is 0, or the reason given to
 * executor_cancel() (CR_ERR_CANCELED, CR_ERR_TIMEOUT) when the stage was
 * stopped on request, or another CR_ERR_* for a system failure.  The
 * executor is idle again: the callback may run the next stage or call
 * executor_cleanup().
 */
typedef void (*executor_exit_cb)(void *ctx, int exit_status, int err);

struct executor_stage {
	/* The stage name ("step_script", ...), used to name the script file. */
	const char *name;
	const char *script;	/* the whole script; copied by run */
	size_t script_len;
	executor_output_cb on_output;
	executor_exit_cb on_exit;
	void *ctx;		/* given to both callbacks */
	/*
	 * Optional (NULL: none), the caller's until on_exit: when on_exit
	 * reports a system failure (err != 0), the backend may have put one
	 * sentence here saying why ("unknown Custom executor executable exit
	 * code 3").
	 */
	struct buf *error;
};

struct executor_ops {
	const char *name;	/* "shell", as in config.toml */
	/*
	 * Sets up one job.  On success *out is the job's executor, freed by
	 * cleanup.  Returns 0, or a negative CR_ERR_* with one sentence in err.
	 */
	int (*prepare)(const struct executor_options *opts,
		       struct executor **out, struct buf *err);
	/*
	 * Starts a stage.  Returns 0 (on_exit will be called once), or a
	 * negative CR_ERR_* with one sentence in err (no callback will be
	 * called), e.g. CR_ERR_NOT_FOUND when the shell does not exist or
	 * CR_ERR_INTERNAL when a stage is already running.
	 */
	int (*run)(struct executor *ex, const struct executor_stage *stage,
		   struct buf *err);
	/*
	 * Stops the running stage: SIGTERM to its processes, SIGKILL after the
	 * grace period.  The first reason is kept.  Does nothing when idle.
	 */
	void (*cancel)(struct executor *ex, int reason);
	/* Kills what still runs, removes temporary files, frees ex.  NULL ok. */
	void (*cleanup)(struct executor *ex);
	/*
	 * Optional (NULL: no hooks).  Starts hook which like run() starts a
	 * stage (stage->script and stage->name are unused): returns 0 and
	 * on_exit follows once, or a negative CR_ERR_* with one sentence in
	 * err.  A hook with nothing to run (no prepare_exec configured) ends
	 * at once with exit status 0, still through on_exit.
	 */
	int (*hook)(struct executor *ex, enum executor_hook which,
		    const struct executor_stage *stage, struct buf *err);
	/* Optional: what the CONFIG hook decided; see executor_settings. */
	const struct executor_settings *(*settings)(struct executor *ex);
	/*
	 * The builds dir is the job's own unless the CONFIG hook says it is
	 * shared (custom): the project dir is <builds_dir>/<project path>
	 * rather than <builds_dir>/<short token>/<n>/<project path>.
	 */
	int private_builds_dir;
	/*
	 * The stages crunner otherwise does itself on this host
	 * (restore_cache, download_artifacts, archive_cache*,
	 * upload_artifacts_on_*, cleanup_file_variables) are scripts run
	 * through run() like any other, as gitlab-runner's custom executor
	 * does, because the job's files may not be on this host at all (a
	 * driver's VM).  Their scripts cd to the project dir and run
	 * "$CRUNNER_HELPER_BIN artifacts-helper ..." (default: the path of
	 * the running crunner binary, which the environment must then have
	 * too), which archives, extracts, and for artifacts talks to GitLab
	 * itself with the URL and job token from the script's exported
	 * variables; cleanup_file_variables removes the file variables.
	 * Artifacts stay native when the job source's store cannot be
	 * reached by a helper (engine.h, helper_env: e.g. crunner exec).
	 */
	int stage_scripts_everywhere;
	/*
	 * A failed script is "exit code N" in the trace ("ERROR: Job failed:
	 * exit code 1"), as gitlab-runner's docker executor words it; 0: "exit
	 * status N", its shell and custom executors' (Go's exec.ExitError);
	 * EXECUTOR_WORDING_SSH: "Process exited with status N", its ssh
	 * executor's (Go's ssh.ExitError).
	 */
	int exit_code_wording;
	/*
	 * The prepare_script stage's one line ("Running on <host>...") is
	 * written by the engine rather than echoed by a shell: the shell
	 * executor, whose shell runs on this host, where a shell started
	 * only for that line is a second process per job.  gitlab-runner
	 * runs it as a script; the trace is the same.
	 */
	int native_prepare;
};

#define EXECUTOR_WORDING_SSH 2

/* Every executor starts with this; backends extend it. */
struct executor {
	const struct executor_ops *ops;
};

extern const struct executor_ops shell_executor;
extern const struct executor_ops custom_executor;
extern const struct executor_ops docker_executor;
extern const struct executor_ops kubernetes_executor;
extern const struct executor_ops ssh_executor;
extern const struct executor_ops docker_autoscaler_executor;
extern const struct executor_ops instance_executor;

/* The executor called name, or NULL. */
const struct executor_ops *executor_find(const char *name);

static inline int executor_run(struct executor *ex,
			       const struct executor_stage *stage,
			       struct buf *err)
{
	return ex->ops->run(ex, stage, err);
}

static inline void executor_cancel(struct executor *ex, int reason)
{
	ex->ops->cancel(ex, reason);
}

static inline int executor_hook(struct executor *ex,
				enum executor_hook which,
				const struct executor_stage *stage,
				struct buf *err)
{
	return ex->ops->hook(ex, which, stage, err);
}

static inline void executor_cleanup(struct executor *ex)
{
	if (ex)
		ex->ops->cleanup(ex);
}

#endif
