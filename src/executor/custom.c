/*
 * The custom executor: gitlab-runner's protocol for drivers, the programs
 * named in [runners.custom] (see custom_int.h for who gets what).
 *
 * prepare makes the job's private temporary directory (the drivers'
 * TMPDIR and working directory) and writes the job response file there;
 * the hooks run config_exec, prepare_exec and cleanup_exec; run writes
 * each stage's script to <tmp>/script<N>/script.<ext> and runs
 * "run_exec run_args... <script> <stage>".  cleanup removes the directory,
 * the response file with it.
 *
 * Exit codes: 0 is success, BUILD_FAILURE_EXIT_CODE a failure of the job's
 * script (its own exit code read from BUILD_EXIT_CODE_FILE when the driver
 * wrote one), SYSTEM_FAILURE_EXIT_CODE a system failure, and anything else
 * an "unknown" exit code, which gitlab-runner also reports as a system
 * failure.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config.h"
#include "executor/custom_int.h"
#include "executor/executor.h"
#include "util/fs.h"
#include "util/private_dir.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* Its private dirs: TMPDIR/custom-executor-XXXXXX. */
#define CUSTOM_TMP_PREFIX "custom-executor-"

enum custom_kind {
	KIND_CONFIG,
	KIND_PREPARE,
	KIND_RUN,
	KIND_CLEANUP,
};

static const char *const kind_names[] = {
	"config_exec", "prepare_exec", "run_exec", "cleanup_exec",
};

struct custom_job {
	struct executor base;
	struct loop *loop;
	const struct config_custom *cc;		/* borrowed */
	const struct job_payload *payload;	/* borrowed */
	const struct variables *variables;	/* borrowed, read per start */
	enum script_shell shell;
	struct strvec environ;
	int have_environ;
	long graceful_ms, force_ms, drain_ms;
	/* Ours (the payload, scripts): made by prepare, removed by cleanup. */
	struct private_dir tmp;
	char *response_file;
	char *exit_code_file;
	unsigned seq;

	struct custom_config config;	/* config_exec's answer */
	struct executor_settings settings;
	struct buf banner;

	/* The program running, if any. */
	int busy;
	enum custom_kind kind;
	struct custom_run run;
	uint64_t noop_timer;	/* a hook with no program ends through it */
	int noop_reason;
	executor_exit_cb on_exit;
	void *ctx;
	struct buf *error;
};

static struct custom_job *to_custom(struct executor *ex)
{
	return (struct custom_job *)ex;
}

static long secs_to_ms(int s, int def)
{
	return (long)(s > 0 ? s : def) * 1000L;
}

static void custom_cleanup(struct executor *ex);

static void refresh_settings(struct custom_job *cj)
{
	struct executor_settings *s = &cj->settings;

	buf_reset(&cj->banner);
	custom_config_banner(&cj->config, &cj->banner);
	s->builds_dir = cj->config.builds_dir;
	s->cache_dir = cj->config.cache_dir;
	s->builds_dir_is_shared = cj->config.builds_dir_is_shared;
	s->hostname = cj->config.hostname;
	s->shell = cj->config.shell;
	s->banner = cj->banner.data;
}

static int custom_prepare(const struct executor_options *opts,
			  struct executor **out, struct buf *err)
{
	struct custom_job *cj = xcalloc(1, sizeof(*cj));
	struct buf path = BUF_INIT;
	const char *parent;
	int r = CR_ERR_INTERNAL;

	cj->tmp = (struct private_dir)PRIVATE_DIR_INIT;
	cj->base.ops = &custom_executor;
	cj->loop = opts->loop;
	cj->payload = opts->payload;
	cj->variables = opts->variables;
	cj->shell = opts->shell;
	strvec_init(&cj->environ);
	if (opts->environ) {
		strvec_pushv(&cj->environ, (const char **)opts->environ);
		cj->have_environ = 1;
	}
	custom_config_init(&cj->config);
	buf_init(&cj->banner, 0);
	custom_run_init(&cj->run);
	refresh_settings(cj);

	if (!opts->runner || !opts->runner->custom.present) {
		buf_seterr(err, "custom executor not configured: [runners.custom] is missing");
		r = CR_ERR_INVALID;
		goto out;
	}
	cj->cc = &opts->runner->custom;
	if (!cj->cc->run_exec || !*cj->cc->run_exec) {
		buf_seterr(err, "custom executor is missing run_exec");
		r = CR_ERR_INVALID;
		goto out;
	}
	cj->graceful_ms = secs_to_ms(cj->cc->graceful_kill_timeout,
				     CUSTOM_DEFAULT_GRACEFUL_KILL);
	cj->force_ms = secs_to_ms(cj->cc->force_kill_timeout,
				  CUSTOM_DEFAULT_FORCE_KILL);
	cj->drain_ms = opts->drain_ms > 0 ? opts->drain_ms : EXECUTOR_DRAIN_MS;

