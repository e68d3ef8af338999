#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "job/script.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/proc.h"
#include "util/strvec.h"

#define GREEN "\033[32;1m"
#define RESET "\033[0;m"
#define ECHOED(cmd) GREEN "$ " cmd RESET "\n"

static const enum script_shell shells[] = { SCRIPT_SHELL_BASH,
					    SCRIPT_SHELL_SH };

/* What running a generated script gave. */
struct run {
	struct buf out, err;
	int status;
	struct proc *p;
	int open, exited;
};

static void run_fd(struct loop *loop, int fd, unsigned events, void *ctx)
{
	struct run *r = ctx;
	char tmp[65536];
	int is_err = fd == r->p->err;
	ssize_t n = read(fd, tmp, sizeof(tmp));

	(void)events;
	if (n > 0) {
		buf_add(is_err ? &r->err : &r->out, tmp, (size_t)n);
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	loop_unwatch_fd(loop, fd);
	close(fd);
	*(is_err ? &r->p->err : &r->p->out) = -1;
	if (--r->open == 0 && r->exited)
		loop_stop(loop);
}

static void run_child(struct loop *loop, pid_t pid, int status, void *ctx)
{
	struct run *r = ctx;

	(void)pid;
	proc_reaped(r->p, status);
	r->exited = 1;
	if (!r->open)
		loop_stop(loop);
}

/* Runs script under shell as the shell executor would, collecting output. */
static void run_script(enum script_shell shell, const struct buf *script,
		       struct run *r)
{
	char path[] = "/tmp/crunner-test-script-XXXXXX";
	struct proc p = PROC_INIT;
	struct loop *loop = loop_new();
	struct buf err = BUF_INIT;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, script->data, script->len),
			 (ssize_t)script->len);
	close(fd);

	memset(r, 0, sizeof(*r));
	buf_init(&r->out, 0);
	buf_init(&r->err, 0);
	r->p = &p;
	strvec_push(&p.args, shell == SCRIPT_SHELL_BASH ? "bash" : "sh");
	if (shell == SCRIPT_SHELL_BASH) {
		strvec_push(&p.args, "--noprofile");
		strvec_push(&p.args, "--norc");
	}
	strvec_push(&p.args, path);
	p.flags = PROC_NEW_PGRP;
	p.out = PROC_FD_PIPE;
	p.err = PROC_FD_PIPE;
	if (proc_start(&p, &err) != 0) {
		print_error("%s\n", err.data);
		fail();
	}
	r->open = 2;
	loop_watch_fd(loop, p.out, LOOP_READ, run_fd, r);
	loop_watch_fd(loop, p.err, LOOP_READ, run_fd, r);
	loop_watch_child(loop, p.pid, run_child, r);
	assert_int_equal(loop_run(loop), 0);
	loop_free(loop);
	r->status = p.exit_status;
	r->p = NULL;
	proc_release(&p);
	unlink(path);
	buf_release(&err);
}

static void run_release(struct run *r)
{
	buf_release(&r->out);
	buf_release(&r->err);
}

/* Generates spec for shell and runs it. */
static void generate_and_run(const struct script_spec *spec,
			     enum script_shell shell, struct run *r)
{
	struct buf script = BUF_INIT, err = BUF_INIT;

	assert_int_equal(script_generate(spec, shell, &script, &err), 0);
	assert_string_equal(err.data, "");
	run_script(shell, &script, r);
	buf_release(&script);
	buf_release(&err);
}

/*
 * Runs commands with flags (enum script_flags) under every shell; checks
 * the status and stdout.
 */
static void expect_commands_flags(const char *const *cmds, unsigned flags,
				  int status, const char *out_bash,
				  const char *out_sh)
{
	struct strvec sv = STRVEC_INIT;
	struct script_spec spec = { 0 };
	size_t i;

	strvec_pushv(&sv, (const char **)cmds);
	spec.commands = &sv;
	spec.flags = flags;
	for (i = 0; i < 2; i++) {
		struct run r;
		const char *want = shells[i] == SCRIPT_SHELL_SH && out_sh ?
			out_sh : out_bash;

		generate_and_run(&spec, shells[i], &r);
		if (r.status != status || strcmp(r.out.data, want))
			print_error("shell %s, stderr: %s\n",
				    script_shell_name(shells[i]), r.err.data);
		assert_string_equal(r.out.data, want);
		assert_int_equal(r.status, status);
		run_release(&r);
	}
	strvec_clear(&sv);
}

