/*
 * The kubernetes executor, in gitlab-runner's model: one pod per job
 * with a "build" container (the job's image), a "helper" container (the
 * helper image: crunner-helper, as for docker) and one container per
 * service; the user's scripts run in the build container, everything
 * else (sources, caches, artifacts, file variables) in the helper; both
 * share the builds dir through an emptyDir.
 *
 *  - prepare(): the API connection (k8s_conn.h), names, dirs;
 *  - CONFIG: the image and the settings (scripts in sh syntax: the shell
 *    found in the image runs them, bash first);
 *  - PREPARE: create the pod, wait until it runs (poll_interval,
 *    poll_timeout), reporting why it does not (k8s_job.c);
 *  - each stage: the script through the exec subresource (k8s_ws.h);
 *  - CLEANUP: delete the pod with cleanup_grace_period_seconds.
 * Every hook and stage runs on a worker thread (k8s_int.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/config.h"
#include "executor/container_script.h"
#include "executor/docker_int.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/kubernetes.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"
#include "version.h"

#define DEFAULT_BUILDS_DIR "/builds"
#define DEFAULT_CACHE_DIR "/cache"
#define DEFAULT_NAMESPACE "default"

/*
 * logs_base_dir / scripts_base_dir (gitlab-runner's baseDir): prepended
 * to /logs-<project>-<job> and /scripts-..., trailing '/' and '\\' cut.
 */
static void add_base_dir(struct buf *b, const char *base)
{
	size_t n = base ? strlen(base) : 0;

	while (n && (base[n - 1] == '/' || base[n - 1] == '\\'))
		n--;
	if (n)
		(void)buf_add(b, base, n);
}

static struct k8s_job *to_k8s(struct executor *ex)
{
	return (struct k8s_job *)ex;
}

static void k8s_cleanup(struct executor *ex);

static char *expand(const struct k8s_job *kj, const char *s)
{
	return kj->vars ? variables_expand(kj->vars, s) : xstrdup(s);
}

static int k8s_prepare(const struct executor_options *opts,
		       struct executor **out, struct buf *err)
{
	struct k8s_job *kj = xcalloc(1, sizeof(*kj));
	const struct runner_config *rc = opts->runner;
	const struct job_payload *p = opts->payload;
	struct docker_job_info ji = { 0 };
	struct k8s_conn conn;
	struct buf b = BUF_INIT;
	const char *v;
	int r = CR_ERR_INTERNAL;

