/*
 * The job payload (spec section 3): the 201 body of POST jobs/request,
 * decoded into plain C structs.  The local source (crunner exec) builds the
 * same JSON, so this is the one description of a job.
 *
 * Decoding rules:
 *  - unknown fields are ignored;
 *  - null is accepted wherever an object, array or string is expected and
 *    means "absent";
 *  - every string field is non-NULL: "" when absent or null;
 *  - a wrong type is CR_ERR_INVALID with one sentence naming the field,
 *    e.g. "job payload: 'steps[0].script' must be an array of strings";
 *  - the text is capped at CR_MAX_PAYLOAD and each array at
 *    JOB_PAYLOAD_MAX_ITEMS entries (CR_ERR_TOO_LARGE).
 *
 * Ownership: job_payload_decode() returns a heap object the caller frees
 * with job_payload_free(), which wipes the tokens, the repository URL (it
 * embeds the token), every variable value and registry passwords.
 */
#ifndef CR_GL_PAYLOAD_H
#define CR_GL_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strvec.h"

struct buf;

#define JOB_PAYLOAD_MAX_ITEMS 100000

/* A job variable (spec 3.5); value is "" when the server sent null. */
struct job_variable {
	char *key;
	char *value;		/* secret: wiped on free */
	bool is_public;		/* "public" */
	bool masked;
	bool file;
	bool raw;
};

struct job_variables {
	struct job_variable *v;
	size_t nr;
};

struct job_info {
	int64_t id;
	char *name;
	char *stage;
	int64_t pipeline_id;
	int64_t project_id;
	char *project_name;
	char *project_full_path;
	int64_t namespace_id;
	int64_t root_namespace_id;
	int64_t organization_id;
	char *instance_id;
	char *instance_uuid;
	int64_t user_id;
	int64_t scoped_user_id;
	bool has_scoped_user_id;	/* false when null or absent */
	double time_in_queue_seconds;
	char *project_jobs_running_on_instance_runners_count;
	int64_t queue_size;
	int64_t queue_depth;
};

struct job_git_info {
	char *repo_url;		/* embeds the job token: wiped on free */
	char *ref;
	char *sha;
	char *before_sha;
	char *ref_type;		/* "branch" or "tag" */
	struct strvec refspecs;
	int64_t depth;
	char *repo_object_format;
	int protected_ref;	/* "protected": 1, 0, or -1 when null/absent */
};

struct job_runner_info {
	char *uuid;
	int64_t timeout;	/* seconds; <= 0 means the default */
	char *runner_session_url;
};

struct job_step {
	char *name;		/* "script", "release", "after_script"... */
	struct strvec script;
	int64_t timeout;
	char *when;		/* "" means on_success */
	bool allow_failure;
};

struct job_hook {
	char *name;		/* pre_get_sources_script, post_get_sources_script */
	struct strvec script;
};

struct job_port {
	int64_t number;
	char *protocol;
	char *name;
};

/*
 * executor_opts of an image or service.  Keys we do not know are kept in
 * the unsupported lists, in payload order, for job_payload_validate().
 */
struct job_docker_opts {
	char *platform;
	char *user;		/* a string or an integer in the JSON */
	struct strvec unsupported;
};

struct job_kubernetes_opts {
	char *user;
	struct strvec unsupported;
};

struct job_executor_opts {
	struct job_docker_opts docker;
	struct job_kubernetes_opts kubernetes;
	struct strvec unsupported;	/* keys other than docker, kubernetes */
};

/* The job image (spec 3.7); services use the same struct. */
struct job_image {
	char *name;
	struct strvec entrypoint;
	struct job_port *ports;
	size_t nr_ports;
	struct job_executor_opts executor_opts;
	struct strvec pull_policy;
	char *alias;		/* services only */
	struct strvec command;	/* services only */
	struct job_variables variables;	/* services only */
};

struct job_artifact {
	char *name;
	bool untracked;
	struct strvec paths;
	struct strvec exclude;
	char *when;
	char *expire_in;
	char *artifact_type;
	char *artifact_format;
};

