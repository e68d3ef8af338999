/*
 * The GitLab artifact store: the job engine's artifact transport
 * (job/engine.h, struct job_artifact_store_ops) over the coordinator API
 * (spec 6): POST jobs/:id/artifacts as a streamed multipart upload, GET
 * jobs/:id/artifacts?direct_download=true into a file, following a
 * redirect to object storage without sending the job token there.
 *
 * The caller (remote_job.c) does:
 *  1. store = gl_artifact_store_new(client, job id, job token);
 *  2. sets settings.artifact_store = &gl_artifact_store_ops and
 *     settings.artifact_store_ctx = store before job_start();
 *  3. gl_artifact_store_free(store) after the job is freed (calls still
 *     running are dropped without callbacks).
 */
#ifndef CR_GL_ARTIFACT_STORE_H
#define CR_GL_ARTIFACT_STORE_H

#include <stdint.h>

#include "job/engine.h"

struct gl_client;
struct gl_artifact_store;

/* Upload limits of gitlab-runner (DefaultArtifactUploadTimeout). */
#define GL_ARTIFACT_TIMEOUT_MS (60L * 60 * 1000)

extern const struct job_artifact_store_ops gl_artifact_store_ops;

/* The client is borrowed; the token is copied (and wiped on free). */
struct gl_artifact_store *gl_artifact_store_new(struct gl_client *client,
						int64_t job_id,
						const char *job_token);
void gl_artifact_store_free(struct gl_artifact_store *store);

/* "201 Created", "413 Request Entity Too Large"; "no answer" for 0. */
void gl_artifact_status_text(long status, char *out, size_t size);

#endif
