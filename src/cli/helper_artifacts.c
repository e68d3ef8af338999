/*
 * crunner artifacts-helper: the archive work of the job engine's artifact
 * and cache stages, run in a child process (as gitlab-runner runs its own
 * artifacts-uploader and cache-archiver helpers).  Internal: its command
 * line may change between versions.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "archive/artifacts.h"
#include "archive/cache_format.h"
#include "archive/cache_remote.h"
#include "archive/dotenv_report.h"
#include "archive/zip.h"
#include "cli/cli.h"
#include "cli/exit_codes.h"
#include "cli/verbs.h"
#include "gitlab/artifact_store.h"
#include "gitlab/http.h"
#include "gitlab/range_download.h"
#include "util/backoff.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/banned.h"

enum { OPT_FORMAT = 256, OPT_OUTPUT, OPT_INPUT, OPT_FILE, OPT_PATH,
	OPT_EXCLUDE, OPT_UNTRACKED, OPT_REMOTE, OPT_MAX_SIZE, OPT_HEADER,
	OPT_MISSING_IS_LOCAL,
	OPT_DOTENV, OPT_NAME, OPT_TYPE, OPT_EXPIRE_IN, OPT_ID,
	OPT_ATTEMPTS, OPT_BACKOFF, OPT_TIMEOUT_MS, OPT_HEADER_TIMEOUT_MS,
	OPT_NO_DIRECT_DOWNLOAD, OPT_PARALLEL, OPT_CHUNK_SIZE, OPT_CONCURRENCY,
	OPT_ALT_FILE, OPT_COMPRESSION_LEVEL, OPT_COMPRESSION_FORMAT };

#define ANSI_YELLOW "\033[0;33m"
#define ANSI_RED "\033[31;1m"
#define ANSI_RESET "\033[0;m"

/*
 * upload and download (an executor's stage scripts, where the job runs)
 * talk to the coordinator themselves; what they need comes in the
 * environment, never on the command line: the API base URL, the job
 * token and id (GL_ARTIFACT_ENV_*), a dependency's own token, and the
 * runner's TLS files.
 */
#define DEPENDENCY_TOKEN_ENV "CRUNNER_DEPENDENCY_TOKEN"
#define TLS_CA_ENV "CRUNNER_TLS_CA_FILE"
#define TLS_CERT_ENV "CRUNNER_TLS_CERT_FILE"
#define TLS_KEY_ENV "CRUNNER_TLS_KEY_FILE"
#define MAX_DOWNLOAD_ATTEMPTS 10

/* What upload and download take from the command line. */
struct transfer_args {
	const char *name;	/* upload: file name sent; download: job name */
	const char *type;	/* artifact_type */
	const char *expire_in;
	long long id;		/* download: the dependency's job id */
	long attempts;		/* download: ARTIFACT_DOWNLOAD_ATTEMPTS */
	bool backoff;		/* download: wait between tries (--backoff) */
	/* download: never ?direct_download=true (FF_USE_DIRECT_DOWNLOAD off) */
	bool no_direct_download;
	/* download: FF_USE_PARALLEL_ARTIFACT_TRANSFER (--parallel) */
	bool parallel;
	long timeout_ms;	/* upload: [runners.artifact] upload_timeout */
	/* upload: response_header_timeout; 0: none */
	long header_timeout_ms;
};

