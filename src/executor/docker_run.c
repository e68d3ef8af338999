/*
 * The docker executor's container runs: create, start, follow the logs
 * (stdout/stderr frames into the trace, or into a buffer), wait, inspect
 * (OOM kill), remove; and the end of an operation, always from the loop.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "config/config.h"
#include "executor/docker_api.h"
#include "executor/docker_int.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* ---- output and the end of an operation ---- */

void docker_say(struct docker_job *dj, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	(void)buf_vaddf(&line, fmt, ap);
	va_end(ap);
	(void)buf_addch(&line, '\n');
	if (dj->on_output)
		dj->on_output(dj->ctx, 0, line.data, line.len);
	buf_release(&line);
}

void docker_fail(struct docker_job *dj, int err, const char *fmt, ...)
{
	va_list ap;

	if (!dj->err)
		dj->err = err;
	if (!dj->error || dj->error->len)
		return;
	va_start(ap, fmt);
	(void)buf_vaddf(dj->error, fmt, ap);
	va_end(ap);
}

static void stop_grace(struct docker_job *dj)
{
	if (dj->retry_timer)
		loop_cancel_timer(dj->loop, dj->retry_timer);
	dj->retry_timer = 0;
	if (dj->grace_timer)
		loop_cancel_timer(dj->loop, dj->grace_timer);
	dj->grace_timer = 0;
}

static long on_done(struct loop *loop, void *ctx)
{
	struct docker_job *dj = ctx;
	executor_exit_cb cb = dj->on_exit;
	void *cb_ctx = dj->ctx;
	int status = dj->exit_status, err = dj->reason ? dj->reason : dj->err;

	(void)loop;
	dj->done_timer = 0;
	dj->op = OP_NONE;
	dj->on_exit = NULL;
	dj->on_output = NULL;
	dj->error = NULL;
	/* The engine may free us from here: touch nothing after. */
	if (cb)
		cb(cb_ctx, status, err);
	return LOOP_TIMER_STOP;
}

/* Ends the operation; on_exit comes from the loop, never from here. */
void docker_op_end(struct docker_job *dj)
{
	stop_grace(dj);
	if (dj->kill_req) {
		docker_api_cancel(dj->kill_req);
		dj->kill_req = NULL;
	}
	buf_release_secret(&dj->upload);
	if (!dj->done_timer)
		dj->done_timer = loop_add_timer(dj->loop, 0, on_done, dj);
}

void docker_op_begin(struct docker_job *dj, enum docker_op op,
		     const struct executor_stage *stage)
{
	dj->op = op;
	dj->on_output = stage->on_output;
	dj->on_exit = stage->on_exit;
	dj->ctx = stage->ctx;
	dj->error = stage->error;
	dj->reason = 0;
	dj->err = 0;
	dj->exit_status = -1;
	dj->after_run = NULL;
}

/* ---- a container run: create, start, logs, wait, inspect, remove ---- */

#define INSPECT_TRIES 5
#define INSPECT_RETRY_MS 200L

static void run_step(struct docker_job *dj);

/* The container is gone: hand over to whoever started the run. */
static void run_done(struct docker_job *dj)
{
	void (*after)(struct docker_job *) = dj->after_run;

	dj->after_run = NULL;
	after(dj);
}

void docker_forget_container(struct docker_job *dj, const char *id)
{
	size_t i;

	for (i = 0; i < dj->containers.nr; i++) {
		if (!strcmp(dj->containers.v[i], id)) {
			free((char *)dj->containers.v[i]);
			memmove(&dj->containers.v[i], &dj->containers.v[i + 1],
				(dj->containers.nr - i) * sizeof(char *));
			dj->containers.nr--;
			return;
		}
	}
}

static void on_kill(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;

	(void)resp;	/* a container that already stopped says 409: fine */
	dj->kill_req = NULL;
}

static void send_kill(struct docker_job *dj, const char *sig)
{
	struct buf path = BUF_INIT;

	if (!dj->cid || dj->kill_req)
		return;
	(void)buf_addf(&path, "/containers/%s/kill?signal=%s", dj->cid, sig);
	dj->kill_req = docker_api_call(dj->api, "POST", path.data, NULL, 0,
				       on_kill, dj);
	buf_release(&path);
}

