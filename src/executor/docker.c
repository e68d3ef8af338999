/*
 * The docker executor, in gitlab-runner's model: the user's scripts
 * (step_*, after_script) run in a fresh container of the job's image
 * through the image's own shell; everything else (prepare_script,
 * get_sources, caches, artifacts, file variables) in a container of the
 * helper image (crunner-helper: crunner's artifacts-helper verb, git,
 * bash, busybox; scripts/build-helper-image.sh); both mount the job's
 * build volume at the builds dir.  All through the Engine API
 * (docker_api.h); nothing shells out to the docker CLI.
 *
 * The work is spread over the engine's hooks (executor.h):
 *  - prepare(): names, labels, the builds and cache dirs in the
 *    containers (/builds, /cache unless config.toml gives absolute ones);
 *  - CONFIG: negotiate the API version, resolve the image (the job's, else
 *    [runners.docker] image; allowed_images), get it under the pull
 *    policies (allowed_pull_policies; docker_image.c), detect its shell in
 *    a short-lived container (gitlab-runner's probe order: bash, then sh),
 *    get the helper image; the engine then generates the scripts for that
 *    shell;
 *  - PREPARE: create FF_NETWORK_PER_BUILD's network (docker_network.c),
 *    the volumes (docker_volumes.c), start the services and wait for them
 *    (docker_services.c);
 *  - each stage: a container run (docker_run.c) of "<shell> <script>",
 *    the script copied into the container before it starts;
 *  - CLEANUP: remove every container, the job's own volumes, its network.
 * cleanup() removes what is left synchronously (a job freed mid-stage);
 * docker_remove_leftovers() (docker.h) what a killed crunner left.
 *
 * With executor_options.instance (docker-autoscaler) the engine is the
 * instance's, reached over SSH (docker_tunnel.h): prepare() starts the
 * forwarder, CONFIG waits for it before anything else, cleanup() ends it
 * after the last request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/container_script.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "executor/docker_tunnel.h"
#include "executor/executor.h"
#include "executor/instance_ssh.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"
#include "version.h"

#define DEFAULT_BUILDS_DIR "/builds"
#define DEFAULT_CACHE_DIR "/cache"

static const char detect_script[] =
	"for s in /usr/local/bin/bash /usr/bin/bash /bin/bash "
	"/usr/local/bin/sh /usr/bin/sh /bin/sh /busybox/sh; do "
	"if [ -x \"$s\" ]; then echo \"$s\"; exit 0; fi; done; "
	"echo shell not found; exit 1";

int docker_feature_flag(const struct docker_job *dj, const char *name)
{
	return dj->vars ? variables_get_bool(dj->vars, name, 0) : 0;
}

static struct docker_job *to_docker(struct executor *ex)
{
	return (struct docker_job *)ex;
}

static void docker_cleanup(struct executor *ex);

static int var_int(const struct variables *vars, const char *key)
{
	const char *v = vars ? variables_get(vars, key) : NULL;

	return v ? (int)strtol(v, NULL, 10) : 0;
}

static char *var_dup(const struct variables *vars, const char *key)
{
	const char *v = vars ? variables_get(vars, key) : NULL;

	return xstrdup(v ? v : "");
}

/*
 * gitlab-runner's IsFeatureFlagOn for FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO
 * (default true): the job's variable, else [runners.feature_flags]; the
 * engine puts both in the variables, the job's last.
 */
static int dial_stdio(const struct executor_options *opts)
{
	static const char ff[] = "FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO";

	if (opts->variables && variables_get(opts->variables, ff))
		return variables_get_bool(opts->variables, ff, 1);
	return runner_feature_flag(opts->runner, ff, true);
}

static int docker_prepare(const struct executor_options *opts,
			  struct executor **out, struct buf *err)
{
	struct docker_job *dj = xcalloc(1, sizeof(*dj));
	const struct runner_config *rc = opts->runner;
	const struct job_payload *p = opts->payload;
	struct docker_api_tls tls = { 0 };
	char short_token[16] = "";
	int r = CR_ERR_INTERNAL;

