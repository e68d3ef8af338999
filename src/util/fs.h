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

#endif
