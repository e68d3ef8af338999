/*
 * The payload's "secrets" object (spec 3.1): a map from variable name to
 * one provider's description plus "file".  A map with names of its own
 * does not fit payload.c's tables, so it is decoded here, walked in the
 * order GitLab sent it, each provider's shape field by field.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gitlab/payload.h"
#include "gitlab/payload_secrets.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/xalloc.h"
#include "util/banned.h"

static const struct {
	const char *key;
	enum job_secret_provider provider;
} providers[] = {
	{ "vault", JOB_SECRET_VAULT },
	{ "gcp_secret_manager", JOB_SECRET_GCP_SECRET_MANAGER },
	{ "azure_key_vault", JOB_SECRET_AZURE_KEY_VAULT },
	{ "aws_secrets_manager", JOB_SECRET_AWS_SECRETS_MANAGER },
	{ "gitlab_secrets_manager", JOB_SECRET_GITLAB_SECRETS_MANAGER },
};

const char *job_secret_provider_name(enum job_secret_provider p)
{
	size_t i;

	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++)
		if (providers[i].provider == p)
			return providers[i].key;
	return "none";
}

static int bad(struct buf *err, const char *name, const char *where,
	       const char *what)
{
	buf_seterr(err, "job payload: 'secrets.%s%s%s' must be %s", name,
		   *where ? "." : "", where, what);
	return CR_ERR_INVALID;
}

/* A string member of obj at where ("" when absent or null). */
static int get_str(json_t *obj, const char *key, char **out,
		   const char *name, const char *where, struct buf *err)
{
	json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

	if (v && !json_is_null(v) && !json_is_string(v))
		return bad(err, name, where, "a string");
	*out = xstrdup(v && json_is_string(v) ? json_string_value(v) : "");
	return 0;
}

/* An object member (NULL when absent or null); an error when not one. */
static int get_obj(json_t *obj, const char *key, json_t **out,
		   const char *name, const char *where, struct buf *err)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return bad(err, name, where, "an object");
	*out = v;
	return 0;
}

/*
 * server.auth.data: strings, as GitLab sends them ("jwt": "$ID_TOKEN",
 * "role": "..."); a number or boolean is kept as its JSON text.
 */
static int decode_auth_data(json_t *data, struct job_secret_vault *v,
			    const char *name, struct buf *err)
{
	const char *key;
	json_t *val;

	json_object_foreach(data, key, val) {
		char *text;

		if (json_is_null(val))
			continue;
		if (json_is_string(val)) {
			text = xstrdup(json_string_value(val));
		} else if (json_is_number(val) || json_is_boolean(val)) {
			text = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
			if (!text)
				text = xstrdup("");
		} else {
			buf_seterr(err, "job payload: 'secrets.%s.vault.server.auth.data.%s' must be a string",
				   name, key);
			return CR_ERR_INVALID;
		}
		strvec_push(&v->auth_keys, key);
		strvec_push_nodup(&v->auth_values, text);
	}
	return 0;
}

static int decode_vault(json_t *j, struct job_secret_vault *v,
			const char *name, struct buf *err)
{
	json_t *server, *auth, *data, *engine;
	int r;

	if ((r = get_obj(j, "server", &server, name, "vault.server", err)) ||
	    (r = get_str(server, "url", &v->url, name, "vault.server.url",
			 err)) ||
	    (r = get_str(server, "namespace", &v->namespace, name,
			 "vault.server.namespace", err)))
		return r;
	auth = NULL;
	if (server && (r = get_obj(server, "auth", &auth, name,
				   "vault.server.auth", err)))
		return r;
	if ((r = get_str(auth, "name", &v->auth_name, name,
			 "vault.server.auth.name", err)) ||
	    (r = get_str(auth, "path", &v->auth_path, name,
			 "vault.server.auth.path", err)))
		return r;
	data = NULL;
	if (auth && (r = get_obj(auth, "data", &data, name,
				 "vault.server.auth.data", err)))
		return r;
	if (data && (r = decode_auth_data(data, v, name, err)))
		return r;
	if ((r = get_obj(j, "engine", &engine, name, "vault.engine", err)) ||
	    (r = get_str(engine, "name", &v->engine_name, name,
			 "vault.engine.name", err)) ||
	    (r = get_str(engine, "path", &v->engine_path, name,
			 "vault.engine.path", err)) ||
	    (r = get_str(j, "path", &v->path, name, "vault.path", err)) ||
	    (r = get_str(j, "field", &v->field, name, "vault.field", err)))
		return r;
	return 0;
}

