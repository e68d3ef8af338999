#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "executor/executor.h"
#include "executor/host_cache.h"
#include "job/script.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/proc.h"
#include "util/strvec.h"
#include "file_text.h"

#define ECHOED(cmd) "\033[32;1m$ " cmd "\033[0;m\n"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One test's world: a loop, a scratch dir, an executor, what came out. */
struct fixture {
	char base[64];
	struct buf builds;
	struct loop *loop;
	struct executor_options opts;
	struct executor *ex;

	struct buf out, err;
	int exits, status, err_code;
	uint64_t started, canceled_at, exited_at;
	/* Cancel with cancel_reason once stdout holds cancel_on. */
	const char *cancel_on;
	int cancel_reason, canceled;
	/* From on_exit: run this next stage, or clean up. */
	const struct buf *next_script;
	int cleanup_in_exit;
	int registered_before;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->base, sizeof(f->base), "/tmp/crunner-test-shell-XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	buf_init(&f->builds, 0);
	buf_addf(&f->builds, "%s/builds/a b/c", f->base);
	buf_init(&f->out, 0);
	buf_init(&f->err, 0);
	f->loop = loop_new();
	f->opts.loop = f->loop;
	f->opts.builds_dir = f->builds.data;
	f->opts.tmp_dir = f->base;
	f->opts.shell = SCRIPT_SHELL_BASH;
	f->status = -100;
	f->registered_before = proc_registered_count();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	executor_cleanup(f->ex);
	assert_int_equal(proc_registered_count(), f->registered_before);
	loop_free(f->loop);
	remove_tree(f->base);
	buf_release(&f->builds);
	buf_release(&f->out);
	buf_release(&f->err);
	free(f);
	return 0;
}

static void prepare(struct fixture *f)
{
	struct buf err = BUF_INIT;

	if (shell_executor.prepare(&f->opts, &f->ex, &err) != 0) {
		print_error("prepare: %s\n", err.data);
		fail();
	}
	assert_non_null(f->ex);
	buf_release(&err);
}

static void on_output(void *ctx, int is_stderr, const char *data, size_t len)
{
	struct fixture *f = ctx;

	assert_int_equal(f->exits, 0);
	buf_add(is_stderr ? &f->err : &f->out, data, len);
	if (f->cancel_on && !f->canceled && strstr(f->out.data, f->cancel_on)) {
		f->canceled = 1;
		f->canceled_at = now_ms();
		executor_cancel(f->ex, f->cancel_reason);
	}
}

static void stage_for(struct fixture *f, const struct buf *script,
		      struct executor_stage *st);

static void on_exit_cb(void *ctx, int exit_status, int err)
{
	struct fixture *f = ctx;

	f->exits++;
	f->status = exit_status;
	f->err_code = err;
	f->exited_at = now_ms();
	if (f->next_script) {
		struct executor_stage st;
		struct buf e = BUF_INIT;
		const struct buf *next = f->next_script;

		f->next_script = NULL;
		f->exits = 0;
		stage_for(f, next, &st);
		assert_int_equal(executor_run(f->ex, &st, &e), 0);
		buf_release(&e);
		return;
	}
	if (f->cleanup_in_exit) {
		executor_cleanup(f->ex);
		f->ex = NULL;
	}
	loop_stop(f->loop);
}

static void stage_for(struct fixture *f, const struct buf *script,
		      struct executor_stage *st)
{
	memset(st, 0, sizeof(*st));
	st->name = "step_script";
	st->script = script->data;
	st->script_len = script->len;
	st->on_output = on_output;
	st->on_exit = on_exit_cb;
	st->ctx = f;
}

static void generate(const char *const *cmds, enum script_shell shell,
		     struct buf *script)
{
	struct strvec sv = STRVEC_INIT;
	struct script_spec spec = { 0 };
	struct buf err = BUF_INIT;

	strvec_pushv(&sv, (const char **)cmds);
	spec.commands = &sv;
	assert_int_equal(script_generate(&spec, shell, script, &err), 0);
	strvec_clear(&sv);
	buf_release(&err);
}