	kj->base.ops = &kubernetes_executor;
	kj->loop = opts->loop;
	kj->fds[0] = kj->fds[1] = -1;
	pthread_mutex_init(&kj->out_lock, NULL);
	buf_init(&kj->unique, 0);
	buf_init(&kj->in, 0);
	buf_init(&kj->script, 0);
	buf_init(&kj->why, 0);
	kj->settings.builds_dir_is_shared = -1;
	k8s_conn_init(&conn);
	atomic_init(&kj->cancel, 0);
	if (!rc || !p) {
		buf_seterr(err, "kubernetes executor: no runner configuration or job payload");
		goto out;
	}
	kj->rc = rc;
	kj->kc = &rc->kubernetes;
	kj->payload = p;
	kj->vars = opts->variables;
	kj->system_id = opts->system_id ? xstrdup(opts->system_id) : NULL;
	if ((r = k8s_conn_resolve(kj->kc, &conn, err)) != 0)
		goto out;
	if ((r = k8s_overwrites_eval(kj->kc, kj->vars, &kj->ov, &b)) != 0) {
		buf_seterr(err, "couldn't prepare overwrites: %s", b.data);
		goto out;
	}
	if (kj->ov.bearer_token) {
		free_secret(conn.token);
		conn.token = xstrdup(kj->ov.bearer_token);
		/* The job's token, not an exec plugin's. */
		k8s_cred_refresh_free(conn.refresh);
		conn.refresh = NULL;
	}
	k8s_api_init(&kj->api, &conn, &kj->cancel);
	/* checkDefaults: namespace_per_job wins over both. */
	if (kj->kc->namespace_per_job) {
		buf_reset(&b);
		(void)buf_addf(&b, "ci-job-%lld", (long long)p->id);
		kj->namespace = buf_detach(&b, NULL);
	} else {
		kj->namespace = xstrdup(kj->ov.namespace ? kj->ov.namespace :
					DEFAULT_NAMESPACE);
	}
	kj->builds_dir = xstrdup(rc->builds_dir && rc->builds_dir[0] == '/' ?
				 rc->builds_dir : DEFAULT_BUILDS_DIR);
	add_base_dir(&b, kj->kc->scripts_base_dir);
	(void)buf_addf(&b, "/scripts-%lld-%lld",
		       (long long)p->job_info.project_id, (long long)p->id);
	kj->scripts_dir = buf_detach(&b, NULL);
	/* gitlab-runner 19's default strategy is attach; the flag: exec. */
	if (!opts->variables || !variables_get_bool(opts->variables,
			"FF_USE_LEGACY_KUBERNETES_EXECUTION_STRATEGY", 0)) {
		add_base_dir(&b, kj->kc->logs_base_dir);
		(void)buf_addf(&b, "/logs-%lld-%lld",
			       (long long)p->job_info.project_id,
			       (long long)p->id);
		kj->logs_dir = buf_detach(&b, NULL);
	}
	kj->helper_image = container_helper_image(kj->kc->helper_image,
						  kj->vars);
	runner_short_token(rc->token, kj->short_token);
	ji.short_token = kj->short_token;
	ji.project_id = p->job_info.project_id;
	v = opts->variables ? variables_get(opts->variables,
					    "CI_CONCURRENT_PROJECT_ID") : NULL;
	ji.concurrent_project_id = v ? (int)strtol(v, NULL, 10) : 0;
	docker_unique_name(&kj->unique, &ji);
	kj->cache_dir = xstrdup(rc->cache_dir && rc->cache_dir[0] == '/' ?
				rc->cache_dir : DEFAULT_CACHE_DIR);
	kj->settings.builds_dir = kj->builds_dir;
	kj->settings.cache_dir = kj->cache_dir;
	kj->settings.builds_dir_is_shared = 0;
	kj->settings.files_elsewhere = 1;
	/*
	 * sh syntax runs in bash and in any POSIX sh the image has; the
	 * shell found in the image (bash first) runs it.
	 */
	kj->settings.shell = "sh";
	kj->settings.hostname = kj->unique.data;
	*out = &kj->base;
	kj = NULL;
	r = 0;
out:
	k8s_conn_release(&conn);
	buf_release(&b);
	if (kj)
		k8s_cleanup(&kj->base);
	return r;
}

/* ---- the worker thread and its output ---- */

static void deliver(struct k8s_job *kj)
{
	while (kj->in.len >= 5) {
		uint32_t n = (uint32_t)(unsigned char)kj->in.data[1] << 24 |
			(uint32_t)(unsigned char)kj->in.data[2] << 16 |
			(uint32_t)(unsigned char)kj->in.data[3] << 8 |
			(uint32_t)(unsigned char)kj->in.data[4];
		int is_stderr = kj->in.data[0] == 1;

		if (kj->in.len < 5 + (size_t)n)
			return;
		if (kj->on_output && n)
			kj->on_output(kj->ctx, is_stderr, kj->in.data + 5, n);
		memmove(kj->in.data, kj->in.data + 5 + n,
			kj->in.len - 5 - n);
		buf_setlen(&kj->in, kj->in.len - 5 - n);
	}
}

static void op_finish(struct k8s_job *kj)
{
	executor_exit_cb cb = kj->on_exit;
	void *ctx = kj->ctx;
	int reason = atomic_load(&kj->cancel);
	int err = kj->err, status = kj->exit_status;

	if (kj->thread_live) {
		pthread_join(kj->thread, NULL);
		kj->thread_live = 0;
	}
	loop_unwatch_fd(kj->loop, kj->fds[0]);
	close(kj->fds[0]);
	kj->fds[0] = -1;
	if (reason && kj->op != K8S_OP_CLEANUP) {
		err = reason;
		status = -1;
	}
	if (err && kj->error && kj->why.len)
		(void)buf_addstr(kj->error, kj->why.data);
	kj->op = K8S_OP_NONE;
	buf_release_secret(&kj->script);
	free(kj->stage_name);
	kj->stage_name = NULL;
	if (cb)
		cb(ctx, status, err);
}

