/*
 * Private scratch directories for files that hold a job's secrets (stage
 * scripts, the custom executor's copy of the payload), and the removal of
 * those a killed crunner left behind.
 *
 * 1. private_dir_clean_stale(parent, prefix) removes the directories of
 *    crunner processes that no longer run (call it before creating one);
 * 2. private_dir_create(parent, prefix, &dir) makes parent/prefixXXXXXX,
 *    mode 0700, and holds an flock() on its ".lock" file for as long as
 *    the directory is in use;
 * 3. private_dir_remove(&dir) removes the tree, then drops the lock.
 *
 * The lock, not a pid, tells a leftover from a directory in use: the
 * kernel drops it when its holder dies, even by SIGKILL, and a reused pid
 * cannot fake it.  Only directories owned by this user, holding a .lock
 * that nobody holds, are removed.
 */
#ifndef CR_PRIVATE_DIR_H
#define CR_PRIVATE_DIR_H

struct buf;

struct private_dir {
	char *path;		/* owned; NULL when there is none */
	int lock_fd;		/* -1 when there is none */
};

#define PRIVATE_DIR_INIT { NULL, -1 }

/*
 * Creates the directory (prefix: e.g. "crunner-stage-").  Returns 0, or
 * CR_ERR_IO with one sentence in err; dir is left empty on failure.
 */
int private_dir_create(const char *parent, const char *prefix,
		       struct private_dir *dir, struct buf *err);

/* Removes the tree and releases the lock; an empty dir is fine. */
void private_dir_remove(struct private_dir *dir);

/*
 * Removes every parent/prefix* directory whose lock nobody holds; returns
 * how many it removed.  Errors are ignored: a leftover stays for the next
 * try.
 */
int private_dir_clean_stale(const char *parent, const char *prefix);

#endif