static int decode_aws(json_t *j, struct job_secret_aws *a, const char *name,
		      struct buf *err)
{
	json_t *server;
	int r;

	if ((r = get_str(j, "secret_id", &a->secret_id, name,
			 "aws_secrets_manager.secret_id", err)) ||
	    (r = get_str(j, "version_id", &a->version_id, name,
			 "aws_secrets_manager.version_id", err)) ||
	    (r = get_str(j, "version_stage", &a->version_stage, name,
			 "aws_secrets_manager.version_stage", err)) ||
	    (r = get_str(j, "field", &a->field, name,
			 "aws_secrets_manager.field", err)) ||
	    (r = get_str(j, "region", &a->region, name,
			 "aws_secrets_manager.region", err)) ||
	    (r = get_str(j, "role_arn", &a->role_arn, name,
			 "aws_secrets_manager.role_arn", err)) ||
	    (r = get_str(j, "role_session_name", &a->role_session_name, name,
			 "aws_secrets_manager.role_session_name", err)) ||
	    (r = get_obj(j, "server", &server, name,
			 "aws_secrets_manager.server", err)) ||
	    (r = get_str(server, "region", &a->server_region, name,
			 "aws_secrets_manager.server.region", err)) ||
	    (r = get_str(server, "jwt", &a->server_jwt, name,
			 "aws_secrets_manager.server.jwt", err)) ||
	    (r = get_str(server, "role_arn", &a->server_role_arn, name,
			 "aws_secrets_manager.server.role_arn", err)) ||
	    (r = get_str(server, "role_session_name",
			 &a->server_role_session_name, name,
			 "aws_secrets_manager.server.role_session_name", err)))
		return r;
	return 0;
}

static int decode_gcp(json_t *j, struct job_secret_gcp *g, const char *name,
		      struct buf *err)
{
	json_t *server;
	int r;

	if ((r = get_str(j, "name", &g->name, name, "gcp_secret_manager.name",
			 err)) ||
	    (r = get_str(j, "version", &g->version, name,
			 "gcp_secret_manager.version", err)) ||
	    (r = get_obj(j, "server", &server, name,
			 "gcp_secret_manager.server", err)) ||
	    (r = get_str(server, "project_number", &g->project_number, name,
			 "gcp_secret_manager.server.project_number", err)) ||
	    (r = get_str(server, "workload_identity_federation_pool_id",
			 &g->pool_id, name,
			 "gcp_secret_manager.server.workload_identity_federation_pool_id",
			 err)) ||
	    (r = get_str(server, "workload_identity_federation_provider_id",
			 &g->provider_id, name,
			 "gcp_secret_manager.server.workload_identity_federation_provider_id",
			 err)) ||
	    (r = get_str(server, "jwt", &g->jwt, name,
			 "gcp_secret_manager.server.jwt", err)))
		return r;
	return 0;
}

static int decode_azure(json_t *j, struct job_secret_azure *a,
			const char *name, struct buf *err)
{
	json_t *server;
	int r;

	if ((r = get_str(j, "name", &a->name, name, "azure_key_vault.name",
			 err)) ||
	    (r = get_str(j, "version", &a->version, name,
			 "azure_key_vault.version", err)) ||
	    (r = get_obj(j, "server", &server, name, "azure_key_vault.server",
			 err)) ||
	    (r = get_str(server, "url", &a->url, name,
			 "azure_key_vault.server.url", err)) ||
	    (r = get_str(server, "tenant_id", &a->tenant_id, name,
			 "azure_key_vault.server.tenant_id", err)) ||
	    (r = get_str(server, "client_id", &a->client_id, name,
			 "azure_key_vault.server.client_id", err)) ||
	    (r = get_str(server, "jwt", &a->jwt, name,
			 "azure_key_vault.server.jwt", err)))
		return r;
	return 0;
}

