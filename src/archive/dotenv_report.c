/*
 * dotenv reports checked before upload (see dotenv_report.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive/artifacts.h"
#include "archive/dotenv.h"
#include "archive/dotenv_report.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/banned.h"

#define ANSI_RED "\033[31;1m"
#define ANSI_RESET "\033[0;m"

/* Reads at most max + 1 bytes of path into out. */
static int read_capped(const char *path, size_t max, struct buf *out,
		       struct buf *err)
{
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		buf_seterr(err, "cannot open %s: %s", path, strerror(errno));
		return CR_ERR_IO;
	}
	while (out->len <= max &&
	       (n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			buf_seterr(err, "cannot read %s: %s", path,
				   strerror(errno));
			close(fd);
			return CR_ERR_IO;
		}
		(void)buf_add(out, chunk, (size_t)n);
	}
	close(fd);
	return 0;
}

int artifacts_check_dotenv(const char *dir, const struct glob_spec *spec,
			   const char *archive_path, FILE *out)
{
	struct strvec files = STRVEC_INIT, keys = STRVEC_INIT,
		      values = STRVEC_INIT;
	struct buf err = BUF_INIT, text = BUF_INIT, path = BUF_INIT;
	int status = ARTIFACTS_EXIT_FAILED;
	struct stat st;
	size_t i;

	if (stat(archive_path, &st) != 0) {
		buf_seterr(&err, "cannot read %s: %s", archive_path,
			   strerror(errno));
		goto out;
	}
	/* GitLab: "artifact.file.size < dotenv_size_limit". */
	if ((size_t)st.st_size >= DOTENV_MAX_SIZE) {
		buf_seterr(&err, "Dotenv Artifact Too Big. Maximum Allowable Size: %zu (the report is %lld bytes)",
			   DOTENV_MAX_SIZE, (long long)st.st_size);
		goto out;
	}
	if (glob_collect(dir, spec, &files, &err) != 0)
		goto out;
	for (i = 0; i < files.nr; i++) {
		buf_reset(&path);
		(void)buf_addf(&path, "%s/%s", dir, files.v[i]);
		if (lstat(path.data, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		buf_reset(&text);
		if (read_capped(path.data, (size_t)16 << 20, &text, &err))
			goto out;
		if (dotenv_parse_blob(text.data, text.len, &keys, &values,
				      &err)) {
			struct buf msg = BUF_INIT;

			(void)buf_addf(&msg, "%s: %s", files.v[i], err.data);
			buf_reset(&err);
			(void)buf_addstr(&err, msg.data);
			buf_release(&msg);
			goto out;
		}
	}
	fprintf(out, "dotenv report: %zu variables\n", keys.nr);
	status = ARTIFACTS_EXIT_OK;
out:
	if (status != ARTIFACTS_EXIT_OK) {
		fprintf(out, ANSI_RED "ERROR: Invalid dotenv report, not uploading it (GitLab would refuse it): %s"
			ANSI_RESET "\n", err.data);
	}
	fflush(out);
	strvec_clear(&files);
	strvec_clear(&keys);
	strvec_clear(&values);
	buf_release(&err);
	buf_release(&text);
	buf_release(&path);
	return status;
}
