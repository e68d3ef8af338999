/*
 * The ssh executor: every stage script runs on one remote host, piped into
 * "bash -l" over SSH, as gitlab-runner's executors/ssh does
 * ([runners.ssh]: host, port, user, password, identity_file,
 * disable_strict_host_key_checking, known_hosts_file).
 *
 * libssh blocks, so the SSH work runs in a child of crunner ("crunner
 * ssh-helper exec", forked without exec: proc's run_in_child): the loop
 * sees a process whose stdout and stderr are the remote command's and
 * whose exit status is the remote exit status, like the shell executor's.
 * A failure of the helper itself (cannot connect, key refused, connection
 * lost) is a sentence in an error file of ours, so it is never confused
 * with a script that exited 255.  One connection per stage (gitlab-runner
 * keeps one for the job): the price is a key exchange per stage.
 *
 * The CONFIG hook connects once before anything runs, so a wrong password
 * or an unknown host key fails the job in "Preparing", and learns the
 * remote home directory and host name: the builds and cache dirs
 * (gitlab-runner's defaults "builds" and "cache" are relative to it) are
 * on the remote host, and every stage script starts by making the
 * project's directories and the file variables there.
 *
 * The instance executor ([runners.autoscaler]) is this one with another
 * target: the instance the job acquired (executor_options.instance), its
 * address and credentials as the instance group gave them (a key is
 * written to a 0600 file in our private dir), any host key accepted (a
 * fresh instance has none known), as fleeting's connector does.
 *
 * Cancel: SIGTERM to the helper, which sends the KILL signal to the remote
 * command as gitlab-runner does and, because OpenSSH refuses signals to a
 * root login ("session signalling requires privilege separation"), kills
 * the remote process group itself through a second channel: each stage
 * script first writes its process group id to a file in the project's
 * temporary dir for that.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/verbs.h"
#include "config/config.h"
#include "executor/child_run.h"
#include "executor/executor.h"
#include "executor/instance_ssh.h"
#include "executor/ssh_int.h"
#include "autoscale/instance_group.h"
#include "job/variables.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/private_dir.h"
#include "util/proc.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define SSH_SCRIPTS_PREFIX "crunner-ssh-"
/* What the CONFIG hook asks the remote host: its name and home dir. */
#define SSH_PROBE_COMMAND "uname -n; pwd"
#define SSH_PROBE_MAX 4096

struct ssh_job {
	struct executor base;
	struct loop *loop;
	const struct config_ssh *cfg;		/* borrowed until cleanup */
	/* The instance executor's target, which cfg points to; owned. */
	struct config_ssh instance_cfg;
	int is_instance;
	char *instance_id;	/* its id, for the job log; owned */
	const struct runner_config *runner;	/* borrowed until cleanup */
	const struct variables *vars;		/* borrowed, rebuilt in place */
	enum script_shell shell;
	struct private_dir tmp;	/* scripts and error files */
	long grace_ms, drain_ms;
	unsigned seq;

	/* What the CONFIG hook learnt (settings' strings point here). */
	struct executor_settings settings;
	char *hostname, *builds_dir, *cache_dir;

	/* The running stage or hook: the helper process (none for a hook
	 * with nothing to do, which ends through now_timer). */
	int running;
	int probing;		/* the CONFIG hook: stdout is ours, not the trace's */
	struct buf probe_out;
	struct child_run run;
	char *script_path, *error_path;
	executor_output_cb on_output;
	executor_exit_cb on_exit;
	void *ctx;
	struct buf *error;
	int reason;		/* a hook's cancel reason */
	uint64_t now_timer;
};

static struct ssh_job *to_ssh(struct executor *ex)
{
	return (struct ssh_job *)ex;
}

static void ssh_cleanup(struct executor *ex);

static int ssh_start(const struct executor_options *opts,
		     const struct executor_ops *ops, struct ssh_job **out,
		     struct buf *err)
{
	struct ssh_job *sj;
	const char *parent;
	int r;

