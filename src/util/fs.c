#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "util/banned.h"

int fs_make_parent_dirs(const char *path, mode_t mode, struct buf *err)
{
	char *dir = xstrdup(path), *p;
	int r = 0;

	for (p = strchr(dir + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(dir, mode) && errno != EEXIST) {
			buf_seterr(err, "cannot create directory '%s': %s", dir,
				   strerror(errno));
			r = CR_ERR_IO;
			break;
		}
		*p = '/';
	}
	free(dir);
	return r;
}

int fs_mkdir_p(const char *dir, mode_t mode)
{
	char *copy, *p;
	struct stat st;
	int r = 0;

	/*
	 * A job asks for its builds, project and temp dirs every time, and
	 * they are there after the first job: one stat(), not a mkdir() per
	 * component; a missing dir whose parent exists: one mkdir().
	 */
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
		return -1;
	}
	if (errno == ENOENT && mkdir(dir, mode) == 0)
		return 0;
	copy = xstrdup(dir);
	for (p = copy + 1; *p && !r; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			r = -1;
		*p = '/';
	}
	if (!r && mkdir(copy, mode) < 0 && errno != EEXIST)
		r = -1;
	if (!r && stat(copy, &st) == 0 && !S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		r = -1;
	}
	free(copy);
	return r;
}

static int remove_entry(const char *path, const struct stat *st, int type,
			struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;	/* go on: remove what can be removed */
}

void fs_remove_tree(const char *dir)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
