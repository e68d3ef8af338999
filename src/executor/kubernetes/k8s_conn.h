/*
 * How to reach a Kubernetes API server: its URL, the credentials and the
 * TLS material, from one of gitlab-runner's three sources (its
 * getKubeClientConfig): config.toml's host (with bearer_token, ca_file,
 * cert_file, key_file), else the in-cluster service account, else the
 * kubeconfig ($KUBECONFIG, else ~/.kube/config; current context or
 * [runners.kubernetes] context).
 */
#ifndef CR_K8S_CONN_H
#define CR_K8S_CONN_H

#include <time.h>

#include "util/buf.h"
#include "util/strvec.h"

struct config_kubernetes;

struct k8s_conn {
	char *server;		/* "https://h:6443", no trailing slash */
	char *token;		/* a secret; NULL: none */
	char *ca_file;		/* PEM file, or NULL */
	struct buf ca_pem;	/* PEM in memory (certificate-authority-data) */
	char *cert_file, *key_file;	/* client certificate files */
	struct buf cert_pem, key_pem;	/* ... or their PEM (a secret) */
	int insecure;		/* insecure-skip-tls-verify */
	char *source;		/* for messages: "config.toml", ... */
	/*
	 * An exec credential plugin's: kept fresh (k8s_cred_refresh.c); its
	 * token and client certificate replace the ones above (which hold the
	 * first ones) in requests.  Owned.
	 */
	struct k8s_cred_refresh *refresh;
};

/* A kubeconfig user's exec credential plugin (k8s_exec_credential.c). */
struct k8s_exec_plugin {
	const char *command;
	struct strvec args;
	struct strvec env;		/* "NAME=VALUE" */
	const char *api_version;
};

/*
 * Runs the plugin (a relative command with a '/' is in dir) and takes
 * its ExecCredential's token, or client certificate and key, into c, its
 * expirationTimestamp into *expiry (0: none).  0, or a CR_ERR_* with one
 * sentence in err (the plugin failed, printed no credential, or one
 * already expired).
 */
int k8s_exec_credential(const struct k8s_exec_plugin *pl, const char *dir,
			struct k8s_conn *c, time_t *expiry, struct buf *err);

/*
 * k8s_cred_refresh.c: the plugin's credential, run again when expired or
 * refused.  new copies fresh's token, certificate and key (what
 * k8s_exec_credential gave) and the plugin's description.
 */
struct k8s_cred_refresh;
struct k8s_cred_refresh *k8s_cred_refresh_new(const struct k8s_exec_plugin *pl,
					      const char *dir,
					      const struct k8s_conn *fresh,
					      time_t expiry);
void k8s_cred_refresh_free(struct k8s_cred_refresh *r);
/*
 * The credential to send now (the plugin run again first when it
 * expired): *token a new copy (a secret; NULL: none), the PEMs appended
 * (either may be NULL), and its generation for
 * k8s_cred_refresh_unauthorized.  Thread-safe.
 */
void k8s_cred_refresh_current(struct k8s_cred_refresh *r, char **token,
			      struct buf *cert_pem, struct buf *key_pem,
			      unsigned *generation);
/* The API server answered 401 to that generation: the plugin again. */
void k8s_cred_refresh_unauthorized(struct k8s_cred_refresh *r,
				   unsigned generation);

void k8s_conn_init(struct k8s_conn *c);
void k8s_conn_release(struct k8s_conn *c);

/*
 * Fills c from a kubeconfig's text; dir resolves relative file names;
 * context NULL or "": current-context.  0, or CR_ERR_INVALID /
 * CR_ERR_NOT_FOUND with one sentence in err.
 */
int k8s_kubeconfig_parse(const char *text, size_t len, const char *dir,
			 const char *context, struct k8s_conn *c,
			 struct buf *err);

/* The same from a file. */
int k8s_kubeconfig_load(const char *path, const char *context,
			struct k8s_conn *c, struct buf *err);

/*
 * The in-cluster service account: $KUBERNETES_SERVICE_HOST and _PORT,
 * <root>/var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt};
 * root NULL: "" ($CRUNNER_K8S_SA_ROOT for tests).  CR_ERR_NOT_FOUND when
 * not in a cluster.
 */
int k8s_conn_in_cluster(const char *root, struct k8s_conn *c, struct buf *err);

/* gitlab-runner's order over the three sources for kc. */
int k8s_conn_resolve(const struct config_kubernetes *kc, struct k8s_conn *c,
		     struct buf *err);

#endif
