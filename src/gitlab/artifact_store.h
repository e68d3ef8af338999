/*
 * The GitLab artifact store: the job engine's artifact transport
 * (job/engine.h, struct job_artifact_store_ops) over the coordinator API
 * (spec 6): POST jobs/:id/artifacts as a streamed multipart upload, GET
 * jobs/:id/artifacts (?direct_download=true on the first attempt while
 * FF_USE_DIRECT_DOWNLOAD is on, as gitlab-runner's artifacts-downloader)
 * into a file, following a redirect to object storage without sending the
 * job token there.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job/engine.h"

struct gl_client;
struct gl_artifact_store;

/* Upload limits of gitlab-runner (DefaultArtifactUploadTimeout,
 * DefaultArtifactResponseHeaderTimeout). */
#define GL_ARTIFACT_TIMEOUT_MS (60L * 60 * 1000)
#define GL_ARTIFACT_HEADER_TIMEOUT_MS (10L * 60 * 1000)

extern const struct job_artifact_store_ops gl_artifact_store_ops;

/* The client is borrowed; the token is copied (and wiped on free). */
struct gl_artifact_store *gl_artifact_store_new(struct gl_client *client,
						int64_t job_id,
						const char *job_token);
void gl_artifact_store_free(struct gl_artifact_store *store);

/* "201 Created", "413 Request Entity Too Large"; "no answer" for 0. */
void gl_artifact_status_text(long status, char *out, size_t size);

/*
 * What the store's helper_env() gives a helper that moves archives itself
 * (crunner artifacts-helper upload / download, run by an executor's stage
 * script): the API base URL ("<url>/api/v4/"), the job token and job id.
 * Environment only: never on a command line.
 */
#define GL_ARTIFACT_ENV_URL "CRUNNER_API_URL"
#define GL_ARTIFACT_ENV_TOKEN "CRUNNER_JOB_TOKEN"
#define GL_ARTIFACT_ENV_JOB_ID "CRUNNER_JOB_ID"

/*
 * The pieces both the store and the helper use, so the requests are the
 * same either way.  Paths are relative to the API base URL.
 */
struct buf;
struct strvec;
struct gl_http_options;
struct gl_http_request;
struct gl_http_response;

/* "jobs/<id>/artifacts?artifact_format=...&artifact_type=...&expire_in=..." */
void gl_artifact_upload_path(struct buf *path, int64_t job_id,
			     const struct job_store_upload *u);
/* "jobs/<id>/artifacts", with "?direct_download=true" when direct */
void gl_artifact_download_path(struct buf *path, int64_t dep_id, bool direct);
/* The streamed multipart POST (field "file") with JOB-TOKEN; the strings
 * are borrowed, headers is filled and cleared by the caller; timeout_ms
 * 0 is GL_ARTIFACT_TIMEOUT_MS, header_timeout_ms 0 no deadline for the
 * answer's headers (response_header_timeout). */
void gl_artifact_upload_request(struct gl_http_request *req,
				struct strvec *headers, const char *url,
				const char *token, const char *archive,
				const char *filename, long timeout_ms,
				long header_timeout_ms);
/* The GET into dest; token NULL: none (signed object storage URLs). */
void gl_artifact_download_request(struct gl_http_request *req,
				  struct strvec *headers, const char *url,
				  const char *token, const char *dest);
/* A 307 to another host: *url gets its origin + path (the request's own
 * path and query).  false: no such redirect. */
bool gl_artifact_upload_redirect(const struct gl_http_response *resp,
				 const char *path, struct buf *url);
/* Whether a download answer redirects (301/302/303/307/308 + Location). */
bool gl_artifact_download_redirects(const struct gl_http_response *resp);
/* Location made absolute against the API base URL; free() it. */
char *gl_artifact_redirect_url(const char *base, const char *location);
/* The answer as the engine sees it (413 too large, 404, 401/403, ...). */
enum job_store_result gl_artifact_classify(const struct gl_http_response *resp);
/* The length of "scheme://authority" of an absolute URL, 0 if none. */
size_t gl_artifact_url_origin_len(const char *url);

/*
 * Upload and download run to their end (gl_http_perform_sync()), with
 * the same redirects as the store.  status gets "201 Created" or why there
 * was no answer, detail the server's message on failure.
 */
enum job_store_result gl_artifact_upload_sync(
	const struct gl_http_options *opts, const char *base_url,
	int64_t job_id, const char *token, const struct job_store_upload *u,
	char *status, size_t size, struct buf *detail);
enum job_store_result gl_artifact_download_sync(
	const struct gl_http_options *opts, const char *base_url,
	int64_t dep_id, unsigned flags, const char *token, const char *dest,
	char *status, size_t size, struct buf *detail);

#endif
