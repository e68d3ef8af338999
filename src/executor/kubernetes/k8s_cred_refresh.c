/*
 * A kubeconfig exec credential plugin's credential kept fresh, as
 * client-go's exec authenticator does (plugin/pkg/client/auth/exec): the
 * plugin runs again when the credential is past its expirationTimestamp
 * (before the request that would send it), and when the API server
 * answers 401 to the credential it gave (then the request is sent once
 * more).  The worker thread and the FF_PRINT_POD_EVENTS watcher share it
 * (through shallow copies of one k8s_api): a mutex guards it, and a
 * generation number tells a 401 to a credential already replaced from
 * one to the current credential.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "executor/kubernetes/k8s_conn.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "util/banned.h"

struct k8s_cred_refresh {
	pthread_mutex_t lock;
	char *command, *api_version, *dir;
	struct strvec args, env;
	time_t expiry;		/* 0: none */
	unsigned generation;	/* bumped by every new credential */
	char *token;		/* a secret, or NULL */
	struct buf cert_pem, key_pem;	/* the key a secret */
};

/* Copies fresh's credential in (fresh keeps its own). */
static void take(struct k8s_cred_refresh *r, const struct k8s_conn *fresh,
		 time_t expiry)
{
	free_secret(r->token);
	r->token = fresh->token ? xstrdup(fresh->token) : NULL;
	buf_reset(&r->cert_pem);
	(void)buf_add(&r->cert_pem, fresh->cert_pem.data, fresh->cert_pem.len);
	buf_release_secret(&r->key_pem);
	buf_init(&r->key_pem, 0);
	(void)buf_add(&r->key_pem, fresh->key_pem.data, fresh->key_pem.len);
	r->expiry = expiry;
	r->generation++;
}

struct k8s_cred_refresh *k8s_cred_refresh_new(const struct k8s_exec_plugin *pl,
					      const char *dir,
					      const struct k8s_conn *fresh,
					      time_t expiry)
{
	struct k8s_cred_refresh *r = xcalloc(1, sizeof(*r));
	size_t i;

	pthread_mutex_init(&r->lock, NULL);
	r->command = xstrdup(pl->command);
	r->api_version = xstrdup(pl->api_version);
	r->dir = dir ? xstrdup(dir) : NULL;
	strvec_init(&r->args);
	strvec_init(&r->env);
	for (i = 0; i < pl->args.nr; i++)
		strvec_push(&r->args, pl->args.v[i]);
	for (i = 0; i < pl->env.nr; i++)
		strvec_push(&r->env, pl->env.v[i]);
	buf_init(&r->cert_pem, 0);
	buf_init(&r->key_pem, 0);
	take(r, fresh, expiry);
	return r;
}

void k8s_cred_refresh_free(struct k8s_cred_refresh *r)
{
	size_t i;

	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r->command);
	free(r->api_version);
	free(r->dir);
	strvec_clear(&r->args);
	/* The plugin's env may hold secrets: wiped before it is freed. */
	for (i = 0; i < r->env.nr; i++)
		explicit_bzero((char *)(uintptr_t)r->env.v[i], strlen(r->env.v[i]));
	strvec_clear(&r->env);
	free_secret(r->token);
	buf_release(&r->cert_pem);
	buf_release_secret(&r->key_pem);
	free(r);
}

/* The plugin again, under the lock; a failure keeps the old credential. */
static void rerun(struct k8s_cred_refresh *r)
{
	struct k8s_exec_plugin pl;
	struct k8s_conn fresh;
	struct buf err = BUF_INIT;
	time_t expiry = 0;

	memset(&pl, 0, sizeof(pl));
	pl.command = r->command;
	pl.api_version = r->api_version;
	pl.args = r->args;	/* borrowed, not released here */
	pl.env = r->env;
	k8s_conn_init(&fresh);
	if (k8s_exec_credential(&pl, r->dir, &fresh, &expiry, &err) == 0)
		take(r, &fresh, expiry);
	else
		log_warn("kubernetes: the exec credential plugin '%s' failed, "
			 "the old credential is kept: %s", r->command,
			 err.data);
	k8s_conn_release(&fresh);
	buf_release(&err);
}

void k8s_cred_refresh_current(struct k8s_cred_refresh *r, char **token,
			      struct buf *cert_pem, struct buf *key_pem,
			      unsigned *generation)
{
	pthread_mutex_lock(&r->lock);
	/*
	 * client-go's credsExpired is "now after the expiry", to the
	 * nanosecond: in whole seconds, from the expiry's second on.
	 */
	if (r->expiry && time(NULL) >= r->expiry)
		rerun(r);
	*token = r->token ? xstrdup(r->token) : NULL;
	if (cert_pem)
		(void)buf_add(cert_pem, r->cert_pem.data, r->cert_pem.len);
	if (key_pem)
		(void)buf_add(key_pem, r->key_pem.data, r->key_pem.len);
	*generation = r->generation;
	pthread_mutex_unlock(&r->lock);
}

void k8s_cred_refresh_unauthorized(struct k8s_cred_refresh *r,
				   unsigned generation)
{
	pthread_mutex_lock(&r->lock);
	/* Another request may have made a new one already. */
	if (r->generation == generation)
		rerun(r);
	pthread_mutex_unlock(&r->lock);
}