	dj->base.ops = &docker_executor;
	dj->loop = opts->loop;
	dj->payload = p;
	dj->grace_ms = opts->kill_grace_ms > 0 ? opts->kill_grace_ms :
		EXECUTOR_KILL_GRACE_MS;
	buf_init(&dj->unique, 0);
	buf_init(&dj->prefix, 0);
	buf_init(&dj->captured, 0);
	buf_init(&dj->pull_tail, 0);
	buf_init(&dj->upload, 0);
	strvec_init(&dj->policies);
	strvec_init(&dj->binds);
	strvec_init(&dj->containers);
	strvec_init(&dj->job_policies);
	strvec_init(&dj->temp_volumes);
	strvec_init(&dj->new_volumes);
	strvec_init(&dj->vol_binds);
	strvec_init(&dj->attached);
	strvec_init(&dj->held_cmd);
	buf_init(&dj->held_upload, 0);
	dj->settings.builds_dir_is_shared = -1;
	dj->exit_status = -1;

	if (!rc || !p) {
		buf_seterr(err, "docker executor: no runner configuration or job payload");
		goto out;
	}
	dj->dc = &rc->docker;
	dj->token = xstrdup(rc->token ? rc->token : "");
	tls.cert_path = dj->dc->cert_path;
	tls.verify = dj->dc->tls_verify;
	if (opts->instance) {
		/* The instance's engine, through a socket of the job's own. */
		struct docker_tunnel_config tc = {
			.instance = opts->instance,
			.dial_stdio = dial_stdio(opts),
			.docker_host = dj->dc->host,
			.tmp_parent = opts->tmp_dir,
		};

		dj->dial_ident = instance_dial_ident(opts->instance,
						     rc->autoscaler.log_internal_ip,
						     rc->autoscaler.log_external_ip);
		/* gitlab-runner's getCgroupParent, getServiceCgroupParent. */
		dj->slot_cgroup = config_slot_cgroup(rc, opts->instance_slot,
						     false);
		dj->service_slot_cgroup = config_slot_cgroup(rc,
							     opts->instance_slot,
							     true);
		if ((r = docker_tunnel_start(opts->loop, &tc, &dj->tunnel,
					     err)) != 0 ||
		    (r = docker_api_new(opts->loop,
					docker_tunnel_host(dj->tunnel), NULL,
					&dj->api, err)) != 0)
			goto out;
	} else if ((r = docker_api_new(opts->loop, dj->dc->host, &tls,
				       &dj->api, err)) != 0) {
		goto out;
	}
	/*
	 * The builds and cache dirs are paths in the containers, as in
	 * gitlab-runner: config.toml's when absolute, else /builds, /cache.
	 */
	dj->cbuilds_dir = xstrdup(rc->builds_dir && rc->builds_dir[0] == '/' ?
				  rc->builds_dir : DEFAULT_BUILDS_DIR);
	dj->ccache_dir = xstrdup(rc->cache_dir && rc->cache_dir[0] == '/' ?
				 rc->cache_dir : DEFAULT_CACHE_DIR);
	dj->vars = opts->variables;
	dj->git_strategy = opts->git_strategy;
	dj->helper_image = container_helper_image(dj->dc->helper_image,
						  dj->vars);

	runner_short_token(dj->token, short_token);
	dj->ji.short_token = xstrdup(short_token);
	dj->ji.project_id = p->job_info.project_id;
	dj->ji.concurrent_project_id = var_int(opts->variables,
					       "CI_CONCURRENT_PROJECT_ID");
	dj->ji.concurrent_id = var_int(opts->variables, "CI_CONCURRENT_ID");
	dj->ji.job_id = p->id;
	dj->job_url = var_dup(opts->variables, "CI_JOB_URL");
	dj->pipeline_id = var_dup(opts->variables, "CI_PIPELINE_ID");
	dj->ji.job_url = dj->job_url;
	dj->ji.pipeline_id = dj->pipeline_id;
	dj->ji.sha = p->git_info.sha;
	dj->ji.before_sha = p->git_info.before_sha;
	dj->ji.ref = p->git_info.ref;
	dj->ji.timeout_s = p->runner_info.timeout;
	dj->ji.system_id = opts->system_id;
	docker_unique_name(&dj->unique, &dj->ji);
	docker_job_prefix(&dj->prefix, &dj->ji, dj->token);
	dj->settings.hostname = dj->dc->hostname && *dj->dc->hostname ?
		dj->dc->hostname : dj->unique.data;

