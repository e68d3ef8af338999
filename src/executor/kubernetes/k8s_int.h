/*
 * Inside the kubernetes executor: the job's state, shared by
 * kubernetes.c (the executor_ops and the thread plumbing) and k8s_job.c
 * (what the worker thread does).
 *
 * Each hook or stage runs on its own worker thread with blocking API
 * calls (k8s_api.h, k8s_ws.h); the thread writes the trace through a
 * socket pair the loop watches, and the loop calls on_exit once the
 * thread has closed its end.  executor_cancel() sets kj->cancel, which
 * every blocking call checks (curl's progress callback, the exec poll).
 */
#ifndef CR_K8S_INT_H
#define CR_K8S_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include <jansson.h>

#include "executor/executor.h"
#include "executor/kubernetes/k8s_api.h"
#include "executor/kubernetes/k8s_overwrites.h"
#include "util/buf.h"
#include "util/strvec.h"

struct config_kubernetes;
struct k8s_service_spec;
struct job_payload;
struct runner_config;
struct variables;

enum k8s_op {
	K8S_OP_NONE,
	K8S_OP_CONFIG,
	K8S_OP_PREPARE,
	K8S_OP_RUN,
	K8S_OP_CLEANUP,
};

struct k8s_job {
	struct executor base;
	struct loop *loop;
	const struct runner_config *rc;
	const struct config_kubernetes *kc;
	const struct job_payload *payload;
	const struct variables *vars;	/* the engine's, read when used */
	struct k8s_api api;
	atomic_int cancel;	/* the reason, once cancel() was called */

	char short_token[16];
	char *system_id;	/* the runner installation's, or NULL */
	char *namespace;
	struct k8s_overwrites ov;	/* the job's, allowed by config.toml */
	char *image;		/* the job's, expanded, or config.toml's */
	char *helper_image;
	char *builds_dir;	/* in the containers */
	char *cache_dir;	/* in the containers */
	char *scripts_dir;	/* /scripts-<project>-<job> */
	/* The attach strategy's /logs-<project>-<job>; NULL: exec's. */
	char *logs_dir;
	int64_t log_offset;	/* attach: output.log's bytes read */
	struct buf unique;	/* runner-<t>-project-<p>-concurrent-<n> */
	char *pod_name;		/* once created (POST answered or sent) */
	/* The registry credentials Secret (k8s_credentials.c), or NULL. */
	char *secret_name;
	json_t *secret;		/* as the API server last answered */
	int secret_owned;	/* its ownerReferences name the pod */
	int pod_created;
	int namespace_created;	/* namespace_per_job's, until deleted */
	int initialized;	/* the first helper script made the dirs */
	unsigned seq;		/* stage scripts written */
	struct executor_settings settings;

	/* The operation under way. */
	enum k8s_op op;
	uint64_t config_timer;	/* CONFIG's end, from the loop */
	pthread_t thread;
	int thread_live;
	int fds[2];		/* [0] the loop reads, [1] the thread writes */
	struct buf in;		/* frames read, not yet delivered */
	executor_output_cb on_output;
	executor_exit_cb on_exit;
	void *ctx;
	struct buf *error;
	char *stage_name;
	struct buf script;	/* the stage's script (a secret) */
	/* Written by the thread, read by the loop after the join. */
	int exit_status;
	int err;
	struct buf why;

	/* k8s_events.c: the events shown (uid:count), on the thread. */
	struct strvec events_printed, warnings_seen;
	int events_header;	/* FF_PRINT_POD_EVENTS' table header out */
	/*
	 * k8s_out's frames: the worker thread and, during a stage, the
	 * FF_PRINT_POD_EVENTS watcher (k8s_events_watch_start) write them.
	 */
	pthread_mutex_t out_lock;
};

/* ---- k8s_job.c: on the worker thread ---- */