static long on_grace(struct loop *loop, void *ctx)
{
	struct docker_job *dj = ctx;

	(void)loop;
	dj->grace_timer = 0;
	if (dj->kill_req) {
		docker_api_cancel(dj->kill_req);
		dj->kill_req = NULL;
	}
	send_kill(dj, "SIGKILL");
	return LOOP_TIMER_STOP;
}

static void on_log_data(void *ctx, int is_stderr, const char *data,
			size_t len)
{
	struct docker_job *dj = ctx;

	if (dj->capture) {
		if (dj->captured.len + len <= DOCKER_CAPTURE_MAX)
			(void)buf_add(&dj->captured, data, len);
		return;
	}
	if (dj->on_output)
		dj->on_output(dj->ctx, is_stderr, data, len);
}

static long on_retry(struct loop *loop, void *ctx)
{
	struct docker_job *dj = ctx;

	(void)loop;
	dj->retry_timer = 0;
	run_step(dj);
	return LOOP_TIMER_STOP;
}

static json_t *answer_json(struct docker_api_response *resp)
{
	return json_loadb(resp->body.data, resp->body.len, 0, NULL);
}

static void on_run_answer(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	struct buf why = BUF_INIT;
	json_t *j = NULL;

	dj->req = NULL;
	switch (dj->step) {
	case RUN_CREATE:
		j = answer_json(resp);
		if (resp->status == 201 &&
		    json_string_value(json_object_get(j, "Id"))) {
			dj->cid = xstrdup(json_string_value(json_object_get(j, "Id")));
			strvec_push(&dj->containers, dj->cid);
			dj->step = dj->reason ? RUN_REMOVE : dj->upload.len ?
				RUN_UPLOAD : RUN_START;
		} else {
			docker_api_describe(resp, &why);
			docker_fail(dj, CR_ERR_IO, "cannot create a container of image '%s': %s",
			     dj->ctype == CTYPE_HELPER ? dj->helper_image :
			     dj->image, why.data);
			dj->step = RUN_REMOVE;
		}
		break;
	case RUN_UPLOAD:
		buf_release_secret(&dj->upload);
		if (resp->status == 200) {
			dj->step = dj->reason ? RUN_REMOVE : RUN_START;
		} else {
			docker_api_describe(resp, &why);
			docker_fail(dj, CR_ERR_IO, "cannot copy the script into container '%s': %s",
				    dj->cid, why.data);
			dj->step = RUN_REMOVE;
		}
		break;
	case RUN_START:
		if (resp->status == 204 || resp->status == 304) {
			dj->started = 1;
			dj->step = RUN_LOGS;
			if (dj->reason)	/* cancelled while it started */
				docker_run_cancel(dj);
		} else {
			docker_api_describe(resp, &why);
			docker_fail(dj, CR_ERR_IO, "cannot start a container of image '%s': %s",
			     dj->ctype == CTYPE_HELPER ? dj->helper_image :
			     dj->image, why.data);
			dj->step = RUN_REMOVE;
		}
		break;
	case RUN_LOGS:
		if (resp->status != 200) {
			docker_api_describe(resp, &why);
			docker_fail(dj, CR_ERR_IO, "cannot read the output of container '%s': %s",
			     dj->cid, why.data);
		}
		/* The stream ends when the container stops: wait says how. */
		dj->step = RUN_WAIT;
		break;
	case RUN_WAIT:
		j = answer_json(resp);
		if (resp->status == 200 && json_is_integer(json_object_get(j, "StatusCode"))) {
			dj->exit_status = (int)json_integer_value(
				json_object_get(j, "StatusCode"));
		} else {
			docker_api_describe(resp, &why);
			docker_fail(dj, CR_ERR_IO, "cannot wait for container '%s': %s",
			     dj->cid, why.data);
		}
		dj->step = RUN_INSPECT;
		break;
	case RUN_INSPECT:
		j = answer_json(resp);
		if (resp->status == 200 &&
		    json_is_true(json_object_get(json_object_get(j, "State"),
						 "OOMKilled")))
			dj->oom_killed = 1;
		/*
		 * The engine records an OOM kill from an event that may come
		 * after the exit: a failed run under a memory limit looks again.
		 */
		if (resp->status == 200 && !dj->oom_killed &&
		    dj->exit_status != 0 && dj->dc->memory && !dj->reason &&
		    ++dj->inspect_tries < INSPECT_TRIES) {
			json_decref(j);
			dj->retry_timer = loop_add_timer(dj->loop, INSPECT_RETRY_MS,
							 on_retry, dj);
			return;
		}
		dj->step = RUN_REMOVE;
		break;
	case RUN_REMOVE:
		if (resp->status == 204 || resp->status == 404)
			docker_forget_container(dj, dj->cid);
		else {
			docker_api_describe(resp, &why);
			docker_fail(dj, CR_ERR_IO, "cannot remove container '%s': %s",
			     dj->cid, why.data);
		}
		free(dj->cid);
		dj->cid = NULL;
		json_decref(j);
		buf_release(&why);
		stop_grace(dj);
		run_done(dj);
		return;
	}
	json_decref(j);
	buf_release(&why);
	run_step(dj);
}

