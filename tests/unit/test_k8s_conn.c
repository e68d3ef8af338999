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

#include "config/config.h"
#include "executor/kubernetes/k8s_api.h"
#include "executor/kubernetes/k8s_conn.h"
#include "util/buf.h"
#include "util/error.h"
#include "file_text.h"

/* Two contexts; "prod" is current; CA and client cert as data. */
static const char kubeconfig[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: prod\n"
	"clusters:\n"
	"- name: c-prod\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority-data: Q0EtUEVN\n"	/* "CA-PEM" */
	"- name: c-dev\n"
	"  cluster:\n"
	"    server: https://dev.example:443/k8s/clusters/c-1\n"
	"    certificate-authority: certs/ca.crt\n"
	"    insecure-skip-tls-verify: true\n"
	"contexts:\n"
	"- name: prod\n"
	"  context: {cluster: c-prod, user: u-cert, namespace: ci}\n"
	"- name: dev\n"
	"  context: {cluster: c-dev, user: u-token}\n"
	"- name: plugin\n"
	"  context: {cluster: c-dev, user: u-exec}\n"
	"users:\n"
	"- name: u-cert\n"
	"  user:\n"
	"    client-certificate-data: Q0VSVA==\n"	/* "CERT" */
	"    client-key-data: S0VZ\n"			/* "KEY" */
	"- name: u-token\n"
	"  user:\n"
	"    token: abc.def\n"
	"    client-certificate: /abs/client.crt\n"
	"    client-key: rel/client.key\n"
	"- name: u-exec\n"
	"  user:\n"
	"    exec: {command: /nonexistent/crunner-no-such-plugin, apiVersion: client.authentication.k8s.io/v1}\n";

static void test_current_context_with_data(void **state)
{
	struct k8s_conn c;
	struct buf err = BUF_INIT;

	(void)state;
	k8s_conn_init(&c);
	assert_int_equal(k8s_kubeconfig_parse(kubeconfig, strlen(kubeconfig),
					      "/home/u/.kube", NULL, &c, &err), 0);
	assert_string_equal(c.server, "https://10.0.0.1:6443");
	assert_string_equal(c.ca_pem.data, "CA-PEM");
	assert_string_equal(c.cert_pem.data, "CERT");
	assert_string_equal(c.key_pem.data, "KEY");
	assert_null(c.token);
	assert_null(c.ca_file);
	assert_int_equal(c.insecure, 0);
	k8s_conn_release(&c);
	buf_release(&err);
}

static void test_named_context_files_and_token(void **state)
{
	struct k8s_conn c;
	struct buf err = BUF_INIT;

	(void)state;
	k8s_conn_init(&c);
	assert_int_equal(k8s_kubeconfig_parse(kubeconfig, strlen(kubeconfig),
					      "/home/u/.kube", "dev", &c, &err), 0);
	assert_string_equal(c.server, "https://dev.example:443/k8s/clusters/c-1");
	assert_string_equal(c.token, "abc.def");
	/* Relative paths are the kubeconfig file's. */
	assert_string_equal(c.ca_file, "/home/u/.kube/certs/ca.crt");
	assert_string_equal(c.cert_file, "/abs/client.crt");
	assert_string_equal(c.key_file, "/home/u/.kube/rel/client.key");
	assert_int_equal(c.insecure, 1);
	k8s_conn_release(&c);
	buf_release(&err);
}

static void test_refusals(void **state)
{
	static const char no_current[] = "apiVersion: v1\nclusters: []\n";
	static const char bad_b64[] =
		"current-context: a\n"
		"contexts: [{name: a, context: {cluster: c, user: u}}]\n"
		"clusters: [{name: c, cluster: {server: 'https://h', certificate-authority-data: '!!!'}}]\n";
	struct k8s_conn c;
	struct buf err = BUF_INIT;

	(void)state;
	k8s_conn_init(&c);
	assert_int_equal(k8s_kubeconfig_parse(kubeconfig, strlen(kubeconfig),
					      NULL, "nope", &c, &err), CR_ERR_NOT_FOUND);
	assert_non_null(strstr(err.data, "context 'nope' not found"));
	k8s_conn_release(&c);
	buf_reset(&err);
	assert_int_equal(k8s_kubeconfig_parse(kubeconfig, strlen(kubeconfig),
					      NULL, "plugin", &c, &err), CR_ERR_NOT_FOUND);
	/* The plugin is run: this one does not exist here. */
	assert_non_null(strstr(err.data, "user 'u-exec': cannot run '/nonexistent/crunner-no-such-plugin'"));
	k8s_conn_release(&c);
	buf_reset(&err);
	assert_int_equal(k8s_kubeconfig_parse(no_current, strlen(no_current),
					      NULL, NULL, &c, &err), CR_ERR_NOT_FOUND);
	k8s_conn_release(&c);
	buf_reset(&err);
	assert_int_equal(k8s_kubeconfig_parse(bad_b64, strlen(bad_b64),
					      NULL, NULL, &c, &err), CR_ERR_INVALID);
	k8s_conn_release(&c);
	buf_reset(&err);
	assert_int_equal(k8s_kubeconfig_parse("[1, 2", 5, NULL, NULL, &c,
					      &err), CR_ERR_INVALID);
	k8s_conn_release(&c);
	buf_release(&err);
}

/* The service account under a test root; IPv6 hosts in brackets. */
static void test_in_cluster(void **state)
{
	char root[] = "/tmp/crunner-k8s-sa.XXXXXX";
	struct k8s_conn c;
	struct buf err = BUF_INIT, p = BUF_INIT;

	(void)state;
	assert_non_null(mkdtemp(root));
	buf_addf(&p, "mkdir -p %s/var/run/secrets/kubernetes.io/serviceaccount", root);
	assert_int_equal(system(p.data), 0);
	buf_reset(&p);
	buf_addf(&p, "%s/var/run/secrets/kubernetes.io/serviceaccount/token", root);
	write_file(p.data, "sa-token\n");
	k8s_conn_init(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	assert_int_equal(k8s_conn_in_cluster(root, &c, &err), CR_ERR_NOT_FOUND);
	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	assert_int_equal(k8s_conn_in_cluster(root, &c, &err), 0);
	assert_string_equal(c.server, "https://[fd00::1]:443");
	assert_string_equal(c.token, "sa-token");
	buf_reset(&p);
	buf_addf(&p, "%s/var/run/secrets/kubernetes.io/serviceaccount/ca.crt", root);
	assert_string_equal(c.ca_file, p.data);
	k8s_conn_release(&c);
	buf_reset(&p);
	buf_addf(&p, "rm -rf %s", root);
	assert_int_equal(system(p.data), 0);
	unsetenv("KUBERNETES_SERVICE_HOST");
	unsetenv("KUBERNETES_SERVICE_PORT");
	buf_release(&p);
	buf_release(&err);
}

/* config.toml's host wins; a cert file needs the key and CA files. */
static void test_config_host(void **state)
{
	struct config_kubernetes kc;
	struct k8s_conn c;
	struct buf err = BUF_INIT;
	char host[] = "https://k8s.example:6443/", tok[] = "tok", cert[] = "/c.pem";

	(void)state;
	memset(&kc, 0, sizeof(kc));
	kc.host = host;
	kc.bearer_token = tok;
	k8s_conn_init(&c);
	assert_int_equal(k8s_conn_resolve(&kc, &c, &err), 0);
	assert_string_equal(c.server, "https://k8s.example:6443");
	assert_string_equal(c.token, "tok");
	k8s_conn_release(&c);
	kc.cert_file = cert;
	assert_int_equal(k8s_conn_resolve(&kc, &c, &err), CR_ERR_CONFIG);
	assert_non_null(strstr(err.data, "ca file, cert file and key file must be specified"));
	k8s_conn_release(&c);
	buf_release(&err);
}

/* A kubeconfig whose user runs dir/bin/plugin (relative: the kubeconfig's dir). */
static int exec_config(const char *dir, const char *script, struct k8s_conn *c,
		       struct buf *err)
{
	char path[512];
	FILE *fp;
	static const char cfg[] =
		"current-context: a\n"
		"contexts: [{name: a, context: {cluster: c, user: u}}]\n"
		"clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
		"users:\n"
		"- name: u\n"
		"  user:\n"
		"    exec:\n"
		"      apiVersion: client.authentication.k8s.io/v1\n"
		"      command: bin/plugin\n"
		"      args: [--cluster, prod]\n"
		"      env: [{name: PLUGIN_WORD, value: from-the-env}]\n";

	snprintf(path, sizeof(path), "%s/bin", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/bin/plugin", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(script, fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0700), 0);
	k8s_conn_init(c);
	return k8s_kubeconfig_parse(cfg, strlen(cfg), dir, NULL, c, err);
}

/*
 * The plugin's credential kept fresh (k8s_cred_refresh.c): run again once
 * past its expirationTimestamp, and after a 401 to the current one only.
 */
static void test_exec_plugin_refresh(void **state)
{
	char dir[] = "/tmp/test_k8s_conn.XXXXXX";
	struct k8s_conn c;
	struct k8s_api api;
	struct buf err = BUF_INIT, rm = BUF_INIT;
	char *token, *again;
	unsigned gen, gen2;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(exec_config(dir,
		"#!/bin/sh\n"
		"n=$(($(cat \"$0.runs\" 2>/dev/null || echo 0) + 1)); echo $n >\"$0.runs\"\n"
		"exp=$(date -u -d @$(($(date +%s) + 2)) +%Y-%m-%dT%H:%M:%SZ)\n"
		"printf '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {\"token\": \"run-%s\", \"expirationTimestamp\": \"%s\"}}\\n' \"$n\" \"$exp\"\n",
		&c, &err), 0);
	assert_non_null(c.refresh);
	k8s_api_init(&api, &c, NULL);
	token = k8s_api_bearer(&api);
	assert_string_equal(token, "run-1");
	free(token);
	sleep(4);
	/* Expired: the next request's token is a new one. */
	token = k8s_api_bearer(&api);
	assert_string_equal(token, "run-2");
	free(token);
	k8s_cred_refresh_current(api.conn.refresh, &token, NULL, NULL, &gen);
	assert_string_equal(token, "run-2");
	free(token);
	/* A 401 to an older credential: the current one stays. */
	k8s_cred_refresh_unauthorized(api.conn.refresh, gen - 1);
	k8s_cred_refresh_current(api.conn.refresh, &again, NULL, NULL, &gen2);
	assert_string_equal(again, "run-2");
	assert_int_equal(gen2, gen);
	free(again);
	/* A 401 to the current one: the plugin again. */
	k8s_cred_refresh_unauthorized(api.conn.refresh, gen);
	k8s_cred_refresh_current(api.conn.refresh, &again, NULL, NULL, &gen2);
	assert_string_equal(again, "run-3");
	assert_int_not_equal(gen2, gen);
	free(again);
	k8s_api_release(&api);
	buf_addf(&rm, "rm -rf '%s'", dir);
	assert_int_equal(system(rm.data), 0);
	buf_release(&rm);
	buf_release(&err);
}

static void test_exec_plugin(void **state)
{
	char dir[] = "/tmp/test_k8s_conn.XXXXXX";
	struct k8s_conn c;
	struct buf err = BUF_INIT, rm = BUF_INIT;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* Its args, env and KUBERNETES_EXEC_INFO reach it; its token is used. */
	assert_int_equal(exec_config(dir,
		"#!/bin/sh\n"
		"case $KUBERNETES_EXEC_INFO in *'\"interactive\":false'*) ;; *) exit 3 ;; esac\n"
		"echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\",'\n"
		"echo \" \\\"status\\\": {\\\"token\\\": \\\"$PLUGIN_WORD-$1-$2\\\", \\\"expirationTimestamp\\\": \\\"2999-01-01T00:00:00Z\\\"}}\"\n",
		&c, &err), 0);
	assert_string_equal(c.token, "from-the-env---cluster-prod");
	k8s_conn_release(&c);
	/* A client certificate and key. */
	assert_int_equal(exec_config(dir,
		"#!/bin/sh\n"
		"echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {\"clientCertificateData\": \"CERT\", \"clientKeyData\": \"KEY\"}}'\n",
		&c, &err), 0);
	assert_null(c.token);
	assert_string_equal(c.cert_pem.data, "CERT");
	assert_string_equal(c.key_pem.data, "KEY");
	k8s_conn_release(&c);
	/* Expired already, failing, or printing no credential: refused. */
	assert_int_equal(exec_config(dir,
		"#!/bin/sh\n"
		"echo '{\"apiVersion\": \"client.authentication.k8s.io/v1\", \"kind\": \"ExecCredential\", \"status\": {\"token\": \"t\", \"expirationTimestamp\": \"2001-01-01T00:00:00Z\"}}'\n",
		&c, &err), CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "the credential expired at 2001-01-01T00:00:00Z"));
	k8s_conn_release(&c);
	buf_reset(&err);
	assert_int_equal(exec_config(dir, "#!/bin/sh\nexit 7\n", &c, &err),
			 CR_ERR_IO);
	assert_non_null(strstr(err.data, "exited with status 7"));
	k8s_conn_release(&c);
	buf_reset(&err);
	assert_int_equal(exec_config(dir, "#!/bin/sh\necho '{}'\n", &c, &err),
			 CR_ERR_INVALID);
	assert_non_null(strstr(err.data, "did not print an ExecCredential"));
	k8s_conn_release(&c);
	(void)buf_addf(&rm, "rm -rf '%s'", dir);
	assert_int_equal(system(rm.data), 0);
	buf_release(&rm);
	buf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_context_with_data),
		cmocka_unit_test(test_named_context_files_and_token),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_exec_plugin),
		cmocka_unit_test(test_exec_plugin_refresh),
		cmocka_unit_test(test_in_cluster),
		cmocka_unit_test(test_config_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
