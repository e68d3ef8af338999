/*
 * AWS Secrets Manager, as gitlab-runner's aws_secrets_manager resolver
 * reads a secret (helpers/secrets/resolvers/aws, helpers/aws/service):
 *  - with a role ARN: STS AssumeRoleWithWebIdentity with the job's JWT
 *    (unsigned POST, RoleSessionName as given), whose temporary
 *    credentials sign the read;
 *  - without one: the credentials of crunner's environment
 *    (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN; the
 *    rest of the SDK's default chain is not read);
 *  - then secretsmanager.GetSecretValue (JSON 1.1, SigV4) with SecretId,
 *    VersionId, VersionStage; SecretString, else SecretBinary in base64;
 *    with field, that member of the string as a flat JSON object.
 * Endpoints: https://sts.<region>.amazonaws.com and
 * https://secretsmanager.<region>.amazonaws.com, or AWS_ENDPOINT_URL_STS,
 * AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL (the SDK's names).
 *
 * gitlab-runner does not classify these failures: every one is a
 * SECRET_SYSTEM_ERROR (runner_system_failure), a missing secret too.
 */
#ifndef CR_SECRETS_AWS_SECRETS_MANAGER_H
#define CR_SECRETS_AWS_SECRETS_MANAGER_H

#include "secrets/secret_result.h"

struct buf;
struct gl_http;
struct aws_sm_op;

/* Everything expanded, the secret's own values over the server's. */
struct aws_sm_request {
	const char *secret_id;
	const char *version_id, *version_stage;	/* "" or NULL: none */
	const char *field;			/* "" or NULL: none */
	const char *region;
	const char *role_arn;			/* "": environment credentials */
	const char *role_session_name;
	const char *jwt;
};

/* As vault_resolve() (secrets/vault.h): NULL with *outcome and err when
 * it cannot start, else done comes once from the loop. */
struct aws_sm_op *aws_sm_resolve(struct gl_http *http,
				 const struct aws_sm_request *req,
				 secret_done_cb done, void *ctx,
				 enum secret_outcome *outcome, struct buf *err);
void aws_sm_cancel(struct aws_sm_op *op);

#endif
