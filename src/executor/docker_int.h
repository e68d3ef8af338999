/*
 * Inside the docker executor: names, labels and the container-create body
 * (docker_spec.c), shared with docker.c and the unit tests.
 */
#ifndef CR_DOCKER_INT_H
#define CR_DOCKER_INT_H

#include <stdint.h>

#include <jansson.h>

#include "executor/executor.h"
#include "util/buf.h"
#include "util/strvec.h"

struct config_docker;
struct docker_api;
struct docker_api_req;
struct docker_tunnel;
struct job_payload;
struct variables;

#define DOCKER_LABEL_PREFIX "com.gitlab.gitlab-runner"

/* What names and labels are made of; strings borrowed, may be NULL. */
struct docker_job_info {
	const char *short_token;
	int64_t project_id;
	int concurrent_project_id;	/* CI_CONCURRENT_PROJECT_ID */
	int concurrent_id;		/* CI_CONCURRENT_ID */
	int64_t job_id;
	const char *job_url, *sha, *before_sha, *ref;
	const char *pipeline_id;
	int64_t timeout_s;		/* the job's; <= 0: GitLab's 7200 */
	const char *system_id;		/* NULL: "" */
};

/*
 * gitlab-runner's ProjectUniqueName, "runner-<short token>-project-<id>-
 * concurrent-<n>", made RFC 1123 compatible (lower case, [a-z0-9-]).
 */
void docker_unique_name(struct buf *out, const struct docker_job_info *ji);

/*
 * The job's own prefix: the unique name, "-", and eight hex digits of a
 * hash of the job id and the runner token, so two jobs never share a name.
 */
void docker_job_prefix(struct buf *out, const struct docker_job_info *ji,
		       const char *token);

/*
 * gitlab-runner's labels: com.gitlab.gitlab-runner.job.id, .job.url,
 * .job.sha, .job.before_sha, .job.ref, .job.timeout ("2h0m0s"),
 * .project.id, .project.runner_id, .pipeline.id, .runner.id,
 * .runner.local_id, .runner.system_id, .managed = "true", and .type = type
 * ("build", "service", "cache") when type is not NULL.  A new object.
 */
json_t *docker_labels(const struct docker_job_info *ji, const char *type);

/* One container to create. */
struct docker_container_spec {
	const char *image;
	const struct strvec *cmd;	/* may be NULL: the image's */
	const struct strvec *entrypoint;	/* NULL or empty: the image's */
	const struct strvec *env;	/* "K=V"; may be NULL */
	const char *hostname;
	const char *user;		/* NULL: [runners.docker] user */
	json_t *labels;			/* taken (decref'd by the builder) */
	const struct strvec *binds;	/* "src:dst[:mode]" */
	int service;			/* services: the service_* resources */
	int helper;			/* the helper: no limits, no privileges */
	const struct strvec *links;	/* "id:alias"; may be NULL */
	int privileged;			/* the caller's decision */
	int init;			/* HostConfig.Init: an init as PID 1 */
	/* NULL: [runners.docker] network_mode; else the job's network. */
	const char *network_mode;
	/* Its names on a user-defined network (NetworkingConfig). */
	const struct strvec *aliases;
	/* A service's devices (services_devices); others: devices. */
	const struct strvec *devices;
	/*
	 * The autoscaler slot's cgroup (use_slot_cgroups), over cgroup_parent
	 * (services: service_cgroup_parent); NULL: those.
	 */
	const char *cgroup_parent;
};

/*
 * Whether a container of image may be privileged, as gitlab-runner
 * decides: [runners.docker] privileged (for services services_privileged
 * when set), and the image in allowed_privileged_images (services:
 * allowed_privileged_services) when that list is not empty.
 */
int docker_privileged(const struct config_docker *dc, const char *image,
		      int service);

/* Where the stage scripts go in the containers. */
#define DOCKER_SCRIPTS_DIR "/crunner-scripts"

/* Where crunner sits in the helper image (scripts/build-helper-image.sh). */
#define DOCKER_HELPER_BIN "/usr/bin/crunner"

/*
 * The JSON body of POST /containers/create for spec under dc's settings
 * (network_mode, privileged, memory, cpus, shm_size, cap_add/cap_drop,
 * user, extra_hosts, devices, dns, ...).  Returns 0 and the text in out,
 * or CR_ERR_INVALID with one sentence in err (a bad memory or cpus value).
 */
int docker_create_body(const struct config_docker *dc,
		       const struct docker_container_spec *spec,
		       struct buf *out, struct buf *err);

/*
 * Appends a tar archive holding dir/ (0755) and dir/name (0755, data) to
 * out; dir and name short (ustar's 100 bytes).
 */
void docker_tar_file(struct buf *out, const char *dir, const char *name,
		     const char *data, size_t len);

