#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "executor/kubernetes/k8s_int.h"
#include "util/buf.h"
#include "file_text.h"

/* gitlab-runner's status line, as its trap prints it. */
static void test_marker(void **state)
{
	static const char line[] =
		"{\"command_exit_code\": 3, \"script\": \"/scripts-1-2/3-step_script.sh\"}\n";
	struct buf script = BUF_INIT;
	int code = -1;

	(void)state;
	assert_int_equal(k8s_attach_marker(line, strlen(line), &code,
					   &script), 1);
	assert_int_equal(code, 3);
	assert_string_equal(script.data, "/scripts-1-2/3-step_script.sh");
	buf_release(&script);
}

/* Output that looks like JSON, or is not, is not a status line. */
static void test_not_marker(void **state)
{
	static const char *lines[] = {
		"{\"command\": 1}\n", "{not json\n", "echo {\n", "\n",
		"{\"command_exit_code\": \"3\"}\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lines) / sizeof(*lines); i++) {
		int code = -1;

		assert_int_equal(k8s_attach_marker(lines[i], strlen(lines[i]),
						   &code, NULL), 0);
		assert_int_equal(code, -1);
	}
}

static void read_file(const char *path, struct buf *out)
{
	char chunk[4096];
	FILE *f = fopen(path, "r");
	size_t n;

	buf_reset(out);
	if (!f)
		return;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		(void)buf_add(out, chunk, n);
	fclose(f);
}

/*
 * The line the container's shell gets, run by sh here: the script runs in
 * the background, its output and then its status line land in the log.
 */
static void test_command_runs(void **state)
{
	char dir[] = "/tmp/test_k8s_attach.XXXXXX";
	struct buf scripts = BUF_INIT, logs = BUF_INIT, script = BUF_INIT,
		line = BUF_INIT, log = BUF_INIT, path = BUF_INIT;
	struct timespec ts = { 0, 50 * 1000000L };
	int i, code = -1;
	const char *nl;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)buf_addf(&scripts, "%s/scripts", dir);
	(void)buf_addf(&logs, "%s/logs", dir);
	assert_int_equal(mkdir(scripts.data, 0700), 0);
	assert_int_equal(mkdir(logs.data, 0700), 0);
	(void)buf_addf(&path, "%s/detect_shell_script", scripts.data);
	write_file(path.data, k8s_detect_shell);
	(void)buf_addf(&script, "%s/1-step_script.sh", scripts.data);
	write_file(script.data, "echo out-line\necho err-line >&2\nexit 5\n");
	k8s_attach_command(scripts.data, logs.data, script.data, &line);
	assert_int_equal(line.data[line.len - 1], '\n');
	{
		struct buf cmd = BUF_INIT;

		/* As the waiting shell would: the line on its stdin. */
		(void)buf_addf(&cmd, "%s/in", dir);
		write_file(cmd.data, line.data);
		buf_reset(&path);
		(void)buf_addf(&path, "sh < %s/in > /dev/null", dir);
		assert_int_equal(system(path.data), 0);
		buf_release(&cmd);
	}
	buf_reset(&path);
	(void)buf_addf(&path, "%s/output.log", logs.data);
	for (i = 0; i < 200; i++) {
		read_file(path.data, &log);
		if (log.len && strstr(log.data, "command_exit_code"))
			break;
		nanosleep(&ts, NULL);
	}
	assert_non_null(strstr(log.data, "out-line\n"));
	assert_non_null(strstr(log.data, "err-line\n"));
	/* The status line is the last one, on a line of its own. */
	nl = strstr(log.data, "\n{");
	assert_non_null(nl);
	buf_reset(&line);
	assert_int_equal(k8s_attach_marker(nl + 1, strlen(nl + 1), &code,
					   &line), 1);
	assert_int_equal(code, 5);
	buf_reset(&line);
	buf_reset(&log);
	(void)buf_addf(&log, "rm -rf %s", dir);
	assert_int_equal(system(log.data), 0);
	buf_release(&scripts);
	buf_release(&logs);
	buf_release(&script);
	buf_release(&line);
	buf_release(&log);
	buf_release(&path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marker),
		cmocka_unit_test(test_not_marker),
		cmocka_unit_test(test_command_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