static long watchdog(struct loop *loop, void *ctx)
{
	(void)loop;
	(void)ctx;
	print_error("the stage did not end within 30 s\n");
	fail();
	return LOOP_TIMER_STOP;
}

/* Runs cmds as one stage and waits for on_exit. */
static void run_stage(struct fixture *f, const char *const *cmds)
{
	struct buf script = BUF_INIT, err = BUF_INIT;
	struct executor_stage st;
	uint64_t dog;

	generate(cmds, f->opts.shell, &script);
	stage_for(f, &script, &st);
	f->started = now_ms();
	if (executor_run(f->ex, &st, &err) != 0) {
		print_error("run: %s\n", err.data);
		fail();
	}
	buf_release(&script);	/* run copied it */
	/* No callback from inside run. */
	assert_int_equal(f->exits, 0);
	dog = loop_add_timer(f->loop, 30000, watchdog, NULL);
	assert_int_equal(loop_run(f->loop), 0);
	loop_cancel_timer(f->loop, dog);
	assert_int_equal(f->exits, 1);
	buf_release(&err);
}

/* The executor's private dirs under base ("crunner-*"), and their files. */
static int count_private_files(const char *base, int *dirs)
{
	DIR *d = opendir(base);
	struct dirent *e;
	int files = 0;

	*dirs = 0;
	assert_non_null(d);
	while ((e = readdir(d))) {
		struct buf path = BUF_INIT;
		DIR *sub;
		struct dirent *se;

		if (strncmp(e->d_name, "crunner-", 8))
			continue;
		(*dirs)++;
		buf_addf(&path, "%s/%s", base, e->d_name);
		sub = opendir(path.data);
		assert_non_null(sub);
		while ((se = readdir(sub)))
			files += se->d_name[0] != '.';
		closedir(sub);
		buf_release(&path);
	}
	closedir(d);
	return files;
}

static void test_find(void **state)
{
	(void)state;
	assert_ptr_equal(executor_find("shell"), &shell_executor);
	assert_string_equal(shell_executor.name, "shell");
	assert_null(executor_find("no-such-executor"));
}