	sj = xcalloc(1, sizeof(*sj));
	sj->tmp = (struct private_dir)PRIVATE_DIR_INIT;
	sj->base.ops = ops;
	sj->loop = opts->loop;
	sj->cfg = &opts->runner->ssh;
	sj->runner = opts->runner;
	sj->vars = opts->variables;
	sj->shell = opts->shell;
	sj->grace_ms = opts->kill_grace_ms > 0 ? opts->kill_grace_ms :
		EXECUTOR_KILL_GRACE_MS;
	sj->drain_ms = opts->drain_ms > 0 ? opts->drain_ms : EXECUTOR_DRAIN_MS;
	sj->settings.builds_dir_is_shared = -1;
	buf_init(&sj->probe_out, SSH_PROBE_MAX);
	child_run_init(&sj->run);
	parent = opts->tmp_dir;
	if (!parent || !*parent)
		parent = getenv("TMPDIR");
	if (!parent || !*parent)
		parent = "/tmp";
	/* Stage scripts hold the job's secrets: a killed crunner's go first. */
	(void)private_dir_clean_stale(parent, SSH_SCRIPTS_PREFIX);
	if ((r = private_dir_create(parent, SSH_SCRIPTS_PREFIX, &sj->tmp,
				    err)) != 0) {
		ssh_cleanup(&sj->base);
		return r;
	}
	*out = sj;
	return 0;
}

static int ssh_prepare(const struct executor_options *opts,
		       struct executor **out, struct buf *err)
{
	struct ssh_job *sj;
	int r;

	if (!opts->runner || !opts->runner->ssh.present) {
		buf_seterr(err, "missing SSH configuration");
		return CR_ERR_CONFIG;
	}
	if ((r = ssh_start(opts, &ssh_executor, &sj, err)) != 0)
		return r;
	*out = &sj->base;
	return 0;
}

/* "host:port" or "host" (then protocol_port, or 22). */
static void instance_target(struct config_ssh *c,
			    const struct ig_connect_info *ci, int external)
{
	const char *addr = external && ci->external_addr &&
		*ci->external_addr ? ci->external_addr : ci->internal_addr;
	const char *colon = addr ? strrchr(addr, ':') : NULL;
	struct buf b = BUF_INIT;

	if (colon && strchr(addr, ':') == colon) {
		c->host = xmemdup(addr, (size_t)(colon - addr) + 1);
		c->host[colon - addr] = '\0';
		c->port = xstrdup(colon + 1);
	} else {
		c->host = xstrdup(addr ? addr : "");
		(void)buf_addf(&b, "%d", ci->conn.protocol_port > 0 ?
			       ci->conn.protocol_port : 22);
		c->port = buf_detach(&b, NULL);
	}
	if (ci->conn.username)
		c->user = xstrdup(ci->conn.username);
	if (ci->conn.password)
		c->password = xstrdup(ci->conn.password);
	c->disable_strict_host_key_checking = CONFIG_TRUE;
}

static int instance_prepare(const struct executor_options *opts,
			    struct executor **out, struct buf *err)
{
	const struct ig_connect_info *ci = opts->instance;
	struct ssh_job *sj;
	struct buf path = BUF_INIT;
	int r;

	if (!opts->runner || !ci || !ci->internal_addr) {
		buf_seterr(err, "no instance was acquired for the job "
			   "([runners.autoscaler] missing?)");
		return CR_ERR_CONFIG;
	}
	if ((r = ssh_start(opts, &instance_executor, &sj, err)) != 0)
		return r;
	sj->is_instance = 1;
	sj->instance_id = ci->id && *ci->id ?
		instance_dial_ident(ci, opts->runner->autoscaler.log_internal_ip,
				    opts->runner->autoscaler.log_external_ip) :
		xstrdup(ci->internal_addr);
	instance_target(&sj->instance_cfg, ci,
			opts->runner->autoscaler.connector_config
				.use_external_addr);
	sj->cfg = &sj->instance_cfg;
	if (ci->conn.key && ci->conn.key_len) {
		(void)buf_addf(&path, "%s/instance-key", sj->tmp.path);
		if (ssh_write_private_file(path.data, ci->conn.key,
					   ci->conn.key_len) < 0) {
			buf_seterr(err, "cannot write the instance's key '%s': %s",
				   path.data, strerror(errno));
			buf_release(&path);
			ssh_cleanup(&sj->base);
			return CR_ERR_IO;
		}
		sj->instance_cfg.identity_file = buf_detach(&path, NULL);
	}
	*out = &sj->base;
	return 0;
}

/* ---- the stage's helper process ---- */

static void unlink_free(char **path)
{
	if (*path) {
		unlink(*path);
		free(*path);
		*path = NULL;
	}
}

static void stage_release(struct ssh_job *sj)
{
	if (sj->now_timer)
		loop_cancel_timer(sj->loop, sj->now_timer);
	sj->now_timer = 0;
	child_run_release(&sj->run);
	child_run_init(&sj->run);
	unlink_free(&sj->script_path);
	unlink_free(&sj->error_path);
	sj->running = 0;
	sj->probing = 0;
}

