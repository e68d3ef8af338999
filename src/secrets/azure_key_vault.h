/*
 * Azure Key Vault, as gitlab-runner's azure_key_vault resolver reads a
 * secret (helpers/azure_key_vault/service, the Azure SDK's azsecrets
 * client with a ClientAssertionCredential):
 *  1. GET <vault url>/secrets/<name>/<version>?api-version=7.5 without a
 *     token: the vault answers 401 with its challenge
 *     (WWW-Authenticate: Bearer authorization="<authority>/<tenant>",
 *     resource="https://vault.azure.net"); the resource's domain must be
 *     the vault's, as the SDK verifies;
 *  2. the job's JWT as a client assertion at Microsoft Entra ID:
 *     POST <authority host>/<tenant id>/oauth2/v2.0/token, grant_type
 *     client_credentials, scope <resource>/.default (the authority host:
 *     AZURE_AUTHORITY_HOST, as the SDK reads it, else
 *     https://login.microsoftonline.com);
 *  3. the same GET with the access token; "value" is the secret.
 * An answer without "value" is SECRET_NOT_FOUND; every failure is
 * SECRET_SYSTEM_ERROR (gitlab-runner does not classify them).  Unlike the
 * SDK, an http:// vault URL is allowed (tests).
 */
#ifndef CR_SECRETS_AZURE_KEY_VAULT_H
#define CR_SECRETS_AZURE_KEY_VAULT_H

#include "secrets/secret_result.h"

struct buf;
struct gl_http;
struct azure_kv_op;

/* Everything expanded. */
struct azure_kv_request {
	const char *url;		/* https://<name>.vault.azure.net */
	const char *name, *version;	/* version "": the latest */
	const char *tenant_id, *client_id;
	const char *jwt;
};

/* As vault_resolve() (secrets/vault.h). */
struct azure_kv_op *azure_kv_resolve(struct gl_http *http,
				     const struct azure_kv_request *req,
				     secret_done_cb done, void *ctx,
				     enum secret_outcome *outcome,
				     struct buf *err);
void azure_kv_cancel(struct azure_kv_op *op);

/*
 * The value of parameter name ("resource", "authorization", "scope") in
 * a WWW-Authenticate Bearer challenge, appended to out; -1 when absent.
 * Exposed for the unit tests.
 */
int azure_kv_challenge_param(const char *challenge, const char *name,
			     struct buf *out);

#endif
