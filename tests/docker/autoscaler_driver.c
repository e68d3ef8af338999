/*
 * Drives the docker-autoscaler executor through one job on an "instance"
 * given on the command line, as the engine would once taskscaler has
 * acquired it: CONFIG, PREPARE, a build stage, a helper stage, CLEANUP,
 * then cleanup().  Used by tests/integration/t_docker_autoscaler.sh,
 * whose instance is a test sshd on loopback in front of the local engine.
 *
 *   autoscaler_driver --config FILE --payload FILE --addr HOST:PORT
 *       [--user U] [--key FILE] [--password PW] [--tmp-dir DIR]
 *       [--build-script TEXT] [--helper-script TEXT] [--cancel-ms N]
 *       [--var K=V]...
 *
 * Stage output goes to stdout as it comes; after each step one line
 * "== NAME status=S err=E" (E: 0 or the CR_ERR_* name) and, on a
 * failure, "== NAME error: SENTENCE"; "== NAME ms=N", how long it took.  At the end "== children N": the
 * processes crunner still has registered (the forwarder must be gone).
 * Exit status 0 when every step ended; 1 on a driver error.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "autoscale/instance_group.h"
#include "config/config.h"
#include "executor/executor.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/proc.h"

struct step {
	struct loop *loop;
	struct executor *ex;
	const char *name;
	int done, status, err;
	struct buf error;
	long cancel_ms;
	uint64_t cancel_timer;
};

static void on_output(void *ctx, int is_stderr, const char *data, size_t len)
{
	(void)ctx;
	(void)is_stderr;
	fwrite(data, 1, len, stdout);
	fflush(stdout);
}

static void on_exit_cb(void *ctx, int status, int err)
{
	struct step *s = ctx;

	s->done = 1;
	s->status = status;
	s->err = err;
}

static long on_cancel(struct loop *loop, void *ctx)
{
	struct step *s = ctx;

	(void)loop;
	s->cancel_timer = 0;
	printf("== %s cancelling\n", s->name);
	fflush(stdout);
	executor_cancel(s->ex, CR_ERR_CANCELED);
	return LOOP_TIMER_STOP;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* hook < 0: a stage with script; else that hook. */
static int step(struct loop *loop, struct executor *ex, int hook,
		const char *name, const char *script, long cancel_ms)
{
	struct step s = { .loop = loop, .ex = ex, .name = name };
	struct executor_stage es = { 0 };
	struct buf err = BUF_INIT;
	int r;

	long t0 = now_ms();

	buf_init(&s.error, 0);
	es.name = name;
	es.script = script;
	es.script_len = script ? strlen(script) : 0;
	es.on_output = on_output;
	es.on_exit = on_exit_cb;
	es.ctx = &s;
	es.error = &s.error;
	r = hook < 0 ? executor_run(ex, &es, &err) :
		executor_hook(ex, (enum executor_hook)hook, &es, &err);
	if (r) {
		printf("== %s start failed err=%s: %s\n", name, cr_strerror(r),
		       err.data);
		buf_release(&err);
		buf_release(&s.error);
		return r;
	}
	if (cancel_ms > 0)
		s.cancel_timer = loop_add_timer(loop, cancel_ms, on_cancel, &s);
	while (!s.done)
		loop_run_once(loop, 1000);
	if (s.cancel_timer)
		loop_cancel_timer(loop, s.cancel_timer);
	printf("== %s status=%d err=%s\n", name, s.status,
	       s.err ? cr_strerror(s.err) : "0");
	printf("== %s ms=%ld\n", name, now_ms() - t0);
	if (s.err && s.error.len)
		printf("== %s error: %s\n", name, s.error.data);
	fflush(stdout);
	buf_release(&err);
	buf_release(&s.error);
	return s.err ? s.err : (s.status ? 1 : 0);
}

static char *slurp(const char *path, size_t *len)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0) {
		perror(path);
		exit(1);
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	close(fd);
	return buf_detach(&b, len);
}

