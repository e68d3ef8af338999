/*
 * dotenv reports from the local store (contract in dotenv.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "archive/dotenv.h"
#include "local/dotenv.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strvec.h"
#include "util/banned.h"

/* More than a report under the size limit expands to in practice. */
#define DOTENV_MAX_TEXT ((size_t)1 << 20)

int local_dotenv_read(const char *path, struct pl_vars *out, struct buf *err)
{
	struct strvec keys = STRVEC_INIT, values = STRVEC_INIT;
	struct buf text = BUF_INIT;
	struct stat st;
	char chunk[8192];
	gzFile gz = NULL;
	size_t i;
	int n, r;

	/* GitLab limits the stored (compressed) size. */
	if (stat(path, &st) || !(gz = gzopen(path, "rb"))) {
		buf_seterr(err, "cannot read '%s': %s", path, strerror(errno));
		return CR_ERR_IO;
	}
	if ((size_t)st.st_size >= DOTENV_MAX_SIZE) {
		buf_seterr(err, "the report is %lld bytes, GitLab takes less than %zu",
			   (long long)st.st_size, DOTENV_MAX_SIZE);
		r = CR_ERR_TOO_LARGE;
		goto out;
	}
	/* gzread goes on through every member. */
	while ((n = gzread(gz, chunk, sizeof(chunk))) > 0 &&
	       text.len + (size_t)n <= DOTENV_MAX_TEXT)
		(void)buf_add(&text, chunk, (size_t)n);
	if (n != 0) {
		buf_seterr(err, "cannot decompress '%s'", path);
		r = CR_ERR_INVALID;
		goto out;
	}
	if ((r = dotenv_parse_blob(text.data, text.len, &keys, &values, err)))
		goto out;
	for (i = 0; i < keys.nr; i++)
		pl_vars_set(out, keys.v[i], values.v[i], false);
out:
	gzclose(gz);
	buf_release(&text);
	strvec_clear(&keys);
	strvec_clear(&values);
	return r;
}