/* The same with the default flags (no per-command exit code check). */
static void expect_commands(const char *const *cmds, int status,
			    const char *out_bash, const char *out_sh)
{
	expect_commands_flags(cmds, 0, status, out_bash, out_sh);
}

static void test_commands_are_echoed_then_run(void **state)
{
	static const char *const cmds[] = { "echo hello", "echo 'a  b' \"$((1+2))\"",
					    NULL };

	(void)state;
	expect_commands(cmds, 0,
			ECHOED("echo hello") "hello\n"
			ECHOED("echo 'a  b' \"$((1+2))\"") "a  b 3\n", NULL);
}

static void test_backslashes_are_echoed_verbatim(void **state)
{
	static const char *const cmds[] = { "printf '%s\\n' 'a\\nb\\c'", NULL };

	(void)state;
	expect_commands(cmds, 0,
			ECHOED("printf '%s\\n' 'a\\nb\\c'") "a\\nb\\c\n", NULL);
}

static void test_false_fails_with_1(void **state)
{
	static const char *const cmds[] = { "echo one", "false", "echo two",
					    NULL };

	(void)state;
	expect_commands(cmds, 1,
			ECHOED("echo one") "one\n" ECHOED("false"), NULL);
}

static void test_exit_code_is_the_commands(void **state)
{
	static const char *const cmds[] = { "exit 42", "echo after", NULL };

	(void)state;
	expect_commands(cmds, 42, ECHOED("exit 42"), NULL);
}

/*
 * FF_ENABLE_BASH_EXIT_CODE_CHECK: each command's status is checked, so a
 * failure errexit ignores still ends the script with its status.
 */
static void test_exit_code_checked_without_errexit(void **state)
{
	static const char *const cmds[] = { "set +e", "(exit 5)", "echo after",
					    NULL };

	(void)state;
	expect_commands_flags(cmds, SCRIPT_EXIT_CODE_CHECK, 5,
			      ECHOED("set +e") ECHOED("(exit 5)"), NULL);
}

/* Without the flag, as gitlab-runner: errexit alone decides. */
static void test_errexit_alone_by_default(void **state)
{
	static const char *const cmds[] = { "set +e", "(exit 5)", "echo after",
					    NULL };

	(void)state;
	expect_commands(cmds, 0,
			ECHOED("set +e") ECHOED("(exit 5)") ECHOED("echo after")
			"after\n", NULL);
}

/*
 * "grep -q X && echo found && exit 1" when grep finds nothing: errexit
 * ignores a failure before && so the job goes on, unless the flag asks
 * for every command's status to be checked.
 */
static void test_and_list_failure(void **state)
{
	static const char *const cmds[] = { "false && echo found && exit 1",
					    "echo after", NULL };
	static const char *const last[] = { "true && false", "echo after",
					    NULL };

	(void)state;
	expect_commands(cmds, 0,
			ECHOED("false && echo found && exit 1")
			ECHOED("echo after") "after\n", NULL);
	expect_commands_flags(cmds, SCRIPT_EXIT_CODE_CHECK, 1,
			      ECHOED("false && echo found && exit 1"), NULL);
	/* The list's last command failing is an error either way. */
	expect_commands(last, 1, ECHOED("true && false"), NULL);
	expect_commands_flags(last, SCRIPT_EXIT_CODE_CHECK, 1,
			      ECHOED("true && false"), NULL);
}

/* The check is a line of its own after each command only with the flag. */
static void test_check_lines_only_with_flag(void **state)
{
	static const char *const cd[] = { "cd", "/tmp", NULL };
	struct buf body = BUF_INIT;

	(void)state;
	/* The engine's own commands are always checked. */
	assert_int_equal(script_run(&body, SCRIPT_SHELL_BASH, cd), 0);
	assert_int_equal(script_command(&body, SCRIPT_SHELL_BASH, 0, "make"), 0);
	assert_string_equal(body.data,
		"cd /tmp\n"
		"_cr_status=$?; if [ \"$_cr_status\" -ne 0 ]; then exit \"$_cr_status\"; fi\n"
		"echo $'\\x1b[32;1m$ make\\x1b[0;m'\n"
		"make\n");
	buf_reset(&body);
	assert_int_equal(script_command(&body, SCRIPT_SHELL_BASH,
					SCRIPT_EXIT_CODE_CHECK, "make"), 0);
	assert_string_equal(body.data,
		"echo $'\\x1b[32;1m$ make\\x1b[0;m'\n"
		"make\n"
		"_cr_status=$?; if [ \"$_cr_status\" -ne 0 ]; then exit \"$_cr_status\"; fi\n");
	buf_release(&body);
}