/* 32 lower-case hex digits of the MD5 of s (gitlab-runner's hashPath). */
void docker_md5_hex(const char *s, char out[33]);

/*
 * The volume names gitlab-runner gives: "<unique>-cache-<md5(path)>" for a
 * volume kept between jobs, "<prefix>-cache-<md5(path)>" for the job's own.
 */
void docker_volume_name(struct buf *out, const char *base, const char *path);

/*
 * Whether name is one of this runner's per-job volumes (a job prefix
 * before "-cache-"), which a restart may remove, rather than a cache
 * volume kept on purpose.
 */
int docker_volume_is_temporary(const char *name, const char *short_token);

/*
 * HostConfig.DeviceRequests for a "docker run --gpus" value, as
 * gitlab-runner builds them (docker/cli's GpuOpts): NULL in *out for a
 * blank value, else a new array of one request.  CR_ERR_INVALID with
 * "parsing gpus string ...: why" in err when the value does not parse.
 */
int docker_gpu_requests(const char *gpus, json_t **out, struct buf *err);

/*
 * Whether [runners.docker] log_options holds only what gitlab-runner
 * allows (env, labels): 0, or CR_ERR_CONFIG with its sentence in err.
 */
int docker_check_log_options(const struct config_docker *dc, struct buf *err);

/*
 * Whether a container's network mode names a user-defined network (not
 * "", default, bridge, host, none or container:<id>): one where aliases
 * resolve, as moby's NetworkMode.IsUserDefined.
 */
int docker_network_user_defined(const char *mode);

/*
 * The body of POST /networks/create for FF_NETWORK_PER_BUILD's network
 * name (labels taken): gitlab-runner's EnableIPv6 (enable_ipv6) and
 * Options (network_mtu as com.docker.network.driver.mtu when not 0).
 */
json_t *docker_network_create_body(const struct config_docker *dc,
				   const char *name, json_t *labels);

/*
 * gitlab-runner's aliases of a service image on the job's network: its
 * name without tag or registry port, "/" as "__", then "/" as "-" when
 * that differs, then the alias field's words (split at spaces and commas).
 */
void docker_service_aliases(const char *image, const char *alias,
			    struct strvec *out);

/*
 * gitlab-runner's getServicesDevices: the devices of every
 * services_devices pattern (doublestar) matching the service's image name
 * (":latest" added when it has no tag or digest), appended to out.
 */
void docker_service_devices(const struct config_docker *dc, const char *image,
			    struct strvec *out);

/*
 * The path of DELETE for container id, appended to out: forced, with its
 * anonymous volumes unless volume_keep (gitlab-runner's RemoveVolumes).
 */
void docker_container_delete_path(const struct config_docker *dc,
				  const char *id, struct buf *out);

/* "1.5" or "3/2" CPUs as nano-CPUs; CR_ERR_INVALID when not a number. */
int docker_parse_cpus(const char *s, int64_t *nano);

/* ---- the executor's state (docker*.c) ---- */

/* Which container a stage runs in. */
enum docker_ctype {
	CTYPE_BUILD,		/* the job's image: steps, after_script */
	CTYPE_HELPER,		/* the helper image: sources, cache, artifacts */
};

/* One service of the job. */
struct docker_service {
	char *image;		/* expanded */
	char *name;		/* the image without tag: "redis", "a/b" */
	char *version;		/* its tag: "latest" */
	char *alias;
	const struct strvec *command, *entrypoint;	/* borrowed */
	const struct strvec *pull_policy;	/* the job's, or NULL */
	const char *user;	/* image:docker:user, borrowed, or NULL */
	const char *platform;	/* image:docker:platform, borrowed, or NULL */
	struct strvec env;	/* its own variables, "K=V" */
	char *cid;
	char *cname;		/* its container's name */
	int port;		/* the lowest exposed TCP port, 0: none */
	char *ip;		/* where to reach it (host network: 127.0.0.1) */
	struct docker_probe *probe;	/* docker-autoscaler: its port checked
					 * from the instance (docker_tunnel.h) */
	struct strvec aliases;	/* on a user-defined network */
};

#define DOCKER_CAPTURE_MAX 4096

/* What the executor is doing between a run()/hook() and its on_exit. */
enum docker_op {
	OP_NONE,
	OP_CONFIG,
	OP_PREPARE,
	OP_RUN,
	OP_CLEANUP,
};

/* Where a container run is. */
enum docker_run_step {
	RUN_CREATE,
	RUN_UPLOAD,		/* the script into the container */
	RUN_START,
	RUN_LOGS,
	RUN_WAIT,
	RUN_INSPECT,
	RUN_REMOVE,
};