static void on_readable(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct k8s_job *kj = ctx;
	char chunk[16384];
	ssize_t n;

	(void)loop;
	(void)events;
	n = read(fd, chunk, sizeof(chunk));
	if (n > 0) {
		(void)buf_add(&kj->in, chunk, (size_t)n);
		deliver(kj);
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	/* End of stream: the thread is done. */
	op_finish(kj);
}

static void *worker(void *arg)
{
	struct k8s_job *kj = arg;

	switch (kj->op) {
	case K8S_OP_PREPARE:
		k8s_job_prepare(kj);
		break;
	case K8S_OP_RUN:
		k8s_job_run(kj);
		break;
	case K8S_OP_CLEANUP:
		k8s_job_cleanup(kj);
		break;
	default:
		break;
	}
	close(kj->fds[1]);
	kj->fds[1] = -1;
	return NULL;
}

static int op_start(struct k8s_job *kj, enum k8s_op op,
		    const struct executor_stage *stage, struct buf *err)
{
	if (kj->op != K8S_OP_NONE) {
		buf_seterr(err, "kubernetes executor: an operation is already running");
		return CR_ERR_INTERNAL;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, kj->fds) != 0) {
		buf_seterr(err, "kubernetes executor: socketpair: %s",
			   strerror(errno));
		return CR_ERR_IO;
	}
	kj->op = op;
	/* A cancel stops the operation under way, not the ones after it. */
	atomic_store(&kj->cancel, 0);
	kj->on_output = stage->on_output;
	kj->on_exit = stage->on_exit;
	kj->ctx = stage->ctx;
	kj->error = stage->error;
	kj->err = 0;
	kj->exit_status = 0;
	buf_reset(&kj->why);
	buf_reset(&kj->in);
	if (op == K8S_OP_RUN) {
		kj->stage_name = xstrdup(stage->name ? stage->name : "stage");
		(void)buf_add(&kj->script, stage->script, stage->script_len);
	}
	if (loop_watch_fd(kj->loop, kj->fds[0], LOOP_READ, on_readable,
			  kj) != 0 ||
	    pthread_create(&kj->thread, NULL, worker, kj) != 0) {
		loop_unwatch_fd(kj->loop, kj->fds[0]);
		close(kj->fds[0]);
		close(kj->fds[1]);
		kj->fds[0] = kj->fds[1] = -1;
		kj->op = K8S_OP_NONE;
		buf_release_secret(&kj->script);
		free(kj->stage_name);
		kj->stage_name = NULL;
		buf_seterr(err, "kubernetes executor: cannot start a worker thread");
		return CR_ERR_INTERNAL;
	}
	kj->thread_live = 1;
	return 0;
}

/* ---- the executor_ops ---- */

static int resolve_image(struct k8s_job *kj, struct buf *err)
{
	const struct job_image *img = kj->payload->image;

	free(kj->image);
	kj->image = NULL;
	if (img && img->name && *img->name)
		kj->image = expand(kj, img->name);
	else if (kj->kc->image && *kj->kc->image)
		kj->image = xstrdup(kj->kc->image);
	if (!kj->image) {
		buf_seterr(err, "no image: the job has none and [runners.kubernetes] image is not set");
		return CR_ERR_CONFIG;
	}
	return 0;
}

/* CONFIG decides on its own: it ends through a timer, never inline. */
static long config_end(struct loop *loop, void *ctx)
{
	struct k8s_job *kj = ctx;
	executor_exit_cb cb = kj->on_exit;

	(void)loop;
	kj->config_timer = 0;
	kj->op = K8S_OP_NONE;
	if (cb)
		cb(kj->ctx, kj->err ? -1 : 0, kj->err);
	return LOOP_TIMER_STOP;
}