	parent = opts->tmp_dir;
	if (!parent || !*parent)
		parent = getenv("TMPDIR");
	if (!parent || !*parent)
		parent = "/tmp";
	/* It holds the payload and the scripts: a killed crunner's go. */
	(void)private_dir_clean_stale(parent, CUSTOM_TMP_PREFIX);
	if ((r = private_dir_create(parent, CUSTOM_TMP_PREFIX, &cj->tmp,
				    err)) != 0)
		goto out;
	(void)buf_addf(&path, "%s/response.json", cj->tmp.path);
	cj->response_file = buf_detach(&path, NULL);
	(void)buf_addf(&path, "%s/build_exit_code", cj->tmp.path);
	cj->exit_code_file = buf_detach(&path, NULL);
	if ((r = custom_env_write_response(cj->response_file, cj->payload,
					   err)) != 0)
		goto out;
	*out = &cj->base;
	cj = NULL;
	r = 0;
out:
	buf_release(&path);
	if (cj)
		custom_cleanup(&cj->base);
	return r;
}

/* ---- the end of a program: gitlab-runner's exit code mapping ---- */

static void say(struct custom_job *cj, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct custom_job *cj, const char *fmt, ...)
{
	va_list ap;

	if (!cj->error || cj->error->len)
		return;
	va_start(ap, fmt);
	(void)buf_vaddf(cj->error, fmt, ap);
	va_end(ap);
}

/*
 * BUILD_EXIT_CODE_FILE: the job script's own exit code, when the driver
 * wrote it.  Returns 0 and sets *code, 1 when there is no file, -1 when
 * it does not hold a number.
 */
static int read_exit_code_file(const char *path, int *code)
{
	char text[32];
	char *end;
	long v;
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return 1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	text[strcspn(text, "\r\n")] = '\0';
	errno = 0;
	v = strtol(text, &end, 10);
	if (!*text || *end || errno || v < 0 || v > 255)
		return -1;
	*code = (int)v;
	return 0;
}

static void describe_status(const struct proc *p, struct buf *out)
{
	if (WIFSIGNALED(p->status)) {
		const char *name = strsignal(WTERMSIG(p->status));

		(void)buf_addf(out, "signal: %s", name ? name : "unknown");
		if (out->len > 8 && out->data[8] >= 'A' && out->data[8] <= 'Z')
			out->data[8] = (char)(out->data[8] - 'A' + 'a');
	} else {
		(void)buf_addf(out, "exit status %d", p->exit_status);
	}
}

/* Maps how the program ended to on_exit's (exit_status, err). */
static int program_result(struct custom_job *cj, int *exit_status)
{
	struct custom_run *run = &cj->run;
	const char *what = kind_names[cj->kind];
	struct buf how = BUF_INIT;
	int r = 0, code;

	*exit_status = run->child.proc.exited ? run->child.proc.exit_status : -1;
	if (run->child.reason) {
		r = run->child.reason;
		goto out;
	}
	if (run->child.abandoned) {
		say(cj, "%s: failed to kill process, likely process is dormant",
		    what);
		r = CR_ERR_IO;
		goto out;
	}
	if (run->child.timed_out) {
		say(cj, "%s: execution took longer than %ld seconds", what,
		    run->child.timeout_ms / 1000);
		r = CR_ERR_IO;
		goto out;
	}
	if (!run->child.proc.exited) {
		say(cj, "%s: the process ended without an exit status", what);
		r = CR_ERR_IO;
		goto out;
	}
	describe_status(&run->child.proc, &how);
	if (!WIFSIGNALED(run->child.proc.status) && *exit_status == 0)
		goto out;
	if (!WIFSIGNALED(run->child.proc.status) &&
	    *exit_status == CUSTOM_BUILD_FAILURE_EXIT_CODE) {
		switch (read_exit_code_file(cj->exit_code_file, &code)) {
		case 0:
			*exit_status = code;
			break;
		case 1:
			break;
		default:
			say(cj, "unknown Custom executor executable exit code %d; executable execution terminated with: %s",
			    CUSTOM_SYSTEM_FAILURE_EXIT_CODE, how.data);
			r = CR_ERR_IO;
		}
		goto out;
	}
	if (!WIFSIGNALED(run->child.proc.status) &&
	    *exit_status == CUSTOM_SYSTEM_FAILURE_EXIT_CODE) {
		say(cj, "%s", how.data);
		r = CR_ERR_IO;
		goto out;
	}
	say(cj, "unknown Custom executor executable exit code %d; executable execution terminated with: %s",
	    WIFSIGNALED(run->child.proc.status) ? -1 : *exit_status, how.data);
	r = CR_ERR_IO;
out:
	buf_release(&how);
	return r;
}