/*
 * The CONFIG hook's answer: its last two lines are "<hostname>\n<home>\n"
 * (a login shell's start-up files may print before them).
 */
/* use_common_build_dir: 1 in effect, -1 asked for in vain, 0 not set. */
static int common_build_dir(const struct runner_config *rc)
{
	if (!rc->instance.use_common_build_dir)
		return 0;
	return rc->autoscaler.max_use_count == 1 ? 1 : -1;
}

static int apply_probe(struct ssh_job *sj, struct buf *why)
{
	const struct runner_config *rc = sj->runner;
	char *text = sj->probe_out.data, *home, *host;
	size_t len = sj->probe_out.len;
	struct buf b = BUF_INIT;

	while (len && text[len - 1] == '\n')
		text[--len] = '\0';
	home = memrchr(text, '\n', len);
	if (!home || home[1] != '/') {
		buf_seterr(why, "ssh: cannot tell the home directory on %s: '%s' printed '%.200s'",
			   sj->cfg->host ? sj->cfg->host : "localhost",
			   SSH_PROBE_COMMAND, text);
		return CR_ERR_PROTOCOL;
	}
	*home++ = '\0';
	host = memrchr(text, '\n', (size_t)(home - 1 - text));
	host = host ? host + 1 : text;
	sj->hostname = xstrdup(host);
	/* Relative dirs are the remote home's, as sshd starts there. */
	if (rc->builds_dir && rc->builds_dir[0] == '/')
		(void)buf_addstr(&b, rc->builds_dir);
	else
		(void)buf_addf(&b, "%s/%s", home,
			       rc->builds_dir ? rc->builds_dir : "builds");
	sj->builds_dir = buf_detach(&b, NULL);
	if (rc->cache_dir && rc->cache_dir[0] == '/')
		(void)buf_addstr(&b, rc->cache_dir);
	else
		(void)buf_addf(&b, "%s/%s", home,
			       rc->cache_dir ? rc->cache_dir : "cache");
	sj->cache_dir = buf_detach(&b, NULL);
	sj->settings.builds_dir = sj->builds_dir;
	sj->settings.cache_dir = sj->cache_dir;
	sj->settings.hostname = sj->hostname;
	/*
	 * gitlab-runner's ssh and instance executors: SharedBuildsDir; the
	 * instance's [runners.instance] use_common_build_dir turns it off
	 * when no other job can have used the instance (max_use_count = 1;
	 * crunner has no VM isolation).
	 */
	sj->settings.builds_dir_is_shared =
		sj->is_instance && common_build_dir(rc) == 1 ? 0 : 1;
	sj->settings.files_elsewhere = 1;
	sj->settings.shell = script_shell_name(sj->shell);
	sj->settings.banner = sj->is_instance ? "Using Instance executor..." :
		"Using SSH executor...";
	return 0;
}

/* The helper is over: report the stage.  Touches nothing after on_exit. */
static void on_helper_done(struct child_run *run, void *ctx)
{
	struct ssh_job *sj = ctx;
	executor_exit_cb cb = sj->on_exit;
	void *cb_ctx = sj->ctx;
	int status = run->proc.exited ? run->proc.exit_status : -1;
	int reason = run->reason;
	struct buf why = BUF_INIT;

	if (!reason && sj->error_path)
		ssh_read_small_file(sj->error_path, &why);
	if (!reason && why.len) {
		/* The helper failed, not the script: a system failure. */
		reason = CR_ERR_NETWORK;
		status = -1;
	} else if (!reason && sj->probing && status == 0 &&
		   apply_probe(sj, &why) != 0) {
		reason = CR_ERR_PROTOCOL;
	}
	if (reason && why.len && sj->error) {
		buf_reset(sj->error);
		(void)buf_add(sj->error, why.data, why.len);
	}
	buf_release(&why);
	stage_release(sj);
	if (cb)
		cb(cb_ctx, status, reason);
}

/* The helper's output: the CONFIG hook's stdout is the probe's answer. */
static void on_helper_output(void *ctx, int is_stderr, const char *data,
			     size_t len)
{
	struct ssh_job *sj = ctx;

	if (sj->probing && !is_stderr)
		(void)buf_add(&sj->probe_out, data, len);
	else if (sj->on_output)
		sj->on_output(sj->ctx, is_stderr, data, len);
}

