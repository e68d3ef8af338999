/*
 * The docker executor: each stage script runs in a fresh container of the
 * job's image, through the image's own shell, with the Engine API over
 * dockerd's unix socket (docker_api.h); nothing shells out to the CLI.
 *
 * The work is spread over the engine's hooks (executor.h):
 *  - CONFIG: negotiate the API version, resolve the image (the job's, else
 *    [runners.docker] image; allowed_images), apply the pull policies
 *    (allowed_pull_policies), then detect the image's shell in a
 *    short-lived container (gitlab-runner's probe order: bash, then sh);
 *    the engine then generates the scripts for that shell;
 *  - PREPARE: nothing yet (services will start here);
 *  - each stage: a container run (docker_run.c) of "<shell> <script>",
 *    the script in a private host directory bind-mounted read-only;
 *  - CLEANUP: remove every container the job still has.
 * cleanup() removes what is left synchronously (a job freed mid-stage).
 *
 * XXX the builds dir is bind-mounted from the host at the same path rather
 * than kept in a volume, because the native stages (cache, artifacts) run
 * in crunner on the host; the helper image will change that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "archive/glob.h"
#include "config/config.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "executor/executor.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define PULL_TAIL_MAX 8192

static const char detect_script[] =
	"for s in /usr/local/bin/bash /usr/bin/bash /bin/bash "
	"/usr/local/bin/sh /usr/bin/sh /bin/sh /busybox/sh; do "
	"if [ -x \"$s\" ]; then echo \"$s\"; exit 0; fi; done; "
	"echo shell not found; exit 1";

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

static int docker_prepare(const struct executor_options *opts,
			  struct executor **out, struct buf *err)
{
	struct docker_job *dj = xcalloc(1, sizeof(*dj));
	const struct runner_config *rc = opts->runner;
	const struct job_payload *p = opts->payload;
	struct buf tmpl = BUF_INIT;
	const char *parent;
	char short_token[16] = "";
	int r = CR_ERR_INTERNAL;
	size_t i;

	dj->base.ops = &docker_executor;
	dj->loop = opts->loop;
	dj->payload = p;
	dj->grace_ms = opts->kill_grace_ms > 0 ? opts->kill_grace_ms :
		EXECUTOR_KILL_GRACE_MS;
	buf_init(&dj->unique, 0);
	buf_init(&dj->prefix, 0);
	buf_init(&dj->captured, 0);
	buf_init(&dj->pull_tail, 0);
	strvec_init(&dj->policies);
	strvec_init(&dj->binds);
	strvec_init(&dj->containers);
	dj->settings.builds_dir_is_shared = -1;
	dj->exit_status = -1;

	if (!rc || !p) {
		buf_seterr(err, "docker executor: no runner configuration or job payload");
		goto out;
	}
	dj->dc = &rc->docker;
	dj->token = xstrdup(rc->token ? rc->token : "");
	if ((r = docker_api_new(opts->loop, dj->dc->host, &dj->api, err)) != 0)
		goto out;
	if (opts->builds_dir) {
		dj->builds_dir = xstrdup(opts->builds_dir);
		if (fs_mkdir_p(dj->builds_dir, 0755) < 0) {
			buf_seterr(err, "cannot create builds directory '%s': %s",
				   dj->builds_dir, strerror(errno));
			r = CR_ERR_IO;
			goto out;
		}
	}
	parent = opts->tmp_dir;
	if (!parent || !*parent)
		parent = getenv("TMPDIR");
	if (!parent || !*parent)
		parent = "/tmp";
	(void)buf_addf(&tmpl, "%s/crunner-docker-XXXXXX", parent);
	if (!mkdtemp(tmpl.data)) {
		buf_seterr(err, "cannot create a temporary directory in '%s': %s",
			   parent, strerror(errno));
		r = CR_ERR_IO;
		goto out;
	}
	/* The container's user may not be ours: scripts are world-readable. */
	(void)chmod(tmpl.data, 0755);
	dj->tmp_dir = buf_detach(&tmpl, NULL);

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
	docker_unique_name(&dj->unique, &dj->ji);
	docker_job_prefix(&dj->prefix, &dj->ji, dj->token);
	dj->settings.hostname = dj->unique.data;

	if (dj->builds_dir)
		strvec_pushf(&dj->binds, "%s:%s", dj->builds_dir, dj->builds_dir);
	strvec_pushf(&dj->binds, "%s:%s:ro", dj->tmp_dir, dj->tmp_dir);
	for (i = 0; i < dj->dc->volumes.nr; i++) {
		const char *v = dj->dc->volumes.v[i];

		if (strchr(v, ':'))
			strvec_push(&dj->binds, v);
		else if (!dj->dc->disable_cache)
			/* A bare path: gitlab-runner's per-project cache volume. */
			strvec_pushf(&dj->binds, "%s-cache-%08zx:%s",
				     dj->unique.data, i, v);
	}
	*out = &dj->base;
	dj = NULL;
	r = 0;
