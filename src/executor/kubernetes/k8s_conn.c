/*
 * Where the Kubernetes API is and how to authenticate, from config.toml,
 * the in-cluster service account or a kubeconfig (YAML, read with
 * libfyaml).  Exec credential plugins and auth providers are not read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <libfyaml.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_conn.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"
#define MAX_FILE (4 * 1024 * 1024)

/* The whole of a small file into out; CR_ERR_IO with a sentence. */
static int read_file(const char *path, struct buf *out, struct buf *err)
{
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		buf_seterr(err, "cannot read '%s': %s", path, strerror(errno));
		return CR_ERR_IO;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (out->len + (size_t)n > MAX_FILE) {
			close(fd);
			buf_seterr(err, "'%s' is too large", path);
			return CR_ERR_TOO_LARGE;
		}
		(void)buf_add(out, chunk, (size_t)n);
	}
	if (n < 0) {
		buf_seterr(err, "cannot read '%s': %s", path, strerror(errno));
		close(fd);
		return CR_ERR_IO;
	}
	close(fd);
	return 0;
}

void k8s_conn_init(struct k8s_conn *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->ca_pem, 0);
	buf_init(&c->cert_pem, 0);
	buf_init(&c->key_pem, 0);
}

void k8s_conn_release(struct k8s_conn *c)
{
	free(c->server);
	free_secret(c->token);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->source);
	buf_release(&c->ca_pem);
	buf_release(&c->cert_pem);
	buf_release_secret(&c->key_pem);
	k8s_cred_refresh_free(c->refresh);
	k8s_conn_init(c);
}

/* A scalar under a mapping node, or NULL. */
static const char *scalar(struct fy_node *map, const char *key)
{
	struct fy_node *n;

	if (!map || !fy_node_is_mapping(map))
		return NULL;
	n = fy_node_mapping_lookup_by_string(map, key, FY_NT);
	if (!n || !fy_node_is_scalar(n))
		return NULL;
	return fy_node_get_scalar0(n);
}

/* The "<what>" member of the item named name in the list key. */
static struct fy_node *named(struct fy_node *root, const char *key,
			     const char *name, const char *what)
{
	struct fy_node *list, *item;
	void *it = NULL;

	list = fy_node_mapping_lookup_by_string(root, key, FY_NT);
	if (!list || !fy_node_is_sequence(list))
		return NULL;
	while ((item = fy_node_sequence_iterate(list, &it)) != NULL) {
		const char *n = scalar(item, "name");

		if (n && !strcmp(n, name))
			return fy_node_mapping_lookup_by_string(item, what,
								FY_NT);
	}
	return NULL;
}

static char *path_in(const char *dir, const char *file)
{
	struct buf b = BUF_INIT;

	if (file[0] == '/' || !dir || !*dir)
		return xstrdup(file);
	(void)buf_addf(&b, "%s/%s", dir, file);
	return buf_detach(&b, NULL);
}

/* base64 "*-data" into out; CR_ERR_INVALID when it is not base64. */
static int decode_data(const char *b64, struct buf *out, const char *what,
		       struct buf *err)
{
	buf_reset(out);
	if (base64_decode(b64, out) != 0) {
		buf_seterr(err, "kubeconfig: %s is not valid base64", what);
		return CR_ERR_INVALID;
	}
	return 0;
}

/* users[].user.exec: its plugin run (k8s_exec_credential.c). */
static int exec_plugin(struct fy_node *user, const char *uname,
		       const char *dir, struct k8s_conn *c, struct buf *err)
{
	struct fy_node *ex = fy_node_mapping_lookup_by_string(user, "exec",
							      FY_NT);
	struct fy_node *list, *item;
	struct k8s_exec_plugin pl;
	struct buf why = BUF_INIT;
	time_t expiry = 0;
	void *it = NULL;
	int r;

	memset(&pl, 0, sizeof(pl));
	strvec_init(&pl.args);
	strvec_init(&pl.env);
	pl.command = scalar(ex, "command");
	pl.api_version = scalar(ex, "apiVersion");
	if (!pl.command || !*pl.command || !pl.api_version) {
		buf_seterr(err, "kubeconfig: user '%s': exec needs a command and an apiVersion",
			   uname);
		return CR_ERR_INVALID;
	}
	list = fy_node_mapping_lookup_by_string(ex, "args", FY_NT);
	while (list && fy_node_is_sequence(list) &&
	       (item = fy_node_sequence_iterate(list, &it)) != NULL)
		if (fy_node_is_scalar(item))
			strvec_push(&pl.args, fy_node_get_scalar0(item));
	it = NULL;
	list = fy_node_mapping_lookup_by_string(ex, "env", FY_NT);
	while (list && fy_node_is_sequence(list) &&
	       (item = fy_node_sequence_iterate(list, &it)) != NULL) {
		const char *name = scalar(item, "name");

		if (name && *name)
			strvec_pushf(&pl.env, "%s=%s", name,
				     scalar(item, "value") ? scalar(item, "value") : "");
	}
	r = k8s_exec_credential(&pl, dir, c, &expiry, &why);
	if (r != 0) {
		buf_seterr(err, "kubeconfig: user '%s': %s", uname, why.data);
	} else {
		/* Requests take the credential from the refresher. */
		k8s_cred_refresh_free(c->refresh);
		c->refresh = k8s_cred_refresh_new(&pl, dir, c, expiry);
	}
	strvec_clear(&pl.args);
	strvec_clear(&pl.env);
	buf_release(&why);
	return r;
}

