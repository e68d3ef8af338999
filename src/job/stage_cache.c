/*
 * The cache stages (spec 3.9, 8.1): restore_cache before the steps,
 * archive_cache / archive_cache_on_failure after them, with the local
 * cache of gitlab-runner's shell executor:
 * <cache_dir>/<project path>/<key>/cache.zip, cache_dir defaulting to
 * "cache" under the working directory.  A cache never fails a job:
 * problems are warnings, as in gitlab-runner.  For an executor with
 * stage_scripts_everywhere (executor.h) the same work is a stage script
 * that runs the helper where the job runs (job_*_cache_script()).
 */
#include <stdlib.h>
#include <string.h>

#include "archive/cache.h"
#include "gitlab/payload.h"
#include "job/engine_internal.h"
#include "job/stage_cache_int.h"
#include "job/trace.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/run_as.h"
#include "util/xalloc.h"
#include "util/banned.h"

static void restore_next(struct job *job);
static void archive_next(struct job *job);

/*
 * With a distributed cache ([runners.cache] Type), the helper also GETs or
 * PUTs the archive through a pre-signed URL, valid as long as the job may
 * run, which it finds in its environment.  Problems are warnings: the
 * local cache still works.
 */
/*
 * FF_USE_LEGACY_S3_CACHE_ADAPTER: gitlab-runner's legacy S3 adapter
 * (cache/s3, minio-go) instead of its AWS SDK one (cache/s3v2).  What
 * crunner's requests can show of the difference: no RoleARN or
 * UploadRoleARN (no STS: URLs are signed with the access keys or the IAM
 * credentials); ServerSideEncryption only "S3" or "KMS" (minio's types,
 * any case), anything else ("AES256", "aws:kms", "DSSE-KMS") no header
 * and no warning; IAM credentials always over https, whatever Insecure
 * says.  The settings for the job's requests, in legacy when they differ.
 */

/* ---- restore_cache ---- */

bool job_restore_cache_has_work(struct job *job, const struct job_stage *stage)
{
	size_t i;

	(void)stage;
	for (i = 0; i < job->payload->nr_caches; i++)
		if (job_cache_has_paths(&job->payload->caches[i]))
			return true;
	return false;
}

/*
 * FF_CLEAN_UP_FAILED_CACHE_EXTRACT (gitlab-runner's addExtractCacheCommand):
 * after a failed extraction each of the entry's paths, expanded, is
 * removed from the project dir ("Removing <path>"), so that a partly
 * extracted archive does not stay behind; the next key then starts
 * clean.  A path that is absolute or climbs out with ".." is left alone
 * (gitlab-runner removes it too).
 */
static bool removable_cache_path(const char *path)
{
	const char *p = path;

	if (!*path || *path == '/')
		return false;
	while (p) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2]))
			return false;
		p = strchr(p, '/');
		if (p)
			p++;
	}
	return true;
}

/*
 * The paths to remove after a failed extraction of c, expanded, into out
 * (none without the flag).
 */
static void failed_extract_paths(struct job *job, const struct job_cache *c,
				 struct strvec *out)
{
	size_t i;

	if (!variables_get_bool(&job->vars, "FF_CLEAN_UP_FAILED_CACHE_EXTRACT",
				0))
		return;
	for (i = 0; i < c->paths.nr; i++) {
		char *path = variables_expand(&job->vars, c->paths.v[i]);

		if (removable_cache_path(path))
			strvec_push_nodup(out, path);
		else
			free(path);
	}
}

static void try_key(struct job *job);

static void on_cache_extracted(struct job *job, int exit_status)
{
	struct strvec paths = STRVEC_INIT;
	size_t i;

	if (exit_status == 0) {
		trace_sink_info(job->sink, "Successfully extracted cache");
		job->native.item++;
		restore_next(job);
		return;
	}
	trace_sink_warning(job->sink, "Failed to extract cache");
	failed_extract_paths(job, &job->payload->caches[job->native.item],
			     &paths);
	for (i = 0; i < paths.nr; i++) {
		struct buf full = BUF_INIT;

		(void)buf_addf(&full, "%s/%s", job->project_dir, paths.v[i]);
		job_say(job, NULL, SCRIPT_ECHO_PLAIN, "Removing %s",
			paths.v[i]);
		fs_remove_tree(full.data);
		buf_release(&full);
	}
	strvec_clear(&paths);
	job->native.key++;
	try_key(job);
}

