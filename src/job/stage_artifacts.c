/*
 * The artifact stages (spec 6, 8.1): download_artifacts before the steps,
 * upload_artifacts_on_success / _on_failure after them.  Archives are made
 * and unpacked by the helper process; the job source's store moves them.
 * Each stage walks its list one entry at a time: helper, then store call
 * (upload), or store call, then helper (download).  For an executor with
 * stage_scripts_everywhere (executor.h) and a store a helper can reach
 * (helper_env), the stages are scripts instead, run where the job runs:
 * the helper archives and uploads, or downloads and extracts, itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "archive/artifacts.h"
#include "config/config.h"
#include "gitlab/artifact_store.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/trace.h"
#include "util/backoff.h"
#include "util/error.h"
#include "util/loop.h"
#include "util/run_as.h"
#include "util/xalloc.h"
#include "util/banned.h"

/*
 * FF_USE_DIRECT_DOWNLOAD (on by default): gitlab-runner's downloader asks
 * for ?direct_download=true (a redirect to object storage) on its first
 * attempt only, and never with the flag off.
 */
static bool direct_download(const struct job *job)
{
	return variables_get_bool(&job->vars, "FF_USE_DIRECT_DOWNLOAD", 1);
}

/*
 * gitlab-runner's helpers take the level from these variables and use it
 * only in their fastzip archiver (FF_USE_FASTZIP, on by default); its
 * legacy archiver keeps the library's deflate.  Unset, the option is left
 * out (a helper image older than it keeps working), and the helper keeps
 * libarchive's default.
 */
void job_push_compression_level(const struct job *job, const char *var,
				struct strvec *args)
{
	const char *v = variables_get(&job->vars, var);

	if (!v || !*v || !variables_get_bool(&job->vars, "FF_USE_FASTZIP", 1))
		return;
	strvec_push(args, "--compression-level");
	strvec_push(args, v);
}

/*
 * FF_USE_PARALLEL_ARTIFACT_TRANSFER (off by default): gitlab-runner's
 * downloader reads a direct download's object storage in parallel Range
 * GETs of 16 MiB, 16 at a time, when it answers a one-byte Range probe
 * with 206 and a total over one chunk (network/gitlab.go).
 */
static bool parallel_transfer(const struct job *job)
{
	return variables_get_bool(&job->vars,
				  "FF_USE_PARALLEL_ARTIFACT_TRANSFER", 0);
}

/* What the helper's archive sub-command answers when nothing matched. */
#define HELPER_EXIT_NOTHING ARTIFACTS_EXIT_NOTHING

static void download_next(struct job *job);
static void upload_next(struct job *job);

static const struct job_stage *running_stage(const struct job *job)
{
	return &job->stages[job->running];
}

static void set_tmp_path(struct job *job, const char *what, size_t i,
			 const char *ext)
{
	struct buf b = BUF_INIT;

	free(job->native.tmp_path);
	(void)buf_addf(&b, "%s/%s-%zu%s", job->tmp_project_dir, what, i, ext);
	job->native.tmp_path = buf_detach(&b, NULL);
}

static void drop_tmp(struct job *job)
{
	if (job->native.tmp_path) {
		unlink(job->native.tmp_path);
		free(job->native.tmp_path);
		job->native.tmp_path = NULL;
	}
}

/* ---- download_artifacts ---- */

static bool dep_wanted(const struct job_dependency *d)
{
	return d->artifacts_file.filename && *d->artifacts_file.filename;
}

bool job_download_has_work(struct job *job, const struct job_stage *stage)
{
	size_t i;

	(void)stage;
	for (i = 0; i < job->payload->nr_dependencies; i++)
		if (dep_wanted(&job->payload->dependencies[i]))
			return true;
	return false;
}

static void on_extracted(struct job *job, int exit_status)
{
	drop_tmp(job);
	if (exit_status != 0) {
		job_native_done(job, exit_status, 0);
		return;
	}
	job->native.item++;
	job->native.attempt = 0;
	download_next(job);
}

static long on_retry_wait(struct loop *loop, void *ctx)
{
	struct job *job = ctx;

	(void)loop;
	job->native.wait_timer = 0;
	download_next(job);
	return LOOP_TIMER_STOP;
}

