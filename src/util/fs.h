/* Small file-system helpers shared by the config writer and the verbs. */
#ifndef CR_FS_H
#define CR_FS_H

#include <sys/types.h>

struct buf;

/*
 * Creates every missing directory above path (not path itself), each with
 * mode, as `mkdir -p "$(dirname path)"` does.  Returns 0, or CR_ERR_IO with
 * one sentence naming the directory in err.
 */
int fs_make_parent_dirs(const char *path, mode_t mode, struct buf *err);

/*
 * mkdir -p: creates dir and the directories above it that are missing; the
 * parents get 0755, dir itself mode.  Returns 0, or -1 with errno set
 * (ENOTDIR when dir exists but is not a directory).
 */
int fs_mkdir_p(const char *dir, mode_t mode);

/* rm -rf: removes dir and everything below it, not following links. */
void fs_remove_tree(const char *dir);

/* Writes all of data to fd, again after EINTR and short writes.  0 or -1
 * with errno set. */
int fs_write_all(int fd, const void *data, size_t len);

#endif