struct docker_job {
	struct executor base;
	struct loop *loop;
	struct docker_api *api;
	/* The instance's Docker over SSH (docker-autoscaler), or NULL. */
	struct docker_tunnel *tunnel;
	char *dial_ident;	/* "Dialing instance <this>..." */
	/* use_slot_cgroups: the slot's cgroups (build, services) or NULL. */
	char *slot_cgroup, *service_slot_cgroup;
	const struct config_docker *dc;
	const struct job_payload *payload;
	char *token;
	long grace_ms;
	unsigned seq;
	struct docker_job_info ji;
	char *job_url, *pipeline_id;
	struct buf unique;	/* runner-<t>-project-<p>-concurrent-<n> */
	struct buf prefix;	/* unique + "-<hash>" */

	const struct variables *vars;	/* the engine's, read when used */
	const char *git_strategy;	/* the engine's, resolved; or NULL */
	char *image;		/* resolved */
	const struct strvec *entrypoint;	/* the job image's, or NULL */
	char *helper_image;
	char *cbuilds_dir;	/* the builds dir in the containers */
	char *ccache_dir;	/* the cache dir in the containers */
	int builds_shared;	/* a host volume holds the builds dir */
	int initialized;	/* the first helper script made the dirs */
	struct strvec job_policies;	/* the job image's pull policies */
	struct strvec temp_volumes;	/* the job's own: removed at the end */
	struct strvec new_volumes;	/* to create in PREPARE */
	struct strvec vol_binds;	/* binds once they are created */
	/* FF_NETWORK_PER_BUILD's network once created (docker_network.c). */
	char *network, *network_id;
	struct strvec attached;	/* still on it at CLEANUP: removed first */
	struct docker_service *services;
	size_t nr_services, service_at;
	uint64_t wait_timer;
	uint64_t wait_deadline;

	/* Getting one image (docker_image.c). */
	char *want;		/* the image being got */
	struct strvec policies;
	size_t policy;		/* the one being tried */
	int pull_tried;		/* this policy pulled already */
	char *want_id;		/* its Id once there */
	char *want_platform;	/* "linux/arm64", or NULL */
	char *want_user;	/* its Config.User once there, or NULL */
	void (*after_image)(struct docker_job *dj);
	char *shell_path;	/* detected */
	enum docker_ctype ctype;	/* of the run under way */
	int is_bash;
	struct strvec binds;
	struct strvec containers;	/* ids to remove */

	struct executor_settings settings;

	/* The operation under way. */
	enum docker_op op;
	executor_output_cb on_output;
	executor_exit_cb on_exit;
	void *ctx;
	struct buf *error;
	int reason;		/* the first cancel reason */
	int err;		/* a system failure */
	int exit_status;
	struct docker_api_req *req, *kill_req;
	uint64_t grace_timer, done_timer;

	/* The container run of the operation. */
	enum docker_run_step step;
	int capture;		/* output to captured, not the trace */
	struct buf captured;
	struct buf pull_tail;
	char *cid;
	int started, oom_killed;
	int inspect_tries;
	uint64_t retry_timer;	/* the next inspect (OOM events come late) */
	void (*after_run)(struct docker_job *dj);
	void (*after_step)(struct docker_job *dj);	/* volumes, services */
	struct buf upload;	/* the stage script, as a tar for the run */

	/* FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR (docker_owner.c). */
	char *image_user;	/* the job image's Config.User */
	int owner_done;		/* the files were given to the build user */
	struct strvec held_cmd;	/* the stage waiting for that */
	struct buf held_upload;
	void (*after_owner)(struct docker_job *dj);
};