static void on_downloaded(void *ctx, enum job_store_result result,
			  const char *status, const char *detail)
{
	struct job *job = ctx;
	const struct job_dependency *d =
		&job->payload->dependencies[job->native.item];
	struct strvec args = STRVEC_INIT;
	struct buf why = BUF_INIT;

	job->native.op = NULL;
	if (result == JOB_STORE_OK) {
		trace_sink_line(job->sink,
				"Downloading artifacts from coordinator... ok  id=%lld responseStatus=%s",
				(long long)d->id, status);
		strvec_pushv(&args, (const char *[]){ "extract", "--input",
				job->native.tmp_path, NULL });
		/* The helper extracts as the job's user: give it the file. */
		if (run_as_chown(job->run_as, job->native.tmp_path,
				 &why) != 0) {
			trace_sink_error(job->sink, "%s", why.data);
			buf_release(&why);
			strvec_clear(&args);
			drop_tmp(job);
			job_native_done(job, 1, 0);
			return;
		}
		if (job_helper_start(job, &args, job->project_dir,
				     on_extracted) != 0)
			job_native_done(job, 1, 0);
		strvec_clear(&args);
		return;
	}
	drop_tmp(job);
	trace_sink_warning(job->sink,
			   "Downloading artifacts from coordinator... %s  id=%lld responseStatus=%s%s%s",
			   result == JOB_STORE_NOT_FOUND ? "not found" :
			   result == JOB_STORE_DENIED ? "forbidden" : "error",
			   (long long)d->id, status, *detail ? ": " : "",
			   detail);
	if (result == JOB_STORE_TRANSIENT &&
	    job->native.attempt < job_attempts(job, "ARTIFACT_DOWNLOAD_ATTEMPTS")) {
		long delay = job_retry_delay_ms(job, job->native.attempt);
		char text[32];

		backoff_format(delay, text, sizeof(text));
		trace_sink_warning(job->sink, "Retrying in %s...", text);
		job->native.wait_timer = loop_add_timer(job->loop, delay,
							on_retry_wait, job);
		return;
	}
	trace_sink_error(job->sink, "Downloading artifacts for %s (%lld) failed",
			 d->name, (long long)d->id);
	job_native_done(job, 1, 0);
}

static void download_next(struct job *job)
{
	const struct job_payload *p = job->payload;
	const struct job_dependency *d;

	while (job->native.item < p->nr_dependencies &&
	       !dep_wanted(&p->dependencies[job->native.item]))
		job->native.item++;
	if (job->native.item >= p->nr_dependencies) {
		job_native_done(job, 0, 0);
		return;
	}
	d = &p->dependencies[job->native.item];
	if (!job->settings.artifact_store) {
		trace_sink_warning(job->sink,
				   "Artifacts downloading is not supported by this job source");
		job_native_done(job, 0, 0);
		return;
	}
	if (job->native.attempt++ == 0)
		trace_sink_info(job->sink, "Downloading artifacts for %s (%lld)...",
				d->name, (long long)d->id);
	set_tmp_path(job, "dependency", job->native.item, ".zip");
	job->native.op = job->settings.artifact_store->download(
		job->settings.artifact_store_ctx, d, job->native.tmp_path,
		(direct_download(job) && job->native.attempt == 1 ?
		 JOB_STORE_DIRECT : 0) |
		(parallel_transfer(job) ? JOB_STORE_PARALLEL : 0),
		on_downloaded, job);
}

void job_download_start(struct job *job, const struct job_stage *stage)
{
	(void)stage;
	download_next(job);
}

/* ---- upload_artifacts_on_success / _on_failure ---- */

static bool artifact_wanted(const struct job_artifact *a, bool on_failure)
{
	if (!a->paths.nr && !a->exclude.nr && !a->untracked)
		return false;
	if (!a->paths.nr && !a->untracked)
		return false;
	return job_when_matches(a->when, on_failure);
}

bool job_upload_has_work(struct job *job, const struct job_stage *stage)
{
	size_t i;

	for (i = 0; i < job->payload->nr_artifacts; i++)
		if (artifact_wanted(&job->payload->artifacts[i],
				    stage->on_failure))
			return true;
	return false;
}

static const char *artifact_format(const struct job_artifact *a)
{
	return a->artifact_format && *a->artifact_format ?
		a->artifact_format : "zip";
}

static const char *artifact_type(const struct job_artifact *a)
{
	return a->artifact_type && *a->artifact_type ?
		a->artifact_type : "archive";
}

/*
 * gitlab-runner's file name: the base name of the expanded name, default
 * "artifacts", "." and "/" becoming "default", plus .zip or .gz.
 */
