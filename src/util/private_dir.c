/*
 * Private scratch directories with a liveness lock (see private_dir.h).
 *
 * The lock file is created as ".lock.new", locked, then renamed to
 * ".lock": a cleaner that finds ".lock" finds it locked already, so there
 * is no moment when a directory in use looks abandoned.  A directory
 * without ".lock" (being created, or from an older crunner) is left
 * alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/private_dir.h"
#include "util/xalloc.h"
#include "util/banned.h"

#define LOCK_NAME ".lock"
#define LOCK_NEW ".lock.new"

static int take_lock(const char *dir, struct buf *err)
{
	struct buf path = BUF_INIT, final = BUF_INIT;
	int fd;

	(void)buf_addf(&path, "%s/" LOCK_NEW, dir);
	(void)buf_addf(&final, "%s/" LOCK_NAME, dir);
	fd = open(path.data, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		  O_NOFOLLOW, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) != 0 ||
	    rename(path.data, final.data) != 0) {
		buf_seterr(err, "cannot lock '%s': %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	buf_release(&path);
	buf_release(&final);
	return fd;
}

int private_dir_create(const char *parent, const char *prefix,
		       struct private_dir *dir, struct buf *err)
{
	struct buf path = BUF_INIT;
	int fd;

	dir->path = NULL;
	dir->lock_fd = -1;
	(void)buf_addf(&path, "%s/%sXXXXXX", parent, prefix);
	if (!mkdtemp(path.data)) {
		buf_seterr(err, "cannot create a temporary directory in '%s': %s",
			   parent, strerror(errno));
		buf_release(&path);
		return CR_ERR_IO;
	}
	if ((fd = take_lock(path.data, err)) < 0) {
		fs_remove_tree(path.data);
		buf_release(&path);
		return CR_ERR_IO;
	}
	dir->path = buf_detach(&path, NULL);
	dir->lock_fd = fd;
	return 0;
}

void private_dir_remove(struct private_dir *dir)
{
	/* The tree first: while it goes, the lock still says "in use". */
	if (dir->path)
		fs_remove_tree(dir->path);
	if (dir->lock_fd >= 0)
		close(dir->lock_fd);
	free(dir->path);
	dir->path = NULL;
	dir->lock_fd = -1;
}

/* Whether parent/name is ours and its lock is free (then it is locked). */
static int abandoned(int parent_fd, const char *name)
{
	struct stat st;
	int dfd, fd, free_lock;

	if (fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return 0;
	dfd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	if (dfd < 0)
		return 0;
	fd = openat(dfd, LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dfd);
	if (fd < 0)
		return 0;
	free_lock = flock(fd, LOCK_EX | LOCK_NB) == 0;
	/* Closing drops our lock: by then the tree is judged. */
	close(fd);
	return free_lock;
}

int private_dir_clean_stale(const char *parent, const char *prefix)
{
	size_t plen = strlen(prefix);
	struct buf path = BUF_INIT;
	struct dirent *de;
	int removed = 0;
	DIR *d = opendir(parent);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, plen) ||
		    !abandoned(dirfd(d), de->d_name))
			continue;
		buf_reset(&path);
		(void)buf_addf(&path, "%s/%s", parent, de->d_name);
		fs_remove_tree(path.data);
		removed++;
	}
	closedir(d);
	buf_release(&path);
	return removed;
}
