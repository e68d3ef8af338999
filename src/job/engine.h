/*
 * The job engine: one job payload in, stages run through an executor,
 * output through the trace sink, one result out.  It never knows whether
 * the payload came from GitLab or from a local pipeline.
 *
 * The caller (a job source) does:
 *  1. builds a struct job_settings (the [[runners]] entry and what the
 *     manager decided: system id, concurrency slot);
 *  2. creates the trace sink whose consumer sends or prints the log;
 *  3. job_start(): the job runs on the loop from here on; the payload,
 *     settings and sink are borrowed until on_finished returns;
 *  4. may call job_cancel() at any time (GitLab said canceling/canceled, or
 *     the runner is shutting down);
 *  5. receives on_finished exactly once, from the loop, with the result;
 *     the sink has been finished (trace_sink_finish()) by then;
 *  6. job_free() (inside on_finished is fine).
 */
#ifndef CR_ENGINE_H
#define CR_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

struct buf;
struct job;
struct job_artifact;
struct job_dependency;
struct ig_connect_info;
struct job_payload;
struct loop;
struct s3_role_cache;
struct host_cache;
struct runner_config;
struct strvec;
struct trace_sink;

/*
 * ---- Artifact transport ----
 *
 * The engine builds and extracts archives itself (in a helper process);
 * moving them to and from wherever artifacts live is the job source's
 * business, through these operations (GitLab: gitlab/artifact_store.h,
 * POST/GET jobs/:id/artifacts; a local pipeline may keep them in a
 * directory).  Both operations are asynchronous:
 *  1. the engine calls upload() or download(); the store copies what it
 *     needs from the arguments and returns a handle (never NULL);
 *  2. exactly once, from the loop and never from inside the call, the
 *     store calls cb with the outcome, after which the handle is gone;
 *  3. before that, the engine may call cancel(handle): cb is then never
 *     called.
 * The files belong to the engine: the store reads archive_path while the
 * upload runs and writes dest_path (created or truncated) while the
 * download runs, streaming, never the whole file in memory.
 */
enum job_store_result {
	JOB_STORE_OK,
	JOB_STORE_TOO_LARGE,	/* refused for its size (HTTP 413) */
	JOB_STORE_NOT_FOUND,	/* no such artifact (HTTP 404) */
	JOB_STORE_DENIED,	/* token refused (HTTP 401/403) */
	JOB_STORE_TRANSIENT,	/* may work later: network, 5xx after retries */
	JOB_STORE_FAILED,	/* anything else; trying again will not help */
};

struct job_store_upload {
	const struct job_artifact *artifact;	/* the payload entry */
	const char *archive_path;	/* the archive to send */
	const char *filename;	/* "artifacts.zip": the name it is sent as */
	const char *format;	/* artifact_format: zip, gzip, raw */
	const char *type;	/* artifact_type: archive, junit, ... */
	const char *expire_in;	/* "" or NULL: the server's default */
	/* [runners.artifact] upload_timeout; 0: GL_ARTIFACT_TIMEOUT_MS */
	long timeout_ms;
	/* [runners.artifact] response_header_timeout: the answer's headers
	 * within this once the archive is sent; 0: no deadline. */
	long header_timeout_ms;
};

/*
 * The outcome; status is a short text for the log such as
 * "201 Created" or "413 Request Entity Too Large" (never NULL), detail
 * one sentence for failures ("" on success).
 */
typedef void (*job_store_cb)(void *cb_ctx, enum job_store_result result,
			     const char *status, const char *detail);

struct job_store_op;

/* The server may redirect to object storage (the first attempt while
 * FF_USE_DIRECT_DOWNLOAD is on). */
#define JOB_STORE_DIRECT 1u
/* FF_USE_PARALLEL_ARTIFACT_TRANSFER: object storage reached through such
 * a redirect may be read in parallel Range GETs (gitlab/range_download.h). */
#define JOB_STORE_PARALLEL 2u

struct job_artifact_store_ops {
	struct job_store_op *(*upload)(void *ctx,
				       const struct job_store_upload *u,
				       job_store_cb cb, void *cb_ctx);
	/* flags: JOB_STORE_DIRECT, JOB_STORE_PARALLEL. */
	struct job_store_op *(*download)(void *ctx,
					 const struct job_dependency *dep,
					 const char *dest_path, unsigned flags,
					 job_store_cb cb, void *cb_ctx);
	void (*cancel)(void *ctx, struct job_store_op *op);
	/*
	 * Optional (NULL: the store is only reachable from crunner itself,
	 * e.g. a local directory).  Appends the "NAME=value" environment a
	 * helper process needs to upload and download by itself (server URL,
	 * job token): an executor's stage scripts (executor.h,
	 * stage_scripts_everywhere) run it where the job runs.
	 */
	void (*helper_env)(void *ctx, struct strvec *env);
};