static void test_pipefail_in_bash_only(void **state)
{
	static const char *const cmds[] = { "false | true", "echo after", NULL };
	struct strvec sv = STRVEC_INIT;
	struct script_spec spec = { 0 };
	struct run r;

	(void)state;
	strvec_pushv(&sv, (const char **)cmds);
	spec.commands = &sv;
	generate_and_run(&spec, SCRIPT_SHELL_BASH, &r);
	assert_string_equal(r.out.data, ECHOED("false | true"));
	assert_int_equal(r.status, 1);
	run_release(&r);
	/* Debian's dash has no pipefail: the probe must stay quiet. */
	generate_and_run(&spec, SCRIPT_SHELL_SH, &r);
	assert_string_equal(r.out.data,
			    ECHOED("false | true") ECHOED("echo after") "after\n");
	assert_string_equal(r.err.data, "");
	assert_int_equal(r.status, 0);
	run_release(&r);
	strvec_clear(&sv);
}

static void test_multi_line_command(void **state)
{
	static const char *const cmds[] = {
		"  echo a\necho b\n",
		"if true; then\n  echo yes\nfi",
		"cat <<EOF\nhere $((2*3))\nEOF\n",
		"echo last \\\n  continued",
		NULL,
	};

	(void)state;
	expect_commands(cmds, 0,
			ECHOED("echo a # collapsed multi-line command") "a\nb\n"
			ECHOED("if true; then # collapsed multi-line command")
			"yes\n"
			ECHOED("cat <<EOF # collapsed multi-line command")
			"here 6\n"
			ECHOED("echo last \\ # collapsed multi-line command")
			"last continued\n", NULL);
}

/*
 * FF_SCRIPT_SECTIONS: a multi-line command is announced by an empty,
 * collapsed section named after its list and index, as gitlab-runner's
 * writeMultilineCommand; a one-line command is echoed as before.
 */
static void test_sections_for_multi_line_commands(void **state)
{
	struct strvec pre = STRVEC_INIT, cmds = STRVEC_INIT;
	struct script_spec spec = { 0 };
	size_t i;

	(void)state;
	strvec_push(&pre, "echo p1\necho p2");
	strvec_push(&cmds, "echo one");
	strvec_push(&cmds, "echo a\necho b");
	spec.pre = &pre;
	spec.commands = &cmds;
	spec.section_prefix = "after_script_step";
	spec.flags = SCRIPT_SECTIONS;
	for (i = 0; i < 2; i++) {
		struct run r;
		const char *p;
		char name[64];
		unsigned long t;

		generate_and_run(&spec, shells[i], &r);
		assert_int_equal(r.status, 0);
		/* The timestamps vary: compare with them cut out. */
		p = r.out.data;
		assert_int_equal(sscanf(p, "section_start:%lu:%63[^[]", &t, name), 2);
		assert_true(t > 1600000000UL);
		assert_string_equal(name, "section_pre_build_script_0");
		p = strchr(p, '[');
		assert_memory_equal(p, "[hide_duration=true,collapsed=true]\r\033[0K"
				    GREEN "$ echo p1\necho p2" RESET "\n",
				    strlen("[hide_duration=true,collapsed=true]\r\033[0K"
					   GREEN "$ echo p1\necho p2" RESET "\n"));
		p = strstr(p, "section_end:");
		assert_non_null(p);
		assert_int_equal(sscanf(p, "section_end:%lu:%63[^\r]", &t, name), 2);
		assert_string_equal(name, "section_pre_build_script_0");
		p = strchr(p, '\r');
		assert_string_equal(strstr(p, "\r\033[0K\np1\np2\n"), p);
		p = strstr(p, "p2\n") + 3;
		assert_memory_equal(p, ECHOED("echo one") "one\n",
				    strlen(ECHOED("echo one") "one\n"));
		p = strstr(p, "section_start:");
		assert_non_null(p);
		assert_int_equal(sscanf(p, "section_start:%lu:%63[^[]", &t, name), 2);
		assert_string_equal(name, "section_after_script_step_1");
		assert_non_null(strstr(p, GREEN "$ echo a\necho b" RESET "\n"));
		p = strstr(p, "section_end:");
		assert_non_null(p);
		assert_int_equal(sscanf(p, "section_end:%lu:%63[^\r]", &t, name), 2);
		assert_string_equal(name, "section_after_script_step_1");
		assert_string_equal(strchr(p, '\r'), "\r\033[0K\na\nb\n");
		assert_null(strstr(r.out.data, "collapsed multi-line command"));
		run_release(&r);
	}
	/* Without the flag: the first line, as before. */
	spec.flags = 0;
	expect_commands((const char *const[]){ "echo a\necho b", NULL }, 0,
			ECHOED("echo a # collapsed multi-line command") "a\nb\n",
			NULL);
	strvec_clear(&pre);
	strvec_clear(&cmds);
}

