/*
 * Private to the custom executor (custom*.c): gitlab-runner's custom
 * executor protocol, where four programs from [runners.custom] do the work:
 *
 *   config_exec   once; prints JSON on stdout (custom_config.c), stderr to
 *                 the job log;
 *   prepare_exec  once; stdout and stderr to the job log;
 *   run_exec      once per stage: run_args..., <script path>, <stage name>;
 *   cleanup_exec  always, last; stdout (debug) and stderr (warn) to
 *                 crunner's log.
 *
 * Every program runs in its own process group, in the job's private
 * temporary directory, with crunner's environment plus TMPDIR,
 * BUILD_FAILURE_EXIT_CODE, SYSTEM_FAILURE_EXIT_CODE, BUILD_EXIT_CODE_FILE,
 * JOB_RESPONSE_FILE, config_exec's job_env and every job variable as
 * CUSTOM_ENV_<key> (custom_env.c).
 */
#ifndef CR_CUSTOM_INT_H
#define CR_CUSTOM_INT_H

#include <stddef.h>

#include <stdint.h>

#include "executor/child_run.h"
#include "executor/executor.h"
#include "util/buf.h"
#include "util/proc.h"
#include "util/strvec.h"

struct loop;
struct job_payload;
struct variables;

/* Exit codes a driver uses to say what went wrong (gitlab-runner's). */
#define CUSTOM_BUILD_FAILURE_EXIT_CODE 1
#define CUSTOM_SYSTEM_FAILURE_EXIT_CODE 2

/* config_exec's stdout is read into memory: at most this much. */
#define CUSTOM_MAX_CONFIG_OUTPUT ((size_t)1 << 20)

/* gitlab-runner's defaults, seconds. */
#define CUSTOM_DEFAULT_EXEC_TIMEOUT 3600
#define CUSTOM_DEFAULT_GRACEFUL_KILL 600
#define CUSTOM_DEFAULT_FORCE_KILL 10

/* config_exec's answer; NULL (or -1) for what it did not say. */
struct custom_config {
	char *builds_dir;
	char *cache_dir;
	int builds_dir_is_shared;	/* 1, 0 or -1 */
	char *hostname;
	char *shell;
	char *driver_name;
	char *driver_version;
	struct strvec job_env;		/* "KEY=value", in document order */
};

void custom_config_init(struct custom_config *c);
void custom_config_release(struct custom_config *c);

/*
 * Parses config_exec's stdout (len bytes; no output at all is an empty
 * answer, as for gitlab-runner).  Unknown keys are ignored; a key of the
 * wrong type, an empty builds_dir or cache_dir, or text that is not one
 * JSON value is an error.  Returns 0, or CR_ERR_INVALID with one sentence
 * in err ("error while parsing config_exec's JSON output: ...").  On
 * error c is left empty.
 */
int custom_config_parse(const char *json, size_t len, struct custom_config *c,
			struct buf *err);

/*
 * gitlab-runner's line: "Using Custom executor...", "Using Custom executor
 * with driver NAME..." or "... with driver NAME VERSION...".
 */
void custom_config_banner(const struct custom_config *c, struct buf *out);

/* What every driver program gets besides crunner's environment. */
struct custom_env_options {
	const char *tmp_dir;		/* TMPDIR */
	const char *response_file;	/* JOB_RESPONSE_FILE */
	const char *exit_code_file;	/* BUILD_EXIT_CODE_FILE */
	const struct strvec *job_env;	/* config_exec's job_env; may be NULL */
	const struct variables *variables;	/* CUSTOM_ENV_*; may be NULL */
	const struct job_payload *payload;	/* CI_JOB_IMAGE/SERVICES */
};

/* Appends "NAME=value" entries to env, later ones winning. */
void custom_env_build(const struct custom_env_options *o, struct strvec *env);

/*
 * Writes the job payload's JSON to path, mode 0600 (created, never
 * followed through a symlink).  Returns 0, or CR_ERR_IO with one sentence
 * in err.
 */
int custom_env_write_response(const char *path,
			      const struct job_payload *payload,
			      struct buf *err);

/*
 * One driver program run on the loop (custom_proc.c, over child_run.h).
 * The caller does:
 *  1. custom_run_init(&run); fills run.child.proc.args (and env, dir), the
 *     fields under "set by the caller";
 *  2. custom_run_start(): starts it in its own process group; returns 0
 *     and on_done follows once, from the loop;
 *  3. may call custom_run_stop(): SIGTERM to the group, SIGKILL after
 *     graceful_ms, and after force_ms more the process is given up
 *     ("abandoned") and on_done comes anyway;
 *  4. in on_done reads the result fields, then custom_run_release().
 * custom_run_release() on a running program kills it at once, without
 * on_done.
 */
enum custom_output {
	CUSTOM_OUTPUT_TRACE,	/* through on_output */
	CUSTOM_OUTPUT_CAPTURE,	/* into captured (stdout only) */
	CUSTOM_OUTPUT_LOG,	/* crunner's log: stdout debug, stderr warn */
};

struct custom_run;
typedef void (*custom_run_done_cb)(struct custom_run *run, void *ctx);

struct custom_run {
	/*
	 * Set by the caller: child.loop, .what ("config_exec", for
	 * messages), .proc, .timeout_ms (its own deadline; 0: none),
	 * .grace_ms, .force_ms, .drain_ms.  Results, for on_done:
	 * child.timed_out, .abandoned, .reason (custom_run_stop()'s first)
	 * and child.proc's exit.
	 */
	struct child_run child;
	/* Set by the caller. */
	enum custom_output out_mode, err_mode;
	executor_output_cb on_output;
	void *output_ctx;
	custom_run_done_cb on_done;
	void *ctx;

	/* Results, for on_done. */
	struct buf captured;		/* CUSTOM_OUTPUT_CAPTURE's stdout */
	int captured_overflow;		/* more than CUSTOM_MAX_CONFIG_OUTPUT */

	/* Private. */
	struct buf line[2];		/* CUSTOM_OUTPUT_LOG: partial lines */
};

void custom_run_init(struct custom_run *run);
int custom_run_start(struct custom_run *run, struct buf *err);
/* Stops it (see above); reason is kept when it is the first.  0: timeout. */
void custom_run_stop(struct custom_run *run, int reason);
void custom_run_release(struct custom_run *run);

#endif
