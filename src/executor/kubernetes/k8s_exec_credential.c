/*
 * A kubeconfig user's exec credential plugin (client-go's
 * plugin/pkg/client/auth/exec, client.authentication.k8s.io/v1 and
 * v1beta1): the command runs with its args and the user's env added to
 * crunner's, KUBERNETES_EXEC_INFO holding an ExecCredential with
 * spec.interactive false, stdin on /dev/null; its stdout is an
 * ExecCredential whose status gives a token, or a client certificate and
 * key (PEM).  An expirationTimestamp already past is refused.  crunner
 * resolves the connection for every job, so each job runs the plugin and
 * starts with a fresh credential; k8s_cred_refresh.c runs it again when
 * the credential expires or is refused mid-job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "executor/kubernetes/k8s_conn.h"
#include "util/error.h"
#include "util/proc.h"
#include "util/timeparse.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define OUTPUT_MAX (1024 * 1024)

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The command as client-go finds it: relative to the kubeconfig's dir. */
static char *command_path(const char *cmd, const char *dir)
{
	struct buf b = BUF_INIT;

	if (cmd[0] != '/' && strchr(cmd, '/') && dir && *dir) {
		(void)buf_addf(&b, "%s/%s", dir, cmd);
		return buf_detach(&b, NULL);
	}
	return xstrdup(cmd);
}

static int run_plugin(const struct k8s_exec_plugin *pl, const char *dir,
		      struct buf *out, struct buf *err)
{
	struct proc p = PROC_INIT;
	FILE *tmp = tmpfile();
	char chunk[4096];
	size_t i, n;
	int status, r = 0;

	if (!tmp) {
		buf_seterr(err, "cannot make a temporary file: %s",
			   strerror(errno));
		return CR_ERR_IO;
	}
	strvec_push_nodup(&p.args, command_path(pl->command, dir));
	for (i = 0; i < pl->args.nr; i++)
		strvec_push(&p.args, pl->args.v[i]);
	for (i = 0; i < pl->env.nr; i++)
		strvec_push(&p.env, pl->env.v[i]);
	strvec_pushf(&p.env,
		     "KUBERNETES_EXEC_INFO={\"apiVersion\":\"%s\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}",
		     pl->api_version);
	p.out = fileno(tmp);
	p.err = PROC_FD_INHERIT;
	if ((r = proc_start(&p, err)) != 0)
		goto out;
	status = proc_wait(&p);
	if (status != 0) {
		buf_seterr(err, "exec plugin '%s' exited with status %d",
			   pl->command, status);
		r = CR_ERR_IO;
		goto out;
	}
	rewind(tmp);
	while ((n = fread(chunk, 1, sizeof(chunk), tmp)) > 0) {
		if (out->len + n > OUTPUT_MAX) {
			buf_seterr(err, "exec plugin '%s': output over %d bytes",
				   pl->command, OUTPUT_MAX);
			r = CR_ERR_TOO_LARGE;
			goto out;
		}
		(void)buf_add(out, chunk, n);
	}
out:
	proc_release(&p);
	fclose(tmp);
	return r;
}

int k8s_exec_credential(const struct k8s_exec_plugin *pl, const char *dir,
			struct k8s_conn *c, time_t *expiry_out, struct buf *err)
{
	struct buf out = BUF_INIT;
	json_t *cred = NULL, *status;
	const char *v, *token, *cert, *key;
	time_t expiry = 0;
	int r;

	if (strcmp(pl->api_version, "client.authentication.k8s.io/v1") &&
	    strcmp(pl->api_version, "client.authentication.k8s.io/v1beta1")) {
		buf_seterr(err, "exec plugin: apiVersion \"%s\" is not client.authentication.k8s.io/v1 or v1beta1",
			   pl->api_version);
		return CR_ERR_UNSUPPORTED;
	}
	if ((r = run_plugin(pl, dir, &out, err)) != 0)
		goto out;
	r = CR_ERR_INVALID;
	cred = json_loadb(out.data ? out.data : "", out.len, 0, NULL);
	if (!json_is_object(cred) || !(v = jstr(cred, "kind")) ||
	    strcmp(v, "ExecCredential")) {
		buf_seterr(err, "exec plugin '%s' did not print an ExecCredential",
			   pl->command);
		goto out;
	}
	if ((v = jstr(cred, "apiVersion")) && strcmp(v, pl->api_version)) {
		buf_seterr(err, "exec plugin '%s': apiVersion \"%s\", not the \"%s\" asked for",
			   pl->command, v, pl->api_version);
		goto out;
	}
	status = json_object_get(cred, "status");
	token = jstr(status, "token");
	cert = jstr(status, "clientCertificateData");
	key = jstr(status, "clientKeyData");
	if ((v = jstr(status, "expirationTimestamp")) && *v) {
		if (time_parse_rfc3339(v, &expiry) != 0) {
			buf_seterr(err, "exec plugin '%s': expirationTimestamp \"%s\" is not a time",
				   pl->command, v);
			goto out;
		}
		if (expiry <= time(NULL)) {
			buf_seterr(err, "exec plugin '%s': the credential expired at %s",
				   pl->command, v);
			goto out;
		}
	}
	if (!(token && *token) && !(cert && *cert && key && *key)) {
		buf_seterr(err, "exec plugin '%s': the ExecCredential has neither a token nor a client certificate and key",
			   pl->command);
		goto out;
	}
	if ((cert && *cert) != (key && *key)) {
		buf_seterr(err, "exec plugin '%s': clientCertificateData and clientKeyData go together",
			   pl->command);
		goto out;
	}
	*expiry_out = expiry;
	if (token && *token) {
		free_secret(c->token);
		c->token = xstrdup(token);
	}
	if (cert && *cert) {
		buf_reset(&c->cert_pem);
		(void)buf_addstr(&c->cert_pem, cert);
		buf_reset(&c->key_pem);
		(void)buf_addstr(&c->key_pem, key);
	}
	r = 0;
out:
	json_decref(cred);
	buf_release_secret(&out);
	return r;
}