	/* Only to know whether a host volume holds the builds dir. */
	docker_volumes_plan(dj);
	dj->settings.builds_dir = dj->cbuilds_dir;
	dj->settings.cache_dir = dj->ccache_dir;
	dj->settings.builds_dir_is_shared = dj->builds_shared;
	/* On a build volume the paths are the containers'; its helper
	 * script makes the dirs and file variables there. */
	dj->settings.files_elsewhere = !dj->builds_shared;
	*out = &dj->base;
	dj = NULL;
	r = 0;
out:
	if (dj)
		docker_cleanup(&dj->base);
	return r;
}

/* ---- CONFIG: engine, image, pull policy, shell ---- */

static void get_helper_image(struct docker_job *dj);

static void config_done(struct docker_job *dj)
{
	docker_op_end(dj);
}

static void after_detect(struct docker_job *dj)
{
	char *nl;

	if (dj->err || dj->reason) {
		config_done(dj);
		return;
	}
	nl = memchr(dj->captured.data, '\n', dj->captured.len);
	if (nl)
		buf_setlen(&dj->captured, (size_t)(nl - dj->captured.data));
	if (dj->exit_status != 0 || dj->captured.data[0] != '/') {
		docker_fail(dj, CR_ERR_NOT_FOUND,
			    "no shell found in image '%s' (bash or sh): %s",
			    dj->image, dj->captured.len ? dj->captured.data :
			    "the probe printed nothing");
		config_done(dj);
		return;
	}
	free(dj->shell_path);
	dj->shell_path = xstrdup(dj->captured.data);
	nl = strrchr(dj->shell_path, '/');
	dj->is_bash = nl && !strcmp(nl, "/bash");
	dj->settings.shell = dj->is_bash ? "bash" : "sh";
	get_helper_image(dj);
}

static void detect_shell(struct docker_job *dj)
{
	struct strvec cmd = STRVEC_INIT;

	strvec_push(&cmd, "sh");
	strvec_push(&cmd, "-c");
	strvec_push(&cmd, detect_script);
	docker_run_container(dj, CTYPE_BUILD, &cmd, 1, after_detect);
	strvec_clear(&cmd);
}

static void after_helper_image(struct docker_job *dj)
{
	if (!dj->err && !dj->reason) {
		free(dj->helper_image);
		dj->helper_image = xstrdup(dj->want_id);
		/* gitlab-runner's words, once its images are there. */
		if (docker_umask_disabled(dj))
			docker_say(dj, "Not using umask - FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR is set!");
	}
	config_done(dj);
}

/*
 * The helper image: [runners.docker] helper_image, got with the runner's
 * pull_policy (and allowed_pull_policies) as gitlab-runner's getHelperImage
 * does; else crunner-helper at this version (scripts/build-helper-image.sh
 * builds it), used as found locally like gitlab-runner's prebuilt one.
 */
static void get_helper_image(struct docker_job *dj)
{
	struct strvec policies = STRVEC_INIT;

	if (!dj->dc->helper_image || !*dj->dc->helper_image)
		strvec_push(&policies, "if-not-present");
	else if (docker_image_policies(dj, dj->helper_image, NULL,
				       &policies) != 0) {
		strvec_clear(&policies);
		config_done(dj);
		return;
	}
	docker_image_get(dj, dj->helper_image, &policies, NULL,
			 after_helper_image);
	strvec_clear(&policies);
}

static void after_job_image(struct docker_job *dj)
{
	if (dj->err || dj->reason) {
		config_done(dj);
		return;
	}
	free(dj->image_user);
	dj->image_user = xstrdup(dj->want_user ? dj->want_user : "");
	detect_shell(dj);
}