/* A line to the trace (a newline added). */
void k8s_say(struct k8s_job *kj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Output bytes to the trace; is_stderr as in executor_output_cb. */
void k8s_out(struct k8s_job *kj, int is_stderr, const char *data,
	     size_t len);
/* The first failure wins; sets kj->err. */
void k8s_fail(struct k8s_job *kj, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The shell the containers wait in: exec's the first one there. */
extern const char k8s_detect_shell[];

/* Sleeps ms in slices, returning early (1) on cancel. */
int k8s_nap(struct k8s_job *kj, long ms);
/* gitlab-runner's split: the user's scripts in build, the rest in helper. */
int k8s_stage_in_build(const char *stage_name);
/* The stage's script as it goes into the container (umask, init). */
void k8s_stage_script(struct k8s_job *kj, struct buf *text);
/* Its path in the scripts emptyDir: <dir>/<seq>-<stage>.sh. */
void k8s_stage_file(struct k8s_job *kj, struct buf *file);

/* PREPARE: the pod, created and running. */
void k8s_job_prepare(struct k8s_job *kj);
/* A stage: attach when logs_dir is set, else exec (the legacy one). */
void k8s_job_run(struct k8s_job *kj);

/* ---- k8s_allowed.c ---- */

/*
 * allowed_services for each service, then allowed_images for the job's
 * image; a refusal is logged as gitlab-runner logs it and recorded as the
 * job's failure (CR_ERR_INVALID, returned).
 */
int k8s_allowed_images(struct k8s_job *kj,
		       const struct k8s_service_spec *services, size_t nr);

/* ---- k8s_credentials.c: the registry credentials Secret ---- */

/* Before the pod: creates it when there are credentials (0: none). */
int k8s_credentials_create(struct k8s_job *kj);
/* After the pod's POST answered with it (pod): the Secret owned by it. */
int k8s_credentials_own(struct k8s_job *kj, const struct k8s_response *pod);
/* Deletes a Secret the pod does not own; blocking, whatever cancel says. */
int k8s_credentials_delete(struct k8s_job *kj, struct buf *why);

/* ---- k8s_attach.c: the attach strategy ---- */

/* After the pod runs: the detect-shell script and the log file. */
int k8s_attach_setup(struct k8s_job *kj);
/* A stage through attach, its output from the log file. */
void k8s_attach_run(struct k8s_job *kj);
/* The line written to the container's shell for script (a newline). */
void k8s_attach_command(const char *scripts_dir, const char *logs_dir,
			const char *script, struct buf *out);
/* Whether line is a {"command_exit_code": N, ...} status line. */
int k8s_attach_marker(const char *line, size_t len, int *code,
		      struct buf *script);
/* CLEANUP: deletes the pod (cleanup_grace_period_seconds). */
void k8s_job_cleanup(struct k8s_job *kj);
/* Deletes the pod, blocking, whatever the cancel flag says. */
int k8s_delete_pod(struct k8s_job *kj, struct buf *why);

/* ---- k8s_events.c: the pod's events in the job log ---- */

/* Whether FF_PRINT_POD_EVENTS is on for the job. */
int k8s_print_pod_events_on(const struct k8s_job *kj);
/* FF_PRINT_POD_EVENTS: the pod's events not printed yet, as table rows. */
void k8s_events_print(struct k8s_job *kj);
/* print_pod_warning_events: its Warning events not shown yet. */
void k8s_events_warnings(struct k8s_job *kj);

/*
 * FF_PRINT_POD_EVENTS while a stage runs (gitlab-runner watches the pod's
 * events for the whole job): a thread that prints the new events each
 * poll_interval.  Stop joins it and prints what came since its last look.
 */
struct k8s_events_watch {
	struct k8s_job *kj;
	pthread_t thread;
	atomic_int stop;
	int live;
};
void k8s_events_watch_start(struct k8s_job *kj, struct k8s_events_watch *w);
void k8s_events_watch_stop(struct k8s_events_watch *w);

/* ---- k8s_umask.c: FF_DISABLE_UMASK_FOR_KUBERNETES_EXECUTOR ---- */

int k8s_umask_disabled(const struct k8s_job *kj);
/* The init container that records the build's uid and gid, first. */
void k8s_add_uid_gid_collector(json_t *pod, const char *builds_dir);
/* A helper stage's script, the chown after it where gitlab-runner has one. */
void k8s_umask_stage_script(const struct k8s_job *kj, const char *script,
			    size_t len, struct buf *out);

/* ---- k8s_lifecycle.c: [runners.kubernetes.container_lifecycle] ---- */

/* The containers' lifecycle object, or NULL when none is configured. */
json_t *k8s_container_lifecycle(const struct config_kubernetes *kc);
/* It on every one of pod's containers (not the init containers). */
void k8s_add_container_lifecycle(json_t *pod,
				 const struct config_kubernetes *kc);

/* ---- k8s_retry.c: retry_limit, retry_limits, retry_backoff_max ---- */

/* The attempts a request failing with what may have (1: no retry). */
int k8s_retry_max_tries(const struct config_kubernetes *kc, const char *what,
			int no_answer);
long k8s_retry_backoff_max_ms(const struct config_kubernetes *kc);
/* k8s_api_call, tried again on the errors gitlab-runner retries. */
int k8s_api_call_retry(struct k8s_job *kj, const char *method,
		       const char *path, const char *json,
		       struct k8s_response *resp);

/* ---- k8s_namespace.c: namespace_per_job ---- */

/*
 * Creates kj->namespace (once) when namespace_per_job is set; 0, or the
 * failure recorded ("failed to create namespace: ...") and returned.
 */
int k8s_namespace_create(struct k8s_job *kj);
/*
 * Deletes the namespace k8s_namespace_create made; 0, or CR_ERR_NETWORK
 * with "failed to delete namespace: ..." in why.  Ignores the cancel flag.
 */
int k8s_namespace_delete(struct k8s_job *kj, struct buf *why);

/* ---- k8s_depcheck.c: resource_availability_check_max_attempts ---- */

/* 0, or -1 with the failure recorded (a resource never appeared). */
int k8s_check_dependant_resources(struct k8s_job *kj);

#endif
