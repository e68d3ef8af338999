/*
 * gitlab-runner's attach strategy, its default since FF_USE_LEGACY_
 * KUBERNETES_EXECUTION_STRATEGY became false (executors/kubernetes/
 * kubernetes.go: runWithAttach, saveScriptOnEmptyDir, processLogs):
 *
 * - the build and helper containers' main process is a shell reading
 *   its stdin (the pod's containers have stdin: true);
 * - a stage's script is written into the scripts emptyDir over exec;
 * - one line is written to the container's shell over the attach
 *   subresource: it starts the script in the background, its output
 *   appended with tee to the logs emptyDir's output.log, and after it a
 *   line {"command_exit_code": N, "script": "..."};
 * - the log is read from the helper container over exec from the offset
 *   the previous stage ended at (gitlab-runner runs its helper's
 *   read-logs there; crunner's helper image has busybox's tail), lines
 *   to the trace until the stage's exit-status line.  A cut stream is
 *   opened again from the offset reached, with a back-off, as
 *   gitlab-runner's log processor does: the job survives an API server
 *   that is down for a while.
 *
 * Meanwhile the pod is looked at every poll_interval: a build or helper
 * container that stopped, or a pod no longer Running, ends the stage.
 * Cancel (and the job timeout) sends gitlab-runner's stage-cancellation
 * script (SIGTERM to the stage script's processes) over exec.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/k8s_pod.h"
#include "executor/kubernetes/k8s_ws.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define DETECT_SHELL_NAME "detect_shell_script"
#define LOG_NAME "output.log"
#define BACKOFF_MIN_MS 500L
#define BACKOFF_MAX_MS 8000L

/* The stage's view of the log while it is read. */
struct log_reader {
	struct k8s_job *kj;
	const char *script;	/* the stage's script path, in the marker */
	struct buf line;	/* a line not yet complete */
	int blank_held;		/* a "\n" kept back: the marker's own echo */
	int done;		/* the marker came */
	int exit_code;
	int pod_failed;		/* recorded with k8s_fail */
	long long next_check;	/* ms, monotonic: the next pod look */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int poll_interval_s(const struct k8s_job *kj)
{
	return kj->kc->poll_interval > 0 ? kj->kc->poll_interval : 3;
}

static void log_path(const struct k8s_job *kj, struct buf *out)
{
	(void)buf_addf(out, "%s/" LOG_NAME, kj->logs_dir);
}

/*
 * {"command_exit_code": N, "script": "..."}: 1 and *code when line (its
 * newline included) is one.
 */
int k8s_attach_marker(const char *line, size_t len, int *code,
		      struct buf *script)
{
	json_t *o, *c, *s;
	int r = 0;