static void try_key(struct job *job)
{
	struct strvec args = STRVEC_INIT;
	const char *key;
	char *file;

	if (job->native.key >= job->native.keys.nr) {
		job->native.item++;
		restore_next(job);
		return;
	}
	key = job->native.keys.v[job->native.key];
	trace_sink_info(job->sink, "Checking cache for %s...", key);
	file = job_cache_file(job, key, job_cache_hashed_keys(job));
	strvec_pushv(&args, (const char *[]){ "cache-extract", "--file", file,
			NULL });
	job_cache_add_remote(job, key, "GET", &args, &job->native.helper_env);
	if (job_helper_start(job, &args, job->project_dir,
			     on_cache_extracted) != 0)
		job_native_done(job, 1, 0);
	strvec_clear(&args);
	free(file);
}

static void restore_next(struct job *job)
{
	const struct job_payload *p = job->payload;
	int r;

	strvec_clear(&job->native.keys);
	job->native.key = 0;
	for (; job->native.item < p->nr_caches; job->native.item++) {
		r = job_cache_restore_keys(job, &p->caches[job->native.item],
				 &job->native.keys, NULL);
		if (r < 0) {
			job_native_done(job, 1, 0);
			return;
		}
		if (r == 0)
			continue;
		try_key(job);
		return;
	}
	job_native_done(job, 0, 0);
}

void job_restore_cache_start(struct job *job, const struct job_stage *stage)
{
	(void)stage;
	restore_next(job);
}

/* ---- archive_cache / archive_cache_on_failure ---- */

bool job_archive_cache_has_work(struct job *job, const struct job_stage *stage)
{
	size_t i;

	for (i = 0; i < job->payload->nr_caches; i++)
		if (job_cache_archive_wanted(&job->payload->caches[i],
				   stage->on_failure))
			return true;
	return false;
}

static void on_cache_archived(struct job *job, int exit_status)
{
	if (exit_status == 0)
		trace_sink_info(job->sink, "Created cache");
	else
		trace_sink_warning(job->sink, "Failed to create cache");
	job->native.item++;
	archive_next(job);
}

/*
 * CACHE_COMPRESSION_FORMAT goes to the helper as --compression-format
 * (gitlab-runner's cache-archiver reads it from the job's environment).
 * A zstd format uses CACHE_COMPRESSION_LEVEL whatever FF_USE_FASTZIP says
 * (gitlab-runner's tarzstd and zipzstd archivers always take it), so the
 * level goes along then even when job_push_compression_level() leaves it
 * out for zip.
 */
static void push_cache_compression(const struct job *job,
				   struct strvec *args)
{
	const char *format = variables_get(&job->vars, CACHE_FORMAT_VAR);
	const char *level = variables_get(&job->vars, "CACHE_COMPRESSION_LEVEL");
	size_t before = args->nr;
	bool level_pushed;

	job_push_compression_level(job, "CACHE_COMPRESSION_LEVEL", args);
	level_pushed = args->nr != before;
	if (!format || !*format)
		return;
	strvec_push(args, "--" CACHE_FORMAT_OPTION);
	strvec_push(args, format);
	if (!level_pushed && level && *level &&
	    cache_format_from_name(format) != CACHE_FORMAT_ZIP) {
		strvec_push(args, "--compression-level");
		strvec_push(args, level);
	}
}

/* The helper's cache-archive arguments for entry c under key. */
static void archive_args(struct job *job, const struct job_cache *c,
			 const char *key, struct strvec *args,
			 struct strvec *env)
{
	char *file = job_cache_file(job, key, job_cache_hashed_keys(job));
	size_t i;