static int resolve_image(struct docker_job *dj)
{
	const struct job_image *img = dj->payload->image;

	/* The engine tries CONFIG again after a failure: start afresh. */
	free(dj->image);
	dj->image = NULL;
	dj->entrypoint = NULL;
	strvec_clear(&dj->job_policies);

	if (img && img->name && *img->name) {
		char *name = dj->vars ? variables_expand(dj->vars, img->name) :
			xstrdup(img->name);

		if (strcmp(name, dj->dc->image ? dj->dc->image : "") &&
		    !docker_image_allowed(dj, name, "images",
					  &dj->dc->allowed_images)) {
			free(name);
			return CR_ERR_INVALID;
		}
		dj->image = name;
		if (img->entrypoint.nr && !dj->dc->disable_entrypoint_overwrite)
			dj->entrypoint = &img->entrypoint;
	} else if (dj->dc->image && *dj->dc->image) {
		dj->image = xstrdup(dj->dc->image);
	} else {
		docker_fail(dj, CR_ERR_INVALID,
			    "no image: the job has none and [runners.docker] image is not set");
		return CR_ERR_INVALID;
	}
	return 0;
}

static void on_negotiated(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	struct buf why = BUF_INIT;

	dj->req = NULL;
	if (resp->status != 200) {
		docker_api_describe(resp, &why);
		docker_fail(dj, CR_ERR_NETWORK,
			    "cannot connect to the Docker engine at '%s': %s",
			    docker_api_host(dj->api), why.data);
		buf_release(&why);
		config_done(dj);
		return;
	}
	if (resolve_image(dj) != 0 ||
	    docker_image_policies(dj, dj->image, dj->payload->image ?
				  &dj->payload->image->pull_policy : NULL,
				  &dj->job_policies) != 0) {
		config_done(dj);
		return;
	}
	docker_say(dj, "Using Docker executor with image %s ...", dj->image);
	if (dj->dc->volume_keep)
		docker_say(dj, "WARNING: volume_keep is enabled: Docker volumes will not be removed after job completion and may accumulate on disk");
	docker_image_get(dj, dj->image, &dj->job_policies,
			 dj->payload->image ?
			 dj->payload->image->executor_opts.docker.platform : NULL,
			 after_job_image);
}

/*
 * docker-autoscaler: the instance's engine once the SSH forwarder serves
 * its socket, as gitlab-runner dials the instance in the docker
 * executor's Prepare ("Dialing instance ...", "Instance ... connected").
 */
static void on_tunnel(void *ctx, int r, const char *why)
{
	struct docker_job *dj = ctx;

	if (r) {
		docker_fail(dj, r, "%s", why);
		config_done(dj);
		return;
	}
	docker_say(dj, "Instance %s connected",
		   docker_tunnel_instance(dj->tunnel));
	dj->req = docker_api_negotiate(dj->api, on_negotiated, dj);
}

static int config_through_tunnel(struct docker_job *dj,
				 const struct executor_stage *stage,
				 struct buf *err)
{
	int r;

	docker_op_begin(dj, OP_CONFIG, stage);
	dj->exit_status = 0;
	docker_say(dj, "Dialing instance %s...", dj->dial_ident &&
		   *dj->dial_ident ? dj->dial_ident :
		   docker_tunnel_instance(dj->tunnel));
	if ((r = docker_tunnel_wait(dj->tunnel, on_tunnel, dj, err)) != 0) {
		dj->op = OP_NONE;
		dj->on_exit = NULL;
		dj->on_output = NULL;
		dj->error = NULL;
		return r;
	}
	return 0;
}

/* ---- the hooks and stages ---- */

static void on_cleanup_answer(struct docker_api_response *resp, void *ctx);

static void cleanup_done(struct docker_job *dj)
{
	dj->exit_status = dj->err ? 1 : 0;
	docker_op_end(dj);
}

static void prepare_done(struct docker_job *dj)
{
	dj->exit_status = 0;
	docker_op_end(dj);
}

static void after_volumes(struct docker_job *dj)
{
	if (dj->err || dj->reason) {
		prepare_done(dj);
		return;
	}
	docker_services_start(dj, prepare_done);
}

static void create_volumes(struct docker_job *dj)
{
	if (dj->err || dj->reason) {
		prepare_done(dj);
		return;
	}
	docker_volumes_create(dj, after_volumes);
}

static void after_volumes_removed(struct docker_job *dj)
{
	docker_network_remove(dj, cleanup_done);
}

