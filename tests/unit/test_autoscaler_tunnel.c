/*
 * The docker-autoscaler executor without a server: an instance's connect
 * info as ssh-helper options (instance_ssh.c), the refusals before any
 * SSH is spoken, and a forwarder to a port nobody listens on failing with
 * one sentence and leaving nothing behind (docker_tunnel.c).  Whole jobs
 * through a real sshd are tests/integration/t_docker_autoscaler.sh.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "autoscale/instance_group.h"
#include "config/config.h"
#include "executor/docker_tunnel.h"
#include "executor/executor.h"
#include "executor/instance_ssh.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/proc.h"
#include "util/strvec.h"
#include "closed_port.h"

static void expect_split(const char *addr, const char *host, const char *port)
{
	char *h, *p;

	instance_ssh_split_addr(addr, &h, &p);
	assert_string_equal(h, host);
	if (port)
		assert_string_equal(p, port);
	else
		assert_null(p);
	free(h);
	free(p);
}

static void test_split_addr(void **state)
{
	(void)state;
	expect_split("10.0.0.5", "10.0.0.5", NULL);
	expect_split("10.0.0.5:2222", "10.0.0.5", "2222");
	expect_split("host.example:22", "host.example", "22");
	expect_split("[fd00::1]:2200", "fd00::1", "2200");
	expect_split("[fd00::1]", "fd00::1", NULL);
	expect_split("fd00::1", "fd00::1", NULL);
	expect_split("h:", "h", NULL);
}

/* The value after opt in args, or NULL. */
static const char *arg_after(const struct strvec *args, const char *opt)
{
	size_t i;

	for (i = 0; i + 1 < args->nr; i++)
		if (!strcmp(args->v[i], opt))
			return args->v[i + 1];
	return NULL;
}

static int has(const struct strvec *v, const char *s)
{
	size_t i;

	for (i = 0; i < v->nr; i++)
		if (!strcmp(v->v[i], s))
			return 1;
	return 0;
}

static void test_args_from_connect_info(void **state)
{
	struct ig_connect_info ci = { 0 };
	struct strvec args = STRVEC_INIT, env = STRVEC_INIT;
	struct buf err = BUF_INIT;
	char *key = strdup("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n");

	(void)state;
	ci.id = strdup("i-1");
	ci.internal_addr = strdup("10.1.2.3");
	ci.external_addr = strdup("203.0.113.9:22");
	ci.conn.username = strdup("ubuntu");
	ci.conn.protocol = strdup("ssh");
	ci.conn.protocol_port = 2022;
	ci.conn.key = key;
	ci.conn.key_len = strlen(key);
	ci.conn.timeout_ns = 1500000000LL;	/* 1.5 s: 2 s */
	assert_int_equal(instance_ssh_args(&ci, &args, &env, &err), 0);
	/* The internal address; no port in it: protocol_port. */
	assert_string_equal(arg_after(&args, "--host"), "10.1.2.3");
	assert_true(has(&args, "--port=2022"));
	assert_string_equal(arg_after(&args, "--user"), "ubuntu");
	assert_true(has(&args, "--disable-strict-host-key-checking"));
	assert_true(has(&args, "--connect-timeout=2"));
	/* Secrets in the environment, never in argv. */
	assert_true(has(&env, "CRUNNER_SSH_PRIVATE_KEY=-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"));
	assert_true(has(&env, "CRUNNER_SSH_PASSWORD"));	/* unset */
	strvec_clear(&args);
	strvec_clear(&env);

	/* No internal address: the external one, with its own port. */
	free(ci.internal_addr);
	ci.internal_addr = NULL;
	free(ci.conn.key);
	ci.conn.key = NULL;
	ci.conn.key_len = 0;
	ci.conn.password = strdup("pw");
	assert_int_equal(instance_ssh_args(&ci, &args, &env, &err), 0);
	assert_string_equal(arg_after(&args, "--host"), "203.0.113.9");
	assert_string_equal(arg_after(&args, "--port"), "22");
	assert_false(has(&args, "--port=2022"));
	assert_true(has(&env, "CRUNNER_SSH_PASSWORD=pw"));
	assert_true(has(&env, "CRUNNER_SSH_PRIVATE_KEY"));
	strvec_clear(&args);
	strvec_clear(&env);
	ig_connect_info_release(&ci);
	buf_release(&err);
}

static void test_args_refusals(void **state)
{
	struct ig_connect_info ci = { 0 };
	struct strvec args = STRVEC_INIT, env = STRVEC_INIT;
	struct buf err = BUF_INIT;

	(void)state;
	ci.id = strdup("i-2");
	ci.internal_addr = strdup("10.0.0.1");
	ci.conn.protocol = strdup("winrm");
	assert_int_equal(instance_ssh_args(&ci, &args, &env, &err),
			 CR_ERR_UNSUPPORTED);
	assert_string_equal(err.data, "instance i-2: protocol 'winrm' is not supported (only ssh)");
	buf_reset(&err);
	free(ci.conn.protocol);
	ci.conn.protocol = NULL;
	free(ci.internal_addr);
	ci.internal_addr = NULL;
	assert_int_equal(instance_ssh_args(&ci, &args, &env, &err),
			 CR_ERR_INVALID);
	assert_string_equal(err.data, "instance i-2 has no address to connect to");
	strvec_clear(&args);
	strvec_clear(&env);
	ig_connect_info_release(&ci);
	buf_release(&err);
}