static int decode_gitlab(json_t *j, struct job_secret_gitlab *g,
			 const char *name, struct buf *err)
{
	json_t *server, *auth, *engine;
	int r;

	if ((r = get_obj(j, "server", &server, name,
			 "gitlab_secrets_manager.server", err)) ||
	    (r = get_str(server, "url", &g->url, name,
			 "gitlab_secrets_manager.server.url", err)))
		return r;
	auth = NULL;
	if (server && (r = get_obj(server, "inline_auth", &auth, name,
				   "gitlab_secrets_manager.server.inline_auth",
				   err)))
		return r;
	if ((r = get_str(auth, "path", &g->auth_path, name,
			 "gitlab_secrets_manager.server.inline_auth.path",
			 err)) ||
	    (r = get_str(auth, "auth_mount", &g->auth_mount, name,
			 "gitlab_secrets_manager.server.inline_auth.auth_mount",
			 err)) ||
	    (r = get_str(auth, "jwt", &g->jwt, name,
			 "gitlab_secrets_manager.server.inline_auth.jwt", err)) ||
	    (r = get_str(auth, "role", &g->role, name,
			 "gitlab_secrets_manager.server.inline_auth.role", err)) ||
	    (r = get_obj(j, "engine", &engine, name,
			 "gitlab_secrets_manager.engine", err)) ||
	    (r = get_str(engine, "name", &g->engine_name, name,
			 "gitlab_secrets_manager.engine.name", err)) ||
	    (r = get_str(engine, "path", &g->engine_path, name,
			 "gitlab_secrets_manager.engine.path", err)) ||
	    (r = get_str(j, "path", &g->path, name,
			 "gitlab_secrets_manager.path", err)) ||
	    (r = get_str(j, "field", &g->field, name,
			 "gitlab_secrets_manager.field", err)))
		return r;
	return 0;
}

static int decode_secret(const char *name, json_t *j, struct job_secret *s,
			 struct buf *err)
{
	json_t *file, *pv;
	size_t i;

	s->name = xstrdup(name);
	s->file = true;
	if (!*name) {
		buf_seterr(err, "job payload: 'secrets' has an empty variable name");
		return CR_ERR_INVALID;
	}
	if (!json_is_object(j))
		return bad(err, name, "", "an object");
	if ((file = json_object_get(j, "file")) && !json_is_null(file)) {
		if (!json_is_boolean(file))
			return bad(err, name, "file", "a boolean");
		s->file = json_is_true(file);
	}
	/* The first provider present, in gitlab-runner's resolver order. */
	for (i = 0; i < sizeof(providers) / sizeof(providers[0]); i++) {
		pv = json_object_get(j, providers[i].key);
		if (!pv || json_is_null(pv))
			continue;
		if (!json_is_object(pv))
			return bad(err, name, providers[i].key, "an object");
		s->provider = providers[i].provider;
		break;
	}
	if (s->provider == JOB_SECRET_GITLAB_SECRETS_MANAGER) {
		s->gitlab = xcalloc(1, sizeof(*s->gitlab));
		return decode_gitlab(pv, s->gitlab, name, err);
	}
	if (s->provider == JOB_SECRET_AZURE_KEY_VAULT) {
		s->azure = xcalloc(1, sizeof(*s->azure));
		return decode_azure(pv, s->azure, name, err);
	}
	if (s->provider == JOB_SECRET_GCP_SECRET_MANAGER) {
		s->gcp = xcalloc(1, sizeof(*s->gcp));
		return decode_gcp(pv, s->gcp, name, err);
	}
	if (s->provider == JOB_SECRET_AWS_SECRETS_MANAGER) {
		s->aws = xcalloc(1, sizeof(*s->aws));
		return decode_aws(pv, s->aws, name, err);
	}
	if (s->provider != JOB_SECRET_VAULT)
		return 0;
	s->vault = xcalloc(1, sizeof(*s->vault));
	strvec_init(&s->vault->auth_keys);
	strvec_init(&s->vault->auth_values);
	return decode_vault(pv, s->vault, name, err);
}

int job_payload_decode_secrets(json_t *root, struct job_payload *p,
			       struct buf *err)
{
	json_t *secrets = json_object_get(root, "secrets"), *v;
	const char *name;
	size_t i = 0;
	int r;