static void run_step(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	switch (dj->step) {
	case RUN_CREATE:
		break;	/* started by run_container() */
	case RUN_UPLOAD:
		(void)buf_addf(&path, "/containers/%s/archive?path=/", dj->cid);
		dj->req = docker_api_call_body(dj->api, "PUT", path.data,
					       "application/x-tar",
					       dj->upload.data, dj->upload.len,
					       on_run_answer, dj);
		break;
	case RUN_START:
		(void)buf_addf(&path, "/containers/%s/start", dj->cid);
		dj->req = docker_api_call(dj->api, "POST", path.data, NULL, 0,
					  on_run_answer, dj);
		break;
	case RUN_LOGS:
		(void)buf_addf(&path, "/containers/%s/logs?follow=1&stdout=1&stderr=1",
			       dj->cid);
		dj->req = docker_api_stream(dj->api, "GET", path.data, NULL,
					    DOCKER_STREAM_MUX, on_log_data,
					    on_run_answer, dj);
		break;
	case RUN_WAIT:
		(void)buf_addf(&path, "/containers/%s/wait", dj->cid);
		dj->req = docker_api_call(dj->api, "POST", path.data, NULL, -1,
					  on_run_answer, dj);
		break;
	case RUN_INSPECT:
		(void)buf_addf(&path, "/containers/%s/json", dj->cid);
		dj->req = docker_api_call(dj->api, "GET", path.data, NULL, 0,
					  on_run_answer, dj);
		break;
	case RUN_REMOVE:
		if (!dj->cid) {
			run_done(dj);
			break;
		}
		docker_container_delete_path(dj->dc, dj->cid, &path);
		dj->req = docker_api_call(dj->api, "DELETE", path.data, NULL, 0,
					  on_run_answer, dj);
		break;
	}
	buf_release(&path);
}