	/*
	 * The helper archives as the job's user (run_as.h): the key's dir is
	 * made for that user.  A failure is the helper's to report.
	 */
	if (job->run_as) {
		char *dir = xstrdup(file), *slash = strrchr(dir, '/');
		struct buf err = BUF_INIT;

		if (slash && slash != dir) {
			*slash = '\0';
			(void)run_as_mkdir_p(job->run_as, dir, 0755, &err);
		}
		buf_release(&err);
		free(dir);
	}
	strvec_pushv(args, (const char *[]){ "cache-archive", "--file", file,
			NULL });
	if (job_cache_has_alternate(job, key)) {
		strvec_push(args, "--alternate-file");
		strvec_push_nodup(args, job_cache_file(job, key,
						   !job_cache_hashed_keys(job)));
	}
	for (i = 0; i < c->paths.nr; i++) {
		strvec_push(args, "--path");
		strvec_push_nodup(args, variables_expand(&job->vars,
							 c->paths.v[i]));
	}
	if (c->untracked)
		strvec_push(args, "--untracked");
	push_cache_compression(job, args);
	job_cache_add_remote(job, key, "PUT", args, env);
	free(file);
}

static void archive_next(struct job *job)
{
	const struct job_payload *p = job->payload;
	bool on_failure = job->stages[job->running].on_failure;
	struct strvec args = STRVEC_INIT;
	char *key;
	int r;

	for (; job->native.item < p->nr_caches; job->native.item++) {
		r = job_cache_archive_key(job, &p->caches[job->native.item], on_failure,
				&key, NULL);
		if (r < 0) {
			job_native_done(job, 1, 0);
			return;
		}
		if (r == 0)
			continue;
		trace_sink_info(job->sink, "Creating cache %s...", key);
		archive_args(job, &p->caches[job->native.item], key, &args,
			     &job->native.helper_env);
		if (job_helper_start(job, &args, job->project_dir,
				     on_cache_archived) != 0)
			job_native_done(job, 1, 0);
		strvec_clear(&args);
		free(key);
		return;
	}
	job_native_done(job, 0, 0);
}

void job_archive_cache_start(struct job *job, const struct job_stage *stage)
{
	(void)stage;
	archive_next(job);
}

/* ---- the same as stage scripts (executor.h, stage_scripts_everywhere) ---- */

/*
 * A distributed cache's pre-signed URL reaches the helper as an exported
 * variable for that one command, then goes: never on the command line.
 */
static int script_env_line(struct job *job, struct buf *body,
			   const struct strvec *env, bool unset)
{
	size_t i;
	int r = 0;

	for (i = 0; i < env->nr && !r; i++) {
		const char *eq = strchr(env->v[i], '=');
		char *k;

		if (!eq)
			continue;
		k = xstrndup(env->v[i], (size_t)(eq - env->v[i]));
		if (unset)
			r = buf_addf(body, "unset %s\n", k);
		else
			r = script_export(body, job->shell, k, eq + 1);
		free(k);
	}
	return r;
}

/* The script's side of failed_extract_paths(): print, then rm -r -f. */
static int remove_paths_lines(struct job *job, struct buf *body,
			      const struct job_cache *c)
{
	struct strvec paths = STRVEC_INIT;
	size_t i;
	int r = 0;

	failed_extract_paths(job, c, &paths);
	for (i = 0; i < paths.nr && !r; i++) {
		const char *rm[] = { "rm", "-r", "-f", "--", paths.v[i], NULL };

		job_say(job, body, SCRIPT_ECHO_PLAIN, "Removing %s",
			paths.v[i]);
		r = script_run(body, job->shell, rm);
	}
	strvec_clear(&paths);
	return r;
}

int job_restore_cache_script(struct job *job, const struct job_stage *stage,
			     struct buf *out, struct buf *err)
{
	const struct job_payload *p = job->payload;
	struct buf body = BUF_INIT;
	struct strvec keys = STRVEC_INIT, args = STRVEC_INIT,
		env = STRVEC_INIT;
	size_t i, k;
	int r = 0, res;