out:
	buf_release(&tmpl);
	if (dj)
		docker_cleanup(&dj->base);
	return r;
}

/* ---- CONFIG: engine, image, pull policy, shell ---- */

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
	config_done(dj);
}

static void detect_shell(struct docker_job *dj)
{
	struct strvec cmd = STRVEC_INIT;

	strvec_push(&cmd, "sh");
	strvec_push(&cmd, "-c");
	strvec_push(&cmd, detect_script);
	docker_run_container(dj, &cmd, 1, after_detect);
	strvec_clear(&cmd);
}

static void try_policy(struct docker_job *dj);
static void pull_image(struct docker_job *dj);

static void policies_text(struct docker_job *dj, struct buf *out)
{
	size_t i;

	(void)buf_addch(out, '[');
	for (i = 0; i < dj->policies.nr; i++)
		(void)buf_addf(out, "%s%s", i ? " " : "", dj->policies.v[i]);
	(void)buf_addch(out, ']');
}

/* This policy did not give us the image: the next one, or the end. */
static void policy_failed(struct docker_job *dj, const char *why)
{
	struct buf list = BUF_INIT;

	if (dj->policy + 1 < dj->policies.nr) {
		docker_say(dj, "WARNING: %s; trying the next pull policy", why);
		dj->policy++;
		dj->pull_tried = 0;
		try_policy(dj);
		return;
	}
	policies_text(dj, &list);
	docker_fail(dj, CR_ERR_NOT_FOUND,
		    "failed to pull image \"%s\" with specified policies %s: %s",
		    dj->image, list.data, why);
	buf_release(&list);
	config_done(dj);
}

static void on_inspect(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	const char *policy = dj->policies.v[dj->policy];
	struct buf why = BUF_INIT;
	json_t *j;

	dj->req = NULL;
	if (resp->status == 200) {
		j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
		if (!dj->pull_tried && strcmp(policy, "always"))
			docker_say(dj, "Using locally found image version due to \"%s\" pull policy",
				   policy);
		docker_say(dj, "Using docker image %s for %s ...",
			   json_string_value(json_object_get(j, "Id")) ?
			   json_string_value(json_object_get(j, "Id")) : "?",
			   dj->image);
		json_decref(j);
		detect_shell(dj);
		return;
	}
	docker_api_describe(resp, &why);
	if (resp->status == 404 && !strcmp(policy, "if-not-present") &&
	    !dj->pull_tried)
		pull_image(dj);
	else if (resp->status && resp->status != 404) {
		docker_fail(dj, CR_ERR_IO, "cannot inspect image '%s': %s",
			    dj->image, why.data);
		config_done(dj);
	} else {
		policy_failed(dj, why.data);
	}
	buf_release(&why);
}

static void inspect_image(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	(void)buf_addf(&path, "/images/%s/json", dj->image);
	dj->req = docker_api_call(dj->api, "GET", path.data, NULL, 0,
				  on_inspect, dj);
	buf_release(&path);
}

static void on_pull_data(void *ctx, int is_stderr, const char *data,
			 size_t len)
{
	struct docker_job *dj = ctx;

	(void)is_stderr;
	if (dj->pull_tail.len + len > PULL_TAIL_MAX) {
		size_t keep = dj->pull_tail.len > PULL_TAIL_MAX / 2 ?
			PULL_TAIL_MAX / 2 : dj->pull_tail.len;

		memmove(dj->pull_tail.data,
			dj->pull_tail.data + dj->pull_tail.len - keep, keep);
		buf_setlen(&dj->pull_tail, keep);
		if (len > PULL_TAIL_MAX / 2) {
			data += len - PULL_TAIL_MAX / 2;
			len = PULL_TAIL_MAX / 2;
		}
	}
	(void)buf_add(&dj->pull_tail, data, len);
}

/* The last {"error": ...} line of a pull's progress, if any. */
static int pull_error(struct docker_job *dj, struct buf *why)
{
	char *line = dj->pull_tail.data, *end;
	int found = 0;

	while (*line) {
		json_t *j;
		const char *e;

		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		j = json_loads(line, 0, NULL);
		e = json_string_value(json_object_get(j, "error"));
		if (e) {
			buf_reset(why);
			(void)buf_addstr(why, e);
			found = 1;
		}
		json_decref(j);
		if (!end)
			break;
		line = end + 1;
	}
	return found;
}