static void test_success_and_files(void **state)
{
	static const char *const cmds[] = { "echo hello", "pwd",
					    "echo to-stderr >&2", NULL };
	struct fixture *f = *state;
	struct buf want = BUF_INIT;
	struct stat st;
	int dirs;

	prepare(f);
	/* prepare made the builds dir and one private dir. */
	assert_int_equal(stat(f->builds.data, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(count_private_files(f->base, &dirs), 0);
	assert_int_equal(dirs, 1);

	run_stage(f, cmds);
	buf_addf(&want, ECHOED("echo hello") "hello\n" ECHOED("pwd") "%s\n"
		 ECHOED("echo to-stderr >&2"), f->builds.data);
	assert_string_equal(f->out.data, want.data);
	assert_string_equal(f->err.data, "to-stderr\n");
	assert_int_equal(f->status, 0);
	assert_int_equal(f->err_code, 0);
	/* The script file is gone once the stage ended. */
	assert_int_equal(count_private_files(f->base, &dirs), 0);
	assert_int_equal(proc_registered_count(), f->registered_before);

	executor_cleanup(f->ex);
	f->ex = NULL;
	assert_int_equal(count_private_files(f->base, &dirs), 0);
	assert_int_equal(dirs, 0);
	buf_release(&want);
}

static void test_exit_codes(void **state)
{
	static const char *const three[] = { "echo a", "exit 3", "echo b",
					     NULL };
	static const char *const killed[] = { "kill -9 $$", NULL };
	struct fixture *f = *state;

	prepare(f);
	run_stage(f, three);
	assert_int_equal(f->status, 3);
	assert_int_equal(f->err_code, 0);
	assert_string_equal(f->out.data, ECHOED("echo a") "a\n" ECHOED("exit 3"));

	f->exits = 0;
	buf_reset(&f->out);
	run_stage(f, killed);
	assert_int_equal(f->status, 128 + 9);
	assert_int_equal(f->err_code, 0);
}

static void test_sh_runs_under_sh(void **state)
{
	static const char *const cmds[] = { "readlink /proc/$$/exe",
					    "printf '%s\\n' 'a\\nb'", NULL };
	struct fixture *f = *state;
	char *sh = realpath("/bin/sh", NULL);
	struct buf want = BUF_INIT;

	assert_non_null(sh);
	f->opts.shell = SCRIPT_SHELL_SH;
	prepare(f);
	run_stage(f, cmds);
	assert_int_equal(f->status, 0);
	/* /bin/sh is dash on Debian: the script ran under it, not bash. */
	buf_addf(&want, ECHOED("readlink /proc/$$/exe") "%s\n"
		 ECHOED("printf '%%s\\n' 'a\\nb'") "a\\nb\n", sh);
	assert_string_equal(f->out.data, want.data);
	buf_release(&want);
	free(sh);
}

/* b is prefix followed by n times c. */
static void assert_prefix_then_run(const struct buf *b, const char *prefix,
				   char c, size_t n)
{
	size_t plen = strlen(prefix), i;

	assert_int_equal(b->len, plen + n);
	assert_memory_equal(b->data, prefix, plen);
	for (i = plen; i < b->len; i++)
		if (b->data[i] != c)
			break;
	assert_int_equal(i, b->len);
}

static void test_big_output_on_both_streams(void **state)
{
#define BIG_CMD "head -c 1500000 /dev/zero | tr '\\0' o & " \
		"head -c 1400000 /dev/zero | tr '\\0' e >&2; wait"
	static const char *const cmds[] = { BIG_CMD, NULL };
	struct fixture *f = *state;

	prepare(f);
	run_stage(f, cmds);
	assert_int_equal(f->status, 0);
	assert_prefix_then_run(&f->out, ECHOED(BIG_CMD), 'o', 1500000);
	assert_prefix_then_run(&f->err, "", 'e', 1400000);
#undef BIG_CMD
}

/* 1 when pid is gone (or a zombie nobody reaped yet). */
static int process_gone(long pid)
{
	char path[64], stat[512];
	FILE *fp;
	const char *rp;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if (!(fp = fopen(path, "r")))
		return 1;
	n = fread(stat, 1, sizeof(stat) - 1, fp);
	fclose(fp);
	stat[n] = '\0';
	rp = strrchr(stat, ')');
	return rp && rp[1] == ' ' && rp[2] == 'Z';
}

static long read_pid(const char *path)
{
	FILE *fp = fopen(path, "r");
	long pid = -1;

	assert_non_null(fp);
	assert_int_equal(fscanf(fp, "%ld", &pid), 1);
	fclose(fp);
	return pid;
}

static void test_background_job_killed_with_group(void **state)
{
	static const char *const cmds[] = { "sleep 30 & echo $! > bg.pid",
					    "echo done", NULL };
	struct fixture *f = *state;
	struct buf pidfile = BUF_INIT;
	long pid;
	int i;

	f->opts.drain_ms = 20000;	/* must not be what ends the stage */
	prepare(f);
	run_stage(f, cmds);
	assert_int_equal(f->status, 0);
	assert_int_equal(f->err_code, 0);
	assert_true(f->exited_at - f->started < 5000);
	buf_addf(&pidfile, "%s/bg.pid", f->builds.data);
	pid = read_pid(pidfile.data);
	for (i = 0; i < 100 && !process_gone(pid); i++)
		usleep(20000);
	assert_true(process_gone(pid));
	buf_release(&pidfile);
}

static void test_escaped_process_bounded_by_drain(void **state)
{
	static const char *const cmds[] = {
		/* Out of the group before the script ends, still on the pipes. */
		"setsid sh -c 'echo $$ > escaped.pid; exec sleep 30' &",
		"while [ ! -s escaped.pid ]; do sleep 0.05; done", NULL,
	};
	struct fixture *f = *state;
	struct buf pidfile = BUF_INIT;
	uint64_t took;

	f->opts.drain_ms = 300;
	prepare(f);
	run_stage(f, cmds);
	took = f->exited_at - f->started;
	assert_int_equal(f->status, 0);
	assert_true(took >= 300);
	assert_true(took < 5000);
	buf_addf(&pidfile, "%s/escaped.pid", f->builds.data);
	kill((pid_t)read_pid(pidfile.data), SIGKILL);
	buf_release(&pidfile);
}

static void test_cancel_escalates_to_sigkill(void **state)
{
	static const char *const cmds[] = {
		"trap '' TERM; echo ready; sleep 30; echo \"not-$((1))-reached\"",
		NULL,
	};
	struct fixture *f = *state;
	uint64_t took;

	f->opts.kill_grace_ms = 500;
	f->cancel_on = "ready\n";
	f->cancel_reason = CR_ERR_CANCELED;
	prepare(f);
	run_stage(f, cmds);
	took = f->exited_at - f->canceled_at;
	assert_int_equal(f->err_code, CR_ERR_CANCELED);
	assert_int_equal(f->status, 128 + 9);
	if (took < 500 || took > 5000)
		print_error("SIGKILL came %llu ms after the cancel\n",
			    (unsigned long long)took);
	assert_true(took >= 500 && took <= 5000);
	assert_null(strstr(f->out.data, "not-1-reached"));
}

static void test_cancel_cooperative_script(void **state)
{
	/*
	 * sleep runs in the background and the script waits for it with the
	 * wait builtin, which a trapped TERM interrupts.  A foreground
	 * "sleep 30" can outlive the cancel: a TERM that reaches bash's child
	 * after its fork and before its exec becomes a trap there, not the
	 * default action, and sleep runs on (a bash race a loaded machine hit:
	 * SIGKILL after the 20 s grace).
	 */
	static const char *const cmds[] = { "sleep 30 & echo ready; wait", NULL };
	struct fixture *f = *state;

	f->opts.kill_grace_ms = 20000;
	f->cancel_on = "ready\n";
	f->cancel_reason = CR_ERR_TIMEOUT;
	prepare(f);
	run_stage(f, cmds);
	assert_int_equal(f->err_code, CR_ERR_TIMEOUT);
	/* The script's TERM trap: exit 1 without dumping the script. */
	assert_int_equal(f->status, 1);
	assert_true(f->exited_at - f->canceled_at < 5000);
	/* bash may say "Terminated", but must not dump the script. */
	assert_null(strstr(f->err.data, "_cr_status"));
}

static void test_first_cancel_reason_wins(void **state)
{
	static const char *const cmds[] = { "echo ready; sleep 30", NULL };
	struct fixture *f = *state;
	struct buf script = BUF_INIT, err = BUF_INIT;
	struct executor_stage st;

	f->opts.kill_grace_ms = 200;
	prepare(f);
	/* Idle: nothing to cancel, nothing remembered. */
	executor_cancel(f->ex, CR_ERR_CANCELED);
	generate(cmds, SCRIPT_SHELL_BASH, &script);
	stage_for(f, &script, &st);
	assert_int_equal(executor_run(f->ex, &st, &err), 0);
	/* One stage at a time. */
	assert_int_equal(executor_run(f->ex, &st, &err), CR_ERR_INTERNAL);
	assert_string_equal(err.data, "cannot run stage 'step_script': "
			    "a stage is already running");
	executor_cancel(f->ex, CR_ERR_TIMEOUT);
	executor_cancel(f->ex, CR_ERR_CANCELED);
	assert_int_equal(f->exits, 0);
	assert_int_equal(loop_run(f->loop), 0);
	assert_int_equal(f->exits, 1);
	assert_int_equal(f->err_code, CR_ERR_TIMEOUT);
	buf_release(&script);
	buf_release(&err);
}

static void test_missing_shell_is_an_error(void **state)
{
	struct fixture *f = *state;
	struct buf script = BUF_INIT, err = BUF_INIT;
	struct executor_stage st;
	static const char *const cmds[] = { "echo hi", NULL };
	int dirs;

	f->opts.shell_path = "/nonexistent/bash";
	prepare(f);
	generate(cmds, SCRIPT_SHELL_BASH, &script);
	stage_for(f, &script, &st);
	assert_int_equal(executor_run(f->ex, &st, &err), CR_ERR_NOT_FOUND);
	assert_string_equal(err.data, "cannot run '/nonexistent/bash': "
			    "No such file or directory");
	assert_int_equal(loop_run_once(f->loop, 50), 0);
	assert_int_equal(f->exits, 0);
	assert_int_equal(count_private_files(f->base, &dirs), 0);
	executor_cancel(f->ex, CR_ERR_CANCELED);	/* idle: no-op */
	buf_release(&script);
	buf_release(&err);
}

static void test_cleanup_while_running(void **state)
{
	static const char *const cmds[] = { "sleep 30", NULL };
	struct fixture *f = *state;
	struct buf script = BUF_INIT, err = BUF_INIT;
	struct executor_stage st;
	uint64_t start = now_ms();
	int dirs;

	prepare(f);
	generate(cmds, SCRIPT_SHELL_BASH, &script);
	stage_for(f, &script, &st);
	assert_int_equal(executor_run(f->ex, &st, &err), 0);
	assert_int_equal(proc_registered_count(), f->registered_before + 1);
	loop_run_once(f->loop, 100);
	executor_cleanup(f->ex);
	f->ex = NULL;
	assert_true(now_ms() - start < 5000);
	assert_int_equal(proc_registered_count(), f->registered_before);
	assert_int_equal(count_private_files(f->base, &dirs), 0);
	assert_int_equal(dirs, 0);
	/* Nothing is left for the loop to call. */
	assert_int_equal(loop_run_once(f->loop, 50), 0);
	assert_int_equal(f->exits, 0);
	buf_release(&script);
	buf_release(&err);
}

static void test_on_exit_runs_next_stage_then_cleans_up(void **state)
{
	static const char *const first[] = { "echo one", NULL };
	static const char *const second[] = { "echo two; exit 4", NULL };
	struct fixture *f = *state;
	struct buf next = BUF_INIT;

	prepare(f);
	generate(second, SCRIPT_SHELL_BASH, &next);
	f->next_script = &next;
	f->cleanup_in_exit = 1;
	run_stage(f, first);
	assert_null(f->ex);
	assert_string_equal(f->out.data, ECHOED("echo one") "one\n"
			    ECHOED("echo two; exit 4") "two\n");
	assert_int_equal(f->status, 4);
	buf_release(&next);
}

static void test_explicit_environment(void **state)
{
	static const char *const env[] = { "PATH=/usr/bin:/bin", "CR_ONLY=1",
					   NULL };
	static const char *const cmds[] = {
		"echo \"$CR_ONLY ${CR_TEST_OUTSIDE-unset}\"", NULL,
	};
	struct fixture *f = *state;

	setenv("CR_TEST_OUTSIDE", "leaked", 1);
	f->opts.environ = env;
	prepare(f);
	run_stage(f, cmds);
	assert_string_equal(f->out.data,
			    ECHOED("echo \"$CR_ONLY ${CR_TEST_OUTSIDE-unset}\"")
			    "1 unset\n");
	unsetenv("CR_TEST_OUTSIDE");
}

static void test_bad_builds_dir(void **state)
{
	struct fixture *f = *state;
	struct buf err = BUF_INIT, file = BUF_INIT;
	FILE *fp;

	buf_addf(&file, "%s/file", f->base);
	fp = fopen(file.data, "w");
	assert_non_null(fp);
	fclose(fp);
	buf_addstr(&file, "/builds");
	f->opts.builds_dir = file.data;
	assert_int_equal(shell_executor.prepare(&f->opts, &f->ex, &err),
			 CR_ERR_IO);
	assert_null(f->ex);
	assert_non_null(strstr(err.data, "cannot create builds directory"));
	buf_release(&err);
	buf_release(&file);
}

/* A private dir a killed crunner left: a .lock nobody holds. */
static void make_leftover(const char *base, const char *name)
{
	struct buf path = BUF_INIT;
	FILE *fp;

	buf_addf(&path, "%s/%s", base, name);
	assert_int_equal(mkdir(path.data, 0700), 0);
	buf_addstr(&path, "/.lock");
	fp = fopen(path.data, "w");
	assert_non_null(fp);
	fclose(fp);
	buf_release(&path);
}

static int exists(const char *base, const char *name)
{
	struct buf path = BUF_INIT;
	struct stat st;
	int r;

	buf_addf(&path, "%s/%s", base, name);
	r = lstat(path.data, &st) == 0;
	buf_release(&path);
	return r;
}

/*
 * With a host cache (kept between jobs): the first job sweeps stale dirs,
 * the next one right after it does not; the shell found on PATH is used,
 * and one that went from PATH between stages is looked up again (the
 * stage runs, with the next bash on PATH).
 */
static void test_host_cache_between_jobs(void **state)
{
	static const char *const cmds[] = { "echo hi", NULL };
	struct fixture *f = *state;
	struct host_cache *hc = host_cache_new();
	struct buf bin = BUF_INIT, wrapper = BUF_INIT, path_env = BUF_INIT;
	const char *env[3] = { NULL, "CR_ONLY=1", NULL };
	FILE *fp;

	buf_addf(&bin, "%s/bin", f->base);
	assert_int_equal(mkdir(bin.data, 0755), 0);
	buf_addf(&wrapper, "%s/bash", bin.data);
	fp = fopen(wrapper.data, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\necho wrapped\nexec /bin/bash \"$@\"\n", fp);
	fclose(fp);
	assert_int_equal(chmod(wrapper.data, 0755), 0);
	buf_addf(&path_env, "PATH=%s:/usr/bin:/bin", bin.data);
	env[0] = path_env.data;
	f->opts.environ = env;
	f->opts.host_cache = hc;

	make_leftover(f->base, "crunner-stage-old1");
	prepare(f);
	assert_false(exists(f->base, "crunner-stage-old1"));
	run_stage(f, cmds);
	assert_string_equal(f->out.data, "wrapped\n" ECHOED("echo hi") "hi\n");

	/* The shell went from PATH: the next stage finds /usr/bin's. */
	assert_int_equal(unlink(wrapper.data), 0);
	buf_reset(&f->out);
	f->exits = 0;
	run_stage(f, cmds);
	assert_string_equal(f->out.data, ECHOED("echo hi") "hi\n");

	/* The next job, at once: no second sweep within the interval. */
	executor_cleanup(f->ex);
	f->ex = NULL;
	make_leftover(f->base, "crunner-stage-old2");
	prepare(f);
	assert_true(exists(f->base, "crunner-stage-old2"));
	/* Without a cache every job sweeps, as before. */
	executor_cleanup(f->ex);
	f->ex = NULL;
	f->opts.host_cache = NULL;
	prepare(f);
	assert_false(exists(f->base, "crunner-stage-old2"));

	host_cache_free(hc);
	buf_release(&bin);
	buf_release(&wrapper);
	buf_release(&path_env);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		T(test_success_and_files),
		T(test_exit_codes),
		T(test_sh_runs_under_sh),
		T(test_big_output_on_both_streams),
		T(test_background_job_killed_with_group),
		T(test_escaped_process_bounded_by_drain),
		T(test_cancel_escalates_to_sigkill),
		T(test_cancel_cooperative_script),
		T(test_first_cancel_reason_wins),
		T(test_missing_shell_is_an_error),
		T(test_cleanup_while_running),
		T(test_on_exit_runs_next_stage_then_cleans_up),
		T(test_explicit_environment),
		T(test_bad_builds_dir),
		T(test_host_cache_between_jobs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