/* Starts a container run of cmd; after_run follows once it was removed. */
void docker_run_container(struct docker_job *dj, enum docker_ctype ctype,
			  const struct strvec *cmd, int capture,
			  void (*after_run)(struct docker_job *))
{
	struct docker_container_spec spec = { 0 };
	struct buf body = BUF_INIT, path = BUF_INIT, why = BUF_INIT;
	struct strvec env = STRVEC_INIT, links = STRVEC_INIT,
		aliases = STRVEC_INIT;
	const char *kind = ctype == CTYPE_HELPER ? "predefined" : "build";
	char *image_user = NULL;	/* image:docker:user, expanded */
	size_t i;

	dj->after_run = after_run;
	dj->capture = capture;
	buf_reset(&dj->captured);
	dj->started = dj->oom_killed = dj->inspect_tries = 0;
	dj->step = RUN_CREATE;
	dj->ctype = ctype;
	spec.cmd = cmd;
	spec.hostname = dj->settings.hostname;
	spec.cgroup_parent = dj->slot_cgroup;	/* build and helper, as gitlab-runner */
	spec.labels = docker_labels(&dj->ji, kind);
	/* The shell probe (captured) needs no volume: it runs before them. */
	spec.binds = capture ? NULL : &dj->binds;
	if (ctype == CTYPE_HELPER) {
		/* The stage scripts run "$CRUNNER_HELPER_BIN" artifacts-helper. */
		strvec_push(&env, "CRUNNER_HELPER_BIN=" DOCKER_HELPER_BIN);
		spec.image = dj->helper_image;
		spec.user = "";
		spec.helper = 1;
	} else {
		const struct job_image *img = dj->payload->image;

		spec.image = dj->image;
		spec.entrypoint = dj->entrypoint;
		spec.privileged = docker_privileged(dj->dc, dj->image, 0);
		spec.init = docker_feature_flag(dj,
			"FF_USE_INIT_WITH_DOCKER_EXECUTOR");
		/* config.toml's user wins over the job's image:docker:user. */
		if ((!dj->dc->user || !*dj->dc->user) && img &&
		    img->executor_opts.docker.user &&
		    *img->executor_opts.docker.user) {
			image_user = dj->vars ? variables_expand(dj->vars,
				img->executor_opts.docker.user) :
				xstrdup(img->executor_opts.docker.user);
			spec.user = image_user;
		}
		if (!config_docker_user_allowed(dj->dc, spec.user ? spec.user :
						dj->dc->user)) {
			struct buf list = BUF_INIT;

			for (i = 0; i < dj->dc->allowed_users.nr; i++)
				buf_addf(&list, "%s%s", i ? " " : "",
					 dj->dc->allowed_users.v[i]);
			/* gitlab-runner's words, its %v of the list. */
			docker_fail(dj, CR_ERR_INVALID,
				    "user \"%s\" is not an allowed user: [%s]",
				    spec.user ? spec.user : dj->dc->user,
				    list.data);
			buf_release(&list);
			json_decref(spec.labels);	/* create_body's to free */
			dj->step = RUN_REMOVE;
			run_step(dj);
			goto out;
		}
	}
	spec.env = &env;
	spec.network_mode = docker_network_mode(dj);
	/* gitlab-runner's names of its build and helper containers. */
	strvec_push(&aliases, "build");
	strvec_pushf(&aliases, "%s-%s-%u", dj->prefix.data, kind, dj->seq + 1);
	spec.aliases = &aliases;
	/* On the default bridge: links (a user-defined network: aliases). */
	if (ctype == CTYPE_BUILD && !docker_network_is(dj, "host") &&
	    !docker_network_is(dj, "none") &&
	    !docker_network_user_defined(spec.network_mode)) {
		for (i = 0; i < dj->nr_services; i++) {
			const struct docker_service *s = &dj->services[i];

			if (!s->cid)
				continue;
			strvec_pushf(&links, "%s:%s", s->cid, s->alias &&
				     *s->alias ? s->alias : s->name);
		}
		spec.links = &links;
	}
	if (docker_create_body(dj->dc, &spec, &body, &why) != 0) {
		docker_fail(dj, CR_ERR_INVALID, "%s", why.data);
		dj->step = RUN_REMOVE;
		run_step(dj);
		goto out;
	}
	(void)buf_addf(&path, "/containers/create?name=%s-%s-%u",
		       dj->prefix.data, kind, ++dj->seq);
	if (ctype == CTYPE_BUILD && dj->payload->image)
		docker_add_platform(&path,
				    dj->payload->image->executor_opts.docker.platform);
	dj->req = docker_api_call(dj->api, "POST", path.data, body.data, 0,
				  on_run_answer, dj);
out:
	free(image_user);
	strvec_clear(&env);
	strvec_clear(&links);
	strvec_clear(&aliases);
	buf_release(&body);
	buf_release(&path);
	buf_release(&why);
}

void docker_add_platform(struct buf *path, const char *platform)
{
	char *e;

	if (!platform || !*platform)
		return;
	e = curl_easy_escape(NULL, platform, 0);
	(void)buf_addf(path, "&platform=%s", e);
	curl_free(e);
}

int docker_network_is(const struct docker_job *dj, const char *mode)
{
	const char *have = docker_network_mode(dj);

	return have && !strcmp(have, mode);
}

/* ---- stopping a container run (cancel, timeout) ---- */

/*
 * What gitlab-runner's graceful exit does in the build container before
 * it stops it: SIGTERM to every process but PID 1 and the script itself,
 * the highest PID first (the likeliest to hold the others up), waiting up
 * to 6 s for each to go; shells that ignore SIGTERM stay.
 */