static void on_pull(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	struct buf why = BUF_INIT;

	dj->req = NULL;
	if (resp->status != 200)
		docker_api_describe(resp, &why);
	if (resp->status != 200 || pull_error(dj, &why)) {
		policy_failed(dj, why.data);
		buf_release(&why);
		return;
	}
	buf_release(&why);
	inspect_image(dj);	/* pull_tried: no "locally found" line */
}

static void pull_image(struct docker_job *dj)
{
	struct buf path = BUF_INIT;
	char *name = xstrdup(dj->image), *tag = NULL, *slash, *colon, *e1, *e2;

	dj->pull_tried = 1;
	docker_say(dj, "Pulling docker image %s ...", dj->image);
	slash = strrchr(name, '/');
	colon = strrchr(name, ':');
	if (!strchr(name, '@') && colon && (!slash || colon > slash)) {
		*colon = '\0';
		tag = colon + 1;
	}
	e1 = curl_easy_escape(NULL, name, 0);
	e2 = curl_easy_escape(NULL, tag ? tag : "latest", 0);
	(void)buf_addf(&path, "/images/create?fromImage=%s&tag=%s", e1, e2);
	buf_reset(&dj->pull_tail);
	dj->req = docker_api_stream(dj->api, "POST", path.data,
				    DOCKER_STREAM_RAW, on_pull_data, on_pull,
				    dj);
	curl_free(e1);
	curl_free(e2);
	free(name);
	buf_release(&path);
}

static void try_policy(struct docker_job *dj)
{
	if (!strcmp(dj->policies.v[dj->policy], "always"))
		pull_image(dj);
	else
		inspect_image(dj);	/* never, if-not-present */
}

/* The pull policies: the job's, else config.toml's, else "always". */
static int resolve_policies(struct docker_job *dj)
{
	const struct job_image *img = dj->payload->image;
	const struct strvec *want = img && img->pull_policy.nr ?
		&img->pull_policy : &dj->dc->pull_policy;
	const struct strvec *allowed = &dj->dc->allowed_pull_policies;
	size_t i, k;

	for (i = 0; i < want->nr; i++) {
		int ok = !allowed->nr;

		for (k = 0; k < allowed->nr; k++)
			if (!strcmp(allowed->v[k], want->v[i]))
				ok = 1;
		if (strcmp(want->v[i], "always") &&
		    strcmp(want->v[i], "never") &&
		    strcmp(want->v[i], "if-not-present")) {
			docker_fail(dj, CR_ERR_INVALID,
				    "unsupported pull_policy \"%s\"", want->v[i]);
			return CR_ERR_INVALID;
		}
		if (ok)
			strvec_push(&dj->policies, want->v[i]);
	}
	if (!want->nr) {
		if (allowed->nr)
			strvec_push(&dj->policies, allowed->v[0]);
		else
			strvec_push(&dj->policies, "always");
	}
	if (!dj->policies.nr) {
		struct buf a = BUF_INIT, b = BUF_INIT;

		for (i = 0; i < want->nr; i++)
			(void)buf_addf(&a, "%s%s", i ? " " : "", want->v[i]);
		for (i = 0; i < allowed->nr; i++)
			(void)buf_addf(&b, "%s%s", i ? " " : "", allowed->v[i]);
		docker_fail(dj, CR_ERR_INVALID,
			    "invalid pull policy for image \"%s\": pull_policy ([%s]) defined in %s is not one of the allowed_pull_policies ([%s])",
			    dj->image, a.data, img && img->pull_policy.nr ?
			    "GitLab pipeline config" : "runner config",
			    b.data);
		buf_release(&a);
		buf_release(&b);
		return CR_ERR_INVALID;
	}
	return 0;
}

static int resolve_image(struct docker_job *dj)
{
	const struct job_image *img = dj->payload->image;
	const struct strvec *allowed = &dj->dc->allowed_images;
	size_t i;

	if (img && img->name && *img->name) {
		int ok = !allowed->nr;

		for (i = 0; i < allowed->nr && !ok; i++)
			ok = glob_match(allowed->v[i], img->name);
		if (!ok) {
			docker_say(dj, "ERROR: The \"%s\" image is not present on list of allowed images:",
				   img->name);
			for (i = 0; i < allowed->nr; i++)
				docker_say(dj, "- %s", allowed->v[i]);
			docker_fail(dj, CR_ERR_INVALID,
				    "invalid image \"%s\": not in allowed_images",
				    img->name);
			return CR_ERR_INVALID;
		}
		dj->image = xstrdup(img->name);
		if (img->entrypoint.nr)
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
			    "cannot connect to the Docker engine at 'unix://%s': %s",
			    docker_api_socket(dj->api), why.data);
		buf_release(&why);
		config_done(dj);
		return;
	}
	if (resolve_image(dj) != 0 || resolve_policies(dj) != 0) {
		config_done(dj);
		return;
	}
	docker_say(dj, "Using Docker executor with image %s ...", dj->image);
	dj->policy = 0;
	dj->pull_tried = 0;
	try_policy(dj);
}