static void test_empty_command_prints_empty_line(void **state)
{
	static const char *const cmds[] = { "", "  \n ", "echo x", NULL };

	(void)state;
	expect_commands(cmds, 0, "\n\n" ECHOED("echo x") "x\n", NULL);
}

static void test_syntax_error_stops_the_script(void **state)
{
	static const char *const cmds[] = { "echo first", "if then (",
					    "echo never", NULL };
	struct strvec sv = STRVEC_INIT;
	struct script_spec spec = { 0 };
	size_t i;

	(void)state;
	strvec_pushv(&sv, (const char **)cmds);
	spec.commands = &sv;
	for (i = 0; i < 2; i++) {
		struct run r;

		/* eval runs what it parsed so far, then fails on the error. */
		generate_and_run(&spec, shells[i], &r);
		assert_string_equal(r.out.data, ECHOED("echo first") "first\n"
				    ECHOED("if then ("));
		assert_int_equal(r.status, 2);
		assert_non_null(strstr(r.err.data, "rror"));
		run_release(&r);
	}
	strvec_clear(&sv);
}

/* Values that a careless quoter would mangle. */
static const char *const weird[] = {
	"plain",
	"",
	"it's \"quoted\"",
	"$HOME ${PATH} $(echo no) `echo no` $((1+1))",
	"back\\slash\\n\\\\ and \\' \\\"",
	"line1\nline2\n",
	"\n",
	"tab\there\rcr",
	"h\xc3\xa9llo w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80",
	"\x01\x1b[31mred\x1b[0m\x7f",
	"\xff\xfe not utf-8 \x80",
	"!event !! ^old^new",
	"*glob?[a] ~root ~ a=~ x:~",
	" leading and trailing ",
	"-n",
	"'",
	"'\\''",
	"$'ansi' $\"loc\"",
	"a;b|c&d>e<f(g)h{i}j#k",
	"%s %n %%",
};

#define NR_WEIRD (sizeof(weird) / sizeof(weird[0]))

/* Finds KEY=... in a NUL-separated env -0 dump. */
static const char *env0_lookup(const struct buf *dump, const char *key)
{
	size_t klen = strlen(key);
	const char *p = dump->data, *end = dump->data + dump->len;

	while (p < end) {
		size_t n = strlen(p);

		if (n > klen && !memcmp(p, key, klen) && p[klen] == '=')
			return p + klen + 1;
		p += n + 1;
	}
	return NULL;
}

static void read_file(const char *path, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	char tmp[4096];
	size_t n;

	assert_non_null(f);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(out, tmp, n);
	fclose(f);
}