static char *upload_filename(const struct job *job,
			     const struct job_artifact *a)
{
	char *name = variables_expand(&job->vars, a->name && *a->name ?
				      a->name : "artifacts");
	const char *fmt = artifact_format(a), *base;
	struct buf out = BUF_INIT;
	size_t len = strlen(name);

	while (len > 1 && name[len - 1] == '/')
		name[--len] = '\0';
	base = strrchr(name, '/');
	base = base && base[1] ? base + 1 : name;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "/"))
		base = "default";
	(void)buf_addstr(&out, base);
	if (!strcmp(fmt, "zip"))
		(void)buf_addstr(&out, ".zip");
	else if (!strcmp(fmt, "gzip"))
		(void)buf_addstr(&out, ".gz");
	free(name);
	return buf_detach(&out, NULL);
}

static void on_uploaded(void *ctx, enum job_store_result result,
			const char *status, const char *detail)
{
	struct job *job = ctx;
	const struct job_artifact *a = &job->payload->artifacts[job->native.item];
	const char *type = artifact_type(a);

	job->native.op = NULL;
	drop_tmp(job);
	switch (result) {
	case JOB_STORE_OK:
		trace_sink_line(job->sink,
				"Uploading artifacts as \"%s\" to coordinator... %s  id=%lld responseStatus=%s",
				type, status, (long long)job->payload->id,
				status);
		job->native.item++;
		upload_next(job);
		return;
	case JOB_STORE_TOO_LARGE:
		trace_sink_error(job->sink,
				 "Uploading artifacts as \"%s\" to coordinator... too large archive  id=%lld responseStatus=%s",
				 type, (long long)job->payload->id, status);
		trace_sink_error(job->sink, "too large");
		break;
	default:
		trace_sink_error(job->sink,
				 "Uploading artifacts as \"%s\" to coordinator... error  id=%lld responseStatus=%s%s%s",
				 type, (long long)job->payload->id, status,
				 *detail ? ": " : "", detail);
		break;
	}
	job_native_done(job, 1, 0);
}

static void on_archived(struct job *job, int exit_status)
{
	const struct job_artifact *a = &job->payload->artifacts[job->native.item];
	struct job_store_upload u = { 0 };
	char *filename;

	if (exit_status == HELPER_EXIT_NOTHING) {
		/* No files: as gitlab-runner, an error line but no failure. */
		drop_tmp(job);
		job->native.item++;
		upload_next(job);
		return;
	}
	if (exit_status != 0) {
		drop_tmp(job);
		job_native_done(job, exit_status, 0);
		return;
	}
	filename = upload_filename(job, a);
	u.artifact = a;
	u.archive_path = job->native.tmp_path;
	u.filename = filename;
	u.format = artifact_format(a);
	u.type = artifact_type(a);
	u.expire_in = a->expire_in;
	u.timeout_ms = (long)job->settings.runner->artifact.upload_timeout_ms;
	u.header_timeout_ms =
		(long)job->settings.runner->artifact.response_header_timeout_ms;
	job->native.op = job->settings.artifact_store->upload(
		job->settings.artifact_store_ctx, &u, on_uploaded, job);
	free(filename);
}

static void upload_next(struct job *job)
{
	const struct job_payload *p = job->payload;
	bool on_failure = running_stage(job)->on_failure;
	const struct job_artifact *a;
	struct strvec args = STRVEC_INIT;
	size_t i;

	while (job->native.item < p->nr_artifacts &&
	       !artifact_wanted(&p->artifacts[job->native.item], on_failure))
		job->native.item++;
	if (job->native.item >= p->nr_artifacts) {
		job_native_done(job, 0, 0);
		return;
	}
	if (!job->settings.artifact_store) {
		trace_sink_warning(job->sink,
				   "Uploading artifacts is not supported by this job source");
		job_native_done(job, 0, 0);
		return;
	}
	a = &p->artifacts[job->native.item];
	trace_sink_info(job->sink, "Uploading artifacts...");
	set_tmp_path(job, "artifact", job->native.item, "");
	strvec_pushv(&args, (const char *[]){ "archive", "--format",
			artifact_format(a), "--output", job->native.tmp_path,
			NULL });
	for (i = 0; i < a->paths.nr; i++) {
		char *v = variables_expand(&job->vars, a->paths.v[i]);

		strvec_push(&args, "--path");
		strvec_push_nodup(&args, v);
	}
	for (i = 0; i < a->exclude.nr; i++) {
		char *v = variables_expand(&job->vars, a->exclude.v[i]);

		strvec_push(&args, "--exclude");
		strvec_push_nodup(&args, v);
	}
	if (a->untracked)
		strvec_push(&args, "--untracked");
	/* A report GitLab would refuse fails here, before the upload. */
	if (!strcmp(artifact_type(a), "dotenv"))
		strvec_push(&args, "--dotenv");
	job_push_compression_level(job, "ARTIFACT_COMPRESSION_LEVEL", &args);
	if (job_helper_start(job, &args, job->project_dir, on_archived) != 0)
		job_native_done(job, 1, 0);
	strvec_clear(&args);
}

