/*
 * The first lines of a job's scripts where its files are not on crunner's
 * host (executor/container_script.h): docker and kubernetes helper
 * scripts, the ssh executor's stage scripts (ssh_script_prefix()).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "executor/container_script.h"
#include "executor/ssh_int.h"
#include "job/variables.h"
#include "util/buf.h"

static void job_vars(struct variables *v)
{
	*v = (struct variables)VARIABLES_INIT;
	variables_add(v, "RUNNER_TEMP_PROJECT_DIR", "/b/p.tmp", VAR_PUBLIC);
	variables_add(v, "CI_PROJECT_DIR", "/b/it's here", VAR_PUBLIC);
	variables_add(v, "PLAIN", "not a file", VAR_PUBLIC);
	variables_add(v, "KEY_FILE", "line 1\n'quoted'", VAR_FILE);
}

static void test_container_init_script(void **state)
{
	struct variables v;
	struct buf text = BUF_INIT;

	(void)state;
	job_vars(&v);
	container_init_script(&v, false, &text);
	assert_string_equal(text.data,
		"mkdir -p '/b/p.tmp' '/b/it'\\''s here' || exit 1\n"
		"(umask 0077 && printf '%s' 'line 1\n'\\''quoted'\\''' > '/b/p.tmp/KEY_FILE') || exit 1\n");
	buf_reset(&text);
	container_init_script(&v, true, &text);
	assert_non_null(strstr(text.data, "(umask 0022 && printf"));
	buf_release(&text);
	variables_release(&v);
}

static void test_nothing_without_a_temp_dir(void **state)
{
	struct variables v = VARIABLES_INIT;
	struct buf text = BUF_INIT;

	(void)state;
	variables_add(&v, "KEY_FILE", "x", VAR_FILE);
	container_init_script(&v, false, &text);
	container_init_script(NULL, false, &text);
	ssh_script_prefix(&v, &text);
	assert_int_equal(text.len, 0);
	buf_release(&text);
	variables_release(&v);
}

static void test_ssh_prefix_writes_the_process_group_first(void **state)
{
	struct variables v;
	struct buf text = BUF_INIT;
	const char *mkdir_at, *pgid_at, *file_at;

	(void)state;
	job_vars(&v);
	ssh_script_prefix(&v, &text);
	mkdir_at = strstr(text.data, "mkdir -p '/b/p.tmp' '/b/it'\\''s here' || exit 1\n");
	pgid_at = strstr(text.data, "</proc/$$/stat 2>/dev/null && echo \"$g\" || echo \"$$\") >'/b/p.tmp/");
	file_at = strstr(text.data, "(umask 0077 && printf '%s' 'line 1\n'\\''quoted'\\''' > '/b/p.tmp/KEY_FILE') || exit 1\n");
	assert_non_null(mkdir_at);
	assert_non_null(pgid_at);
	assert_non_null(file_at);
	assert_true(mkdir_at < pgid_at && pgid_at < file_at);
	assert_null(strstr(text.data, "not a file"));
	buf_release(&text);
	variables_release(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_init_script),
		cmocka_unit_test(test_nothing_without_a_temp_dir),
		cmocka_unit_test(test_ssh_prefix_writes_the_process_group_first),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
