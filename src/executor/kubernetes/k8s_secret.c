/*
 * Registry credentials for the job's pod, as gitlab-runner's
 * setupCredentials makes them: every registry of $DOCKER_AUTH_CONFIG
 * ("auths"), then the job's credentials of type "registry" (the first
 * source of a registry wins, auth.Resolver.AllConfigs), in one Secret of
 * type kubernetes.io/dockercfg created before the pod and named in its
 * imagePullSecrets after config.toml's image_pull_secrets (none of those
 * with use_service_account_image_pull_secrets).  Once the pod exists the
 * Secret is owned by it (ownerReferences), so Kubernetes deletes it with
 * the pod; a Secret the pod never owned is deleted by CLEANUP.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config/config.h"
#include "executor/kubernetes/k8s_int.h"
#include "executor/kubernetes/k8s_pod.h"
#include "executor/kubernetes/k8s_pod_int.h"
#include "gitlab/payload.h"
#include "job/variables.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

/* convertToRegistryPath: what two sources must share to be one registry. */
static void registry_path(const char *server, struct buf *out)
{
	size_t host, i;

	if (!strncasecmp(server, "https://", 8) ||
	    !strncasecmp(server, "http://", 7)) {
		server = strstr(server, "://") + 3;
		host = strcspn(server, "/");
		for (i = 0; i < host; i++)
			(void)buf_addch(out, (char)tolower((unsigned char)server[i]));
		if (!strcmp(out->data, "index.docker.io")) {
			buf_reset(out);
			(void)buf_addstr(out, "docker.io");
		}
		return;
	}
	{
		size_t n = strlen(server);
		const char *slash, *colon;

		if (n && server[n - 1] == '/')
			n--;
		host = strcspn(server, "/");
		if (host > n)
			host = n;
		for (i = 0; i < host; i++)
			(void)buf_addch(out, (char)tolower((unsigned char)server[i]));
		(void)buf_add(out, server + host, n - host);
		/* A tag after the last '/' is cut. */
		slash = strrchr(out->data, '/');
		colon = strrchr(out->data, ':');
		if (slash && colon > slash)
			buf_setlen(out, (size_t)(colon - out->data));
	}
}

/* types.AuthConfig's JSON, its fields in Go's order, empty ones left out. */
static json_t *auth_config(const char *user, const char *pass,
			   const char *email, const char *server,
			   const char *identity, const char *registry_token)
{
	const char *keys[] = { "username", "password", "email",
			       "serveraddress", "identitytoken",
			       "registrytoken" };
	const char *vals[] = { user, pass, email, server, identity,
			       registry_token };
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (vals[i] && *vals[i])
			json_object_set_new(o, keys[i], json_string(vals[i]));
	return o;
}

/* Adds server's entry unless a source before had its registry. */
static void add_entry(json_t *cfgs, struct strvec *paths, const char *server,
		      json_t *entry)
{
	struct buf path = BUF_INIT;
	size_t i;

	registry_path(server, &path);
	for (i = 0; i < paths->nr; i++)
		if (!strcmp(paths->v[i], path.data)) {
			json_decref(entry);
			buf_release(&path);
			return;
		}
	strvec_push(paths, path.data);
	json_object_set_new(cfgs, server, entry);
	buf_release(&path);
}

/* An entry's "auth" as user and password; 0, or -1 when it is not that. */
static int decode_auth(const char *a, struct buf *up, char **colon)
{
	if (base64_decode(a, up) != 0 || !up->data ||
	    !(*colon = strchr(up->data, ':')))
		return -1;
	**colon = '\0';
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * $DOCKER_AUTH_CONFIG's "auths" (configfile.LoadFromReader: "auth"
 * decoded into username and password), sorted by server as
 * withStableOrder gives them.  A malformed source is left out whole.
 */