static void test_registered_and_needs_an_instance(void **state)
{
	const struct executor_ops *ops = executor_find("docker-autoscaler");
	const struct config_feature_flag *ff;
	struct executor_options opts = { 0 };
	struct executor *ex = NULL;
	struct buf err = BUF_INIT;

	(void)state;
	assert_non_null(ops);
	assert_string_equal(ops->name, "docker-autoscaler");
	assert_int_equal(ops->prepare(&opts, &ex, &err), CR_ERR_CONFIG);
	assert_null(ex);
	assert_non_null(strstr(err.data, "no instance was acquired for this job"));
	ff = config_feature_flag_find("FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO",
				      strlen("FF_USE_DOCKER_AUTOSCALER_DIAL_STDIO"));
	assert_non_null(ff);
	assert_int_equal(ff->state, CONFIG_FF_HONOURED);
	buf_release(&err);
}

static char *make_tmp(void)
{
	char tmpl[] = "/tmp/crunner-test-das-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static int dir_is_empty(const char *path)
{
	struct buf cmd = BUF_INIT;
	FILE *f;
	char line[256];
	int empty;

	buf_addf(&cmd, "ls -A '%s'", path);
	f = popen(cmd.data, "r");
	assert_non_null(f);
	empty = !fgets(line, sizeof(line), f);
	pclose(f);
	buf_release(&cmd);
	return empty;
}

static void test_socket_forward_needs_a_unix_host(void **state)
{
	struct loop *loop = loop_new();
	struct ig_connect_info ci = { 0 };
	struct docker_tunnel_config tc = { 0 };
	struct docker_tunnel *t = NULL;
	struct buf err = BUF_INIT;
	char *tmp = make_tmp();

	(void)state;
	ci.id = strdup("i-3");
	ci.internal_addr = strdup("127.0.0.1:1");
	tc.instance = &ci;
	tc.dial_stdio = 0;
	tc.docker_host = "tcp://10.0.0.1:2375";
	tc.tmp_parent = tmp;
	assert_int_equal(docker_tunnel_start(loop, &tc, &t, &err),
			 CR_ERR_UNSUPPORTED);
	assert_null(t);
	assert_non_null(strstr(err.data, "the Docker host 'tcp://10.0.0.1:2375' cannot be reached through an SSH socket forward"));
	assert_true(dir_is_empty(tmp));
	assert_int_equal(proc_registered_count(), 0);
	rmdir(tmp);
	free(tmp);
	ig_connect_info_release(&ci);
	buf_release(&err);
	loop_free(loop);
}

struct waited {
	int called, r;
	char why[512];
};

static void on_wait(void *ctx, int r, const char *why)
{
	struct waited *w = ctx;

	w->called++;
	w->r = r;
	snprintf(w->why, sizeof(w->why), "%s", why ? why : "");
}

static void test_unreachable_instance_fails_with_one_sentence(void **state)
{
	struct loop *loop = loop_new();
	struct ig_connect_info ci = { 0 };
	struct docker_tunnel_config tc = { 0 };
	struct docker_tunnel *t = NULL;
	struct waited w = { 0 };
	struct buf err = BUF_INIT, want = BUF_INIT, addr = BUF_INIT;
	char *tmp = make_tmp();
	int port = closed_port(), i;

	(void)state;
	buf_addf(&addr, "127.0.0.1:%d", port);
	ci.id = strdup("i-4");
	ci.internal_addr = strdup(addr.data);
	ci.conn.password = strdup("nothing");
	tc.instance = &ci;
	tc.dial_stdio = 1;
	tc.tmp_parent = tmp;
	assert_int_equal(docker_tunnel_start(loop, &tc, &t, &err), 0);
	assert_non_null(strstr(docker_tunnel_host(t), tmp));
	assert_int_equal(docker_tunnel_wait(t, on_wait, &w, &err), 0);
	assert_int_equal(w.called, 0);	/* never from inside the call */
	/* sshc tries 3 times, 3 s apart. */
	for (i = 0; i < 300 && !w.called; i++)
		loop_run_once(loop, 100);
	assert_int_equal(w.called, 1);
	assert_int_equal(w.r, CR_ERR_NETWORK);
	buf_addf(&want, "connecting to instance i-4: ssh: cannot connect to root@127.0.0.1:%d",
		 port);
	if (strncmp(w.why, want.data, want.len))
		fail_msg("expected '%s...', got '%s'", want.data, w.why);
	assert_false(docker_tunnel_ready(t));
	assert_int_equal(proc_registered_count(), 0);
	docker_tunnel_free(t);
	assert_true(dir_is_empty(tmp));
	rmdir(tmp);
	free(tmp);
	ig_connect_info_release(&ci);
	buf_release(&err);
	buf_release(&want);
	buf_release(&addr);
	loop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_addr),
		cmocka_unit_test(test_args_from_connect_info),
		cmocka_unit_test(test_args_refusals),
		cmocka_unit_test(test_registered_and_needs_an_instance),
		cmocka_unit_test(test_socket_forward_needs_a_unix_host),
		cmocka_unit_test(test_unreachable_instance_fails_with_one_sentence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