static void push2(struct strvec *args, const char *a, const char *b)
{
	strvec_push(args, a);
	strvec_push(args, b);
}

static void push_target(struct ssh_job *sj, struct strvec *args)
{
	const struct config_ssh *c = sj->cfg;

	if (c->host && *c->host)
		push2(args, "--host", c->host);
	if (c->port && *c->port)
		push2(args, "--port", c->port);
	if (c->user && *c->user)
		push2(args, "--user", c->user);
	if (c->identity_file && *c->identity_file)
		push2(args, "--identity-file", c->identity_file);
	if (c->known_hosts_file && *c->known_hosts_file)
		push2(args, "--known-hosts-file", c->known_hosts_file);
	if (c->disable_strict_host_key_checking == CONFIG_TRUE)
		strvec_push(args, "--disable-strict-host-key-checking");
}

static void stage_file_name(struct buf *path, const char *dir, unsigned seq,
			    const char *name, const char *ext)
{
	const char *p;

	buf_addf(path, "%s/%u-", dir, seq);
	for (p = name && *name ? name : "stage"; *p; p++) {
		int ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			 (*p >= '0' && *p <= '9') || *p == '_' || *p == '-';

		buf_addch(path, ok ? *p : '_');
	}
	buf_addstr(path, ext);
}

/*
 * Starts the helper for command (with the script on its stdin when script
 * is not NULL).
 */
static int start_helper(struct ssh_job *sj, const struct executor_stage *stage,
			const char *command, const char *script,
			size_t script_len, struct buf *err)
{
	struct buf path = BUF_INIT, text = BUF_INIT;
	struct child_run *run;
	char *pgid = NULL;
	int r;

	if (sj->running) {
		buf_seterr(err, "cannot run stage '%s': a stage is already running",
			   stage->name ? stage->name : "");
		return CR_ERR_INTERNAL;
	}
	run = &sj->run;
	child_run_init(run);
	stage_file_name(&path, sj->tmp.path, ++sj->seq, stage->name, ".err");
	sj->error_path = buf_detach(&path, NULL);
	strvec_push(&run->proc.args, "crunner");
	push2(&run->proc.args, "ssh-helper", "exec");
	push_target(sj, &run->proc.args);
	push2(&run->proc.args, "--error-file", sj->error_path);
	if (script) {
		ssh_script_prefix(sj->vars, &text);
		(void)buf_add(&text, script, script_len);
		stage_file_name(&path, sj->tmp.path, sj->seq, stage->name,
				".sh");
		if (ssh_write_private_file(path.data, text.data, text.len) < 0) {
			buf_seterr(err, "cannot write the script '%s': %s",
				   path.data, strerror(errno));
			buf_release(&path);
			buf_release_secret(&text);
			stage_release(sj);
			return CR_ERR_IO;
		}
		buf_release_secret(&text);
		sj->script_path = buf_detach(&path, NULL);
		push2(&run->proc.args, "--stdin-file", sj->script_path);
		if ((pgid = ssh_pgid_path(sj->vars)) != NULL)
			push2(&run->proc.args, "--kill-group-file", pgid);
		free(pgid);
	}
	push2(&run->proc.args, "--", command);
	if (sj->cfg->password && *sj->cfg->password) {
		struct buf kv = BUF_INIT;

		(void)buf_addf(&kv, "CRUNNER_SSH_PASSWORD=%s",
			       sj->cfg->password);
		strvec_push(&run->proc.env, kv.data);
		buf_release_secret(&kv);
	} else {
		strvec_push(&run->proc.env, "CRUNNER_SSH_PASSWORD");
	}
	strvec_push(&run->proc.env, "CRUNNER_SSH_PRIVATE_KEY");
	run->proc.run_in_child = ssh_helper_main;
	run->loop = sj->loop;
	run->what = "ssh helper";
	run->grace_ms = sj->grace_ms;
	run->drain_ms = sj->drain_ms;
	run->on_output = on_helper_output;
	run->output_ctx = sj;
	run->on_done = on_helper_done;
	run->ctx = sj;
	sj->on_output = stage->on_output;
	sj->on_exit = stage->on_exit;
	sj->ctx = stage->ctx;
	sj->error = stage->error;
	sj->reason = 0;
	if ((r = child_run_start(run, err)) != 0) {
		stage_release(sj);
		return r;
	}
	sj->running = 1;
	return 0;
}

static int ssh_run(struct executor *ex, const struct executor_stage *stage,
		   struct buf *err)
{
	struct ssh_job *sj = to_ssh(ex);
	struct buf cmd = BUF_INIT;
	int r;

