/*
 * The helper's sub-commands: glob, archive, extract, with the messages
 * gitlab-runner's artifacts-uploader, artifacts-downloader, cache-archiver
 * and cache-extractor print.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive/artifacts.h"
#include "archive/cache.h"
#include "archive/zip.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/banned.h"

#define ANSI_YELLOW "\033[0;33m"
#define ANSI_RED "\033[31;1m"
#define ANSI_RESET "\033[0;m"

static void print_warning(void *ctx, const char *line)
{
	fprintf((FILE *)ctx, ANSI_YELLOW "WARNING: %s" ANSI_RESET "\n", line);
	fflush((FILE *)ctx);
}

static void print_error(FILE *out, const char *line)
{
	fprintf(out, ANSI_RED "ERROR: %s" ANSI_RESET "\n", line);
	fflush(out);
}

int artifacts_archive(const char *dir, const char *format,
		      const struct glob_spec *in_spec, const char *out_path,
		      int level, FILE *out)
{
	struct glob_spec spec = *in_spec;
	struct strvec files = STRVEC_INIT;
	struct buf err = BUF_INIT;
	int r, status = ARTIFACTS_EXIT_FAILED;

	spec.warn = print_warning;
	spec.warn_ctx = out;
	if ((r = glob_collect(dir, &spec, &files, &err)) != 0) {
		print_error(out, err.data);
		goto out;
	}
	if (!files.nr) {
		print_error(out, "No files to upload");
		status = ARTIFACTS_EXIT_NOTHING;
		goto out;
	}
	fprintf(out, "%zu matching artifact files and directories\n",
		files.nr);
	fflush(out);
	if (!strcmp(format, "zip"))
		r = zip_create(dir, &files, out_path, level, print_warning,
			       out, &err);
	else if (!strcmp(format, "gzip"))
		r = gzip_create(dir, &files, out_path, print_warning, out,
				&err);
	else if (!strcmp(format, "raw"))
		r = raw_create(dir, &files, out_path, &err);
	else {
		buf_seterr(&err, "unsupported artifact format '%s'", format);
		r = CR_ERR_UNSUPPORTED;
	}
	if (r) {
		print_error(out, err.data);
		goto out;
	}
	status = ARTIFACTS_EXIT_OK;
out:
	strvec_clear(&files);
	buf_release(&err);
	return status;
}

/* The extraction limit from the environment; 0 (the default) without. */
static uint64_t extract_limit(FILE *out)
{
	const char *text = getenv(ZIP_EXTRACT_MAX_ENV);
	struct buf line = BUF_INIT;
	uint64_t limit;

	if (!text || !*text)
		return 0;
	if (zip_extract_parse_limit(text, &limit) == 0)
		return limit;
	(void)buf_addf(&line, "ignoring %s=%s: not a size (bytes, or a number with k, m, g or t)",
		       ZIP_EXTRACT_MAX_ENV, text);
	print_warning(out, line.data);
	buf_release(&line);
	return 0;
}

int artifacts_extract(const char *archive_path, const char *dir, FILE *out)
{
	struct buf err = BUF_INIT;
	size_t refused = 0;
	int status = ARTIFACTS_EXIT_OK;

	if (zip_extract_limited(archive_path, dir, extract_limit(out),
				print_warning, out, &refused, &err) != 0) {
		print_error(out, err.data);
		status = ARTIFACTS_EXIT_FAILED;
	} else if (refused) {
		fprintf(out, "%zu archive entries refused\n", refused);
	}
	fflush(out);
	buf_release(&err);
	return status;
}

int artifacts_cache_archive(const char *dir, const struct glob_spec *in_spec,
			    const char *file,
			    const struct cache_compression *comp, FILE *out)
{
	struct glob_spec spec = *in_spec;
	struct buf err = BUF_INIT;
	bool up_to_date, nothing;
	int status = ARTIFACTS_EXIT_OK;

	spec.warn = print_warning;
	spec.warn_ctx = out;
	if (cache_archive_create(dir, &spec, file, comp, &up_to_date,
				 &nothing, &err) != 0) {
		print_error(out, err.data);
		status = ARTIFACTS_EXIT_FAILED;
	} else if (nothing) {
		print_warning(out, "No files to archive");
	} else if (up_to_date) {
		fprintf(out, "Archive is up to date!\n");
	}
	fflush(out);
	buf_release(&err);
	return status;
}

int artifacts_cache_extract(const char *file, const char *dir, FILE *out)
{
	struct stat st;

	if (stat(file, &st) != 0) {
		print_warning(out, errno == ENOENT ?
			      "Cache file does not exist" : strerror(errno));
		return ARTIFACTS_EXIT_FAILED;
	}
	return artifacts_extract(file, dir, out);
}