struct job_settings {
	const struct runner_config *runner;
	const char *system_id;		/* may be NULL */
	int concurrent_id;		/* CI_CONCURRENT_ID: slot in this runner */
	int concurrent_project_id;	/* CI_CONCURRENT_PROJECT_ID */
	/* Where builds_dir is relative to and defaults under; NULL: cwd. */
	const char *work_dir;
	/*
	 * Where artifacts go and come from; NULL: the job has no artifact
	 * transport, so uploads and dependency downloads are skipped with a
	 * warning.  ctx is passed to every operation; both are borrowed.
	 */
	const struct job_artifact_store_ops *artifact_store;
	void *artifact_store_ctx;
	/*
	 * The program that runs archive work (crunner's hidden
	 * artifacts-helper verb); NULL: /proc/self/exe, this very binary.
	 */
	const char *helper_program;
	/* S3 RoleARN credentials kept between jobs (cache_s3_sts.h);
	 * NULL: STS is asked for every signed URL.  Borrowed. */
	struct s3_role_cache *s3_roles;
	/*
	 * config.toml's global `user` (or `run --user`): the shell executor
	 * runs the job's scripts and archive work as this user; NULL or "":
	 * as crunner.  See util/run_as.h.
	 */
	const char *user;
	/*
	 * crunner exec: the working tree the job runs in.  When GIT_CLONE_PATH
	 * moves the project dir, that dir is made a symbolic link to this tree
	 * (the default project dir is already one, made by the scheduler).
	 * NULL: none.
	 */
	const char *project_tree;
	/*
	 * An autoscaler runner's job ([runners.autoscaler]: instance,
	 * docker-autoscaler): the manager acquired an instance for it before
	 * the job started.  autoscaled: the trace says "Preparing
	 * instance..."; then instance is where the executor runs (borrowed
	 * until the job is freed), or NULL with instance_error saying why
	 * the acquisition failed (the job fails as a system failure).
	 */
	bool autoscaled;
	const struct ig_connect_info *instance;
	/* The acquisition's slot number on instance (taskscaler_slot()). */
	int instance_slot;
	const char *instance_error;
	/*
	 * The job request's correlation ID (a GitLab job's; NULL: none):
	 * with FF_USE_GITALY_CORRELATION_ID git sends it to Gitaly in
	 * X-Gitaly-Correlation-ID.  Borrowed until the job is freed.
	 */
	const char *correlation_id;
	/*
	 * The PEM of the chain that verified GitLab on the job request
	 * (gl_job_reply's tls_ca_chain; NULL: none, or plain http): the
	 * job's CI_SERVER_TLS_CA_FILE without tls-ca-file.  Borrowed until
	 * the job is freed.
	 */
	const char *tls_ca_chain;
	/*
	 * With FF_EXPORT_HIGH_CARDINALITY_METRICS (the job's or the runner's):
	 * called as each build stage ends ("prepare_executor", "get_sources",
	 * "step_script", ...) with its duration, for gitlab-runner's
	 * gitlab_runner_job_stage_duration_seconds.  NULL: not wanted.
	 */
	void (*on_stage_duration)(void *ctx, const char *stage,
				  double seconds);
	void *stage_duration_ctx;
	/* Host facts kept between jobs (executor/host_cache.h); NULL: none. */
	struct host_cache *host_cache;
};

enum job_state {
	JOB_STATE_SUCCESS,
	JOB_STATE_FAILED,
};

struct job_result {
	enum job_state state;
	/* JOB_STATE_FAILED: the runner-side reason, before mapping through
	 * the job's features.failure_reasons (gitlab/failure_reason.h). */
	const char *failure_reason;
	/* JOB_STATE_FAILED: the sentence the trace's "Job failed: ..." line
	 * carries, never NULL then; valid during on_finished only. */
	const char *failure_message;
	/* JOB_STATE_FAILED: the stage that failed first ("prepare_executor"
	 * when none had started, else a section name: "get_sources", ...),
	 * static or owned by the job; valid during on_finished only. */
	const char *failure_stage;
	/* The failed stage runs the user's script (before_script, script). */
	bool failure_in_script;
	int exit_code;		/* the failing script's, 0 when none */
	/* The job was aborted (GitLab said canceled/failed, or the runner
	 * stops): the caller should not expect the server to want a result. */
	bool aborted;
	bool canceled;		/* stopped on request (graceful or not) */
};

struct job_callbacks {
	void (*on_finished)(void *ctx, const struct job_result *result);
	void *ctx;
};

enum job_cancel_kind {
	/* Job-Status canceling: stop the script, run after_script, report. */
	JOB_CANCEL_GRACEFUL,
	/* Job-Status canceled/failed or 403: stop everything at once. */
	JOB_CANCEL_ABORT,
	/* The runner itself was interrupted (SIGTERM/SIGINT). */
	JOB_CANCEL_INTERRUPTED,
};

/*
 * Starts the job.  Returns 0 (on_finished will be called once), or a
 * negative CR_ERR_* with one sentence in err when the job could not even
 * start (no callback then): the caller reports it as a system failure.
 */
int job_start(struct loop *loop, const struct job_payload *payload,
	      const struct job_settings *settings, struct trace_sink *sink,
	      const struct job_callbacks *cb, struct job **out,
	      struct buf *err);

void job_cancel(struct job *job, enum job_cancel_kind kind);

/*
 * Where the job is, for the gitlab_runner_jobs metric: *stage is the build
 * stage (section name: "prepare_executor", "get_sources", "step_script",
 * ...), *executor_stage gitlab-runner's executor stage ("created",
 * "prepare", "finish", "cleanup").  Both static or owned by the job; never
 * NULL; job may be NULL (a job not started yet).
 */
void job_current_stage(const struct job *job, const char **stage,
		       const char **executor_stage);

/* Frees the job; one still running is killed first without callback. */
void job_free(struct job *job);

#endif
