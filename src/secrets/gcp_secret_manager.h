/*
 * Google Cloud Secret Manager, as gitlab-runner's gcp_secret_manager
 * resolver reads a secret (helpers/gcp_secret_manager/service):
 *  1. Security Token Service exchange of the job's JWT (an OIDC ID token)
 *     for an access token: POST https://sts.googleapis.com/v1/token,
 *     audience //iam.googleapis.com/projects/<project number>/locations/
 *     global/workloadIdentityPools/<pool>/providers/<provider>, scope
 *     cloud-platform;
 *  2. AccessSecretVersion of projects/<project number>/secrets/<name>/
 *     versions/<version> (or <name>/versions/<version> when the name is a
 *     projects/x/secrets/y resource name).  gitlab-runner's client speaks
 *     gRPC; crunner the same method over REST (GET .../versions/<v>:access),
 *     with the payload's CRC32C checked as gitlab-runner checks it.
 * CRUNNER_GCP_STS_URL and CRUNNER_GCP_SECRET_MANAGER_URL (scheme://host
 * [:port]) point it elsewhere, for tests.
 *
 * Failures are SECRET_SYSTEM_ERROR (gitlab-runner does not classify
 * them); an answer without a payload is SECRET_NOT_FOUND.
 */
#ifndef CR_SECRETS_GCP_SECRET_MANAGER_H
#define CR_SECRETS_GCP_SECRET_MANAGER_H

#include <stddef.h>
#include <stdint.h>

#include "secrets/secret_result.h"

struct buf;
struct gl_http;
struct gcp_sm_op;

/* Everything expanded. */
struct gcp_sm_request {
	const char *name, *version;
	const char *project_number, *pool_id, *provider_id;
	const char *jwt;
};

/* As vault_resolve() (secrets/vault.h). */
struct gcp_sm_op *gcp_sm_resolve(struct gl_http *http,
				 const struct gcp_sm_request *req,
				 secret_done_cb done, void *ctx,
				 enum secret_outcome *outcome, struct buf *err);
void gcp_sm_cancel(struct gcp_sm_op *op);

/* The secret version's resource name (secretVersionResourceName()). */
void gcp_sm_version_name(const struct gcp_sm_request *req, struct buf *out);

/* CRC-32C (Castagnoli), as Secret Manager's data_crc32c. */
uint32_t gcp_crc32c(const void *data, size_t len);

#endif