/* config_exec ended well: read its answer. */
static int take_config(struct custom_job *cj)
{
	struct custom_run *run = &cj->run;
	struct buf err = BUF_INIT;
	int r;

	if (run->captured_overflow) {
		say(cj, "error while parsing config_exec's JSON output: larger than %zu bytes",
		    (size_t)CUSTOM_MAX_CONFIG_OUTPUT);
		return CR_ERR_INVALID;
	}
	custom_config_release(&cj->config);
	r = custom_config_parse(run->captured.data, run->captured.len,
				&cj->config, &err);
	if (!r && cj->config.shell &&
	    script_shell_parse(cj->config.shell, &cj->shell) != 0) {
		say(cj, "config_exec: shell '%s' is not supported by crunner",
		    cj->config.shell);
		r = CR_ERR_UNSUPPORTED;
	}
	if (r)
		say(cj, "%s", err.data);
	else
		refresh_settings(cj);
	buf_release(&err);
	return r;
}

static void end_program(struct custom_job *cj, int exit_status, int r)
{
	executor_exit_cb cb = cj->on_exit;
	void *ctx = cj->ctx;

	if (cj->kind == KIND_RUN)
		unlink(cj->exit_code_file);
	custom_run_release(&cj->run);
	custom_run_init(&cj->run);
	cj->busy = 0;
	cj->error = NULL;
	if (cb)
		cb(ctx, exit_status, r);
}

static void on_program_done(struct custom_run *run, void *ctx)
{
	struct custom_job *cj = ctx;
	int exit_status, r;

	(void)run;
	r = program_result(cj, &exit_status);
	if (!r && cj->kind == KIND_CONFIG && exit_status == 0)
		r = take_config(cj);
	end_program(cj, exit_status, r);
}

static long on_noop(struct loop *loop, void *ctx)
{
	struct custom_job *cj = ctx;

	(void)loop;
	cj->noop_timer = 0;
	end_program(cj, 0, cj->noop_reason);
	return LOOP_TIMER_STOP;
}

/* ---- starting a program ---- */

static int start_program(struct custom_job *cj, enum custom_kind kind,
			 const char *exec, const struct strvec *args,
			 const char *script, const char *stage_name,
			 const struct executor_stage *stage, struct buf *err)
{
	struct custom_env_options eo = { 0 };
	struct custom_run *run = &cj->run;
	int timeout_s = 0, r;

	if (cj->busy) {
		buf_seterr(err, "cannot run %s: %s is still running",
			   kind_names[kind], kind_names[cj->kind]);
		return CR_ERR_INTERNAL;
	}
	cj->kind = kind;
	cj->on_exit = stage->on_exit;
	cj->ctx = stage->ctx;
	cj->error = stage->error;
	cj->noop_reason = 0;
	if (!exec || !*exec) {
		/* Nothing configured: done, but through the loop. */
		cj->busy = 1;
		cj->noop_timer = loop_add_timer(cj->loop, 0, on_noop, cj);
		return 0;
	}

	custom_run_init(run);
	run->child.loop = cj->loop;
	run->child.what = kind_names[kind];
	run->child.grace_ms = cj->graceful_ms;
	run->child.force_ms = cj->force_ms;
	run->child.drain_ms = cj->drain_ms;
	run->on_output = stage->on_output;
	run->output_ctx = stage->ctx;
	run->on_done = on_program_done;
	run->ctx = cj;
	run->out_mode = run->err_mode = CUSTOM_OUTPUT_TRACE;
	switch (kind) {
	case KIND_CONFIG:
		run->out_mode = CUSTOM_OUTPUT_CAPTURE;
		timeout_s = cj->cc->config_exec_timeout;
		break;
	case KIND_PREPARE:
		timeout_s = cj->cc->prepare_exec_timeout;
		break;
	case KIND_CLEANUP:
		run->out_mode = run->err_mode = CUSTOM_OUTPUT_LOG;
		timeout_s = cj->cc->cleanup_exec_timeout;
		break;
	case KIND_RUN:
		break;	/* the job's and the stage's deadlines apply */
	}
	if (kind != KIND_RUN)
		run->child.timeout_ms = secs_to_ms(timeout_s,
					     CUSTOM_DEFAULT_EXEC_TIMEOUT);

	strvec_push(&run->child.proc.args, exec);
	if (args)
		strvec_pushv(&run->child.proc.args, (const char **)args->v);
	if (script) {
		strvec_push(&run->child.proc.args, script);
		strvec_push(&run->child.proc.args, stage_name);
	}
	if (cj->have_environ) {
		run->child.proc.flags |= PROC_CLEAN_ENV;
		strvec_pushv(&run->child.proc.env, cj->environ.v);
	}
	eo.tmp_dir = cj->tmp.path;
	eo.response_file = cj->response_file;
	eo.exit_code_file = cj->exit_code_file;
	eo.job_env = &cj->config.job_env;
	eo.variables = cj->variables;
	eo.payload = cj->payload;
	custom_env_build(&eo, &run->child.proc.env);
	run->child.proc.dir = cj->tmp.path;

	if (kind == KIND_RUN)
		unlink(cj->exit_code_file);
	if ((r = custom_run_start(run, err)) != 0) {
		custom_run_release(run);
		custom_run_init(run);
		return r;
	}
	cj->busy = 1;
	return 0;
}