	if (!job_restore_cache_has_work(job, stage))
		return 0;
	if ((r = job_helper_script_begin(job, &body, NULL)))
		goto out;
	for (i = 0; i < p->nr_caches && !r; i++) {
		strvec_clear(&keys);
		res = job_cache_restore_keys(job, &p->caches[i], &keys, &body);
		if (res < 0) {
			r = buf_addstr(&body, "exit 1\n");
			break;
		}
		if (res == 0 || !keys.nr)
			continue;
		/* The first key that extracts wins; a cache never fails. */
		r = buf_addstr(&body, "_cr_cache_done=0\n");
		for (k = 0; k < keys.nr && !r; k++) {
			char *file = job_cache_file(job, keys.v[k],
						job_cache_hashed_keys(job));

			strvec_clear(&args);
			strvec_clear(&env);
			strvec_pushv(&args, (const char *[]){ "cache-extract",
					"--file", file, NULL });
			job_cache_add_remote(job, keys.v[k], "GET", &args, &env);
			free(file);
			if ((r = buf_addstr(&body,
					"if [ \"$_cr_cache_done\" = 0 ]; then\n")))
				break;
			job_say(job, &body, SCRIPT_ECHO_NOTICE,
				"Checking cache for %s...", keys.v[k]);
			if ((r = script_env_line(job, &body, &env, false)) ||
			    (r = buf_addstr(&body, "if ")) ||
			    (r = job_helper_script_command(job, &body, &args)) ||
			    (r = buf_addstr(&body, "; then\n_cr_cache_done=1\n")))
				break;
			job_say(job, &body, SCRIPT_ECHO_NOTICE,
				"Successfully extracted cache");
			if ((r = buf_addstr(&body, "else\n")))
				break;
			job_say(job, &body, SCRIPT_ECHO_WARNING,
				"Failed to extract cache");
			if ((r = remove_paths_lines(job, &body, &p->caches[i])))
				break;
			if ((r = buf_addstr(&body, "fi\n")) ||
			    (r = script_env_line(job, &body, &env, true)) ||
			    (r = buf_addstr(&body, "fi\n")))
				break;
		}
	}
out:
	strvec_clear(&keys);
	strvec_clear(&args);
	strvec_clear(&env);
	if (r) {
		buf_seterr(err, "cannot build the restore_cache script: %s",
			   cr_strerror(r));
		buf_release_secret(&body);
		return r;
	}
	return job_helper_script_end(job, "restore_cache", &body, out, err);
}

int job_archive_cache_script(struct job *job, const struct job_stage *stage,
			     struct buf *out, struct buf *err)
{
	const struct job_payload *p = job->payload;
	struct buf body = BUF_INIT;
	struct strvec args = STRVEC_INIT, env = STRVEC_INIT;
	char *key;
	size_t i;
	int r = 0, res;

	if (!job_archive_cache_has_work(job, stage))
		return 0;
	if ((r = job_helper_script_begin(job, &body, NULL)))
		goto out;
	for (i = 0; i < p->nr_caches && !r; i++) {
		res = job_cache_archive_key(job, &p->caches[i], stage->on_failure, &key,
				  &body);
		if (res < 0) {
			r = buf_addstr(&body, "exit 1\n");
			break;
		}
		if (res == 0)
			continue;
		job_say(job, &body, SCRIPT_ECHO_NOTICE, "Creating cache %s...",
			key);
		strvec_clear(&args);
		strvec_clear(&env);
		archive_args(job, &p->caches[i], key, &args, &env);
		free(key);
		if ((r = script_env_line(job, &body, &env, false)) ||
		    (r = buf_addstr(&body, "if ")) ||
		    (r = job_helper_script_command(job, &body, &args)) ||
		    (r = buf_addstr(&body, "; then\n")))
			break;
		job_say(job, &body, SCRIPT_ECHO_NOTICE, "Created cache");
		if ((r = buf_addstr(&body, "else\n")))
			break;
		job_say(job, &body, SCRIPT_ECHO_WARNING,
			"Failed to create cache");
		if ((r = buf_addstr(&body, "fi\n")) ||
		    (r = script_env_line(job, &body, &env, true)))
			break;
	}
out:
	strvec_clear(&args);
	strvec_clear(&env);
	if (r) {
		buf_seterr(err, "cannot build the archive_cache script: %s",
			   cr_strerror(r));
		buf_release_secret(&body);
		return r;
	}
	return job_helper_script_end(job, "archive_cache", &body, out, err);
}