int k8s_kubeconfig_parse(const char *text, size_t len, const char *dir,
			 const char *context, struct k8s_conn *c,
			 struct buf *err)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_QUIET };
	struct fy_document *doc;
	struct fy_node *root, *ctx, *cluster, *user;
	const char *v, *cname, *uname;
	int r = CR_ERR_INVALID;

	doc = fy_document_build_from_string(&cfg, text, len);
	root = doc ? fy_document_root(doc) : NULL;
	if (!root || !fy_node_is_mapping(root)) {
		buf_seterr(err, "kubeconfig: not a YAML mapping");
		goto out;
	}
	if (!context || !*context)
		context = scalar(root, "current-context");
	if (!context || !*context) {
		buf_seterr(err, "kubeconfig: no current-context");
		r = CR_ERR_NOT_FOUND;
		goto out;
	}
	ctx = named(root, "contexts", context, "context");
	if (!ctx) {
		buf_seterr(err, "kubeconfig: context '%s' not found", context);
		r = CR_ERR_NOT_FOUND;
		goto out;
	}
	cname = scalar(ctx, "cluster");
	uname = scalar(ctx, "user");
	cluster = cname ? named(root, "clusters", cname, "cluster") : NULL;
	if (!cluster || !(v = scalar(cluster, "server")) || !*v) {
		buf_seterr(err, "kubeconfig: context '%s' has no cluster with a server",
			   context);
		r = CR_ERR_NOT_FOUND;
		goto out;
	}
	c->server = xstrdup(v);
	if ((v = scalar(cluster, "certificate-authority-data")) &&
	    (r = decode_data(v, &c->ca_pem, "certificate-authority-data",
			     err)) != 0)
		goto out;
	if ((v = scalar(cluster, "certificate-authority")) && *v)
		c->ca_file = path_in(dir, v);
	v = scalar(cluster, "insecure-skip-tls-verify");
	c->insecure = v && !strcmp(v, "true");
	user = uname ? named(root, "users", uname, "user") : NULL;
	if (user) {
		if ((v = scalar(user, "token")) && *v)
			c->token = xstrdup(v);
		else if ((v = scalar(user, "tokenFile")) && *v) {
			char *p = path_in(dir, v);
			struct buf t = BUF_INIT;

			r = read_file(p, &t, err);
			free(p);
			if (r != 0) {
				buf_release_secret(&t);
				goto out;
			}
			while (t.len && (t.data[t.len - 1] == '\n' ||
					 t.data[t.len - 1] == '\r'))
				buf_setlen(&t, t.len - 1);
			c->token = buf_detach(&t, NULL);
		}
		if ((v = scalar(user, "client-certificate-data")) &&
		    (r = decode_data(v, &c->cert_pem,
				     "client-certificate-data", err)) != 0)
			goto out;
		if ((v = scalar(user, "client-key-data")) &&
		    (r = decode_data(v, &c->key_pem, "client-key-data",
				     err)) != 0)
			goto out;
		if ((v = scalar(user, "client-certificate")) && *v)
			c->cert_file = path_in(dir, v);
		if ((v = scalar(user, "client-key")) && *v)
			c->key_file = path_in(dir, v);
		if (fy_node_mapping_lookup_by_string(user, "exec", FY_NT) &&
		    !c->token && !c->cert_pem.len && !c->cert_file &&
		    (r = exec_plugin(user, uname, dir, c, err)) != 0)
			goto out;
	}
	/* Strip a trailing slash: paths are appended to it. */
	while (*c->server && c->server[strlen(c->server) - 1] == '/')
		c->server[strlen(c->server) - 1] = '\0';
	r = 0;