	if (!secrets || json_is_null(secrets))
		return 0;
	if (!json_is_object(secrets)) {
		buf_seterr(err, "job payload: 'secrets' must be an object");
		return CR_ERR_INVALID;
	}
	if (json_object_size(secrets) > JOB_PAYLOAD_MAX_ITEMS) {
		buf_seterr(err, "job payload: 'secrets' has more than %d entries",
			   JOB_PAYLOAD_MAX_ITEMS);
		return CR_ERR_TOO_LARGE;
	}
	p->has_secrets = true;
	p->secrets = xcalloc(json_object_size(secrets) ?
			     json_object_size(secrets) : 1,
			     sizeof(*p->secrets));
	json_object_foreach(secrets, name, v) {
		p->nr_secrets = ++i;
		if ((r = decode_secret(name, v, &p->secrets[i - 1], err)) != 0)
			return r;
	}
	return 0;
}

static void wipe_strvec(struct strvec *sv)
{
	size_t i;

	for (i = 0; i < sv->nr; i++)
		explicit_bzero((char *)sv->v[i], strlen(sv->v[i]));
}

void job_payload_wipe_secrets(struct job_payload *p)
{
	size_t i;

	for (i = 0; i < p->nr_secrets; i++) {
		if (p->secrets[i].vault)
			wipe_strvec(&p->secrets[i].vault->auth_values);
		if (p->secrets[i].gitlab && p->secrets[i].gitlab->jwt)
			explicit_bzero(p->secrets[i].gitlab->jwt,
				       strlen(p->secrets[i].gitlab->jwt));
		if (p->secrets[i].azure && p->secrets[i].azure->jwt)
			explicit_bzero(p->secrets[i].azure->jwt,
				       strlen(p->secrets[i].azure->jwt));
		if (p->secrets[i].gcp && p->secrets[i].gcp->jwt)
			explicit_bzero(p->secrets[i].gcp->jwt,
				       strlen(p->secrets[i].gcp->jwt));
		if (p->secrets[i].aws && p->secrets[i].aws->server_jwt)
			explicit_bzero(p->secrets[i].aws->server_jwt,
				       strlen(p->secrets[i].aws->server_jwt));
	}
}

static void free_gitlab(struct job_secret_gitlab *g)
{
	if (!g)
		return;
	free(g->url);
	free(g->auth_path);
	free(g->auth_mount);
	free_secret(g->jwt);
	free(g->role);
	free(g->engine_name);
	free(g->engine_path);
	free(g->path);
	free(g->field);
	free(g);
}

static void free_azure(struct job_secret_azure *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->version);
	free(a->url);
	free(a->tenant_id);
	free(a->client_id);
	free_secret(a->jwt);
	free(a);
}

static void free_gcp(struct job_secret_gcp *g)
{
	if (!g)
		return;
	free(g->name);
	free(g->version);
	free(g->project_number);
	free(g->pool_id);
	free(g->provider_id);
	free_secret(g->jwt);
	free(g);
}

static void free_aws(struct job_secret_aws *a)
{
	if (!a)
		return;
	free(a->secret_id);
	free(a->version_id);
	free(a->version_stage);
	free(a->field);
	free(a->region);
	free(a->role_arn);
	free(a->role_session_name);
	free(a->server_region);
	free_secret(a->server_jwt);
	free(a->server_role_arn);
	free(a->server_role_session_name);
	free(a);
}

void job_payload_free_secrets(struct job_payload *p)
{
	size_t i;

	job_payload_wipe_secrets(p);
	for (i = 0; i < p->nr_secrets; i++) {
		struct job_secret *s = &p->secrets[i];
		struct job_secret_vault *v = s->vault;

		free(s->name);
		free_aws(s->aws);
		free_gcp(s->gcp);
		free_azure(s->azure);
		free_gitlab(s->gitlab);
		if (!v)
			continue;
		free(v->url);
		free(v->namespace);
		free(v->auth_name);
		free(v->auth_path);
		strvec_clear(&v->auth_keys);
		strvec_clear(&v->auth_values);
		free(v->engine_name);
		free(v->engine_path);
		free(v->path);
		free(v->field);
		free(v);
	}
	free(p->secrets);
	p->secrets = NULL;
	p->nr_secrets = 0;
}
