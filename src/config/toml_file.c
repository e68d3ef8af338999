/*
 * TOML files: reading one with a size cap, and replacing one atomically.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/toml.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/limits.h"
#include "util/xalloc.h"
#include "util/banned.h"

int toml_parse_file(const char *path, struct toml_value **out,
		    struct buf *err)
{
	struct buf text = BUF_INIT;
	int fd, r = CR_ERR_INTERNAL;
	ssize_t n;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		r = errno == ENOENT ? CR_ERR_NOT_FOUND : CR_ERR_IO;
		buf_seterr(err, "cannot open '%s': %s", path, strerror(errno));
		return r;
	}
	for (;;) {
		/* Read one byte past the cap to notice a file that is over it. */
		if ((r = buf_grow(&text, 65536)) != 0)
			goto out;
		n = read(fd, text.data + text.len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			buf_seterr(err, "cannot read '%s': %s", path,
				   strerror(errno));
			r = CR_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		text.len += (size_t)n;
		text.data[text.len] = '\0';
		if (text.len > CR_MAX_TOML_FILE) {
			buf_seterr(err, "'%s' is larger than %zu bytes", path,
				   CR_MAX_TOML_FILE);
			r = CR_ERR_TOO_LARGE;
			goto out;
		}
	}
	r = toml_parse(text.data, text.len, path, out, err);
out:
	close(fd);
	buf_release(&text);
	return r;
}

/* Makes the rename durable; a failure here cannot undo it, so it is quiet. */
static void sync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/*
 * Fills and closes the temp file; on failure returns an errno value and
 * sets *what to the step that failed.
 */
static int fill_temp(int fd, const struct buf *text, const char **what)
{
	int e = 0;

	*what = "set the mode of";
	if (fchmod(fd, 0600) != 0)
		goto fail;
	*what = "write";
	if (fs_write_all(fd, text->data, text->len) != 0)
		goto fail;
	*what = "sync";
	if (fsync(fd) != 0)
		goto fail;
	*what = "close";
	if (close(fd) != 0)
		return errno;
	return 0;
fail:
	e = errno;
	close(fd);
	return e;
}

int toml_write_file(const char *path, const struct toml_value *root,
		    struct buf *err)
{
	struct buf text = BUF_INIT, tmp = BUF_INIT;
	int fd, r = CR_ERR_INTERNAL, e;
	const char *what;

	if ((r = toml_write(root, &text)) != 0 ||
	    (r = buf_addf(&tmp, "%s.tmpXXXXXX", path)) != 0) {
		buf_seterr(err, "cannot write '%s': %s", path, cr_strerror(r));
		goto out;
	}
	if ((fd = mkostemp(tmp.data, O_CLOEXEC)) < 0) {
		buf_seterr(err, "cannot create a temporary file for '%s': %s",
			   path, strerror(errno));
		buf_reset(&tmp);
		r = CR_ERR_IO;
		goto out;
	}
	if ((e = fill_temp(fd, &text, &what)) != 0) {
		/* Name the file the caller knows; the temp file goes below. */
		buf_seterr(err, "cannot %s '%s': %s", what, path, strerror(e));
		r = CR_ERR_IO;
		goto out;
	}
	if (rename(tmp.data, path) != 0) {
		buf_seterr(err, "cannot rename '%s' to '%s': %s", tmp.data,
			   path, strerror(errno));
		r = CR_ERR_IO;
		goto out;
	}
	buf_reset(&tmp);
	sync_parent_dir(path);
	r = 0;
out:
	if (tmp.len)
		unlink(tmp.data);
	buf_release(&tmp);
	buf_release(&text);
	return r;
}
