/* The helpers register, verify, unregister and reset-token share. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "config/config.h"
#include "config/system_id.h"
#include "gitlab/api.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"

static void test_parse_bool_takes_go_spellings(void **state)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	static const char *const bad[] = { "", "yes", "no", "tRUE", "true ", "2" };
	bool v;
	size_t i;

	(void)state;
	for (i = 0; i < 6; i++) {
		v = false;
		assert_int_equal(cli_parse_bool(yes[i], &v), 0);
		assert_true(v);
		v = true;
		assert_int_equal(cli_parse_bool(no[i], &v), 0);
		assert_false(v);
		v = true;
		assert_int_equal(cli_parse_bool(bad[i], &v), CR_ERR_INVALID);
		assert_true(v);	/* untouched */
	}
}

static void test_set_token_stores_times(void **state)
{
	struct runner_config rc;

	(void)state;
	runner_config_init(&rc);
	rc.token = xstrdup("glrt-old");
	assert_int_equal(cli_runner_set_token(&rc, "glrt-new",
					      "2026-05-01T10:00:00.000Z", 1000), 0);
	assert_string_equal(rc.token, "glrt-new");
	assert_int_equal(rc.token_obtained_at, 1000);
	assert_int_equal(rc.token_expires_at, 1777629600);

	/* The same string again (verify keeps the token it sent). */
	assert_int_equal(cli_runner_set_token(&rc, rc.token, NULL, 2000), 0);
	assert_string_equal(rc.token, "glrt-new");
	assert_int_equal(rc.token_obtained_at, 2000);
	assert_int_equal(rc.token_expires_at, 0);

	/* An unreadable expiry: token kept, expiry "never", error returned. */
	assert_int_equal(cli_runner_set_token(&rc, "glrt-third", "soon", 3000),
			 CR_ERR_INVALID);
	assert_string_equal(rc.token, "glrt-third");
	assert_int_equal(rc.token_obtained_at, 3000);
	assert_int_equal(rc.token_expires_at, 0);
	runner_config_release(&rc);
}

static void test_token_kind(void **state)
{
	(void)state;
	assert_true(cli_token_is_created("glrt-t1_abc"));
	assert_true(cli_token_is_created("glrt-abc"));
	assert_false(cli_token_is_created("glrtr-abc"));
	assert_false(cli_token_is_created("GR1348941abc"));
	assert_false(cli_token_is_created(""));
	assert_false(cli_token_is_created(NULL));
}

static void test_describe_masks_and_flattens(void **state)
{
	struct gl_runner_reply r = GL_RUNNER_REPLY_INIT;
	struct buf out = BUF_INIT;

	(void)state;
	r.result = GL_AUTH;
	r.status = 403;
	(void)buf_addstr(&r.message, "HTTP 403: token glrt-secret123 is\nbad, glrt-secret123");
	cli_runner_describe(&out, &r, "glrt-secret123");
	assert_string_equal(out.data, "HTTP 403: token [MASKED] is bad, [MASKED]");
	buf_release(&out);

	buf_reset(&r.message);
	cli_runner_describe(&out, &r, "glrt-secret123");
	assert_string_equal(out.data, "HTTP 403");
	buf_release(&out);

	r.status = 0;
	r.result = GL_RETRY;
	cli_runner_describe(&out, &r, NULL);
	assert_string_equal(out.data, gl_result_name(GL_RETRY));
	buf_release(&out);
	gl_runner_reply_release(&r);
}

static void test_client_options_from_runner(void **state)
{
	struct runner_config rc;
	struct gl_client_options co;

	(void)state;
	runner_config_init(&rc);
	rc.url = xstrdup("https://gitlab.example.com/");
	rc.tls_ca_file = xstrdup("/etc/ca.pem");
	cli_runner_client_options(&co, &rc, 60);
	assert_ptr_equal(co.url, rc.url);
	assert_ptr_equal(co.http.ca_file, rc.tls_ca_file);
	assert_null(co.http.cert_file);
	assert_int_equal(co.http.connection_max_age_s, 60);
	runner_config_release(&rc);
}

/* Runs cli_prompt() on input, returns its result; *shown gets the output. */
static int prompt(const char *input, const char *def, char **answer,
		  char **shown)
{
	FILE *in = fmemopen((void *)input, strlen(input), "r");
	size_t len;
	FILE *out = open_memstream(shown, &len);
	int r;

	assert_non_null(in);
	assert_non_null(out);
	r = cli_prompt(in, out, "Enter the URL:", def, answer);
	fclose(in);
	fclose(out);
	return r;
}

static void test_prompt_reads_one_trimmed_line(void **state)
{
	char *answer = NULL, *shown = NULL;

	(void)state;
	assert_int_equal(prompt("  http://x  \nnext\n", "dflt", &answer, &shown), 0);
	assert_string_equal(answer, "http://x");
	assert_string_equal(shown, "Enter the URL:\n[dflt]: ");
	free(answer);
	free(shown);

	assert_int_equal(prompt("\n", NULL, &answer, &shown), 0);
	assert_string_equal(answer, "");
	assert_string_equal(shown, "Enter the URL:\n");
	free(answer);
	free(shown);

	/* A last line without a newline still counts. */
	assert_int_equal(prompt("tail", "", &answer, &shown), 0);
	assert_string_equal(answer, "tail");
	free(answer);
	free(shown);
}

static void test_prompt_errors(void **state)
{
	char *answer = NULL, *shown = NULL, *big;

	(void)state;
	assert_int_equal(prompt("", NULL, &answer, &shown), CR_ERR_IO);
	assert_null(answer);
	free(shown);

	big = xmalloc(CLI_PROMPT_MAX + 10);
	memset(big, 'a', CLI_PROMPT_MAX + 8);
	big[CLI_PROMPT_MAX + 8] = '\n';
	big[CLI_PROMPT_MAX + 9] = '\0';
	assert_int_equal(prompt(big, NULL, &answer, &shown), CR_ERR_TOO_LARGE);
	assert_null(answer);
	free(shown);
	free(big);
}

static void test_system_id_created_beside_config(void **state)
{
	char dir[] = "/tmp/crunner-test-cli-XXXXXX", path[256], id1[SYSTEM_ID_SIZE],
	     id2[SYSTEM_ID_SIZE], state_file[256];
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/config.toml", dir);
	snprintf(state_file, sizeof(state_file), "%s/a/b/.runner_system_id", dir);
	cli_system_id(path, id1, sizeof(id1));
	assert_true(system_id_valid(id1));
	assert_int_equal(stat(state_file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	cli_system_id(path, id2, sizeof(id2));
	assert_string_equal(id1, id2);

	unlink(state_file);
	snprintf(path, sizeof(path), "%s/a/b", dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/a", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_bool_takes_go_spellings),
		cmocka_unit_test(test_set_token_stores_times),
		cmocka_unit_test(test_token_kind),
		cmocka_unit_test(test_describe_masks_and_flattens),
		cmocka_unit_test(test_client_options_from_runner),
		cmocka_unit_test(test_prompt_reads_one_trimmed_line),
		cmocka_unit_test(test_prompt_errors),
		cmocka_unit_test(test_system_id_created_beside_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