/* One line into the operation's output (the trace), with a newline. */
void docker_say(struct docker_job *dj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Records a system failure of the operation; the first sentence wins. */
void docker_fail(struct docker_job *dj, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void docker_op_begin(struct docker_job *dj, enum docker_op op,
		     const struct executor_stage *stage);
/* Ends the operation: on_exit follows from a loop timer. */
void docker_op_end(struct docker_job *dj);
void docker_forget_container(struct docker_job *dj, const char *id);
/*
 * Runs cmd in a new container of the job's image (CTYPE_BUILD) or the
 * helper image (output to the trace, or to dj->captured with capture);
 * after_run is called once the container is gone, with dj->exit_status,
 * dj->oom_killed and any failure recorded.
 */
void docker_run_container(struct docker_job *dj, enum docker_ctype ctype,
			  const struct strvec *cmd, int capture,
			  void (*after_run)(struct docker_job *));

/*
 * docker_image.c: makes sure image name is there under policies (copied),
 * pulling as they say (for platform, image:docker:platform, when not
 * NULL); after is called from the loop with dj->want_id set,
 * or with a failure recorded (docker_fail).
 */
void docker_image_get(struct docker_job *dj, const char *name,
		      const struct strvec *policies, const char *platform,
		      void (*after)(struct docker_job *dj));
/*
 * The registry an image comes from, as docker reads the name: the first
 * part when it has a dot, a colon or is "localhost", else docker.io.
 */
void docker_image_registry(const char *image, struct buf *out);
/*
 * "X-Registry-Auth: <base64url JSON>" for image's registry, appended to
 * out (a secret: release it with buf_release_secret()), from
 * auth_config ($DOCKER_AUTH_CONFIG: docker's config.json, "auths" with
 * "auth" or "username"/"password"), else the job's credentials of type
 * "registry" for that registry.  Returns where it came from, for the
 * trace, or NULL (out untouched).
 */
const char *docker_registry_auth(const struct job_payload *p,
				 const char *auth_config, const char *image,
				 struct buf *out);

/*
 * gitlab-runner's effective pull policies for one image: want (the job's
 * image:pull_policy; NULL or empty: none) or else dc's pull_policy (empty:
 * always), keeping those in allowed_pull_policies, or when that is empty in
 * dc's pull_policy list (so a job cannot skip an admin's "always").
 * Returns 0 with out filled (in want's order), or CR_ERR_CONFIG with one
 * sentence in err when none is allowed.
 */
int docker_pull_policies(const struct config_docker *dc,
			 const struct strvec *want, struct strvec *out,
			 struct buf *err);

/*
 * docker_pull_policies() for image; a refusal is recorded as the job's
 * failure ("invalid pull policy for image ...", CR_ERR_CONFIG).
 */
int docker_image_policies(struct docker_job *dj, const char *image,
			  const struct strvec *want, struct strvec *out);
/* Whether image may be used: allowed (allowed_images/_services). */
int docker_image_allowed(struct docker_job *dj, const char *image,
			 const char *what, const struct strvec *allowed);

/*
 * docker_volumes.c: the binds every container gets and the volumes to
 * create (PREPARE), then creates them; after follows from the loop.
 */
void docker_volumes_plan(struct docker_job *dj);
void docker_volumes_create(struct docker_job *dj,
			   void (*after)(struct docker_job *dj));
/* CLEANUP: removes the job's own volumes (after its containers). */
void docker_volumes_remove(struct docker_job *dj,
			   void (*after)(struct docker_job *dj));
/* The same, blocking: a job freed mid-way. */
void docker_volumes_remove_sync(struct docker_job *dj);

/* docker_services.c: starts the job's services and waits for them. */
void docker_services_start(struct docker_job *dj,
			   void (*after)(struct docker_job *dj));
void docker_services_stop_wait(struct docker_job *dj);
void docker_services_release(struct docker_job *dj);
/* "&platform=<platform>" on a create path when platform is set. */
void docker_add_platform(struct buf *path, const char *platform);
/*
 * gitlab-runner's IsFeatureFlagOn: the job's variable, else the runner's
 * [runners.feature_flags] (both in the engine's variables); off by default.
 */
int docker_feature_flag(const struct docker_job *dj, const char *name);
/*
 * docker_owner.c, FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR: whether the helper
 * scripts run without "umask 0000", and whether the build stage about to
 * run must first give the project's files to the build user (the flag on,
 * the job image's user set and not root, not done yet).
 */
int docker_umask_disabled(const struct docker_job *dj);
int docker_owner_needed(const struct docker_job *dj);
/*
 * As gitlab-runner when it first creates the build container: the build
 * user's "id -u" and "id -g" in a container of the job's image, then, for
 * a user other than root, "chown -RP" of the project dir and its .tmp dir
 * in the helper; then cmd with dj->upload (both taken over) runs in the
 * build image, after_run following as docker_run_container() says.
 */
void docker_owner_then_run(struct docker_job *dj, const struct strvec *cmd,
			   void (*after_run)(struct docker_job *dj));
/* Whether the job's network mode (docker_network_mode()) is mode. */
int docker_network_is(const struct docker_job *dj, const char *mode);
/*
 * docker_network.c: the network mode of the job's containers: the
 * FF_NETWORK_PER_BUILD network once created, else [runners.docker]
 * network_mode, or NULL (the engine's default).
 */
const char *docker_network_mode(const struct docker_job *dj);
/* PREPARE, first: the per-build network when the flag asks for it. */
void docker_network_create(struct docker_job *dj,
			   void (*after)(struct docker_job *dj));
/* CLEANUP, last: what is still attached, then the network. */
void docker_network_remove(struct docker_job *dj,
			   void (*after)(struct docker_job *dj));
/* The same, blocking: a job freed mid-way. */
void docker_network_remove_sync(struct docker_job *dj);
/* SIGTERM to the running container, SIGKILL after the grace period. */
void docker_run_cancel(struct docker_job *dj);

#endif