void job_upload_start(struct job *job, const struct job_stage *stage)
{
	(void)stage;
	upload_next(job);
}

/* ---- the same as stage scripts (executor.h, stage_scripts_everywhere) ---- */

/* The helper run with args, the script stopping when it fails. */
static int checked_helper_command(struct job *job, struct buf *body,
				  const struct strvec *args)
{
	int r;

	if ((r = job_helper_script_command(job, body, args)) ||
	    (r = buf_addch(body, '\n')))
		return r;
	return script_check(body);
}

bool job_artifact_scripts(const struct job *job)
{
	return job_stage_scripts(job) && job->settings.artifact_store &&
	       job->settings.artifact_store->helper_env;
}

/* What the helper needs to reach GitLab: URL, job token, TLS files. */
static void transfer_env(struct job *job, struct strvec *env)
{
	const struct runner_config *rc = job->settings.runner;

	job->settings.artifact_store->helper_env(
		job->settings.artifact_store_ctx, env);
	if (rc->tls_ca_file && *rc->tls_ca_file)
		strvec_pushf(env, "CRUNNER_TLS_CA_FILE=%s", rc->tls_ca_file);
	if (rc->tls_cert_file && *rc->tls_cert_file)
		strvec_pushf(env, "CRUNNER_TLS_CERT_FILE=%s",
			     rc->tls_cert_file);
	if (rc->tls_key_file && *rc->tls_key_file)
		strvec_pushf(env, "CRUNNER_TLS_KEY_FILE=%s", rc->tls_key_file);
}

static void wipe_env(struct strvec *env)
{
	size_t i;

	for (i = 0; i < env->nr; i++)
		explicit_bzero((char *)env->v[i], strlen(env->v[i]));
	strvec_clear(env);
}

/* An archive between the helper's steps, where the job runs. */
static char *script_tmp_path(struct job *job, const char *what, size_t i,
			     const char *ext)
{
	struct buf b = BUF_INIT;

	(void)buf_addf(&b, "%s/%s-%zu%s", job->tmp_project_dir, what, i, ext);
	return buf_detach(&b, NULL);
}

static int mkdir_tmp(struct job *job, struct buf *body)
{
	int r;

	if ((r = buf_addstr(body, "mkdir -p -- ")) ||
	    (r = script_quote(body, job->shell, job->tmp_project_dir,
			      strlen(job->tmp_project_dir))))
		return r;
	return buf_addch(body, '\n');
}

/*
 * The start of both transfer scripts: the store's and TLS variables
 * exported (wiped from our memory once written), then the temp dir made.
 */
static int transfer_script_begin(struct job *job, struct buf *body)
{
	struct strvec env = STRVEC_INIT;
	int r;

	transfer_env(job, &env);
	r = job_helper_script_begin(job, body, &env);
	wipe_env(&env);
	if (!r)
		r = mkdir_tmp(job, body);
	return r;
}

int job_download_script(struct job *job, const struct job_stage *stage,
			struct buf *out, struct buf *err)
{
	const struct job_payload *p = job->payload;
	struct buf body = BUF_INIT;
	struct strvec args = STRVEC_INIT;
	size_t i;
	int r;