static void test_variables_round_trip_exactly(void **state)
{
	char dump[] = "/tmp/crunner-test-env-XXXXXX";
	struct script_var vars[NR_WEIRD + 4];
	struct strvec keys = STRVEC_INIT, cmds = STRVEC_INIT;
	struct script_spec spec = { 0 };
	size_t i, s, nr = 0;
	int fd = mkstemp(dump);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	for (i = 0; i < NR_WEIRD; i++) {
		vars[nr].key = strvec_pushf(&keys, "CR_V%zu", i);
		vars[nr++].value = weird[i];
	}
	vars[nr].key = "bad-key";	/* not a shell name: skipped */
	vars[nr++].value = "x";
	vars[nr].key = "1X";
	vars[nr++].value = "x";
	vars[nr].key = "CR_DUMP";
	vars[nr++].value = dump;
	vars[nr].key = "CR_NULL";
	vars[nr++].value = NULL;
	spec.env = vars;
	spec.nr_env = nr;
	/* A child process sees them: they are exported, not just set. */
	strvec_push(&cmds, "env -0 > \"$CR_DUMP\"");
	spec.commands = &cmds;

	/* With FF_POSIXLY_CORRECT_ESCAPES' double quotes too. */
	for (s = 0; s < 4; s++) {
		struct buf got = BUF_INIT;
		struct run r;

		spec.flags = s >= 2 ? SCRIPT_POSIX_ESCAPES : 0;
		generate_and_run(&spec, shells[s % 2], &r);
		assert_string_equal(r.err.data, "");
		assert_int_equal(r.status, 0);
		read_file(dump, &got);
		for (i = 0; i < NR_WEIRD; i++) {
			const char *v = env0_lookup(&got, keys.v[i]);

			if (!v)
				print_error("%s: %s missing\n",
					    script_shell_name(shells[s % 2]),
					    keys.v[i]);
			assert_non_null(v);
			assert_string_equal(v, weird[i]);
		}
		assert_null(env0_lookup(&got, "bad-key"));
		assert_string_equal(env0_lookup(&got, "CR_NULL"), "");
		run_release(&r);
		buf_release(&got);
	}
	unlink(dump);
	strvec_clear(&keys);
	strvec_clear(&cmds);
}

static void test_weird_commands_are_echoed_exactly(void **state)
{
	size_t i, s;

	(void)state;
	for (i = 0; i < NR_WEIRD; i++) {
		struct strvec cmds = STRVEC_INIT;
		struct script_spec spec = { 0 };
		struct buf want = BUF_INIT;

		if (strchr(weird[i], '\n'))
			continue;	/* collapsed: tested above */
		/* A comment: echoed as given, runs nothing. */
		strvec_pushf(&cmds, "#<%s>", weird[i]);
		spec.commands = &cmds;
		buf_addf(&want, GREEN "$ #<%s>" RESET "\n", weird[i]);
		for (s = 0; s < 4; s++) {
			struct run r;

			spec.flags = s >= 2 ? SCRIPT_POSIX_ESCAPES : 0;
			generate_and_run(&spec, shells[s % 2], &r);
			assert_string_equal(r.out.data, want.data);
			assert_int_equal(r.status, 0);
			run_release(&r);
		}
		buf_release(&want);
		strvec_clear(&cmds);
	}
}

/*
 * FF_POSIXLY_CORRECT_ESCAPES: bash gets POSIX double quotes (control bytes
 * as they are, \ before ` " \ $) instead of $'...' with \x escapes.
 */
static void test_posix_escapes_form(void **state)
{
	struct script_var vars[] = { { "CR_K", "a$b \"c\" `d` \\e\x01" } };
	struct strvec cmds = STRVEC_INIT;
	struct script_spec spec = { 0 };
	struct buf out = BUF_INIT, err = BUF_INIT;

	(void)state;
	strvec_push(&cmds, "echo \"$CR_K\"");
	spec.env = vars;
	spec.nr_env = 1;
	spec.commands = &cmds;

	assert_int_equal(script_generate(&spec, SCRIPT_SHELL_BASH, &out, &err), 0);
	assert_non_null(strstr(out.data, "\\x1b"));	/* $'\x1b[32;1m...' */
	assert_null(strchr(out.data, '\033'));
	assert_non_null(strstr(out.data, "eval $'"));

	buf_reset(&out);
	spec.flags = SCRIPT_POSIX_ESCAPES;
	assert_int_equal(script_generate(&spec, SCRIPT_SHELL_BASH, &out, &err), 0);
	assert_null(strstr(out.data, "\\x1b"));
	assert_null(strstr(out.data, "$'"));
	assert_non_null(strchr(out.data, '\033'));
	assert_non_null(strstr(out.data, "eval \""));
	/* The export, quoted once here and once more in eval's word. */
	assert_non_null(strstr(out.data,
		"export CR_K=\\\"a\\\\\\$b \\\\\\\"c\\\\\\\" "));

	/* sh keeps its single quotes: POSIX already. */
	buf_reset(&out);
	assert_int_equal(script_generate(&spec, SCRIPT_SHELL_SH, &out, &err), 0);
	assert_non_null(strstr(out.data, "eval '"));
	buf_release(&out);
	buf_release(&err);
	strvec_clear(&cmds);
}

