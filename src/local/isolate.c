/*
 * Per-job copies of the tree (contract in isolate.h).
 */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local/isolate.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strvec.h"
#include "util/xalloc.h"
#include "util/banned.h"

void local_isolate_remove(const char *dir)
{
	if (dir)
		fs_remove_tree(dir);
}

/* The directories above path (inside the copy), made as needed. */
static int make_parents(char *path)
{
	char *p;

	for (p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = 0;
		if (mkdir(path, 0755) && errno != EEXIST) {
			*p = '/';
			return -1;
		}
		*p = '/';
	}
	return 0;
}

static int copy_data(const char *from, const char *to, mode_t mode)
{
	char chunk[65536];
	int in, out, r = 0;
	ssize_t n;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		   mode & 07777);
	if (out < 0) {
		close(in);
		return -1;
	}
	while ((n = read(in, chunk, sizeof(chunk))) > 0)
		if (write(out, chunk, (size_t)n) != n) {
			r = -1;
			break;
		}
	if (n < 0)
		r = -1;
	/* The umask may have cut bits the file had. */
	if (!r && fchmod(out, mode & 07777))
		r = -1;
	close(in);
	if (close(out))
		r = -1;
	return r;
}

/* One entry, relative path rel, from src into dst. */
static int copy_entry(const char *src, const char *dst, const char *rel,
		      struct buf *err)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	struct stat st;
	char link[PATH_MAX];
	ssize_t n;
	int r = 0;

	(void)buf_addf(&from, "%s/%s", src, rel);
	(void)buf_addf(&to, "%s/%s", dst, rel);
	if (lstat(from.data, &st)) {
		/* Listed but gone (a tracked file deleted): nothing to copy. */
		if (errno != ENOENT)
			r = -1;
		goto out;
	}
	if (make_parents(to.data)) {
		r = -1;
		goto out;
	}
	if (S_ISLNK(st.st_mode)) {
		n = readlink(from.data, link, sizeof(link) - 1);
		if (n < 0) {
			r = -1;
			goto out;
		}
		link[n] = 0;
		r = symlink(link, to.data);
	} else if (S_ISDIR(st.st_mode)) {
		r = mkdir(to.data, st.st_mode & 07777) && errno != EEXIST ? -1 : 0;
	} else if (S_ISREG(st.st_mode)) {
		r = copy_data(from.data, to.data, st.st_mode);
	}
out:
	if (r)
		buf_seterr(err, "cannot copy '%s' to '%s': %s", from.data,
			   to.data, strerror(errno));
	buf_release(&from);
	buf_release(&to);
	return r ? CR_ERR_IO : 0;
}

/* Every entry under dir (relative to root), but .git, into out. */
static void list_all(const char *root, const char *dir, struct strvec *out)
{
	struct buf path = BUF_INIT;
	struct dirent *e;
	DIR *d;

	(void)buf_addf(&path, "%s%s%s", root, *dir ? "/" : "", dir);
	d = opendir(path.data);
	buf_release(&path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct buf rel = BUF_INIT, full = BUF_INIT;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (!*dir && !strcmp(e->d_name, ".git")))
			continue;
		(void)buf_addf(&rel, "%s%s%s", dir, *dir ? "/" : "", e->d_name);
		strvec_push(out, rel.data);
		(void)buf_addf(&full, "%s/%s", root, rel.data);
		if (!lstat(full.data, &st) && S_ISDIR(st.st_mode))
			list_all(root, rel.data, out);
		buf_release(&full);
		buf_release(&rel);
	}
	closedir(d);
}

int local_isolate_copy(const char *src, const struct strvec *files,
		       const char *dst, struct buf *err)
{
	struct strvec all = STRVEC_INIT;
	size_t i;
	int r = 0;

	local_isolate_remove(dst);
	if (mkdir(dst, 0755) && errno != EEXIST) {
		buf_seterr(err, "cannot create '%s': %s", dst, strerror(errno));
		return CR_ERR_IO;
	}
	if (!files) {
		list_all(src, "", &all);
		files = &all;
	}
	for (i = 0; i < files->nr && !r; i++)
		r = copy_entry(src, dst, files->v[i], err);
	strvec_clear(&all);
	return r;
}