	if (!job_download_has_work(job, stage))
		return 0;
	r = transfer_script_begin(job, &body);
	for (i = 0; i < p->nr_dependencies && !r; i++) {
		const struct job_dependency *d = &p->dependencies[i];

		if (!dep_wanted(d))
			continue;
		job_say(job, &body, SCRIPT_ECHO_NOTICE,
			"Downloading artifacts for %s (%lld)...", d->name,
			(long long)d->id);
		/* Its own token, for this one command; else the job's. */
		if (d->token && *d->token)
			r = script_export(&body, job->shell,
					  "CRUNNER_DEPENDENCY_TOKEN", d->token);
		else
			r = buf_addstr(&body, "unset CRUNNER_DEPENDENCY_TOKEN\n");
		if (r)
			break;
		strvec_clear(&args);
		strvec_push(&args, "download");
		strvec_pushf(&args, "--id=%lld", (long long)d->id);
		strvec_push(&args, "--file");
		strvec_push_nodup(&args, script_tmp_path(job, "dependency", i,
							 ".zip"));
		strvec_pushf(&args, "--name=%s", d->name ? d->name : "");
		strvec_pushf(&args, "--attempts=%u",
			     job_attempts(job, "ARTIFACT_DOWNLOAD_ATTEMPTS"));
		if (job_retry_delay_ms(job, 1) > 0)
			strvec_push(&args, "--backoff");
		/* Only when off: older helper images know no such option. */
		if (!direct_download(job))
			strvec_push(&args, "--no-direct-download");
		if (parallel_transfer(job))
			strvec_push(&args, "--parallel");
		if ((r = checked_helper_command(job, &body, &args)))
			break;
	}
	strvec_clear(&args);
	if (r) {
		buf_seterr(err, "cannot build the download_artifacts script: %s",
			   cr_strerror(r));
		buf_release_secret(&body);
		return r;
	}
	return job_helper_script_end(job, "download_artifacts", &body, out,
				     err);
}

int job_upload_script(struct job *job, const struct job_stage *stage,
		      struct buf *out, struct buf *err)
{
	const struct job_payload *p = job->payload;
	struct buf body = BUF_INIT;
	struct strvec args = STRVEC_INIT;
	size_t i, k;
	int r;

	if (!job_upload_has_work(job, stage))
		return 0;
	r = transfer_script_begin(job, &body);
	for (i = 0; i < p->nr_artifacts && !r; i++) {
		const struct job_artifact *a = &p->artifacts[i];

		if (!artifact_wanted(a, stage->on_failure))
			continue;
		job_say(job, &body, SCRIPT_ECHO_NOTICE, "Uploading artifacts...");
		strvec_clear(&args);
		strvec_pushv(&args, (const char *[]){ "upload", "--format",
				artifact_format(a), "--type", artifact_type(a),
				NULL });
		strvec_push(&args, "--output");
		strvec_push_nodup(&args, script_tmp_path(job, "artifact", i,
							 ""));
		strvec_push(&args, "--name");
		strvec_push_nodup(&args, upload_filename(job, a));
		if (a->expire_in && *a->expire_in) {
			strvec_push(&args, "--expire-in");
			strvec_push(&args, a->expire_in);
		}
		if (job->settings.runner->artifact.upload_timeout_ms > 0) {
			strvec_push(&args, "--timeout-ms");
			strvec_pushf(&args, "%lld", (long long)
				     job->settings.runner->artifact.upload_timeout_ms);
		}
		/*
		 * The helper's default is gitlab-runner's 10 minutes: said
		 * only when the config differs (a helper image older than
		 * the flag keeps working with the default).
		 */
		if (job->settings.runner->artifact.response_header_timeout_ms !=
		    GL_ARTIFACT_HEADER_TIMEOUT_MS) {
			strvec_push(&args, "--response-header-timeout-ms");
			strvec_pushf(&args, "%lld", (long long)
				     job->settings.runner->artifact.response_header_timeout_ms);
		}
		for (k = 0; k < a->paths.nr; k++) {
			strvec_push(&args, "--path");
			strvec_push_nodup(&args, variables_expand(&job->vars,
								  a->paths.v[k]));
		}
		for (k = 0; k < a->exclude.nr; k++) {
			strvec_push(&args, "--exclude");
			strvec_push_nodup(&args, variables_expand(&job->vars,
								  a->exclude.v[k]));
		}
		if (a->untracked)
			strvec_push(&args, "--untracked");
		if (!strcmp(artifact_type(a), "dotenv"))
			strvec_push(&args, "--dotenv");
		job_push_compression_level(job, "ARTIFACT_COMPRESSION_LEVEL",
					   &args);
		if ((r = checked_helper_command(job, &body, &args)))
			break;
	}
	strvec_clear(&args);
	if (r) {
		buf_seterr(err, "cannot build the upload_artifacts script: %s",
			   cr_strerror(r));
		buf_release_secret(&body);
		return r;
	}
	return job_helper_script_end(job, "upload_artifacts", &body, out, err);
}