static const char *env_or_null(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static void tls_options(struct gl_http_options *o)
{
	o->ca_file = env_or_null(TLS_CA_ENV);
	o->cert_file = env_or_null(TLS_CERT_ENV);
	o->key_file = env_or_null(TLS_KEY_ENV);
}

static int need_env(const char *name, const char **value)
{
	*value = env_or_null(name);
	if (*value)
		return 0;
	printf(ANSI_RED "ERROR: %s is not set in the helper's environment"
	       ANSI_RESET "\n", name);
	return -1;
}

static int upload(const char *cwd, const char *format,
		  const struct glob_spec *spec, const char *output, int level,
		  bool dotenv, const struct transfer_args *t)
{
	struct gl_http_options opts = { 0 };
	struct job_store_upload u = { 0 };
	struct buf detail = BUF_INIT;
	const char *url, *token, *job_id;
	enum job_store_result r;
	char status[256];
	int rc;

	if (need_env(GL_ARTIFACT_ENV_URL, &url) ||
	    need_env(GL_ARTIFACT_ENV_TOKEN, &token) ||
	    need_env(GL_ARTIFACT_ENV_JOB_ID, &job_id))
		return ARTIFACTS_EXIT_FAILED;
	rc = artifacts_archive(cwd, format, spec, output, level, stdout);
	if (rc == ARTIFACTS_EXIT_OK && dotenv)
		rc = artifacts_check_dotenv(cwd, spec, output, stdout);
	if (rc == ARTIFACTS_EXIT_NOTHING) {
		/* As gitlab-runner: an error line, but the job goes on. */
		unlink(output);
		return ARTIFACTS_EXIT_OK;
	}
	if (rc != ARTIFACTS_EXIT_OK) {
		unlink(output);
		return rc;
	}
	tls_options(&opts);
	u.archive_path = output;
	u.filename = t->name ? t->name : "artifacts.zip";
	u.format = format;
	u.type = t->type ? t->type : "archive";
	u.expire_in = t->expire_in;
	u.timeout_ms = t->timeout_ms;
	u.header_timeout_ms = t->header_timeout_ms;
	r = gl_artifact_upload_sync(&opts, url, strtoll(job_id, NULL, 10),
				    token, &u, status, sizeof(status), &detail);
	unlink(output);
	switch (r) {
	case JOB_STORE_OK:
		printf("Uploading artifacts as \"%s\" to coordinator... %s  id=%s responseStatus=%s\n",
		       u.type, status, job_id, status);
		rc = ARTIFACTS_EXIT_OK;
		break;
	case JOB_STORE_TOO_LARGE:
		printf(ANSI_RED "ERROR: Uploading artifacts as \"%s\" to coordinator... too large archive  id=%s responseStatus=%s"
		       ANSI_RESET "\n", u.type, job_id, status);
		printf(ANSI_RED "ERROR: too large" ANSI_RESET "\n");
		rc = ARTIFACTS_EXIT_FAILED;
		break;
	default:
		printf(ANSI_RED "ERROR: Uploading artifacts as \"%s\" to coordinator... error  id=%s responseStatus=%s%s%s"
		       ANSI_RESET "\n", u.type, job_id, status,
		       detail.len ? ": " : "", detail.len ? detail.data : "");
		rc = ARTIFACTS_EXIT_FAILED;
		break;
	}
	buf_release(&detail);
	fflush(stdout);
	return rc;
}

static int download(const char *cwd, const char *file,
		    const struct transfer_args *t)
{
	struct gl_http_options opts = { 0 };
	const char *url, *token;
	long attempts = t->attempts < 1 ? 1 : t->attempts, attempt;
	enum job_store_result r = JOB_STORE_FAILED;
	int rc;

	if (need_env(GL_ARTIFACT_ENV_URL, &url))
		return ARTIFACTS_EXIT_FAILED;
	token = env_or_null(DEPENDENCY_TOKEN_ENV);
	if (!token && need_env(GL_ARTIFACT_ENV_TOKEN, &token))
		return ARTIFACTS_EXIT_FAILED;
	if (attempts > MAX_DOWNLOAD_ATTEMPTS)
		attempts = MAX_DOWNLOAD_ATTEMPTS;
	tls_options(&opts);
	for (attempt = 1; attempt <= attempts; attempt++) {
		struct buf detail = BUF_INIT;
		char status[256];

		/* As gitlab-runner's downloader: direct on the first try only. */
		r = gl_artifact_download_sync(&opts, url, t->id,
					      (!t->no_direct_download &&
					       attempt == 1 ? JOB_STORE_DIRECT :
					       0) |
					      (t->parallel ? JOB_STORE_PARALLEL :
					       0), token, file,
					      status, sizeof(status), &detail);
		if (r == JOB_STORE_OK) {
			printf("Downloading artifacts from coordinator... ok  id=%lld responseStatus=%s\n",
			       t->id, status);
			buf_release(&detail);
			break;
		}
		unlink(file);
		printf(ANSI_YELLOW "WARNING: Downloading artifacts from coordinator... %s  id=%lld responseStatus=%s%s%s"
		       ANSI_RESET "\n",
		       r == JOB_STORE_NOT_FOUND ? "not found" :
		       r == JOB_STORE_DENIED ? "forbidden" : "error",
		       t->id, status, detail.len ? ": " : "",
		       detail.len ? detail.data : "");
		buf_release(&detail);
		if (r != JOB_STORE_TRANSIENT || attempt == attempts)
			break;
		if (t->backoff) {
			long ms = backoff_stage_retry_ms((unsigned)attempt);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
			char text[32];

			backoff_format(ms, text, sizeof(text));
			printf(ANSI_YELLOW "WARNING: Retrying in %s..." ANSI_RESET
			       "\n", text);
			fflush(stdout);
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		} else {
			printf(ANSI_YELLOW "WARNING: Retrying..." ANSI_RESET "\n");
		}
	}
	if (r != JOB_STORE_OK) {
		printf(ANSI_RED "ERROR: Downloading artifacts for %s (%lld) failed"
		       ANSI_RESET "\n", t->name ? t->name : "", t->id);
		fflush(stdout);
		return ARTIFACTS_EXIT_FAILED;
	}
	fflush(stdout);
	rc = artifacts_extract(file, cwd, stdout);
	unlink(file);
	return rc;
}

/*
 * CACHE_CHUNK_SIZE / CACHE_CONCURRENCY as gitlab-runner's
 * validateCacheTransferTuning() takes them: a whole number, not negative
 * (0: the default chunk, or one stream); anything else is a warning and a
 * failed extraction.
 */
static int tuning_value(const char *text, const char *what, const char *names,
			int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (!*text || *end || errno || v < 0) {
		printf(ANSI_YELLOW "WARNING: invalid %s %s (%s): must be a non-negative number"
		       ANSI_RESET "\n", what, text, names);
		fflush(stdout);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * The distributed cache's pre-signed URL comes in the environment, not on
 * the command line, where any local user could read it.
 */
#define CACHE_URL_ENV "CRUNNER_CACHE_URL"
/* FF_HASH_CACHE_KEYS' other scheme (cache_remote_select()): the primary
 * object's HEAD URL, the alternate object's GET and HEAD URLs. */
#define CACHE_HEAD_URL_ENV "CRUNNER_CACHE_HEAD_URL"
#define CACHE_ALT_URL_ENV "CRUNNER_CACHE_ALT_URL"
#define CACHE_ALT_HEAD_URL_ENV "CRUNNER_CACHE_ALT_HEAD_URL"

/*
 * missing_is_local: a 404 (no remote cache) goes on to the local cache
 * file, as gitlab-runner's extractor does on its GoCloud backends.
 */
static int cache_extract(const char *file, const char *dir, bool remote,
			 const struct strvec *headers, bool missing_is_local,
			 const struct cache_parallel *par)
{
	const char *url = getenv(CACHE_URL_ENV);
	int r;

	if (remote && url && *url)
		url = cache_remote_select(url, getenv(CACHE_HEAD_URL_ENV),
					  getenv(CACHE_ALT_URL_ENV),
					  getenv(CACHE_ALT_HEAD_URL_ENV),
					  headers, stdout);
	if (remote && url && *url &&
	    (r = cache_remote_download(url, headers, file, par, stdout)) != 0 &&
	    !(r == CR_ERR_NOT_FOUND && missing_is_local))
		return ARTIFACTS_EXIT_FAILED;
	return artifacts_cache_extract(file, dir, stdout);
}

static int cache_archive(const char *dir, const struct glob_spec *spec,
			 const char *file, const char *alt_file,
			 const struct cache_compression *comp,
			 bool remote, long long max_size,
			 const struct strvec *headers)
{
	const char *url = getenv(CACHE_URL_ENV);
	int status;

	cache_rename_alternate(file, alt_file, stdout);
	status = artifacts_cache_archive(dir, spec, file, comp, stdout);

	if (status != ARTIFACTS_EXIT_OK || !remote || !url || !*url)
		return status;
	if (access(file, F_OK) != 0)
		return status;	/* nothing matched: no archive to send */
	return cache_remote_upload(url, headers, file, max_size, stdout) ?
	       ARTIFACTS_EXIT_FAILED : ARTIFACTS_EXIT_OK;
}

/*
 * --compression-level: gitlab-runner's names (its fastzip archiver, which
 * the job engine asks for while FF_USE_FASTZIP is on).  Without the
 * option, libarchive's own deflate, as gitlab-runner's legacy archiver.
 */
static int compression_level(const char *name)
{
	bool known;
	int level = zip_level_from_name(name, &known);

	if (!known)
		printf(ANSI_YELLOW "WARNING: compression level \"%s\" is invalid, falling back to default"
		       ANSI_RESET "\n", name);
	return level;
}

/*
 * The cache's format and level: --compression-format, else
 * CACHE_COMPRESSION_FORMAT from the environment (gitlab-runner's
 * cache-archiver reads both), "zip" unless one names tarzstd or zipzstd.
 * A zstd format takes --compression-level's name at its zstd level
 * (default without it); zip keeps the zip level worked out already.
 */
static void cache_compression(const char *format, const char *level_name,
			      int zip_level, struct cache_compression *comp)
{
	bool known;

	if (!format)
		format = getenv(CACHE_FORMAT_VAR);
	comp->format = cache_format_from_name(format);
	comp->level = zip_level;
	if (comp->format != CACHE_FORMAT_ZIP)
		comp->level = cache_zstd_level_from_name(
			level_name ? level_name : "", &known);
}

int cmd_artifacts_helper(int argc, char **argv, struct cli_globals *g)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "input", required_argument, NULL, OPT_INPUT },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "path", required_argument, NULL, OPT_PATH },
		{ "exclude", required_argument, NULL, OPT_EXCLUDE },
		{ "untracked", no_argument, NULL, OPT_UNTRACKED },
		{ "remote", no_argument, NULL, OPT_REMOTE },
		{ "dotenv", no_argument, NULL, OPT_DOTENV },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "missing-is-local", no_argument, NULL, OPT_MISSING_IS_LOCAL },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "expire-in", required_argument, NULL, OPT_EXPIRE_IN },
		{ "id", required_argument, NULL, OPT_ID },
		{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
		{ "backoff", no_argument, NULL, OPT_BACKOFF },
		{ "no-direct-download", no_argument, NULL,
		  OPT_NO_DIRECT_DOWNLOAD },
		{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
		{ "parallel", no_argument, NULL, OPT_PARALLEL },
		{ "alternate-file", required_argument, NULL, OPT_ALT_FILE },
		{ "compression-level", required_argument, NULL,
		  OPT_COMPRESSION_LEVEL },
		{ CACHE_FORMAT_OPTION, required_argument, NULL,
		  OPT_COMPRESSION_FORMAT },
		{ "chunk-size", required_argument, NULL, OPT_CHUNK_SIZE },
		{ "concurrency", required_argument, NULL, OPT_CONCURRENCY },
		{ "response-header-timeout-ms", required_argument, NULL,
		  OPT_HEADER_TIMEOUT_MS },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_verb *verb = cli_find_verb("artifacts-helper");
	struct strvec paths = STRVEC_INIT, exclude = STRVEC_INIT,
		headers = STRVEC_INIT;
	struct glob_spec spec = { 0 };
	const char *sub, *format = "zip", *output = NULL, *input = NULL,
		*file = NULL, *alt_file = NULL, *cache_format = NULL,
		*level_name = NULL;
	struct cache_compression comp;
	char cwd[4096];
	bool remote = false, dotenv = false, missing_is_local = false;
	long long max_size = 0;
	struct transfer_args t = {
		.header_timeout_ms = GL_ARTIFACT_HEADER_TIMEOUT_MS,
	};
	/* gitlab-runner's extractor: 16 at a time unless told. */
	struct cache_parallel par = { false, 0, RANGE_DEFAULT_CONCURRENCY };
	bool have_id = false, bad_tuning = false;
	int c, status, level = ZIP_LEVEL_LIBARCHIVE;

	(void)g;
	if (argc < 2)
		return cli_usage_error(verb, "missing sub-command");
	sub = argv[1];
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT: format = optarg; break;
		case OPT_OUTPUT: output = optarg; break;
		case OPT_INPUT: input = optarg; break;
		case OPT_FILE: file = optarg; break;
		case OPT_ALT_FILE: alt_file = optarg; break;
		case OPT_COMPRESSION_LEVEL:
			level = compression_level(optarg);
			level_name = optarg;
			break;
		case OPT_COMPRESSION_FORMAT: cache_format = optarg; break;
		case OPT_PATH: strvec_push(&paths, optarg); break;
		case OPT_EXCLUDE: strvec_push(&exclude, optarg); break;
		case OPT_UNTRACKED: spec.untracked = true; break;
		case OPT_REMOTE: remote = true; break;
		case OPT_DOTENV: dotenv = true; break;
		case OPT_MAX_SIZE: max_size = strtoll(optarg, NULL, 10); break;
		case OPT_HEADER: strvec_push(&headers, optarg); break;
		case OPT_MISSING_IS_LOCAL: missing_is_local = true; break;
		case OPT_NAME: t.name = optarg; break;
		case OPT_TYPE: t.type = optarg; break;
		case OPT_EXPIRE_IN: t.expire_in = optarg; break;
		case OPT_ID:
			t.id = strtoll(optarg, NULL, 10);
			have_id = true;
			break;
		case OPT_ATTEMPTS: t.attempts = strtol(optarg, NULL, 10); break;
		case OPT_BACKOFF: t.backoff = true; break;
		case OPT_NO_DIRECT_DOWNLOAD: t.no_direct_download = true; break;
		case OPT_PARALLEL:
			par.on = true;
			t.parallel = true;
			break;
		case OPT_CHUNK_SIZE:
			if (tuning_value(optarg, "cache chunk size",
					 "CACHE_CHUNK_SIZE / --chunk-size",
					 &par.chunk) != 0)
				bad_tuning = true;
			break;
		case OPT_CONCURRENCY: {
			int64_t n = 0;

			if (tuning_value(optarg, "cache concurrency",
					 "CACHE_CONCURRENCY / --concurrency",
					 &n) != 0)
				bad_tuning = true;
			par.concurrency = n > LONG_MAX ? LONG_MAX : (long)n;
			break;
		}
		case OPT_TIMEOUT_MS: t.timeout_ms = strtol(optarg, NULL, 10); break;
		case OPT_HEADER_TIMEOUT_MS:
			t.header_timeout_ms = strtol(optarg, NULL, 10);
			break;
		default:
			strvec_clear(&paths);
			strvec_clear(&exclude);
			strvec_clear(&headers);
			return cli_usage_error(verb, "bad option");
		}
	}
	if (bad_tuning) {
		strvec_clear(&paths);
		strvec_clear(&exclude);
		strvec_clear(&headers);
		return ARTIFACTS_EXIT_FAILED;
	}
	if (!getcwd(cwd, sizeof(cwd))) {
		cli_error("cannot read the working directory");
		return CR_EXIT_FAILURE;
	}
	spec.paths = &paths;
	spec.exclude = &exclude;
	if (!strcmp(sub, "archive") && output) {
		status = artifacts_archive(cwd, format, &spec, output, level,
					   stdout);
		if (status == ARTIFACTS_EXIT_OK && dotenv)
			status = artifacts_check_dotenv(cwd, &spec, output,
							stdout);
	}
	else if (!strcmp(sub, "extract") && input)
		status = artifacts_extract(input, cwd, stdout);
	else if (!strcmp(sub, "cache-archive") && file) {
		cache_compression(cache_format, level_name, level, &comp);
		status = cache_archive(cwd, &spec, file, alt_file, &comp,
				       remote, max_size, &headers);
	}
	else if (!strcmp(sub, "cache-extract") && file)
		status = cache_extract(file, cwd, remote, &headers,
				       missing_is_local, &par);
	else if (!strcmp(sub, "upload") && output)
		status = upload(cwd, format, &spec, output, level, dotenv, &t);
	else if (!strcmp(sub, "download") && file && have_id)
		status = download(cwd, file, &t);
	else
		status = cli_usage_error(verb, "unknown sub-command '%s' or missing option",
					 sub);
	strvec_clear(&paths);
	strvec_clear(&exclude);
	strvec_clear(&headers);
	return status;
}

int artifacts_helper_main(int argc, char **argv)
{
	struct cli_globals g = { NULL, 0, -1, -1 };

	if (argc < 2 || strcmp(argv[1], "artifacts-helper"))
		return ARTIFACTS_EXIT_FAILED;
	optind = 0;	/* getopt_long restarts fully, as in main() */
	return cmd_artifacts_helper(argc - 1, argv + 1, &g);
}