static void test_workdir_pre_post_and_after_script(void **state)
{
	char base[] = "/tmp/crunner-test-wd-XXXXXX";
	struct strvec pre = STRVEC_INIT, cmds = STRVEC_INIT, post = STRVEC_INIT;
	struct script_var vars[] = { { "CI_JOB_STATUS", "running" } };
	struct script_spec spec = { 0 };
	struct buf dir = BUF_INIT, want = BUF_INIT;
	size_t s;

	(void)state;
	assert_non_null(mkdtemp(base));
	buf_addf(&dir, "%s/it's a \"dir\" $x\n", base);
	assert_int_equal(mkdir(dir.data, 0700), 0);

	strvec_push(&pre, "echo pre");
	strvec_push(&cmds, "pwd");
	strvec_push(&cmds, "echo \"$CI_JOB_STATUS\"");
	strvec_push(&post, "echo post");
	spec.env = vars;
	spec.nr_env = 1;
	spec.job_status = "failed";
	spec.workdir = dir.data;
	spec.notice = "Running after script...";
	spec.pre = &pre;
	spec.commands = &cmds;
	spec.post = &post;
	buf_addf(&want, GREEN "Running after script..." RESET "\n"
		 ECHOED("echo pre") "pre\n" ECHOED("pwd") "%s\n"
		 ECHOED("echo \"$CI_JOB_STATUS\"") "failed\n"
		 ECHOED("echo post") "post\n", dir.data);
	for (s = 0; s < 2; s++) {
		struct run r;

		generate_and_run(&spec, shells[s], &r);
		assert_string_equal(r.out.data, want.data);
		assert_int_equal(r.status, 0);
		run_release(&r);
	}

	/* A failing command skips the post script too. */
	strvec_push(&cmds, "exit 7");
	for (s = 0; s < 2; s++) {
		struct run r;

		generate_and_run(&spec, shells[s], &r);
		assert_null(strstr(r.out.data, "post\n"));
		assert_int_equal(r.status, 7);
		run_release(&r);
	}

	/* A missing directory stops the script before any command. */
	assert_int_equal(rmdir(dir.data), 0);
	for (s = 0; s < 2; s++) {
		struct run r;

		generate_and_run(&spec, shells[s], &r);
		assert_string_equal(r.out.data, "");
		assert_int_not_equal(r.status, 0);
		run_release(&r);
	}
	rmdir(base);
	buf_release(&dir);
	buf_release(&want);
	strvec_clear(&pre);
	strvec_clear(&cmds);
	strvec_clear(&post);
}

static void test_trace_flag_turns_on_xtrace(void **state)
{
	struct strvec cmds = STRVEC_INIT;
	struct script_spec spec = { 0 };
	size_t s;

	(void)state;
	strvec_push(&cmds, "echo traced-command");
	spec.commands = &cmds;
	for (s = 0; s < 2; s++) {
		struct run r;

		spec.flags = 0;
		generate_and_run(&spec, shells[s], &r);
		assert_null(strstr(r.err.data, "echo traced-command"));
		run_release(&r);
		spec.flags = SCRIPT_TRACE;
		generate_and_run(&spec, shells[s], &r);
		assert_non_null(strstr(r.err.data, "echo traced-command"));
		assert_int_equal(r.status, 0);
		run_release(&r);
	}
	strvec_clear(&cmds);
}

static void expect_quote(enum script_shell shell, const char *in,
			 const char *want)
{
	struct buf out = BUF_INIT;

	assert_int_equal(script_quote(&out, shell, in, strlen(in)), 0);
	assert_string_equal(out.data, want);
	buf_release(&out);
}

static void test_quote_forms(void **state)
{
	(void)state;
	expect_quote(SCRIPT_SHELL_BASH, "a-b_c/d.e:f=g,h+i@j%k", "a-b_c/d.e:f=g,h+i@j%k");
	expect_quote(SCRIPT_SHELL_SH, "", "''");
	expect_quote(SCRIPT_SHELL_SH, "~", "'~'");
	expect_quote(SCRIPT_SHELL_SH, "it's", "'it'\\''s'");
	expect_quote(SCRIPT_SHELL_BASH, "it's", "'it'\\''s'");
	expect_quote(SCRIPT_SHELL_SH, "a\nb", "'a\nb'");
	expect_quote(SCRIPT_SHELL_BASH, "a\nb'\\\x1b", "$'a\\nb\\'\\\\\\x1b'");
}