static const char term_procs_script[] =
	"for p in $(ls /proc | grep -E '^[0-9]+$' | sort -rn); do "
	"[ \"$p\" -eq 1 ] || [ \"$p\" -eq $$ ] && continue; "
	"kill -TERM \"$p\" 2>/dev/null || continue; "
	"n=6; while [ -e \"/proc/$p\" ] && [ \"$n\" -gt 0 ]; do "
	"sleep 1; n=$((n-1)); done; done";

/* The bound gitlab-runner gives that step. */
#define TERM_PROCS_TIMEOUT_MS 10000L

static void on_stop(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;

	(void)resp;	/* stopped or gone: the wait says how it ended */
	dj->kill_req = NULL;
}

/*
 * POST /containers/{id}/stop without a timeout, as gitlab-runner's
 * ContainerStop: the image's stop signal to PID 1, SIGKILL after the
 * container's stop timeout (the engine's 10 s); crunner's own SIGKILL
 * after the grace period backs it up.
 */
static void send_stop(struct docker_job *dj)
{
	struct buf path = BUF_INIT;

	if (!dj->cid || dj->grace_timer)
		return;
	if (dj->kill_req) {
		docker_api_cancel(dj->kill_req);
		dj->kill_req = NULL;
	}
	(void)buf_addf(&path, "/containers/%s/stop", dj->cid);
	dj->kill_req = docker_api_call(dj->api, "POST", path.data, NULL, -1,
				       on_stop, dj);
	buf_release(&path);
	dj->grace_timer = loop_add_timer(dj->loop, dj->grace_ms, on_grace, dj);
}

static void on_term_procs_done(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;

	(void)resp;	/* best effort: the stop follows either way */
	dj->kill_req = NULL;
	send_stop(dj);
}

static void on_exec_created(struct docker_api_response *resp, void *ctx)
{
	struct docker_job *dj = ctx;
	json_t *j = json_loadb(resp->body.data, resp->body.len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "Id"));
	struct buf path = BUF_INIT;

	dj->kill_req = NULL;
	if (resp->status != 201 || !id) {
		/* Not running any more, or no sh: straight to the stop. */
		json_decref(j);
		send_stop(dj);
		return;
	}
	(void)buf_addf(&path, "/exec/%s/start", id);
	dj->kill_req = docker_api_call(dj->api, "POST", path.data,
				       "{\"Detach\":false,\"Tty\":false}",
				       TERM_PROCS_TIMEOUT_MS,
				       on_term_procs_done, dj);
	buf_release(&path);
	json_decref(j);
}

static void term_procs(struct docker_job *dj)
{
	struct buf path = BUF_INIT;
	json_t *body = json_pack("{s:b, s:b, s:b, s:[s, s, s]}",
				 "AttachStdin", 0, "AttachStdout", 1,
				 "AttachStderr", 1, "Cmd", "sh", "-c",
				 term_procs_script);
	char *text = json_dumps(body, JSON_COMPACT);

	(void)buf_addf(&path, "/containers/%s/exec", dj->cid);
	dj->kill_req = docker_api_call(dj->api, "POST", path.data, text, 0,
				       on_exec_created, dj);
	free(text);
	json_decref(body);
	buf_release(&path);
}

/*
 * Stops the container run as gitlab-runner does: in the build container,
 * unless FF_USE_NATIVE_CONTAINER_STOP, first SIGTERM to its processes
 * (PID 1, the script's shell, passes none on), then the engine's stop;
 * the helper, or with the flag, the engine's stop only (SIGTERM to PID 1
 * alone, which must pass it on).  Before the container runs, the answers
 * to create and start see dj->reason instead.
 */
void docker_run_cancel(struct docker_job *dj)
{
	if (dj->step != RUN_LOGS && dj->step != RUN_WAIT)
		return;
	if (dj->grace_timer || dj->kill_req || !dj->cid)
		return;
	if (dj->ctype == CTYPE_BUILD &&
	    !docker_feature_flag(dj, "FF_USE_NATIVE_CONTAINER_STOP"))
		term_procs(dj);
	else
		send_stop(dj);
}