static void cleanup_next(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	if (!dj->containers.nr) {
		docker_volumes_remove(dj, after_volumes_removed);
		return;
	}
	docker_container_delete_path(dj->dc, dj->containers.v[0], &path);
	dj->req = docker_api_call(dj->api, "DELETE", path.data, NULL, 0,
				  on_cleanup_answer, dj);
	buf_release(&path);
}

static void on_cleanup_answer(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	char *id = xstrdup(dj->containers.v[0]);

	dj->req = NULL;
	if (resp->status != 204 && resp->status != 404) {
		struct buf why = BUF_INIT;

		docker_api_describe(resp, &why);
		docker_fail(dj, CR_ERR_IO, "cannot remove container '%s': %s",
			    id, why.data);
		buf_release(&why);
	}
	/* Forgotten either way: cleanup() must not try forever. */
	docker_forget_container(dj, id);
	free(id);
	cleanup_next(dj);
}

static int docker_hook(struct executor *ex, enum executor_hook which,
		       const struct executor_stage *stage, struct buf *err)
{
	struct docker_job *dj = to_docker(ex);
	struct buf why = BUF_INIT;

	if (dj->op != OP_NONE) {
		buf_seterr(err, "docker executor: an operation is already running");
		return CR_ERR_INTERNAL;
	}
	switch (which) {
	case EXECUTOR_HOOK_CONFIG:
		if (dj->tunnel)
			return config_through_tunnel(dj, stage, err);
		docker_op_begin(dj, OP_CONFIG, stage);
		dj->exit_status = 0;
		/* gitlab-runner's first check in Prepare: a BuildError. */
		if (docker_check_log_options(dj->dc, &why) != 0) {
			docker_fail(dj, CR_ERR_CONFIG, "%s", why.data);
			buf_release(&why);
			config_done(dj);
			return 0;
		}
		dj->req = docker_api_negotiate(dj->api, on_negotiated, dj);
		return 0;
	case EXECUTOR_HOOK_PREPARE:
		docker_op_begin(dj, OP_PREPARE, stage);
		/*
		 * Planned again each time: the engine may have run CLEANUP
		 * (volumes gone) before it tries CONFIG and PREPARE again.
		 */
		docker_volumes_plan(dj);
		dj->initialized = 0;
		dj->owner_done = 0;
		/* gitlab-runner's order: the network, volumes, services. */
		docker_network_create(dj, create_volumes);
		return 0;
	case EXECUTOR_HOOK_CLEANUP:
		docker_op_begin(dj, OP_CLEANUP, stage);
		cleanup_next(dj);
		return 0;
	}
	return CR_ERR_INTERNAL;
}

static void after_stage(struct docker_job *dj)
{
	if (dj->oom_killed)
		docker_say(dj, "WARNING: the build container was killed by the kernel because it ran out of memory (memory limit %s)",
			   dj->dc->memory ? dj->dc->memory : "none");
	docker_op_end(dj);
}

static int has_file_variables(const struct docker_job *dj)
{
	size_t i;

	for (i = 0; dj->vars && i < dj->vars->nr; i++)
		if (dj->vars->items[i].flags & VAR_FILE)
			return 1;
	return 0;
}

/*
 * gitlab-runner's split: the user's scripts (step_*, after_script) in the
 * job's image, everything else (prepare_script, get_sources, caches,
 * artifacts, file variables) in the helper image.
 */
static enum docker_ctype stage_container(const char *name)
{
	if (!name)
		return CTYPE_BUILD;
	if (!strncmp(name, "step_", 5) || !strcmp(name, "after_script") ||
	    !strcmp(name, "build_script"))
		return CTYPE_BUILD;
	return CTYPE_HELPER;
}

static int docker_run(struct executor *ex, const struct executor_stage *stage,
		      struct buf *err)
{
	struct docker_job *dj = to_docker(ex);
	struct strvec cmd = STRVEC_INIT;
	struct buf path = BUF_INIT, text = BUF_INIT;
	enum docker_ctype ctype;
	const char *p;