static const char *script_extension(enum script_shell shell)
{
	return shell == SCRIPT_SHELL_SH ? "sh" : "bash";
}

static int write_script(const char *path, const char *script, size_t len)
{
	FILE *f = fopen(path, "wxe");
	int e;

	if (!f)
		return -1;
	if (fchmod(fileno(f), 0700) < 0 ||
	    (len && fwrite(script, 1, len, f) != len)) {
		e = errno;
		fclose(f);
		unlink(path);
		errno = e ? e : EIO;
		return -1;
	}
	if (fclose(f) != 0) {
		e = errno;
		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

static int custom_run_stage(struct executor *ex,
			    const struct executor_stage *stage,
			    struct buf *err)
{
	struct custom_job *cj = to_custom(ex);
	struct buf dir = BUF_INIT, path = BUF_INIT;
	const char *name = stage->name && *stage->name ? stage->name : "stage";
	int r;

	if (cj->busy) {
		buf_seterr(err, "cannot run stage '%s': %s is still running",
			   name, kind_names[cj->kind]);
		return CR_ERR_INTERNAL;
	}
	(void)buf_addf(&dir, "%s/script%u", cj->tmp.path, ++cj->seq);
	(void)buf_addf(&path, "%s/script.%s", dir.data,
		       script_extension(cj->shell));
	if (mkdir(dir.data, 0700) < 0 ||
	    write_script(path.data, stage->script, stage->script_len) < 0) {
		buf_seterr(err, "cannot write the script '%s': %s", path.data,
			   strerror(errno));
		r = CR_ERR_IO;
		goto out;
	}
	r = start_program(cj, KIND_RUN, cj->cc->run_exec, &cj->cc->run_args,
			  path.data, name, stage, err);
out:
	buf_release(&dir);
	buf_release(&path);
	return r;
}

static int custom_hook(struct executor *ex, enum executor_hook which,
		       const struct executor_stage *stage, struct buf *err)
{
	struct custom_job *cj = to_custom(ex);
	const struct config_custom *cc = cj->cc;

	switch (which) {
	case EXECUTOR_HOOK_CONFIG:
		return start_program(cj, KIND_CONFIG, cc->config_exec,
				     &cc->config_args, NULL, NULL, stage, err);
	case EXECUTOR_HOOK_PREPARE:
		return start_program(cj, KIND_PREPARE, cc->prepare_exec,
				     &cc->prepare_args, NULL, NULL, stage, err);
	case EXECUTOR_HOOK_CLEANUP:
		return start_program(cj, KIND_CLEANUP, cc->cleanup_exec,
				     &cc->cleanup_args, NULL, NULL, stage, err);
	}
	buf_seterr(err, "unknown executor hook %d", (int)which);
	return CR_ERR_INTERNAL;
}

static const struct executor_settings *custom_settings(struct executor *ex)
{
	return &to_custom(ex)->settings;
}

static void custom_cancel(struct executor *ex, int reason)
{
	struct custom_job *cj = to_custom(ex);

	if (!cj->busy)
		return;
	if (cj->noop_timer) {
		if (!cj->noop_reason)
			cj->noop_reason = reason;
		return;
	}
	custom_run_stop(&cj->run, reason);
}

static void custom_cleanup(struct executor *ex)
{
	struct custom_job *cj;

	if (!ex)
		return;
	cj = to_custom(ex);
	if (cj->noop_timer)
		loop_cancel_timer(cj->loop, cj->noop_timer);
	custom_run_release(&cj->run);
	private_dir_remove(&cj->tmp);
	free(cj->response_file);
	free(cj->exit_code_file);
	custom_config_release(&cj->config);
	buf_release(&cj->banner);
	strvec_clear(&cj->environ);
	free(cj);
}

const struct executor_ops custom_executor = {
	.name = "custom",
	.prepare = custom_prepare,
	.run = custom_run_stage,
	.cancel = custom_cancel,
	.cleanup = custom_cleanup,
	.hook = custom_hook,
	.settings = custom_settings,
	.private_builds_dir = 1,
	/* run_exec gets every sub-stage, as gitlab-runner's drivers do. */
	.stage_scripts_everywhere = 1,
};