int main(int argc, char **argv)
{
	const char *config = NULL, *payload_file = NULL, *addr = NULL,
		*user = NULL, *key = NULL, *password = NULL, *tmp_dir = NULL,
		*build = "echo build-stage-ran", *helper = "echo helper-stage-ran";
	long cancel_ms = 0;
	struct config cfg = { 0 };
	struct job_payload *payload = NULL;
	struct variables vars = VARIABLES_INIT;
	struct ig_connect_info ci = { 0 };
	struct executor_options opts = { 0 };
	const struct executor_ops *ops;
	struct executor *ex = NULL;
	struct loop *loop;
	struct buf err = BUF_INIT;
	char *json;
	size_t len;
	int i, r;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];

		if (!strcmp(o, "--config")) config = v;
		else if (!strcmp(o, "--payload")) payload_file = v;
		else if (!strcmp(o, "--addr")) addr = v;
		else if (!strcmp(o, "--user")) user = v;
		else if (!strcmp(o, "--key")) key = v;
		else if (!strcmp(o, "--password")) password = v;
		else if (!strcmp(o, "--tmp-dir")) tmp_dir = v;
		else if (!strcmp(o, "--build-script")) build = v;
		else if (!strcmp(o, "--helper-script")) helper = v;
		else if (!strcmp(o, "--cancel-ms")) cancel_ms = strtol(v, NULL, 10);
		else if (!strcmp(o, "--var")) {
			const char *eq = strchr(v, '=');
			char *k;

			if (!eq)
				return 1;
			k = strndup(v, (size_t)(eq - v));
			variables_add(&vars, k, eq + 1, VAR_PUBLIC);
			free(k);
		} else {
			fprintf(stderr, "unknown option %s\n", o);
			return 1;
		}
	}
	if (!config || !payload_file) {
		fprintf(stderr, "usage: see the top of autoscaler_driver.c\n");
		return 1;
	}
	if (config_load(config, &cfg, &err) != 0 || cfg.nr_runners != 1) {
		fprintf(stderr, "config: %s\n", err.len ? err.data :
			"want one [[runners]]");
		return 1;
	}
	json = slurp(payload_file, &len);
	if (job_payload_decode(json, len, &payload, &err) != 0) {
		fprintf(stderr, "payload: %s\n", err.data);
		return 1;
	}
	free(json);
	variables_add(&vars, "CI_PROJECT_DIR", "/builds/group/project",
		      VAR_PUBLIC);
	variables_add(&vars, "RUNNER_TEMP_PROJECT_DIR",
		      "/builds/group/project.tmp", VAR_PUBLIC);
	variables_add(&vars, "CI_JOB_ID", "1001", VAR_PUBLIC);

	ci.id = strdup("i-driver");
	if (addr)
		ci.internal_addr = strdup(addr);
	if (user)
		ci.conn.username = strdup(user);
	if (password)
		ci.conn.password = strdup(password);
	if (key)
		ci.conn.key = slurp(key, &ci.conn.key_len);

	loop = loop_new();
	opts.loop = loop;
	opts.runner = cfg.runners[0];
	opts.payload = payload;
	opts.variables = &vars;
	opts.tmp_dir = tmp_dir;
	opts.instance = addr ? &ci : NULL;
	ops = executor_find(cfg.runners[0]->executor);
	if (!ops) {
		fprintf(stderr, "no executor '%s'\n", cfg.runners[0]->executor);
		return 1;
	}
	r = ops->prepare(&opts, &ex, &err);
	printf("== prepare err=%s\n", r ? cr_strerror(r) : "0");
	if (r)
		printf("== prepare error: %s\n", err.data);
	fflush(stdout);
	if (!r) {
		r = step(loop, ex, EXECUTOR_HOOK_CONFIG, "config", NULL, 0);
		if (!r)
			r = step(loop, ex, EXECUTOR_HOOK_PREPARE, "prepare_hook",
				 NULL, 0);
		if (!r)
			r = step(loop, ex, -1, "get_sources", helper, 0);
		if (!r)
			(void)step(loop, ex, -1, "step_script", build,
				   cancel_ms);
		(void)step(loop, ex, EXECUTOR_HOOK_CLEANUP, "cleanup_hook",
			   NULL, 0);
		executor_cleanup(ex);
	}
	printf("== children %d\n", proc_registered_count());
	loop_free(loop);
	ig_connect_info_release(&ci);
	variables_release(&vars);
	job_payload_free(payload);
	config_release(&cfg);
	buf_release(&err);
	return 0;
}