	if (len == 0 || line[0] != '{')
		return 0;
	o = json_loadb(line, len, JSON_DISABLE_EOF_CHECK, NULL);
	c = json_object_get(o, "command_exit_code");
	if (json_is_integer(c)) {
		*code = (int)json_integer_value(c);
		s = json_object_get(o, "script");
		if (script && json_is_string(s))
			(void)buf_addstr(script, json_string_value(s));
		r = 1;
	}
	json_decref(o);
	return r;
}

/* One whole line of the log (len includes its newline). */
static void on_line(struct log_reader *lr, const char *line, size_t len)
{
	struct buf script = BUF_INIT;
	int code = 0;

	lr->kj->log_offset += (int64_t)len;
	if (k8s_attach_marker(line, len, &code, &script)) {
		/* gitlab-runner swallows every status line; ours ends us. */
		if (!strcmp(script.data, lr->script)) {
			lr->done = 1;
			lr->exit_code = code;
			lr->blank_held = 0;
		}
		buf_release(&script);
		return;
	}
	buf_release(&script);
	if (lr->blank_held) {
		k8s_out(lr->kj, 0, "\n", 1);
		lr->blank_held = 0;
	}
	if (len == 1) {
		lr->blank_held = 1;
		return;
	}
	k8s_out(lr->kj, 0, line, len);
}

static void on_log(void *ctx, int is_stderr, const char *data, size_t len)
{
	struct log_reader *lr = ctx;
	const char *nl;

	if (is_stderr) {
		/* tail's own complaints: not the job's output. */
		return;
	}
	while (len && !lr->done && (nl = memchr(data, '\n', len)) != NULL) {
		size_t n = (size_t)(nl - data) + 1;

		if (lr->line.len) {
			(void)buf_add(&lr->line, data, n);
			on_line(lr, lr->line.data, lr->line.len);
			buf_reset(&lr->line);
		} else {
			on_line(lr, data, n);
		}
		data += n;
		len -= n;
	}
	/* After the marker: the next stage's, read again from the offset. */
	if (!lr->done)
		(void)buf_add(&lr->line, data, len);
}

/*
 * gitlab-runner's checkPodStatus with podContainerStatusChecker: 1 (and
 * the failure recorded) when the pod is not Running or its build or
 * helper container terminated; a failed request is a warning only.
 */
static int pod_failed(struct k8s_job *kj)
{
	struct k8s_api api = kj->api;
	struct k8s_response resp = K8S_RESPONSE_INIT;
	struct buf path = BUF_INIT, why = BUF_INIT;
	json_t *pod = NULL, *status, *cs;
	const char *phase;
	size_t i;
	int r = 0;

	k8s_core_path(&path, kj->namespace, "pods", kj->pod_name);
	if (k8s_api_call(&api, "GET", path.data, NULL, 0, &resp) != 0 ||
	    (resp.status != 200 && resp.status != 404)) {
		k8s_api_describe(&resp, &why);
		if (!atomic_load(&kj->cancel))
			k8s_say(kj, "WARNING: Getting job pod status %s",
				why.data);
		goto out;
	}
	if (resp.status == 404) {
		k8s_fail(kj, CR_ERR_NOT_FOUND, "pods \"%s\" not found",
			 kj->pod_name);
		r = 1;
		goto out;
	}
	pod = json_loadb(resp.body.data, resp.body.len, 0, NULL);
	status = json_object_get(pod, "status");
	phase = json_string_value(json_object_get(status, "phase"));
	if (!phase || strcmp(phase, "Running")) {
		k8s_fail(kj, CR_ERR_INVALID, "pod %s/%s is in phase %s, not Running",
			 kj->namespace, kj->pod_name, phase ? phase : "Unknown");
		r = 1;
		goto out;
	}
	json_array_foreach(json_object_get(status, "containerStatuses"), i,
			   cs) {
		const char *name = json_string_value(json_object_get(cs,
								     "name"));
		json_t *t = json_object_get(json_object_get(cs, "state"),
					    "terminated");

		if (!name || !t || (strcmp(name, K8S_BUILD_CONTAINER) &&
				    strcmp(name, K8S_HELPER_CONTAINER)))
			continue;
		k8s_fail(kj, CR_ERR_INVALID,
			 "Error in container %s: exit code: %lld, reason: '%s'",
			 name, (long long)json_integer_value(
				 json_object_get(t, "exitCode")),
			 json_string_value(json_object_get(t, "reason")) ?
			 json_string_value(json_object_get(t, "reason")) : "");
		r = 1;
		break;
	}
out:
	json_decref(pod);
	buf_release(&path);
	buf_release(&why);
	k8s_response_release(&resp);
	return r;
}

static int reader_stop(void *ctx)
{
	struct log_reader *lr = ctx;

	if (lr->done || lr->pod_failed)
		return 1;
	if (now_ms() < lr->next_check)
		return 0;
	lr->next_check = now_ms() + poll_interval_s(lr->kj) * 1000LL;
	lr->pod_failed = pod_failed(lr->kj);
	return lr->pod_failed;
}

/* A blocking exec without output (scripts written); its exit code. */
static int exec_quiet(struct k8s_job *kj, const struct k8s_api *api,
		      const char *container, const struct strvec *cmd,
		      const char *in, size_t in_len, int *code,
		      struct buf *why)
{
	return k8s_exec(api, kj->namespace, kj->pod_name, container, cmd, in,
			in_len, NULL, NULL, code, NULL, why);
}

/* sh -c 'head -c N > "$1"' sh PATH with text on stdin. */
static int save_script(struct k8s_job *kj, const char *container,
		       const char *path, const char *text, size_t len,
		       const char *then)
{
	struct strvec cmd = STRVEC_INIT;
	struct buf line = BUF_INIT, why = BUF_INIT;
	int code = -1, r;

	(void)buf_addf(&line, "head -c %zu > \"$1\"%s", len, then ? then : "");
	strvec_push(&cmd, "sh");
	strvec_push(&cmd, "-c");
	strvec_push(&cmd, line.data);
	strvec_push(&cmd, "sh");
	strvec_push(&cmd, path);
	r = exec_quiet(kj, &kj->api, container, &cmd, text, len, &code, &why);
	if (r == 0 && code != 0) {
		r = CR_ERR_IO;
		buf_seterr(&why, "exit code %d", code);
	}
	if (r != 0 && r != CR_ERR_CANCELED)
		k8s_fail(kj, r, "saving the script %s in container \"%s\": %s",
			 path, container, why.data);
	strvec_clear(&cmd);
	buf_release(&line);
	buf_release(&why);
	return r;
}

int k8s_attach_setup(struct k8s_job *kj)
{
	struct buf path = BUF_INIT, then = BUF_INIT, log = BUF_INIT;
	int r;

	/*
	 * setupTrappingScripts' detect-shell script, and what the
	 * permissions init container does for attach: the log file made
	 * and opened to both containers' users.
	 */
	(void)buf_addf(&path, "%s/" DETECT_SHELL_NAME, kj->scripts_dir);
	log_path(kj, &log);
	(void)buf_addf(&then, " && touch %s && (chmod 777 %s || exit 0)",
		       log.data, log.data);
	r = save_script(kj, K8S_BUILD_CONTAINER, path.data, k8s_detect_shell,
			strlen(k8s_detect_shell), then.data);
	kj->log_offset = 0;
	buf_release(&path);
	buf_release(&then);
	buf_release(&log);
	return r;
}

/*
 * gitlab-runner's getContainerInfo for sh: the stage in the background
 * (the waiting shell stays free), its output to the log, its status
 * line after it.
 */
void k8s_attach_command(const char *scripts_dir, const char *logs_dir,
			const char *script, struct buf *out)
{
	(void)buf_addf(out,
		       "sh -c '((sh %s/" DETECT_SHELL_NAME " %s; ec=$?; echo; "
		       "echo \"{\\\"command_exit_code\\\": $ec, \\\"script\\\": \\\"%s\\\"}\") "
		       "2>&1 | tee -a %s/" LOG_NAME ") &'\n",
		       scripts_dir, script, script, logs_dir);
}

/*
 * gitlab-runner's stageCancellationScript: SIGTERM to the children of
 * the processes running the stage's script, and to them.
 */
static void cancel_stage(struct k8s_job *kj, const char *container,
			 const char *script)
{
	struct k8s_api api = kj->api;	/* shallow: ignores the cancel flag */
	struct strvec cmd = STRVEC_INIT;
	struct buf text = BUF_INIT, why = BUF_INIT;
	int code = -1;

	api.cancel = NULL;
	(void)buf_addf(&text,
		       "for p in /proc/[0-9]*; do "
		       "tr '\\000' ' ' < $p/cmdline 2>/dev/null | grep -q -e '%s $' || continue; "
		       "n=${p#/proc/}; "
		       "kill -TERM $(cat $p/task/$n/children 2>/dev/null) $n 2>/dev/null; "
		       "done; exit 0", script);
	strvec_push(&cmd, "sh");
	strvec_push(&cmd, "-c");
	strvec_push(&cmd, text.data);
	(void)exec_quiet(kj, &api, container, &cmd, NULL, 0, &code, &why);
	strvec_clear(&cmd);
	buf_release(&text);
	buf_release(&why);
}

/* Reads the log until the stage's status line; 0 when it came. */
static int read_stage_log(struct k8s_job *kj, struct log_reader *lr)
{
	long backoff = BACKOFF_MIN_MS;
	struct buf log = BUF_INIT;
	int r = 0;

	log_path(kj, &log);
	while (!lr->done && !lr->pod_failed) {
		struct k8s_stream_opts o = {
			.ns = kj->namespace, .pod = kj->pod_name,
			.container = K8S_HELPER_CONTAINER,
			.cb = on_log, .stop = reader_stop, .ctx = lr,
		};
		struct strvec cmd = STRVEC_INIT;
		struct buf from = BUF_INIT, why = BUF_INIT;
		int code = -1;

		(void)buf_addf(&from, "+%lld", (long long)kj->log_offset + 1);
		strvec_push(&cmd, "tail");
		strvec_push(&cmd, "-c");
		strvec_push(&cmd, from.data);
		strvec_push(&cmd, "-f");
		strvec_push(&cmd, log.data);
		o.cmd = &cmd;
		buf_reset(&lr->line);
		r = k8s_stream(&kj->api, &o, &code, NULL, &why);
		strvec_clear(&cmd);
		buf_release(&from);
		if (r == CR_ERR_CANCELED || r == CR_ERR_AUTH) {
			if (r == CR_ERR_AUTH)
				k8s_fail(kj, r, "%s", why.data);
			buf_release(&why);
			break;
		}
		buf_release(&why);
		r = 0;
		if (lr->done || lr->pod_failed || reader_stop(lr))
			break;
		/* Cut or ended: again from the offset reached. */
		if (k8s_nap(kj, backoff)) {
			r = CR_ERR_CANCELED;
			break;
		}
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
			backoff * 2;
	}
	buf_release(&log);
	return lr->done ? 0 : r ? r : CR_ERR_IO;
}

void k8s_attach_run(struct k8s_job *kj)
{
	struct buf text = BUF_INIT, file = BUF_INIT, line = BUF_INIT,
		why = BUF_INIT;
	struct log_reader lr = { .kj = kj };
	int build = k8s_stage_in_build(kj->stage_name), code = -1, r;
	const char *container = build ? K8S_BUILD_CONTAINER :
		K8S_HELPER_CONTAINER;

	kj->exit_status = -1;
	buf_init(&lr.line, 0);
	k8s_stage_script(kj, &text);
	k8s_stage_file(kj, &file);
	if (save_script(kj, container, file.data, text.data, text.len,
			NULL) != 0)
		goto out;
	k8s_attach_command(kj->scripts_dir, kj->logs_dir, file.data, &line);
	{
		struct k8s_stream_opts o = {
			.ns = kj->namespace, .pod = kj->pod_name,
			.container = container,
			.stdin_data = line.data, .stdin_len = line.len,
		};

		r = k8s_stream(&kj->api, &o, &code, NULL, &why);
	}
	if (r == CR_ERR_CANCELED)
		goto out;
	if (r != 0) {
		k8s_fail(kj, r, "attaching to container \"%s\": %s", container,
			 why.data);
		goto out;
	}
	lr.script = file.data;
	lr.next_check = now_ms() + poll_interval_s(kj) * 1000LL;
	r = read_stage_log(kj, &lr);
	if (r == 0) {
		kj->exit_status = lr.exit_code;
	} else if (r == CR_ERR_CANCELED) {
		cancel_stage(kj, container, file.data);
	} else if (!kj->err) {
		k8s_fail(kj, r, "the log of container \"%s\" ended before the stage's exit status",
			 container);
	}
out:
	if (lr.line.len && !lr.done)
		k8s_out(kj, 0, lr.line.data, lr.line.len);
	buf_release(&lr.line);
	buf_release_secret(&text);
	buf_release(&file);
	buf_release(&line);
	buf_release(&why);
}