	if (dj->op != OP_NONE) {
		buf_seterr(err, "cannot run stage '%s': a stage is already running",
			   stage->name ? stage->name : "");
		return CR_ERR_INTERNAL;
	}
	if (!dj->image || !dj->shell_path) {
		buf_seterr(err, "docker executor: the image is not prepared");
		return CR_ERR_INTERNAL;
	}
	if (stage->name && !strcmp(stage->name, "cleanup_file_variables") &&
	    !has_file_variables(dj)) {
		/* Nothing to remove: no container for a script of ":". */
		docker_op_begin(dj, OP_RUN, stage);
		dj->exit_status = 0;
		docker_op_end(dj);
		return 0;
	}
	(void)buf_addf(&path, "%u-", dj->seq + 1);
	for (p = stage->name && *stage->name ? stage->name : "stage"; *p; p++)
		(void)buf_addch(&path, (*p >= 'a' && *p <= 'z') ||
				(*p >= '0' && *p <= '9') || *p == '_' ? *p : '_');
	(void)buf_addstr(&path, ".sh");
	ctype = stage_container(stage->name);
	/*
	 * As gitlab-runner: the helper's files are for everyone, so that a
	 * job running as another user can write to its sources; unless
	 * FF_DISABLE_UMASK_FOR_DOCKER_EXECUTOR gives them to that user.
	 */
	if (ctype == CTYPE_HELPER) {
		if (!docker_umask_disabled(dj))
			(void)buf_addstr(&text, "umask 0000\n");
		if (!dj->initialized) {
			container_init_script(dj->vars, dj->dc->user &&
					      *dj->dc->user, &text);
			dj->initialized = 1;
		}
	}
	(void)buf_add(&text, stage->script, stage->script_len);
	/*
	 * The script goes into the new container before it starts (PUT
	 * .../archive): never a file on this host, and a remote engine
	 * works alike.
	 */
	docker_op_begin(dj, OP_RUN, stage);
	buf_release_secret(&dj->upload);
	docker_tar_file(&dj->upload, DOCKER_SCRIPTS_DIR + 1, path.data,
			text.data, text.len);
	buf_release_secret(&text);
	if (ctype == CTYPE_HELPER)
		strvec_push(&cmd, dj->is_bash ? "/bin/bash" : "/bin/sh");
	else
		strvec_push(&cmd, dj->shell_path);
	if (dj->is_bash) {
		strvec_push(&cmd, "--noprofile");
		strvec_push(&cmd, "--norc");
	}
	strvec_pushf(&cmd, "%s/%s", DOCKER_SCRIPTS_DIR, path.data);
	buf_release(&path);
	if (ctype == CTYPE_BUILD && docker_owner_needed(dj))
		docker_owner_then_run(dj, &cmd, after_stage);
	else
		docker_run_container(dj, ctype, &cmd, 0, after_stage);
	strvec_clear(&cmd);
	return 0;
}

static void docker_cancel(struct executor *ex, int reason)
{
	struct docker_job *dj = to_docker(ex);

	if (dj->op == OP_NONE || dj->op == OP_CLEANUP || dj->done_timer)
		return;
	if (!dj->reason)
		dj->reason = reason;
	if (dj->after_run) {
		docker_run_cancel(dj);	/* in a container run */
		return;
	}
	/* Negotiating, pulling, creating, waiting: drop it and end now. */
	docker_services_stop_wait(dj);
	if (dj->tunnel)
		docker_tunnel_unwait(dj->tunnel);
	dj->after_step = NULL;
	dj->after_image = NULL;
	if (dj->req) {
		docker_api_cancel(dj->req);
		dj->req = NULL;
	}
	docker_op_end(dj);
}

static void remove_sync(struct docker_job *dj)
{
	struct buf path = BUF_INIT;
	size_t i;

	/* A service whose create is on its way: its name will do. */
	if (dj->service_at < dj->nr_services &&
	    dj->services[dj->service_at].cname &&
	    !dj->services[dj->service_at].cid)
		strvec_push(&dj->containers, dj->services[dj->service_at].cname);
	/* A create still on its way has no id yet: its name will do. */
	if (dj->after_run && dj->step == RUN_CREATE && !dj->cid && dj->seq)
		strvec_pushf(&dj->containers, "%s-%s-%u", dj->prefix.data,
			     dj->ctype == CTYPE_HELPER ? "predefined" : "build",
			     dj->seq);
	for (i = 0; i < dj->containers.nr; i++) {
		struct docker_api_response resp = DOCKER_API_RESPONSE_INIT;

		buf_reset(&path);
		docker_container_delete_path(dj->dc, dj->containers.v[i],
					     &path);
		docker_api_call_sync(dj->api, "DELETE", path.data, 30000L, &resp);
		docker_api_response_release(&resp);
	}
	buf_release(&path);
}