out:
	fy_document_destroy(doc);
	return r;
}

int k8s_kubeconfig_load(const char *path, const char *context,
			struct k8s_conn *c, struct buf *err)
{
	struct buf text = BUF_INIT, dir = BUF_INIT;
	const char *slash = strrchr(path, '/');
	int r;

	if ((r = read_file(path, &text, err)) != 0)
		goto out;
	if (slash)
		(void)buf_add(&dir, path, (size_t)(slash - path));
	r = k8s_kubeconfig_parse(text.data, text.len, dir.data, context, c,
				 err);
	if (r == 0) {
		struct buf src = BUF_INIT;

		(void)buf_addf(&src, "kubeconfig %s", path);
		c->source = buf_detach(&src, NULL);
	}
out:
	buf_release_secret(&text);
	buf_release(&dir);
	return r;
}

int k8s_conn_in_cluster(const char *root, struct k8s_conn *c, struct buf *err)
{
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	struct buf path = BUF_INIT, tok = BUF_INIT, url = BUF_INIT;
	int r;

	if (!root)
		root = getenv("CRUNNER_K8S_SA_ROOT");
	if (!root)
		root = "";
	if (!host || !*host || !port || !*port) {
		buf_seterr(err, "not in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set");
		return CR_ERR_NOT_FOUND;
	}
	(void)buf_addf(&path, "%s" SA_DIR "/token", root);
	if ((r = read_file(path.data, &tok, err)) != 0)
		goto out;
	while (tok.len && (tok.data[tok.len - 1] == '\n'))
		buf_setlen(&tok, tok.len - 1);
	/* An IPv6 address goes in brackets, as Go's net.JoinHostPort. */
	(void)buf_addf(&url, strchr(host, ':') ? "https://[%s]:%s" :
		       "https://%s:%s", host, port);
	c->server = buf_detach(&url, NULL);
	c->token = buf_detach(&tok, NULL);
	buf_reset(&path);
	(void)buf_addf(&path, "%s" SA_DIR "/ca.crt", root);
	c->ca_file = buf_detach(&path, NULL);
	c->source = xstrdup("in-cluster service account");
out:
	buf_release(&path);
	buf_release_secret(&tok);
	buf_release(&url);
	return r;
}

int k8s_conn_resolve(const struct config_kubernetes *kc, struct k8s_conn *c,
		     struct buf *err)
{
	struct buf why = BUF_INIT, path = BUF_INIT;
	const char *env, *home;
	int r;

	if (kc->host && *kc->host) {
		if (kc->cert_file && *kc->cert_file &&
		    (!kc->key_file || !*kc->key_file || !kc->ca_file ||
		     !*kc->ca_file)) {
			buf_seterr(err, "ca file, cert file and key file must be specified when using file based auth");
			return CR_ERR_CONFIG;
		}
		c->server = xstrdup(kc->host);
		while (*c->server && c->server[strlen(c->server) - 1] == '/')
			c->server[strlen(c->server) - 1] = '\0';
		if (kc->bearer_token && *kc->bearer_token)
			c->token = xstrdup(kc->bearer_token);
		if (kc->ca_file && *kc->ca_file)
			c->ca_file = xstrdup(kc->ca_file);
		if (kc->cert_file && *kc->cert_file) {
			c->cert_file = xstrdup(kc->cert_file);
			c->key_file = xstrdup(kc->key_file);
		}
		c->source = xstrdup("config.toml host");
		return 0;
	}
	if (k8s_conn_in_cluster(NULL, c, &why) == 0) {
		buf_release(&why);
		return 0;
	}
	k8s_conn_release(c);
	/* $KUBECONFIG may list files; the first one is used. */
	env = getenv("KUBECONFIG");
	if (env && *env) {
		const char *colon = strchr(env, ':');

		(void)buf_add(&path, env, colon ? (size_t)(colon - env) :
			      strlen(env));
	} else if ((home = getenv("HOME")) && *home) {
		(void)buf_addf(&path, "%s/.kube/config", home);
	} else {
		buf_seterr(err, "no Kubernetes connection: no host in [runners.kubernetes], %s, no $KUBECONFIG and no $HOME",
			   why.data);
		buf_release(&why);
		return CR_ERR_CONFIG;
	}
	r = k8s_kubeconfig_load(path.data, kc->context, c, err);
	buf_release(&why);
	buf_release(&path);
	if (r != 0)
		k8s_conn_release(c);
	return r;
}
