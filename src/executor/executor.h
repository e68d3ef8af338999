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
 */
#ifndef CR_EXECUTOR_H
#define CR_EXECUTOR_H

#include <stddef.h>

#include "job/script.h"

struct buf;
struct loop;
struct executor;

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
};

/* Every executor starts with this; backends extend it. */
struct executor {
	const struct executor_ops *ops;
};

extern const struct executor_ops shell_executor;

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

static inline void executor_cleanup(struct executor *ex)
{
	if (ex)
		ex->ops->cleanup(ex);
}

#endif