static void from_docker_auth_config(const char *text, json_t *cfgs,
				    struct strvec *paths,
				    struct strvec *warnings)
{
	struct strvec order = STRVEC_INIT;
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr), *auths, *e;
	const char *server;
	size_t i;

	if (!j) {
		strvec_pushf(warnings, "Failed to resolve credentials from $DOCKER_AUTH_CONFIG: %s. Credentials from this source will not be used.",
			     jerr.text);
		return;
	}
	auths = json_object_get(j, "auths");
	json_object_foreach(auths, server, e) {
		const char *a = json_string_value(json_object_get(e, "auth"));
		struct buf up = BUF_INIT;
		char *colon;
		int bad = a && *a && decode_auth(a, &up, &colon) != 0;

		buf_release_secret(&up);
		if (bad) {
			strvec_push(warnings, "Failed to resolve credentials from $DOCKER_AUTH_CONFIG: invalid auth configuration file. Credentials from this source will not be used.");
			strvec_clear(&order);
			json_decref(j);
			return;
		}
		strvec_push(&order, server);
	}
	qsort(order.v, order.nr, sizeof(*order.v), by_name);
	for (i = 0; i < order.nr; i++) {
		struct buf up = BUF_INIT;
		const char *user, *pass, *a;
		char *colon;

		e = json_object_get(auths, order.v[i]);
		user = json_string_value(json_object_get(e, "username"));
		pass = json_string_value(json_object_get(e, "password"));
		a = json_string_value(json_object_get(e, "auth"));
		if (a && *a && decode_auth(a, &up, &colon) == 0) {
			user = up.data;
			pass = colon + 1;
		}
		add_entry(cfgs, paths, order.v[i], auth_config(user, pass,
			json_string_value(json_object_get(e, "email")),
			order.v[i],
			json_string_value(json_object_get(e, "identitytoken")),
			json_string_value(json_object_get(e, "registrytoken"))));
		buf_release_secret(&up);
	}
	strvec_clear(&order);
	json_decref(j);
}

static char *sorted_dump(json_t *cfgs)
{
	struct strvec keys = STRVEC_INIT;
	json_t *sorted = json_object(), *v;
	const char *k;
	char *text;
	size_t i;

	json_object_foreach(cfgs, k, v)
		strvec_push(&keys, k);
	qsort(keys.v, keys.nr, sizeof(*keys.v), by_name);
	for (i = 0; i < keys.nr; i++)
		json_object_set(sorted, keys.v[i],
				json_object_get(cfgs, keys.v[i]));
	text = json_dumps(sorted, JSON_COMPACT);
	json_decref(sorted);
	strvec_clear(&keys);
	return text;
}

json_t *k8s_credentials_secret(const char *name, const char *ns,
			       const char *docker_auth_config,
			       const struct job_payload *p,
			       struct strvec *warnings)
{
	struct strvec paths = STRVEC_INIT;
	json_t *cfgs = json_object(), *secret = NULL;
	struct buf b64 = BUF_INIT;
	char *text;
	size_t i;

	if (docker_auth_config && *docker_auth_config)
		from_docker_auth_config(docker_auth_config, cfgs, &paths,
					warnings);
	for (i = 0; p && i < p->nr_credentials; i++) {
		const struct job_credential *c = &p->credentials[i];

		if (!c->type || strcmp(c->type, "registry"))
			continue;
		add_entry(cfgs, &paths, c->url ? c->url : "",
			  auth_config(c->username, c->password, NULL,
				      c->url, NULL, NULL));
	}
	strvec_clear(&paths);
	if (!json_object_size(cfgs)) {
		json_decref(cfgs);
		return NULL;
	}
	/* Go marshals a map with its keys sorted, a struct in its order. */
	text = sorted_dump(cfgs);
	base64_encode(&b64, text, strlen(text));
	memset(text, 0, strlen(text));
	free(text);
	json_decref(cfgs);
	secret = json_pack("{s:s,s:s,s:{s:s,s:s},s:s,s:{s:s}}",
			   "apiVersion", "v1", "kind", "Secret",
			   "metadata", "name", name, "namespace", ns,
			   "type", "kubernetes.io/dockercfg",
			   "data", ".dockercfg", b64.data);
	buf_release_secret(&b64);
	return secret;
}

json_t *k8s_image_pull_secrets(const struct k8s_pod_input *in)
{
	const struct config_kubernetes *kc = in->kc;
	json_t *a;
	size_t i;

	/* The service account's own secrets, and nothing else. */
	if (kc->use_service_account_image_pull_secrets)
		return NULL;
	a = json_array();
	for (i = 0; i < kc->image_pull_secrets.nr; i++)
		json_array_append_new(a, json_pack("{s:s}", "name",
						   kc->image_pull_secrets.v[i]));
	if (in->credentials_secret)
		json_array_append_new(a, json_pack("{s:s}", "name",
						   in->credentials_secret));
	if (!json_array_size(a)) {
		json_decref(a);
		return NULL;
	}
	return a;
}
