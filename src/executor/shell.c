/*
 * The shell executor: stage scripts run on this host, under bash or sh,
 * each in its own process group, as gitlab-runner's shell executor does:
 * the script is written to a 0700 file in a private per-job directory and
 * given to "bash --noprofile --norc <file>" (or "sh <file>").
 *
 * A stage ends when its shell has exited and both output pipes reached end
 * of file.  When the shell exits, whatever it left in its process group is
 * killed (a background job would otherwise hold the pipes open forever);
 * anything that escaped the group gets drain_ms to let go of the pipes.
 *
 * With opts->user (config.toml's `user`, `run --user`) the shell runs as
 * that user, as gitlab-runner's "su -s /bin/<shell> <user>" would run it
 * (util/run_as.h): the builds dir is made for the user, the script dir
 * may be passed through (0711) and each script belongs to the user.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor/child_run.h"
#include "executor/executor.h"
#include "executor/host_cache.h"
#include "util/fs.h"
#include "util/private_dir.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/proc.h"
#include "util/run_as.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* The stage scripts' private dirs: TMPDIR/crunner-stage-XXXXXX. */
#define SHELL_SCRIPTS_PREFIX "crunner-stage-"

struct shell_job {
	struct executor base;
	struct loop *loop;
	enum script_shell shell;
	char *shell_path;	/* NULL: "bash" or "sh" from PATH */
	struct host_cache *host_cache;	/* borrowed; may be NULL */
	char *builds_dir;	/* the scripts' starting directory; may be NULL */
	/* The stage scripts' private dir: made by prepare, removed by cleanup. */
	struct private_dir tmp;
	struct strvec environ;	/* with have_environ: the whole environment */
	int have_environ;
	const struct run_as *user;	/* NULL: crunner's own */
	long grace_ms, drain_ms;
	unsigned seq;

	/* The running stage: its shell, and where on_exit goes. */
	struct child_run run;
	char *script_path;
	executor_exit_cb on_exit;
	void *ctx;
};

static struct shell_job *to_shell(struct executor *ex)
{
	return (struct shell_job *)ex;
}

static void shell_cleanup(struct executor *ex);

static int shell_prepare(const struct executor_options *opts,
			 struct executor **out, struct buf *err)
{
	struct shell_job *sj = xcalloc(1, sizeof(*sj));
	const char *parent;
	int r = CR_ERR_INTERNAL;

	sj->tmp = (struct private_dir)PRIVATE_DIR_INIT;
	sj->base.ops = &shell_executor;
	sj->loop = opts->loop;
	sj->shell = opts->shell;
	sj->shell_path = opts->shell_path ? xstrdup(opts->shell_path) : NULL;
	sj->host_cache = opts->host_cache;
	sj->builds_dir = opts->builds_dir ? xstrdup(opts->builds_dir) : NULL;
	sj->grace_ms = opts->kill_grace_ms > 0 ? opts->kill_grace_ms :
		EXECUTOR_KILL_GRACE_MS;
	sj->drain_ms = opts->drain_ms > 0 ? opts->drain_ms : EXECUTOR_DRAIN_MS;
	strvec_init(&sj->environ);
	if (opts->environ) {
		strvec_pushv(&sj->environ, (const char **)opts->environ);
		sj->have_environ = 1;
	}
	sj->user = opts->user;
	child_run_init(&sj->run);

	if (sj->builds_dir && !sj->user && fs_mkdir_p(sj->builds_dir, 0755) < 0) {
		buf_seterr(err, "cannot create builds directory '%s': %s",
			   sj->builds_dir, strerror(errno));
		r = CR_ERR_IO;
		goto out;
	}
	/* Made for the job's user, who then owns the builds dir. */
	if (sj->builds_dir && sj->user &&
	    (r = run_as_mkdir_p(sj->user, sj->builds_dir, 0755, err)) != 0)
		goto out;
	parent = opts->tmp_dir;
	if (!parent || !*parent)
		parent = getenv("TMPDIR");
	if (!parent || !*parent)
		parent = "/tmp";
	/*
	 * Stage scripts hold the job's variables, secrets included: those of
	 * a crunner that was killed (SIGKILL, a crash) go before new ones
	 * are written.
	 */
	if (host_cache_sweep_due(opts->host_cache, parent, SHELL_SCRIPTS_PREFIX,
				 loop_now_ms(opts->loop)))
		(void)private_dir_clean_stale(parent, SHELL_SCRIPTS_PREFIX);
	if ((r = private_dir_create(parent, SHELL_SCRIPTS_PREFIX, &sj->tmp,
				    err)) != 0)
		goto out;
	/*
	 * Another user's scripts: the dir stays crunner's (so a stale one is
	 * still cleaned up) but may be passed through; each script belongs
	 * to the user, mode 0700, so no one else reads it.
	 */
	if (sj->user && chmod(sj->tmp.path, 0711) < 0) {
		buf_seterr(err, "cannot open '%s' to user '%s': %s",
			   sj->tmp.path, sj->user->name, strerror(errno));
		r = CR_ERR_IO;
		goto out;
	}
	*out = &sj->base;
	sj = NULL;
	r = 0;
out:
	if (sj)
		shell_cleanup(&sj->base);
	return r;
}