struct job_cache {
	char *key;
	bool untracked;
	struct strvec paths;
	char *policy;
	char *when;
	struct strvec fallback_keys;
};

struct job_credential {
	char *type;
	char *url;
	char *username;
	char *password;		/* secret */
};

struct job_artifacts_file {
	char *filename;		/* "": nothing to download */
	int64_t size;
};

struct job_dependency {
	int64_t id;
	char *name;
	char *token;		/* secret */
	struct job_artifacts_file artifacts_file;
};

struct job_features {
	bool trace_sections;
	struct strvec failure_reasons;
	struct strvec token_mask_prefixes;
};

/*
 * A job's "secrets" (spec 3.1): variable name -> one provider's
 * description.  Decoded by payload_secrets.c; every string a provider
 * takes may hold $VARIABLES, expanded by the job engine.
 */
enum job_secret_provider {
	JOB_SECRET_NONE,	/* no provider key crunner knows */
	JOB_SECRET_VAULT,
	JOB_SECRET_GCP_SECRET_MANAGER,
	JOB_SECRET_AZURE_KEY_VAULT,
	JOB_SECRET_AWS_SECRETS_MANAGER,
	JOB_SECRET_GITLAB_SECRETS_MANAGER,
};

/* HashiCorp Vault (gitlab-runner's spec.VaultSecret). */
struct job_secret_vault {
	char *url;		/* server.url */
	char *namespace;	/* server.namespace, "" for none */
	char *auth_name;	/* server.auth.name: "jwt" */
	char *auth_path;	/* server.auth.path: "jwt" */
	/* server.auth.data: keys and their values (the JWT: secret, wiped). */
	struct strvec auth_keys, auth_values;
	char *engine_name;	/* engine.name: kv-v2, kv-v1, generic */
	char *engine_path;	/* engine.path: "secret" */
	char *path;		/* the secret's path in the engine */
	char *field;		/* the member of its data */
};

/* AWS Secrets Manager (gitlab-runner's spec.AWSSecret). */
struct job_secret_aws {
	char *secret_id;	/* name or ARN */
	char *version_id, *version_stage;	/* "" for none */
	char *field;		/* "": the whole SecretString */
	char *region, *role_arn, *role_session_name;	/* "": server's */
	char *server_region;	/* server.region */
	char *server_jwt;	/* server.jwt: "$ID_TOKEN" (secret, wiped) */
	char *server_role_arn;	/* server.role_arn */
	char *server_role_session_name;	/* server.role_session_name */
};

/* Google Cloud Secret Manager (gitlab-runner's GCPSecretManagerSecret). */
struct job_secret_gcp {
	char *name, *version;
	char *project_number;	/* server.project_number */
	char *pool_id;		/* server.workload_identity_federation_pool_id */
	char *provider_id;	/* ..._provider_id */
	char *jwt;		/* server.jwt: "$ID_TOKEN" (secret, wiped) */
};

/* Azure Key Vault (gitlab-runner's AzureKeyVaultSecret). */
struct job_secret_azure {
	char *name, *version;	/* version "": the latest */
	char *url;		/* server.url */
	char *tenant_id, *client_id;	/* server.tenant_id, server.client_id */
	char *jwt;		/* server.jwt: "$ID_TOKEN" (secret, wiped) */
};

/* GitLab's secrets manager (gitlab-runner's GitLabSecretsManagerSecret):
 * OpenBao behind GitLab; nothing here is expanded. */
struct job_secret_gitlab {
	char *url;		/* server.url */
	char *auth_path;	/* server.inline_auth.path: the login path */
	char *auth_mount;	/* server.inline_auth.auth_mount (older GitLab) */
	char *jwt;		/* server.inline_auth.jwt (secret, wiped) */
	char *role;		/* server.inline_auth.role */
	char *engine_name, *engine_path;
	char *path, *field;
};

