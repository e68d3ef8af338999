/*
 * src/ssh without a server: [runners.ssh] as config.toml gives it, and the
 * errors sshc_connect() returns before any SSH is spoken (a closed port, a
 * key file that is not there).  Logins, host keys, exec and forwarding
 * against a real sshd are tests/integration/t_ssh*.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "config/config.h"
#include "ssh/sshc.h"
#include "util/buf.h"
#include "util/error.h"
#include "file_text.h"
#include "closed_port.h"

static void test_refused_connection_names_the_target(void **state)
{
	struct sshc_target t = SSHC_TARGET_INIT;
	struct sshc_conn *conn = NULL;
	struct buf err = BUF_INIT, want = BUF_INIT;
	char port[16];

	(void)state;
	snprintf(port, sizeof(port), "%d", closed_port());
	t.host = "127.0.0.1";
	t.port = port;
	t.user = "ci";
	t.insecure_host_key = 1;
	t.connect_tries = 1;
	assert_int_equal(sshc_connect(&t, &conn, &err), CR_ERR_NETWORK);
	assert_null(conn);
	buf_addf(&want, "ssh: cannot connect to ci@127.0.0.1:%s (1 attempt): ",
		 port);
	if (strncmp(err.data, want.data, want.len))
		fail_msg("expected '%s...', got '%s'", want.data, err.data);
	buf_release(&want);
	buf_release(&err);
}

static void test_defaults_are_root_at_localhost_22(void **state)
{
	struct sshc_target t = SSHC_TARGET_INIT;
	struct sshc_conn *conn = NULL;
	struct buf err = BUF_INIT;
	int r;

	(void)state;
	t.connect_tries = 1;
	t.connect_timeout_s = 5;
	/*
	 * No known_hosts is read and no login method given: whether an sshd
	 * listens on this machine or not, this fails without reading a file.
	 */
	t.insecure_host_key = 1;
	r = sshc_connect(&t, &conn, &err);
	assert_true(r == CR_ERR_NETWORK || r == CR_ERR_AUTH);
	assert_null(conn);
	/* Either way, the message names gitlab-runner's defaults. */
	if (!strstr(err.data, "root@localhost:22"))
		fail_msg("expected 'root@localhost:22' in '%s'", err.data);
	buf_release(&err);
}

static void test_config_section(void **state)
{
	char dir[] = "/tmp/test_sshc.XXXXXX", path[64];
	struct config cfg;
	struct buf err = BUF_INIT;
	const struct config_ssh *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.toml", dir);
	write_file(path,
		   "[[runners]]\n"
		   "  executor = \"ssh\"\n"
		   "  [runners.ssh]\n"
		   "    user = \"ci\"\n"
		   "    password = \"s3cret\"\n"
		   "    host = \"box\"\n"
		   "    port = \"2222\"\n"
		   "    identity_file = \"/k\"\n"
		   "    disable_strict_host_key_checking = true\n"
		   "    known_hosts_file = \"/kh\"\n"
		   "[[runners]]\n"
		   "  executor = \"shell\"\n");
	assert_int_equal(config_load(path, &cfg, &err), 0);
	/* Every key acts: none is "has no effect". */
	if (cfg.warnings.nr)
		fail_msg("unexpected warning: %s", cfg.warnings.v[0]);
	s = &cfg.runners[0]->ssh;
	assert_true(s->present);
	assert_string_equal(s->user, "ci");
	assert_string_equal(s->password, "s3cret");
	assert_string_equal(s->host, "box");
	assert_string_equal(s->port, "2222");
	assert_string_equal(s->identity_file, "/k");
	assert_int_equal(s->disable_strict_host_key_checking, CONFIG_TRUE);
	assert_string_equal(s->known_hosts_file, "/kh");
	s = &cfg.runners[1]->ssh;
	assert_false(s->present);
	assert_null(s->host);
	assert_int_equal(s->disable_strict_host_key_checking, CONFIG_UNSET);
	config_release(&cfg);
	unlink(path);
	rmdir(dir);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_connection_names_the_target),
		cmocka_unit_test(test_defaults_are_root_at_localhost_22),
		cmocka_unit_test(test_config_section),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