static int k8s_hook(struct executor *ex, enum executor_hook which,
		    const struct executor_stage *stage, struct buf *err)
{
	struct k8s_job *kj = to_k8s(ex);
	struct buf why = BUF_INIT;

	switch (which) {
	case EXECUTOR_HOOK_CONFIG:
		if (kj->op != K8S_OP_NONE) {
			buf_seterr(err, "kubernetes executor: an operation is already running");
			return CR_ERR_INTERNAL;
		}
		kj->op = K8S_OP_CONFIG;
		kj->on_exit = stage->on_exit;
		kj->ctx = stage->ctx;
		kj->err = resolve_image(kj, &why);
		if (kj->err) {
			if (stage->error)
				(void)buf_addstr(stage->error, why.data);
		} else if (stage->on_output) {
			struct buf line = BUF_INIT;
			size_t i;

			for (i = 0; i < kj->ov.log.nr; i++)
				(void)buf_addf(&line, "%s\n", kj->ov.log.v[i]);
			(void)buf_addf(&line, "Using Kubernetes namespace: %s\n"
				       "Using Kubernetes executor with image %s ...\n",
				       kj->namespace, kj->image);
			stage->on_output(stage->ctx, 0, line.data, line.len);
			buf_release(&line);
		}
		buf_release(&why);
		kj->config_timer = loop_add_timer(kj->loop, 0, config_end, kj);
		return 0;
	case EXECUTOR_HOOK_PREPARE:
		return op_start(kj, K8S_OP_PREPARE, stage, err);
	case EXECUTOR_HOOK_CLEANUP:
		return op_start(kj, K8S_OP_CLEANUP, stage, err);
	}
	return CR_ERR_INTERNAL;
}

static int k8s_run(struct executor *ex, const struct executor_stage *stage,
		   struct buf *err)
{
	struct k8s_job *kj = to_k8s(ex);

	if (!kj->pod_created) {
		buf_seterr(err, "kubernetes executor: the pod is not prepared");
		return CR_ERR_INTERNAL;
	}
	return op_start(kj, K8S_OP_RUN, stage, err);
}

static void k8s_cancel(struct executor *ex, int reason)
{
	struct k8s_job *kj = to_k8s(ex);
	int none = 0;

	if (kj->op == K8S_OP_NONE || kj->op == K8S_OP_CLEANUP ||
	    kj->op == K8S_OP_CONFIG)
		return;
	/* The first reason is kept; the thread sees it at its next check. */
	(void)atomic_compare_exchange_strong(&kj->cancel, &none, reason);
}

static void k8s_cleanup(struct executor *ex)
{
	struct k8s_job *kj;

	if (!ex)
		return;
	kj = to_k8s(ex);
	if (kj->config_timer)
		loop_cancel_timer(kj->loop, kj->config_timer);
	if (kj->thread_live) {
		int none = 0;

		(void)atomic_compare_exchange_strong(&kj->cancel, &none,
						     CR_ERR_CANCELED);
		/* Drain so a thread blocked writing can end, then join. */
		if (kj->fds[0] >= 0) {
			char sink[4096];

			loop_unwatch_fd(kj->loop, kj->fds[0]);
			while (read(kj->fds[0], sink, sizeof(sink)) > 0)
				;
			close(kj->fds[0]);
			kj->fds[0] = -1;
		}
		pthread_join(kj->thread, NULL);
		kj->thread_live = 0;
	}
	if (kj->pod_created) {
		struct buf why = BUF_INIT;

		(void)k8s_delete_pod(kj, &why);
		buf_release(&why);
	}
	if (kj->secret_name) {
		struct buf why = BUF_INIT;

		(void)k8s_credentials_delete(kj, &why);
		buf_release(&why);
	}
	if (kj->namespace_created) {
		struct buf why = BUF_INIT;

		(void)k8s_namespace_delete(kj, &why);
		buf_release(&why);
	}
	free(kj->secret_name);
	json_decref(kj->secret);
	k8s_api_release(&kj->api);
	free(kj->namespace);
	k8s_overwrites_release(&kj->ov);
	free(kj->system_id);
	free(kj->image);
	free(kj->helper_image);
	free(kj->builds_dir);
	free(kj->cache_dir);
	free(kj->scripts_dir);
	free(kj->logs_dir);
	free(kj->pod_name);
	pthread_mutex_destroy(&kj->out_lock);
	free(kj->stage_name);
	buf_release(&kj->unique);
	buf_release(&kj->in);
	buf_release_secret(&kj->script);
	buf_release(&kj->why);
	strvec_clear(&kj->events_printed);
	strvec_clear(&kj->warnings_seen);
	free(kj);
}

static const struct executor_settings *k8s_settings(struct executor *ex)
{
	return &to_k8s(ex)->settings;
}

const struct executor_ops kubernetes_executor = {
	.name = "kubernetes",
	.prepare = k8s_prepare,
	.run = k8s_run,
	.cancel = k8s_cancel,
	.cleanup = k8s_cleanup,
	.hook = k8s_hook,
	.settings = k8s_settings,
	/* The helper container runs them: no job file is on this host. */
	.stage_scripts_everywhere = 1,
	.exit_code_wording = 1,
};