struct job_secret {
	char *name;		/* the variable it becomes */
	bool file;		/* "file", true when absent */
	enum job_secret_provider provider;
	struct job_secret_vault *vault;	/* provider JOB_SECRET_VAULT */
	struct job_secret_aws *aws;	/* JOB_SECRET_AWS_SECRETS_MANAGER */
	struct job_secret_gcp *gcp;	/* JOB_SECRET_GCP_SECRET_MANAGER */
	struct job_secret_azure *azure;	/* JOB_SECRET_AZURE_KEY_VAULT */
	struct job_secret_gitlab *gitlab;	/* ..._GITLAB_SECRETS_MANAGER */
};

struct job_payload {
	int64_t id;
	char *token;		/* secret */
	bool allow_git_fetch;
	struct job_info job_info;
	struct job_git_info git_info;
	struct job_runner_info runner_info;
	struct job_variables variables;
	struct job_step *steps;
	size_t nr_steps;
	struct job_hook *hooks;
	size_t nr_hooks;
	struct job_image *image;	/* NULL when null or absent */
	struct job_image *services;
	size_t nr_services;
	struct job_artifact *artifacts;
	size_t nr_artifacts;
	struct job_cache *caches;	/* "cache" */
	size_t nr_caches;
	struct job_credential *credentials;
	size_t nr_credentials;
	struct job_features features;
	struct job_dependency *dependencies;
	size_t nr_dependencies;
	/* "run": the JSON-encoded array of steps as sent ("" when absent),
	 * and how many steps it holds. */
	char *run;
	size_t nr_run_steps;
	/* "secrets": has_secrets when present (even {}), in payload order. */
	bool has_secrets;
	struct job_secret *secrets;
	size_t nr_secrets;
	/*
	 * The payload's JSON text as decoded (for the custom executor's
	 * JOB_RESPONSE_FILE): secret, wiped with the rest.  NULL when the
	 * payload did not come from job_payload_decode().
	 */
	char *json;
	size_t json_len;
};

/*
 * Decodes len bytes of JSON.  On success *out is a new payload; on failure
 * *out is NULL, err has one sentence and the return is CR_ERR_INVALID or
 * CR_ERR_TOO_LARGE.
 */
int job_payload_decode(const char *json, size_t len, struct job_payload **out,
		       struct buf *err);

/*
 * The top-level "id" and "token" of a payload job_payload_decode() refused
 * (also of one cut short), for reporting the job as failed: true when both
 * were found.  *token is a new string to free with free_secret(), or NULL;
 * *id is 0 when absent.  (payload_salvage.c)
 */
bool job_payload_salvage_identity(const char *text, size_t len, int64_t *id,
				  char **token);

/*
 * Overwrites every secret in place with NUL bytes (they read as "" after):
 * the job token, git_info.repo_url, all variable values (job and service),
 * registry passwords and dependency tokens.  job_payload_free() does this
 * first; call it earlier to drop secrets a job no longer needs.
 */
void job_payload_wipe(struct job_payload *p);

/* The provider key's name: "vault", "gcp_secret_manager"... */
const char *job_secret_provider_name(enum job_secret_provider p);

/* Wipes the secrets and frees everything; NULL is fine. */
void job_payload_free(struct job_payload *p);

/* The value of the last variable named key (duplicates: last wins). */
const struct job_variable *job_payload_variable(const struct job_payload *p,
						const char *key);

/*
 * The checks gitlab-runner makes before it starts a job (spec 3.13):
 * unsupported executor_opts keys, and "run" with script steps or with a
 * STEPS variable.  Returns 0, or CR_ERR_UNSUPPORTED with the exact message
 * appended to msg (several executor_opts messages are joined with "\n"),
 * e.g.
 *   Unsupported "image" options [foo] for "docker executor"; supported
 *   options are [platform user]
 * The job then fails with runner_system_failure and exit code 3.
 */
int job_payload_validate(const struct job_payload *p, struct buf *msg);

#endif