static void docker_cleanup(struct executor *ex)
{
	struct docker_job *dj;

	if (!ex)
		return;
	dj = to_docker(ex);
	if (dj->req)
		docker_api_cancel(dj->req);
	if (dj->kill_req)
		docker_api_cancel(dj->kill_req);
	if (dj->tunnel)
		docker_tunnel_unwait(dj->tunnel);
	if (dj->grace_timer)
		loop_cancel_timer(dj->loop, dj->grace_timer);
	if (dj->retry_timer)
		loop_cancel_timer(dj->loop, dj->retry_timer);
	if (dj->done_timer)
		loop_cancel_timer(dj->loop, dj->done_timer);
	docker_services_stop_wait(dj);
	if (dj->api) {
		remove_sync(dj);
		docker_volumes_remove_sync(dj);
		docker_network_remove_sync(dj);
	}
	docker_api_free(dj->api);
	/* After the API's last request: the forwarder carried it. */
	docker_tunnel_free(dj->tunnel);
	buf_release_secret(&dj->upload);
	free(dj->cbuilds_dir);
	free(dj->ccache_dir);
	free(dj->helper_image);
	free(dj->want);
	free(dj->want_id);
	free(dj->want_platform);
	free(dj->want_user);
	free(dj->image_user);
	strvec_clear(&dj->held_cmd);
	buf_release_secret(&dj->held_upload);
	docker_services_release(dj);
	strvec_clear(&dj->job_policies);
	strvec_clear(&dj->temp_volumes);
	strvec_clear(&dj->new_volumes);
	strvec_clear(&dj->vol_binds);
	strvec_clear(&dj->attached);
	free(dj->network);
	free(dj->network_id);
	if (dj->token)
		memset(dj->token, 0, strlen(dj->token));
	free(dj->token);
	free(dj->dial_ident);
	free(dj->slot_cgroup);
	free(dj->service_slot_cgroup);
	free((char *)dj->ji.short_token);
	free(dj->job_url);
	free(dj->pipeline_id);
	free(dj->image);
	free(dj->shell_path);
	free(dj->cid);
	buf_release(&dj->unique);
	buf_release(&dj->prefix);
	buf_release(&dj->captured);
	buf_release(&dj->pull_tail);
	strvec_clear(&dj->policies);
	strvec_clear(&dj->binds);
	strvec_clear(&dj->containers);
	free(dj);
}

static const struct executor_settings *docker_settings(struct executor *ex)
{
	return &to_docker(ex)->settings;
}

/*
 * docker-autoscaler: the docker executor on the instance an autoscaler
 * acquired for the job (gitlab-runner's executors/docker/autoscaler).
 */
static int docker_autoscaler_prepare(const struct executor_options *opts,
				     struct executor **out, struct buf *err)
{
	int r;

	if (!opts->instance) {
		buf_seterr(err, "the docker-autoscaler executor runs jobs on instances of [runners.autoscaler], and no instance was acquired for this job");
		return CR_ERR_CONFIG;
	}
	if ((r = docker_prepare(opts, out, err)) == 0)
		(*out)->ops = &docker_autoscaler_executor;
	return r;
}

const struct executor_ops docker_autoscaler_executor = {
	.name = "docker-autoscaler",
	.prepare = docker_autoscaler_prepare,
	.run = docker_run,
	.cancel = docker_cancel,
	.cleanup = docker_cleanup,
	.hook = docker_hook,
	.settings = docker_settings,
	.stage_scripts_everywhere = 1,
	.exit_code_wording = 1,
};

const struct executor_ops docker_executor = {
	.name = "docker",
	.prepare = docker_prepare,
	.run = docker_run,
	.cancel = docker_cancel,
	.cleanup = docker_cleanup,
	.hook = docker_hook,
	.settings = docker_settings,
	/* The helper container runs them: no job file is on this host. */
	.stage_scripts_everywhere = 1,
	.exit_code_wording = 1,
};