static int write_script(const char *path, const char *script, size_t len,
			const struct run_as *user)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		      0700);
	int e;

	if (fd < 0)
		return -1;
	if (user && fchown(fd, user->uid, user->gid) < 0) {
		e = errno;
		close(fd);
		unlink(path);
		errno = e;
		return -1;
	}
	while (len) {
		ssize_t n = write(fd, script, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			close(fd);
			unlink(path);
			errno = e;
			return -1;
		}
		script += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0) {
		e = errno;
		unlink(path);
		errno = e;
		return -1;
	}
	return 0;
}

/* Forgets the stage; the executor is idle afterwards. */
static void stage_release(struct shell_job *sj)
{
	child_run_release(&sj->run);
	child_run_init(&sj->run);
	if (sj->script_path) {
		unlink(sj->script_path);
		free(sj->script_path);
		sj->script_path = NULL;
	}
}

/* The stage's shell is over: report it.  Touches nothing after on_exit. */
static void on_shell_done(struct child_run *run, void *ctx)
{
	struct shell_job *sj = ctx;
	executor_exit_cb cb = sj->on_exit;
	void *cb_ctx = sj->ctx;
	int status = run->proc.exited ? run->proc.exit_status : -1;
	int reason = run->reason;

	stage_release(sj);
	if (cb)
		cb(cb_ctx, status, reason);
}

static void script_file_name(struct buf *path, const char *dir, unsigned seq,
			     const char *name)
{
	const char *p;

	buf_addf(path, "%s/%u-", dir, seq);
	for (p = name && *name ? name : "stage"; *p; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';

		buf_addch(path, ok ? *p : '_');
	}
	buf_addstr(path, ".sh");
}

/* The PATH the stage's shell is looked up on, as proc_start() takes it. */
static const char *stage_path(const struct shell_job *sj)
{
	size_t i;

	if (!sj->have_environ)
		return getenv("PATH");
	for (i = sj->environ.nr; i-- > 0;)
		if (!strncmp(sj->environ.v[i], "PATH=", 5))
			return sj->environ.v[i] + 5;
	return getenv("PATH");
}

static int shell_run(struct executor *ex, const struct executor_stage *stage,
		     struct buf *err)
{
	struct shell_job *sj = to_shell(ex);
	struct buf path = BUF_INIT, found = BUF_INIT;
	struct child_run *run;
	const char *shell_prog;
	int r = CR_ERR_INTERNAL;

	if (child_run_running(&sj->run)) {
		buf_seterr(err, "cannot run stage '%s': a stage is already running",
			   stage->name ? stage->name : "");
		return CR_ERR_INTERNAL;
	}
	script_file_name(&path, sj->tmp.path, ++sj->seq, stage->name);
	if (write_script(path.data, stage->script, stage->script_len,
			 sj->user) < 0) {
		buf_seterr(err, "cannot write the script '%s': %s", path.data,
			   strerror(errno));
		buf_release(&path);
		return CR_ERR_IO;
	}
	sj->script_path = buf_detach(&path, NULL);

	run = &sj->run;
	child_run_init(run);
	shell_prog = sj->shell_path ? sj->shell_path :
		script_shell_name(sj->shell);
	strvec_push(&run->proc.args, shell_prog);
	if (sj->shell == SCRIPT_SHELL_BASH) {
		strvec_push(&run->proc.args, "--noprofile");
		strvec_push(&run->proc.args, "--norc");
	}
	strvec_push(&run->proc.args, sj->script_path);
	if (sj->have_environ) {
		run->proc.flags |= PROC_CLEAN_ENV;
		strvec_pushv(&run->proc.env, sj->environ.v);
	}
	if (sj->user) {
		/* What "su -s /bin/<shell> <user>" sets, as gitlab-runner runs. */
		run_as_push_env(sj->user, sj->shell_path ? sj->shell_path :
				sj->shell == SCRIPT_SHELL_BASH ? "/bin/bash" :
				"/bin/sh", &run->proc.env);
		run->proc.user = sj->user;
	}
	run->proc.dir = sj->builds_dir;
	/* Found on PATH once per job stream, not per stage (host_cache.h);
	 * a miss is left to proc_start(), which says why. */
	if (!sj->shell_path && sj->host_cache &&
	    host_cache_find_program(sj->host_cache, shell_prog, stage_path(sj),
				    loop_now_ms(sj->loop), &found) == 0)
		run->proc.path = found.data;
	run->loop = sj->loop;
	run->what = shell_prog;
	run->grace_ms = sj->grace_ms;
	run->drain_ms = sj->drain_ms;
	run->big_reads = true;
	run->on_output = stage->on_output;
	run->output_ctx = stage->ctx;
	run->on_done = on_shell_done;
	run->ctx = sj;
	sj->on_exit = stage->on_exit;
	sj->ctx = stage->ctx;
	r = child_run_start(run, err);
	run->proc.path = NULL;
	buf_release(&found);
	if (r != 0)
		stage_release(sj);
	return r;
}

static void shell_cancel(struct executor *ex, int reason)
{
	child_run_stop(&to_shell(ex)->run, reason);
}

static void shell_cleanup(struct executor *ex)
{
	struct shell_job *sj;

	if (!ex)
		return;
	sj = to_shell(ex);
	stage_release(sj);
	private_dir_remove(&sj->tmp);
	free(sj->shell_path);
	free(sj->builds_dir);
	strvec_clear(&sj->environ);
	free(sj);
}

const struct executor_ops shell_executor = {
	.name = "shell",
	.prepare = shell_prepare,
	.run = shell_run,
	.cancel = shell_cancel,
	.cleanup = shell_cleanup,
	.native_prepare = 1,
};