	/* gitlab-runner: BuildShell.CmdLine, "bash -l" for a login shell. */
	(void)buf_addf(&cmd, "%s -l", script_shell_name(sj->shell));
	r = start_helper(sj, stage, cmd.data, stage->script,
			 stage->script_len, err);
	buf_release(&cmd);
	return r;
}

static long on_now(struct loop *loop, void *ctx)
{
	struct ssh_job *sj = ctx;
	executor_exit_cb cb = sj->on_exit;

	(void)loop;
	sj->now_timer = 0;
	sj->running = 0;
	if (cb)
		cb(sj->ctx, 0, sj->reason);
	return LOOP_TIMER_STOP;
}

static int ssh_hook(struct executor *ex, enum executor_hook which,
		    const struct executor_stage *stage, struct buf *err)
{
	struct ssh_job *sj = to_ssh(ex);
	int r;

	if (which == EXECUTOR_HOOK_CONFIG) {
		buf_reset(&sj->probe_out);
		if ((r = start_helper(sj, stage, SSH_PROBE_COMMAND, NULL, 0,
				      err)) != 0)
			return r;
		sj->probing = 1;
		/* The probe's login dials the instance (gitlab-runner's line). */
		if (sj->is_instance && stage->on_output) {
			struct buf line = BUF_INIT;

			if (common_build_dir(sj->runner) < 0)
				(void)buf_addstr(&line, "WARNING: use_common_build_dir has no effect: requires vm isolation or max_use_count = 1\n");
			(void)buf_addf(&line, "Dialing instance %s...\n",
				       sj->instance_id);
			stage->on_output(stage->ctx, 0, line.data, line.len);
			buf_release(&line);
		}
		return 0;
	}
	/* Nothing to do before or after the stages: end at once. */
	if (sj->running) {
		buf_seterr(err, "cannot run a hook: a stage is already running");
		return CR_ERR_INTERNAL;
	}
	sj->running = 1;
	sj->reason = 0;
	sj->on_output = stage->on_output;
	sj->on_exit = stage->on_exit;
	sj->ctx = stage->ctx;
	sj->error = stage->error;
	sj->now_timer = loop_add_timer(sj->loop, 0, on_now, sj);
	return 0;
}

static void ssh_cancel(struct executor *ex, int reason)
{
	struct ssh_job *sj = to_ssh(ex);

	if (!sj->running)
		return;
	if (!sj->reason)
		sj->reason = reason;
	if (sj->now_timer)
		return;
	child_run_stop(&sj->run, reason);
}

static void ssh_cleanup(struct executor *ex)
{
	struct ssh_job *sj;

	if (!ex)
		return;
	sj = to_ssh(ex);
	stage_release(sj);
	private_dir_remove(&sj->tmp);
	buf_release(&sj->probe_out);
	free(sj->instance_cfg.host);
	free(sj->instance_cfg.port);
	free(sj->instance_cfg.user);
	free_secret(sj->instance_cfg.password);
	free(sj->instance_cfg.identity_file);
	free(sj->instance_id);
	free(sj->hostname);
	free(sj->builds_dir);
	free(sj->cache_dir);
	free(sj);
}

static const struct executor_settings *ssh_settings(struct executor *ex)
{
	return &to_ssh(ex)->settings;
}

const struct executor_ops ssh_executor = {
	.name = "ssh",
	.prepare = ssh_prepare,
	.run = ssh_run,
	.cancel = ssh_cancel,
	.cleanup = ssh_cleanup,
	.hook = ssh_hook,
	.settings = ssh_settings,
	/*
	 * The job's files are on the remote host: caches and artifacts are
	 * stage scripts there, which run "$CRUNNER_HELPER_BIN
	 * artifacts-helper" (crunner must be installed there, as
	 * gitlab-runner's ssh executor needs gitlab-runner there).
	 */
	.stage_scripts_everywhere = 1,
	.exit_code_wording = EXECUTOR_WORDING_SSH,
};

/* The instance executor: the same, on the acquired instance. */
const struct executor_ops instance_executor = {
	.name = "instance",
	.prepare = instance_prepare,
	.run = ssh_run,
	.cancel = ssh_cancel,
	.cleanup = ssh_cleanup,
	.hook = ssh_hook,
	.settings = ssh_settings,
	.stage_scripts_everywhere = 1,
	.exit_code_wording = EXECUTOR_WORDING_SSH,
};