static void test_export_rejects_bad_names(void **state)
{
	struct buf out = BUF_INIT;

	(void)state;
	assert_int_equal(script_export(&out, SCRIPT_SHELL_SH, "A-B", "x"),
			 CR_ERR_INVALID);
	assert_int_equal(script_export(&out, SCRIPT_SHELL_SH, "", "x"),
			 CR_ERR_INVALID);
	assert_int_equal(script_export(&out, SCRIPT_SHELL_SH, "9A", "x"),
			 CR_ERR_INVALID);
	assert_int_equal(out.len, 0);
	assert_int_equal(script_export(&out, SCRIPT_SHELL_SH, "_a9", "x y"), 0);
	assert_string_equal(out.data, "export _a9='x y'\n");
	buf_release(&out);
}

static void test_script_run_quotes_arguments(void **state)
{
	static const char *const argv[] = { "printf", "%s|", "a b", "$c", "",
					    NULL };
	struct buf body = BUF_INIT, script = BUF_INIT;
	size_t s;

	(void)state;
	for (s = 0; s < 2; s++) {
		struct run r;

		buf_reset(&body);
		buf_reset(&script);
		assert_int_equal(script_run(&body, shells[s], argv), 0);
		assert_int_equal(script_echo(&body, shells[s],
					     SCRIPT_ECHO_WARNING, "careful"), 0);
		assert_int_equal(script_echo(&body, shells[s], SCRIPT_ECHO_PLAIN,
					     "plain \\n"), 0);
		assert_int_equal(script_wrap(&script, shells[s], 0, body.data,
					     body.len), 0);
		run_script(shells[s], &script, &r);
		assert_string_equal(r.out.data,
				    "a b|$c||\033[0;33mcareful\033[0;m\n"
				    "\033[0;mplain \\n\n");
		assert_int_equal(r.status, 0);
		run_release(&r);
	}
	buf_release(&body);
	buf_release(&script);
}

/*
 * gitlab-runner 19.1+'s eval form: a subshell with its own TERM trap and
 * stdin from /dev/null; FF_USE_LEGACY_BASH_EVAL keeps ": | eval".
 */
static void test_eval_in_a_subshell(void **state)
{
	struct buf script = BUF_INIT;

	(void)state;
	assert_int_equal(script_wrap(&script, SCRIPT_SHELL_BASH, 0, "true\n", 5),
			 0);
	assert_non_null(strstr(script.data,
			       "\n(trap 'exit 1' TERM; eval $'true\\n') < /dev/null\nexit 0\n"));
	assert_null(strstr(script.data, ": | eval"));
	buf_reset(&script);
	assert_int_equal(script_wrap(&script, SCRIPT_SHELL_BASH,
				     SCRIPT_LEGACY_EVAL, "true\n", 5), 0);
	assert_non_null(strstr(script.data, "\n: | eval $'true\\n'\nexit 0\n"));
	buf_release(&script);
}

/*
 * What the commands see is the same in both forms: one subshell level, an
 * empty stdin, the last command's status when errexit is off, exit N.
 */
static void test_eval_forms_behave_alike(void **state)
{
	static const char *const cmds[] = {
		"echo \"level ${BASH_SUBSHELL:-sh}\"",
		"if read -r line; then echo \"read $line\"; else echo eof; fi",
		"set +e", "(exit 3)", NULL,
	};
	static const char *const exits[] = { "echo before", "exit 7",
					     "echo after", NULL };
	unsigned forms[] = { 0, SCRIPT_LEGACY_EVAL };
	size_t f;

	(void)state;
	for (f = 0; f < 2; f++) {
		expect_commands_flags(cmds, forms[f], 3,
				      ECHOED("echo \"level ${BASH_SUBSHELL:-sh}\"")
				      "level 1\n"
				      ECHOED("if read -r line; then echo \"read $line\"; else echo eof; fi")
				      "eof\n" ECHOED("set +e") ECHOED("(exit 3)"),
				      ECHOED("echo \"level ${BASH_SUBSHELL:-sh}\"")
				      "level sh\n"
				      ECHOED("if read -r line; then echo \"read $line\"; else echo eof; fi")
				      "eof\n" ECHOED("set +e") ECHOED("(exit 3)"));
		expect_commands_flags(exits, forms[f], 7,
				      ECHOED("echo before") "before\n"
				      ECHOED("exit 7"), NULL);
	}
}