/* ---- the hooks and stages ---- */

static void on_cleanup_answer(struct docker_api_response *resp, void *ctx);

static void cleanup_next(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	if (!dj->containers.nr) {
		dj->exit_status = 0;
		docker_op_end(dj);
		return;
	}
	(void)buf_addf(&path, "/containers/%s?force=1&v=1", dj->containers.v[0]);
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

	if (dj->op != OP_NONE) {
		buf_seterr(err, "docker executor: an operation is already running");
		return CR_ERR_INTERNAL;
	}
	switch (which) {
	case EXECUTOR_HOOK_CONFIG:
		docker_op_begin(dj, OP_CONFIG, stage);
		dj->exit_status = 0;
		dj->req = docker_api_negotiate(dj->api, on_negotiated, dj);
		return 0;
	case EXECUTOR_HOOK_PREPARE:
		docker_op_begin(dj, OP_PREPARE, stage);
		dj->exit_status = 0;
		docker_op_end(dj);
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

static int write_script(const char *path, const char *script, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      0755);
	int e = 0;

	if (fd < 0)
		return -1;
	while (len && !e) {
		ssize_t n = write(fd, script, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			break;
		}
		script += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 && !e)
		e = errno;
	if (e) {
		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

static int docker_run(struct executor *ex, const struct executor_stage *stage,
		      struct buf *err)
{
	struct docker_job *dj = to_docker(ex);
	struct strvec cmd = STRVEC_INIT;
	struct buf path = BUF_INIT;
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
	(void)buf_addf(&path, "%s/%u-", dj->tmp_dir, dj->seq + 1);
	for (p = stage->name && *stage->name ? stage->name : "stage"; *p; p++)
		(void)buf_addch(&path, (*p >= 'a' && *p <= 'z') ||
				(*p >= '0' && *p <= '9') || *p == '_' ? *p : '_');
	(void)buf_addstr(&path, ".sh");
	if (write_script(path.data, stage->script, stage->script_len) < 0) {
		buf_seterr(err, "cannot write the script '%s': %s", path.data,
			   strerror(errno));
		buf_release(&path);
		return CR_ERR_IO;
	}
	docker_op_begin(dj, OP_RUN, stage);
	dj->script_path = buf_detach(&path, NULL);
	strvec_push(&cmd, dj->shell_path);
	if (dj->is_bash) {
		strvec_push(&cmd, "--noprofile");
		strvec_push(&cmd, "--norc");
	}
	strvec_push(&cmd, dj->script_path);
	docker_run_container(dj, &cmd, 0, after_stage);
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
	/* Negotiating, inspecting or pulling: drop it and end now. */
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

	/* A create still on its way has no id yet: its name will do. */
	if (dj->after_run && dj->step == RUN_CREATE && !dj->cid && dj->seq)
		strvec_pushf(&dj->containers, "%s-build-%u", dj->prefix.data,
			     dj->seq);
	for (i = 0; i < dj->containers.nr; i++) {
		struct docker_api_response resp = DOCKER_API_RESPONSE_INIT;

		buf_reset(&path);
		(void)buf_addf(&path, "/containers/%s?force=1&v=1",
			       dj->containers.v[i]);
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
	if (dj->grace_timer)
		loop_cancel_timer(dj->loop, dj->grace_timer);
	if (dj->retry_timer)
		loop_cancel_timer(dj->loop, dj->retry_timer);
	if (dj->done_timer)
		loop_cancel_timer(dj->loop, dj->done_timer);
	if (dj->api)
		remove_sync(dj);
	docker_api_free(dj->api);
	if (dj->script_path)
		unlink(dj->script_path);
	if (dj->tmp_dir)
		fs_remove_tree(dj->tmp_dir);
	free(dj->script_path);
	free(dj->tmp_dir);
	free(dj->builds_dir);
	if (dj->token)
		memset(dj->token, 0, strlen(dj->token));
	free(dj->token);
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

const struct executor_ops docker_executor = {
	.name = "docker",
	.prepare = docker_prepare,
	.run = docker_run,
	.cancel = docker_cancel,
	.cleanup = docker_cleanup,
	.hook = docker_hook,
	.settings = docker_settings,
};