/*
 * Cancelling sends TERM to the script's process group: the job ends with
 * status 1 and says nothing of its body on stderr.
 */
static void test_term_exits_1_quietly(void **state)
{
	static const char *const cmds[] = { "echo body-marker >/dev/null",
					    "kill -TERM 0", "sleep 5",
					    "echo not-reached", NULL };
	struct strvec sv = STRVEC_INIT;
	struct script_spec spec = { 0 };
	size_t i;

	(void)state;
	strvec_pushv(&sv, (const char **)cmds);
	spec.commands = &sv;
	for (i = 0; i < 2; i++) {
		struct run r;

		generate_and_run(&spec, shells[i], &r);
		assert_int_equal(r.status, 1);
		assert_null(strstr(r.out.data, "not-reached\n"));
		assert_null(strstr(r.err.data, "body-marker"));
		run_release(&r);
	}
	strvec_clear(&sv);
}

static void test_limit_is_an_error(void **state)
{
	struct strvec cmds = STRVEC_INIT;
	struct script_spec spec = { 0 };
	struct buf out, err = BUF_INIT;

	(void)state;
	buf_init(&out, 100);
	strvec_push(&cmds, "echo this script will not fit in one hundred bytes");
	spec.commands = &cmds;
	assert_int_equal(script_generate(&spec, SCRIPT_SHELL_BASH, &out, &err),
			 CR_ERR_TOO_LARGE);
	assert_string_equal(err.data, "cannot generate the bash script: "
			    "too large");
	buf_release(&out);
	buf_release(&err);
	strvec_clear(&cmds);
}

static void test_shell_names(void **state)
{
	enum script_shell sh;

	(void)state;
	assert_int_equal(script_shell_parse("bash", &sh), 0);
	assert_int_equal(sh, SCRIPT_SHELL_BASH);
	assert_int_equal(script_shell_parse("sh", &sh), 0);
	assert_int_equal(sh, SCRIPT_SHELL_SH);
	assert_int_equal(script_shell_parse("pwsh", &sh), CR_ERR_UNSUPPORTED);
	assert_string_equal(script_shell_name(SCRIPT_SHELL_SH), "sh");
	assert_string_equal(script_shell_name(SCRIPT_SHELL_BASH), "bash");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands_are_echoed_then_run),
		cmocka_unit_test(test_backslashes_are_echoed_verbatim),
		cmocka_unit_test(test_false_fails_with_1),
		cmocka_unit_test(test_exit_code_is_the_commands),
		cmocka_unit_test(test_exit_code_checked_without_errexit),
		cmocka_unit_test(test_errexit_alone_by_default),
		cmocka_unit_test(test_and_list_failure),
		cmocka_unit_test(test_check_lines_only_with_flag),
		cmocka_unit_test(test_pipefail_in_bash_only),
		cmocka_unit_test(test_multi_line_command),
		cmocka_unit_test(test_sections_for_multi_line_commands),
		cmocka_unit_test(test_empty_command_prints_empty_line),
		cmocka_unit_test(test_syntax_error_stops_the_script),
		cmocka_unit_test(test_variables_round_trip_exactly),
		cmocka_unit_test(test_weird_commands_are_echoed_exactly),
		cmocka_unit_test(test_posix_escapes_form),
		cmocka_unit_test(test_workdir_pre_post_and_after_script),
		cmocka_unit_test(test_trace_flag_turns_on_xtrace),
		cmocka_unit_test(test_quote_forms),
		cmocka_unit_test(test_export_rejects_bad_names),
		cmocka_unit_test(test_script_run_quotes_arguments),
		cmocka_unit_test(test_eval_in_a_subshell),
		cmocka_unit_test(test_eval_forms_behave_alike),
		cmocka_unit_test(test_term_exits_1_quietly),
		cmocka_unit_test(test_limit_is_an_error),
		cmocka_unit_test(test_shell_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
